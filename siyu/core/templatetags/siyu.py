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
