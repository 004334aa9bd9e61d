"""One status table each for after-sales, payments and refunds: every allowed move writes an audit
row (from, to, who, why); a sample of refused moves changes nothing. And the services move through
the tables (an audit row per change), not by assignment."""

import pytest

from siyu.core.errors import Conflict
from siyu.core.models import AuditEntry
from siyu.orders.models import AfterSale
from siyu.orders.states import AFTERSALE_STATES
from siyu.payments.aftersales import aftersale_review
from siyu.payments.models import Payment, Refund
from siyu.payments.states import PAYMENT_STATES, REFUND_STATES

from ..factories import make_product
from .helpers import ask, pay, place

TABLES = [
    (AFTERSALE_STATES, "sale", [("requested", "refunded"), ("approved", "requested"), ("refunded", "refunding")]),
    (PAYMENT_STATES, "payment", [("succeeded", "failed"), ("succeeded", "created"), ("failed", "created")]),
    (REFUND_STATES, "refund", [("succeeded", "pending"), ("failed", "succeeded"), ("pending", "pending")]),
]


@pytest.fixture
def rows(shop, shopper, address, owner):
    order = place(shop, shopper, address, make_product(shop, price=5000, stock=5), quantity=2)
    pay(order)
    sale = ask(order, order.lines.get(), "refund_only", 1, "other")
    payment = Payment.objects.get(order=order)
    refund = Refund.objects.create(shop=shop, payment=payment, out_refund_no="Rtest1", amount=100)
    return {"sale": sale, "payment": payment, "refund": refund}


def _set(row, status):
    type(row).objects.filter(pk=row.pk).update(status=status)
    row.refresh_from_db()


@pytest.mark.parametrize(("machine", "key", "refused"), TABLES, ids=["aftersale", "payment", "refund"])
def test_every_allowed_move_is_audited_and_refused_ones_change_nothing(machine, key, refused, rows, owner):
    row = rows[key]
    moves = [(before, after) for before, targets in machine.table.items() for after in sorted(targets)]
    assert moves, "a table with no moves"
    for before, after in moves:
        _set(row, before)
        assert machine.move(row, to=after, actor=owner, why=f"test {before}") == before
        row.refresh_from_db()
        entry = AuditEntry.objects.filter(action=f"{machine.name}.{after}", target_id=str(row.pk)).latest("id")
        assert entry.data == {"from": before, "to": after, "why": f"test {before}"}
        assert entry.actor_id == owner.user_id and row.status == after
    for before, after in refused:
        assert not machine.can(before, after)
        _set(row, before)
        with pytest.raises(Conflict) as exc:
            machine.move(row, to=after, actor=owner)
        assert exc.value.code == "bad_transition"
        row.refresh_from_db()
        assert row.status == before


def test_services_move_through_the_tables(shop, owner, rows, django_capture_on_commit_callbacks):
    sale = rows["sale"]
    with django_capture_on_commit_callbacks(execute=True):
        aftersale_review(actor=owner, shop=shop, public_id=sale.public_id, approve=True, note="好")
    entries = AuditEntry.objects.filter(target_type="aftersale", target_id=str(sale.pk)).order_by("id")
    path = list(entries.values_list("data", flat=True))
    assert [(d["from"], d["to"]) for d in path] == [
        ("requested", "approved"),
        ("approved", "refunding"),
        ("refunding", "refunded"),
    ]
    assert AfterSale.objects.get(pk=sale.pk).status == "refunded"
    refund = Refund.objects.get(after_sale=sale)
    assert AuditEntry.objects.filter(action="refund.succeeded", target_id=str(refund.pk)).count() == 1
    payment = rows["payment"]
    assert AuditEntry.objects.filter(action="payment.succeeded", target_id=str(payment.pk)).count() == 1
