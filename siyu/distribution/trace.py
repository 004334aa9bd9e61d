"""Traceability codes (一物一码): one unguessable code per physical item, and what scanning it tells.

A batch is generated in bulk for one product (optionally one SKU). Each scan is recorded; the
counters change with single conditional UPDATEs so concurrent scans never lose a count. A code
scanned from several networks, or far more often than one buyer would, is flagged: a copied label
stuck on counterfeits gets scanned by many people in many places.

Scanning is public, so it is limited per address (`trace_scan_throttle`): by default 30 scans a
minute and 300 an hour (SIYU_TRACE_SCANS_PER_MINUTE / _PER_HOUR), far above what a shopper
checking a few items does, well below what a script walking codes would need. A shopper who scans
the same label again within SIYU_TRACE_REPEAT_SECONDS (10 minutes) — a second look, a page reload,
the chat app opening the link twice — is shown the page but not counted again, so one buyer cannot
push a genuine item towards "scanned suspiciously often". The counters live in the cache (Redis
when REDIS_URL is set, shared by every app process; local memory in a one-process install) and
change with atomic cache operations (add, incr), never a read-then-write.
"""

import base64
import io
import ipaddress
import re
import time
from dataclasses import dataclass

import qrcode
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.catalog.models import Product, Sku
from siyu.core.audit import audit_record
from siyu.core.crypto import lookup_hash
from siyu.core.errors import InvalidInput, NotFound, RateLimited
from siyu.core.ids import public_id
from siyu.core.permissions import actor_user, require
from siyu.shops.models import Shop

from .models import TraceBatch, TraceCode, TraceScan

MANAGE = "catalog.manage"
VIEW = "catalog.view"
CODE_LENGTH = 16  # 31 symbols ** 16 ≈ 7e23: not guessable, still short enough to type from a label
MAX_QUANTITY = 10_000
INSERT_CHUNK = 1_000
# Several buyers on different networks scanning one label, or a label scanned far more often than
# a real owner would, is what a copied code looks like.
SUSPICIOUS_DISTINCT_IPS = 3
SUSPICIOUS_SCAN_COUNT = 30
RECENT_SCANS = 50
UNKNOWN_MESSAGE = _("This code was never issued: the item may not be genuine.")
# (window in seconds, the setting that says how many scans one address may make in it)
SCAN_BUDGETS = ((60, "SIYU_TRACE_SCANS_PER_MINUTE"), (3600, "SIYU_TRACE_SCANS_PER_HOUR"))


@dataclass
class ScanResult:
    code: TraceCode
    first_scan: bool  # this scan was the very first one
    suspicious: bool


def _whole(value, field: str, errors: dict) -> int | None:
    if isinstance(value, bool):
        errors[field] = "not a whole number"
        return None
    text = str(value if value is not None else "").strip()
    if not text.isdigit():
        errors[field] = "not a whole number" if text else "required"
        return None
    return int(text)


def _product_of(shop: Shop, product) -> Product:
    """This shop's product, given as itself or its public id; NotFound for any other, as at every
    other door that names a product."""
    if isinstance(product, Product):
        if product.shop_id != shop.pk:
            raise NotFound(detail={"product": product.public_id})
        return product
    key = str(product).strip()
    found = Product.objects.filter(shop=shop, public_id=key).first()
    if found is None:
        raise NotFound(detail={"product": key})
    return found


def _sku_of(product: Product, sku) -> Sku:
    """A SKU of that product, given as itself or its id; NotFound for any other."""
    if isinstance(sku, Sku):
        if sku.product_id != product.pk:
            raise NotFound(detail={"sku": sku.pk})
        return sku
    found = Sku.objects.filter(product=product, pk=int(sku)).first()
    if found is None:
        raise NotFound(detail={"sku": int(sku)})
    return found


def _clean_batch(shop: Shop, *, product, sku, name, quantity) -> dict:
    """The batch's values: input that cannot be right is 400 (all fields at once); then a product
    or SKU that is not this shop's is 404."""
    errors: dict = {}
    if isinstance(product, str | None) and not str(product or "").strip():
        errors["product"] = "required"
    if sku not in (None, "") and not isinstance(sku, Sku):
        _whole(sku, "sku", errors)
    label = str(name or "").strip()
    if not label:
        errors["name"] = "required"
    elif len(label) > 40:
        errors["name"] = "at most 40 characters"
    count = _whole(quantity, "quantity", errors)
    if count is not None and not 1 <= count <= MAX_QUANTITY:
        errors["quantity"] = "1 to 10000"
    if errors:
        raise InvalidInput(detail=errors)
    target = _product_of(shop, product)
    variant = _sku_of(target, sku) if sku not in (None, "") else None
    return {"product": target, "sku": variant, "name": label, "quantity": count}


