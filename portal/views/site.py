"""Site-wide views: the residents' sign-in page and the care-mode switch (关怀模式)."""

from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from portal.cache import CARE_COOKIE, care_mode
from portal.forms import ResidentLoginForm


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = ResidentLoginForm
    redirect_authenticated_user = True


CARE_COOKIE_AGE = 365 * 24 * 60 * 60


@require_POST
def care_toggle(request):
    """关怀模式: switch large text on or off for this browser (a cookie, so it works signed out and without
    JavaScript), then go back to the page the switch was pressed on — only ever a page of this site."""
    target = request.POST.get("next", "")
    allowed = {request.get_host()}
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=allowed, require_https=request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    response.set_cookie(
        CARE_COOKIE,
        "0" if care_mode(request) else "1",
        max_age=CARE_COOKIE_AGE,
        samesite="Lax",
        httponly=True,
        secure=request.is_secure(),
    )
    return response
