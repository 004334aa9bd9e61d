"""Money is integer fen; rates are integer basis points. No floats near money."""

from decimal import ROUND_DOWN, Decimal, InvalidOperation

from .errors import InvalidInput

BASIS_POINTS = 10_000


def apply_rate(amount_fen: int, rate_bp: int) -> int:
    """The one rounding rule: a share of an amount, rounded down to the fen."""
    return (amount_fen * rate_bp) // BASIS_POINTS


def ratio_bp(part: int, whole: int) -> int:
    """`part` of `whole` in basis points, rounded half up, for a rate people read (2 of 3 is 6667,
    66.67%, not a truncated 66.66%). 0 when there is no whole. Money shares use apply_rate."""
    if not whole:
        return 0
    return (part * 2 * BASIS_POINTS + whole) // (2 * whole)


def format_yuan(amount_fen: int | None) -> str:
    if amount_fen is None:
        return ""
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(int(amount_fen)), 100)
    return f"{sign}{yuan}.{fen:02d}"


def parse_yuan(text: str | int | None, *, field: str = "amount") -> int:
    """Parse '12.5' or '12.50' yuan into 1250 fen; refuse more than two decimals or negatives."""
    if text is None or str(text).strip() == "":
        raise InvalidInput(detail={field: "required"})
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise InvalidInput(detail={field: "not a number"}) from None
    if not value.is_finite() or value < 0 or value > Decimal("100000000"):
        raise InvalidInput(detail={field: "out of range"})
    fen = value * 100
    if fen != fen.quantize(Decimal(1), rounding=ROUND_DOWN):
        raise InvalidInput(detail={field: "at most two decimals"})
    return int(fen)
