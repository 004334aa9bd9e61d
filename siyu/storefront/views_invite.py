"""The shopper's "invite friends" page: their invite link and poster, the rules, and whom they brought."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from siyu.core.money import format_yuan
from siyu.orders.models import OrderStatus
from siyu.referrals.models import ReferralReward, ReferralSettings
from siyu.referrals.selectors import invite_overview, referral_settings_for_staff
from siyu.referrals.services import REF_RE

from .helpers import current_shopper, shopper_required
from .poster import invite_poster_png


def reward_text(kind: str, amount: int) -> str:
    if kind == ReferralSettings.RewardKind.CREDIT:
        return _("¥%(amount)s store credit") % {"amount": format_yuan(amount)}
    return ngettext("%(n)s point", "%(n)s points", amount) % {"n": amount}


def rule_lines(rules: ReferralSettings) -> list[str]:
    lines = []
    if rules.referee_reward:
        lines.append(
            _("Your friend gets %(reward)s with their first order.")
            % {"reward": reward_text(rules.reward_kind, rules.referee_reward)}
        )
    if rules.referrer_reward:
        lines.append(
            _("You get %(reward)s once their first order is received and its return period is over.")
            % {"reward": reward_text(rules.reward_kind, rules.referrer_reward)}
        )
    lines.append(
        _("Only new customers count. A friend is yours for %(days)s days after they first open your link.")
        % {"days": rules.window_days}
    )
    return lines


def invite_url(request, code: str) -> str:
    return f"{request.build_absolute_uri(reverse('storefront:home'))}?ref={code}"


@shopper_required
@require_GET
def invite(request):
    shopper = current_shopper(request)
    overview = invite_overview(shop=request.shop, shopper=shopper)
    statuses = dict(OrderStatus.choices)
    reward_statuses = dict(ReferralReward.Status.choices)
    rows = [
        {
            "referral": r,
            "first_order": statuses.get(r.first_order_status or "", ""),
            "reward": reward_text(r.my_reward.kind, r.my_reward.amount) if r.my_reward else "",
            "reward_status": reward_statuses.get(r.my_reward.status, "") if r.my_reward else "",
        }
        for r in overview.referrals
    ]
    kind = overview.rules.reward_kind
    return render(
        request,
        "storefront/invite.html",
        {
            "o": overview,
            "referrals": rows,
            "rules": rule_lines(overview.rules),
            "share_url": invite_url(request, shopper.share_code),
            "ref": shopper.share_code,
            "pending_text": reward_text(kind, overview.pending_total),
            "granted_text": reward_text(kind, overview.granted_total),
        },
    )


@require_GET
@cache_control(max_age=600, public=True)
def invite_poster(request):
    """The shop's invite poster PNG, its QR code carrying the sharer's code (?ref=)."""
    ref = request.GET.get("ref", "")
    if ref and not REF_RE.match(ref):
        raise Http404()
    rules = referral_settings_for_staff(shop=request.shop)
    url = invite_url(request, ref) if ref else request.build_absolute_uri(reverse("storefront:home"))
    lines = []
    if rules.enabled and rules.referee_reward:
        lines.append(
            _("New customers get %(reward)s with their first order.")
            % {"reward": reward_text(rules.reward_kind, rules.referee_reward)}
        )
    lines.append(_("Scan the code to visit the shop."))
    title = _("A friend invites you to %(shop)s") % {"shop": request.shop.name}
    png = invite_poster_png(shop=request.shop, share_url=url, title=title, lines=lines)
    return HttpResponse(png, content_type="image/png")
