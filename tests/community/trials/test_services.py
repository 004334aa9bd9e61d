"""Trials: setting up, applying, selecting and drawing, the zero-price order, reports."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.catalog.models import Sku
from siyu.community.reviews.models import Review
from siyu.community.trials.applications import trial_apply
from siyu.community.trials.models import ApplicationStatus, Trial, TrialApplication
from siyu.community.trials.reports import report_publish_review, report_reminders_run, report_submit
from siyu.community.trials.selection import applications_select, draw_replay, trial_draw, trial_order_again
from siyu.community.trials.services import trial_create, trial_move, trial_update
from siyu.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from siyu.customers.models import Customer, FollowUp
from siyu.customers.segments import segment_save
from siyu.customers.stats import customer_for_shopper
from siyu.orders.checkout import order_place
from siyu.orders.lifecycle import order_cancel, order_confirm_receipt
from siyu.orders.models import OrderStatus
from tests.factories import make_product, make_staff

from .conftest import applicant, apply_many, open_trial, trial_data


def selecting(owner, trial):
    return trial_move(actor=owner, shop=trial.shop, public_id=trial.public_id, to="selecting")


def receive(order, owner):
    from siyu.orders.fulfilment import order_ship

    order_ship(actor=owner, order_id=order.pk, carrier="中通", tracking_number="ZT9")
    order_confirm_receipt(order_id=order.pk, actor=order.shopper)


# --- setting up ----------------------------------------------------------------------------


def test_create_checks_fields_and_deadline(owner, product):
    with pytest.raises(InvalidInput) as err:
        trial_create(actor=owner, shop=product.shop, data=trial_data(product, quantity=0, report_days=0))
    assert {"quantity", "report_days"} <= set(err.value.detail)
    with pytest.raises(Conflict) as err:
        trial_create(actor=owner, shop=product.shop, data=trial_data(product, report_due_on="2030-01-01"))
    assert err.value.code == "trial_settings" and "report_days" in err.value.detail  # days and a date: one only
    with pytest.raises(Conflict) as err:
        trial_create(actor=owner, shop=product.shop, data=trial_data(product, report_days=None))
    assert err.value.code == "trial_settings"


def test_status_table_and_audit(owner, product):
    from siyu.core.models import AuditEntry

    trial = trial_create(actor=owner, shop=product.shop, data=trial_data(product))
    with pytest.raises(Conflict) as err:
        trial_move(actor=owner, shop=product.shop, public_id=trial.public_id, to="running")
    assert err.value.code == "bad_transition"
    trial_move(actor=owner, shop=product.shop, public_id=trial.public_id, to="open")
    assert AuditEntry.objects.filter(action="trial.open", target_id=str(trial.pk)).exists()
    with pytest.raises(Conflict):
        trial_update(actor=owner, shop=product.shop, public_id=trial.public_id, data=trial_data(product))


def test_operator_without_promotions_manage_is_refused(shop, product):
    from siyu.accounts.roles import SERVICE

    service = make_staff(shop, role=SERVICE, username="svc")
    with pytest.raises(PermissionDenied):
        trial_create(actor=service, shop=shop, data=trial_data(product))


# --- applying ------------------------------------------------------------------------------


def test_apply_once_per_shopper(trial, shopper, address):
    trial_apply(shop=trial.shop, shopper=shopper, public_id=trial.public_id, address_id=address.public_id)
    with pytest.raises(Conflict) as err:
        trial_apply(shop=trial.shop, shopper=shopper, public_id=trial.public_id, address_id=address.public_id)
    assert err.value.code == "trial_applied"
    trial.refresh_from_db()
    assert trial.application_count == 1 and TrialApplication.objects.count() == 1


def test_apply_needs_an_address_of_ones_own_and_an_open_trial(owner, trial, shopper, address):
    other, other_address = applicant(trial.shop, "13911112222")
    with pytest.raises(InvalidInput):
        trial_apply(shop=trial.shop, shopper=shopper, public_id=trial.public_id, address_id=other_address.public_id)
    selecting(owner, trial)
    with pytest.raises(Conflict) as err:
        trial_apply(shop=trial.shop, shopper=shopper, public_id=trial.public_id, address_id=address.public_id)
    assert err.value.code == "trial_closed"


def test_apply_before_the_start_is_refused(owner, product, shopper, address):
    trial = open_trial(owner, product, apply_starts_at=timezone.now() + timedelta(hours=2))
    with pytest.raises(Conflict):
        trial_apply(shop=trial.shop, shopper=shopper, public_id=trial.public_id, address_id=address.public_id)


def test_segment_limits_who_may_apply(owner, product, shop, shopper, address):
    rules = {"all": [{"field": "city", "op": "eq", "value": "杭州"}]}
    segment = segment_save(actor=owner, shop=shop, name="杭州客户", rules=rules)
    trial = open_trial(owner, product, segment=segment.pk)
    with pytest.raises(Conflict) as err:
        trial_apply(shop=shop, shopper=shopper, public_id=trial.public_id, address_id=address.public_id)
    assert err.value.code == "trial_not_eligible"
    customer = customer_for_shopper(shop=shop, shopper=shopper)
    Customer.objects.filter(pk=customer.pk).update(city="杭州")  # matches now: evaluated live
    made = trial_apply(shop=shop, shopper=shopper, public_id=trial.public_id, address_id=address.public_id)
    assert made.status == ApplicationStatus.APPLIED


def test_draft_trial_is_not_found_by_shoppers(owner, product, shopper, address):
    trial = trial_create(actor=owner, shop=product.shop, data=trial_data(product))
    with pytest.raises(NotFound):
        trial_apply(shop=trial.shop, shopper=shopper, public_id=trial.public_id, address_id=address.public_id)


# --- selecting -----------------------------------------------------------------------------


def test_draw_is_reproducible_from_its_seed_and_never_above_quantity(owner, trial):
    apps = apply_many(trial, 8)
    selecting(owner, trial)
    draw = trial_draw(actor=owner, shop=trial.shop, public_id=trial.public_id, count=10, seed="fixed-seed")
    assert draw.count == 3 == len(draw.winners)  # the trial gives 3 units
    assert draw.pool == [a.public_id for a in apps]
    assert draw_replay(draw) == draw.winners == random.Random("fixed-seed").sample(draw.pool, 3)
    assert draw.drawn_by
    selected = set(
        TrialApplication.objects.filter(status=ApplicationStatus.SELECTED).values_list("public_id", flat=True)
    )
    assert selected == set(draw.winners)
    with pytest.raises(Conflict) as err:
        trial_draw(actor=owner, shop=trial.shop, public_id=trial.public_id, count=1)
    assert err.value.code == "trial_draw_empty"
    trial.refresh_from_db()
    assert trial.selected_count == 3


def test_draw_seed_is_random_when_not_given(owner, trial):
    apply_many(trial, 4)
    selecting(owner, trial)
    draw = trial_draw(actor=owner, shop=trial.shop, public_id=trial.public_id, count=1)
    assert len(draw.seed) == 32 and draw_replay(draw) == draw.winners


def test_zero_price_order_through_the_normal_flow(owner, trial):
    app = apply_many(trial, 1)[0]
    selecting(owner, trial)
    sku = Sku.objects.get(pk=trial.sku_id)
    [order] = applications_select(
        actor=owner, shop=trial.shop, public_id=trial.public_id, application_ids=[app.public_id]
    )
    order.refresh_from_db()
    assert order.total == 0 and order.shipping_fee == 0 and order.subtotal == 0
    assert order.status == OrderStatus.PAID and order.paid_amount == 0
    assert order.shopper_id == app.shopper_id and order.recipient == "李四"
    line = order.lines.get()
    assert line.unit_price == 0 and line.list_price == sku.price and line.promotion == f"trial:{app.public_id}"
    assert Sku.objects.get(pk=sku.pk).stock == sku.stock - 1
    actions = list(order.timeline.order_by("pk").values_list("action", flat=True))
    assert actions == ["place", "pay"]
    app.refresh_from_db()
    assert app.status == ApplicationStatus.SELECTED and app.order_id == order.pk


def test_selection_beyond_stock_is_a_clear_error_and_selects_nobody(owner, product, trial):
    apps = apply_many(trial, 3)
    selecting(owner, trial)
    Sku.objects.filter(product=product).update(stock=2)
    with pytest.raises(Conflict) as err:
        applications_select(
            actor=owner, shop=trial.shop, public_id=trial.public_id, application_ids=[a.public_id for a in apps]
        )
    assert err.value.code == "trial_stock_short" and err.value.detail == {"stock": 2, "wanted": 3}
    assert not TrialApplication.objects.filter(status=ApplicationStatus.SELECTED).exists()
    assert Sku.objects.get(product=product).stock == 2
    assert Trial.objects.get(pk=trial.pk).selected_count == 0


def test_hand_selection_never_above_quantity(owner, trial):
    apps = apply_many(trial, 4)
    selecting(owner, trial)
    with pytest.raises(Conflict) as err:
        applications_select(
            actor=owner, shop=trial.shop, public_id=trial.public_id, application_ids=[a.public_id for a in apps]
        )
    assert err.value.code == "trial_quantity_exceeded"


def test_selecting_needs_closed_applications(owner, trial):
    app = apply_many(trial, 1)[0]
    with pytest.raises(Conflict) as err:
        applications_select(actor=owner, shop=trial.shop, public_id=trial.public_id, application_ids=[app.public_id])
    assert err.value.code == "trial_not_selecting"


def test_trial_option_cannot_be_reused_and_a_cancelled_order_frees_it(owner, trial):
    app = apply_many(trial, 1)[0]
    selecting(owner, trial)
    applications_select(actor=owner, shop=trial.shop, public_id=trial.public_id, application_ids=[app.public_id])
    app.refresh_from_db()
    items = [{"sku": trial.sku_id, "quantity": 1}]
    with pytest.raises(Conflict) as err:
        order_place(
            shop=trial.shop,
            shopper=app.shopper,
            items=items,
            address_id=app.address.public_id,
            idempotency_key="again-trial-1",
            options={"trial": app.public_id},
        )
    assert err.value.code == "trial_used"
    # An unpaid order with the option (placed directly), cancelled: the application is free again.
    TrialApplication.objects.filter(pk=app.pk).update(order=None)
    unpaid = order_place(
        shop=trial.shop,
        shopper=app.shopper,
        items=items,
        address_id=app.address.public_id,
        idempotency_key="again-trial-2",
        options={"trial": app.public_id},
    )
    assert unpaid.total == 0
    order_cancel(order_id=unpaid.pk, actor="system")
    app.refresh_from_db()
    assert app.order_id is None
    placed = trial_order_again(actor=owner, shop=trial.shop, application_id=app.public_id)
    assert placed.pk != unpaid.pk and placed.status == OrderStatus.PAID


def test_someone_elses_application_does_not_unlock_a_price(owner, trial, shopper, address):
    app = apply_many(trial, 1)[0]
    selecting(owner, trial)
    applications_select(actor=owner, shop=trial.shop, public_id=trial.public_id, application_ids=[app.public_id])
    with pytest.raises(NotFound):
        order_place(
            shop=trial.shop,
            shopper=shopper,
            items=[{"sku": trial.sku_id, "quantity": 1}],
            address_id=address.public_id,
            idempotency_key="not-mine-1",
            options={"trial": app.public_id},
        )


def test_running_marks_the_rest_not_selected(owner, trial):
    apps = apply_many(trial, 3)
    selecting(owner, trial)
    applications_select(actor=owner, shop=trial.shop, public_id=trial.public_id, application_ids=[apps[0].public_id])
    trial_move(actor=owner, shop=trial.shop, public_id=trial.public_id, to="running")
    statuses = dict(TrialApplication.objects.values_list("public_id", "status"))
    assert statuses[apps[0].public_id] == "selected"
    assert statuses[apps[1].public_id] == statuses[apps[2].public_id] == "not_selected"


# --- reports -------------------------------------------------------------------------------


@pytest.fixture
def winner(owner, trial):
    app = apply_many(trial, 1)[0]
    selecting(owner, trial)
    [order] = applications_select(
        actor=owner, shop=trial.shop, public_id=trial.public_id, application_ids=[app.public_id]
    )
    trial_move(actor=owner, shop=trial.shop, public_id=trial.public_id, to="running")
    app.refresh_from_db()
    return app


ANSWERS = {"q1": {"rating": 4, "text": "清爽"}, "q2": {"rating": 5}}


def submit(app, **extra):
    extra.setdefault("rating", 5)
    extra.setdefault("text", "用了一周，很好用")
    extra.setdefault("answers", ANSWERS)
    return report_submit(shop=app.shop, shopper=app.shopper, application_id=app.public_id, **extra)


def test_report_needs_receipt_then_once_and_on_time(owner, winner):
    with pytest.raises(Conflict) as err:
        submit(winner)
    assert err.value.code == "trial_not_received"
    receive(winner.order, owner)
    report = submit(winner)
    assert not report.is_late and report.due_at is not None
    assert report.answers == [
        {"id": "q1", "question": "质地如何", "rating": 4, "text": "清爽"},
        {"id": "q2", "question": "包装", "rating": 5, "text": ""},
    ]
    with pytest.raises(Conflict) as err:
        submit(winner)
    assert err.value.code == "report_exists"


def test_report_answers_are_checked(owner, winner):
    receive(winner.order, owner)
    with pytest.raises(InvalidInput) as err:
        submit(winner, answers={"q1": {"rating": 9}})
    assert "q1" in err.value.detail


def test_late_report_is_flagged(owner, winner):
    receive(winner.order, owner)
    later = timezone.now() + timedelta(days=8)  # report_days is 7
    report = submit(winner, now=later)
    assert report.is_late


def test_late_report_reminder_once(owner, winner):
    receive(winner.order, owner)
    assert report_reminders_run(shop=winner.shop) == 0  # not due yet
    later = timezone.now() + timedelta(days=8)
    assert report_reminders_run(shop=winner.shop, now=later) == 1
    assert report_reminders_run(shop=winner.shop, now=later) == 0
    follow_up = FollowUp.objects.get()
    assert follow_up.kind == "trial_report" and "新品面霜试用" in follow_up.title


def test_publish_report_as_review(owner, winner):
    from tests.community.reviews.conftest import jpeg

    receive(winner.order, owner)
    report = submit(winner, photos=[jpeg(gps=True)])
    report = report_publish_review(actor=owner, shop=winner.shop, public_id=report.public_id)
    review = Review.objects.get()
    assert report.review_id == review.pk and review.line.order_id == winner.order_id
    assert review.rating == 5 and review.text == report.text and review.photos == report.photos
    assert review.points_state == ""  # no photo reward for a free item
    with pytest.raises(Conflict) as err:
        report_publish_review(actor=owner, shop=winner.shop, public_id=report.public_id)
    assert err.value.code == "report_published"


# --- shops ---------------------------------------------------------------------------------


def test_other_shop_cannot_see_or_touch_a_trial(trial, other_shop):
    other_owner = make_staff(other_shop, username="other-boss")
    with pytest.raises(NotFound):
        trial_move(actor=other_owner, shop=other_shop, public_id=trial.public_id, to="selecting")
    with pytest.raises(PermissionDenied):
        trial_move(actor=other_owner, shop=trial.shop, public_id=trial.public_id, to="selecting")
    other_product = make_product(other_shop)
    with pytest.raises(NotFound) as err:
        trial_create(actor=other_owner, shop=other_shop, data=trial_data(other_product, sku=trial.sku_id))
    assert "sku" in err.value.detail


def test_after_sales_on_a_trial_order_refuses_a_refund_of_nothing(owner, trial):
    from siyu.payments.aftersales import aftersale_review
    from tests.orders.helpers import ask

    app = apply_many(trial, 1)[0]
    selecting(owner, trial)
    [order] = applications_select(
        actor=owner, shop=trial.shop, public_id=trial.public_id, application_ids=[app.public_id]
    )
    sale = ask(order, order.lines.get(), "refund_only", 1, "quality")
    assert sale.amount == 0
    with pytest.raises(Conflict) as err:
        aftersale_review(actor=owner, shop=trial.shop, public_id=sale.public_id, approve=True)
    assert err.value.code == "no_payment"  # nothing was paid: a clear 409, never a 500
