from django.urls import reverse

from siyu.accounts.models import ApiToken, StaffMember
from siyu.accounts.services import token_authenticate

from .helpers import login_client


def test_add_staff_and_they_can_sign_in(en_client, client, shop):
    response = en_client.post(
        reverse("console:staff"),
        {"username": "xiaoli", "display_name": "小李", "password": "secret-123", "role": "service"},
    )
    assert response.status_code == 302
    member = StaffMember.objects.get(shop=shop, user__username="xiaoli")
    assert (member.role, member.display_name) == ("service", "小李")
    response = client.post(reverse("console:login"), {"username": "xiaoli", "password": "secret-123"})
    assert response.status_code == 302


def test_add_staff_errors(en_client, shop, owner):
    response = en_client.post(reverse("console:staff"), {"username": "boss", "password": "secret-123", "role": "owner"})
    assert response.status_code == 409
    assert "This username is taken." in response.content.decode()
    response = en_client.post(reverse("console:staff"), {"username": "a", "password": "short", "role": "owner"})
    assert response.status_code == 400
    assert StaffMember.objects.filter(shop=shop).count() == 1


def test_change_role_and_deactivate(en_client, shop, owner):
    en_client.post(reverse("console:staff"), {"username": "helper", "password": "secret-123", "role": "operator"})
    member = StaffMember.objects.get(user__username="helper")
    url = reverse("console:staff_update", args=[member.pk])
    assert en_client.post(url, {f"m{member.pk}-role": "finance"}).status_code == 302
    member.refresh_from_db()
    assert (member.role, member.is_active) == ("finance", False)


def test_last_owner_cannot_be_removed(en_client, owner):
    url = reverse("console:staff_update", args=[owner.pk])
    response = en_client.post(url, {f"m{owner.pk}-role": "service", f"m{owner.pk}-is_active": "on"})
    assert response.status_code == 409
    assert "A shop needs at least one active owner." in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == "owner"


def test_operator_cannot_manage_staff(shop, owner):
    from ..factories import make_staff

    client = login_client(make_staff(shop, role="operator", username="helper"))
    assert client.get(reverse("console:staff")).status_code == 403
    assert (
        client.post(reverse("console:staff_update", args=[owner.pk]), {f"m{owner.pk}-role": "service"}).status_code
        == 403
    )
    assert (
        client.post(
            reverse("console:staff"), {"username": "sneaky", "password": "secret-123", "role": "owner"}
        ).status_code
        == 403
    )
    assert not StaffMember.objects.filter(user__username="sneaky").exists()


def test_token_shown_once_then_revoked(en_client, owner):
    url = reverse("console:tokens")
    response = en_client.post(url, {"name": "ERP"})
    assert response.status_code == 200
    key = response.context["new_key"]
    assert key.startswith("sy_") and key in response.content.decode()
    assert token_authenticate(key=key).staff_id == owner.pk
    page = en_client.get(url).content.decode()
    assert key not in page and key[:9] in page
    token = ApiToken.objects.get(staff=owner)
    assert en_client.post(reverse("console:token_revoke", args=[token.pk])).status_code == 302
    assert token_authenticate(key=key) is None


def test_service_role_cannot_issue_tokens(service_client):
    response = service_client.post(reverse("console:tokens"), {"name": "x"})
    assert response.status_code == 403
    assert not ApiToken.objects.exists()
