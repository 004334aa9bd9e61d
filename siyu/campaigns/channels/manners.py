"""Manners: quiet hours, the per-customer frequency cap and the per-channel rate limit."""

from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from .models import ChannelSettings, MessageLog, MessageStatus

COUNTED = (MessageStatus.SENT, MessageStatus.SENDING)


def _minute_of_day(now: datetime) -> int:
    local = timezone.localtime(now)  # shop time: the deployment's TIME_ZONE
    return local.hour * 60 + local.minute


def in_quiet_hours(settings: ChannelSettings, now: datetime) -> bool:
    """True inside [quiet_start, quiet_end) shop time; the window may wrap midnight (21:00–09:00);
    equal start and end mean no quiet hours."""
    start, end, minute = settings.quiet_start, settings.quiet_end, _minute_of_day(now)
    if start == end:
        return False
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def quiet_hours_end(settings: ChannelSettings, now: datetime) -> datetime:
    """The first moment at or after `now` outside quiet hours (when a refused send may try again)."""
    if not in_quiet_hours(settings, now):
        return now
    local = timezone.localtime(now).replace(second=0, microsecond=0)
    wait = (settings.quiet_end - _minute_of_day(now)) % (24 * 60)
    return local + timedelta(minutes=wait)


def cap_reached(settings: ChannelSettings, *, customer_id: int, now: datetime, key: str) -> bool:
    """Has the customer had `cap_messages` marketing messages (sent or being sent, any channel) in the
    last `cap_days`? The caller holds the customer's row lock, so two sends cannot both pass."""
    if settings.cap_messages == 0:
        return True
    since = now - timedelta(days=settings.cap_days)
    counted = (
        MessageLog.objects.filter(customer_id=customer_id, status__in=COUNTED, claimed_at__gte=since)
        .exclude(shop_id=settings.shop_id, key=key)
        .count()
    )
    return counted >= settings.cap_messages


def rate_take(*, shop_id: int, channel: str, per_minute: int, now: datetime) -> bool:
    """Take one token from the channel's bucket, refilled to `per_minute` at each minute (a counter in
    the cache: `add` then `incr` are atomic on Redis and in local memory, so workers share it).
    False when the bucket is empty: the send fails "rate_limited" and the caller retries later."""
    window = int(now.timestamp()) // 60
    key = f"siyu:channels:rate:{shop_id}:{channel}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        taken = cache.incr(key)
    except ValueError:  # evicted between add and incr: start the window again
        cache.add(key, 1, timeout=120)
        taken = 1
    return taken <= per_minute
