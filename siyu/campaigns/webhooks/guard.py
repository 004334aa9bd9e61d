"""Where a webhook may point, and an HTTP client that keeps to it (SSRF).

A webhook URL is typed by a seller's staff, and our worker sends to it from inside our network:
without a guard it could reach the metadata service (169.254.169.254), Redis on 10.x or the admin
on 127.0.0.1. So, unless `SIYU_WEBHOOKS_ALLOW_PRIVATE` (development and tests) allows it:

- only https URLs are accepted;
- every address the host resolves to must be a public one (not loopback, private, link-local,
  multicast, reserved, shared or unspecified; IPv4-mapped IPv6 is unwrapped first);
- the check runs at registration and again at the moment of connecting, on the very addresses the
  socket connects to (the connection class resolves, checks and connects itself), so a DNS answer
  that changes between the two (rebinding) is caught;
- redirects are not followed (a 3xx is a failed delivery) and proxies from the environment are
  ignored (a proxy would resolve the name itself, past the check).
"""

import ipaddress
import re
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.timeout import _DEFAULT_TIMEOUT

from siyu.core.errors import InvalidInput

MAX_URL = 500
_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
# One pattern, used by the API schema and the service alike: a scheme, a host name or IPv4 address
# (no user:password@, no IPv6 literal, no trailing dot), an optional port, then printable ASCII.
URL_PATTERN = f"^https?://{_LABEL}(\\.{_LABEL})*(:{_PORT})?([/?][!-~]*)?$"
_URL = re.compile(URL_PATTERN)


class UnsafeAddress(Exception):
    """The host resolves to an address we do not send to."""


def private_allowed() -> bool:
    return bool(getattr(settings, "SIYU_WEBHOOKS_ALLOW_PRIVATE", False))


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local)


def resolve_checked(host: str, port: int) -> list[tuple]:
    """getaddrinfo for a TCP connection, refused whole if any address is not public (allowed
    anything when private addresses are allowed)."""
    try:
        found = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeAddress(f"{host} does not resolve") from exc
    if not found:
        raise UnsafeAddress(f"{host} does not resolve")
    if not private_allowed():
        refused = sorted({str(info[4][0]) for info in found if not address_is_public(str(info[4][0]))})
        if refused:
            raise UnsafeAddress(f"{host} resolves to a non-public address ({', '.join(refused)})")
    return found


def url_check(url: str, *, resolve: bool = True) -> str:
    """The URL as stored, or InvalidInput saying why not (detail {"url": reason})."""
    url = (url or "").strip()
    if not url or len(url) > MAX_URL or not _URL.match(url):
        raise InvalidInput(
            _("Enter a full URL such as https://erp.example.com/siyu/webhooks."), detail={"url": "not a valid URL"}
        )
    parts = urlsplit(url)
    if parts.scheme != "https" and not private_allowed():
        raise InvalidInput(_("Webhook URLs must use https."), detail={"url": "https only"})
    if resolve and not private_allowed():
        try:
            resolve_checked(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        except UnsafeAddress as exc:
            raise InvalidInput(
                _("This address cannot receive webhooks: it must be a public internet address."),
                detail={"url": str(exc)},
            ) from None
    return url


def _open_socket(conn: HTTPConnection) -> socket.socket:
    """urllib3's create_connection, but to checked addresses only: the very answer that was checked."""
    found = resolve_checked(conn._dns_host.strip("[]"), conn.port or 0)
    error: OSError = OSError("no address to connect to")
    for family, kind, proto, _name, address in found:
        sock = socket.socket(family, kind, proto)
        try:
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            if conn.timeout is not _DEFAULT_TIMEOUT:
                sock.settimeout(conn.timeout)
            if conn.source_address:
                sock.bind(conn.source_address)
            sock.connect(address)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error


def _connect(conn: HTTPConnection) -> socket.socket:
    try:
        return _open_socket(conn)
    except UnsafeAddress as exc:
        raise NewConnectionError(conn, f"refused: {exc}") from None
    except TimeoutError as exc:
        raise ConnectTimeoutError(conn, f"connection to {conn.host} timed out") from exc
    except OSError as exc:
        raise NewConnectionError(conn, f"could not connect: {exc}") from exc


class _CheckedHTTPConnection(HTTPConnection):
    def _new_conn(self):
        return _connect(self)


class _CheckedHTTPSConnection(HTTPSConnection):
    def _new_conn(self):
        return _connect(self)


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


def checked_session() -> requests.Session:
    """A requests session whose connections go to checked addresses only, with no proxies."""
    session = requests.Session()
    session.trust_env = False  # HTTP(S)_PROXY would resolve the host past our check
    session.mount("http://", _CheckedAdapter())
    session.mount("https://", _CheckedAdapter())
    return session
