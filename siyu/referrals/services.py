"""The public entry points of the referrals domain: interfaces import from here.

Attribution (share visits, first-touch bindings), rewards (created when a referred customer's
first order completes, granted after its return window, reversed by a refund) and the rules.
"""

from .attribution import REF_RE, ref_should_replace, referral_bind, share_code_resolve, share_visit_record
from .rewards import (
    referral_rewards_create,
    referral_rewards_grant_due,
    referral_rewards_reverse,
    return_window_end,
)
from .rules import PERM, referral_settings_get, referral_settings_update

__all__ = [
    "PERM",
    "REF_RE",
    "ref_should_replace",
    "referral_bind",
    "referral_rewards_create",
    "referral_rewards_grant_due",
    "referral_rewards_reverse",
    "referral_settings_get",
    "referral_settings_update",
    "return_window_end",
    "share_code_resolve",
    "share_visit_record",
]
