"""API operations for community groups (社群): a console router and a storefront router, joined in
siyu/api/v1.py.

Console (/api/v1/console/, staff): the leaderboard list with figures (customers.view), create and
update (customers.manage), a group with its figures, new members per week and best products, its
members (list, add by customer id or phone — 409 `already_member` —, remove). Setting
`reward_leader` needs a customer leader who is an approved promoter (409 `leader_not_promoter`).

Storefront (/api/v1/storefront/, shopper): join and leave a group by its code (joining twice is a
no-op), and "my groups": the groups joined and, for a leader, their groups' figures.
"""

from datetime import datetime
from typing import Annotated

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from siyu.community.groups import selectors, services
from siyu.community.groups.models import Group, GroupKind, GroupMember
from siyu.community.groups.selectors import Figures

from .auth import shopper_auth, staff_auth
from .schemas import ERRORS, NAME_PATTERN, In, PageIn, page_of

console_router = Router(tags=["console groups"], auth=staff_auth)
storefront_router = Router(tags=["storefront groups"], auth=shopper_auth)

PublicId = Annotated[str, Field(min_length=1, max_length=16, pattern="^[A-Za-z0-9_-]+$")]
Code = Annotated[str, Field(min_length=6, max_length=12, pattern="^[A-Za-z0-9]+$")]
CustomerRef = Annotated[str, Field(min_length=1, max_length=20, pattern="^[A-Za-z0-9 -]+$")]
Tag = Annotated[str, Field(min_length=1, max_length=services.MAX_TAG, pattern=NAME_PATTERN)]
KIND_PATTERN = "^(wechat|wecom|offline)$"


# --- schemas -------------------------------------------------------------------------------


class CommunityGroupFiguresOut(Schema):
    members: int
    new_members: int = Field(description="Members who joined in the last 7 days.")
    orders: int = Field(description="Paid orders attributed to the group (not cancelled, not wholly refunded).")
    revenue: int = Field(description="Fen paid for those orders less what was refunded.")
    buyers: int
    repeat_buyers: int = Field(description="Buyers with two or more of those orders.")
    repeat_rate_bp: int = Field(description="repeat_buyers / buyers in basis points (10000 = all).")


class CommunityGroupOut(Schema):
    id: str
    code: str = Field(description="The group's share code: /g/{code}/ and ?g={code} on any shop link.")
    name: str
    kind: str
    leader_customer: str | None = Field(description="The customer leader's public id.")
    leader_staff: int | None
    reward_leader: bool = Field(description="The leader earns commission on the group's attributed sales.")
    tags: list[str]
    notes: str
    active: bool
    created_at: datetime


class CommunityGroupRankedOut(CommunityGroupOut):
    figures: CommunityGroupFiguresOut


class CommunityGroupPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CommunityGroupRankedOut]


class CommunityGroupWeekOut(Schema):
    week: datetime = Field(description="Monday 00:00 in the shop's time zone.")
    new_members: int


class CommunityGroupProductOut(Schema):
    product_id: int
    name: str
    quantity: int
    revenue: int


class CommunityGroupDetailOut(CommunityGroupRankedOut):
    visits: int
    signups: int = Field(description="New customers the group brought in first.")
    weekly: list[CommunityGroupWeekOut]
    best_products: list[CommunityGroupProductOut]


class CommunityGroupListIn(PageIn):
    q: str = Field("", max_length=40, description="Name, code or tag.")
    kind: str = Field("", pattern="^(|wechat|wecom|offline)$")
    sort: str = Field("revenue", pattern="^(revenue|orders|members|new_members|repeat_rate)$")
    active: bool | None = None


class CommunityGroupIn(In):
    name: str = Field(min_length=1, max_length=services.MAX_NAME, pattern=NAME_PATTERN)
    kind: str = Field(GroupKind.WECHAT, pattern=KIND_PATTERN)
    leader_customer: str = Field("", max_length=20, description="A customer's public id or phone; '' for none.")
    leader_staff: int | None = Field(None, ge=1, le=2**53 - 1)
    reward_leader: bool = False
    tags: list[Tag] = Field(default_factory=list, max_length=services.MAX_TAGS)
    notes: str = Field("", max_length=services.MAX_NOTES)
    active: bool = True


