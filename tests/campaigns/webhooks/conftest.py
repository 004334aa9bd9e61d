"""A local HTTP receiver (a server thread on 127.0.0.1, never the network) and webhook helpers."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from siyu.accounts.services import token_issue
from siyu.campaigns.webhooks.services import endpoint_create

from ...factories import make_staff


class Receiver:
    """Records every request; answers with the next of `answers` (status codes), then `default`.
    An answer of "slow" sleeps past the client's timeout before answering 200."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list = []
        self.default = 200
        self.slow_seconds = 2.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                answer = receiver.answers.pop(0) if receiver.answers else receiver.default
                if answer == "slow":
                    time.sleep(receiver.slow_seconds)
                    answer = 200
                self.send_response(answer)
                if 300 <= answer < 400:
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def endpoint_and_secret(shop, owner, receiver):
    return endpoint_create(actor=owner, shop=shop, url=receiver.url, events=["*"])


@pytest.fixture
def endpoint(endpoint_and_secret):
    return endpoint_and_secret[0]


@pytest.fixture
def owner_api(client, shop, owner):
    client.defaults["HTTP_AUTHORIZATION"] = "Bearer " + token_issue(shop=shop, staff=owner, name="t")[1]
    return client


def staff_api(client, shop, role):
    """Signed in by session (not every role may make API tokens)."""
    member = make_staff(shop, role=role)
    client.force_login(member.user)
    return client
