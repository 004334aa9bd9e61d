"""The channels interface campaigns build on (siyu.campaigns.outreach): fixed, keep it stable.

    message_allowed(shop=, customer=, channel=, now=None) -> (allowed, reason)
    message_send(shop=, customer=, message=Message(...), now=None) -> SendResult
    channel_cost(shop=, channel=) -> fen
    storefront_url(shop, name, *args) -> the absolute URL of a storefront page, as messages carry it

SendResult.status: "sent"; "failed" (retry later with back-off and the same key: a provider error,
"rate_limited", "in_progress"; "outcome_unknown" is final); "refused" (no_consent, unsubscribed,
quiet_hours — retry after next_send_time —, frequency_cap, no_address, channel_off, unknown_channel).
"""

from .config import channel_cost
from .messages import CHANNELS, Message, SendResult
from .sending import message_allowed, message_send, next_send_time
from .unsubscribe import storefront_base, storefront_url, unsubscribe_url

__all__ = [
    "CHANNELS",
    "Message",
    "SendResult",
    "channel_cost",
    "message_allowed",
    "message_send",
    "next_send_time",
    "storefront_base",
    "storefront_url",
    "unsubscribe_url",
]
