"""Reads of the content library: the console's lists with each post's figures (one query a page,
whatever the number of posts), a day's posts for sharers, personas and their planned posts."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from siyu.core.errors import NotFound
from siyu.core.permissions import require
from siyu.shops.models import Shop

from .models import Persona, Post, PostOrder, PostShare, PostVisit

VIEW, MANAGE = "promotions.view", "promotions.manage"
CODE_MAX = 16


def _per_post(queryset: QuerySet, value) -> Coalesce:
    """A correlated subquery giving one figure per post (0 when it has no row): it keeps the list one
    SELECT, where joining shares, visits and orders at once would multiply their rows."""
    rows = queryset.filter(post=OuterRef("pk")).order_by().values("post").annotate(v=value).values("v")
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def with_figures(queryset: QuerySet[Post]) -> QuerySet[Post]:
    """Posts annotated with shares, clicks, visits, orders, paid_orders and revenue (fen: paid minus
    refunded, of the orders attributed to the post)."""
    paid = PostOrder.objects.filter(order__paid_at__isnull=False)
    return queryset.annotate(
        n_shares=_per_post(PostShare.objects.all(), Count("pk")),
        n_clicks=_per_post(PostVisit.objects.all(), Sum("clicks")),
        n_visits=_per_post(PostVisit.objects.all(), Count("pk")),
        n_orders=_per_post(PostOrder.objects.all(), Count("pk")),
        n_paid_orders=_per_post(paid, Count("pk")),
        revenue=_per_post(paid, Sum(F("order__paid_amount") - F("order__refunded_amount"))),
    )


def posts_for_staff(
    *, actor, shop: Shop, persona: str = "", tag: str = "", q: str = "", scheduled: str = ""
) -> QuerySet[Post]:
    """The shop's posts (deleted ones left out), latest publish time first, drafts on top, with
    their figures. `scheduled`: "draft" (no publish time), "upcoming" or "past"."""
    require(actor, VIEW, shop_id=shop.pk)
    qs = Post.objects.filter(shop=shop, deleted_at__isnull=True).select_related("product", "persona")
    if persona:
        qs = qs.filter(persona__public_id=str(persona)[:16])
    if tag:
        tag = str(tag)[:20]
        qs = qs.filter(Q(campaign=tag) | Q(tag_index__contains=f"|{tag}|"))
    if q:
        q = str(q)[:50]
        qs = qs.filter(Q(title__icontains=q) | Q(text__icontains=q))
    now = timezone.now()
    if scheduled == "draft":
        qs = qs.filter(publish_at__isnull=True)
    elif scheduled == "upcoming":
        qs = qs.filter(publish_at__gt=now)
    elif scheduled == "past":
        qs = qs.filter(publish_at__lte=now)
    return with_figures(qs).order_by(F("publish_at").desc(nulls_first=True), "-id")


def post_for_staff(*, actor, shop: Shop, code: str) -> Post:
    require(actor, VIEW, shop_id=shop.pk)
    found = (
        with_figures(Post.objects.filter(shop=shop, code=str(code)[:CODE_MAX], deleted_at__isnull=True))
        .select_related("product", "persona")
        .first()
    )
    if found is None:
        raise NotFound(detail={"post": str(code)[:CODE_MAX]})
    return found


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The first instant of `day` and of the next, in the shop's time zone (settings.TIME_ZONE)."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def posts_of_day(*, shop: Shop, day: date | None = None) -> QuerySet[Post]:
    """The posts scheduled on `day` (today by default) in publish order: what sharers post today.
    Posts due later in the day are listed too, so a sharer sees the day's plan."""
    start, end = day_bounds(day or timezone.localdate())
    return (
        Post.objects.filter(shop=shop, deleted_at__isnull=True, publish_at__gte=start, publish_at__lt=end)
        .select_related("product", "persona")
        .order_by("publish_at", "id")
    )


def copy_text(post: Post, link: str) -> str:
    """What "copy" puts on the clipboard: the post's text, then its link (with the sharer's code)."""
    return f"{post.text}\n{link}".strip()


def post_for_link(*, shop: Shop, code: str) -> Post:
    """A post as its link finds it (deleted posts too: a link already shared keeps leading on)."""
    found = Post.objects.filter(shop=shop, code=str(code)[:CODE_MAX]).select_related("product").first()
    if found is None:
        raise NotFound(detail={"post": str(code)[:CODE_MAX]})
    return found


def post_to_share(*, shop: Shop, code: str) -> Post:
    """A post a sharer may share: scheduled, not deleted."""
    found = (
        Post.objects.filter(shop=shop, code=str(code)[:CODE_MAX], deleted_at__isnull=True, publish_at__isnull=False)
        .select_related("product")
        .first()
    )
    if found is None:
        raise NotFound(detail={"post": str(code)[:CODE_MAX]})
    return found


@dataclass
class PersonaRow:
    persona: Persona
    planned: int  # posts scheduled from today on
    drafts: int


def personas_for_staff(*, actor, shop: Shop) -> QuerySet[Persona]:
    """The shop's personas with their counts of planned posts (from today on) and drafts: one query."""
    require(actor, VIEW, shop_id=shop.pk)
    start, _end = day_bounds(timezone.localdate())
    alive = Q(posts__deleted_at__isnull=True)
    return (
        Persona.objects.filter(shop=shop)
        .select_related("account")
        .annotate(
            planned=Count("posts", filter=alive & Q(posts__publish_at__gte=start)),
            drafts=Count("posts", filter=alive & Q(posts__publish_at__isnull=True)),
        )
        .order_by("name", "id")
    )


def persona_for_staff(*, actor, shop: Shop, public_id: str) -> Persona:
    require(actor, VIEW, shop_id=shop.pk)
    found = Persona.objects.filter(shop=shop, public_id=str(public_id)[:16]).select_related("account").first()
    if found is None:
        raise NotFound(detail={"persona": str(public_id)[:16]})
    return found


def persona_plan(*, persona: Persona, days: int = 14) -> tuple[list[tuple[date, list[Post]]], list[Post]]:
    """The persona's calendar: (day, posts) for each of the next `days` days from today (days without
    a post included, so gaps show), and its drafts. One query."""
    today = timezone.localdate()
    start, _end = day_bounds(today)
    _s, end = day_bounds(today + timedelta(days=days - 1))
    posts = list(
        Post.objects.filter(persona=persona, deleted_at__isnull=True)
        .filter(Q(publish_at__isnull=True) | Q(publish_at__gte=start, publish_at__lt=end))
        .select_related("product")
        .order_by("publish_at", "id")
    )
    by_day: dict[date, list[Post]] = {today + timedelta(days=n): [] for n in range(days)}
    drafts = []
    for post in posts:
        if post.publish_at is None:
            drafts.append(post)
        else:
            by_day.setdefault(timezone.localdate(post.publish_at), []).append(post)
    return sorted(by_day.items()), drafts


def personas_choices(*, shop: Shop) -> list[tuple[str, str]]:
    return list(Persona.objects.filter(shop=shop).order_by("name", "id").values_list("public_id", "name"))
