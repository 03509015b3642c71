"""The residents' family-motto form (``/mottos/submit/``): the phone form in front of ``portal.mottos.motto_submit``.

A plain view rather than a route of the mottos' index page, so that the page model never imports the service that
builds its pages. There is one index (``max_count = 1``); without a live one the form is not found.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from points.models import Household
from points.scope import RESIDENT, scope_for
from portal.forms import MottoForm
from portal.models import FamilyMottoIndexPage
from portal.mottos import motto_submit


def submit(request):
    index = FamilyMottoIndexPage.objects.live().first()
    if index is None:
        raise Http404
    if not request.user.is_authenticated:
        return redirect(f"{reverse('portal:login')}?next={request.path}")
    scope = scope_for(request.user)
    if scope.role != RESIDENT:
        messages.error(request, _("只有居民可以提交家风家训"))
        return redirect(index.url)
    form = MottoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        household = Household.objects.select_related("village").get(pk=scope.household_id)
        motto_submit(index=index, user=request.user, household=household, **form.cleaned_data)
        messages.success(request, _("已提交，村委审核通过后会在这里公布。"))
        return redirect(index.url)
    return TemplateResponse(
        request, "portal/family_motto_submit_page.html", {"page": index, "self": index, "form": form}
    )
