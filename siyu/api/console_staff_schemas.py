"""What the console's staff operations take. Answers use `StaffOut` from console_schemas."""

from typing import Annotated, Literal, get_args

from ninja import Field
from pydantic import ConfigDict

from siyu.accounts.roles import FINANCE, OPERATOR, OWNER, SERVICE

from .schemas import In

Role = Literal["owner", "operator", "service", "finance"]
assert set(get_args(Role)) == {OWNER, OPERATOR, SERVICE, FINANCE}  # the table in accounts/roles.py

# A display name: starts with a visible character (the service trims spaces and refuses an empty
# name) and carries no control characters, the same rule as every other text field.
DISPLAY_NAME_PATTERN = "^[^\\s\\u0000-\\u001f\\u007f][^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"
DisplayName = Annotated[str, Field(min_length=1, max_length=60, pattern=DISPLAY_NAME_PATTERN)]


class StaffCreateIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"username": "xiaomei", "password": "ch4nge-me-soon", "role": "service", "display_name": "小美"}
            ]
        }
    )

    username: str = Field(
        min_length=3, max_length=40, pattern="^[A-Za-z0-9_.@-]{3,40}$", description="What they sign in with."
    )
    password: str = Field(min_length=8, max_length=128, description="At least 8 characters.")
    role: Role = Field(description="owner, operator, service (customer service) or finance.")
    display_name: DisplayName | None = Field(None, description="The name colleagues see; the username if left out.")


class StaffPatchIn(In):
    """Fields left out (or null) keep their value."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"role": "operator", "display_name": "小美（运营）"}]})

    role: Role | None = None
    display_name: DisplayName | None = None
    is_active: bool | None = Field(
        None, description="false deactivates (ending their sessions and revoking their API tokens); true re-activates."
    )
