"""The segment editor's visual rule builder: what it may offer (the segment service's own
FIELDS, described by `rules_vocabulary`, with the console's words for them) and the live count
it asks for as the rules change. The rules stay JSON underneath, the same the API takes."""

import json

from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from siyu.catalog.selectors import categories_tree, products_for_staff
from siyu.core.errors import DomainError, InvalidInput
from siyu.core.request_id import current_request_id
from siyu.customers import segments
from siyu.customers.models import Source
from siyu.customers.segment_fields import registered_fields
from siyu.customers.selectors import tag_choices

from ..decorators import staff_required
from .customers_forms import MAX_RULES_CHARS
from .customers_labels import LIFECYCLE_LABELS, SOURCE_LABELS

OPTION_LIMIT = 300  # products offered by name; more are still reachable through the JSON

FIELD_LABELS = {
    "tags": _("Tags"),
    "total_spent": _("Total spent (yuan)"),
    "order_count": _("Number of orders"),
    "last_order_at": _("Last order"),
    "first_order_at": _("First order"),
    "product": _("Bought the product"),
    "category": _("Bought from the category"),
    "imported_items": _("Imported orders' items"),
    "city": _("City"),
    "province": _("Province"),
    "lifecycle": _("Lifecycle stage"),
    "rfm_r": _("Recency score (R)"),
    "rfm_f": _("Frequency score (F)"),
    "rfm_m": _("Money score (M)"),
    "source": _("Source"),
    "marketing_consent": _("Agreed to marketing messages"),
}

OP_LABELS = {
    "=": _("equals"),
    "!=": _("is not"),
    ">": _("more than"),
    ">=": _("at least"),
    "<": _("less than"),
    "<=": _("at most"),
    "between": _("between"),
    "before": _("before the day"),
    "after": _("after the day"),
    "within_days": _("within the last … days"),
    "more_than_days_ago": _("more than … days ago"),
    "has_any": _("has any of"),
    "has_all": _("has all of"),
    "has_none": _("has none of"),
    "bought": pgettext_lazy("segment rule", "bought"),
    "not_bought": _("never bought"),
    "contains": _("contains"),
    "not_contains": _("does not contain"),
    "eq": _("is"),
    "ne": _("is not"),
    "in": _("is one of"),
    "not_in": _("is none of"),
    "is": _("is"),
}


def _words() -> dict:
    """Every text the builder shows, translated here (the script holds no words of its own)."""
    return {
        "field": _("Field"),
        "value": _("Value"),
        "all": _("All of these hold (and)"),
        "any": _("Any of these holds (or)"),
        "add_condition": _("+ Condition"),
        "add_group": _("+ Group"),
        "remove": _("Remove"),
        "and": pgettext_lazy("segment rule", "and"),
        "yes": _("Yes"),
        "no": _("No"),
        "list_hint": _("Separate several with commas"),
        "counting": _("Counting…"),
        "count": _("%(n)s customers match these rules now."),
        "incomplete": _("Fill in every condition to see the count."),
        "invalid": _("These rules cannot be counted: %(reason)s"),
        "json_broken": _("The JSON below is not valid; the builder shows the last valid rules."),
    }


def _choice_labels() -> dict[str, str]:
    labels = {str(k): str(v) for k, v in LIFECYCLE_LABELS.items()}
    labels.update({str(k): str(v) for k, v in SOURCE_LABELS.items() if k in Source.values})
    return labels


def builder_config(*, shop) -> dict:
    """The builder's data (rendered with json_script): fields and operators from the service, with
    labels, and the shop's tags, products and categories to pick from."""
    tree = categories_tree(shop=shop, visible_only=False)
    products = products_for_staff(shop=shop).select_related(None).only("pk", "name")[:OPTION_LIMIT]
    categories = []
    for node in tree:  # a top category covers its sub-categories in the rule
        categories.append([node.category.pk, node.category.name])
        categories.extend([sub.pk, f"{node.category.name} › {sub.name}"] for sub in node.subs)
    extra_labels = {name: field.label for name, field in registered_fields().items()}
    return {
        "fields": [
            {
                "name": name,
                "label": str(FIELD_LABELS.get(name) or extra_labels.get(name, name)),
                "ops": [{"op": op, "label": str(OP_LABELS.get(op, op)), **value} for op, value in ops.items()],
            }
            for name, ops in segments.rules_vocabulary().items()
        ],
        "max_depth": segments.MAX_DEPTH,
        "choice_labels": _choice_labels(),
        "options": {
            "tags": [name for _pk, name in tag_choices(shop=shop)],
            "product": [[p.pk, p.name] for p in products],
            "category": categories,
        },
        "words": {key: str(text) for key, text in _words().items()},
    }


def _refusal(exc: DomainError) -> JsonResponse:
    return JsonResponse({**exc.as_body(), "request_id": current_request_id()}, status=exc.status)


@staff_required(perm="customers.view")
@require_POST
def segment_preview(request):
    """How many customers the posted rules match now: {"count": n}, or an error body
    {"code", "message", "detail"} with the failing path (400) — never a 500."""
    body = request.body[: MAX_RULES_CHARS + 1]
    try:
        if len(body) > MAX_RULES_CHARS:
            raise InvalidInput(detail={"rules": "too long", "path": ""})
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            raise InvalidInput(detail={"rules": "not valid JSON", "path": ""}) from None
        rules = data.get("rules") if isinstance(data, dict) else None
        count = segments.segment_preview_count(shop=request.shop, rules=rules)
    except DomainError as exc:
        return _refusal(exc)
    return JsonResponse({"count": count})
