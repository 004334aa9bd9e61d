from django import template

from siyu.core.money import format_yuan

register = template.Library()


@register.filter
def yuan(fen) -> str:
    """Integer fen as yuan text: 1990 → '19.90'; empty for None."""
    return format_yuan(fen) if fen not in (None, "") else ""


@register.simple_tag
def price_range(low, high) -> str:
    if low == high:
        return f"¥{format_yuan(low)}"
    return f"¥{format_yuan(low)}–{format_yuan(high)}"
