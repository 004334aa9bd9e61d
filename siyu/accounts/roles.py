"""Staff roles and what each may do. Services check these; pages only hide what is refused."""

from django.utils.translation import gettext_lazy as _

OWNER, OPERATOR, SERVICE, FINANCE = "owner", "operator", "service", "finance"
ROLE_CHOICES = [
    (OWNER, _("Owner")),
    (OPERATOR, _("Operator")),
    (SERVICE, _("Customer service")),
    (FINANCE, _("Finance")),
]

# promotions.manage: create and change coupons, discounts, flash sales, group buys and bargains;
# analytics.view: the analytics pages and their exports; integrations.manage: webhooks.
_VIEW = {"console.view", "catalog.view", "orders.view", "customers.view", "promotions.view", "analytics.view"}
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    OWNER: frozenset(
        _VIEW
        | {"shop.manage", "catalog.manage", "staff.manage", "tokens.manage", "orders.manage", "customers.manage"}
        | {"finance.manage", "refunds.approve", "promotions.manage", "integrations.manage"}
    ),
    OPERATOR: frozenset(
        _VIEW | {"catalog.manage", "orders.manage", "customers.manage", "tokens.manage", "promotions.manage"}
    ),
    SERVICE: frozenset(_VIEW | {"customers.manage", "orders.manage"}),
    FINANCE: frozenset(_VIEW | {"finance.manage", "refunds.approve"}),
}
