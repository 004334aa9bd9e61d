"""Who may open a console page: a signed-in, active staff member of the shop being served."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.utils.translation import gettext as _

from siyu.accounts.selectors import staff_for_user
from siyu.core.errors import DomainError

from .rendering import render_error


def staff_required(view=None, *, perm: str = "console.view"):
    """Put `request.staff` on the request, or send the visitor to sign in.

    A signed-in user who is not staff of this shop (staff of another shop, or deactivated) gets a
    403 page rather than a login loop. Any DomainError that escapes the view becomes its own status
    page, so a rule broken by a request never turns into a 500.
    """

    def decorate(func):
        @wraps(func)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            staff = staff_for_user(user=user, shop=request.shop)
            if staff is None:
                return render_error(request, status=403, message=_("Your account is not staff of this shop."))
            # The signed-in user is this staff member's user: reuse it, so a view that writes an
            # audit row as the staff member does not fetch the same user again.
            staff.user = user
            request.staff = staff
            if not staff.can(perm):
                return render_error(request, status=403, message=_("Your role does not allow this page."))
            try:
                return func(request, *args, **kwargs)
            except DomainError as exc:
                if exc.status == 404:
                    raise Http404(str(exc.message)) from None
                return render_error(request, status=exc.status, message=exc.message, detail=exc.detail)

        return wrapper

    return decorate(view) if view is not None else decorate
