"""Withdrawals: a promoter asks for settled money, finance approves, the payout provider pays.

Asking moves the amount from the promoter's available account to the shop's payout clearing
account at once, under the account row lock, so two requests at the same moment can never take
more than is there. Paid: clearing → paid_out. Rejected or failed: clearing → available.
The idempotency key (out_no) is written with the request, long before any provider call; the
provider is called outside any transaction and the result applied after re-locking the row.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.ids import public_id
from siyu.core.money import format_yuan, parse_yuan
from siyu.core.permissions import Actor, actor_user, require
from siyu.shops.models import Shop

from . import ledger
from .models import DistributionSettings, Promoter, Withdrawal
from .payouts import payout_provider_get
from .promoters import settings_for
from .states import WITHDRAWAL, claimed_record

W = Withdrawal.Status


def _amount(value) -> int:
    if isinstance(value, bool):
        raise InvalidInput(detail={"amount": "not a number"})
    if isinstance(value, int):
        if value <= 0:
            raise InvalidInput(detail={"amount": "out of range"})
        return value
    return parse_yuan(value)


def withdrawal_request(*, shop: Shop, shopper: Shopper, amount) -> Withdrawal:
    """Ask to withdraw `amount` (fen, or a yuan string) of the available balance.
    Locks: the promoter's available account (in ledger.post)."""
    amount = _amount(amount)
    # A suspended promoter earns nothing new but may still take out what was earned.
    promoter = (
        Promoter.objects.filter(shop=shop, shopper=shopper)
        .filter(status__in=[Promoter.Status.APPROVED, Promoter.Status.SUSPENDED])
        .first()
    )
    if promoter is None:
        raise NotFound(_("You are not a promoter of this shop."), detail={"promoter": "none"})
    minimum = settings_for(shop).min_withdrawal
    if amount < minimum:
        raise InvalidInput(
            _("The smallest withdrawal is ¥%(amount)s.") % {"amount": format_yuan(minimum)},
            code="below_minimum",
            detail={"minimum": minimum},
        )
    available = ledger.promoter_account(promoter, ledger.AVAILABLE)
    clearing = ledger.shop_account(shop.pk, ledger.CLEARING)
    with transaction.atomic():
        withdrawal = Withdrawal.objects.create(shop=shop, promoter=promoter, amount=amount, out_no="WD" + public_id(24))
        ledger.post(
            shop_id=shop.pk,
            lines=ledger.transfer(available, clearing, amount),
            ref_type=ledger.REF_WITHDRAWAL,
            ref_id=withdrawal.pk,
            memo="requested",
        )
    return withdrawal


def _lock(shop: Shop, withdrawal_id: int) -> Withdrawal:
    found = Withdrawal.objects.select_for_update().filter(shop=shop, pk=withdrawal_id).first()
    if found is None:
        raise NotFound(detail={"withdrawal": withdrawal_id})
    return found


def withdrawal_approvals_needed(*, withdrawal: Withdrawal, shop_settings: DistributionSettings | None = None) -> int:
    """How many different people must approve this withdrawal: two above the shop's threshold.
    The one place this rule lives; pages ask it for display (passing the shop's settings when they
    ask for many rows), `withdrawal_approve` enforces it under the row lock."""
    shop_settings = shop_settings or settings_for(withdrawal.shop_id)
    return 2 if withdrawal.amount > shop_settings.second_approval_over else 1


def withdrawal_approve(*, actor: Actor, shop: Shop, withdrawal_id: int) -> Withdrawal:
    """Finance approves (finance.manage). Above the shop's threshold a second, different person
    must approve too before it can be paid; a first approval is recorded and leaves it requested.
    Locks: the withdrawal row."""
    require(actor, "finance.manage", shop_id=shop.pk)
    with transaction.atomic():
        withdrawal = _lock(shop, withdrawal_id)
        WITHDRAWAL.check(withdrawal.status, W.APPROVED)
        if any(a.get("staff") == actor.pk for a in withdrawal.approvals):
            raise Conflict(_("A second, different person must approve this."), code="second_approver_needed")
        approvals = [*withdrawal.approvals, {"staff": actor.pk, "at": timezone.now().isoformat()}]
        if len(approvals) >= withdrawal_approvals_needed(withdrawal=withdrawal):
            WITHDRAWAL.move(
                withdrawal, to=W.APPROVED, actor=actor_user(actor), why="approved", fields={"approvals": approvals}
            )
            return withdrawal
        withdrawal.approvals = approvals
        withdrawal.save(update_fields=["approvals"])
        audit_record(
            shop_id=shop.pk,
            actor=actor_user(actor),
            action="withdrawal.first_approval",
            target=withdrawal,
            data={"amount": withdrawal.amount, "approvals": len(approvals), "status": withdrawal.status},
        )
    return withdrawal


