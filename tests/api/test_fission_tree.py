"""The console's referral tree: anyone who referred someone has a tree, two levels shown nested."""

import pytest

from siyu.customers.stats import customer_for_shopper
from siyu.referrals.models import ReferralBinding

from ..factories import make_shopper
from .conftest import API

pytestmark = pytest.mark.django_db


def _bind(shop, referrer, referee):
    ReferralBinding.objects.create(
        shop=shop, referee=referee, referrer_shopper=referrer, code=referrer.share_code, expires_at="2099-01-01T00:00Z"
    )


def test_tree_of_a_referrer_nests_friends_of_friends(api, shop):
    sharer, friend, friend_of_friend = make_shopper(), make_shopper(), make_shopper()
    _bind(shop, sharer, friend)
    _bind(shop, friend, friend_of_friend)
    customer = customer_for_shopper(shop=shop, shopper=sharer)

    response = api.get(f"{API}/console/fission/tree/{customer.public_id}", {"depth": 2})

    assert response.status_code == 200, response.content
    [node] = response.json()
    assert node["shopper_id"] == friend.pk and node["revenue_fen"] == 0 and node["orders"] == 0
    [child] = node["children"]
    assert child["shopper_id"] == friend_of_friend.pk and child["depth"] == 2 and child["children"] == []
