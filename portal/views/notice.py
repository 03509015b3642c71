"""The public points notice of a village and month (积分公示), masked names, objections and answers."""

import datetime
import re

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_noop

from points import clock
from points.ledger.notices import notice_objections_open
from points.ledger.selectors import (
    public_notice,
)
from points.privacy import mask_numbers
from points.register.selectors import village_by_code
from points.scope import RESIDENT, scope_for
from portal.cache import public_page
from portal.views.common import month_link

MSG_NOT_PUBLISHED = gettext_noop("该月份尚未公示")


_PERIOD = re.compile(r"^([0-9]{4})-([0-9]{2})$")


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
            line.public_reason = mask_numbers(line.reason)
        for objection in data["objections"]:
            objection.public_text = mask_numbers(objection.text)
            objection.public_answer = mask_numbers(objection.answer)
    scope = scope_for(request.user)
    can_object = (
        published
        and scope.role == RESIDENT
        and scope.covers_village(village.id)
        and notice_objections_open(data["notice"])
    )
    previous = (data["period"] - datetime.timedelta(days=1)).replace(day=1)
    following = (data["period"] + datetime.timedelta(days=31)).replace(day=1)
    context = {
        **data,
        "transfers": data["transfers"] if published else [],
        "objections": data["objections"] if published else [],
        "published": published,
        "objections_open": notice_objections_open(data["notice"]),
        "can_object": can_object,
        "total_plus": sum(line.signed for line in data["transfers"] if line.signed > 0),
        "total_minus": -sum(line.signed for line in data["transfers"] if line.signed < 0),
        "previous_month": month_link(previous),
        "next_month": month_link(following) if following <= clock.localdate() else None,
    }
    return render(request, "portal/notice.html", context)
