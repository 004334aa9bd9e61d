"""The campaign events other parts (webhook subscribers: a BI tool, an ERP) hear about, recorded in
the outbox in the transaction that moves the campaign, so they go out once it commits:

  campaign.started   preparing is over and sending begins: the audience is fixed and split
  campaign.finished  the last message is settled ("done"), or a started campaign was cancelled;
                     with the final counts per recipient status (one grouped query, once)

The payload is the webhook's `data` as is: {"campaign": {...}} (see campaign_data).
"""

from django.db.models import Count

from siyu.core.events import event_record

from .models import Campaign, CampaignRecipient, RecipientStatus

STARTED = "campaign.started"
FINISHED = "campaign.finished"


def _at(value) -> str | None:
    return value.isoformat() if value else None


def campaign_data(campaign: Campaign, *, counts: dict[str, int] | None = None) -> dict:
    data = {
        "id": campaign.public_id,
        "name": campaign.name,
        "status": campaign.status,
        "channel": campaign.channel,
        "segment": campaign.segment_name,
        "holdout_bp": campaign.holdout_bp,
        "attribution_days": campaign.attribution_days,
        "recipients": campaign.prepared,
        "control": campaign.control,
        "send_started_at": _at(campaign.send_started_at),
        "finished_at": _at(campaign.finished_at),
    }
    if counts is not None:
        data["messages"] = {s: counts.get(s, 0) for s in RecipientStatus.values if s != RecipientStatus.CONTROL}
    return data


def campaign_started_record(campaign: Campaign) -> None:
    """Call inside the transaction that moved the campaign to sending."""
    event_record(topic=STARTED, shop_id=campaign.shop_id, payload={"campaign": campaign_data(campaign)})


def campaign_finished_record(campaign: Campaign) -> None:
    """Call inside the transaction that moved a started campaign to done or cancelled."""
    rows = CampaignRecipient.objects.filter(campaign=campaign).values("status").annotate(n=Count("pk")).order_by()
    counts = {r["status"]: r["n"] for r in rows}
    event_record(topic=FINISHED, shop_id=campaign.shop_id, payload={"campaign": campaign_data(campaign, counts=counts)})
