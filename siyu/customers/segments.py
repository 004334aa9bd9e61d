"""Segments: rule sets over the customer pool, evaluated in SQL.

Rules are JSON: a group is {"all": [...]} or {"any": [...]}, and its items are groups or conditions
{"field": ..., "op": ..., "value": ...}. Groups nest up to MAX_DEPTH levels, with at most
MAX_CONDITIONS conditions in all. Every rule set becomes one queryset (Q objects and EXISTS
subqueries), so a segment of 100,000 customers costs one statement, never a Python loop.

Dates in "before"/"after" are whole days in the shop's time zone: "before 2024-05-01" means earlier
than that day began, "after 2024-05-01" means once that day was over.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import IntegrityError, connections, transaction
from django.db.models import Exists, F, Field, Model, OuterRef, Q, QuerySet, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.core.audit import audit_record
from siyu.core.crypto import mask_phone
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.money import format_yuan
from siyu.core.permissions import actor_user, require
from siyu.core.spreadsheets import safe_cell
from siyu.orders.models import OrderLine
from siyu.shops.models import Shop

from .models import Customer, CustomerTag, ExternalOrder, Lifecycle, Segment, SegmentMember, Source
from .segment_fields import registered_fields
from .segment_values import DAY, FEN, FLAG, IDS, TAGS, TEXT, TEXTS, Bad, Check, choice, choices, int_in, pair
from .segment_values import MAX_LIST as MAX_LIST  # the API schema states it
from .stats import COUNTED

MAX_DEPTH = 4
MAX_CONDITIONS = 30
PERM = "customers.manage"


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class Group:
    kind: str  # all | any
    items: tuple


_Bad = Bad  # the parser's name for a value's refusal (segment_values raises it)


# --- fields: op -> value check ----------------------------------------------------------------

_COMPARE = {"=": "exact", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
_SCORE_OPS = {op: int_in(1, 5) for op in ("=", ">=", "<=")}
_DATE_OPS = {
    "before": DAY,
    "after": DAY,
    "within_days": int_in(0, 36500),
    "more_than_days_ago": int_in(0, 36500),
}
_LIFECYCLES = [value for value, _label in Lifecycle.choices]
_SOURCES = [value for value, _label in Source.choices]

_COUNT = int_in(0, 10**9)

FIELDS: dict[str, dict[str, Check]] = {
    "tags": {"has_any": TAGS, "has_all": TAGS, "has_none": TAGS},
    "total_spent": {**{op: FEN for op in (*_COMPARE, "!=")}, "between": pair(FEN)},
    "order_count": {**{op: _COUNT for op in (*_COMPARE, "!=")}, "between": pair(_COUNT)},
    "last_order_at": _DATE_OPS,
    "first_order_at": _DATE_OPS,
    "product": {"bought": IDS, "not_bought": IDS},
    "category": {"bought": IDS, "not_bought": IDS},
    "imported_items": {"contains": TEXT, "not_contains": TEXT},
    "city": {"eq": TEXT, "ne": TEXT, "in": TEXTS, "not_in": TEXTS},
    "province": {"eq": TEXT, "ne": TEXT, "in": TEXTS, "not_in": TEXTS},
    "lifecycle": {"in": choices(_LIFECYCLES), "not_in": choices(_LIFECYCLES)},
    "rfm_r": _SCORE_OPS,
    "rfm_f": _SCORE_OPS,
    "rfm_m": _SCORE_OPS,
    "source": {"eq": choice(_SOURCES), "in": choices(_SOURCES), "not_in": choices(_SOURCES)},
    "marketing_consent": {"is": FLAG},
}


def _field_ops() -> dict[str, dict[str, Check]]:
    """FIELDS, then the fields higher domains registered (segment_fields); a built-in name wins."""
    extra = {name: field.ops for name, field in registered_fields().items() if name not in FIELDS}
    return {**FIELDS, **extra}


def rules_vocabulary() -> dict[str, dict[str, dict]]:
    """FIELDS (and the registered fields) as data for an editor: each field's operators and the value
    each takes (its kind, range and choices), so a rule builder offers exactly what rules_parse accepts."""
    return {name: {op: check.describe() for op, check in ops.items()} for name, ops in _field_ops().items()}


# --- parsing ----------------------------------------------------------------------------------


def rules_parse(rules: Any) -> Group:
    """Check a rule set strictly and return its tree. Raises InvalidInput with the failing path."""
    if isinstance(rules, str | bytes):
        try:
            rules = json.loads(rules)
        except ValueError:
            raise InvalidInput(detail={"rules": "not valid JSON", "path": ""}) from None
    counter = [0]
    try:
        node = _parse_node(rules, path="", depth=1, counter=counter)
        if not isinstance(node, Group):
            raise _Bad('the rules must be a group: {"all": [...]} or {"any": [...]}')
    except _BadAt as bad:
        raise InvalidInput(detail={"rules": bad.reason, "path": bad.path}) from None
    except _Bad as bad:
        raise InvalidInput(detail={"rules": str(bad), "path": ""}) from None
    return node


class _BadAt(Exception):
    def __init__(self, reason: str, path: str):
        super().__init__(reason)
        self.reason, self.path = reason, path


def _parse_node(node: Any, *, path: str, depth: int, counter: list[int]) -> Group | Condition:
    if not isinstance(node, dict):
        raise _BadAt("expected a group or a condition", path)
    if "field" in node:
        counter[0] += 1
        if counter[0] > MAX_CONDITIONS:
            raise _BadAt(f"at most {MAX_CONDITIONS} conditions", path)
        return _parse_condition(node, path=path)
    if len(node) != 1 or next(iter(node)) not in ("all", "any"):
        raise _BadAt('a group has exactly one key, "all" or "any"', path)
    if depth > MAX_DEPTH:
        raise _BadAt(f"groups nest at most {MAX_DEPTH} deep", path)
    kind, items = next(iter(node.items()))
    if not isinstance(items, list):
        raise _BadAt("a group holds a list", path)
    where = f"{path}.{kind}" if path else kind
    parsed = tuple(
        _parse_node(item, path=f"{where}.{i}", depth=depth + 1, counter=counter) for i, item in enumerate(items)
    )
    return Group(kind=kind, items=parsed)


def _parse_condition(node: dict, *, path: str) -> Condition:
    extra = set(node) - {"field", "op", "value"}
    if extra or "op" not in node or "value" not in node:
        raise _BadAt("a condition has exactly field, op and value", path)
    field, op = node["field"], node["op"]
    fields = _field_ops()
    if not isinstance(field, str) or field not in fields:
        raise _BadAt(f"unknown field {field!r}", f"{path}.field")
    if not isinstance(op, str) or op not in fields[field]:
        raise _BadAt(f"unknown op {op!r} for {field}; expected one of {', '.join(fields[field])}", f"{path}.op")
    try:
        value = fields[field][op](node["value"])
    except _Bad as bad:
        raise _BadAt(str(bad), f"{path}.value") from None
    return Condition(field=field, op=op, value=value)


def segment_rules_validate(rules: Any) -> dict:
    """The rules as a dict, once they pass every check (for storing on a segment or a tag)."""
    rules_parse(rules)
    return json.loads(rules) if isinstance(rules, str | bytes) else rules


# --- building the query -----------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _q_date(field: str, op: str, value: Any, now: datetime) -> Q:
    if op == "before":
        return Q(**{f"{field}__lt": _day_start(value)})
    if op == "after":
        return Q(**{f"{field}__gte": _day_start(value + timedelta(days=1))})
    if op == "within_days":
        return Q(**{f"{field}__gte": now - timedelta(days=value)})
    return Q(**{f"{field}__lt": now - timedelta(days=value)})


def _q_number(field: str, op: str, value: Any) -> Q:
    if op == "between":
        return Q(**{f"{field}__gte": value[0], f"{field}__lte": value[1]})
    if op == "!=":
        return ~Q(**{field: value})
    return Q(**{f"{field}__{_COMPARE[op]}": value})


def _q_tags(shop_id: int, op: str, refs: tuple) -> Q:
    def having(some: tuple) -> Exists:
        ids = [r for r in some if isinstance(r, int)]
        names = [r.strip() for r in some if isinstance(r, str)]
        match = Q(tag_id__in=ids) | Q(tag__name__in=names)
        return Exists(CustomerTag.objects.filter(match, customer=OuterRef("pk"), tag__shop_id=shop_id))

    if op == "has_all":
        q = Q()
        for ref in refs:
            q &= Q(having((ref,)))
        return q
    return Q(having(refs)) if op == "has_any" else ~Q(having(refs))


def _q_bought(shop_id: int, field: str, op: str, ids: tuple) -> Q:
    lines = OrderLine.objects.filter(
        shop_id=shop_id, order__shopper_id=OuterRef("shopper_id"), order__status__in=COUNTED
    )
    if field == "product":
        lines = lines.filter(product_id__in=ids)
    else:  # a top category covers its sub-categories
        lines = lines.filter(Q(product__category_id__in=ids) | Q(product__category__parent_id__in=ids))
    return Q(Exists(lines)) if op == "bought" else ~Q(Exists(lines))


def _q_condition(shop_id: int, c: Condition, now: datetime) -> Q:
    if c.field not in FIELDS:  # a registered field (rules_parse checked it is one)
        return registered_fields()[c.field].build(c.op, c.value)
    if c.field == "tags":
        return _q_tags(shop_id, c.op, c.value)
    if c.field in ("total_spent", "order_count", "rfm_r", "rfm_f", "rfm_m"):
        return _q_number(c.field, c.op, c.value)
    if c.field in ("last_order_at", "first_order_at"):
        return _q_date(c.field, c.op, c.value, now)
    if c.field in ("product", "category"):
        return _q_bought(shop_id, c.field, c.op, c.value)
    if c.field == "imported_items":
        has = Exists(ExternalOrder.objects.filter(customer=OuterRef("pk"), items__icontains=c.value))
        return Q(has) if c.op == "contains" else ~Q(has)
    if c.field == "marketing_consent":
        return Q(marketing_consent_at__isnull=not c.value)
    # city, province, lifecycle, source: plain columns
    if c.op == "eq":
        return Q(**{c.field: c.value})
    if c.op == "ne":
        return ~Q(**{c.field: c.value})
    q = Q(**{f"{c.field}__in": list(c.value)})
    return q if c.op == "in" else ~q


def _q_node(shop_id: int, node: Group | Condition, now: datetime) -> Q:
    if isinstance(node, Condition):
        return _q_condition(shop_id, node, now)
    parts = [_q_node(shop_id, item, now) for item in node.items]
    if node.kind == "all":
        q = Q()
        for part in parts:
            q &= part
        return q
    if not parts:
        return Q(pk__in=[])  # an empty "any" matches nobody
    q = parts[0]
    for part in parts[1:]:
        q |= part
    return q


def segment_queryset(*, shop: Shop, rules: Any, now: datetime | None = None) -> QuerySet[Customer]:
    """The shop's customers matching `rules`, as one lazy queryset. Anonymised customers never match."""
    return customers_matching(shop_id=shop.pk, rules=rules, now=now)


