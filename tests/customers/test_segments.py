"""Segments: SQL results against a plain-Python evaluation of the same generated data."""

import itertools
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siyu.accounts.roles import FINANCE
from siyu.catalog.models import Category
from siyu.core.crypto import lookup_hash
from siyu.core.errors import Conflict, InvalidInput, PermissionDenied
from siyu.customers.models import Customer, CustomerTag, ExternalOrder, Segment, SegmentMember, Tag
from siyu.customers.segments import (
    segment_evaluate,
    segment_export,
    segment_preview_count,
    segment_queryset,
    segment_save,
)
from siyu.orders.models import Order, OrderLine
from tests.factories import make_product, make_shopper, make_staff

_n = itertools.count(1)
CITIES = ["上海", "杭州", "北京", "成都"]
PROVINCES = ["上海", "浙江", "北京", "四川"]
STAGES = ["prospect", "new", "active", "at_risk", "dormant", "lost"]
SOURCES = ["store", "taobao", "jd", "pdd", "import", "manual"]
ITEMS = ["西湖龙井 x2", "红茶礼盒", "咖啡豆 1kg", "", "龙井 & 红茶"]
COUNTED = {"paid", "partially_shipped", "shipped", "completed"}


# --- helpers shared with the other test files of this area ------------------------------------


def make_customer(shop, *, shopper=None, **fields) -> Customer:
    n = next(_n)
    phone = shopper.phone if shopper else f"137{n:08d}"
    return Customer.objects.create(
        shop=shop, shopper=shopper, public_id=f"c{n:011d}", phone_hash=lookup_hash(phone), phone=phone, **fields
    )


def paid_order(shop, shopper, products, *, paid_at, status="completed", refunded=False) -> Order:
    """An order as checkout and payment would leave it, without going through them."""
    n = next(_n)
    order = Order.objects.create(
        shop=shop,
        public_id=f"o{n:012d}",
        number=f"N{n:012d}",
        shopper=shopper,
        status=status,
        idempotency_key=f"k{n}",
        subtotal=1000 * len(products),
        total=1000 * len(products),
        paid_amount=1000 * len(products),
        recipient="张三",
        phone=shopper.phone,
        province="浙江",
        city="杭州",
        district="西湖区",
        address_detail="文三路 1 号",
        pay_deadline=paid_at,
        paid_at=paid_at,
    )
    for product in products:
        OrderLine.objects.create(
            order=order,
            shop=shop,
            sku=product.skus.first(),
            product=product,
            product_name=product.name,
            unit_price=1000,
            quantity=1,
            line_total=1000,
            return_policy=product.return_policy,
            refunded_quantity=1 if refunded else 0,
            refunded_amount=1000 if refunded else 0,
        )
    return order


# --- the generated pool -----------------------------------------------------------------------


@dataclass
class Person:
    pk: int
    shop: str
    total_spent: int
    order_count: int
    last_order_at: datetime | None
    first_order_at: datetime | None
    city: str
    province: str
    lifecycle: str
    rfm: dict
    source: str
    consent: bool
    anonymized: bool
    tags: set = field(default_factory=set)  # tag ids
    bought: set = field(default_factory=set)  # product ids in counted orders
    items: list = field(default_factory=list)


@dataclass
class Pool:
    shop: object
    now: datetime
    people: list
    tags: dict  # name -> id (main shop)
    products: dict  # key -> product
    categories: dict  # key -> category


def _when(rng, now):
    # whole hours plus 30 minutes, so no row sits on a "N days ago" boundary while the test runs
    return now - timedelta(days=rng.randint(0, 500), hours=rng.randint(0, 23), minutes=30)


