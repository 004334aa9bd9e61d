"""Social accounts: capacity, warnings near the limit, where new customers should go, and links."""

import pytest

from siyu.accounts.roles import FINANCE, SERVICE
from siyu.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from siyu.customers.models import CustomerEvent, SocialAccount, SocialLink
from siyu.customers.selectors import social_accounts_for_staff
from siyu.customers.social import (
    Capacity,
    social_account_save,
    social_capacity,
    social_link_set,
    social_suggest_account,
)
from tests.console.customer_helpers import make_customer, make_customers
from tests.factories import make_staff


def friends(account, customers, status=SocialLink.Status.ADDED):
    SocialLink.objects.bulk_create([SocialLink(account=account, customer=c, status=status) for c in customers])


@pytest.mark.parametrize(
    ("n", "capacity", "warning", "full", "free", "percent"),
    [
        (0, 5000, False, False, 5000, 0),
        (4499, 5000, False, False, 501, 89),
        (4500, 5000, True, False, 500, 90),
        (5000, 5000, True, True, 0, 100),
        (5003, 5000, True, True, 0, 100),  # capacity lowered below the friends it has
        (9, 10, True, False, 1, 90),
        (8, 10, False, False, 2, 80),
    ],
)
def test_capacity_thresholds(n, capacity, warning, full, free, percent):
    cap = Capacity(friends=n, capacity=capacity)
    assert (cap.warning, cap.full, cap.free, cap.percent) == (warning, full, free, percent)


def test_default_capacity_is_5000_and_counts_only_friends(shop, owner):
    account = social_account_save(actor=owner, shop=shop, data={"name": "店长微信"})
    assert account.capacity == 5000 and account.kind == "wechat"
    customers = make_customers(shop, 6)
    friends(account, customers[:3])
    friends(account, customers[3:5], SocialLink.Status.INVITED)
    friends(account, customers[5:], SocialLink.Status.DELETED)
    annotated = social_accounts_for_staff(shop=shop).get()
    assert (annotated.friends, annotated.invited, annotated.deleted) == (3, 2, 1)
    assert social_capacity(annotated).friends == 3
    assert social_capacity(SocialAccount.objects.get(pk=account.pk)).friends == 3  # without the annotation


def test_suggestion_is_the_account_with_the_most_room(shop, owner):
    assert social_suggest_account(shop=shop) is None
    small = social_account_save(actor=owner, shop=shop, data={"name": "小号", "capacity": 10})
    big = social_account_save(actor=owner, shop=shop, data={"name": "大号", "capacity": 12})
    customers = make_customers(shop, 16)
    friends(small, customers[:2])  # 8 left
    friends(big, customers[2:5])  # 9 left
    assert social_suggest_account(shop=shop) == big
    friends(big, customers[5:7], SocialLink.Status.INVITED)  # invitations take room too: 7 left
    assert social_suggest_account(shop=shop) == small
    friends(big, customers[7:9], SocialLink.Status.DELETED)  # deleted friends free their place
    assert social_suggest_account(shop=shop) == small
    friends(small, customers[9:16])  # 1 left on small
    assert social_suggest_account(shop=shop) == big


def test_equal_room_goes_to_the_oldest_and_full_accounts_are_never_suggested(shop, owner):
    first = social_account_save(actor=owner, shop=shop, data={"name": "一号", "capacity": 2})
    second = social_account_save(actor=owner, shop=shop, data={"name": "二号", "capacity": 2})
    assert social_suggest_account(shop=shop) == first
    customers = make_customers(shop, 4)
    friends(first, customers[:2])
    assert social_suggest_account(shop=shop) == second
    friends(second, customers[2:])
    assert social_suggest_account(shop=shop) is None


