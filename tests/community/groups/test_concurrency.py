"""PostgreSQL: one customer joining the same group from many requests at once gets one membership,
and the same customer touched by many group links at once keeps one touch row."""

import pytest

from siyu.community.groups.attribution import group_visit_record
from siyu.community.groups.models import GroupMember, GroupTouch
from siyu.community.groups.services import group_join
from tests.concurrency import run_parallel

from .conftest import new_group

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


def test_concurrent_joins_make_one_membership(shop, owner, buyer):
    group = new_group(shop, owner)
    results = run_parallel(lambda: group_join(shop=shop, shopper=buyer, code=group.code), [()] * 8)
    assert not [r for r in results if isinstance(r, Exception)]
    assert GroupMember.objects.filter(group=group).count() == 1
    assert sum(1 for r in results if r.created) == 1
    assert len({r.member.pk for r in results}) == 1


def test_concurrent_group_links_keep_one_touch(shop, owner, buyer):
    groups = [new_group(shop, owner, name=f"群{i}") for i in range(4)]
    run_parallel(
        lambda g: group_visit_record(shop=shop, code=g.code, visitor_key="v", shopper=buyer),
        [(g,) for g in groups * 2],
    )
    touch = GroupTouch.objects.get(shopper=buyer)
    assert touch.group in groups and touch.signup_group in groups
