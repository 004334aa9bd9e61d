"""Console wording for the customer pool's fixed choices (sources, lifecycle stages, link statuses,
timeline events). Kept here, with the console's own catalogue, as labels.py does for orders."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.customers.models import Lifecycle, SocialLink, Source

SOURCE_LABELS = {
    Source.STORE: _("Own store"),
    Source.TAOBAO: _("Taobao / Tmall"),
    Source.JD: _("JD"),
    Source.PDD: _("Pinduoduo"),
    Source.IMPORT: _("Other import"),
    Source.MANUAL: _("Added by staff"),
}

LIFECYCLE_LABELS = {
    Lifecycle.PROSPECT: _("No order yet"),
    Lifecycle.NEW: pgettext_lazy("lifecycle", "New"),
    Lifecycle.ACTIVE: pgettext_lazy("lifecycle", "Active"),
    Lifecycle.AT_RISK: _("At risk"),
    Lifecycle.DORMANT: _("Dormant"),
    Lifecycle.LOST: _("Lost"),
}

SOCIAL_STATUS_LABELS = {
    SocialLink.Status.INVITED: _("Invited"),
    SocialLink.Status.ADDED: _("Friend"),
    SocialLink.Status.DELETED: pgettext_lazy("social link", "Deleted"),
}

SOCIAL_KIND_LABELS = {"wechat": _("WeChat"), "wecom": _("WeCom")}

LAYOUT_LABELS = {
    "taobao": _("Taobao / Tmall order export"),
    "jd": _("JD order export"),
    "pdd": _("Pinduoduo order export"),
    "generic": _("Other spreadsheet (map the columns)"),
}

IMPORT_STATUS_LABELS = {
    "pending": _("Waiting"),
    "running": _("Running"),
    "done": _("Done"),
    "failed": _("Failed"),
}

FOLLOWUP_KIND_LABELS = {"manual": _("Follow-up"), "repurchase": _("Repurchase reminder")}

# The timeline's event kinds, as the customer services write them; an unknown kind shows as is.
EVENT_LABELS = {
    "imported": _("Imported"),
    "tag.added": _("Tag added"),
    "tag.removed": _("Tag removed"),
    "note.added": _("Note added"),
    "followup.created": _("Follow-up created"),
    "followup.done": _("Follow-up done"),
    "reminder.sent": _("Repurchase reminder sent"),
    "level_changed": _("Membership level changed"),
    "points_earned": _("Points earned"),
    "points_refund": _("Points reversed after a refund"),
    "consent": _("Consent changed"),
    "pii_view": _("Staff viewed the phone number"),
    "account_deleted": _("Account deleted (anonymised)"),
    "social.invited": _("Invited on a social account"),
    "social.added": _("Became a friend on a social account"),
    "social.deleted": _("Removed from a social account"),
}

# What of an event's data is worth a word on the timeline, in this order.
EVENT_DETAIL_KEYS = ("name", "title", "excerpt", "account_name", "level", "points")


def event_detail(data) -> str:
    if not isinstance(data, dict):
        return ""
    for key in EVENT_DETAIL_KEYS:
        value = data.get(key)
        if value not in (None, "", [], {}):
            return str(value)[:80]
    return ""


POINTS_REASON_LABELS = {
    "earn": _("Earned"),
    "redeem": _("Redeemed"),
    "reverse": _("Reversed (refund)"),
    "expire": _("Expired"),
    "adjust": _("Adjusted"),
}


def lifecycle_choices() -> list[tuple[str, str | Promise]]:
    return [(member.value, LIFECYCLE_LABELS[member]) for member in Lifecycle]


def source_choices() -> list[tuple[str, str | Promise]]:
    return [(member.value, SOURCE_LABELS[member]) for member in Source]


def social_status_choices() -> list[tuple[str, str | Promise]]:
    return [(member.value, SOCIAL_STATUS_LABELS[member]) for member in SocialLink.Status]


def label(table: dict, key) -> str:
    return str(table.get(key, key or ""))
