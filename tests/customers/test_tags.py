"""Manual and automatic tags."""

import pytest

from siyu.accounts.roles import FINANCE
from siyu.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from siyu.customers.models import Customer, CustomerEvent, CustomerTag, Tag
from siyu.customers.tags import (
    auto_tags_apply,
    customer_tag_add,
    customer_tag_remove,
    tag_create,
    tag_delete,
    tag_update_rules,
)
from tests.factories import make_staff

from .test_segments import make_customer

BIG = {"all": [{"field": "total_spent", "op": ">=", "value": 10_000}]}


def _linked(tag) -> dict:
    return dict(CustomerTag.objects.filter(tag=tag).values_list("customer_id", "automatic"))


def test_manual_tag_add_and_remove_write_the_timeline(shop, owner):
    customer = make_customer(shop)
    tag = tag_create(actor=owner, shop=shop, name="老朋友")
    customer_tag_add(actor=owner, customer=customer, tag=tag)
    customer_tag_add(actor=owner, customer=customer, tag=tag)  # twice: still one link, one event
    assert _linked(tag) == {customer.pk: False}
    assert customer_tag_remove(actor=owner, customer=customer, tag=tag.pk) is True
    assert customer_tag_remove(actor=owner, customer=customer, tag=tag) is False
    events = list(CustomerEvent.objects.filter(customer=customer).order_by("id").values_list("kind", "data"))
    assert events == [
        ("tag.added", {"tag": tag.pk, "name": "老朋友"}),
        ("tag.removed", {"tag": tag.pk, "name": "老朋友"}),
    ]
    assert CustomerEvent.objects.filter(customer=customer).first().actor_label == owner.display_name


def test_adding_by_name_makes_the_tag(shop, owner):
    customer = make_customer(shop)
    customer_tag_add(actor=owner, customer=customer, tag=" 团长 ")
    tag = Tag.objects.get(shop=shop, name="团长")
    assert tag.rules is None and _linked(tag) == {customer.pk: False}
    with pytest.raises(NotFound):
        customer_tag_remove(actor=owner, customer=customer, tag="没有这个")


def test_tag_rules_names_and_permissions_are_checked(shop, other_shop, owner):
    tag_create(actor=owner, shop=shop, name="vip")
    with pytest.raises(Conflict):
        tag_create(actor=owner, shop=shop, name="vip")
    with pytest.raises(InvalidInput):
        tag_create(actor=owner, shop=shop, name="x" * 21)
    with pytest.raises(InvalidInput):
        tag_create(actor=owner, shop=shop, name="坏", rules={"all": [{"field": "nope", "op": "=", "value": 1}]})
    with pytest.raises(PermissionDenied):
        tag_create(actor=make_staff(shop, role=FINANCE), shop=shop, name="财务")
    with pytest.raises(PermissionDenied):
        tag_create(actor=owner, shop=other_shop, name="别家")
    foreign = Tag.objects.create(shop=other_shop, name="别家")
    with pytest.raises(NotFound):
        customer_tag_add(actor=owner, customer=make_customer(shop), tag=foreign)


def test_automatic_tag_applies_at_once_and_refuses_hand_edits(shop, owner):
    rich = make_customer(shop, total_spent=20_000)
    poor = make_customer(shop, total_spent=100)
    tag = tag_create(actor=owner, shop=shop, name="高消费", rules=BIG)
    assert _linked(tag) == {rich.pk: True}
    with pytest.raises(Conflict):
        customer_tag_add(actor=owner, customer=poor, tag=tag)
    with pytest.raises(Conflict):
        customer_tag_remove(actor=owner, customer=rich, tag=tag)


def test_auto_tags_add_new_matches_remove_stale_and_keep_manual_links(shop, other_shop, owner):
    rich = make_customer(shop, total_spent=20_000)
    falling = make_customer(shop, total_spent=30_000)
    later = make_customer(shop, total_spent=100)
    kept_by_hand = make_customer(shop, total_spent=50)
    tag = tag_create(actor=owner, shop=shop, name="高消费", rules=BIG)
    # a manual link on an automatic tag (made before the tag got rules) is people's work: never touched
    CustomerTag.objects.create(customer=kept_by_hand, tag=tag, automatic=False)
    manual = tag_create(actor=owner, shop=shop, name="手工")
    customer_tag_add(actor=owner, customer=falling, tag=manual)
    theirs = make_customer(other_shop, total_spent=99_999)

    Customer.objects.filter(pk=falling.pk).update(total_spent=10)
    Customer.objects.filter(pk=later.pk).update(total_spent=15_000)
    result = auto_tags_apply(shop=shop)
    assert result == {"tags": 1, "added": 1, "removed": 1}
    assert _linked(tag) == {rich.pk: True, later.pk: True, kept_by_hand.pk: False}
    assert _linked(manual) == {falling.pk: False}
    assert not CustomerTag.objects.filter(customer=theirs).exists()
    assert auto_tags_apply(shop=shop) == {"tags": 1, "added": 0, "removed": 0}


def test_auto_tags_cost_the_same_queries_for_any_pool_size(shop, owner, django_assert_num_queries):
    tag = tag_create(actor=owner, shop=shop, name="高消费", rules=BIG)
    tag_create(actor=owner, shop=shop, name="杭州", rules={"all": [{"field": "city", "op": "eq", "value": "杭州"}]})

    def run():
        with django_assert_num_queries(9):  # tags; per tag: savepoint, insert … select, delete, release
            return auto_tags_apply(shop=shop)

    for i in range(3):
        make_customer(shop, total_spent=20_000 + i, city="杭州")
    assert run()["added"] == 6
    for i in range(30):
        make_customer(shop, total_spent=20_000 + i, city="杭州" if i % 2 else "上海")
    assert run()["added"] == 45
    assert len(_linked(tag)) == 33


def test_rules_update_and_delete(shop, owner):
    rich = make_customer(shop, total_spent=20_000)
    poor = make_customer(shop, total_spent=100)
    tag = tag_create(actor=owner, shop=shop, name="高消费", rules=BIG)
    tag_update_rules(actor=owner, tag=tag, rules={"all": [{"field": "total_spent", "op": "<", "value": 1000}]})
    assert _linked(tag) == {poor.pk: True}
    with pytest.raises(Conflict):
        tag_update_rules(actor=owner, tag=tag_create(actor=owner, shop=shop, name="手工"), rules=BIG)
    tag_delete(actor=owner, tag=tag)
    assert not Tag.objects.filter(pk=tag.pk).exists()
    assert not CustomerTag.objects.filter(customer__in=[rich, poor]).exists()
