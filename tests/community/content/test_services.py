"""Posts and personas: image limits, EXIF removed, schedules and the day's list, permissions,
other shops."""

import io
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from siyu.accounts.roles import SERVICE
from siyu.community.content import selectors, services
from siyu.community.content.flags import content_in_use
from siyu.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from siyu.core.models import AuditEntry
from siyu.customers.models import SocialAccount
from tests.factories import make_product, make_staff

from .conftest import jpeg, make_post, not_an_image, today_at

pytestmark = pytest.mark.django_db


def test_a_post_takes_nine_images_and_refuses_a_tenth(shop, owner):
    post = make_post(shop, owner, images=[jpeg() for _ in range(9)])
    assert len(post.images) == 9
    with pytest.raises(Conflict) as caught:  # no room left on this post
        services.post_update(actor=owner, shop=shop, code=post.code, data={}, add_images=[jpeg()])
    assert caught.value.code == "too_many_images"
    with pytest.raises(InvalidInput) as caught:
        make_post(shop, owner, images=[jpeg() for _ in range(10)])
    assert caught.value.code == "too_many_images"


def test_a_poster_counts_as_one_of_the_nine(shop, owner, product):
    with pytest.raises(Conflict) as caught:
        make_post(shop, owner, images=[jpeg() for _ in range(9)], product=product.public_id, poster=True)
    assert caught.value.code == "too_many_images"
    post = make_post(shop, owner, images=[jpeg() for _ in range(8)], product=product.public_id, poster=True)
    assert post.poster and len(post.images) == 8


def test_a_poster_needs_a_product(shop, owner):
    with pytest.raises(Conflict) as caught:
        make_post(shop, owner, poster=True)
    assert caught.value.code == "poster_needs_product"


def test_a_bad_file_refuses_the_whole_post_and_stores_nothing(shop, owner):
    before = default_storage.listdir("content")[1] if default_storage.exists("content") else []
    with pytest.raises(InvalidInput) as caught:
        make_post(shop, owner, images=[jpeg(), not_an_image()])
    assert caught.value.code == "bad_image"
    assert caught.value.detail["index"] == 1
    after = default_storage.listdir("content")[1] if default_storage.exists("content") else []
    assert sorted(after) == sorted(before)
    assert not selectors.Post.objects.exists()


def test_images_are_stored_without_exif(shop, owner):
    upload = jpeg(gps=True)
    assert Image.open(io.BytesIO(upload.read())).getexif().get(0x8825)  # the upload does carry a position
    upload.seek(0)
    post = make_post(shop, owner, images=[upload])
    for name in post.images[0].values():
        with default_storage.open(name, "rb") as fh:
            stored = Image.open(io.BytesIO(fh.read()))
        assert not stored.getexif()
        assert "exif" not in stored.info


def test_a_draft_may_be_empty_but_a_scheduled_post_may_not(shop, owner):
    draft = make_post(shop, owner, text="  ", publish_at=None)
    with pytest.raises(Conflict) as caught:
        services.post_schedule(actor=owner, shop=shop, code=draft.code, publish_at=today_at(20))
    assert caught.value.code == "post_empty"
    with pytest.raises(Conflict):
        make_post(shop, owner, text="")


def test_the_days_list_has_todays_scheduled_posts_in_time_order(shop, owner):
    late = make_post(shop, owner, text="晚上", publish_at=today_at(21))
    early = make_post(shop, owner, text="早上", publish_at=today_at(0, 5))
    make_post(shop, owner, text="明天", publish_at=today_at(9) + timedelta(days=1))
    make_post(shop, owner, text="昨天", publish_at=today_at(9) - timedelta(days=1))
    make_post(shop, owner, text="草稿", publish_at=None)
    gone = make_post(shop, owner, text="删了", publish_at=today_at(10))
    services.post_delete(actor=owner, shop=shop, code=gone.code)
    assert [p.code for p in selectors.posts_of_day(shop=shop)] == [early.code, late.code]
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert [p.text for p in selectors.posts_of_day(shop=shop, day=tomorrow)] == ["明天"]


def test_scheduling_moves_a_post_between_days_and_back_to_the_drafts(shop, owner):
    post = make_post(shop, owner, publish_at=None)
    assert not selectors.posts_of_day(shop=shop).exists()
    services.post_schedule(actor=owner, shop=shop, code=post.code, publish_at=today_at(20).isoformat())
    assert list(selectors.posts_of_day(shop=shop)) == [post]
    services.post_schedule(actor=owner, shop=shop, code=post.code, publish_at=None)
    assert not selectors.posts_of_day(shop=shop).exists()
    with pytest.raises(InvalidInput) as caught:
        services.post_schedule(actor=owner, shop=shop, code=post.code, publish_at="next tuesday")
    assert "publish_at" in caught.value.detail


