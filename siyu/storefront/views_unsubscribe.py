"""The unsubscribe page every marketing message links to (`/u/<token>/`): one tap withdraws the
customer's marketing consent and the page says so. Opening the link changes nothing (chat apps and
mail scanners open links to preview them); the button posts."""

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from siyu.campaigns.channels.unsubscribe import customer_unsubscribe, unsubscribe_customer
from siyu.core.errors import NotFound


@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    try:
        customer = unsubscribe_customer(token=token)
    except NotFound:
        return render(request, "storefront/unsubscribe.html", {"invalid": True}, status=404)
    done = False
    if request.method == "POST":
        customer = customer_unsubscribe(customer=customer, via="link")
        done = True
    context = {"shop_name": customer.shop.name, "done": done, "subscribed": customer.marketing_consent_at is not None}
    return render(request, "storefront/unsubscribe.html", context)
