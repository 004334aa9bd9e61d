"""Small helpers shared by the storefront views."""

import functools
from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse

from siyu.accounts.selectors import shopper_from_session
from siyu.core.errors import NotFound
from siyu.orders.selectors import cart_count_of_shoppers


def current_shopper(request):
    """The signed-in shopper, looked up once per request, with the cart badge's count read in the
    same query (`cart_items`) so that signed-in pages pay nothing extra for the tab bar."""
    if not hasattr(request, "_shopper"):
        shop = getattr(request, "shop", None)
        queryset = cart_count_of_shoppers(shop=shop) if shop is not None else None
        request._shopper = shopper_from_session(request.session, queryset=queryset)
    return request._shopper


def not_found_as_404(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404() from None

    return wrapper


def shopper_required(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if current_shopper(request) is None:
            return redirect(f"{reverse('storefront:login')}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return not_found_as_404(wrapper)


def safe_next(request, default: str) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return default
