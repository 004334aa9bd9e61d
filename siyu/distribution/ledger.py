"""The promoter money ledger: double-entry, append-only.

Money moves from one account to another: the account it leaves gets a negative entry, the account
it reaches a positive one, so the lines of every transaction sum to zero and a balance is the sum
of an account's entries. A promoter has three accounts (frozen, available, paid_out); the shop has
two (commission_expense, where commission comes from, and payout_clearing, where a requested
withdrawal waits until it is paid or given back).

A promoter account never goes below zero: before a posting takes money out of one, its row is
locked (all such rows in primary-key order) and the balance is checked under that lock. The shop's
own accounts are never locked, so they do not become a hot row shared by every posting.
"""

import secrets
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from siyu.core.errors import Conflict, DomainError

from .models import LedgerAccount, LedgerEntry, Promoter

FROZEN, AVAILABLE, PAID_OUT = "frozen", "available", "paid_out"
EXPENSE, CLEARING = "commission_expense", "payout_clearing"
PROMOTER_KINDS = (FROZEN, AVAILABLE, PAID_OUT)
SHOP_KINDS = (EXPENSE, CLEARING)
REF_COMMISSION, REF_WITHDRAWAL = "commission", "withdrawal"


class LedgerUnbalanced(DomainError):
    """A posting whose lines do not sum to zero. No request can cause it: it means a bug in the
    code that built the lines, so it answers 500 (still with the usual error body) and writes nothing."""

    code = "ledger_unbalanced"
    status = 500
    default_message = _("The books would not balance; nothing was recorded.")


def account_get(*, shop_id: int, promoter_id: int | None, kind: str) -> LedgerAccount:
    """The account of this kind, made on first use (two first uses at once make one row)."""
    if (kind in PROMOTER_KINDS) != (promoter_id is not None):
        raise ValueError(f"{kind} is {'a promoter' if kind in PROMOTER_KINDS else 'a shop'} account")
    key = {"shop_id": shop_id, "promoter_id": promoter_id, "kind": kind}  # promoter None: a shop account
    found = LedgerAccount.objects.filter(**key).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return LedgerAccount.objects.create(**key)
    except IntegrityError:
        return LedgerAccount.objects.get(**key)


def promoter_account(promoter: Promoter, kind: str) -> LedgerAccount:
    return account_get(shop_id=promoter.shop_id, promoter_id=promoter.pk, kind=kind)


def shop_account(shop_id: int, kind: str) -> LedgerAccount:
    return account_get(shop_id=shop_id, promoter_id=None, kind=kind)


def accounts_lock(account_ids: Iterable[int]) -> None:
    """Lock account rows in primary-key order for the rest of the caller's transaction."""
    ids = sorted(set(account_ids))
    if ids:
        list(LedgerAccount.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))


def balance(account: LedgerAccount | int) -> int:
    account_id = account if isinstance(account, int) else account.pk
    return LedgerEntry.objects.filter(account_id=account_id).aggregate(total=Coalesce(Sum("amount"), 0))["total"]


def balances_of(*, promoter: Promoter) -> dict[str, int]:
    """Every account balance of one promoter, from one grouped query; missing accounts read 0."""
    rows = (
        LedgerEntry.objects.filter(account__promoter=promoter)
        .order_by()
        .values("account__kind")
        .annotate(total=Sum("amount"))
    )
    found = {row["account__kind"]: row["total"] for row in rows}
    return {kind: found.get(kind, 0) for kind in PROMOTER_KINDS}


def transfer(source: LedgerAccount, target: LedgerAccount, amount: int) -> list[tuple[LedgerAccount, int]]:
    """The two lines of a move of `amount` from `source` to `target`."""
    return [(source, -amount), (target, amount)]


def post(*, shop_id: int, lines: list[tuple[LedgerAccount, int]], ref_type: str, ref_id: int, memo: str = "") -> str:
    """Write one balanced transaction and return its id; refuse (Conflict) if it would take a
    promoter account below zero. Locks: the promoter accounts it takes money from (pk order)."""
    lines = [(account, int(amount)) for account, amount in lines if amount]
    total = sum(amount for _, amount in lines)
    if total != 0:  # a real check, not an assert: `python -O` must not let money appear from nowhere
        raise LedgerUnbalanced(detail={"sum": total, "ref_type": ref_type, "ref_id": ref_id})
    if not lines:
        return ""
    debited = {account.pk for account, amount in lines if amount < 0 and account.promoter_id is not None}
    txn = secrets.token_hex(16)
    with transaction.atomic():
        accounts_lock(debited)
        if debited:
            have = dict(
                LedgerEntry.objects.filter(account_id__in=debited)
                .order_by()
                .values("account_id")
                .annotate(total=Sum("amount"))
                .values_list("account_id", "total")
            )
            change: dict[int, int] = {}
            for account, amount in lines:
                change[account.pk] = change.get(account.pk, 0) + amount
            for account_id in debited:
                if have.get(account_id, 0) + change[account_id] < 0:
                    raise Conflict(
                        _("Not enough balance."),
                        code="insufficient_balance",
                        detail={"balance": have.get(account_id, 0), "amount": -change[account_id]},
                    )
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    shop_id=shop_id,
                    transaction=txn,
                    account=account,
                    amount=amount,
                    ref_type=ref_type,
                    ref_id=ref_id,
                    memo=memo[:100],
                )
                for account, amount in lines
            ]
        )
    return txn


def entries_for(*, ref_type: str, ref_id: int) -> list[LedgerEntry]:
    """Every posting made for one commission or withdrawal, oldest first."""
    return list(LedgerEntry.objects.filter(ref_type=ref_type, ref_id=ref_id).select_related("account").order_by("id"))
