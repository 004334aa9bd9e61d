"""The purchase summary behind CLV, on a hand-computable pool: frequency, recency, age, mean spend."""

from datetime import date

import pytest

from siyu.analytics.clv_summary import clv_summary
from siyu.orders.models import OrderStatus

from .clv_helpers import at, external_order, make_customer, own_order

pytestmark = pytest.mark.django_db
END = date(2024, 3, 31)


def _rows(shop):
    s = clv_summary(shop=shop, calibration_end=END)
    return {
        int(cid): (int(x), int(t), int(T), float(m))
        for cid, x, t, T, m in zip(s.customer_ids, s.frequency, s.recency, s.age, s.mean_spend, strict=True)
    }


def test_summary_counts_days_nets_refunds_and_adds_imported_orders(shop, other_shop):
    # Ann: 1 Jan (¥100), two orders on 11 Jan (¥30 + ¥50 = one purchase of ¥80), 31 Jan (¥60 paid, ¥20 refunded)
    ann = make_customer(shop)
    own_order(shop, ann, at(date(2024, 1, 1)), 10000)
    own_order(shop, ann, at(date(2024, 1, 11), 9), 3000)
    own_order(shop, ann, at(date(2024, 1, 11), 20), 5000, status=OrderStatus.SHIPPED)
    own_order(shop, ann, at(date(2024, 1, 31)), 6000, refunded=2000, status=OrderStatus.COMPLETED)
    # not purchases: a closed (fully refunded) order, an unpaid one, one after the calibration end
    own_order(shop, ann, at(date(2024, 2, 10)), 9000, refunded=9000, status=OrderStatus.CLOSED)
    own_order(shop, ann, at(date(2024, 2, 11)), 9000, status=OrderStatus.PENDING_PAYMENT)
    own_order(shop, ann, at(date(2024, 4, 1), 1), 9000)
    # Bo: imported marketplace orders on 1 Mar and 16 Mar, and an own order on 16 Mar (same day)
    bo = make_customer(shop)
    external_order(shop, bo, at(date(2024, 3, 1)), 2500)
    external_order(shop, bo, at(date(2024, 3, 16)), 1000)
    own_order(shop, bo, at(date(2024, 3, 16)), 1500)
    # Cy: one purchase at 23:30 local time on 31 Mar (UTC 15:30): still inside the period
    cy = make_customer(shop, with_shopper=False)
    external_order(shop, cy, at(date(2024, 3, 31), 23), 4200)
    # no purchase at all; and another shop's customer
    make_customer(shop)
    other = make_customer(other_shop)
    own_order(other_shop, other, at(date(2024, 1, 5)), 10000)

    rows = _rows(shop)
    assert rows == {
        ann.pk: (2, 30, 90, (8000 + 4000) / 2),
        bo.pk: (1, 15, 30, 2500.0),
        cy.pk: (0, 0, 0, 0.0),
    }


def test_anonymised_customers_are_left_out(shop):
    ann = make_customer(shop)
    own_order(shop, ann, at(date(2024, 1, 1)), 10000)
    ann.anonymized_at = at(date(2024, 2, 1))
    ann.save(update_fields=["anonymized_at"])
    assert _rows(shop) == {}


def test_summary_is_one_query(shop, django_assert_num_queries):
    for _ in range(3):
        c = make_customer(shop)
        own_order(shop, c, at(date(2024, 1, 1)), 100)
    with django_assert_num_queries(1):
        assert len(clv_summary(shop=shop, calibration_end=END)) == 3