def test_tags_campaign_and_filters(shop, owner):
    a = make_post(shop, owner, tags="中秋, 上新，中秋", campaign="双11")
    make_post(shop, owner, tags=["日常"])
    assert a.tags == ["中秋", "上新"]
    found = selectors.posts_for_staff(actor=owner, shop=shop, tag="中秋")
    assert [p.code for p in found] == [a.code]
    assert [p.code for p in selectors.posts_for_staff(actor=owner, shop=shop, tag="双11")] == [a.code]
    assert not selectors.posts_for_staff(actor=owner, shop=shop, tag="中").exists()


def test_removing_images_keeps_the_others_in_order_and_deletes_the_files(
    shop, owner, django_capture_on_commit_callbacks
):
    post = make_post(shop, owner, images=[jpeg(color=(i * 40, 0, 0)) for i in range(3)])
    first, second, third = post.images
    with django_capture_on_commit_callbacks(execute=True):
        post = services.post_update(actor=owner, shop=shop, code=post.code, data={}, remove_images=[1])
    assert post.images == [first, third]
    assert not default_storage.exists(second["full"])
    assert default_storage.exists(first["full"])


def test_service_staff_cannot_write_posts(shop, owner):
    service = make_staff(shop, role=SERVICE, username="kefu")
    with pytest.raises(PermissionDenied):
        make_post(shop, service)
    post = make_post(shop, owner)
    assert selectors.post_for_staff(actor=service, shop=shop, code=post.code) == post  # reading is fine


def test_another_shops_staff_cannot_see_or_change_a_post(shop, owner, other_shop):
    other_owner = make_staff(other_shop, username="other-boss")
    post = make_post(shop, owner)
    with pytest.raises(PermissionDenied):
        selectors.post_for_staff(actor=other_owner, shop=shop, code=post.code)
    with pytest.raises(NotFound):
        selectors.post_for_staff(actor=other_owner, shop=other_shop, code=post.code)
    with pytest.raises(NotFound):
        services.post_delete(actor=other_owner, shop=other_shop, code=post.code)
    assert not selectors.posts_for_staff(actor=other_owner, shop=other_shop).exists()
    assert not selectors.posts_of_day(shop=other_shop).exists()


def test_a_product_of_another_shop_is_refused(shop, owner, other_shop):
    theirs = make_product(other_shop)
    with pytest.raises(NotFound) as caught:
        make_post(shop, owner, product=theirs.public_id)
    assert caught.value.detail == {"product": theirs.public_id}


def test_the_flag_follows_the_posts(shop, owner):
    assert content_in_use(shop_id=shop.pk) is False
    post = make_post(shop, owner)
    assert content_in_use(shop_id=shop.pk) is True
    services.post_delete(actor=owner, shop=shop, code=post.code)
    assert content_in_use(shop_id=shop.pk) is False


def test_changes_are_audited(shop, owner):
    post = make_post(shop, owner)
    services.post_update(actor=owner, shop=shop, code=post.code, data={"title": "中秋"})
    services.post_delete(actor=owner, shop=shop, code=post.code)
    actions = list(AuditEntry.objects.filter(target_type="post").order_by("id").values_list("action", flat=True))
    assert actions == ["content.post_create", "content.post_update", "content.post_delete"]


def test_personas_link_an_account_and_plan_posts(shop, owner, other_shop):
    account = SocialAccount.objects.create(shop=shop, name="小美的微信")
    theirs = SocialAccount.objects.create(shop=other_shop, name="别家")
    persona = services.persona_create(
        actor=owner, shop=shop, data={"name": "小美", "tone": "亲切", "account": account.pk}, avatar=jpeg(gps=True)
    )
    assert persona.account == account and persona.avatar["thumb"].startswith("content/")
    with pytest.raises(NotFound):
        services.persona_update(actor=owner, shop=shop, public_id=persona.public_id, data={"account": theirs.pk})
    make_post(shop, owner, persona=persona.public_id, publish_at=today_at(20))
    make_post(shop, owner, persona=persona.public_id, publish_at=today_at(9) + timedelta(days=3))
    make_post(shop, owner, persona=persona.public_id, publish_at=None)
    make_post(shop, owner, persona=persona.public_id, publish_at=today_at(9) - timedelta(days=2))
    row = selectors.personas_for_staff(actor=owner, shop=shop).get()
    assert (row.planned, row.drafts) == (2, 1)
    days, drafts = selectors.persona_plan(persona=persona)
    assert len(days) == 14 and len(drafts) == 1
    assert [len(posts) for _day, posts in days][:4] == [1, 0, 0, 1]
    services.persona_delete(actor=owner, shop=shop, public_id=persona.public_id)
    assert selectors.Post.objects.filter(persona__isnull=True).count() == 4