class CommunityGroupChangeIn(In):
    name: str | None = Field(None, min_length=1, max_length=services.MAX_NAME, pattern=NAME_PATTERN)
    kind: str | None = Field(None, pattern=KIND_PATTERN)
    leader_customer: str | None = Field(None, max_length=20)
    leader_staff: int | None = Field(None, ge=0, le=2**53 - 1, description="0 removes the staff leader.")
    reward_leader: bool | None = None
    tags: list[Tag] | None = Field(None, max_length=services.MAX_TAGS)
    notes: str | None = Field(None, max_length=services.MAX_NOTES)
    active: bool | None = None


class CommunityGroupMemberOut(Schema):
    customer: str = Field(description="The customer's public id.")
    name: str = Field(description="Name, or the masked phone.")
    source: str = Field(description="link or staff.")
    joined_at: datetime


class CommunityGroupMemberPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CommunityGroupMemberOut]


class CommunityGroupMemberIn(In):
    customer: CustomerRef


class CommunityGroupJoinOut(Schema):
    group: str = Field(description="The group's name.")
    code: str
    created: bool = Field(description="False: the shopper was already a member.")


class CommunityGroupLeaveOut(Schema):
    left: bool


class CommunityGroupMineLedOut(Schema):
    code: str
    name: str
    kind: str
    figures: CommunityGroupFiguresOut


class CommunityGroupMineJoinedOut(Schema):
    code: str
    name: str
    kind: str


class CommunityGroupMineOut(Schema):
    led: list[CommunityGroupMineLedOut]
    joined: list[CommunityGroupMineJoinedOut]


# --- shaping -------------------------------------------------------------------------------


def _figures(f: Figures) -> dict:
    return {
        "members": f.members,
        "new_members": f.new_members,
        "orders": f.orders,
        "revenue": f.revenue,
        "buyers": f.buyers,
        "repeat_buyers": f.repeat_buyers,
        "repeat_rate_bp": f.repeat_rate_bp,
    }


def _group(group: Group) -> dict:
    return {
        "id": group.public_id,
        "code": group.code,
        "name": group.name,
        "kind": group.kind,
        "leader_customer": group.leader_customer.public_id if group.leader_customer else None,
        "leader_staff": group.leader_staff_id,
        "reward_leader": bool(group.leader_promoter_id),
        "tags": list(group.tags),
        "notes": group.notes,
        "active": group.is_active,
        "created_at": group.created_at,
    }


def _member(member: GroupMember) -> dict:
    return {
        "customer": member.customer.public_id,
        "name": str(member.customer),
        "source": member.source,
        "joined_at": member.joined_at,
    }


def _detail(request, group: Group) -> dict:
    detail = selectors.group_detail(actor=request.auth, shop=request.shop, group=group)
    return {
        **_group(group),
        "figures": _figures(detail.figures),
        "visits": detail.visits,
        "signups": detail.signups,
        "weekly": [{"week": week, "new_members": n} for week, n in detail.weekly],
        "best_products": [
            {"product_id": p["product_id"], "name": p["name"], "quantity": p["quantity"], "revenue": p["revenue"]}
            for p in detail.products
        ],
    }


def _data(body: In) -> dict:
    """The service's field names for the fields the body sets."""
    data = body.dict(exclude_unset=True)
    if "active" in data:
        data["is_active"] = data.pop("active")
    if data.get("leader_staff") == 0:
        data["leader_staff"] = None
    return {k: v for k, v in data.items() if k in services.FIELDS and (v is not None or k == "leader_staff")}


# --- console -------------------------------------------------------------------------------


@console_router.get("/groups", response={200: CommunityGroupPage, **ERRORS})
def console_groups(request, q: Query[CommunityGroupListIn]):
    """The groups with their figures, ranked by `sort` (the leaderboard)."""
    ranked = selectors.group_leaderboard(
        actor=request.auth, shop=request.shop, sort=q.sort, q=q.q, kind=q.kind, active=q.active
    )
    items = ranked[q.offset : q.offset + q.limit]
    return {
        "count": len(ranked),
        "limit": q.limit,
        "offset": q.offset,
        "items": [{**_group(r.group), "figures": _figures(r.figures)} for r in items],
    }


