"""The bench's floor: a minimal Django view running checkout's three statements (conditional stock
decrement, order insert, line insert) through the same server and harness as the real checkout.

Served only by the checkout bench's own server process, whose settings (bench/minimal_settings.py,
chosen by DJANGO_SETTINGS_MODULE in that process's environment) make this module the whole URLconf,
with no middleware: it is never in the product's URLs. The difference between its rate and the API
checkout's is what Siyu does per order beyond Django and the database; the difference between its
rate and the raw-psycopg baseline is Django plus the server.
"""

import json
import os
import secrets
from datetime import timedelta

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from bench.live_schema import RawInsert


def raw_inserts(shop_id: int, sku_id: int, product_id: int) -> tuple[RawInsert, RawInsert]:
    """The order and line INSERTs of the baselines, their columns taken from the live models."""
    from siyu.orders.models import Order, OrderLine

    now = timezone.now()
    order = RawInsert(
        Order,
        connection=connection,
        per_row=["public_id", "number", "shopper_id", "idempotency_key"],
        fixed={
            "shop_id": shop_id, "status": "pending_payment", "subtotal": 990, "total": 990,
            "recipient": "买家", "phone": "x", "province": "浙江省", "city": "杭州市", "district": "西湖区",
            "address_detail": "x", "created_at": now, "pay_deadline": now + timedelta(minutes=30),
        },
    )  # fmt: skip
    line = RawInsert(
        OrderLine,
        connection=connection,
        per_row=["order_id"],
        fixed={
            "shop_id": shop_id, "sku_id": sku_id, "product_id": product_id, "product_name": "秒杀款",
            "unit_price": 990, "quantity": 1, "line_total": 990, "return_policy": "no_reason_7d",
        },
    )  # fmt: skip
    return order, line


_inserts: dict[int, tuple[RawInsert, RawInsert]] = {}  # built once per process, per SKU


@csrf_exempt
def minimal_checkout(request: HttpRequest) -> HttpResponse:
    body = json.loads(request.body)
    sku_id, shopper_id = int(body["sku"]), int(body["shopper"])
    if sku_id not in _inserts:
        _inserts[sku_id] = raw_inserts(int(os.environ["BENCH_SHOP_ID"]), sku_id, int(os.environ["BENCH_PRODUCT_ID"]))
    order, line = _inserts[sku_id]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_sku SET stock = stock - 1 WHERE id = %s AND stock >= 1 RETURNING id", [sku_id])
        if cursor.fetchone() is None:
            return HttpResponse('{"code":"insufficient_stock"}', status=409, content_type="application/json")
        own = (secrets.token_hex(8), secrets.token_hex(10), shopper_id, secrets.token_hex(8))
        cursor.execute(order.sql + " RETURNING id", order.params(own))
        order_id = cursor.fetchone()[0]
        cursor.execute(line.sql, line.params((order_id,)))
    return HttpResponse(json.dumps({"order": order_id}), status=201, content_type="application/json")


urlpatterns = [path("bench/minimal-checkout", minimal_checkout)]
