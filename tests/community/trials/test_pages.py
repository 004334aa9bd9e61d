"""Trial storefront pages and panels: the product panel's budget, apply, my trials, the report form."""

import pytest
from django.urls import reverse

from siyu.community.trials.models import TrialApplication, TrialReport
from siyu.community.trials.selection import applications_select
from siyu.community.trials.services import trial_create, trial_move
from siyu.storefront.panels_trials import my_links, product_panel

from .conftest import open_trial, trial_data
from .test_services import receive

pytestmark = pytest.mark.django_db


def _request(rf, shop):
    request = rf.get("/")
    request.shop = shop
    return request


def test_panel_costs_nothing_for_a_shop_without_trials(rf, shop, product, django_assert_num_queries):
    request = _request(rf, shop)
    with django_assert_num_queries(1):  # a cold cache asks once
        assert product_panel(request, product) is None
    with django_assert_num_queries(0):
        assert product_panel(request, product) is None
        assert my_links(request) == []


def test_panel_shows_an_open_trial_without_a_query(rf, owner, shop, product, django_assert_num_queries):
    draft = trial_create(actor=owner, shop=shop, data=trial_data(product))
    request = _request(rf, shop)
    assert product_panel(request, product) is None  # a draft is not shown
    trial_move(actor=owner, shop=shop, public_id=draft.public_id, to="open")
    product_panel(request, product)  # warm
    with django_assert_num_queries(0):
        panel = product_panel(request, product)
        assert panel.context["url"] == reverse("storefront:trial", args=[draft.public_id])
        assert my_links(request)[0][1] == reverse("storefront:my_trials")
    trial_move(actor=owner, shop=shop, public_id=draft.public_id, to="selecting")
    assert product_panel(request, product) is None


def test_product_page_shows_the_panel(client, trial, product):
    page = client.get(reverse("storefront:product", args=[product.public_id])).content.decode()
    assert 'id="trial-panel"' in page and trial.title in page


def test_apply_from_the_trial_page(shopper_client, trial, address):
    url = reverse("storefront:trial", args=[trial.public_id])
    page = shopper_client.get(url).content.decode()
    assert address.public_id in page
    resp = shopper_client.post(url, {"address": address.public_id, "reason": "想试试"})
    assert resp.status_code == 302 and resp.url == reverse("storefront:my_trials")
    assert TrialApplication.objects.get().reason == "想试试"
    again = shopper_client.post(url, {"address": address.public_id})
    assert again.status_code == 409


def test_trial_page_for_a_visitor_and_a_draft(client, owner, trial, product):
    page = client.get(reverse("storefront:trial", args=[trial.public_id])).content.decode()
    assert reverse("storefront:login") in page
    draft = trial_create(actor=owner, shop=trial.shop, data=trial_data(product))
    assert client.get(reverse("storefront:trial", args=[draft.public_id])).status_code == 404


@pytest.mark.parametrize("n", [1, 4])
def test_my_trials_queries_at_two_sizes(shopper_client, owner, product, shopper, address, n, django_assert_num_queries):
    from siyu.community.trials.applications import trial_apply
    from tests.promotion_flags import promotion_flags_warm

    for _ in range(n):
        t = open_trial(owner, product)
        trial_apply(shop=t.shop, shopper=shopper, public_id=t.public_id, address_id=address.public_id)
    promotion_flags_warm(product.shop_id)
    url = reverse("storefront:my_trials")
    shopper_client.get(url)
    with django_assert_num_queries(3):
        resp = shopper_client.get(url)
    assert resp.content.decode().count('<li class="line">') == n


def test_report_from_the_page(shopper_client, owner, trial, shopper, address):
    from siyu.community.trials.applications import trial_apply

    app = trial_apply(shop=trial.shop, shopper=shopper, public_id=trial.public_id, address_id=address.public_id)
    trial_move(actor=owner, shop=trial.shop, public_id=trial.public_id, to="selecting")
    [order] = applications_select(
        actor=owner, shop=trial.shop, public_id=trial.public_id, application_ids=[app.public_id]
    )
    url = reverse("storefront:trial_report", args=[app.public_id])
    assert "report-form" not in shopper_client.get(url).content.decode()  # not received yet
    receive(order, owner)
    assert 'id="report-form"' in shopper_client.get(url).content.decode()
    resp = shopper_client.post(
        url, {"rating": "4", "text": "很好用", "q1_rating": "5", "q1_text": "清爽", "q2_rating": "3"}
    )
    assert resp.status_code == 302
    report = TrialReport.objects.get()
    assert report.rating == 4 and report.answers[0]["rating"] == 5 and report.answers[1]["rating"] == 3
    my = shopper_client.get(reverse("storefront:my_trials")).content.decode()
    assert reverse("storefront:order", args=[order.public_id]) in my


def test_someone_elses_report_page_is_404(client, owner, trial, address):
    from siyu.community.trials.applications import trial_apply
    from tests.factories import make_shopper, sign_in_shopper

    app = trial_apply(shop=trial.shop, shopper=address.shopper, public_id=trial.public_id, address_id=address.public_id)
    sign_in_shopper(client, make_shopper("13712345678"))
    assert client.get(reverse("storefront:trial_report", args=[app.public_id])).status_code == 404
