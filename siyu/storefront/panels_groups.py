"""Community groups on the "me" page: a link to "my groups" (groups joined; a leader's figures).
No query for a shop without groups (cached per-shop flag, siyu.community.groups.flags)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from siyu.community.groups.flags import groups_on


def my_links(request) -> list[tuple[str, str]]:
    if not groups_on(shop_id=request.shop.pk):
        return []
    return [(_("My groups"), reverse("storefront:my_groups"))]
