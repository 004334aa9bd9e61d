"""A local HTTP server thread that plays WeCom and the WeChat Official Account API: tokens, message
sends, scripted error codes. Tests point SIYU_WECOM_API_BASE / SIYU_WECHAT_API_BASE at it."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class FakeWeChat:
    def __init__(self):
        self.requests: list[tuple[str, dict, dict]] = []  # (path, query, body)
        self.token_calls = 0
        self.tokens_valid: set[str] = set()
        self.send_errors: list[int] = []  # errcodes answered to the next sends, in order
        self.http_status = 200
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, body: dict, status: int = 200):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                owner.requests.append((url.path, query, {}))
                if url.path in ("/cgi-bin/gettoken", "/cgi-bin/token"):
                    secret = query.get("corpsecret") or query.get("secret")
                    if secret != "s3cret":
                        return self._answer({"errcode": 40001, "errmsg": "invalid credential"})
                    owner.token_calls += 1
                    token = f"tok{owner.token_calls}"
                    owner.tokens_valid.add(token)
                    return self._answer({"errcode": 0, "access_token": token, "expires_in": 7200})
                self._answer({"errcode": 404}, 404)

            def do_POST(self):
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                owner.requests.append((url.path, query, body))
                if owner.http_status != 200:
                    return self._answer({}, owner.http_status)
                if query.get("access_token") not in owner.tokens_valid:
                    return self._answer({"errcode": 42001, "errmsg": "access_token expired"})
                if owner.send_errors:
                    return self._answer({"errcode": owner.send_errors.pop(0), "errmsg": "scripted"})
                msgid = f"msg{len(owner.requests)}"
                return self._answer({"errcode": 0, "errmsg": "ok", "msgid": msgid, "fail_list": []})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def sends(self, path: str) -> list[dict]:
        return [body for p, _q, body in self.requests if p == path]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
