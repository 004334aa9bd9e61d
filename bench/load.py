"""The shopper mix for the load test (locust): what a micro-mall sees on an ordinary day.

    browse   70%  home page 20, a category page 20, a product page 30 (storefront HTML)
    cart     15%  put a SKU in the cart (API)
    checkout 10%  place an order (API, a fresh Idempotency-Key): what is in the cart, which empties
                  it, or one SKU bought at once when the cart is empty
    pay       5%  pay one of this shopper's unpaid orders with the sandbox: start the payment (API),
                  then press "pay" on the sandbox bank's page (HTML form, session cookie + CSRF);
                  the signed notification comes back through the worker

Each simulated shopper is one of the generated shoppers of the fixture file that bench/load_runner.py
writes (BENCH_LOAD_FIXTURE): an API token, a session key and an address. Run it through the runner
(`make bench-load`), which makes the database, starts the production server and prints the figures.
"""

import itertools
import json
import os
import random
import secrets
import string

from locust import HttpUser, constant, task

with open(os.environ["BENCH_LOAD_FIXTURE"], encoding="utf-8") as _f:
    FIXTURE = json.load(_f)
_next_shopper = itertools.count()
API = "/api/v1/storefront"


def _csrf_secret() -> str:
    # Django takes the bare 32-character secret as a valid token when cookie and field agree.
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


class Shopper(HttpUser):
    # No think time: the run measures what the server sustains with this many shoppers in flight.
    wait_time = constant(float(os.environ.get("BENCH_WAIT_SECONDS", "0")))

    def on_start(self) -> None:
        me = FIXTURE["shoppers"][next(_next_shopper) % len(FIXTURE["shoppers"])]
        self.api_headers = {"Authorization": f"Bearer {me['token']}"}
        self.address = me["address"]
        csrf = _csrf_secret()
        # Production cookies are Secure and the run is plain HTTP on loopback: send them by hand.
        self.cookie = f"{FIXTURE['session_cookie']}={me['session']}; {FIXTURE['csrf_cookie']}={csrf}"
        self.csrf = csrf
        self.unpaid: list[str] = []
        self.in_cart: set[int] = set()

    # --- browse 70% -----------------------------------------------------------------------

    @task(20)
    def home(self) -> None:
        self.client.get("/", name="browse home")

    @task(20)
    def category(self) -> None:
        self.client.get(f"/c/{random.choice(FIXTURE['categories'])}/", name="browse category")

    @task(30)
    def product(self) -> None:
        self.client.get(f"/p/{random.choice(FIXTURE['products'])}/", name="browse product")

    # --- buy 30% --------------------------------------------------------------------------

    @task(15)
    def add_to_cart(self) -> None:
        sku = random.choice(FIXTURE["skus"])
        body = {"quantity": random.randint(1, 3)}
        resp = self.client.put(f"{API}/cart/lines/{sku}", json=body, headers=self.api_headers, name="cart add")
        if resp.status_code == 200:
            self.in_cart.add(sku)

    @task(10)
    def checkout(self) -> None:
        self._place_order()

    @task(5)
    def pay(self) -> None:
        if not self.unpaid:
            self._place_order()
        if not self.unpaid:
            return
        order = self.unpaid.pop()
        resp = self.client.post(
            f"{API}/orders/{order}/pay", json={"provider": "sandbox"}, headers=self.api_headers, name="pay start"
        )
        if resp.status_code != 200:
            return
        path = "/" + resp.json()["url"].split("/", 3)[3]
        with self.client.post(
            path,
            data={"csrfmiddlewaretoken": self.csrf},
            headers={"Cookie": self.cookie},
            allow_redirects=False,
            name="pay sandbox bank",
            catch_response=True,
        ) as bank:
            # The bank page sends the shopper back to the order; to the sign-in page means the session failed.
            if bank.status_code != 302 or "login" in bank.headers.get("Location", ""):
                bank.failure(f"{bank.status_code} to {bank.headers.get('Location')}")

    def _place_order(self) -> str | None:
        body: dict = {"address_id": self.address}
        if self.in_cart:
            body["from_cart"] = True
        else:
            body["items"] = [{"sku": random.choice(FIXTURE["skus"]), "quantity": 1}]
        headers = {**self.api_headers, "Idempotency-Key": secrets.token_hex(8)}
        resp = self.client.post(f"{API}/orders", json=body, headers=headers, name="checkout")
        if resp.status_code != 201:
            return None
        self.in_cart.clear()  # the order took the cart's lines
        public_id = resp.json()["public_id"]
        self.unpaid.append(public_id)
        return public_id
