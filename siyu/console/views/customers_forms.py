"""Forms of the customer pages. They check the shape of input; the rules live in siyu.customers."""

import json
from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.core.errors import InvalidInput
from siyu.core.money import parse_yuan

from ..forms import IsoDateInput, choice_field
from .customers_labels import (
    LAYOUT_LABELS,
    SOCIAL_KIND_LABELS,
    lifecycle_choices,
    social_status_choices,
    source_choices,
)

DATE = IsoDateInput()
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_RULES_CHARS = 8000

SEGMENT_EXAMPLE = """{
  "all": [
    {"field": "total_spent", "op": ">=", "value": "500.00"},
    {"field": "lifecycle", "op": "in", "value": ["at_risk", "dormant"]},
    {"any": [
      {"field": "tags", "op": "has_any", "value": ["VIP"]},
      {"field": "order_count", "op": ">=", "value": 3}
    ]}
  ]
}"""


def day_start(day) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.min))


def _yuan_to_fen(text: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return parse_yuan(text)
    except InvalidInput:
        raise forms.ValidationError(_("Enter an amount in yuan, e.g. 99.50.")) from None


class CustomerFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Name or phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Name or full phone number"), "type": "search"}),
    )
    tag = forms.TypedChoiceField(label=_("Tag"), required=False, coerce=int, empty_value=None)
    lifecycle = forms.ChoiceField(label=_("Lifecycle stage"), required=False)
    source = forms.ChoiceField(label=_("Source"), required=False)
    level = forms.TypedChoiceField(label=_("Level"), required=False, coerce=int, empty_value=None)
    segment = forms.TypedChoiceField(label=_("Segment"), required=False, coerce=int, empty_value=None)
    spend_min = forms.CharField(label=_("Spent from (yuan)"), max_length=14, required=False)
    spend_max = forms.CharField(label=_("Spent up to (yuan)"), max_length=14, required=False)
    last_after = forms.DateField(label=_("Last order on or after"), required=False, widget=DATE)
    last_before = forms.DateField(label=_("Last order on or before"), required=False, widget=DATE)

    def __init__(self, *args, tags=(), levels=(), segments=(), **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "tag").choices = [("", _("All tags")), *[(str(pk), name) for pk, name in tags]]
        choice_field(self, "lifecycle").choices = [("", _("All stages")), *lifecycle_choices()]
        choice_field(self, "source").choices = [("", _("All sources")), *source_choices()]
        choice_field(self, "level").choices = [
            ("", _("All levels")),
            ("0", _("No level")),
            *[(str(lv.pk), lv.name) for lv in levels],
        ]
        choice_field(self, "segment").choices = [("", _("All customers")), *[(str(s.pk), s.name) for s in segments]]
        for name in ("spend_min", "spend_max"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "placeholder": self.fields[name].label})

    def clean_spend_min(self):
        return _yuan_to_fen(self.cleaned_data["spend_min"])

    def clean_spend_max(self):
        return _yuan_to_fen(self.cleaned_data["spend_max"])

    def selector_filters(self) -> dict:
        """Filters for `customers_for_staff` from the fields that are valid; a bad one is left out."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = self.cleaned_data
        before = data.get("last_before")
        return {
            "q": data.get("q", ""),
            "tag": data.get("tag"),
            "lifecycle": data.get("lifecycle", ""),
            "source": data.get("source", ""),
            "level": data.get("level"),
            "segment": data.get("segment"),
            "spend_min": data.get("spend_min"),
            "spend_max": data.get("spend_max"),
            "last_order_after": day_start(data.get("last_after")),
            # "on or before" a day includes all of it
            "last_order_before": day_start(before + timedelta(days=1)) if before else None,
        }


class TagAddForm(forms.Form):
    tag = forms.TypedChoiceField(label=_("Tag"), required=False, coerce=int, empty_value=None)
    name = forms.CharField(
        label=_("or a new tag"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("New tag")}),
    )

    def __init__(self, *args, tags=(), **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "tag").choices = [("", _("Choose a tag")), *[(str(pk), name) for pk, name in tags]]

    def clean(self):
        super().clean()
        data = self.cleaned_data  # Form.clean() returns it too, but typed as optional
        if not data.get("tag") and not (data.get("name") or "").strip():
            raise forms.ValidationError(_("Choose a tag or type a new one."))
        return data


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class FollowUpForm(forms.Form):
    title = forms.CharField(label=_("What to do"), max_length=120)
    due_on = forms.DateField(label=_("Due on"), widget=DATE)
    assignee = forms.TypedChoiceField(label=_("Assigned to"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "assignee").choices = [("", _("(nobody)")), *[(str(m.pk), m.display_name) for m in staff]]
        if not self.is_bound:
            self.initial.setdefault("due_on", timezone.localdate() + timedelta(days=1))


class SocialLinkForm(forms.Form):
    account = forms.TypedChoiceField(label=_("Social account"), coerce=int)
    status = forms.ChoiceField(label=_("Status"), choices=social_status_choices)

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "account").choices = [(str(a.pk), a.name) for a in accounts]


def parse_rules(text: str):
    """The rules as JSON (an object or a list); the segment service decides what they mean."""
    if len(text) > MAX_RULES_CHARS:
        raise forms.ValidationError(_("The rules are too long."))
    try:
        rules = json.loads(text)
    except ValueError as exc:
        raise forms.ValidationError(_("The rules are not valid JSON: %(error)s"), params={"error": exc}) from None
    if not isinstance(rules, dict | list):
        raise forms.ValidationError(_("The rules must be a JSON object or list."))
    return rules


def rules_text(rules) -> str:
    return json.dumps(rules, ensure_ascii=False, indent=2) if rules else ""


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=40)
    rules = forms.CharField(
        label=_("Rules (JSON)"),
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "class": "mono"}),
        help_text=_("Conditions joined by “all” (and) or “any” (or); groups can nest. See the example."),
    )

    def clean_rules(self):
        return parse_rules(self.cleaned_data["rules"])


class SegmentPreviewForm(forms.Form):
    rules = forms.CharField(widget=forms.Textarea)

    def clean_rules(self):
        return parse_rules(self.cleaned_data["rules"])


class TagCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=20)
    rules = forms.CharField(
        label=_("Rules for an automatic tag (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "class": "mono"}),
        help_text=_("Leave empty for a manual tag. Same rules as segments; applied nightly and on demand."),
    )

    def clean_rules(self):
        text = self.cleaned_data["rules"].strip()
        return parse_rules(text) if text else None


# Our field (as the importer names it), its label, and whether the generic layout needs it.
GENERIC_COLUMNS = (
    ("phone", _("Phone column"), True),
    ("name", _("Name column"), False),
    ("external_id", _("Order number column"), False),
    ("placed_at", _("Order time column"), False),
    ("amount", _("Amount column"), False),
    ("items", _("Items column"), False),
    ("province", _("Province column"), False),
    ("city", _("City column"), False),
    ("address", _("Address column"), False),
)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
        help_text=_("CSV (UTF-8 or GBK) or Excel .xlsx, at most 20 MB."),
    )
    layout = forms.ChoiceField(
        label=_("Layout"),
        choices=[("auto", _("Recognise from the header")), *LAYOUT_LABELS.items()],
        initial="auto",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, text, _required in GENERIC_COLUMNS:
            self.fields[f"col_{key}"] = forms.CharField(
                label=text,
                max_length=60,
                required=False,
                widget=forms.TextInput(attrs={"placeholder": _("Header as in the file")}),
            )

    def mapping_fields(self):
        return [self[f"col_{key}"] for key, _text, _required in GENERIC_COLUMNS]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is too large (at most 20 MB)."))
        return upload

    def clean(self):
        super().clean()
        data = self.cleaned_data  # Form.clean() returns it too, but typed as optional
        if data.get("layout") == "generic":
            for key, _text, required in GENERIC_COLUMNS:
                if required and not (data.get(f"col_{key}") or "").strip():
                    self.add_error(f"col_{key}", _("Say which column holds the phone number."))
        return data

    def chosen_layout(self) -> str | None:
        """None lets the importer recognise the layout from the header."""
        layout = self.cleaned_data.get("layout")
        return None if layout == "auto" else layout

    def mapping(self) -> dict | None:
        """The file's header → our field, as the importer takes it; for the generic layout only."""
        if self.cleaned_data.get("layout") != "generic":
            return None
        pairs = ((key, (self.cleaned_data.get(f"col_{key}") or "").strip()) for key, _t, _r in GENERIC_COLUMNS)
        return {header: key for key, header in pairs if header}


class SocialAccountForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=40)
    kind = forms.ChoiceField(label=_("Kind"), choices=list(SOCIAL_KIND_LABELS.items()))
    handle = forms.CharField(label=_("WeChat ID"), max_length=60, required=False)
    capacity = forms.IntegerField(label=_("Friend capacity"), min_value=1, max_value=100_000, initial=5000)
    owner = forms.TypedChoiceField(label=_("Run by"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "owner").choices = [("", _("(nobody)")), *[(str(m.pk), m.display_name) for m in staff]]

    @classmethod
    def initial_for(cls, account) -> dict:
        return {
            "name": account.name,
            "kind": account.kind,
            "handle": account.handle,
            "capacity": account.capacity,
            "owner": account.owner_id or "",
        }

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["owner_id"] = data.pop("owner")
        return data


class LevelForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=20)
    min_spend = forms.CharField(label=_("From cumulative spend (yuan)"), max_length=14)
    discount_percent = forms.DecimalField(
        label=_("Discount (percent off)"),
        min_value=0,
        max_value=50,
        decimal_places=2,
        initial=0,
        help_text=_("E.g. 5 means 5 percent off; at most 50."),
    )
    free_shipping = forms.BooleanField(label=_("Free shipping"), required=False)

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "min_spend": data["min_spend"],
            "discount_bp": int(data["discount_percent"] * 100),
            "free_shipping": data["free_shipping"],
        }


def _days(label, help_text=None):
    return forms.IntegerField(label=label, min_value=1, max_value=3650, help_text=help_text)


class CrmSettingsForm(forms.Form):
    new_days = _days(_("New: first order within (days)"))
    active_days = _days(_("Active: last order within (days)"))
    at_risk_days = _days(_("At risk: last order within (days)"))
    dormant_days = _days(_("Dormant: last order within (days)"), _("Beyond this the customer counts as lost."))
    points_per_yuan = forms.IntegerField(label=_("Points earned per yuan spent"), min_value=0, max_value=1000)
    points_per_yuan_redeemed = forms.IntegerField(label=_("Points that pay one yuan"), min_value=1, max_value=100_000)
    max_redeem_bp = forms.IntegerField(
        label=_("Points pay at most (basis points of an order)"),
        min_value=0,
        max_value=10_000,
        help_text=_("5000 means half of an order."),
    )
    points_valid_days = _days(_("Points expire after (days)"))

    @classmethod
    def initial_for(cls, settings) -> dict:
        return {name: getattr(settings, name) for name in cls.base_fields}