def test_link_statuses_events_and_the_capacity_limit(shop, owner):
    account = social_account_save(actor=owner, shop=shop, data={"name": "客服", "capacity": 1})
    a, b = make_customer(shop), make_customer(shop)
    link = social_link_set(
        actor=owner, shop=shop, account_id=account.pk, customer_public_id=a.public_id, status="invited"
    )
    assert link.status == "invited"
    social_link_set(actor=owner, shop=shop, account_id=account.pk, customer_public_id=a.public_id, status="added")
    social_link_set(actor=owner, shop=shop, account_id=account.pk, customer_public_id=a.public_id, status="added")
    assert SocialLink.objects.get(customer=a).status == "added"
    kinds = list(CustomerEvent.objects.filter(customer=a).order_by("id").values_list("kind", flat=True))
    assert kinds == ["social.invited", "social.added"]  # setting the same status twice records it once
    with pytest.raises(Conflict) as refused:
        social_link_set(actor=owner, shop=shop, account_id=account.pk, customer_public_id=b.public_id, status="added")
    assert refused.value.code == "account_full"
    # inviting is still possible, and a deleted friend makes room
    social_link_set(actor=owner, shop=shop, account_id=account.pk, customer_public_id=b.public_id, status="invited")
    social_link_set(actor=owner, shop=shop, account_id=account.pk, customer_public_id=a.public_id, status="deleted")
    social_link_set(actor=owner, shop=shop, account_id=account.pk, customer_public_id=b.public_id, status="added")
    assert dict(SocialLink.objects.values_list("customer_id", "status")) == {a.pk: "deleted", b.pk: "added"}


def test_bad_input_permissions_and_tenancy(shop, other_shop, owner):
    with pytest.raises(InvalidInput) as bad:
        social_account_save(actor=owner, shop=shop, data={"name": "", "kind": "qq", "capacity": "lots"})
    assert set(bad.value.detail) == {"name", "kind", "capacity"}
    with pytest.raises(InvalidInput):
        social_account_save(actor=owner, shop=shop, data={"name": "x", "capacity": 0})
    rival = make_staff(other_shop, username="rival")
    with pytest.raises(NotFound) as bad_owner:  # another shop's staff member is missing, as at every door
        social_account_save(actor=owner, shop=shop, data={"name": "x", "owner_id": rival.pk})
    assert bad_owner.value.detail == {"owner_id": rival.pk}
    with pytest.raises(InvalidInput) as not_an_id:
        social_account_save(actor=owner, shop=shop, data={"name": "x", "owner_id": "me"})
    assert not_an_id.value.detail == {"owner_id": "not a whole number"}
    account = social_account_save(actor=owner, shop=shop, data={"name": "我的"})
    theirs = SocialAccount.objects.create(shop=other_shop, name="别人的")
    customer = make_customer(shop)
    their_customer = make_customer(other_shop)
    with pytest.raises(NotFound):
        social_account_save(actor=owner, shop=shop, account_id=theirs.pk, data={"name": "抢来的"})
    with pytest.raises(NotFound):
        social_link_set(
            actor=owner, shop=shop, account_id=theirs.pk, customer_public_id=customer.public_id, status="added"
        )
    with pytest.raises(NotFound):
        social_link_set(
            actor=owner, shop=shop, account_id=account.pk, customer_public_id=their_customer.public_id, status="added"
        )
    with pytest.raises(InvalidInput):
        social_link_set(
            actor=owner, shop=shop, account_id=account.pk, customer_public_id=customer.public_id, status="x"
        )
    finance = make_staff(shop, role=FINANCE, username="caiwu")
    with pytest.raises(PermissionDenied):
        social_account_save(actor=finance, shop=shop, data={"name": "x"})
    with pytest.raises(PermissionDenied):
        social_link_set(
            actor=rival, shop=shop, account_id=account.pk, customer_public_id=customer.public_id, status="added"
        )
    service = make_staff(shop, role=SERVICE, username="kefu")
    edited = social_account_save(
        actor=service, shop=shop, account_id=account.pk, data={"name": "改名", "capacity": 200}
    )
    assert (edited.name, edited.capacity) == ("改名", 200)
    theirs.refresh_from_db()
    assert theirs.name == "别人的"
