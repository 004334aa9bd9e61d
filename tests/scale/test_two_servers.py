"""Two web servers and two workers on one PostgreSQL database and one Redis, as the README's
production section runs them: one shopper moves between the servers at every step, and the work that
goes through the queue (the sign-in SMS, the sandbox bank's notification) is done by the workers.

Runs in `make test`'s Redis pass (CI sets SIYU_TEST_REDIS_URL and SIYU_TEST_DATABASE_URL); skipped
without either. The servers use a database of their own, made and dropped here.
"""

import os
import secrets
import time

import pytest

from .cluster import Client, Cluster, code_in_logs

REDIS_URL = os.environ.get("SIYU_TEST_REDIS_URL", "")
PG_URL = os.environ.get("SIYU_TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(
    not (REDIS_URL and PG_URL),
    reason="needs SIYU_TEST_REDIS_URL and SIYU_TEST_DATABASE_URL (make test's Redis pass on PostgreSQL)",
)
BUDGET_SECONDS = 150  # start-up, the flow and the waits on the workers together


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(admin_url=PG_URL, redis_url=REDIS_URL, workdir=tmp_path)
    try:
        c.create_database()
        yield c
    finally:
        c.close()


def test_one_shopper_across_two_servers_and_two_workers(cluster):
    deadline = time.monotonic() + BUDGET_SECONDS
    ids = cluster.seed()
    port_a, port_b = cluster.web("web-a"), cluster.web("web-b")
    worker_logs = [cluster.start("worker-1", ["worker"]), cluster.start("worker-2", ["worker"])]
    cluster.wait_ready(port_a, deadline=deadline)
    cluster.wait_ready(port_b, deadline=deadline)
    a, b = Client(port_a), Client(port_b)
    try:
        _shop_flow(cluster, a, b, ids, worker_logs, deadline)
    except BaseException:
        print(cluster.logs())  # shown by pytest with the failure
        raise


def _shop_flow(cluster: Cluster, a: Client, b: Client, ids: dict, worker_logs, deadline: float) -> None:
    phone = "139" + f"{secrets.randbelow(10**8):08d}"
    api = "/api/v1/storefront"

    # A sign-in code asked on A comes through a worker (the log SMS backend) and signs in on B.
    status, body, _ = a.post(f"{api}/auth/otp", {"phone": phone})
    assert status == 202, body
    code = code_in_logs(worker_logs, deadline=deadline)
    status, body, cookies = b.post(f"{api}/auth/login", {"phone": phone, "code": code})
    assert status == 200, body
    auth = {"Authorization": f"Bearer {body['token']}"}
    assert "sessionid" in cookies and "csrftoken" in cookies
    cluster.session_keys.append(cookies["sessionid"])

    # The cart filled on A is what B checks out.
    status, body, _ = a.put(f"{api}/cart/lines/{ids['sku']}", {"quantity": 2}, headers=auth)
    assert status == 200, body
    address = {"recipient": "王五", "phone": phone, "province": "浙江省", "city": "杭州市", "district": "西湖区"}
    status, body, _ = a.post(f"{api}/me/addresses", {**address, "detail": "文三路 1 号"}, headers=auth)
    assert status == 201, body
    checkout = {"from_cart": True, "address_id": body["public_id"]}
    status, order, _ = b.post(f"{api}/orders", checkout, headers={**auth, "Idempotency-Key": secrets.token_hex(8)})
    assert status == 201, order
    assert order["status"] == "pending_payment"

    # Payment starts on B; the sandbox page on A takes the session B made at sign-in (sessions are
    # shared through Redis and the database); a worker delivers the sandbox bank's notification.
    status, action, _ = b.post(f"{api}/orders/{order['public_id']}/pay", {"provider": "sandbox"}, headers=auth)
    assert status == 200, action
    pay_path = "/" + action["url"].split("/", 3)[3]
    form = {"csrfmiddlewaretoken": cookies["csrftoken"]}
    status, body, _ = a.post(
        pay_path, form, headers={"Content-Type": "application/x-www-form-urlencoded"}, cookies=cookies
    )
    # Back to the order page, not to the sign-in page: A knew the session B made.
    assert status == 302 and order["public_id"] in body and "paying=1" in body, body

    # A sees the order paid once a worker has delivered the notification.
    while time.monotonic() < deadline:
        status, seen, _ = a.get(f"{api}/orders/{order['public_id']}", headers=auth)
        assert status == 200, seen
        if seen["status"] != "pending_payment":
            break
        time.sleep(0.3)
    assert seen["status"] == "paid"
    assert seen["paid_amount_fen"] == order["total_fen"]
