"""What the checkout page says about a quote: each price rule on its own line.

The amounts all come from `order_quote` (prices are computed on the server, once); this module
only words them: which postage rule applied, which adjustment took what off, and how many points
the shopper holds and may use on this basket.
"""

from django.utils.translation import gettext as _

from siyu.catalog.shipping import is_remote
from siyu.core.money import format_yuan
from siyu.customers.membership import points_offer
from siyu.orders.checkout import Quote


def _postage_rules(*, quote: Quote, province: str) -> list[str]:
    """One phrase per shipping template in the basket, e.g. "满¥99.00包邮，还差¥40.00"."""
    if any(a.free_shipping for a in quote.adjustments):
        return [_("Free shipping for members")]
    rules: list[str] = []
    spent: dict[int, int] = {}
    templates = {}
    for line in quote.lines:
        template = line.sku.product.shipping_template
        if template is not None:
            templates[template.pk] = template
            spent[template.pk] = spent.get(template.pk, 0) + line.line_total
    for pk, template in templates.items():
        if not template.base_fee:
            rule = _("Free shipping")
        elif template.free_over is None:
            rule = _("Flat postage ¥%(fee)s") % {"fee": format_yuan(template.base_fee)}
        elif spent[pk] >= template.free_over:
            rule = _("Free shipping over ¥%(amount)s") % {"amount": format_yuan(template.free_over)}
        else:
            rule = _("Free shipping over ¥%(amount)s, ¥%(short)s to go") % {
                "amount": format_yuan(template.free_over),
                "short": format_yuan(template.free_over - spent[pk]),
            }
        if template.remote_surcharge and province and is_remote(template, province):
            rule += _(", remote area +¥%(fee)s") % {"fee": format_yuan(template.remote_surcharge)}
        rules.append(rule)
    return rules or [_("Free shipping")]


def checkout_breakdown(*, shop, shopper, quote: Quote, province: str) -> dict:
    """Context for the price breakdown: postage rules, the adjustment lines, the points offer."""
    member_off = sum(a.amount for a in quote.adjustments if a.kind != "points")
    offer = points_offer(shop=shop, shopper=shopper, base=quote.subtotal - member_off) if quote.lines else None
    return {
        "postage_rules": _postage_rules(quote=quote, province=province),
        "adjustment_lines": [a for a in quote.adjustments if a.amount],
        "points_balance": offer.balance if offer else 0,
        "points_most": offer.most if offer else 0,
    }