def _generate(shop, other_shop, rng, count=260) -> Pool:
    now = timezone.now()
    cats = {"tea": Category.objects.create(shop=shop, name="茶")}
    cats["green"] = Category.objects.create(shop=shop, name="绿茶", parent=cats["tea"])
    cats["coffee"] = Category.objects.create(shop=shop, name="咖啡")
    products = {
        "longjing": make_product(shop, name="龙井", category=cats["green"]),
        "black": make_product(shop, name="红茶", category=cats["tea"]),
        "beans": make_product(shop, name="咖啡豆", category=cats["coffee"]),
        "cup": make_product(shop, name="杯子"),
    }
    tags = {name: Tag.objects.create(shop=shop, name=name).pk for name in ("vip", "新客", "老客", "复购")}
    foreign_vip = Tag.objects.create(shop=other_shop, name="vip")
    people = []
    for i in range(count):
        shop_of = other_shop if i % 13 == 0 else shop
        last = _when(rng, now) if rng.random() < 0.85 else None
        first = (last - timedelta(days=rng.randint(0, 300))) if last else None
        shopper = make_shopper() if rng.random() < 0.8 else None
        c = make_customer(
            shop_of,
            shopper=shopper,
            total_spent=rng.randint(0, 100_000),
            order_count=rng.randint(0, 20),
            last_order_at=last,
            first_order_at=first,
            city=rng.choice(CITIES),
            province=rng.choice(PROVINCES),
            lifecycle=rng.choice(STAGES),
            rfm_r=rng.randint(0, 5),
            rfm_f=rng.randint(0, 5),
            rfm_m=rng.randint(0, 5),
            source=rng.choice(SOURCES),
            marketing_consent_at=now if rng.random() < 0.5 else None,
            anonymized_at=now if rng.random() < 0.04 else None,
        )
        p = Person(
            c.pk,
            "main" if shop_of == shop else "other",
            c.total_spent,
            c.order_count,
            last,
            first,
            c.city,
            c.province,
            c.lifecycle,
            {"r": c.rfm_r, "f": c.rfm_f, "m": c.rfm_m},
            c.source,
            c.marketing_consent_at is not None,
            c.anonymized_at is not None,
        )
        for name in rng.sample(sorted(tags), rng.randint(0, 3)):
            if shop_of == shop:
                CustomerTag.objects.create(customer=c, tag_id=tags[name], automatic=rng.random() < 0.3)
                p.tags.add(tags[name])
        if shop_of == other_shop and rng.random() < 0.5:
            CustomerTag.objects.create(customer=c, tag=foreign_vip)
        if shopper is not None:
            for _o in range(rng.randint(0, 3)):
                status = rng.choice(["completed", "paid", "shipped", "cancelled", "pending_payment"])
                keys = rng.sample(sorted(products), rng.randint(1, 2))
                # the other shop sells nothing here: these orders are for the main shop's products only
                if shop_of == shop:
                    paid_order(shop, shopper, [products[k] for k in keys], paid_at=_when(rng, now), status=status)
                    if status in COUNTED:
                        p.bought |= {products[k].pk for k in keys}
        for _e in range(rng.randint(0, 2)):
            text = rng.choice(ITEMS)
            ExternalOrder.objects.create(
                shop=shop_of,
                customer=c,
                source="taobao",
                external_id=f"e{next(_n)}",
                placed_at=_when(rng, now),
                amount=rng.randint(100, 9000),
                items=text,
            )
            p.items.append(text)
        people.append(p)
    return Pool(shop, now, people, tags, products, cats)


@pytest.fixture
def pool(shop, other_shop) -> Pool:
    return _generate(shop, other_shop, random.Random(20240501))


# --- the plain-Python evaluation --------------------------------------------------------------


def _start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _num(op, have, want) -> bool:
    if op == "between":
        return want[0] <= have <= want[1]
    return {
        "=": have == want,
        "!=": have != want,
        ">": have > want,
        ">=": have >= want,
        "<": have < want,
        "<=": have <= want,
    }[op]


def _date(op, have, want, now) -> bool:
    if have is None:
        return False
    if op == "before":
        return have < _start(date.fromisoformat(want))
    if op == "after":
        return have >= _start(date.fromisoformat(want) + timedelta(days=1))
    if op == "within_days":
        return have >= now - timedelta(days=want)
    return have < now - timedelta(days=want)


def _category_products(pool: Pool, ids) -> set:
    return {
        p.pk for p in pool.products.values() if p.category_id and (p.category_id in ids or p.category.parent_id in ids)
    }


def _fen(value) -> int:
    return value if isinstance(value, int) else round(float(value) * 100)


def _cond(pool: Pool, p: Person, c: dict) -> bool:
    f, op, v = c["field"], c["op"], c["value"]
    if f == "tags":
        wanted = [pool.tags.get(x, -1) if isinstance(x, str) else x for x in v]
        hits = [w in p.tags for w in wanted]
        return any(hits) if op == "has_any" else all(hits) if op == "has_all" else not any(hits)
    if f == "total_spent":
        want = [_fen(x) for x in v] if op == "between" else _fen(v)
        return _num(op, p.total_spent, want)
    if f == "order_count":
        return _num(op, p.order_count, v)
    if f in ("rfm_r", "rfm_f", "rfm_m"):
        return _num(op, p.rfm[f[-1]], v)
    if f in ("last_order_at", "first_order_at"):
        return _date(op, getattr(p, f), v, pool.now)
    if f in ("product", "category"):
        ids = set(v) if f == "product" else _category_products(pool, set(v))
        return bool(p.bought & ids) == (op == "bought")
    if f == "imported_items":
        return any(v in text for text in p.items) == (op == "contains")
    if f == "marketing_consent":
        return p.consent == v
    have = getattr(p, f)
    return {"eq": have == v, "ne": have != v, "in": have in v, "not_in": have not in v}[op]


