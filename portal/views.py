"""Plain function views for residents and the public points notice.

Each view asks ``points.scope`` who the user is, calls one selector or service, and renders. A resident's pages
take the household from the scope, never from the URL, so no address leads to another household. Free text
that people typed (claims, objections, answers, memos) passes through ``_redact`` before it is shown: phone and
ID numbers must never appear on these pages, even when someone wrote one into a text box.
"""

import datetime
import re
import uuid
from functools import wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from points import clock
from points.awards import rubric_for_village
from points.claims import claim_submit
from points.exceptions import HeheError
from points.models import RubricItem
from points.notices import objection_file
from points.scope import RESIDENT, scope_for
from points.selectors import (
    conduct_score,
    household_balance,
    household_claims,
    household_detail,
    household_objections,
    household_statement,
    period_range,
    public_notice,
    stars_for,
    village_by_code,
    village_transfer_or_none,
)

from .cache import CARE_COOKIE, care_mode, public_page
from .forms import ClaimForm, ObjectionForm, ResidentLoginForm

STATEMENT_PAGE_SIZE = 20
MSG_CLAIM_SENT = gettext_noop("申报已提交，村委审核后会告诉您结果。")
MSG_OBJECTION_SENT = gettext_noop("异议已提交，村委会公开答复。")
MSG_NOT_PUBLISHED = gettext_noop("该月份尚未公示")
MSG_PERIOD_OVER = gettext_noop("公示期已过，不能再提出异议")

# 11-digit mobile numbers (also written 138-0013-8001 or 138 0013 8001) and 15/18-character ID numbers.
_PRIVATE_NUMBER = re.compile(r"(?<![0-9])(?:1[3-9][0-9](?:[ -]?[0-9]{4}){2}|[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9Xx])")
_PERIOD = re.compile(r"^([0-9]{4})-([0-9]{2})$")


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = ResidentLoginForm
    redirect_authenticated_user = True


def _redact(text: str) -> str:
    return _PRIVATE_NUMBER.sub("***", text or "")


def _own_household(scope):
    household = household_detail(scope=scope, household_id=scope.household_id)
    if household is None:
        raise Http404
    return household


def resident_only(view):
    """Signed-in residents only; the view receives their own household. Anyone else: 404 (nothing to see)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        scope = scope_for(request.user)
        if scope.role != RESIDENT:
            raise Http404
        return view(request, _own_household(scope), *args, **kwargs)

    return wrapper


def _add_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the fields it names (the rest at the top of the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _objections_open(notice) -> bool:
    """Whether the notice still takes objections; the service decides again when one is filed."""
    return notice is not None and not notice.is_closed and clock.localdate() <= notice.objection_deadline


def _month_link(period: datetime.date) -> str:
    return f"{period:%Y-%m}"


@login_required
def me(request):
    """The resident's own household. Staff are sent to the admin, where their work is."""
    scope = scope_for(request.user)
    if scope.role != RESIDENT:
        return render(request, "portal/me_staff.html", status=200)
    household = _own_household(scope)
    today = clock.localdate()
    year_score = conduct_score(household, *period_range("year", today.year))
    thresholds = sorted(household.village.star_thresholds or [])[:5]
    stars = stars_for(year_score, thresholds)
    this_month = today.replace(day=1)
    last_month = (this_month - datetime.timedelta(days=1)).replace(day=1)
    return render(
        request,
        "portal/me.html",
        {
            "household": household,
            "members": household.members.all(),
            "balance": household_balance(household),
            "month_score": conduct_score(household, *period_range("month", today.year, today.month)),
            "year_score": year_score,
            "year": today.year,
            "stars": stars,
            "star_range": range(len(thresholds)),
            "next_star_gap": thresholds[stars] - year_score if stars < len(thresholds) else None,
            "notice_this_month": _month_link(this_month),
            "notice_last_month": _month_link(last_month),
        },
    )


@resident_only
def statement(request, household):
    """积分明细: newest first, 20 a page; the page number comes from the query string (bad values: page 1)."""
    page = household_statement(household, page=request.GET.get("page") or 1, per_page=STATEMENT_PAGE_SIZE)
    for line in page.object_list:
        line.explanation = _redact(line.explanation)
        line.magnitude = abs(line.signed)
    return render(request, "portal/statement.html", {"household": household, "page": page})


