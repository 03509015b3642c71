"""Plain function views for residents. Each asks points for its scope and one selector, then renders."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from points.scope import RESIDENT, scope_for
from points.selectors import household_detail

from .forms import ResidentLoginForm


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = ResidentLoginForm
    redirect_authenticated_user = True


@login_required
def me(request):
    """The resident's own household. Staff are sent to the admin, where their work is."""
    scope = scope_for(request.user)
    if scope.role != RESIDENT:
        return render(request, "portal/me_staff.html", status=200)
    household = household_detail(scope=scope, household_id=scope.household_id)
    if household is None:
        raise Http404
    return render(request, "portal/me.html", {"household": household, "members": household.members.all()})
