"""The shop-wide commission list (every promoter's commissions), with filters for status,
promoter and the day they accrued, paged like the other lists; scoped to the caller's shop."""

from datetime import timedelta

from django.utils import timezone

from siyu.distribution.models import Commission

from ..distribution.promoter_steps import approved_promoter, referred_order, world
from ..factories import make_shopper
from .conftest import API, OTHER_API, bearer


def _two_promoters(shop, owner, capture):
    w = world(shop, owner, default_rate_bp=1000)
    second = approved_promoter(shop, owner, shopper=make_shopper())
    with capture(execute=True):
        first_order = referred_order(w)
        w2 = type(w)(**{**w.__dict__, "promoter": second})
        second_order = referred_order(w2, quantity=2)
    return w, second, first_order, second_order


def test_lists_every_promoters_commissions_with_filters(api, shop, owner, django_capture_on_commit_callbacks):
    w, second, first_order, second_order = _two_promoters(shop, owner, django_capture_on_commit_callbacks)
    old = Commission.objects.get(order=first_order)
    Commission.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40), status="settled")

    def ids(query=""):
        response = api.get(f"{API}/console/commissions?{query}")
        assert response.status_code == 200, response.content
        return [c["id"] for c in response.json()["items"]]

    newest = Commission.objects.get(order=second_order)
    body = api.get(f"{API}/console/commissions").json()
    assert body["count"] == 2 and [c["id"] for c in body["items"]] == [newest.pk, old.pk]
    row = body["items"][0]
    assert (row["promoter_id"], row["order_number"], row["quantity"]) == (second.pk, second_order.number, 2)
    assert (row["base_amount_fen"], row["rate_bp"], row["amount_fen"], row["status"]) == (20000, 1000, 2000, "frozen")
    assert row["promoter"] == str(second.shopper) and "****" in row["promoter"]  # no nickname: the masked phone
    assert ids("status=settled") == [old.pk]
    assert ids("status=frozen") == [newest.pk]
    assert ids(f"promoter={w.promoter.pk}") == [old.pk]
    today = timezone.localdate()
    assert ids(f"date_from={today - timedelta(days=1)}") == [newest.pk]
    assert ids(f"date_to={today - timedelta(days=1)}") == [old.pk]
    assert ids(f"date_from={today}&date_to={today}") == [newest.pk]
    assert ids("date_from=0001-01-01&date_to=9999-12-31") == [newest.pk, old.pk]  # far days mean no bound
    assert ids("limit=1&offset=1") == [old.pk]
    for bad in ("status=paid", "promoter=0", "date_from=yesterday", "limit=0", "promoter="):
        assert api.get(f"{API}/console/commissions?{bad}").status_code == 400, bad


def test_commissions_are_the_callers_shop_only(
    client, shop, owner, other_key, shopper_key, django_capture_on_commit_callbacks
):
    w, *_ = _two_promoters(shop, owner, django_capture_on_commit_callbacks)
    headers = bearer(other_key)
    mine = client.get(f"{OTHER_API}/console/commissions", headers=headers)
    assert mine.status_code == 200 and mine.json()["count"] == 0
    # filtering by another shop's promoter is not found, not an empty page that confirms the id
    assert client.get(f"{OTHER_API}/console/commissions?promoter={w.promoter.pk}", headers=headers).status_code == 404
    assert client.get(f"{API}/console/commissions", headers=headers).status_code == 403  # wrong shop's token
    assert client.get(f"{API}/console/commissions", headers=bearer(shopper_key)).status_code == 401
    assert client.get(f"{API}/console/commissions").status_code == 401
