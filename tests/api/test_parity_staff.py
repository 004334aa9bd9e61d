"""API parity with the console's staff page: add a member, change role and name, deactivate
(which ends their sessions and revokes their tokens). Only staff.manage (owners) may; another
shop's staff get 404 for this shop's members."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from siyu.accounts.models import ApiToken, SignedInSession, StaffMember
from siyu.accounts.roles import FINANCE, OPERATOR, OWNER, SERVICE
from siyu.accounts.services import token_issue
from siyu.core.models import AuditEntry

from ..factories import make_staff
from .conftest import API, OTHER_API, bearer


def _send(client, method, url, payload=None, key=None):
    headers = bearer(key) if key else {}
    return getattr(client, method)(url, payload or {}, content_type="application/json", headers=headers)


def _key(member) -> str:
    return token_issue(shop=member.shop, staff=member, name="t")[1]


def test_owner_adds_a_member_who_can_sign_in(api, shop):
    payload = {"username": "xiaomei", "password": "ch4nge-me-soon", "role": SERVICE, "display_name": "小美"}
    response = _send(api, "post", f"{API}/console/staff", payload)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["username"], body["display_name"], body["role"], body["is_active"]) == (
        "xiaomei",
        "小美",
        SERVICE,
        True,
    )
    member = StaffMember.objects.get(pk=body["id"])
    assert member.shop_id == shop.pk and member.user.check_password("ch4nge-me-soon")
    signed_in = Client().post(reverse("console:login"), {"username": "xiaomei", "password": "ch4nge-me-soon"})
    assert signed_in.status_code == 302
    # the same username again is a conflict, not a second account
    again = _send(api, "post", f"{API}/console/staff", {**payload, "display_name": "另一个"})
    assert again.status_code == 409 and again.json()["detail"] == {"username": "xiaomei"}
    assert get_user_model().objects.filter(username="xiaomei").count() == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "ab", "password": "long-enough", "role": SERVICE},
        {"username": "中文名字", "password": "long-enough", "role": SERVICE},
        {"username": "okname", "password": "short", "role": SERVICE},
        {"username": "okname", "password": "long-enough", "role": "boss"},
        {"username": "okname", "password": "long-enough", "role": SERVICE, "display_name": "   "},
        {"username": "okname", "password": "long-enough", "role": SERVICE, "is_superuser": True},
    ],
)
def test_invalid_new_member_is_400(api, shop, payload):
    response = _send(api, "post", f"{API}/console/staff", payload)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_input"
    assert not get_user_model().objects.filter(username="okname").exists()


def test_owner_changes_role_and_name(api, shop, owner):
    member = make_staff(shop, role=SERVICE, username="helper")
    response = _send(api, "patch", f"{API}/console/staff/{member.pk}", {"role": OPERATOR, "display_name": "阿强 "})
    assert response.status_code == 200, response.content
    assert (response.json()["role"], response.json()["display_name"]) == (OPERATOR, "阿强")
    member.refresh_from_db()
    assert (member.role, member.display_name, member.is_active) == (OPERATOR, "阿强", True)
    entry = AuditEntry.objects.filter(action="staff.update").latest("id")
    assert entry.data["from"]["display_name"] == "helper" and entry.data["to"]["role"] == OPERATOR
    # fields left out keep their value
    assert _send(api, "patch", f"{API}/console/staff/{member.pk}", {"display_name": "强哥"}).json()["role"] == OPERATOR
    assert _send(api, "patch", f"{API}/console/staff/{member.pk}", {"display_name": ""}).status_code == 400


def test_deactivation_ends_sessions_and_revokes_tokens(api, shop, owner):
    member = make_staff(shop, role=OPERATOR, username="helper")
    their_key = _key(member)
    browser = Client()
    assert browser.post(reverse("console:login"), {"username": "helper", "password": "password123"}).status_code == 302
    assert browser.get(f"{API}/console/products").status_code == 200
    assert Client().get(f"{API}/console/products", headers=bearer(their_key)).status_code == 200

    response = _send(api, "post", f"{API}/console/staff/{member.pk}/deactivate")

    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False
    assert not SignedInSession.objects.filter(user=member.user).exists()
    assert browser.get(f"{API}/console/products").status_code == 401
    assert Client().get(f"{API}/console/products", headers=bearer(their_key)).status_code == 401
    assert not ApiToken.objects.filter(staff=member, revoked_at__isnull=True).exists()
    # re-activating brings the person back, not the old token
    back = _send(api, "patch", f"{API}/console/staff/{member.pk}", {"is_active": True})
    assert back.status_code == 200 and back.json()["is_active"] is True
    assert Client().get(f"{API}/console/products", headers=bearer(their_key)).status_code == 401


def test_the_last_active_owner_stays(api, shop, owner):
    for response in (
        _send(api, "post", f"{API}/console/staff/{owner.pk}/deactivate"),
        _send(api, "patch", f"{API}/console/staff/{owner.pk}", {"role": FINANCE}),
    ):
        assert response.status_code == 409 and response.json()["code"] == "last_owner"
    owner.refresh_from_db()
    assert owner.is_active and owner.role == OWNER


@pytest.mark.parametrize("role", [OPERATOR, SERVICE, FINANCE])
def test_roles_without_staff_manage_are_refused(client, shop, owner, role):
    member = make_staff(shop, role=role)
    target = make_staff(shop, role=SERVICE, username="target")
    client.force_login(member.user)  # by session: service and finance may not hold tokens
    key = None
    for response in (
        _send(
            client,
            "post",
            f"{API}/console/staff",
            {"username": "sneaky", "password": "long-enough", "role": OWNER},
            key,
        ),
        _send(client, "patch", f"{API}/console/staff/{target.pk}", {"role": OWNER}, key),
        _send(client, "patch", f"{API}/console/staff/{member.pk}", {"role": OWNER}, key),
        _send(client, "post", f"{API}/console/staff/{target.pk}/deactivate", None, key),
    ):
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "permission_denied"
    target.refresh_from_db()
    member.refresh_from_db()
    assert (target.role, target.is_active, member.role) == (SERVICE, True, role)
    assert not get_user_model().objects.filter(username="sneaky").exists()


def test_shopper_token_is_not_staff(client, shop, owner, shopper_key):
    response = _send(client, "post", f"{API}/console/staff/{owner.pk}/deactivate", None, shopper_key)
    assert response.status_code == 401


def test_other_shops_owner_gets_404_for_this_shops_members(client, shop, owner, other_key):
    member = make_staff(shop, role=SERVICE, username="mine")
    for response in (
        _send(client, "patch", f"{OTHER_API}/console/staff/{member.pk}", {"role": OWNER}, other_key),
        _send(client, "post", f"{OTHER_API}/console/staff/{member.pk}/deactivate", None, other_key),
        _send(client, "post", f"{OTHER_API}/console/staff/{owner.pk}/deactivate", None, other_key),
    ):
        assert response.status_code == 404, response.content
    member.refresh_from_db()
    owner.refresh_from_db()
    assert (member.role, member.is_active, owner.is_active) == (SERVICE, True, True)
    # and a member it adds belongs to its own shop
    created = _send(
        client,
        "post",
        f"{OTHER_API}/console/staff",
        {"username": "theirs", "password": "long-enough", "role": SERVICE},
        other_key,
    )
    assert created.status_code == 201
    assert StaffMember.objects.get(pk=created.json()["id"]).shop.slug == "other"
