"""What the resident's and public views share: the resident-only guard and month links. Free text is masked
with ``points.privacy.mask_numbers``, refusals shown with ``points.admin.forms.show_refusal``, and the notice's
objection window is ``points.ledger.notices.notice_objections_open``."""

import datetime
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from points.register.selectors import household_detail
from points.scope import RESIDENT, scope_for


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


def month_link(period: datetime.date) -> str:
    return f"{period:%Y-%m}"
