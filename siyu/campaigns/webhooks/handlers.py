"""The outbox subscriptions that turn events into webhook deliveries (imported by the AppConfig)."""

from siyu.core.events import subscribe

from .delivery import webhooks_fan_out
from .payloads import webhook_topics

for _topic in webhook_topics():
    subscribe(_topic)(webhooks_fan_out)
