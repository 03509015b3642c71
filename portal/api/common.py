"""What the store and campaign routers share: optional tokens, a chosen village, refusals, replays.

- ``PUBLIC``: endpoints anyone may call. A valid bearer token makes the caller that user; no Authorization
  header makes them anonymous (a browser session never counts: the API is token-only); a bad token is 401.
- ``chosen_village``: the ``?village=`` of a listing, defaulting to the caller's one village.
- ``refusal``: a service's refusal as a problem, with a stable type for the store's and campaigns' rules.
- ``replayed``: the Idempotency-Key contract for services that take no key of their own.
"""

import json

from django.contrib.auth.models import AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils.translation import gettext as _

from campaigns.exceptions import AlreadyVoted, ResultsHidden, VotingClosed
from points.exceptions import HeheError, OutOfStock, StoreError
from points.ledger import books
from points.models import Village
from points.scope import scope_for
from portal.api import problems, tokens


def anonymous(request):
    """The second way into a public endpoint: no Authorization header at all. The caller is then anonymous,
    whatever session cookie the browser sent. (A header that is there but bad fails ``TokenAuth`` and this
    too, and answers 401.)"""
    if "HTTP_AUTHORIZATION" in request.META:
        return None
    request.user = AnonymousUser()
    return request.user


PUBLIC = [tokens.TokenAuth(), anonymous]
# What PUBLIC means in the OpenAPI document: a bearer token, or none at all.
PUBLIC_OPENAPI = {"security": [{"TokenAuth": []}, {}]}


def chosen_village(request, village_id: int | None):
    """(village, None) or (None, problem): the village asked for, or the caller's only village if none was.
    Unknown: 404. Left out by a caller who does not belong to exactly one village: 400."""
    if village_id is None:
        scope = scope_for(request.user)
        own = list(scope.villages().values_list("id", flat=True)[:2]) if scope.village_ids is not None else []
        if len(own) != 1:
            return None, problems.invalid({"village": [_("此项为必填项")]})
        village_id = own[0]
    village = Village.objects.select_related("township").filter(id=village_id).first()
    if village is None:
        return None, problems.not_found(_("找不到该村"), errors={"village": [_("找不到该村")]})
    return village, None


# Rules of the store and of campaigns that refuse a request (409), each with its own problem type. The ledger's
# own (insufficient points, idempotency conflict, ...) and 403 for OutOfScope come from ``problems.from_domain``.
REFUSALS = [
    (OutOfStock, "out-of-stock"),
    (AlreadyVoted, "already-voted"),
    (VotingClosed, "voting-closed"),
    (ResultsHidden, "results-hidden"),
    (StoreError, "store-refused"),
]


def refusal(exc: HeheError):
    for cls, kind in REFUSALS:
        if isinstance(exc, cls):
            return problems.problem(409, exc.message, kind=kind)
    return problems.from_domain(exc)


# --- replays for services without a key of their own ----------------------------------------------------------


class _Unused(Exception):
    """Raised inside ``books.idempotent`` to look a key up without taking it."""


def _first_answer(*, actor, key: str, operation: str, request: dict) -> dict | None:
    """The body first answered under ``key`` for this request, or None if the key is unused.
    The same key used for another request raises IdempotencyConflict."""

    def unused():
        raise _Unused

    try:
        with transaction.atomic(using=books.ledger_db()):
            body, _replayed = books.idempotent(actor=actor, key=key, operation=operation, request=request, run=unused)
    except _Unused:
        return None
    return body


def replayed(*, actor, key: str, operation: str, request: dict, act) -> dict:
    """Run ``act`` (a service call answering a response body) once per key, through ``books.idempotent``:
    the same key and request answer the first body again; the key used for anything else, 409.

    ``act`` runs outside any transaction of ours, because a service may commit a step of its own that must
    stand even when it then refuses (``reservation_fulfil`` expires an overdue reservation first). The body is
    recorded once ``act`` has succeeded. A twin request with the same key that raced it is refused by the service
    (the state has moved on); if by then the winner's record is there, the twin answers its body instead.
    """
    first = _first_answer(actor=actor, key=key, operation=operation, request=request)
    if first is not None:
        return first
    try:
        body = json.loads(json.dumps(act(), cls=DjangoJSONEncoder))
    except HeheError:
        first = _first_answer(actor=actor, key=key, operation=operation, request=request)
        if first is not None:
            return first
        raise
    with transaction.atomic(using=books.ledger_db()):
        recorded, _replayed = books.idempotent(
            actor=actor, key=key, operation=operation, request=request, run=lambda: body
        )
    return recorded
