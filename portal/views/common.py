"""What the resident's and public views share: the resident-only guard, form errors and month links. Free text
is masked with ``points.privacy.mask_numbers``; the notice's objection window is
``points.ledger.notices.notice_objections_open``."""

import datetime
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
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


def add_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the fields it names (the rest at the top of the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def month_link(period: datetime.date) -> str:
    return f"{period:%Y-%m}"
