"""Reads of the register: villages' public counts, finding households (number, name, pinyin initials), one
household's details, a village by its code. Views and pages call these; they never filter models themselves."""

from django.db.models import Count, Q, QuerySet

from points.models import (
    Household,
    Village,
)
from points.register.identifiers import parse_login_number
from points.scope import Scope


def register_overview() -> list[dict]:
    """Public counts per village: households in the register. Nothing personal."""
    return list(
        Village.objects.select_related("township")
        .annotate(households_count=Count("households", filter=Q(households__status=Household.Status.ACTIVE)))
        .order_by("township__code", "code")
        .values("name", "township__name", "households_count")
    )


def household_search(*, scope: Scope, query: str, village_id: int | None = None) -> QuerySet[Household]:
    """Households in scope whose number, head's name or pinyin initials match ``query``; a login number
    (``QS01-023``, typed or scanned from a card, read by ``parse_login_number``) finds exactly that household."""
    qs = scope.households()
    if village_id is not None:
        qs = qs.filter(village_id=village_id)
    query = (query or "").strip()
    if not query:
        return qs
    login_number = parse_login_number(query)
    if login_number is not None:
        code, query = login_number
        if code is not None:
            return qs.filter(village__code__iexact=code, number__iexact=query)
    condition = Q(number__iexact=query) | Q(number__istartswith=query) | Q(head_name__contains=query)
    if query.isascii() and query.isalpha():
        condition |= Q(head_initials__icontains=query.lower()) | Q(members__name_initials__icontains=query.lower())
    else:
        condition |= Q(members__name__contains=query)
    return qs.filter(condition).distinct()


def household_detail(*, scope: Scope, household_id: int) -> Household | None:
    """One household with its members, or None if it is outside the scope (callers answer 404)."""
    return scope.households().prefetch_related("members").filter(id=household_id).first()


def village_by_code(code: str) -> Village | None:
    return Village.objects.filter(code__iexact=(code or "").strip()).first()