@resident_only
def claims(request, household):
    rows = list(household_claims(household))
    for claim in rows:
        claim.public_text = _redact(claim.text)
        claim.public_reason = _redact(claim.reject_reason)
    return render(request, "portal/claims.html", {"household": household, "claims": rows})


@resident_only
def claim_new(request, household):
    """积分申报 → ``claim_submit``. Every refusal is shown next to its field; nothing is written on any error."""
    items = rubric_for_village(household.village).filter(kind=RubricItem.Kind.AWARD)
    posted = request.method == "POST"
    form = ClaimForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        items=items,
        members=household.members.all(),
        initial={"request_id": uuid.uuid4().hex},
    )
    if posted and form.is_valid():
        try:
            claim_submit(
                actor=request.user,
                household=household,
                rubric_item=form.cleaned_data["rubric_item"],
                member=form.cleaned_data["member"],
                text=form.cleaned_data["text"],
                photos=form.cleaned_data["photos"],
                idempotency_key=form.cleaned_data["request_id"] or None,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        except HeheError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _(MSG_CLAIM_SENT))
            return redirect("portal:claims")
    return render(request, "portal/claim_form.html", {"household": household, "form": form})


@resident_only
def objections(request, household):
    rows = list(household_objections(household))
    for objection in rows:
        objection.public_text = _redact(objection.text)
        objection.public_answer = _redact(objection.answer)
    return render(request, "portal/objections.html", {"household": household, "objections": rows})


@resident_only
def objection_new(request, household, transfer_id):
    """异议 on one line of the village's published notice → ``objection_file`` (which decides the deadline)."""
    transfer = village_transfer_or_none(village_id=household.village_id, transfer_id=transfer_id)
    if transfer is None:
        raise Http404
    data = public_notice(household.village, transfer.period)
    line = next((t for t in data["transfers"] if t.id == transfer.id), None)
    if line is None:  # not a line of a notice (a redemption, a vote...): nothing to object to
        raise Http404
    line.public_reason = _redact(line.reason)
    notice = data["notice"]
    refusal = ""
    if notice is None:
        refusal = _(MSG_NOT_PUBLISHED)
    elif not _objections_open(notice):
        refusal = _(MSG_PERIOD_OVER)
    posted = request.method == "POST"
    form = ObjectionForm(request.POST if posted else None)
    if posted and form.is_valid():
        try:
            objection_file(actor=request.user, transfer=transfer, text=form.cleaned_data["text"])
        except ValidationError as exc:
            _add_errors(form, exc)
        except HeheError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _(MSG_OBJECTION_SENT))
            return redirect("portal:objections")
    context = {
        "household": household,
        "village": household.village,
        "line": line,
        "notice": notice,
        "period": data["period"],
        "refusal": refusal,
        "form": form,
    }
    return render(request, "portal/objection_form.html", context)


@public_page
def notice(request, village_code, period):
    """积分公示 of one village and month, for everyone. Unpublished months show no lines at all."""
    match = _PERIOD.match(period)
    if match is None:
        raise Http404
    year, month = int(match[1]), int(match[2])
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise Http404
    village = village_by_code(village_code)
    if village is None:
        raise Http404
    data = public_notice(village, datetime.date(year, month, 1))
    published = data["notice"] is not None
    if published:
        for line in data["transfers"]:
            line.public_reason = _redact(line.reason)
        for objection in data["objections"]:
            objection.public_text = _redact(objection.text)
            objection.public_answer = _redact(objection.answer)
    scope = scope_for(request.user)
    can_object = (
        published and scope.role == RESIDENT and scope.covers_village(village.id) and _objections_open(data["notice"])
    )
    previous = (data["period"] - datetime.timedelta(days=1)).replace(day=1)
    following = (data["period"] + datetime.timedelta(days=31)).replace(day=1)
    context = {
        **data,
        "transfers": data["transfers"] if published else [],
        "objections": data["objections"] if published else [],
        "published": published,
        "objections_open": _objections_open(data["notice"]),
        "can_object": can_object,
        "total_plus": sum(line.signed for line in data["transfers"] if line.signed > 0),
        "total_minus": -sum(line.signed for line in data["transfers"] if line.signed < 0),
        "previous_month": _month_link(previous),
        "next_month": _month_link(following) if following <= clock.localdate() else None,
    }
    return render(request, "portal/notice.html", context)


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