def _fresh_codes(n: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < n:
        codes.add(public_id(CODE_LENGTH))
    return list(codes)


def _insert_codes(shop: Shop, batch: TraceBatch, start: int, count: int) -> None:
    """Insert serials start..start+count-1. A clash with an existing code (vanishingly rare) only
    rolls back this chunk's savepoint, and the chunk is tried again with new codes."""
    for _attempt in range(5):
        rows = [
            TraceCode(shop=shop, batch=batch, code=code, serial=start + i) for i, code in enumerate(_fresh_codes(count))
        ]
        try:
            with transaction.atomic():
                TraceCode.objects.bulk_create(rows)
            return
        except IntegrityError:
            continue
    raise IntegrityError("could not generate unique trace codes")


def trace_batch_create(*, actor, shop: Shop, product, sku=None, name: str, quantity) -> TraceBatch:
    """Make a batch of `quantity` (1..10,000) codes, serials 1..quantity. Audited.

    `product` is a Product of this shop or its public id; `sku` a Sku of that product or its id.
    """
    require(actor, MANAGE, shop_id=shop.pk)
    values = _clean_batch(shop, product=product, sku=sku, name=name, quantity=quantity)
    with transaction.atomic():
        batch = TraceBatch.objects.create(shop=shop, created_by=actor, **values)
        for start in range(1, batch.quantity + 1, INSERT_CHUNK):
            _insert_codes(shop, batch, start, min(INSERT_CHUNK, batch.quantity - start + 1))
        audit_record(
            shop_id=shop.pk,
            actor=actor_user(actor),
            action="trace_batch.create",
            target=batch,
            data={"product": batch.product.public_id, "sku": batch.sku_id, "quantity": batch.quantity},
        )
    return batch


# --- scanning ------------------------------------------------------------------------------


def coarse_place(ip: str | None) -> str:
    """The network a scan came from, never the address itself: an IPv4 /16 or an IPv6 /32."""
    try:
        address = ipaddress.ip_address(str(ip or "").strip())
    except ValueError:
        return ""
    if address.version == 4:
        a, b, _c, _d = str(address).split(".")
        return f"{a}.{b}.*.*"
    return str(ipaddress.ip_network(f"{address}/32", strict=False).network_address).rstrip(":") + "::/32"


_CODE_RE = re.compile(rf"[a-z0-9]{{{CODE_LENGTH}}}")


def _valid_code(code: str) -> bool:
    # Junk from a mistyped URL is refused before it costs a query.
    return bool(_CODE_RE.fullmatch(code))


def trace_code_lookup(*, code: str, shop: Shop | None = None) -> TraceCode:
    """The code with its batch, product and SKU; NotFound when it is not one of ours (or not this shop's)."""
    text = str(code or "").strip().lower()
    if not _valid_code(text):
        raise NotFound(UNKNOWN_MESSAGE, code="trace_unknown")
    qs = TraceCode.objects.select_related("batch__product", "batch__sku")
    if shop is not None:
        qs = qs.filter(shop=shop)
    found = qs.filter(code=text).first()
    if found is None:
        raise NotFound(UNKNOWN_MESSAGE, code="trace_unknown")
    return found


def _distinct_ips(code_id: int) -> int:
    return TraceScan.objects.filter(code_id=code_id).aggregate(n=Count("ip_hash", distinct=True))["n"]


def _clock() -> float:
    return time.time()  # a function of its own so tests can hold the clock still


def _address_key(ip: str | None) -> str | None:
    """Who a budget belongs to, hashed (addresses are not kept): an IPv4 address, or an IPv6 /64
    — one household or phone gets a whole /64, so counting single IPv6 addresses would let one
    caller rotate through billions of them."""
    try:
        address = ipaddress.ip_address(str(ip or "").strip())
    except ValueError:
        return None
    if address.version == 6:
        address = ipaddress.ip_network(f"{address}/64", strict=False).network_address
    return lookup_hash(f"trace-rate:{address}")


def _count(key: str, window: int) -> int:
    """Add one to this fixed window's counter and return the new value, atomically (cache add +
    incr are single operations in Redis and under a lock in local memory)."""
    name = f"siyu:trace:rate:{window}:{int(_clock() // window)}:{key}"
    cache.add(name, 0, timeout=window + 5)
    try:
        return cache.incr(name)
    except ValueError:  # the key expired between add and incr: this is the window's first scan
        cache.add(name, 1, timeout=window + 5)
        return 1


def trace_scan_throttle(*, ip: str | None) -> None:
    """Count one scan page view for the caller's address; RateLimited (429) once it is over the
    minute's or the hour's budget. Without a usable address there is nothing to key on: the scan
    is not limited (the proxy settings, SIYU_TRUSTED_PROXIES, decide what the address is)."""
    key = _address_key(ip)
    if key is None:
        return
    over = False
    for window, setting in SCAN_BUDGETS:
        # every window counts every view, so a burst also spends the hour's budget
        over = _count(key, window) > int(getattr(settings, setting)) or over
    if over:
        raise RateLimited(
            _("Too many scans from your network. Please wait a minute and scan again."),
            code="trace_rate_limited",
        )


def _first_look(code_id: int, ip: str | None) -> bool:
    """True unless this address already scanned this code within the repeat window (claimed
    with one atomic cache add, so of N simultaneous repeats exactly one counts)."""
    seconds = settings.SIYU_TRACE_REPEAT_SECONDS
    key = _address_key(ip)
    if seconds <= 0 or key is None:
        return True
    return cache.add(f"siyu:trace:seen:{code_id}:{key}", 1, timeout=seconds)


def trace_scan(*, code: str, ip: str | None, place: str = "", shop: Shop | None = None) -> ScanResult:
    """Throttle the caller's address, then record one scan and return the code as it stands.

    A repeat by the same address within the repeat window is answered but not recorded. No
    read-compare-write: the count goes up in one UPDATE (F expression), the first-scan time is
    set by an UPDATE that only matches while it is still empty, and the flag is set the same way,
    so N concurrent scans count exactly N and only one of them is "first".
    """
    trace_scan_throttle(ip=ip)
    found = trace_code_lookup(code=code, shop=shop)
    if not _first_look(found.pk, ip):
        return ScanResult(code=found, first_scan=False, suspicious=found.suspicious)
    now = timezone.now()
    with transaction.atomic():
        TraceScan.objects.create(
            code=found, ip_hash=lookup_hash("trace-ip:" + str(ip or "")), place=(place or coarse_place(ip))[:60]
        )
        TraceCode.objects.filter(pk=found.pk).update(scan_count=F("scan_count") + 1)
        first = TraceCode.objects.filter(pk=found.pk, first_scan_at__isnull=True).update(first_scan_at=now) == 1
        found.refresh_from_db(fields=["scan_count", "first_scan_at", "suspicious"])
        if not found.suspicious and (
            found.scan_count > SUSPICIOUS_SCAN_COUNT or _distinct_ips(found.pk) >= SUSPICIOUS_DISTINCT_IPS
        ):
            TraceCode.objects.filter(pk=found.pk, suspicious=False).update(suspicious=True)
            found.suspicious = True
    return ScanResult(code=found, first_scan=first, suspicious=found.suspicious)


# --- labels ----------------------------------------------------------------------------------


def trace_qr_png(*, url: str, box_size: int = 4) -> bytes:
    """The QR image printed on a label; medium error correction survives a scuffed sticker."""
    qr = qrcode.QRCode(border=2, box_size=box_size, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(url)
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image().get_image().save(out, "PNG")
    return out.getvalue()


def trace_qr_data_uri(*, url: str) -> str:
    """The same image inline, so a printable sheet of hundreds of labels is one request."""
    return "data:image/png;base64," + base64.b64encode(trace_qr_png(url=url)).decode("ascii")


# --- reading, for the console --------------------------------------------------------------


def trace_targets(*, shop: Shop) -> list[Product]:
    """Products a batch can be made for, each with its active SKUs (two queries)."""
    skus = Prefetch("skus", queryset=Sku.objects.filter(is_active=True).order_by("pk"))
    return list(Product.objects.filter(shop=shop).prefetch_related(skus).order_by("name", "pk"))


def trace_batches_for_staff(*, shop: Shop) -> QuerySet[TraceBatch]:
    """Newest first, with how many codes were scanned and how many are flagged."""
    return (
        TraceBatch.objects.filter(shop=shop)
        .select_related("product", "sku", "created_by")
        .annotate(
            scanned=Count("codes", filter=Q(codes__scan_count__gt=0)),
            flagged=Count("codes", filter=Q(codes__suspicious=True)),
            last_scan=Subquery(TraceScan.objects.filter(code__batch=OuterRef("pk")).order_by("-at").values("at")[:1]),
        )
        .order_by("-created_at", "-pk")
    )


def trace_batch_for_staff(*, shop: Shop, batch_id: int) -> TraceBatch:
    batch = trace_batches_for_staff(shop=shop).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(detail={"batch": "not found"})
    return batch


def trace_codes_of_batch(*, batch: TraceBatch, flagged_only: bool = False) -> QuerySet[TraceCode]:
    qs = TraceCode.objects.filter(shop_id=batch.shop_id, batch=batch)
    if flagged_only:
        qs = qs.filter(suspicious=True)
    return qs.order_by("serial")


def trace_scans_of_batch(*, batch: TraceBatch, limit: int = RECENT_SCANS) -> list[TraceScan]:
    return list(
        TraceScan.objects.filter(code__batch=batch, code__shop_id=batch.shop_id)
        .select_related("code")
        .order_by("-at", "-pk")[:limit]
    )


def trace_scans_of_code(*, shop: Shop, code: str, limit: int = RECENT_SCANS) -> tuple[TraceCode, list[TraceScan]]:
    found = trace_code_lookup(code=code, shop=shop)
    return found, list(found.scans.order_by("-at", "-pk")[:limit])
