"""Repurchase reminders: when a product a customer bought should be running out, a follow-up task
goes to the customer's staff member and, with marketing consent, a message to the customer.

A product's consumption_cycle_days says how long one purchase lasts. A customer is due when their
LAST purchase of the product (own counted orders, line not fully refunded) is at least
cycle − lead days old. Each purchase gets one reminder: a reminder made after the last purchase,
open or done, means "already reminded", and the open-reminder unique constraint catches a race.
Messages go out after the tasks are committed, never inside the transaction.

The same due-date logic feeds the "repurchase" journey (siyu.campaigns.journeys, a higher layer):
`repurchase_products` and `repurchase_due_purchases` are its reads. A shop whose repurchase journey
is switched on gets its messages from the journey (with a holdout, so the effect is measured); this
runner then still makes the staff follow-ups but sends no message of its own. The journeys app says
which shops those are through `message_takers` (registered in its ready(); lower layers never
import higher ones).
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from siyu.catalog.models import Product
from siyu.core.crypto import mask_phone
from siyu.orders.models import OrderLine
from siyu.shops.models import Shop

from .models import Customer, CustomerEvent, FollowUp
from .stats import COUNTED

logger = logging.getLogger("siyu.reminders")
outbox: list[tuple[str, str]] = []  # (customer public id, text) sent by LogReminderBackend, newest last
DEFAULT_BACKEND = "siyu.customers.reminders.LogReminderBackend"
KIND = "repurchase"
CHUNK = 1000
LEAD_DAYS = 3
# Callables (shop) -> bool: True when something else (the repurchase journey) messages the shop's
# due customers, so this runner must not message them too.
message_takers: list[Callable[[Shop], bool]] = []


class LogReminderBackend:
    """Writes the reminder to the log instead of sending it (demos, tests, no channel set up)."""

    def send(self, *, customer: Customer, text: str) -> None:
        outbox.append((customer.public_id, text))
        del outbox[:-100]
        logger.info("Reminder to %s: %s", mask_phone(customer.phone or ""), text)


def reminder_backend():
    return import_string(getattr(settings, "SIYU_REMINDER_BACKEND", DEFAULT_BACKEND))()


def repurchase_products(*, shop: Shop) -> dict[int, tuple[str, int]]:
    """{product id: (name, consumption cycle in days)} for the shop's products that have a cycle."""
    return {
        pk: (name, cycle)
        for pk, name, cycle in Product.objects.filter(shop=shop, consumption_cycle_days__gt=0).values_list(
            "pk", "name", "consumption_cycle_days"
        )
        if cycle is not None  # always, by the filter; says so to the type checker
    }


def repurchase_due_purchases(*, shop: Shop, products: dict[int, tuple[str, int]], lead_days: int, now: datetime):
    """(shopper id, product id, last purchase) for every pair whose last purchase is old enough,
    ordered by shopper and product. The age test depends on the product's cycle, so it is one
    HAVING term per distinct cycle."""
    by_cycle: dict[int, list[int]] = defaultdict(list)
    for pk, (_name, cycle) in products.items():
        by_cycle[cycle].append(pk)
    # (a term on the line's pk would put it in the GROUP BY and undo the grouping)
    terms = [
        Q(product_id__in=ids, last_at__lte=now - timedelta(days=max(cycle - lead_days, 0)))
        for cycle, ids in by_cycle.items()
    ]
    old_enough = terms[0]
    for term in terms[1:]:
        old_enough |= term
    return (
        OrderLine.objects.filter(
            shop=shop,
            product_id__in=list(products),
            order__status__in=COUNTED,
            order__paid_at__isnull=False,
            refunded_quantity__lt=F("quantity"),
        )
        .values("order__shopper_id", "product_id")
        .annotate(last_at=Max("order__paid_at"))
        .filter(old_enough)
        .order_by("order__shopper_id", "product_id")
        .values_list("order__shopper_id", "product_id", "last_at")
    )