def _matches(pool: Pool, p: Person, node: dict) -> bool:
    if "field" in node:
        return _cond(pool, p, node)
    if "all" in node:
        return all(_matches(pool, p, item) for item in node["all"])
    return any(_matches(pool, p, item) for item in node["any"])


def expected(pool: Pool, rules: dict) -> set:
    return {p.pk for p in pool.people if p.shop == "main" and not p.anonymized and _matches(pool, p, rules)}


def actual(pool: Pool, rules: dict) -> set:
    return set(segment_queryset(shop=pool.shop, rules=rules, now=pool.now).values_list("pk", flat=True))


# --- every condition type, one at a time and nested -------------------------------------------


def _case_conditions(pool: Pool) -> list[dict]:
    t, pr, cat = pool.tags, pool.products, pool.categories
    return [
        {"field": "tags", "op": "has_any", "value": [t["vip"], "新客"]},
        {"field": "tags", "op": "has_all", "value": ["vip", t["老客"]]},
        {"field": "tags", "op": "has_none", "value": ["vip"]},
        {"field": "tags", "op": "has_any", "value": ["no such tag"]},
        {"field": "total_spent", "op": ">=", "value": 50_000},
        {"field": "total_spent", "op": "<", "value": "123.45"},
        {"field": "total_spent", "op": "between", "value": ["100", 60_000]},
        {"field": "total_spent", "op": "!=", "value": 0},
        {"field": "order_count", "op": "=", "value": 3},
        {"field": "order_count", "op": ">", "value": 10},
        {"field": "order_count", "op": "<=", "value": 2},
        {"field": "last_order_at", "op": "within_days", "value": 90},
        {"field": "last_order_at", "op": "more_than_days_ago", "value": 180},
        {"field": "last_order_at", "op": "before", "value": (pool.now - timedelta(days=100)).date().isoformat()},
        {"field": "first_order_at", "op": "after", "value": (pool.now - timedelta(days=300)).date().isoformat()},
        {"field": "first_order_at", "op": "within_days", "value": 400},
        {"field": "product", "op": "bought", "value": [pr["longjing"].pk]},
        {"field": "product", "op": "not_bought", "value": [pr["beans"].pk, pr["cup"].pk]},
        {"field": "category", "op": "bought", "value": [cat["tea"].pk]},  # includes the 绿茶 sub-category
        {"field": "category", "op": "bought", "value": [cat["green"].pk]},
        {"field": "category", "op": "not_bought", "value": [cat["coffee"].pk]},
        {"field": "imported_items", "op": "contains", "value": "龙井"},
        {"field": "imported_items", "op": "not_contains", "value": "红茶"},
        {"field": "city", "op": "eq", "value": "杭州"},
        {"field": "city", "op": "not_in", "value": ["上海", "北京"]},
        {"field": "province", "op": "in", "value": ["浙江", "四川"]},
        {"field": "province", "op": "ne", "value": "上海"},
        {"field": "lifecycle", "op": "in", "value": ["active", "at_risk"]},
        {"field": "lifecycle", "op": "not_in", "value": ["prospect"]},
        {"field": "rfm_r", "op": ">=", "value": 4},
        {"field": "rfm_f", "op": "<=", "value": 2},
        {"field": "rfm_m", "op": "=", "value": 5},
        {"field": "source", "op": "in", "value": ["taobao", "jd"]},
        {"field": "source", "op": "eq", "value": "store"},
        {"field": "marketing_consent", "op": "is", "value": True},
        {"field": "marketing_consent", "op": "is", "value": False},
    ]


def test_every_condition_matches_the_python_count(pool):
    nonempty = 0
    for condition in _case_conditions(pool):
        rules = {"all": [condition]}
        want = expected(pool, rules)
        assert actual(pool, rules) == want, condition
        assert segment_preview_count(shop=pool.shop, rules=rules) == len(segment_queryset(shop=pool.shop, rules=rules))
        nonempty += bool(want)
    # the generated data must exercise the conditions, or the comparison proves nothing
    assert nonempty >= len(_case_conditions(pool)) - 2


