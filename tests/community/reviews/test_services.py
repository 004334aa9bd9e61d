"""Review rules: who may review, once per line, one follow-up, photos without EXIF, the refunded
mark, hide with a reason, sensitive words for shoppers only, the photo reward once."""

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from siyu.accounts.roles import FINANCE, SERVICE
from siyu.community.reviews import selectors, services
from siyu.community.reviews.flags import mask_words
from siyu.community.reviews.models import PointsState, Review
from siyu.core.audit import AuditEntry
from siyu.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from siyu.customers.models import Customer
from siyu.customers.points import points_balance
from siyu.orders.models import OrderLine
from tests.factories import make_product, make_shopper, make_staff
from tests.orders.helpers import deliver, place

from .conftest import jpeg, make_review

pytestmark = pytest.mark.django_db


def _balance(shop, shopper) -> int:
    customer = Customer.objects.filter(shop=shop, shopper=shopper).first()
    return points_balance(customer=customer) if customer else 0


def test_the_buyer_reviews_a_received_line(delivered, shopper):
    review = make_review(delivered, rating=4, text="  很好  ", anonymous=False)
    assert (review.rating, review.text, review.product_id) == (4, "很好", delivered.product_id)
    assert review.author_name == shopper.nickname or "****" in review.author_name


def test_someone_else_cannot_review_the_line(delivered, shop):
    stranger = make_shopper("13900000001")
    with pytest.raises(NotFound):
        services.review_create(shop=shop, shopper=stranger, line_id=delivered.pk, rating=5)


def test_a_line_of_another_shop_is_not_found(delivered, other_shop):
    with pytest.raises(NotFound):
        services.review_create(shop=other_shop, shopper=delivered.order.shopper, line_id=delivered.pk, rating=5)


def test_not_received_yet_is_refused(paid_line):
    with pytest.raises(Conflict) as exc:
        make_review(paid_line)
    assert exc.value.code == "review_not_received"


def test_a_shopper_who_never_bought_the_sku_has_no_line_to_review(delivered, shop, shopper):
    other = make_product(shop, name="别的商品")
    assert not selectors.reviewable_lines(shop=shop, shopper=shopper).filter(product=other).exists()
    with pytest.raises(NotFound):
        services.review_create(shop=shop, shopper=shopper, line_id=10**9, rating=5)


def test_once_per_line(delivered):
    make_review(delivered)
    with pytest.raises(Conflict) as exc:
        make_review(delivered)
    assert exc.value.code == "review_exists"
    assert Review.objects.count() == 1


@pytest.mark.parametrize("bad", [0, 6, "x", None, True])
def test_rating_is_one_to_five(delivered, bad):
    with pytest.raises(InvalidInput):
        make_review(delivered, rating=bad)


