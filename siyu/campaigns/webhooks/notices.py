"""Telling a shop's owners that an endpoint was disabled after repeated failure.

The console shows it on the webhooks page (and `webhook_notices` lets any page show it); owners
whose account has an email address also get an email through Django's mail settings. Siyu has no
other channel to its staff: its SMS path sends sign-in codes from an approved template only.
"""

import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from siyu.accounts.models import StaffMember
from siyu.accounts.roles import OWNER

from .models import EndpointStatus, WebhookEndpoint

logger = logging.getLogger("siyu.webhooks")


def webhook_notices(*, shop) -> list[WebhookEndpoint]:
    """Endpoints the worker disabled, for a notice in the console: one query."""
    return list(
        WebhookEndpoint.objects.filter(shop=shop, status=EndpointStatus.DISABLED, disabled_reason="failing").order_by(
            "-disabled_at"
        )
    )


def owners_tell_disabled(*, endpoint_id: int) -> int:
    """Email the active owners who have an address; returns how many were written to."""
    endpoint = WebhookEndpoint.objects.select_related("shop").filter(pk=endpoint_id).first()
    if endpoint is None or endpoint.disabled_reason != "failing":
        return 0
    owners = StaffMember.objects.filter(shop_id=endpoint.shop_id, role=OWNER, is_active=True).select_related("user")
    to = sorted({m.user.email for m in owners if m.user.email})
    if not to:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("[%(shop)s] A webhook endpoint was disabled") % {"shop": endpoint.shop.name}
        text = _(
            "Deliveries to %(url)s kept failing, so Siyu stopped sending to it. Fix the receiver, then "
            "enable the endpoint again in the console (Webhooks); deliveries still due will be sent."
        ) % {"url": endpoint.url}
    try:
        send_mail(subject, text, None, to)
    except (smtplib.SMTPException, OSError):
        logger.exception("could not email the owners of shop %s about webhook %s", endpoint.shop_id, endpoint.public_id)
        raise
    return len(to)