def test_nested_and_or_groups(pool):
    c = _case_conditions(pool)
    rules = {
        "any": [
            {"all": [c[0], c[4], {"any": [c[16], c[21]]}]},
            {"all": [c[23], {"any": [c[11], {"all": [c[29], c[34]]}]}]},
            {"all": [c[2], c[18], c[26]]},
        ]
    }
    want = expected(pool, rules)
    assert 0 < len(want) < len([p for p in pool.people if p.shop == "main"])
    assert actual(pool, rules) == want
    assert actual(pool, {"all": []}) == expected(pool, {"all": []})  # everyone (not anonymised)
    assert actual(pool, {"any": []}) == set()


def test_one_query_whatever_the_rules(pool, django_assert_num_queries):
    c = _case_conditions(pool)
    rules = {"all": [c[0], {"any": [c[16], c[18], c[21]]}, c[11], c[29]]}
    with django_assert_num_queries(1):
        assert segment_preview_count(shop=pool.shop, rules=rules) == len(expected(pool, rules))


def _rule_trees(pool: Pool):
    leaves = st.sampled_from(_case_conditions(pool))
    return st.recursive(
        leaves,
        lambda inner: st.builds(
            lambda kind, items: {kind: items}, st.sampled_from(["all", "any"]), st.lists(inner, min_size=1, max_size=3)
        ),
        max_leaves=8,
    ).map(lambda node: node if "field" not in node else {"all": [node]})


def test_random_rule_trees_match_python(pool):
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(data=st.data())
    def check(data):
        rules = data.draw(_rule_trees(pool))
        try:
            got = actual(pool, rules)
        except InvalidInput:  # deeper than allowed: refused, never evaluated
            return
        assert got == expected(pool, rules), rules

    check()


# --- bad rules are refused with detail --------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "path"),
    [
        ({"field": "city", "op": "eq", "value": "上海"}, ""),
        ({"all": [{"field": "height", "op": "=", "value": 1}]}, "all.0.field"),
        ({"all": [{"field": "city", "op": "like", "value": "上"}]}, "all.0.op"),
        ({"all": [{"field": "order_count", "op": ">=", "value": "3"}]}, "all.0.value"),
        ({"all": [{"field": "order_count", "op": ">=", "value": True}]}, "all.0.value"),
        ({"all": [{"field": "rfm_r", "op": ">=", "value": 6}]}, "all.0.value"),
        ({"all": [{"field": "total_spent", "op": ">=", "value": "12.345"}]}, "all.0.value"),
        ({"all": [{"field": "total_spent", "op": "between", "value": [500, 100]}]}, "all.0.value"),
        ({"all": [{"field": "last_order_at", "op": "before", "value": "2024-13-01"}]}, "all.0.value"),
        ({"all": [{"field": "tags", "op": "has_any", "value": []}]}, "all.0.value"),
        ({"all": [{"field": "lifecycle", "op": "in", "value": ["vip"]}]}, "all.0.value"),
        ({"all": [{"field": "marketing_consent", "op": "is", "value": "yes"}]}, "all.0.value"),
        ({"all": [{"field": "city", "op": "eq", "value": "上海", "extra": 1}]}, "all.0"),
        ({"all": [], "any": []}, ""),
        ({"none": []}, ""),
        ({"all": {"field": "city"}}, ""),
        ({"all": [{"any": [{"all": [{"any": [{"all": []}]}]}]}]}, "all.0.any.0.all.0.any.0"),
        ({"all": [{"field": "city", "op": "eq", "value": "上海"}] * 31}, "all.30"),
        ("{not json", ""),
        ([1, 2], ""),
    ],
)
def test_bad_rules_are_refused(shop, rules, path):
    with pytest.raises(InvalidInput) as caught:
        segment_queryset(shop=shop, rules=rules)
    assert caught.value.detail["path"] == path
    assert caught.value.detail["rules"]


def test_four_levels_and_thirty_conditions_are_allowed(shop):
    leaf = {"field": "city", "op": "eq", "value": "上海"}
    assert segment_preview_count(shop=shop, rules={"all": [{"any": [{"all": [{"any": [leaf]}]}]}]}) == 0
    assert segment_preview_count(shop=shop, rules={"all": [leaf] * 30}) == 0
    assert segment_preview_count(shop=shop, rules='{"all": [{"field": "city", "op": "eq", "value": "x"}]}') == 0


# --- saved segments ---------------------------------------------------------------------------