def _give_back(withdrawal: Withdrawal, memo: str) -> None:
    ledger.post(
        shop_id=withdrawal.shop_id,
        lines=ledger.transfer(
            ledger.shop_account(withdrawal.shop_id, ledger.CLEARING),
            ledger.promoter_account(withdrawal.promoter, ledger.AVAILABLE),
            withdrawal.amount,
        ),
        ref_type=ledger.REF_WITHDRAWAL,
        ref_id=withdrawal.pk,
        memo=memo,
    )


def withdrawal_reject(*, actor: Actor, shop: Shop, withdrawal_id: int, note: str = "") -> Withdrawal:
    """Refuse a withdrawal that is not being paid; the money goes back to available.
    Locks: the withdrawal row, then the promoter's available account."""
    require(actor, "finance.manage", shop_id=shop.pk)
    with transaction.atomic():
        withdrawal = _lock(shop, withdrawal_id)
        WITHDRAWAL.check(withdrawal.status, W.REJECTED)
        _give_back(withdrawal, "rejected")
        note = str(note)[:200]
        WITHDRAWAL.move(
            withdrawal,
            to=W.REJECTED,
            actor=actor_user(actor),
            why=note,
            fields={"note": note, "finished_at": timezone.now()},
        )
    return withdrawal


def withdrawal_pay(*, actor: Actor, shop: Shop, withdrawal_id: int, retry: bool = False) -> Withdrawal:
    """Pay an approved withdrawal through the payout provider.

    The row is claimed (approved → paying) by one conditional update, so of two calls at once only
    one reaches the provider; `retry=True` calls it again for one stuck in paying (the provider
    pays an out_no once). The provider is called outside any transaction."""
    require(actor, "finance.manage", shop_id=shop.pk)
    claimed = WITHDRAWAL.claim(Withdrawal.objects.filter(shop=shop, pk=withdrawal_id), current=W.APPROVED, to=W.PAYING)
    withdrawal = Withdrawal.objects.select_related("promoter").filter(shop=shop, pk=withdrawal_id).first()
    if withdrawal is None:
        raise NotFound(detail={"withdrawal": withdrawal_id})
    if claimed:
        claimed_record(WITHDRAWAL, withdrawal, before=W.APPROVED, actor=actor_user(actor), why="payout started")
    elif not (retry and withdrawal.status == W.PAYING):
        if withdrawal.status in (W.PAID, W.PAYING):
            return withdrawal  # paid, or being paid by another call
        WITHDRAWAL.check(withdrawal.status, W.PAYING)  # refuses: 409 bad_transition
    promoter = withdrawal.promoter
    result = payout_provider_get().pay(
        out_no=withdrawal.out_no,
        amount=withdrawal.amount,
        kind=promoter.payout_kind,
        account=promoter.payout_account,
        name=promoter.real_name,
    )
    if result.succeeded is None:
        return withdrawal
    return withdrawal_settle(
        withdrawal_id=withdrawal.pk,
        succeeded=result.succeeded,
        provider_ref=result.provider_ref,
        note=result.message,
        actor=actor,
    )


def withdrawal_settle(*, withdrawal_id: int, succeeded: bool, provider_ref: str = "", note: str = "", actor=None):
    """The provider answered. Repeatable: only a withdrawal still paying changes.
    Locks: the withdrawal row, then the promoter's available account when money goes back."""
    with transaction.atomic():
        withdrawal = Withdrawal.objects.select_for_update(of=("self",)).select_related("promoter").get(pk=withdrawal_id)
        if withdrawal.status != W.PAYING:
            return withdrawal
        if succeeded:
            ledger.post(
                shop_id=withdrawal.shop_id,
                lines=ledger.transfer(
                    ledger.shop_account(withdrawal.shop_id, ledger.CLEARING),
                    ledger.promoter_account(withdrawal.promoter, ledger.PAID_OUT),
                    withdrawal.amount,
                ),
                ref_type=ledger.REF_WITHDRAWAL,
                ref_id=withdrawal.pk,
                memo="paid",
            )
        else:
            _give_back(withdrawal, "payout failed")
        WITHDRAWAL.move(
            withdrawal,
            to=W.PAID if succeeded else W.FAILED,
            actor=actor_user(actor) if actor is not None else "payout provider",
            why=str(note)[:200],
            fields={"provider_ref": provider_ref[:64], "note": str(note)[:200], "finished_at": timezone.now()},
        )
    return withdrawal
