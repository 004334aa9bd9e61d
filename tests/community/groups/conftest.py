"""Fixtures and steps for community-group tests."""

import pytest

from siyu.community.groups.services import group_create
from siyu.customers.stats import customer_for_shopper
from tests.distribution.promoter_steps import address_for, approved_promoter
from tests.factories import make_product, make_shopper
from tests.orders.helpers import pay, place


def new_group(shop, owner, **data):
    data.setdefault("name", "西湖宝妈群")
    return group_create(actor=owner, shop=shop, data=data)


def buy(shop, shopper, product, *, quantity=1, paid=True, **extra):
    """Place (and pay) an order of `product` by `shopper`, with an address of their own."""
    order = place(shop, shopper, address_for(shop, shopper), product, quantity=quantity, **extra)
    if paid:
        pay(order)
    order.refresh_from_db()
    return order


@pytest.fixture
def group(shop, owner):
    return new_group(shop, owner)


@pytest.fixture
def tea(shop):
    return make_product(shop, name="龙井", price=10000, stock=1000)


@pytest.fixture
def leader(shop, owner):
    """An approved promoter who leads a group, with the group set to reward them."""
    promoter = approved_promoter(shop, owner)
    customer = customer_for_shopper(shop=shop, shopper=promoter.shopper)
    led = new_group(shop, owner, name="团长群", leader_customer=customer.public_id, reward_leader=True)
    return promoter, led


@pytest.fixture
def buyer(db):
    return make_shopper()
