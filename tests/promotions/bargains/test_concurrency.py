"""PostgreSQL, real threads: twenty friends help a bargain that needs ten at the same moment."""

import pytest

from siyu.promotions.bargains.campaigns import campaign_create
from siyu.promotions.bargains.models import Bargain, BargainHelp
from siyu.promotions.bargains.services import bargain_help, bargain_start

from ...concurrency import run_parallel
from ...factories import make_shopper
from .conftest import campaign_data

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_parallel_helps_on_a_bargain_needing_ten(postgres_only, shop, owner, sku, settings):
    settings.SIYU_BARGAIN_HELPS_PER_IP_HOUR = 1000
    campaign = campaign_create(actor=owner, shop=shop, data=campaign_data(sku, helps_needed=10))
    bargain = bargain_start(shop=shop, shopper=make_shopper(), campaign_id=campaign.public_id).bargain
    helpers = [make_shopper() for _ in range(20)]

    def help_once(helper):
        return bargain_help(shop=shop, helper=helper, bargain_id=bargain.public_id, ip="10.1.2.3")

    results = run_parallel(help_once, [(h,) for h in helpers])
    made = [r for r in results if isinstance(r, BargainHelp)]
    refused = [r for r in results if not isinstance(r, BargainHelp)]
    assert len(made) == 10 and len(refused) == 10
    assert {r.code for r in refused} == {"bargain_done"}
    bargain.refresh_from_db()
    assert bargain.helps_done == 10 and bargain.current_price == bargain.floor_price == 1000
    assert sorted(h.position for h in BargainHelp.objects.filter(bargain=bargain)) == list(range(1, 11))
    assert sum(BargainHelp.objects.filter(bargain=bargain).values_list("cut", flat=True)) == 4000
    assert Bargain.objects.filter(current_price__lt=1000).count() == 0


def test_the_same_friend_helping_twice_at_once_counts_once(postgres_only, shop, owner, sku):
    campaign = campaign_create(actor=owner, shop=shop, data=campaign_data(sku, helps_needed=10))
    bargain = bargain_start(shop=shop, shopper=make_shopper(), campaign_id=campaign.public_id).bargain
    friend = make_shopper()
    results = run_parallel(
        lambda: bargain_help(shop=shop, helper=friend, bargain_id=bargain.public_id), [() for _ in range(8)]
    )
    assert sum(isinstance(r, BargainHelp) for r in results) == 1
    bargain.refresh_from_db()
    assert bargain.helps_done == 1
