"""Categories, shipping templates and the featured slots."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.catalog import services as catalog
from siyu.catalog.models import MAX_FEATURED
from siyu.catalog.selectors import (
    categories_tree,
    category_get,
    products_featured,
    products_on_sale,
    shipping_template_get,
    shipping_templates,
)
from siyu.catalog.shipping import DEFAULT_REMOTE_PROVINCES
from siyu.core.errors import DomainError
from siyu.core.money import format_yuan

from ..decorators import staff_required
from ..forms import CategoryCreateForm, CategoryEditForm, FeaturedForm, ShippingTemplateForm, id_or_none
from ..rendering import error_status, form_error, page

FEATURED_CANDIDATES = 60

# --- categories --------------------------------------------------------------------------


@staff_required
def categories(request):
    tree = categories_tree(shop=request.shop, visible_only=False)
    form = CategoryCreateForm(request.POST or None, tree=tree)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                catalog.category_create(
                    actor=request.staff,
                    shop=request.shop,
                    name=data["name"],
                    parent_id=id_or_none(data["parent"]),
                    position=data["position"],
                )
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("The category is added."))
                return redirect("console:categories")
    return page(request, "console/categories.html", {"tree": tree, "form": form}, status=status)


@staff_required
def category_edit(request, category_id: int):
    category = category_get(shop=request.shop, category_id=category_id)
    initial = {"name": category.name, "position": category.position, "is_visible": category.is_visible}
    form = CategoryEditForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                catalog.category_update(actor=request.staff, category=category, **form.cleaned_data)
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("The category is saved."))
                return redirect("console:categories")
    return page(request, "console/category_edit.html", {"category": category, "form": form}, status=status)


@staff_required
@require_POST
def category_delete(request, category_id: int):
    category = category_get(shop=request.shop, category_id=category_id)
    try:
        catalog.category_delete(actor=request.staff, category=category)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
        return redirect("console:category_edit", category_id=category.pk)
    messages.success(request, _("The category is deleted."))
    return redirect("console:categories")


# --- shipping templates ------------------------------------------------------------------


def _template_rows(templates):
    return [
        {
            "template": t,
            "base_fee": format_yuan(t.base_fee),
            "free_over": format_yuan(t.free_over),
            "remote_surcharge": format_yuan(t.remote_surcharge),
            "provinces": "、".join(t.remote_provinces or []),
        }
        for t in templates
    ]


@staff_required
def shipping(request):
    initial = {"remote_provinces": ", ".join(DEFAULT_REMOTE_PROVINCES)}
    form = ShippingTemplateForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                catalog.shipping_template_save(actor=request.staff, shop=request.shop, data=form.cleaned_data)
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("The shipping template is saved."))
                return redirect("console:shipping")
    rows = _template_rows(shipping_templates(shop=request.shop))
    return page(request, "console/shipping.html", {"rows": rows, "form": form}, status=status)


@staff_required
def shipping_edit(request, template_id: int):
    template = shipping_template_get(shop=request.shop, template_id=template_id)
    form = ShippingTemplateForm(request.POST or None, initial=ShippingTemplateForm.initial_for(template))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                catalog.shipping_template_save(
                    actor=request.staff, shop=request.shop, data=form.cleaned_data, template=template
                )
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("The shipping template is saved."))
                return redirect("console:shipping")
    return page(request, "console/shipping_edit.html", {"template": template, "form": form}, status=status)


@staff_required
@require_POST
def shipping_delete(request, template_id: int):
    template = shipping_template_get(shop=request.shop, template_id=template_id)
    try:
        catalog.shipping_template_delete(actor=request.staff, template=template)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
        return redirect("console:shipping_edit", template_id=template.pk)
    messages.success(request, _("The shipping template is deleted."))
    return redirect("console:shipping")


# --- featured slots ----------------------------------------------------------------------


def _featured_candidates(request, q: str):
    """Featured products first (so saving never drops one silently), then on-sale ones to pick from."""
    featured = products_featured(shop=request.shop)
    taken = {p.public_id for p in featured}
    others = [
        p
        for p in products_on_sale(shop=request.shop, q=q)[: FEATURED_CANDIDATES + len(taken)]
        if p.public_id not in taken
    ]
    return featured, featured + others[:FEATURED_CANDIDATES]


@staff_required
def featured(request):
    q = (request.GET.get("q") or "").strip()[:50]
    current, candidates = _featured_candidates(request, q)
    form = FeaturedForm(request.POST or None, products=candidates)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                catalog.featured_set(actor=request.staff, shop=request.shop, product_ids=form.ordered_ids())
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("The featured products are saved."))
                return redirect("console:featured")
    context = {"form": form, "current": current, "q": q, "max": MAX_FEATURED}
    return page(request, "console/featured.html", context, status=status)