def test_text_at_most_500_and_at_most_nine_photos(delivered):
    with pytest.raises(InvalidInput):
        make_review(delivered, text="好" * 501)
    with pytest.raises(InvalidInput):
        make_review(delivered, photos=[jpeg() for _ in range(10)])
    with pytest.raises(InvalidInput):
        from django.core.files.uploadedfile import SimpleUploadedFile

        make_review(delivered, photos=[SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")])
    assert not Review.objects.exists()


def test_reviewable_lines_leave_out_reviewed_ones(delivered, shop, shopper):
    assert list(selectors.reviewable_lines(shop=shop, shopper=shopper)) == [delivered]
    make_review(delivered)
    assert not selectors.reviewable_lines(shop=shop, shopper=shopper).exists()


def test_one_follow_up(delivered, shop, shopper):
    review = make_review(delivered, text="先评")
    with pytest.raises(InvalidInput):
        services.review_followup(shop=shop, shopper=shopper, public_id=review.public_id, text=" ")
    done = services.review_followup(shop=shop, shopper=shopper, public_id=review.public_id, text="用了一个月，还不错")
    assert done.followup_text == "用了一个月，还不错" and done.followup_at is not None
    with pytest.raises(Conflict) as exc:
        services.review_followup(shop=shop, shopper=shopper, public_id=review.public_id, text="再追")
    assert exc.value.code == "followup_exists"
    with pytest.raises(NotFound):
        services.review_followup(shop=shop, shopper=make_shopper("13900000002"), public_id=review.public_id, text="x")


def test_photos_are_stored_without_exif_or_gps(delivered):
    upload = jpeg(gps=True)
    raw = upload.read()
    upload.seek(0)
    assert Image.open(__import__("io").BytesIO(raw)).getexif().get(0x8825)  # the upload carries GPS
    review = make_review(delivered, photos=[upload])
    assert review.has_photos and len(review.photos) == 1
    for name in review.photos[0].values():
        with default_storage.open(name) as stored:
            data = stored.read()
        img = Image.open(__import__("io").BytesIO(data))
        assert not img.getexif()  # no EXIF at all, so no GPS
        assert "exif" not in img.info
        assert b"Exif" not in data and b"SiyuCam" not in data


def test_anonymous_reviews_show_a_masked_name(delivered, shopper):
    shopper.nickname = "张小明"
    shopper.save()
    review = make_review(delivered, anonymous=True)
    assert review.anonymous and review.author_name == "张***明"


def test_a_refunded_line_is_marked(delivered):
    review = make_review(delivered)
    assert not Review.objects.select_related("line").get(pk=review.pk).refunded
    OrderLine.objects.filter(pk=delivered.pk).update(refunded_quantity=1)
    assert Review.objects.select_related("line").get(pk=review.pk).refunded


def test_hide_keeps_the_reason_and_audits(delivered, shop, owner):
    review = make_review(delivered)
    with pytest.raises(InvalidInput):
        services.review_hide(actor=owner, shop=shop, public_id=review.public_id, reason="  ")
    services.review_hide(actor=owner, shop=shop, public_id=review.public_id, reason="广告内容")
    review.refresh_from_db()
    assert review.is_hidden and review.hidden_reason == "广告内容"
    assert AuditEntry.objects.filter(action="review.hide", target_id=str(review.pk), data__reason="广告内容").exists()
    with pytest.raises(Conflict):
        services.review_hide(actor=owner, shop=shop, public_id=review.public_id, reason="again")
    assert selectors.product_review_summary(shop=shop, product=delivered.product) is None
    services.review_unhide(actor=owner, shop=shop, public_id=review.public_id)
    review.refresh_from_db()
    assert not review.is_hidden and review.hidden_reason == "广告内容"
    assert selectors.product_review_summary(shop=shop, product=delivered.product).count == 1


def test_reply_is_editable_and_feature_puts_first(delivered, shop, owner, shopper, address, product):
    first = make_review(delivered, text="第一")
    order = place(shop, shopper, address, product)
    deliver(order, owner)
    second = make_review(order.lines.get(), text="第二")
    summary = selectors.product_review_summary(shop=shop, product=product)
    assert [r.public_id for r in summary.reviews] == [second.public_id, first.public_id]
    services.review_feature(actor=owner, shop=shop, public_id=first.public_id, featured=True)
    services.review_reply(actor=owner, shop=shop, public_id=first.public_id, text="谢谢")
    services.review_reply(actor=owner, shop=shop, public_id=first.public_id, text="谢谢支持")
    summary = selectors.product_review_summary(shop=shop, product=product)
    assert summary.reviews[0].public_id == first.public_id and summary.reviews[0].reply_text == "谢谢支持"
    assert (summary.count, summary.average) == (2, 5.0)


def test_sensitive_words_are_masked_for_shoppers_only(delivered, shop, owner):
    review = make_review(delivered, text="这个垃圾卖家的东西很差")
    services.review_settings_update(actor=owner, shop=shop, data={"sensitive_words": ["垃圾", "卖家"]})
    summary = selectors.product_review_summary(shop=shop, product=delivered.product)
    assert summary.reviews[0].text == "这个＊＊＊＊的东西很差"
    staff_row = selectors.reviews_for_staff(actor=owner, shop=shop).get(pk=review.pk)
    assert staff_row.text == "这个垃圾卖家的东西很差"


def test_mask_words_longest_first_and_any_case():
    assert mask_words("Spam spam SPAMMER ok", ("spam", "spammer")) == "＊＊＊＊ ＊＊＊＊ ＊＊＊＊＊＊＊ ok"
    assert mask_words("nothing", ()) == "nothing"


def test_word_list_limits(shop, owner):
    with pytest.raises(InvalidInput):
        services.review_settings_update(actor=owner, shop=shop, data={"sensitive_words": ["x" * 21]})
    row = services.review_settings_update(actor=owner, shop=shop, data={"sensitive_words": "a, A\n b ,,c"})
    assert row.sensitive_words == ["a", "b", "c"]


def test_photo_points_once_per_review_and_taken_back_on_hide(delivered, shop, shopper, owner):
    services.review_settings_update(actor=owner, shop=shop, data={"photo_points": 20})
    before = _balance(shop, shopper)
    review = make_review(delivered, photos=[jpeg()])
    assert review.points_state == PointsState.GRANTED
    assert _balance(shop, shopper) == before + 20
    services.review_followup(shop=shop, shopper=shopper, public_id=review.public_id, photos=[jpeg()])
    assert _balance(shop, shopper) == before + 20  # once per review
    services.review_hide(actor=owner, shop=shop, public_id=review.public_id, reason="盗图")
    assert _balance(shop, shopper) == before
    services.review_unhide(actor=owner, shop=shop, public_id=review.public_id)
    services.review_hide(actor=owner, shop=shop, public_id=review.public_id, reason="盗图")
    assert _balance(shop, shopper) == before  # never taken twice, never regranted


def test_no_points_without_photos_or_when_off(delivered, shop, shopper, owner, address, product):
    review = make_review(delivered, photos=[jpeg()])  # reward off (0)
    assert review.points_state == PointsState.NONE
    services.review_settings_update(actor=owner, shop=shop, data={"photo_points": 20})
    order = place(shop, shopper, address, product)
    deliver(order, owner)
    plain = make_review(order.lines.get(), text="无图")
    assert plain.points_state == PointsState.NONE
    before = _balance(shop, shopper)
    services.review_followup(shop=shop, shopper=shopper, public_id=plain.public_id, photos=[jpeg()])
    assert _balance(shop, shopper) == before + 20  # the first photos came in the follow-up


def test_hiding_never_takes_the_balance_below_zero(delivered, shop, shopper, owner):
    from siyu.customers.models import PointsEntry

    services.review_settings_update(actor=owner, shop=shop, data={"photo_points": 20})
    review = make_review(delivered, photos=[jpeg()])
    customer = Customer.objects.get(shop=shop, shopper=shopper)
    spend = points_balance(customer=customer) - 5
    PointsEntry.objects.create(shop=shop, customer=customer, delta=-spend, reason="redeem")
    services.review_hide(actor=owner, shop=shop, public_id=review.public_id, reason="x")
    assert points_balance(customer=customer) == 0


def test_roles(delivered, shop):
    review = make_review(delivered)
    service = make_staff(shop, role=SERVICE, username="kefu")
    finance = make_staff(shop, role=FINANCE, username="caiwu")
    services.review_reply(actor=service, shop=shop, public_id=review.public_id, text="您好")
    with pytest.raises(PermissionDenied):
        services.review_reply(actor=finance, shop=shop, public_id=review.public_id, text="x")
    with pytest.raises(PermissionDenied):
        services.review_settings_update(actor=service, shop=shop, data={"photo_points": 5})
    assert selectors.reviews_for_staff(actor=finance, shop=shop).count() == 1


def test_other_shops_staff_see_nothing(delivered, other_shop):
    make_review(delivered)
    stranger = make_staff(other_shop, username="other-boss")
    assert not selectors.reviews_for_staff(actor=stranger, shop=other_shop).exists()
    with pytest.raises(NotFound):
        services.review_hide(actor=stranger, shop=other_shop, public_id=Review.objects.get().public_id, reason="x")
