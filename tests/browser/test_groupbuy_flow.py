"""A group buy on two phones: shopper A opens a 2-person group from the product page's panel and
pays (sandbox); shopper B, in a browser of their own, opens A's share link, signs in by SMS code,
joins and pays; the group page then shows the group formed. Screenshots of each step."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.accounts.services import address_create
from siyu.orders.models import Order
from siyu.promotions.groupbuys.campaigns import groupbuy_create
from siyu.promotions.groupbuys.models import Group, GroupMember, GroupStatus, MemberStatus

from ..factories import ShopFactory, make_product, make_shopper, make_staff

pytestmark = pytest.mark.django_db(transaction=True)
LEADER, FRIEND = "13912345671", "13912345672"


def _shopper_with_address(phone: str, shop, recipient: str):
    shopper = make_shopper(phone)
    address_create(
        shop=shop,
        shopper=shopper,
        data={
            "recipient": recipient,
            "phone": phone,
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "detail": "文三路 1 号",
        },
    )
    return shopper


@pytest.fixture
def group_shop():
    shop = ShopFactory(slug="main", name="私域优选", is_default=True)
    owner = make_staff(shop, username="boss")
    product = make_product(shop, name="阳山水蜜桃", price=5900, stock=20)
    now = timezone.now()
    campaign = groupbuy_create(
        actor=owner,
        shop=shop,
        data={
            "name": "水蜜桃两人团",
            "product": product.public_id,
            "prices": [{"sku_id": product.skus.get().pk, "group_price": 3900}],
            "group_size": 2,
            "hours": 24,
            "starts_at": now - timedelta(hours=1),
            "ends_at": now + timedelta(days=3),
        },
    )
    leader = _shopper_with_address(LEADER, shop, "团长")
    friend = _shopper_with_address(FRIEND, shop, "好友")
    return product, campaign, leader, friend


def _sign_in(page, phone: str) -> None:
    """On the sign-in page (where a protected page sent us): ask for a code, type it in."""
    from siyu.accounts import sms

    page.wait_for_url("**/login/**")
    sms.outbox.clear()
    page.fill("#phone", phone)
    page.locator("button[value=send]").click()
    page.wait_for_selector(".ok")
    page.fill("#code", re.search(r"\d{6}", sms.outbox[-1][1])[0])
    page.locator("button[value=login]").click()


def _place_and_pay(page) -> None:
    page.wait_for_url("**/checkout/**")
    assert page.locator("#grand-total").inner_text() == "¥39.00"  # the group price, not the single ¥59.00
    page.locator("#place-order").click()
    page.wait_for_url("**/pay/")
    page.locator("#pay-sandbox").click()
    page.wait_for_url("**/pay/sandbox/**")
    page.locator("#sandbox-confirm").click()
    page.wait_for_url("**/orders/**")


def _phone(browser):
    return browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )


def test_open_a_group_share_it_and_a_friend_joins_and_it_forms(live_server, group_shop, browser, screenshot_dir):
    product, campaign, leader, friend = group_shop
    base = live_server.url

    # Shopper A: the product page's panel opens a group at the group price.
    first = _phone(browser)
    a = first.new_page()
    a.goto(f"{base}/p/{product.public_id}/")
    panel = a.locator("#group-panel")
    assert "39.00" in panel.inner_text()
    a.screenshot(path=str(screenshot_dir / "groupbuy-product-panel.png"), full_page=True)
    panel.locator("#group-open").click()
    _sign_in(a, LEADER)
    _place_and_pay(a)
    group = Group.objects.get(leader=leader)
    assert group.status == GroupStatus.OPEN and group.joined == 1
    a.goto(f"{base}/me/groups/")
    a.locator(f"a[href='/groups/{group.public_id}/']").click()
    a.wait_for_selector("#group-page[data-status=open]")
    assert a.locator("#group-members .avatar.empty").count() == 1  # one seat left
    share_url = a.locator("#share-url").input_value()
    assert f"/groups/{group.public_id}/" in share_url and f"ref={leader.share_code}" in share_url
    a.screenshot(path=str(screenshot_dir / "groupbuy-leader-shares.png"), full_page=True)

    # Shopper B, on another phone: the share link, sign in by SMS code, join and pay.
    second = _phone(browser)
    b = second.new_page()
    b.goto(share_url.replace("http://testserver", base))
    b.wait_for_selector("#group-page[data-status=open]")
    b.screenshot(path=str(screenshot_dir / "groupbuy-friend-opens-link.png"), full_page=True)
    b.locator("#group-join").click()
    _sign_in(b, FRIEND)
    b.wait_for_url("**/checkout/**")
    b.screenshot(path=str(screenshot_dir / "groupbuy-friend-checkout.png"), full_page=True)
    _place_and_pay(b)

    b.goto(f"{base}/groups/{group.public_id}/")
    b.wait_for_selector("#group-page[data-status=formed]")
    assert b.locator("#group-members .avatar").count() == 2 and b.locator("#group-members .avatar.empty").count() == 0
    assert b.locator("#group-join").count() == 0
    b.screenshot(path=str(screenshot_dir / "groupbuy-formed.png"), full_page=True)

    group.refresh_from_db()
    assert group.status == GroupStatus.FORMED and group.joined == 2
    members = GroupMember.objects.filter(group=group).order_by("id")
    assert [(m.shopper_id, m.status) for m in members] == [
        (leader.pk, MemberStatus.JOINED),
        (friend.pk, MemberStatus.JOINED),
    ]
    orders = Order.objects.filter(group_member__group=group)
    assert {o.fulfilment_hold for o in orders} == {""}  # formed: both may ship now
    assert {o.lines.get().unit_price for o in orders} == {3900}
    first.close()
    second.close()
