"""Products: the list, creating one, and the edit page with images, status, specs and SKUs."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from siyu.catalog import services as catalog
from siyu.catalog.models import MAX_DETAIL_IMAGES, ProductStatus
from siyu.catalog.selectors import categories_tree, product_for_staff, products_for_staff, shipping_templates
from siyu.core.db_router import replica_reads
from siyu.core.errors import DomainError

from ..decorators import staff_required
from ..forms import (
    ImageForm,
    ProductCreateForm,
    ProductFilterForm,
    ProductForm,
    SkuRowForm,
    SpecsForm,
    StatusForm,
    id_or_none,
)
from ..labels import POLICY_LABELS, STATUS_LABELS
from ..rendering import detail_text, error_status, form_error, page

PAGE_SIZE = 20
STATUS_ACTIONS = {
    ProductStatus.ON_SALE: gettext_lazy("Put on sale"),
    ProductStatus.OFF_SHELF: gettext_lazy("Take off shelf"),
    ProductStatus.DRAFT: gettext_lazy("Back to draft"),
}


@staff_required
@replica_reads()
def product_list(request):
    tree = categories_tree(shop=request.shop, visible_only=False)
    filters = ProductFilterForm(request.GET or None, tree=tree)
    clean = filters.cleaned_data if filters.is_valid() else {}
    products = products_for_staff(
        shop=request.shop,
        status=clean.get("status", ""),
        category_id=id_or_none(clean.get("category")),
        q=clean.get("q", ""),
    )
    page_obj = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "page_obj": page_obj,
        "query": query.urlencode(),
        "status_labels": STATUS_LABELS,
    }
    return page(request, "console/products.html", context)


@staff_required
def product_create(request):
    tree = categories_tree(shop=request.shop, visible_only=False)
    form = ProductCreateForm(request.POST or None, tree=tree)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["category_id"] = id_or_none(data.pop("category"))
            try:
                product = catalog.product_create(actor=request.staff, shop=request.shop, data=data)
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("The product is created as a draft. Add images and specs next."))
                return redirect("console:product_edit", public_id=product.public_id)
    return page(request, "console/product_create.html", {"form": form}, status=status)


def _edit_page(
    request,
    product,
    *,
    status: int = 200,
    form=None,
    specs_form=None,
    sku_forms=None,
    main_image_form=None,
    image_form=None,
):
    """The edit page; a form passed in is shown bound, with its errors, instead of a fresh one."""
    tree = categories_tree(shop=request.shop, visible_only=False)
    templates = shipping_templates(shop=request.shop)
    skus = list(product.skus.all())
    images = list(product.images.all())
    if form is None:
        form = ProductForm(initial=ProductForm.initial_for(product), tree=tree, templates=templates)
    context = {
        "product": product,
        "form": form,
        "specs_form": specs_form or SpecsForm(initial={"specs": SpecsForm.text_for(product, skus)}),
        "sku_forms": sku_forms or [SkuRowForm.for_sku(sku) for sku in skus],
        "main_image_form": main_image_form or ImageForm(prefix="main"),
        "image_form": image_form or ImageForm(prefix="detail"),
        "images": images,
        "can_add_image": len(images) < MAX_DETAIL_IMAGES,
        "max_images": MAX_DETAIL_IMAGES,
        "status_label": STATUS_LABELS.get(product.status, product.status),
        "policy_label": POLICY_LABELS.get(product.return_policy, product.return_policy),
        "actions": [
            (s.value, STATUS_ACTIONS[s])
            for s in ProductStatus
            if s in catalog.PRODUCT_TRANSITIONS.get(product.status, set())
        ],
    }
    return page(request, "console/product_edit.html", context, status=status)


def _product(request, public_id: str):
    return product_for_staff(shop=request.shop, public_id=public_id)


@staff_required
def product_edit(request, public_id: str):
    product = _product(request, public_id)
    if request.method != "POST":
        return _edit_page(request, product)
    form = ProductForm(
        request.POST,
        tree=categories_tree(shop=request.shop, visible_only=False),
        templates=shipping_templates(shop=request.shop),
    )
    if form.is_valid():
        try:
            catalog.product_update(actor=request.staff, product=product, data=form.service_data())
        except DomainError as exc:
            form_error(form, exc)
            return _edit_page(request, product, form=form, status=error_status(exc))
        messages.success(request, _("The product is saved."))
        return redirect("console:product_edit", public_id=product.public_id)
    return _edit_page(request, product, form=form, status=400)


@staff_required
@require_POST
def product_status(request, public_id: str):
    product = _product(request, public_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid status."))
        return redirect("console:product_edit", public_id=product.public_id)
    try:
        catalog.product_set_status(actor=request.staff, product=product, **form.cleaned_data)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The status is now: %(status)s.") % {"status": STATUS_LABELS[product.status]})
    return redirect("console:product_edit", public_id=product.public_id)


@staff_required
@require_POST
def product_main_image(request, public_id: str):
    product = _product(request, public_id)
    form = ImageForm(request.POST, request.FILES, prefix="main")
    if form.is_valid():
        try:
            catalog.product_set_main_image(actor=request.staff, product=product, upload=form.cleaned_data["image"])
        except DomainError as exc:
            form_error(form, exc)
            return _edit_page(request, product, main_image_form=form, status=error_status(exc))
        messages.success(request, _("The main image is uploaded."))
        return redirect("console:product_edit", public_id=product.public_id)
    return _edit_page(request, product, main_image_form=form, status=400)


@staff_required
@require_POST
def product_image_add(request, public_id: str):
    product = _product(request, public_id)
    form = ImageForm(request.POST, request.FILES, prefix="detail")
    if form.is_valid():
        try:
            catalog.product_add_image(actor=request.staff, product=product, upload=form.cleaned_data["image"])
        except DomainError as exc:
            form_error(form, exc)
            return _edit_page(request, product, image_form=form, status=error_status(exc))
        messages.success(request, _("The detail image is added."))
        return redirect("console:product_edit", public_id=product.public_id)
    return _edit_page(request, product, image_form=form, status=400)


@staff_required
@require_POST
def product_image_remove(request, public_id: str, image_id: int):
    product = _product(request, public_id)
    catalog.product_remove_image(actor=request.staff, product=product, image_id=image_id)
    messages.success(request, _("The detail image is removed."))
    return redirect("console:product_edit", public_id=product.public_id)


@staff_required
@require_POST
def product_specs(request, public_id: str):
    product = _product(request, public_id)
    form = SpecsForm(request.POST)
    if form.is_valid():
        try:
            skus = catalog.product_set_specs(actor=request.staff, product=product, specs=form.cleaned_data["specs"])
        except DomainError as exc:
            form_error(form, exc)
            return _edit_page(request, product, specs_form=form, status=error_status(exc))
        messages.success(request, _("The specs are saved: %(n)s active SKUs.") % {"n": len(skus)})
        return redirect("console:product_edit", public_id=product.public_id)
    return _edit_page(request, product, specs_form=form, status=400)


@staff_required
@require_POST
def product_skus(request, public_id: str):
    product = _product(request, public_id)
    sku_forms = [SkuRowForm.for_sku(sku, request.POST) for sku in product.skus.all()]
    if all(f.is_valid() for f in sku_forms):
        try:
            catalog.sku_update_many(actor=request.staff, product=product, rows=[f.service_row() for f in sku_forms])
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            messages.error(request, exc.message)
            _sku_errors(sku_forms, exc)
            return _edit_page(request, product, sku_forms=sku_forms, status=error_status(exc))
        messages.success(request, _("The SKUs are saved."))
        return redirect("console:product_edit", public_id=product.public_id)
    return _edit_page(request, product, sku_forms=sku_forms, status=400)


def _sku_errors(sku_forms, exc: DomainError) -> None:
    """sku_update_many reports errors per SKU id; put each on its own row."""
    by_id = exc.detail if isinstance(exc.detail, dict) else {}
    for form in sku_forms:
        row = by_id.get(str(form.sku.pk))
        for field, problem in row.items() if isinstance(row, dict) else ():
            form.add_error(field if field in form.fields else None, detail_text(problem))
