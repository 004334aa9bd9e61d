import pytest
from django.urls import reverse

from siyu.accounts.models import StaffMember
from siyu.accounts.roles import OPERATOR

from ..factories import make_staff
from .helpers import login_client

PAGES = [
    "home",
    "shop_profile",
    "return_policies",
    "staff",
    "tokens",
    "categories",
    "shipping",
    "featured",
    "products",
    "product_create",
]


@pytest.mark.parametrize("name", PAGES)
def test_every_page_needs_sign_in(client, shop, name):
    url = reverse(f"console:{name}")
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("console:login"))
    assert "next=" in response.url


def test_sign_in_with_password_and_next(client, owner):
    url = reverse("console:login")
    response = client.post(url, {"username": "boss", "password": "password123", "next": "/console/products/"})
    assert response.status_code == 302
    assert response.url == "/console/products/"
    assert client.get(reverse("console:home")).status_code == 200


def test_sign_in_ignores_foreign_next(client, owner):
    response = client.post(
        reverse("console:login"), {"username": "boss", "password": "password123", "next": "https://evil.example/"}
    )
    assert response.url == reverse("console:home")


def test_wrong_password_is_refused(client, owner):
    client.cookies["django_language"] = "en"
    response = client.post(reverse("console:login"), {"username": "boss", "password": "nope-nope"})
    assert response.status_code == 400
    assert "The username or password is wrong." in response.content.decode()
    assert client.get(reverse("console:home")).status_code == 302


def test_staff_of_another_shop_cannot_sign_in_here(client, shop, other_owner):
    client.cookies["django_language"] = "en"
    response = client.post(reverse("console:login"), {"username": "rival", "password": "password123"})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    # The answer is the one a wrong password gets, so this page cannot confirm another shop's password.
    wrong = client.post(reverse("console:login"), {"username": "rival", "password": "not-the-password"})
    assert wrong.status_code == 400
    assert _form_errors(response) == _form_errors(wrong) == ["The username or password is wrong."]


def _form_errors(response) -> list[str]:
    return list(response.context["form"].non_field_errors())


def test_admin_site_is_not_served(client, shop):
    assert client.get("/admin/").status_code == 404
    assert client.get("/admin/login/").status_code == 404


def test_staff_of_another_shop_gets_403(shop, other_client):
    response = other_client.get(reverse("console:home"))
    assert response.status_code == 403
    assert "not staff of this shop" in response.content.decode()


def test_other_shop_console_is_reachable_under_its_prefix(other_client):
    assert other_client.get("/s/other/console/").status_code == 200


def test_deactivated_staff_is_locked_out(shop, owner):
    member = make_staff(shop, role=OPERATOR, username="helper")
    client = login_client(member)
    assert client.get(reverse("console:home")).status_code == 200
    StaffMember.objects.filter(pk=member.pk).update(is_active=False)
    assert client.get(reverse("console:home")).status_code == 403


def test_logout_is_post_only(staff_client):
    assert staff_client.get(reverse("console:logout")).status_code == 405
    response = staff_client.post(reverse("console:logout"))
    assert response.url == reverse("console:login")
    assert staff_client.get(reverse("console:home")).status_code == 302


def test_chinese_by_default_english_by_switch(staff_client):
    page = staff_client.get(reverse("console:home")).content.decode()
    assert '<html lang="zh-hans">' in page
    response = staff_client.post(reverse("set_language"), {"language": "en", "next": "/console/"})
    assert response.status_code == 302
    page = staff_client.get(reverse("console:home")).content.decode()
    assert '<html lang="en">' in page
    assert "Dashboard" in page


def test_role_without_staff_permission_gets_403_page(service_client):
    response = service_client.get(reverse("console:staff"))
    assert response.status_code == 403
    assert "Your role does not allow this page." in response.content.decode()
