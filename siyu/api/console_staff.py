"""Console operations that change staff: add a member, change their role or name, deactivate them.

Every one needs staff.manage (owners); the accounts services check it and keep the last active
owner. These operations are added to the console router itself rather than a router of their own:
`POST /staff` shares its path with `GET /staff` (console.py), and ninja serves one path from one
router only (a second router's operation on the same path would answer 405).
"""

from ninja.responses import Status

from siyu.accounts.selectors import staff_get
from siyu.accounts.services import staff_create, staff_update

from .console import router
from .console_schemas import StaffOut
from .console_staff_schemas import StaffCreateIn, StaffPatchIn
from .schemas import ERRORS, Id

_STAFF_EXAMPLE = {
    "id": 7,
    "username": "xiaomei",
    "display_name": "小美",
    "role": "service",
    "role_label": "客服",
    "is_active": True,
}


def _documented(status: int, description: str) -> dict:
    return {
        "responses": {
            status: {"description": description, "content": {"application/json": {"example": _STAFF_EXAMPLE}}}
        }
    }


@router.post(
    "/staff",
    response={201: StaffOut, **ERRORS},
    openapi_extra=_documented(201, "The new member; they can sign in at once."),
)
def staff_add(request, data: StaffCreateIn):
    """Add a staff member who signs in with this username and password (staff.manage).
    A username already taken anywhere is refused with 409."""
    member = staff_create(
        actor=request.auth,
        shop=request.shop,
        username=data.username,
        password=data.password,
        role=data.role,
        display_name=data.display_name or "",
    )
    return Status(201, member)


@router.patch(
    "/staff/{staff_id}",
    response={200: StaffOut, **ERRORS},
    openapi_extra=_documented(200, "The member as changed."),
)
def staff_change(request, staff_id: Id, data: StaffPatchIn):
    """Change a member's role, display name or active flag (staff.manage). Demoting or
    deactivating the shop's last active owner is refused with 409 (code last_owner)."""
    member = staff_get(shop=request.shop, staff_id=staff_id)
    return staff_update(
        actor=request.auth,
        member=member,
        role=data.role or member.role,
        is_active=member.is_active if data.is_active is None else data.is_active,
        display_name=data.display_name,
    )


@router.post(
    "/staff/{staff_id}/deactivate",
    response={200: StaffOut, **ERRORS},
    openapi_extra=_documented(200, "The member, now inactive."),
)
def staff_deactivate(request, staff_id: Id):
    """Deactivate a member (staff.manage): they can no longer sign in, every session they are
    signed in under ends and their API tokens are revoked. Their history stays."""
    member = staff_get(shop=request.shop, staff_id=staff_id)
    return staff_update(actor=request.auth, member=member, role=member.role, is_active=False)