def test_save_evaluates_in_sql_and_reevaluation_replaces_members(pool, owner, django_assert_num_queries):
    rules = {"all": [{"field": "total_spent", "op": ">=", "value": 50_000}]}
    segment = segment_save(actor=owner, shop=pool.shop, name="高消费", rules=rules)
    want = expected(pool, rules)
    assert segment.member_count == len(want) > 0 and segment.evaluated_at is not None
    assert set(SegmentMember.objects.filter(segment=segment).values_list("customer_id", flat=True)) == want

    top = max(want)
    Customer.objects.filter(pk=top).update(total_spent=0)
    newly = next(p.pk for p in pool.people if p.shop == "main" and not p.anonymized and p.pk not in want)
    Customer.objects.filter(pk=newly).update(total_spent=99_999)
    segment.refresh_from_db()
    # lock, delete, insert … select, update: the same few statements for any number of members
    with django_assert_num_queries(6):
        segment_evaluate(segment=segment)
    members = set(SegmentMember.objects.filter(segment=segment).values_list("customer_id", flat=True))
    assert members == (want - {top}) | {newly}
    segment.refresh_from_db()
    assert segment.member_count == len(members)


def test_save_under_the_same_name_replaces_rules_and_needs_permission(pool, owner):
    first = segment_save(
        actor=owner, shop=pool.shop, name="杭州", rules={"all": [{"field": "city", "op": "eq", "value": "杭州"}]}
    )
    again = segment_save(
        actor=owner, shop=pool.shop, name="杭州", rules={"all": [{"field": "city", "op": "eq", "value": "成都"}]}
    )
    assert again.pk == first.pk and Segment.objects.filter(shop=pool.shop).count() == 1
    assert again.member_count == len(expected(pool, {"all": [{"field": "city", "op": "eq", "value": "成都"}]}))
    finance = make_staff(pool.shop, role=FINANCE)
    with pytest.raises(PermissionDenied):
        segment_save(actor=finance, shop=pool.shop, name="x", rules={"all": []})
    with pytest.raises(InvalidInput):
        segment_save(actor=owner, shop=pool.shop, name=" ", rules={"all": []})
    with pytest.raises(InvalidInput):
        segment_save(actor=owner, shop=pool.shop, name="坏规则", rules={"all": [{"field": "nope"}]})
    assert not Segment.objects.filter(name="坏规则").exists()


def test_renaming_to_a_name_another_segment_holds_is_a_409(pool, owner):
    hangzhou = segment_save(actor=owner, shop=pool.shop, name="杭州", rules={"all": []})
    chengdu = segment_save(actor=owner, shop=pool.shop, name="成都", rules={"all": []})
    with pytest.raises(Conflict) as exc:
        segment_save(actor=owner, shop=pool.shop, name="杭州", rules={"any": []}, segment=chengdu)
    assert (exc.value.code, exc.value.status, exc.value.detail) == ("segment_name_taken", 409, {"name": "杭州"})
    assert set(Segment.objects.filter(shop=pool.shop).values_list("name", flat=True)) == {"杭州", "成都"}
    renamed = segment_save(actor=owner, shop=pool.shop, name="杭州老客", rules={"any": []}, segment=hangzhou)
    assert renamed.pk == hangzhou.pk and Segment.objects.get(pk=hangzhou.pk).name == "杭州老客"


def test_a_segment_that_matches_nobody(pool, owner):
    segment = segment_save(actor=owner, shop=pool.shop, name="空", rules={"any": []})
    assert segment.member_count == 0 and not SegmentMember.objects.filter(segment=segment).exists()


def test_segment_of_another_shop_never_includes_this_shop(pool, other_shop, owner):
    other_owner = make_staff(other_shop)
    seg = segment_save(
        actor=other_owner,
        shop=other_shop,
        name="vip",
        rules={"all": [{"field": "tags", "op": "has_any", "value": ["vip"]}]},
    )
    mine = {p.pk for p in pool.people if p.shop == "main"}
    members = set(SegmentMember.objects.filter(segment=seg).values_list("customer_id", flat=True))
    assert members and not members & mine


def test_export_streams_masked_rows(pool, owner, django_assert_num_queries):
    rules = {"all": [{"field": "city", "op": "eq", "value": "杭州"}]}
    segment = segment_save(actor=owner, shop=pool.shop, name="杭州", rules=rules)
    Customer.objects.filter(pk=min(expected(pool, rules))).update(name="=HYPERLINK(1)")
    rows = segment_export(segment=segment)
    header = next(rows)
    assert header[0] == "public_id" and "phone" in header
    with django_assert_num_queries(1):
        body = list(rows)
    assert len(body) == segment.member_count
    phones = [row[header.index("phone")] for row in body]
    assert all("****" in phone and len(phone) == 11 for phone in phones)
    assert "'=HYPERLINK(1)" in [row[1] for row in body]
    assert all(row[header.index("city")] == "杭州" for row in body)