def customers_matching(*, shop_id: int, rules: Any, now: datetime | None = None) -> QuerySet[Customer]:
    """segment_queryset by shop id, for callers holding a row that only knows its shop's id."""
    q = _q_node(shop_id, rules_parse(rules), now or timezone.now())
    return Customer.objects.filter(shop_id=shop_id, anonymized_at__isnull=True).filter(q)


def segment_preview_count(*, shop: Shop, rules: Any) -> int:
    return segment_queryset(shop=shop, rules=rules).count()


# --- saved segments ---------------------------------------------------------------------------


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or field.column is None:
        raise ValueError(f"{name} is not a column of {model.__name__}")
    return field.column


def insert_from_select(model: type[Model], columns: list[str], qs: QuerySet) -> int:
    """INSERT INTO model (columns) SELECT … — `qs` must select only annotations, named and ordered
    like `columns`, so the compiled SELECT lists them in that order. Returns rows inserted."""
    compiler = qs.order_by().query.get_compiler(using=qs.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # rules that can match nobody, such as an empty "any"
        return 0
    selected = list(qs._fields)  # type: ignore[attr-defined]  # the names given to .values(); not in the stubs
    if [alias for *_rest, alias in compiler.select] != selected or len(columns) != len(selected):
        raise ValueError("select only annotations, in the order of the columns")
    connection = connections[qs.db]
    quote = connection.ops.quote_name
    names = ", ".join(quote(_column(model, c)) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} ({names}) {sql}", params)
        return cursor.rowcount


def _name(name: Any) -> str:
    name = str(name or "").strip()
    if not 1 <= len(name) <= 40:
        raise InvalidInput(detail={"name": "required, at most 40 characters"})
    return name


def segment_save(*, actor, shop: Shop, name: str, rules: Any, segment: Segment | None = None) -> Segment:
    """Create a segment, or change `segment` (its name and rules), then evaluate it at once.
    Saving a new segment under the name of another of the shop's segments replaces that one's
    rules; renaming a segment to a name another one holds is refused (409 segment_name_taken).

    No check-then-act: the unique (shop, name) constraint decides. A new name is inserted with ON
    CONFLICT DO NOTHING and the row is then locked, so parallel saves of one name all land on the
    same segment; a rename is written in a savepoint and a clash becomes the 409, never a 500.
    Locks: the segment row (then segment_evaluate's lock of the same row)."""
    require(actor, PERM, shop_id=shop.pk)
    rules = segment_rules_validate(rules)
    name = _name(name)
    with transaction.atomic():
        if segment is None:
            Segment.objects.bulk_create([Segment(shop=shop, name=name, rules=rules)], ignore_conflicts=True)
            segment = Segment.objects.select_for_update().get(shop=shop, name=name)
            segment.rules = rules
            segment.save(update_fields=["rules"])
        else:
            if segment.shop_id != shop.pk:
                raise InvalidInput(detail={"segment": "not in this shop"})
            segment = _segment_rename(segment, name=name, rules=rules)
        audit_record(
            shop_id=shop.pk, actor=actor_user(actor), action="segment.save", target=segment, data={"rules": rules}
        )
        segment_evaluate(segment=segment)
    return segment


def _segment_rename(segment: Segment, *, name: str, rules: dict) -> Segment:
    locked = Segment.objects.select_for_update().filter(pk=segment.pk).first()
    if locked is None:
        raise NotFound(detail={"segment": segment.pk})
    locked.name, locked.rules = name, rules
    try:
        with transaction.atomic():
            locked.save(update_fields=["name", "rules"])
    except IntegrityError:
        raise Conflict(
            _("Another segment already has this name."), code="segment_name_taken", detail={"name": name}
        ) from None
    return locked


def segment_delete(*, actor, segment: Segment) -> None:
    require(actor, PERM, shop_id=segment.shop_id)
    with transaction.atomic():
        audit_record(shop_id=segment.shop_id, actor=actor_user(actor), action="segment.delete", target=segment)
        segment.delete()


def segment_evaluate(*, segment: Segment) -> Segment:
    """Replace the members with whoever matches now: one DELETE and one INSERT … SELECT.
    Locks the segment row, so two evaluations of one segment run one after the other."""
    with transaction.atomic():
        Segment.objects.select_for_update().filter(pk=segment.pk).first()
        SegmentMember.objects.filter(segment_id=segment.pk).delete()
        matching = (
            customers_matching(shop_id=segment.shop_id, rules=segment.rules)
            .annotate(m_segment=Value(segment.pk), m_customer=F("pk"))
            .values_list("m_segment", "m_customer")
        )
        count = insert_from_select(SegmentMember, ["segment", "customer"], matching)
        segment.member_count, segment.evaluated_at = count, timezone.now()
        Segment.objects.filter(pk=segment.pk).update(member_count=count, evaluated_at=segment.evaluated_at)
    return segment


def segments_evaluate_all(*, shop: Shop) -> dict:
    """Nightly: every saved segment of the shop. A segment whose stored rules no longer pass the
    checks is skipped and reported, so one bad segment does not stop the rest."""
    done, failed = 0, []
    for segment in Segment.objects.filter(shop=shop):
        try:
            segment_evaluate(segment=segment)
            done += 1
        except InvalidInput as error:
            failed.append({"segment": segment.pk, "detail": error.detail})
    return {"evaluated": done, "failed": failed}


EXPORT_HEADER = "public_id name phone province city source lifecycle order_count total_spent last_order_at rfm".split()
_EXPORT_FIELDS = "public_id name phone province city source lifecycle order_count total_spent last_order_at".split()


def segment_export(*, segment: Segment) -> Iterator[list[str]]:
    """CSV rows (header first) of the segment's members as last evaluated. Phones are masked: an
    export is a list, and unmasked personal data is only shown one customer at a time."""
    yield list(EXPORT_HEADER)
    members = (
        Customer.objects.filter(Exists(SegmentMember.objects.filter(segment_id=segment.pk, customer=OuterRef("pk"))))
        .order_by("pk")
        .values_list(*_EXPORT_FIELDS, "rfm_r", "rfm_f", "rfm_m")
    )
    for pid, name, phone, province, city, source, stage, count, spent, last, *rfm in members.iterator(chunk_size=2000):
        last_text = timezone.localtime(last).strftime("%Y-%m-%d %H:%M") if last else ""
        texts = [safe_cell(name), mask_phone(phone or ""), safe_cell(province), safe_cell(city)]
        yield [pid, *texts, source, stage, str(count), format_yuan(spent), last_text, "".join(map(str, rfm))]
