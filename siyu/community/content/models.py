"""The content library (素材库): posts for moments and chat groups, the personas (人设) of the seller's
WeChat accounts that post them, and what each post brought: shares, clicks and visits through its
link, and the orders placed after such a visit.

A post's link is /m/<code>/?ref=<the sharer's share code>: the code names the post, the ref the
sharer, so one link counts for both the post (here) and the referral (siyu.referrals).
Images live on the post row as a list of stored file names, like review photos, so that a list of
posts reads its images with the posts. Figures are rows (one per share, one per visitor with a
click count, one per order), summed when read: nothing is copied onto the post that could drift.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper, StaffMember
from siyu.catalog.models import Product
from siyu.customers.models import SocialAccount
from siyu.orders.models import Order
from siyu.shops.models import Shop


class Persona(models.Model):
    """人设: who a WeChat account is to its friends (a name, a face, a way of speaking)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="personas")
    public_id = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=40)
    avatar = models.JSONField(default=dict, blank=True)  # {"full": name, "thumb": name} in storage, or {}
    tone = models.CharField(max_length=500, blank=True)  # tone notes: how this persona writes
    account = models.ForeignKey(SocialAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def avatar_urls(self) -> dict:
        from .images import image_urls

        urls = image_urls([self.avatar] if self.avatar else [])
        return urls[0] if urls else {}


class Post(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="content_posts")
    code = models.CharField(max_length=16, unique=True)  # in the post's link: /m/<code>/
    title = models.CharField(max_length=60, blank=True)  # for the seller's lists; not part of the post
    text = models.TextField(max_length=2000, blank=True)
    images = models.JSONField(default=list, blank=True)  # [{"full": name, "thumb": name}] in storage
    # The product the post is about: its page is where the link leads, and with `poster` set the
    # storefront draws the product's poster (QR code of this post's link) as one more image.
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    poster = models.BooleanField(default=False)
    campaign = models.CharField(max_length=40, blank=True)  # a marketing campaign's name: a free tag
    tags = models.JSONField(default=list, blank=True)  # occasions and other free tags (节日, 上新…)
    # The tags as "|a|b|", for a filter every database can run (JSON containment is not on SQLite).
    tag_index = models.CharField(max_length=300, blank=True)
    persona = models.ForeignKey(Persona, null=True, blank=True, on_delete=models.SET_NULL, related_name="posts")
    publish_at = models.DateTimeField(null=True, blank=True)  # None: a draft, in no day's list
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)  # deleted posts keep their figures and links

    class Meta:
        ordering = ["-publish_at", "-id"]
        indexes = [models.Index(fields=["shop", "deleted_at", "publish_at"], name="content_post_day")]

    def __str__(self) -> str:
        return self.title or self.code

    @property
    def image_urls(self) -> list[dict]:
        from .images import image_urls

        return image_urls(self.images)


class ShareKind(models.TextChoices):
    COPY = "copy", _("Copied the text")
    SAVE = "save", _("Saved the images")


class PostShare(models.Model):
    """One tap of "copy" or "save" by a sharer (a shopper, or a staff member through the storefront)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="shares")
    kind = models.CharField(max_length=8, choices=ShareKind.choices)
    code = models.CharField(max_length=12)  # the sharer's share code, as it is in the link shared
    shopper = models.ForeignKey(Shopper, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    staff = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["post", "created_at"], name="content_share_post")]


class PostVisit(models.Model):
    """One visitor (a browser session) who opened a post's link: how often, from whose share, and
    who they turned out to be once signed in (that is what links their orders to the post)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="visits")
    visitor_key = models.CharField(max_length=32)
    ref_code = models.CharField(max_length=12, blank=True)
    shopper = models.ForeignKey(Shopper, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    clicks = models.PositiveIntegerField(default=1)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "visitor_key"], name="content_visit_once")]
        indexes = [models.Index(fields=["shop", "shopper", "last_at"], name="content_visit_shopper")]


class PostOrder(models.Model):
    """An order placed by a visitor of the post within the attribution window (one post per order:
    the latest visited)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="orders")
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="+")
    visit = models.ForeignKey(PostVisit, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
