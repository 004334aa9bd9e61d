"""Forms of the fission and distribution pages. They check shapes and convert what people type
(yuan, percentages) into what the services take (fen, basis points); the rules stay in the services."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.core.errors import InvalidInput
from siyu.core.money import format_yuan, parse_yuan

from ..forms import choice_field

PERIOD_CHOICES = [("day", _("Day")), ("week", _("Week")), ("month", _("Month"))]
DAYS_CHOICES = [("7", _("Last 7 days")), ("30", _("Last 30 days")), ("90", _("Last 90 days")), ("365", _("Last year"))]


def percent_to_bp(text, *, field: str) -> int:
    """ "12.5" (percent) → 1250 basis points; at most two decimals, never negative."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise InvalidInput(detail={field: "not a number"}) from None
    if not value.is_finite() or value < 0 or value > 100:
        raise InvalidInput(detail={field: "out of range"})
    bp = value * 100
    if bp != bp.to_integral_value():
        raise InvalidInput(detail={field: "at most two decimals"})
    return int(bp)


def bp_to_percent(bp: int) -> str:
    whole, rest = divmod(int(bp), 100)
    return f"{whole}.{rest:02d}".rstrip("0") if rest else str(whole)


class PeriodForm(forms.Form):
    days = forms.ChoiceField(label=_("Period"), choices=DAYS_CHOICES, required=False)
    period = forms.ChoiceField(label=_("K-factor by"), choices=PERIOD_CHOICES, required=False)


class ReferralSettingsForm(forms.Form):
    enabled = forms.BooleanField(label=_("Referral rewards are on"), required=False)
    window_days = forms.IntegerField(
        label=_("Protection window (days)"),
        min_value=1,
        max_value=365,
        help_text=_("A new visitor stays bound to the first person whose link brought them, for this many days."),
    )
    reward_kind = forms.ChoiceField(label=_("Reward"), choices=[("points", _("Points")), ("credit", _("Store credit"))])
    referrer_reward = forms.CharField(
        label=_("Reward for the referrer"), max_length=12, help_text=_("Points, or yuan of store credit.")
    )
    referee_reward = forms.CharField(
        label=_("Reward for the new customer"), max_length=12, help_text=_("Points, or yuan of store credit.")
    )

    @staticmethod
    def initial_for(rules) -> dict:
        as_text = format_yuan if rules.reward_kind == "credit" else str
        return {
            "enabled": rules.enabled,
            "window_days": rules.window_days,
            "reward_kind": rules.reward_kind,
            "referrer_reward": as_text(rules.referrer_reward),
            "referee_reward": as_text(rules.referee_reward),
        }

    def service_data(self) -> dict:
        """Store credit is typed in yuan and kept in fen; points are whole numbers."""
        data = dict(self.cleaned_data)
        for key in ("referrer_reward", "referee_reward"):
            text = str(data[key]).strip()
            if data["reward_kind"] == "credit":
                data[key] = parse_yuan(text, field=key)
            elif text.isdigit():
                data[key] = int(text)
            else:
                raise InvalidInput(detail={key: "not a whole number"})
        return data


class DistributionSettingsForm(forms.Form):
    enabled = forms.BooleanField(label=_("Promoters are on"), required=False)
    # Only the two allowed values are offered; the service refuses anything else from any door.
    tiers = forms.ChoiceField(
        label=_("Commission tiers"),
        choices=[
            ("1", _("1 tier: the promoter who shared")),
            ("2", _("2 tiers: also the promoter who introduced them")),
        ],
    )
    default_rate = forms.CharField(label=_("Default commission (%)"), max_length=8)
    second_tier_rate = forms.CharField(label=_("Second-tier commission (%)"), max_length=8)
    freeze_days = forms.IntegerField(
        label=_("Freeze period (days)"),
        min_value=0,
        max_value=90,
        help_text=_("Counted after receipt plus the return window; then the commission can be withdrawn."),
    )
    min_withdrawal = forms.CharField(label=_("Smallest withdrawal (yuan)"), max_length=12)
    second_approval_over = forms.CharField(
        label=_("Second approver above (yuan)"),
        max_length=12,
        help_text=_("Withdrawals above this amount need two different finance approvers."),
    )

    @staticmethod
    def initial_for(settings) -> dict:
        return {
            "enabled": settings.enabled,
            "tiers": str(settings.tiers),
            "default_rate": bp_to_percent(settings.default_rate_bp),
            "second_tier_rate": bp_to_percent(settings.second_tier_rate_bp),
            "freeze_days": settings.freeze_days,
            "min_withdrawal": format_yuan(settings.min_withdrawal),
            "second_approval_over": format_yuan(settings.second_approval_over),
        }

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "enabled": data["enabled"],
            "tiers": data["tiers"],
            "default_rate_bp": percent_to_bp(data["default_rate"], field="default_rate"),
            "second_tier_rate_bp": percent_to_bp(data["second_tier_rate"], field="second_tier_rate"),
            "freeze_days": data["freeze_days"],
            "min_withdrawal": data["min_withdrawal"],
            "second_approval_over": data["second_approval_over"],
        }


class CommissionRuleForm(forms.Form):
    product = forms.ChoiceField(label=_("Product"), required=False)
    category = forms.ChoiceField(label=_("or category"), required=False)
    tier = forms.ChoiceField(label=_("Tier"), choices=[("1", _("Tier 1")), ("2", _("Tier 2"))])
    rate = forms.CharField(label=_("Commission (%)"), max_length=8)

    def __init__(self, *args, products=(), categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "product").choices = [("", "—")] + [(str(p.pk), p.name) for p in products]
        choice_field(self, "category").choices = categories

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "product_id": int(data["product"]) if data["product"] else None,
            "category_id": int(data["category"]) if data["category"] else None,
            "tier": int(data["tier"]),
            "rate_bp": percent_to_bp(data["rate"], field="rate"),
        }


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class PriceFloorForm(forms.Form):
    sku = forms.ChoiceField(label=_("Variant"))
    min_price = forms.CharField(
        label=_("Minimum advertised price (yuan)"), max_length=12, help_text=_("0 removes the floor.")
    )

    def __init__(self, *args, skus=(), **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "sku").choices = [("", "—")] + [
            (str(s.pk), f"{s.product.name}{' · ' + s.label if s.label else ''} (¥{format_yuan(s.price)})") for s in skus
        ]
