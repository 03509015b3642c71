"""What the resident's and public views share: the resident-only guard, the redaction of free text, the notice's
objection window and month links."""

import datetime
import re
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from points import clock
from points.register.selectors import household_detail
from points.scope import RESIDENT, scope_for

# 11-digit mobile numbers (also written 138-0013-8001 or 138 0013 8001) and 15/18-character ID numbers.
_PRIVATE_NUMBER = re.compile(r"(?<![0-9])(?:1[3-9][0-9](?:[ -]?[0-9]{4}){2}|[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9Xx])")


def redact(text: str) -> str:
    return _PRIVATE_NUMBER.sub("***", text or "")


def own_household(scope):
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
        return view(request, own_household(scope), *args, **kwargs)

    return wrapper


def notice_objections_open(notice) -> bool:
    """Whether the notice still takes objections; the service decides again when one is filed."""
    return notice is not None and not notice.is_closed and clock.localdate() <= notice.objection_deadline


def month_link(period: datetime.date) -> str:
    return f"{period:%Y-%m}"
