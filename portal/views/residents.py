"""A resident's own pages: /me/ (balance, score, stars), the statement, claims and objections.

Each view asks ``points.scope`` who the user is, calls one selector or service, and renders. A resident's pages
take the household from the scope, never from the URL, so no address leads to another household. Free text
that people typed (claims, objections, answers, memos) passes through ``points.privacy.mask_numbers`` before
it is shown.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from points import clock
from points.admin.forms import show_refusal
from points.exceptions import HeheError
from points.ledger.awards import rubric_for_village
from points.ledger.claims import claim_submit
from points.ledger.notices import notice_objections_open, objection_file
from points.ledger.selectors import (
    conduct_score,
    household_balance,
    household_claims,
    household_objections,
    household_statement,
    period_range,
    public_notice,
    stars_for,
    village_transfer_or_none,
)
from points.models import RubricItem
from points.privacy import mask_numbers
from points.scope import RESIDENT, scope_for
from portal.forms import ClaimForm, ObjectionForm
from portal.views.common import month_link, own_household, resident_only
from portal.views.notice import MSG_NOT_PUBLISHED

STATEMENT_PAGE_SIZE = 20


MSG_CLAIM_SENT = gettext_noop("申报已提交，村委审核后会告诉您结果。")


MSG_OBJECTION_SENT = gettext_noop("异议已提交，村委会公开答复。")


MSG_PERIOD_OVER = gettext_noop("公示期已过，不能再提出异议")


@login_required
def me(request):
    """The resident's own household. Staff are sent to the admin, where their work is."""
    scope = scope_for(request.user)
    if scope.role != RESIDENT:
        return render(request, "portal/me_staff.html", status=200)
    household = own_household(scope)
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
            "notice_this_month": month_link(this_month),
            "notice_last_month": month_link(last_month),
        },
    )


@resident_only
def statement(request, household):
    """积分明细: newest first, 20 a page; the page number comes from the query string (bad values: page 1)."""
    page = household_statement(household, page=request.GET.get("page") or 1, per_page=STATEMENT_PAGE_SIZE)
    for line in page.object_list:
        line.explanation = mask_numbers(line.explanation)
        line.magnitude = abs(line.signed)
    return render(request, "portal/statement.html", {"household": household, "page": page})


@resident_only
def claims(request, household):
    rows = list(household_claims(household))
    for claim in rows:
        claim.public_text = mask_numbers(claim.text)
        claim.public_reason = mask_numbers(claim.reject_reason)
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
                idempotency_key=form.key,
            )
        except (HeheError, ValidationError) as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _(MSG_CLAIM_SENT))
            return redirect("portal:claims")
    return render(request, "portal/claim_form.html", {"household": household, "form": form})


@resident_only
def objections(request, household):
    rows = list(household_objections(household))
    for objection in rows:
        objection.public_text = mask_numbers(objection.text)
        objection.public_answer = mask_numbers(objection.answer)
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
    line.public_reason = mask_numbers(line.reason)
    notice = data["notice"]
    refusal = ""
    if notice is None:
        refusal = _(MSG_NOT_PUBLISHED)
    elif not notice_objections_open(notice):
        refusal = _(MSG_PERIOD_OVER)
    posted = request.method == "POST"
    form = ObjectionForm(request.POST if posted else None)
    if posted and form.is_valid():
        try:
            objection_file(actor=request.user, transfer=transfer, text=form.cleaned_data["text"])
        except (HeheError, ValidationError) as exc:
            show_refusal(form, exc)
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
