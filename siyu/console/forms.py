"""Console forms. They check the shape of input (types, required fields); the rules live in services."""

import re
from collections.abc import Iterable
from typing import cast

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from siyu.catalog.selectors import CategoryNode
from siyu.core.money import format_yuan

from .labels import policy_choices, role_choices, status_choices

TEXTAREA = {"rows": 3}


class IsoDateInput(forms.DateInput):
    """A browser date picker. Its value must be ISO (YYYY-MM-DD) whatever the language: the Chinese
    date format (2026/12/08) is refused by Chromium, which then shows an empty field."""

    input_type = "date"

    def __init__(self, attrs: dict | None = None):
        super().__init__(attrs, format="%Y-%m-%d")


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """`form`'s select called `name`, typed as one, for filling its options at run time (they depend on the shop)."""
    return cast(forms.ChoiceField, form.fields[name])


def category_choices(
    tree: Iterable[CategoryNode], *, blank: str | Promise, tops_only: bool = False
) -> list[tuple[str, str | Promise]]:
    """Options for a select from `categories_tree`: top categories, sub-categories indented."""
    choices: list[tuple[str, str | Promise]] = [("", blank)]
    for node in tree:
        choices.append((str(node.category.pk), node.category.name))
        if not tops_only:
            choices.extend((str(sub.pk), f"\u2003{sub.name}") for sub in node.subs)
    return choices


def yuan(fen: int | None) -> str:
    return format_yuan(fen) if fen is not None else ""


def id_or_none(value: str | None) -> int | None:
    return int(value) if value and str(value).isdigit() else None


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=200)


class ImageForm(forms.Form):
    # A plain FileField: the service checks the content, so every bad file gets the same clear error.
    image = forms.FileField(label=_("Image"), widget=forms.ClearableFileInput(attrs={"accept": "image/*"}))


class ShopProfileForm(forms.Form):
    name = forms.CharField(label=_("Shop name"), max_length=60)
    slogan = forms.CharField(label=_("Slogan"), max_length=120, required=False)
    audience = forms.CharField(label=_("Target audience"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Description"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    default_return_policy = forms.ChoiceField(label=_("Default return policy"), choices=policy_choices)


class DefaultPolicyForm(forms.Form):
    default_return_policy = forms.ChoiceField(label=_("Shop default"), choices=policy_choices)


class CategoryCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=30)
    parent = forms.ChoiceField(label=_("Under"), required=False)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=100000, initial=0)

    def __init__(self, *args, tree=(), **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "parent").choices = category_choices(tree, blank=_("(top level)"), tops_only=True)


class CategoryEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=30)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=100000)
    is_visible = forms.BooleanField(label=_("Visible to shoppers"), required=False)


class ProductFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    q = forms.CharField(label=_("Name"), max_length=50, required=False)

    def __init__(self, *args, tree=(), **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "status").choices = [("", _("All statuses")), *status_choices()]
        choice_field(self, "category").choices = category_choices(tree, blank=_("All categories"))


class ProductCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    category = forms.ChoiceField(label=_("Category"), required=False)
    price = forms.CharField(label=_("Price (yuan)"), max_length=14)
    stock = forms.IntegerField(label=_("Stock"), min_value=0, initial=0)

    def __init__(self, *args, tree=(), **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "category").choices = category_choices(tree, blank=_("(none)"))


class ProductForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    category = forms.ChoiceField(label=_("Category"), required=False)
    shipping_template = forms.ChoiceField(label=_("Shipping template"), required=False)
    selling_points = forms.CharField(
        label=_("Selling points"),
        required=False,
        help_text=_("One per line, at most 5 of 30 characters."),
        widget=forms.Textarea(attrs=TEXTAREA),
    )
    description = forms.CharField(
        label=_("Description"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    return_policy = forms.ChoiceField(label=_("Return policy"), choices=policy_choices)
    consumption_cycle_days = forms.IntegerField(
        label=_("Consumption cycle (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("How long one purchase lasts; used to remind buyers to re-buy."),
    )

    def __init__(self, *args, tree=(), templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "category").choices = category_choices(tree, blank=_("(none)"))
        choice_field(self, "shipping_template").choices = [("", _("(free shipping)"))] + [
            (str(t.pk), t.name) for t in templates
        ]

    @classmethod
    def initial_for(cls, product) -> dict:
        return {
            "name": product.name,
            "category": product.category_id or "",
            "shipping_template": product.shipping_template_id or "",
            "selling_points": "\n".join(product.selling_points or []),
            "description": product.description,
            "return_policy": product.return_policy,
            "consumption_cycle_days": product.consumption_cycle_days,
        }

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "category_id": id_or_none(data["category"]),
            "shipping_template_id": id_or_none(data["shipping_template"]),
            "selling_points": data["selling_points"],
            "description": data["description"],
            "return_policy": data["return_policy"],
            "consumption_cycle_days": data["consumption_cycle_days"],
        }


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=status_choices)
    reason = forms.CharField(max_length=200, required=False)


_SPEC_LINE = re.compile(r"^(?P<name>[^:：]+)[:：](?P<values>.*)$")
_VALUE_SPLIT = re.compile(r"[,，、;；]")


class SpecsForm(forms.Form):
    specs = forms.CharField(
        label=_("Specs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "颜色: 红, 蓝\n尺码: S, M, L"}),
        help_text=_("One spec per line as “name: value, value”, at most 3 lines. Empty means a single SKU."),
    )

    def clean_specs(self) -> list[dict]:
        specs = []
        for number, line in enumerate(self.cleaned_data["specs"].splitlines(), start=1):
            if not line.strip():
                continue
            match = _SPEC_LINE.match(line.strip())
            if not match:
                raise forms.ValidationError(_("Line %(n)s needs a name, a colon and values."), params={"n": number})
            values = [v.strip() for v in _VALUE_SPLIT.split(match["values"]) if v.strip()]
            specs.append({"name": match["name"].strip(), "values": values})
        return specs

    @staticmethod
    def text_for(product, skus) -> str:
        """The current specs as text, recovered from the names and the active SKUs' values."""
        lines = []
        for index, name in enumerate(product.spec_names or []):
            values = dict.fromkeys(s.spec_values[index] for s in skus if s.is_active and len(s.spec_values) > index)
            lines.append(f"{name}: {', '.join(values)}")
        return "\n".join(lines)


class SkuRowForm(forms.Form):
    price = forms.CharField(label=_("Price"), max_length=14)
    list_price = forms.CharField(label=_("List price"), max_length=14, required=False)
    cost_price = forms.CharField(label=_("Cost price"), max_length=14, required=False)
    stock = forms.IntegerField(label=_("Stock"), min_value=0)
    code = forms.CharField(label=_("SKU code"), max_length=40, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args, sku, **kwargs):
        super().__init__(*args, **kwargs)
        self.sku = sku

    @classmethod
    def for_sku(cls, sku, data=None):
        initial = {
            "price": yuan(sku.price),
            "list_price": yuan(sku.list_price),
            "cost_price": yuan(sku.cost_price),
            "stock": sku.stock,
            "code": sku.code,
            "is_active": sku.is_active,
        }
        return cls(data, prefix=f"sku{sku.pk}", initial=initial, sku=sku)

    def service_row(self) -> dict:
        return {"id": self.sku.pk, **self.cleaned_data}


class FeaturedForm(forms.Form):
    """One position box per candidate product; filled boxes, in order, become the featured slots."""

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.products = list(products)
        for product in self.products:
            self.fields[f"pos_{product.public_id}"] = forms.IntegerField(
                label=product.name,
                required=False,
                min_value=1,
                max_value=99,
                initial=product.featured_position,
            )

    def rows(self):
        return [(self[f"pos_{p.public_id}"], p) for p in self.products]

    def ordered_ids(self) -> list[str]:
        chosen = [(v, name[4:]) for name, v in self.cleaned_data.items() if v is not None]
        return [public_id for _position, public_id in sorted(chosen)]


class ShippingTemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=40)
    base_fee = forms.CharField(label=_("Postage (yuan)"), max_length=14, initial="0.00")
    free_over = forms.CharField(
        label=_("Free shipping from (yuan)"),
        max_length=14,
        required=False,
        help_text=_("Leave empty for no free shipping."),
    )
    remote_surcharge = forms.CharField(
        label=_("Remote surcharge (yuan)"), max_length=14, required=False, initial="0.00"
    )
    remote_provinces = forms.CharField(
        label=_("Remote provinces"),
        required=False,
        max_length=500,
        help_text=_("Separated by commas, e.g. 新疆, 西藏."),
    )
    is_default = forms.BooleanField(label=_("Default template"), required=False)

    @classmethod
    def initial_for(cls, template) -> dict:
        return {
            "name": template.name,
            "base_fee": yuan(template.base_fee),
            "free_over": yuan(template.free_over),
            "remote_surcharge": yuan(template.remote_surcharge),
            "remote_provinces": ", ".join(template.remote_provinces or []),
            "is_default": template.is_default,
        }


class StaffCreateForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=40)
    display_name = forms.CharField(label=_("Display name"), max_length=60, required=False)
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput, max_length=200, help_text=_("At least 8 characters.")
    )
    role = forms.ChoiceField(label=_("Role"), choices=role_choices, initial="operator")


class StaffUpdateForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=role_choices)
    is_active = forms.BooleanField(label=_("Active"), required=False)


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=60, required=False)
