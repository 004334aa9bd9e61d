"""The values a campaign hands to a channel and gets back (see api.py)."""

from dataclasses import dataclass

CHANNELS = ("log", "sms", "email", "wecom", "wechat_oa")


@dataclass(frozen=True)
class Message:
    """What a campaign asks to send."""

    channel: str
    text: str  # already merged; the channel appends the unsubscribe path itself
    subject: str = ""  # email
    link: str = ""  # a tracked short link to include, if any
    key: str = ""  # idempotency key, unique per (shop, key): "campaign:<id>:<customer id>:<channel>"


@dataclass(frozen=True)
class SendResult:
    status: str  # "sent" | "failed" | "refused"
    reason: str = ""
    provider_id: str = ""
    cost_fen: int = 0
