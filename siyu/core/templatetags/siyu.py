from django import template

from siyu.core.money import format_yuan

register = template.Library()


@register.filter
def yuan(amount_fen) -> str:
    """12345 fen → '123.45'."""
    try:
        return format_yuan(int(amount_fen))
    except (TypeError, ValueError):
        return ""


@register.filter
def bp_percent(bp: int) -> str:
    """Basis points as a percentage without trailing zeros: 1250 → '12.5', 1000 → '10'."""
    whole, rest = divmod(int(bp), 100)
    return f"{whole}" if not rest else f"{whole}.{rest:02d}".rstrip("0")
