"""Channels: per-shop settings, per-channel configuration (credentials encrypted), where each
customer can be reached on a channel, and the message log (the idempotency record and the source of
the frequency cap)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from siyu.core.crypto import EncryptedTextField
from siyu.customers.models import Customer
from siyu.shops.models import Shop

CHANNEL_CHOICES = [
    ("log", _("Log (development)")),
    ("sms", _("SMS")),
    ("email", _("Email")),
    ("wecom", _("WeCom customer contact")),
    ("wechat_oa", _("WeChat Official Account")),
]


class ChannelSettings(models.Model):
    """A shop's manners: quiet hours (shop time, minutes after midnight) and the frequency cap."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="channel_settings")
    quiet_start = models.PositiveSmallIntegerField(_("quiet hours start (minute of the day)"), default=21 * 60)
    quiet_end = models.PositiveSmallIntegerField(_("quiet hours end (minute of the day)"), default=9 * 60)
    cap_messages = models.PositiveSmallIntegerField(_("marketing messages per customer"), default=2)
    cap_days = models.PositiveSmallIntegerField(_("within days"), default=7)


class ChannelConfig(models.Model):
    """One channel of one shop: on or off, what a message costs, how fast it may send, credentials."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="channel_configs")
    channel = models.CharField(max_length=10, choices=CHANNEL_CHOICES)
    enabled = models.BooleanField(default=False)
    cost_fen = models.PositiveIntegerField(default=0)
    rate_per_minute = models.PositiveIntegerField(default=600)
    # JSON object of the channel's credentials (app ids, secrets), encrypted at rest
    credentials = EncryptedTextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["shop", "channel"], name="channel_config_unique")]


class ChannelAddress(models.Model):
    """Where a customer is reached on a channel the pool has no field for: an email address, a WeCom
    external_userid, an Official Account openid. Personal data, so encrypted."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="channel_addresses")
    channel = models.CharField(max_length=10, choices=CHANNEL_CHOICES)
    address = EncryptedTextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "channel"], name="channel_address_unique")]


class MessageStatus(models.TextChoices):
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    REFUSED = "refused", _("Refused")


class MessageLog(models.Model):
    """One marketing message to one customer, keyed by the caller's idempotency key.

    The row is claimed (inserted or moved to `sending`) before the provider is called and settled
    after, so a key is sent at most once; sent and sending rows count against the frequency cap."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, null=True, on_delete=models.SET_NULL, related_name="messages")
    channel = models.CharField(max_length=10, choices=CHANNEL_CHOICES)
    key = models.CharField(max_length=120)
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.SENDING)
    reason = models.CharField(max_length=200, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    cost_fen = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["shop", "key"], name="message_key_unique")]
        indexes = [
            models.Index(
                fields=["customer", "claimed_at"], name="message_cap_idx", condition=Q(status__in=["sending", "sent"])
            ),
            models.Index(fields=["shop", "channel", "status"]),
        ]


class Unsubscribe(models.Model):
    """The customer used an unsubscribe path (a link or a TD reply): marketing consent was withdrawn
    then. Kept so a refusal can say "unsubscribed" rather than "no consent"."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="unsubscribe")
    via = models.CharField(max_length=10)
    at = models.DateTimeField()
