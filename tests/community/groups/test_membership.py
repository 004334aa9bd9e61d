"""Membership: joining through the link (sign in, then join), leaving, staff adding and removing,
and one shop's staff never reaching another shop's groups or customers."""

import pytest
from django.urls import reverse

from siyu.community.groups.models import GroupMember
from siyu.community.groups.services import group_join, group_leave, group_member_add, group_member_remove
from siyu.core.errors import Conflict, NotFound, PermissionDenied
from siyu.core.models import AuditEntry
from siyu.customers.stats import customer_for_shopper
from tests.factories import make_shopper, make_staff, sign_in_shopper

from .conftest import new_group

pytestmark = pytest.mark.django_db


def test_join_page_asks_an_anonymous_visitor_to_sign_in_first(client, group):
    url = reverse("storefront:group_join", args=[group.code])
    page = client.get(url)
    assert page.status_code == 200 and "group-sign-in" in page.content.decode()
    answer = client.post(url)
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("storefront:login"))
    assert not GroupMember.objects.exists()


def test_signed_in_shopper_joins_once_and_leaves(client, shop, group, buyer):
    sign_in_shopper(client, buyer)
    url = reverse("storefront:group_join", args=[group.code])
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302  # a second join is a no-op
    member = GroupMember.objects.get()
    assert (member.group, member.customer.shopper, member.source) == (group, buyer, GroupMember.Source.LINK)
    assert "group-joined" in client.get(url).content.decode()
    mine = client.get(reverse("storefront:my_groups")).content.decode()
    assert group.name in mine
    assert client.post(reverse("storefront:group_leave", args=[group.code])).status_code == 302
    assert not GroupMember.objects.exists()
    assert group_leave(shop=shop, shopper=buyer, code=group.code) is False


def test_join_service_is_idempotent(shop, group, buyer):
    first = group_join(shop=shop, shopper=buyer, code=group.code)
    again = group_join(shop=shop, shopper=buyer, code=group.code)
    assert first.created and not again.created and first.member.pk == again.member.pk


def test_staff_add_and_remove_by_id_or_phone(shop, owner, group, buyer):
    customer = customer_for_shopper(shop=shop, shopper=buyer)
    member = group_member_add(actor=owner, shop=shop, group_id=group.public_id, customer=customer.public_id)
    assert member.source == GroupMember.Source.STAFF
    with pytest.raises(Conflict) as twice:
        group_member_add(actor=owner, shop=shop, group_id=group.public_id, customer=buyer.phone)
    assert twice.value.code == "already_member"
    group_member_remove(actor=owner, shop=shop, group_id=group.public_id, customer=buyer.phone)
    assert not GroupMember.objects.exists()
    with pytest.raises(NotFound):
        group_member_remove(actor=owner, shop=shop, group_id=group.public_id, customer=customer.public_id)
    actions = list(
        AuditEntry.objects.filter(action__startswith="group.member").order_by("id").values_list("action", flat=True)
    )
    assert actions == ["group.member_add", "group.member_remove"]


def test_service_staff_may_manage_members_but_a_viewer_may_not(shop, owner, group, buyer):
    from siyu.accounts.roles import FINANCE

    customer = customer_for_shopper(shop=shop, shopper=buyer)
    finance = make_staff(shop, role=FINANCE, username="cashier")
    with pytest.raises(PermissionDenied):
        group_member_add(actor=finance, shop=shop, group_id=group.public_id, customer=customer.public_id)


def test_other_shops_staff_and_customers_are_out_of_reach(shop, other_shop, owner, group, buyer):
    theirs = make_staff(other_shop, username="boss2")
    with pytest.raises(NotFound):
        group_member_add(actor=theirs, shop=other_shop, group_id=group.public_id, customer="x")
    with pytest.raises(PermissionDenied):
        group_member_add(actor=theirs, shop=shop, group_id=group.public_id, customer="x")
    their_customer = customer_for_shopper(shop=other_shop, shopper=make_shopper())
    with pytest.raises(NotFound):
        group_member_add(actor=owner, shop=shop, group_id=group.public_id, customer=their_customer.public_id)
    their_group = new_group(other_shop, theirs, name="隔壁群")
    with pytest.raises(NotFound):
        group_join(shop=shop, shopper=buyer, code=their_group.code)


def test_other_shops_staff_get_404_in_the_console(staff_client, other_shop, group):
    client = staff_client
    theirs = new_group(other_shop, make_staff(other_shop, username="boss2"), name="隔壁群")
    assert client.get(reverse("console:group_detail", args=[theirs.public_id])).status_code == 404
    assert client.get(reverse("console:group_detail", args=[group.public_id])).status_code == 200
    listing = client.get(reverse("console:groups")).content.decode()
    assert group.name in listing and theirs.name not in listing
