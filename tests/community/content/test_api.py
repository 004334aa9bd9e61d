"""Content API: console posts (multipart create with image limits and codes, change, images,
schedule, delete, list with figures in fixed queries), personas, storefront today's posts and
shares; other shops."""

import json

import pytest

from siyu.community.content.models import Post, PostShare
from tests.api.conftest import API, OTHER_API, bearer

from .conftest import jpeg, make_post, not_an_image, today_at

pytestmark = pytest.mark.django_db
POSTS = f"{API}/console/content/posts"


def _json(client, method, url, body, key):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json", headers=bearer(key))


def test_create_a_post_with_images(client, shop, owner_key, product):
    resp = client.post(
        POSTS,
        {"text": "新品", "images": [jpeg(gps=True), jpeg()], "product_id": product.public_id, "tags": "上新,中秋"},
        headers=bearer(owner_key),
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert len(body["images"]) == 2 and body["tags"] == ["上新", "中秋"] and body["publish_at"] is None
    assert body["shares"] == body["orders"] == body["revenue"] == 0


def test_ten_images_are_refused_with_too_many_images(client, shop, owner_key):
    resp = client.post(POSTS, {"text": "x", "images": [jpeg() for _ in range(10)]}, headers=bearer(owner_key))
    assert resp.status_code == 400 and resp.json()["code"] == "too_many_images"
    assert not Post.objects.exists()


def test_a_bad_file_is_refused_with_bad_image(client, shop, owner_key):
    resp = client.post(POSTS, {"text": "x", "images": [jpeg(), not_an_image()]}, headers=bearer(owner_key))
    assert resp.status_code == 400
    assert resp.json()["code"] == "bad_image" and resp.json()["detail"]["index"] == 1


def test_adding_a_tenth_image_is_refused(client, shop, owner, owner_key):
    post = make_post(shop, owner, images=[jpeg() for _ in range(9)])
    resp = client.post(f"{POSTS}/{post.code}/images", {"images": [jpeg()]}, headers=bearer(owner_key))
    assert resp.status_code == 409 and resp.json()["code"] == "too_many_images"
    resp = client.delete(f"{POSTS}/{post.code}/images/3", headers=bearer(owner_key))
    assert resp.status_code == 200 and len(resp.json()["images"]) == 8
    assert client.delete(f"{POSTS}/{post.code}/images/8", headers=bearer(owner_key)).status_code == 404


def test_change_schedule_and_delete(client, shop, owner, owner_key):
    post = make_post(shop, owner, publish_at=None)
    resp = _json(client, "patch", f"{POSTS}/{post.code}", {"title": "中秋", "tags": ["节日"]}, owner_key)
    assert resp.status_code == 200 and resp.json()["title"] == "中秋" and resp.json()["tags"] == ["节日"]
    when = today_at(21).isoformat()
    resp = _json(client, "post", f"{POSTS}/{post.code}/schedule", {"publish_at": when}, owner_key)
    assert resp.status_code == 200 and resp.json()["publish_at"] is not None
    assert _json(client, "patch", f"{POSTS}/{post.code}", {"persona_id": "nobody"}, owner_key).status_code == 404
    assert client.delete(f"{POSTS}/{post.code}", headers=bearer(owner_key)).status_code == 204
    assert client.get(f"{POSTS}/{post.code}", headers=bearer(owner_key)).status_code == 404


@pytest.mark.parametrize("n", [3, 15])
def test_list_with_figures_in_fixed_queries(client, shop, owner, owner_key, n, django_assert_num_queries):
    for i in range(n):
        make_post(shop, owner, text=f"帖{i}")
    with django_assert_num_queries(4):  # token, count, page with figures; last-used stamp on the token
        resp = client.get(f"{POSTS}?limit=100", headers=bearer(owner_key))
    assert resp.status_code == 200 and resp.json()["count"] == n and len(resp.json()["items"]) == n


def test_other_shops_posts_are_not_theirs(client, shop, owner, other_key):
    post = make_post(shop, owner)
    other = f"{OTHER_API}/console/content/posts"
    assert client.get(f"{other}/{post.code}", headers=bearer(other_key)).status_code == 404
    assert client.get(other, headers=bearer(other_key)).json()["count"] == 0
    assert client.delete(f"{other}/{post.code}", headers=bearer(other_key)).status_code == 404


def test_personas(client, shop, owner_key):
    url = f"{API}/console/content/personas"
    resp = client.post(url, {"name": "小美", "tone": "亲切", "avatar": jpeg()}, headers=bearer(owner_key))
    assert resp.status_code == 201 and resp.json()["avatar"]["thumb"]
    pid = resp.json()["id"]
    resp = client.post(f"{url}/{pid}", {"tone": "专业"}, headers=bearer(owner_key))
    assert resp.status_code == 200 and resp.json()["tone"] == "专业" and resp.json()["name"] == "小美"
    assert client.post(url, {"name": "x", "avatar": not_an_image()}, headers=bearer(owner_key)).status_code == 400
    assert [p["name"] for p in client.get(url, headers=bearer(owner_key)).json()] == ["小美"]
    assert client.delete(f"{url}/{pid}", headers=bearer(owner_key)).status_code == 204


def test_storefront_today_and_share(client, shop, owner, shopper, shopper_key):
    post = make_post(shop, owner, images=[jpeg()])
    resp = client.get(f"{API}/storefront/content/today", headers=bearer(shopper_key))
    assert resp.status_code == 200
    (item,) = resp.json()
    assert item["link"].endswith(f"/m/{post.code}/?ref={shopper.share_code}") and item["copy_text"].endswith(
        item["link"]
    )
    url = f"{API}/storefront/content/posts/{post.code}/shares"
    assert _json(client, "post", url, {"kind": "save"}, shopper_key).status_code == 201
    assert _json(client, "post", url, {"kind": "like"}, shopper_key).status_code == 400
    assert PostShare.objects.get().kind == "save"
    assert client.get(f"{API}/storefront/content/today").status_code == 401