@console_router.post("/groups", response={201: CommunityGroupDetailOut, **ERRORS})
def console_group_create(request, data: CommunityGroupIn):
    """Create a group; it gets its own share code."""
    group = services.group_create(actor=request.auth, shop=request.shop, data=_data(data))
    group = selectors.group_for_staff(actor=request.auth, shop=request.shop, public_id=group.public_id)
    return Status(201, _detail(request, group))


@console_router.get("/groups/{group_id}", response={200: CommunityGroupDetailOut, **ERRORS})
def console_group(request, group_id: PublicId):
    """A group with its figures, new members per week (8 weeks) and best products."""
    return _detail(request, selectors.group_for_staff(actor=request.auth, shop=request.shop, public_id=group_id))


@console_router.put("/groups/{group_id}", response={200: CommunityGroupDetailOut, **ERRORS})
def console_group_update(request, group_id: PublicId, data: CommunityGroupChangeIn):
    """Change the fields given (the others keep their value)."""
    services.group_update(actor=request.auth, shop=request.shop, group_id=group_id, data=_data(data))
    return _detail(request, selectors.group_for_staff(actor=request.auth, shop=request.shop, public_id=group_id))


@console_router.get("/groups/{group_id}/members", response={200: CommunityGroupMemberPage, **ERRORS})
def console_group_members(request, group_id: PublicId, q: Query[PageIn]):
    """Members, newest first."""
    group = selectors.group_for_staff(actor=request.auth, shop=request.shop, public_id=group_id)
    page = page_of(selectors.group_members(actor=request.auth, shop=request.shop, group=group), q)
    return {**page, "items": [_member(m) for m in page["items"]]}


@console_router.post("/groups/{group_id}/members", response={201: CommunityGroupMemberOut, **ERRORS})
def console_group_member_add(request, group_id: PublicId, data: CommunityGroupMemberIn):
    """Add a customer (public id or phone). 409 `already_member` if they are one."""
    member = services.group_member_add(actor=request.auth, shop=request.shop, group_id=group_id, customer=data.customer)
    return Status(201, _member(member))


@console_router.delete("/groups/{group_id}/members/{customer_id}", response={204: None, **ERRORS})
def console_group_member_remove(request, group_id: PublicId, customer_id: CustomerRef):
    """Remove a member (404 if the customer is not in the group)."""
    services.group_member_remove(actor=request.auth, shop=request.shop, group_id=group_id, customer=customer_id)
    return Status(204, None)


# --- storefront ----------------------------------------------------------------------------


@storefront_router.post("/groups/{code}/join", response={200: CommunityGroupJoinOut, **ERRORS})
def group_join(request, code: Code):
    """Join a group through its code (joining again changes nothing)."""
    joined = services.group_join(shop=request.shop, shopper=request.auth, code=code)
    group = joined.member.group
    return {"group": group.name, "code": group.code, "created": joined.created}


@storefront_router.post("/groups/{code}/leave", response={200: CommunityGroupLeaveOut, **ERRORS})
def group_leave(request, code: Code):
    return {"left": services.group_leave(shop=request.shop, shopper=request.auth, code=code)}


@storefront_router.get("/groups/mine", response={200: CommunityGroupMineOut, **ERRORS})
def my_groups(request):
    """The groups the shopper is in, and the figures of the groups they lead (团长)."""
    led = selectors.groups_led_by(shop=request.shop, shopper=request.auth)
    figures = selectors.group_figures(group_ids=[g.pk for g in led])
    joined = selectors.groups_joined_by(shop=request.shop, shopper=request.auth)
    return {
        "led": [{"code": g.code, "name": g.name, "kind": g.kind, "figures": _figures(figures[g.pk])} for g in led],
        "joined": [{"code": g.code, "name": g.name, "kind": g.kind} for g in joined],
    }