def _new_tasks(shop: Shop, chunk: list[tuple], products: dict[int, tuple[str, int]], today) -> list[FollowUp]:
    """Follow-ups for one chunk of due purchases: two lookups for the chunk, none per row."""
    customers = {
        c["shopper_id"]: c
        for c in Customer.objects.filter(
            shop=shop, shopper_id__in={s for s, _p, _t in chunk}, anonymized_at__isnull=True
        ).values("id", "shopper_id", "assigned_to_id")
    }
    reminded: dict[tuple[int, int], datetime] = {}
    earlier = FollowUp.objects.filter(
        shop=shop,
        kind=KIND,
        customer_id__in=[c["id"] for c in customers.values()],
        product_id__in={p for _s, p, _t in chunk},
    )
    for cid, pid, at in earlier.values_list("customer_id", "product_id", "created_at"):
        reminded[(cid, pid)] = max(at, reminded.get((cid, pid), at))
    tasks = []
    for shopper_id, product_id, last_at in chunk:
        customer = customers.get(shopper_id)
        if customer is None:
            continue
        since = reminded.get((customer["id"], product_id))
        if since is not None and since >= last_at:
            continue
        title = _("Repurchase: %(product)s (last bought %(date)s)") % {
            "product": products[product_id][0],
            "date": timezone.localdate(last_at).isoformat(),
        }
        tasks.append(
            FollowUp(
                shop=shop,
                customer_id=customer["id"],
                assignee_id=customer["assigned_to_id"],
                title=title[:120],
                due_on=today,  # due as soon as it is made: the lead days are the time to act
                kind=KIND,
                product_id=product_id,
            )
        )
    return tasks


def _send(shop: Shop, started: datetime) -> tuple[int, int]:
    """Message the customers whose reminders this run made, if they agreed to marketing messages."""
    made = FollowUp.objects.filter(shop=shop, kind=KIND, created_at__gte=started).select_related("customer", "product")
    backend = reminder_backend()
    sent, skipped, events = 0, 0, []
    for task in made.iterator(chunk_size=CHUNK):
        customer = task.customer
        if customer.marketing_consent_at is None or customer.anonymized_at is not None or not customer.phone:
            skipped += 1
            continue
        product = task.product.name if task.product else task.title
        text = _("%(shop)s: your %(product)s may be running low. Reply or visit the shop to order again.") % {
            "shop": shop.name,
            "product": product,
        }
        backend.send(customer=customer, text=text)
        sent += 1
        events.append(
            CustomerEvent(shop=shop, customer=customer, kind="reminder.sent", data={"followup": task.pk, "text": text})
        )
    CustomerEvent.objects.bulk_create(events, batch_size=CHUNK)
    return sent, skipped


def repurchase_reminders_run(*, shop: Shop, lead_days: int = LEAD_DAYS, now: datetime | None = None) -> dict:
    """Make the due repurchase follow-ups of the shop and send the reminders. Safe to run any
    number of times: a purchase is reminded of once."""
    now = now or timezone.now()
    products = repurchase_products(shop=shop)
    if not products:
        return {"created": 0, "sent": 0, "no_consent": 0}
    started, today = timezone.now(), timezone.localdate(now)
    with transaction.atomic():
        chunk: list[tuple] = []
        due = repurchase_due_purchases(shop=shop, products=products, lead_days=lead_days, now=now)
        for row in due.iterator(chunk_size=CHUNK):
            chunk.append(row)
            if len(chunk) == CHUNK:
                _create(shop, chunk, products, today)
                chunk = []
        if chunk:
            _create(shop, chunk, products, today)
        created = FollowUp.objects.filter(shop=shop, kind=KIND, created_at__gte=started).count()
    if any(taker(shop) for taker in message_takers):
        return {"created": created, "sent": 0, "no_consent": 0}
    sent, skipped = _send(shop, started)
    return {"created": created, "sent": sent, "no_consent": skipped}


def _create(shop: Shop, chunk: list[tuple], products: dict[int, tuple[str, int]], today) -> None:
    tasks = _new_tasks(shop, chunk, products, today)
    # A reminder made meanwhile by another run trips the open-reminder constraint: skip it.
    FollowUp.objects.bulk_create(tasks, batch_size=CHUNK, ignore_conflicts=True)
