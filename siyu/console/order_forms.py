"""Forms of the order pages. They check the shape of input; the rules live in the order services."""

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.errors import InvalidInput
from siyu.core.money import parse_yuan

from .forms import IsoDateInput, choice_field
from .labels import aftersale_status_choices, order_status_choices
from .rendering import detail_text

DATE = IsoDateInput()
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def day_start(day) -> datetime | None:
    """The first instant of a calendar day in the shop's time zone."""
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.min))


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    placed_from = forms.DateField(label=_("Placed from"), required=False, widget=DATE)
    placed_to = forms.DateField(label=_("Placed to"), required=False, widget=DATE)
    q = forms.CharField(
        label=_("Order number, phone or recipient"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Order number, phone or recipient")}),
    )
    product = forms.ChoiceField(label=_("Product"), required=False)

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "status").choices = [("", _("All statuses")), *order_status_choices()]
        choice_field(self, "product").choices = [("", _("All products"))] + [(p.public_id, p.name) for p in products]

    def selector_args(self) -> dict:
        """Arguments for `orders_for_staff` from the fields that are valid; a bad one is left out."""
        if not self.is_bound:
            return {}
        self.is_valid()  # fills cleaned_data with the fields that are valid
        data = self.cleaned_data
        placed_to = data.get("placed_to")
        return {
            "status": data.get("status", ""),
            "date_from": day_start(data.get("placed_from")),
            # "to" is inclusive for people: up to the start of the next day.
            "date_to": day_start(placed_to + timedelta(days=1)) if placed_to else None,
            "q": data.get("q", ""),
            "product_id": data.get("product", ""),
        }


# The couriers most Chinese sellers ship with, by the names on their waybills; anything else is
# "other" with the name typed in. The shipment keeps the name, so the list can change freely.
CARRIERS = [
    *("顺丰速运", "中通快递", "圆通速递", "韵达快递", "申通快递"),
    *("极兔速递", "京东物流", "中国邮政", "EMS", "德邦快递"),
]
OTHER_CARRIER = "other"


class ShipForm(forms.Form):
    """Carrier (from the list, or another typed in) and tracking number, and optionally how many of
    each line go in this parcel."""

    carrier = forms.ChoiceField(label=_("Carrier"))
    carrier_other = forms.CharField(
        label=_("Other carrier"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("The carrier's name")}),
    )
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=40)

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "carrier").choices = [
            ("", _("Choose a carrier")),
            *((name, name) for name in CARRIERS),
            (OTHER_CARRIER, pgettext_lazy("carrier", "Other")),
        ]
        self.open_lines = []
        for line in lines:
            left = line.quantity - line.refunded_quantity - line.shipped_quantity
            if left <= 0:
                continue
            name = f"qty_{line.pk}"
            self.fields[name] = forms.IntegerField(
                label=f"{line.product_name} {line.sku_label}".strip(),
                required=False,
                min_value=0,
                max_value=left,
                widget=forms.NumberInput(attrs={"placeholder": str(left)}),
            )
            self.open_lines.append((line, left, name))

    def clean(self) -> dict:
        data = super().clean() or self.cleaned_data
        if data.get("carrier") == OTHER_CARRIER:
            other = (data.get("carrier_other") or "").strip()
            if not other:
                self.add_error("carrier_other", _("Enter the carrier's name."))
            data["carrier"] = other
        return data

    def line_rows(self):
        return [(line, left, self[name]) for line, left, name in self.open_lines]

    def quantity_fields(self):
        return {name for _line, _left, name in self.open_lines}

    def service_lines(self) -> dict | None:
        """None ships everything left; filled boxes make a partial shipment (0 leaves a line out)."""
        chosen = {line.pk: self.cleaned_data.get(name) for line, _left, name in self.open_lines}
        if all(q is None for q in chosen.values()):
            return None
        return {pk: q for pk, q in chosen.items() if q}


class BatchShipForm(forms.Form):
    file = forms.FileField(
        label=_("Spreadsheet"),
        help_text=_("A .csv (UTF-8 or GBK) or .xlsx file, at most 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is too large (at most 5 MB)."))
        return upload


class ManualPaymentForm(forms.Form):
    amount = forms.CharField(
        label=_("Amount received (yuan)"), max_length=14, help_text=_("Must equal the order total.")
    )
    reference = forms.CharField(
        label=_("Transfer reference"),
        min_length=4,
        max_length=40,
        help_text=_("The bank's serial number or the transfer note, so the same transfer is never recorded twice."),
    )

    def clean_amount(self) -> int:
        try:
            return parse_yuan(self.cleaned_data["amount"])
        except InvalidInput as exc:
            raise forms.ValidationError(detail_text(exc.detail.get("amount", ""))) from None


REFUND_QUEUE = "refund_due"  # not a status: refunds recommended by staff, waiting for refunds.approve


class AfterSaleFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "status").choices = [
            ("", _("All statuses")),
            (REFUND_QUEUE, _("Refunds awaiting approval")),
            *aftersale_status_choices(),
        ]


class AfterSaleDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    note = forms.CharField(label=pgettext_lazy("staff", "Note"), max_length=300, required=False)
