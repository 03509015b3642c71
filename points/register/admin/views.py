"""Admin views of the register that Wagtail's generic views do not cover. Each checks scope, calls a service."""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail.admin import messages

from points.exceptions import HeheError, ImportRefused
from points.register import import_export as register_io
from points.register import services
from points.register.admin.forms import ArchiveForm, ImportForm, VillageChoiceForm
from points.register.selectors import household_detail
from points.scope import Capability, scope_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _household_or_404(request, pk, capability: Capability):
    scope = scope_for(request.user)
    household = household_detail(scope=scope, household_id=pk)
    if household is None or not scope.can(capability, household.village_id):
        raise Http404
    return household


def _list_url():
    return reverse("wagtailsnippets_points_household:list")


def household_archive(request, pk):
    household = _household_or_404(request, pk, Capability.CHANGE_REGISTER)
    form = ArchiveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.household_archive(household=household, actor=request.user, reason=form.cleaned_data["reason"])
        except HeheError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已归档：%(household)s") % {"household": household})
        return redirect(_list_url())
    return TemplateResponse(request, "points/admin/household_archive.html", {"household": household, "form": form})


@require_POST
def household_restore(request, pk):
    household = _household_or_404(request, pk, Capability.CHANGE_REGISTER)
    try:
        services.household_restore(household=household, actor=request.user)
    except HeheError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已恢复：%(household)s") % {"household": household})
    return redirect(_list_url())


def resident_password(request, pk):
    """GET asks to confirm; POST issues a new password and shows it this once (never stored in clear)."""
    household = _household_or_404(request, pk, Capability.ISSUE_RESIDENT_PASSWORD)
    context = {"household": household, "password": None}
    if request.method == "POST":
        try:
            context["password"] = services.resident_password_issue(household=household, actor=request.user)
        except HeheError as exc:
            messages.error(request, exc.message)
            return redirect(_list_url())
    response = TemplateResponse(request, "points/admin/resident_password.html", context)
    response["Cache-Control"] = "no-store"
    return response


def register_import(request):
    user = request.user
    if not scope_for(user).can(Capability.IMPORT_REGISTER):
        raise Http404
    form = ImportForm(request.POST or None, request.FILES or None, user=user)
    errors = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            count = register_io.register_import(
                village=form.cleaned_data["village"], name=upload.name, data=upload.read(), actor=user
            )
        except ImportRefused as exc:
            errors = [str(e) for e in exc.errors]
            messages.error(request, exc.message)
        except (HeheError, ValidationError) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        else:
            messages.success(request, _("导入成功：新增 %(count)s 户") % {"count": count})
            return redirect(_list_url())
    return TemplateResponse(request, "points/admin/register_import.html", {"form": form, "errors": errors})


def register_template(request):
    if not scope_for(request.user).can(Capability.IMPORT_REGISTER):
        raise Http404
    response = HttpResponse(register_io.register_template(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="register-template.xlsx"'
    return response


def register_export(request):
    user = request.user
    if not scope_for(user).can(Capability.IMPORT_REGISTER):
        raise Http404
    form = VillageChoiceForm(request.GET or None, user=user)
    if request.GET and form.is_valid():
        village = form.cleaned_data["village"]
        response = HttpResponse(register_io.register_export(village=village, actor=user), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="register-{village.code}.xlsx"'
        return response
    return TemplateResponse(request, "points/admin/register_export.html", {"form": form})
