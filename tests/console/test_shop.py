from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from siyu.shops.models import Shop

from ..factories import image_upload, make_product


def test_profile_is_saved(en_client, shop):
    response = en_client.post(
        reverse("console:shop_profile"),
        {
            "name": "新店名",
            "slogan": "好物",
            "audience": "宝妈",
            "description": "介绍",
            "default_return_policy": "quality_only",
        },
    )
    assert response.status_code == 302
    shop.refresh_from_db()
    assert (shop.name, shop.slogan, shop.audience, shop.default_return_policy) == (
        "新店名",
        "好物",
        "宝妈",
        "quality_only",
    )
    assert "The shop profile is saved." in en_client.get(reverse("console:shop_profile")).content.decode()


def test_profile_errors_are_shown(en_client, shop):
    response = en_client.post(reverse("console:shop_profile"), {"name": "  ", "default_return_policy": "bogus"})
    assert response.status_code == 400
    assert Shop.objects.get(pk=shop.pk).name == "私域优选"


def test_logo_and_banner_upload(en_client, shop):
    assert (
        en_client.post(reverse("console:shop_image", args=["logo"]), {"logo-image": image_upload()}).status_code == 302
    )
    assert (
        en_client.post(
            reverse("console:shop_image", args=["banner"]), {"banner-image": image_upload(size=(900, 400))}
        ).status_code
        == 302
    )
    shop.refresh_from_db()
    assert shop.logo and shop.banner and shop.banner_thumb
    assert en_client.post(reverse("console:shop_image", args=["avatar"]), {}).status_code == 404


def test_non_image_logo_is_refused(en_client, shop):
    fake = SimpleUploadedFile("logo.png", b"GIF89a not really", content_type="image/png")
    response = en_client.post(reverse("console:shop_image", args=["logo"]), {"logo-image": fake})
    assert response.status_code == 400
    assert "not a readable image" in response.content.decode()
    shop.refresh_from_db()
    assert not shop.logo


def test_missing_file_is_a_form_error(en_client, shop):
    response = en_client.post(reverse("console:shop_image", args=["logo"]), {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_service_role_cannot_change_profile(service_client, shop):
    response = service_client.post(
        reverse("console:shop_profile"), {"name": "抢走", "default_return_policy": "no_returns"}
    )
    assert response.status_code == 403
    assert Shop.objects.get(pk=shop.pk).name == "私域优选"


def test_return_policies_counts_and_default(en_client, shop):
    make_product(shop, name="A")
    make_product(shop, name="B", return_policy="no_returns")
    make_product(shop, name="C", return_policy="no_returns")
    response = en_client.get(reverse("console:return_policies"))
    counts = {p["key"]: p["count"] for p in response.context["policies"]}
    assert counts == {"no_reason_7d": 1, "quality_only": 0, "exchange_only": 0, "no_returns": 2}
    assert "2 products use it." in response.content.decode()
    response = en_client.post(reverse("console:return_policies"), {"default_return_policy": "exchange_only"})
    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.default_return_policy == "exchange_only"
    assert en_client.post(reverse("console:return_policies"), {"default_return_policy": "forever"}).status_code == 400
