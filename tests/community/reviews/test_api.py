"""Review API: public list, reviewable lines, multipart create and follow-up, console moderation
and settings; list endpoints' query counts at two sizes."""

import pytest

from siyu.accounts.services import token_issue
from siyu.community.reviews.models import Review

from .conftest import jpeg, make_review, more_lines

pytestmark = pytest.mark.django_db
SF, CON = "/api/v1/storefront", "/api/v1/console"


@pytest.fixture
def shopper_auth(shop, shopper):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(shop=shop, shopper=shopper, name='t')[1]}"}


@pytest.fixture
def staff_auth(shop, owner):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(shop=shop, staff=owner, name='t')[1]}"}


def test_shopper_writes_a_review_with_photos_and_a_follow_up(client, delivered, shopper_auth):
    lines = client.get(f"{SF}/reviews/reviewable", **shopper_auth).json()
    assert [ln["line_id"] for ln in lines] == [delivered.pk]
    resp = client.post(
        f"{SF}/reviews",
        {"line_id": delivered.pk, "rating": 5, "text": "很好", "anonymous": "true", "photos": [jpeg(), jpeg()]},
        **shopper_auth,
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["rating"] == 5 and len(body["photos"]) == 2 and body["anonymous"] is True
    again = client.post(f"{SF}/reviews", {"line_id": delivered.pk, "rating": 5}, **shopper_auth)
    assert again.status_code == 409 and again.json()["code"] == "review_exists"
    follow = client.post(f"{SF}/reviews/{body['id']}/follow-up", {"text": "用了一周"}, **shopper_auth)
    assert follow.status_code == 200 and follow.json()["followup_text"] == "用了一周"
    twice = client.post(f"{SF}/reviews/{body['id']}/follow-up", {"text": "再追"}, **shopper_auth)
    assert twice.status_code == 409


def test_refusals(client, delivered, paid_line, shopper_auth):
    not_received = client.post(f"{SF}/reviews", {"line_id": paid_line.pk, "rating": 5}, **shopper_auth)
    assert not_received.status_code == 409 and not_received.json()["code"] == "review_not_received"
    assert client.post(f"{SF}/reviews", {"line_id": 999999, "rating": 5}, **shopper_auth).status_code == 404
    assert client.post(f"{SF}/reviews", {"line_id": delivered.pk, "rating": 9}, **shopper_auth).status_code == 400
    assert client.post(f"{SF}/reviews", {"line_id": delivered.pk, "rating": 5}).status_code == 401
    bad = client.post(
        f"{SF}/reviews",
        {"line_id": delivered.pk, "rating": 5, "photos": [jpeg(name="a.jpg")] * 1 + [_not_image()]},
        **shopper_auth,
    )
    assert bad.status_code == 400 and not Review.objects.exists()


def _not_image():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("x.jpg", b"nope", content_type="image/jpeg")


@pytest.mark.parametrize("n", [3, 20])
def test_public_list_without_sign_in(client, delivered, shop, owner, n, django_assert_num_queries):
    for line in [delivered, *more_lines(delivered, n - 1)]:
        make_review(line, text="差劲的东西")
    client.put(
        f"{CON}/reviews/settings",
        {"sensitive_words": ["差劲"]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token_issue(shop=shop, staff=owner, name='x')[1]}",
    )
    url = f"{SF}/products/{delivered.product.public_id}/reviews?limit=10"
    client.get(url)  # warm the shop's flags
    with django_assert_num_queries(5):  # shop, product, count, page, counts
        resp = client.get(url)
    body = resp.json()
    assert resp.status_code == 200 and body["count"] == n and len(body["items"]) == min(n, 10)
    assert body["items"][0]["text"] == "＊＊的东西"
    assert client.get(f"{SF}/products/nope/reviews").status_code == 404


@pytest.mark.parametrize("n", [3, 20])
def test_console_list_and_actions(client, delivered, staff_auth, n, django_assert_num_queries):
    for line in [delivered, *more_lines(delivered, n - 1)]:
        make_review(line, text="原文")
    with django_assert_num_queries(4):  # token, count, page (+ token last-used update)
        resp = client.get(f"{CON}/reviews?limit=50", **staff_auth)
    assert resp.status_code == 200 and resp.json()["count"] == n
    rid = resp.json()["items"][0]["id"]
    post = lambda path, data=None: client.post(  # noqa: E731
        f"{CON}/reviews/{rid}/{path}", data or {}, content_type="application/json", **staff_auth
    )
    assert post("reply", {"text": "谢谢"}).json()["reply_text"] == "谢谢"
    hidden = post("hide", {"reason": "广告"}).json()
    assert hidden["hidden"] is True and hidden["hidden_reason"] == "广告"
    assert post("hide", {"reason": "广告"}).status_code == 409
    assert post("unhide").json()["hidden"] is False
    assert post("feature", {"featured": True}).json()["featured"] is True
    assert post("hide", {"reason": ""}).status_code == 400
    assert client.post(f"{CON}/reviews/nope/unhide", **staff_auth).status_code == 404
    only_hidden = client.get(f"{CON}/reviews?hidden=true", **staff_auth).json()
    assert only_hidden["count"] == 0


def test_console_settings(client, staff_auth):
    assert client.get(f"{CON}/reviews/settings", **staff_auth).json() == {"photo_points": 0, "sensitive_words": []}
    resp = client.put(
        f"{CON}/reviews/settings",
        {"photo_points": 10, "sensitive_words": ["骗子", "垃圾"]},
        content_type="application/json",
        **staff_auth,
    )
    assert resp.json() == {"photo_points": 10, "sensitive_words": ["骗子", "垃圾"]}
    kept = client.put(f"{CON}/reviews/settings", {"photo_points": 3}, content_type="application/json", **staff_auth)
    assert kept.json()["sensitive_words"] == ["骗子", "垃圾"]
    too_long = client.put(
        f"{CON}/reviews/settings", {"sensitive_words": ["x" * 21]}, content_type="application/json", **staff_auth
    )
    assert too_long.status_code == 400
