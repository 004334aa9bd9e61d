"""Console pages for the content library (素材库): the post list with each post's figures (shares,
clicks, visits, orders, revenue) and a quick schedule, the post form (text, up to 9 images or a
product poster, tags, persona, publish time), delete; personas (人设) with their planned posts.
Reading needs promotions.view, writing promotions.manage (the services check it again)."""

from typing import cast

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from siyu.catalog.models import Product
from siyu.community.content import selectors, services
from siyu.community.content.images import MAX_IMAGES
from siyu.core.errors import DomainError
from siyu.customers.models import SocialAccount

from ..decorators import staff_required
from ..paging import paged
from ..rendering import error_status, form_error, page

WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
SCHEDULED = (
    ("", gettext_lazy("Any time")),
    ("draft", gettext_lazy("Drafts")),
    ("upcoming", gettext_lazy("Upcoming")),
    ("past", gettext_lazy("Published")),
)


class ManyImages(forms.ClearableFileInput):
    allow_multiple_selected = True


class ManyImagesField(forms.FileField):
    """Several files in one input; the service reads and checks them (request.FILES.getlist)."""

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(ManyImagesField, self).clean(item, initial) for item in data]
        return super().clean(data, initial)


class PostForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title (for your lists)"), max_length=60, required=False)
    text = forms.CharField(
        label=gettext_lazy("Text"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    images = ManyImagesField(
        label=gettext_lazy("Images"),
        required=False,
        widget=ManyImages(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=gettext_lazy("Up to 9 in all. JPEG, PNG or WebP; resized, and location data removed."),
    )
    product = forms.ChoiceField(label=gettext_lazy("Product"), required=False)
    poster = forms.BooleanField(label=gettext_lazy("Add the product's share poster as an image"), required=False)
    campaign = forms.CharField(label=gettext_lazy("Campaign"), max_length=40, required=False)
    tags = forms.CharField(
        label=gettext_lazy("Tags"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("Occasions and other tags, separated by commas (e.g. Mid-Autumn, new arrival)."),
    )
    persona = forms.ChoiceField(label=gettext_lazy("Persona"), required=False)
    publish_at = forms.DateTimeField(
        label=gettext_lazy("Publish at"),
        required=False,
        widget=WHEN,
        help_text=gettext_lazy("The day and time it appears in the sharers' list; empty keeps it a draft."),
    )

    def __init__(self, *args, shop, **kwargs):
        super().__init__(*args, **kwargs)
        products = Product.objects.filter(shop=shop).exclude(status="draft").order_by("-id")
        cast(forms.ChoiceField, self.fields["product"]).choices = [("", "—")] + list(
            products.values_list("public_id", "name")[:500]
        )
        cast(forms.ChoiceField, self.fields["persona"]).choices = [("", "—")] + selectors.personas_choices(shop=shop)

    def service_data(self) -> dict:
        d = self.cleaned_data
        return {k: d[k] for k in services.POST_FIELDS}


def _post_initial(post) -> dict:
    return {
        "title": post.title,
        "text": post.text,
        "product": post.product.public_id if post.product else "",
        "poster": post.poster,
        "campaign": post.campaign,
        "tags": ", ".join(post.tags),
        "persona": post.persona.public_id if post.persona else "",
        "publish_at": post.publish_at,
    }


@staff_required(perm=selectors.VIEW)
def post_list(request):
    g = request.GET
    filters = {
        "persona": g.get("persona", "")[:16],
        "tag": g.get("tag", "")[:20],
        "q": g.get("q", "")[:50],
        "scheduled": g.get("scheduled", "") if g.get("scheduled", "") in dict(SCHEDULED) else "",
    }
    listing = paged(request, selectors.posts_for_staff(actor=request.staff, shop=request.shop, **filters))
    return page(
        request,
        "console/content/list.html",
        {
            "listing": listing,
            "filters": filters,
            "scheduled_choices": SCHEDULED,
            "personas": selectors.personas_choices(shop=request.shop),
        },
    )


def _images_of(request) -> list:
    return request.FILES.getlist("images")


@staff_required(perm=selectors.VIEW)
def post_create(request):
    form = PostForm(request.POST or None, request.FILES or None, shop=request.shop)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                post = services.post_create(
                    actor=request.staff, shop=request.shop, data=form.service_data(), images=_images_of(request)
                )
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("Post saved."))
                return redirect("console:content_post", post.code)
    return page(
        request, "console/content/post_form.html", {"form": form, "post": None, "max_images": MAX_IMAGES}, status=status
    )


@staff_required(perm=selectors.VIEW)
def post_edit(request, code: str):
    post = selectors.post_for_staff(actor=request.staff, shop=request.shop, code=code)
    form = PostForm(request.POST or None, request.FILES or None, shop=request.shop, initial=_post_initial(post))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.post_update(
                    actor=request.staff,
                    shop=request.shop,
                    code=post.code,
                    data=form.service_data(),
                    add_images=_images_of(request),
                    remove_images=[int(n) for n in request.POST.getlist("remove") if n.isdigit()],
                )
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("Post saved."))
                return redirect("console:content_post", post.code)
    context = {"form": form, "post": post, "max_images": MAX_IMAGES}
    return page(request, "console/content/post_form.html", context, status=status)


@require_POST
@staff_required(perm=selectors.MANAGE)
def post_schedule(request, code: str):
    try:
        services.post_schedule(
            actor=request.staff, shop=request.shop, code=code, publish_at=request.POST.get("publish_at", "")[:40]
        )
        messages.success(request, _("Schedule saved."))
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, _("Enter a date and time.") if exc.status == 400 else str(exc.message))
    return redirect("console:content")


@require_POST
@staff_required(perm=selectors.MANAGE)
def post_delete(request, code: str):
    services.post_delete(actor=request.staff, shop=request.shop, code=code)
    messages.success(request, _("Post deleted."))
    return redirect("console:content")


# --- personas ------------------------------------------------------------------------------------


class PersonaForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=40)
    avatar = forms.FileField(
        label=gettext_lazy("Avatar"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    tone = forms.CharField(
        label=gettext_lazy("Tone notes"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("How this persona writes: voice, words to use and to avoid."),
    )
    account = forms.ChoiceField(label=gettext_lazy("WeChat account"), required=False)

    def __init__(self, *args, shop, **kwargs):
        super().__init__(*args, **kwargs)
        accounts = SocialAccount.objects.filter(shop=shop).order_by("name").values_list("pk", "name")
        cast(forms.ChoiceField, self.fields["account"]).choices = [("", "—")] + [(str(pk), n) for pk, n in accounts]

    def service_data(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("name", "tone", "account")}


@staff_required(perm=selectors.VIEW)
def persona_list(request):
    form = PersonaForm(request.POST or None, request.FILES or None, shop=request.shop)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                persona = services.persona_create(
                    actor=request.staff, shop=request.shop, data=form.service_data(), avatar=request.FILES.get("avatar")
                )
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("Persona saved."))
                return redirect("console:content_persona", persona.public_id)
    rows = list(selectors.personas_for_staff(actor=request.staff, shop=request.shop))
    return page(request, "console/content/personas.html", {"rows": rows, "form": form}, status=status)


@staff_required(perm=selectors.VIEW)
def persona_edit(request, public_id: str):
    persona = selectors.persona_for_staff(actor=request.staff, shop=request.shop, public_id=public_id)
    initial = {"name": persona.name, "tone": persona.tone, "account": str(persona.account_id or "")}
    form = PersonaForm(request.POST or None, request.FILES or None, shop=request.shop, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.persona_update(
                    actor=request.staff,
                    shop=request.shop,
                    public_id=persona.public_id,
                    data=form.service_data(),
                    avatar=request.FILES.get("avatar"),
                )
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("Persona saved."))
                return redirect("console:content_persona", persona.public_id)
    days, drafts = selectors.persona_plan(persona=persona)
    context = {"persona": persona, "form": form, "days": days, "drafts": drafts}
    return page(request, "console/content/persona.html", context, status=status)


@require_POST
@staff_required(perm=selectors.MANAGE)
def persona_delete(request, public_id: str):
    services.persona_delete(actor=request.staff, shop=request.shop, public_id=public_id)
    messages.success(request, _("Persona deleted."))
    return redirect("console:content_personas")
