"""The register and the ledger over JSON: households, statements, the rubric, awards, reversals, chain heads.

Thin callers, as the design asks: scope from ``points.scope``, reads from ``points.selectors``, writes through
``points.awards``. What each endpoint adds is only the HTTP side: which object an id names for this caller
(404 when its existence must not leak), the Idempotency-Key header, and the shape of the answer.
"""

from django.utils.translation import gettext as _
from ninja import Header, Path, Query, Router, Status

from points import clock
from points.exceptions import IdempotencyKeyInvalid
from points.ledger import books
from points.ledger.awards import points_award, rubric_for_village, transfer_reverse
from points.ledger.selectors import conduct_score, household_balance, household_statement, period_range, stars_for
from points.models import GENESIS_HASH, Account, Household, LedgerHead, RubricItem, Transfer, Village
from points.privacy import mask_numbers
from points.register.selectors import household_detail, household_search
from points.scope import RESIDENT, Capability, Scope, scope_for
from portal.api import problems
from portal.api.schemas import (
    MAX_ID,
    AwardIn,
    AwardOut,
    HouseholdDetail,
    HouseholdList,
    HouseholdQuery,
    LedgerOut,
    Page,
    Problem,
    ReversalIn,
    RubricList,
    RubricQuery,
    Statement,
    TransferOut,
)

router = Router(tags=["ledger"])


def errors(*codes: int) -> dict:
    """The problem statuses an endpoint can answer, for its OpenAPI entry."""
    return {frozenset(codes): Problem}


IdPath = Path(..., ge=1, le=MAX_ID)
IdempotencyKey = Header(
    None,
    alias="Idempotency-Key",
    description="required: the same key with the same body returns the first answer; with another body, 409",
)


# --- helpers ---------------------------------------------------------------------------------------------------


def _village_out(village: Village) -> dict:
    return {"id": village.id, "code": village.code, "name": village.name}


def _household_out(household: Household) -> dict:
    return {
        "id": household.id,
        "number": household.number,
        "login_number": household.login_number,
        "head_name": household.head_name,
        "village": _village_out(household.village),
        "group": household.group.name,
        "status": household.status,
    }


def _ledger_visible(scope: Scope, household: Household) -> bool:
    """Balances and statements: a resident their own household, staff whose role reads the village's ledger."""
    if scope.role == RESIDENT:
        return household.id == scope.household_id
    return scope.can(Capability.VIEW_LEDGER, household.village_id)


def _transfer_visible(scope: Scope, transfer: Transfer) -> bool:
    if scope.role == RESIDENT:
        return transfer.household_id is not None and transfer.household_id == scope.household_id
    return scope.can(Capability.VIEW_LEDGER, transfer.village_id)


def _visible_household(request, household_id: int) -> Household | None:
    scope = scope_for(request.user)
    household = household_detail(scope=scope, household_id=household_id)
    if household is None or not scope.can_see_household(household) or not _ledger_visible(scope, household):
        return None
    return household


def _idempotency_key(value: str | None) -> tuple[str | None, object | None]:
    key = (value or "").strip()
    if not key:
        message = _("每个记分请求都要带 Idempotency-Key 请求头（任意不重复的字符串，重试时用同一个）")
        return None, problems.problem(
            400, message, kind="missing-idempotency-key", errors={"Idempotency-Key": [message]}
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        return None, problems.invalid({"Idempotency-Key": [_("含有无法保存的字符")]})
    try:
        # The services' own check, run here too so that a key they would refuse is a 400 naming the header.
        return books.clean_idempotency_key(key), None
    except IdempotencyKeyInvalid:
        message = _("过长（最多 %(max)s 字）") % {"max": books.MAX_IDEMPOTENCY_KEY_LENGTH}
        return None, problems.invalid({"Idempotency-Key": [message]})


def _signed_amounts(transfers: list[Transfer]) -> dict[int, int]:
    """Each transfer seen from its household (+ credited, − debited), with one query for all the accounts."""
    accounts = dict(
        Account.objects.filter(household_id__in={t.household_id for t in transfers if t.household_id}).values_list(
            "household_id", "id"
        )
    )
    signed = {}
    for t in transfers:
        account_id = accounts.get(t.household_id)
        signed[t.id] = -t.amount if account_id is not None and t.debit_account_id == account_id else t.amount
    return signed


def _transfer_out(t: Transfer, signed: int) -> dict:
    return {
        "id": t.id,
        "seq": t.seq,
        "village": t.village_id,
        "household": t.household_id,
        "code": t.code,
        "amount": t.amount,
        "signed_amount": signed,
        "item_name": t.item_name,
        "memo": t.memo,
        "reason": t.reason,
        "reverses": t.reverses_id,
        "period": t.period,
        "created_at": t.created_at,
        "hash": t.hash,
    }


def _transfers_out(transfers: list[Transfer]) -> list[dict]:
    signed = _signed_amounts(transfers)
    return [_transfer_out(t, signed[t.id]) for t in transfers]


# --- households ------------------------------------------------------------------------------------------------


@router.get("/households", response={200: HouseholdList, **errors(400, 401, 403, 404)}, summary="Search households")
def households_list(request, filters: Query[HouseholdQuery]):
    """Households the caller may see, newest first: by household number, head's or member's name, or pinyin
    initials (``zsf`` finds 张三丰). For staff (committee, grid worker, storekeeper, township and district)."""
    scope = scope_for(request.user)
    if not scope.is_staff_role or not scope.can(Capability.VIEW_REGISTER):
        return problems.forbidden(_("只有工作人员可以查找户"))
    if filters.village is not None and not scope.villages().filter(id=filters.village).exists():
        if Village.objects.filter(id=filters.village).exists():
            return problems.forbidden()
        return problems.not_found(_("找不到该村"), errors={"village": [_("找不到该村")]})
    households = household_search(scope=scope, query=filters.q, village_id=filters.village).order_by("-id")
    count = households.count()
    window = households[filters.offset : filters.offset + filters.limit]
    return {
        "count": count,
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_household_out(h) for h in window],
    }


@router.get("/households/{id}", response={200: HouseholdDetail, **errors(400, 401, 404)}, summary="One household")
def household_get(request, id: int = IdPath):
    """Number, village, head, members (names and relations only), balance, this year's conduct score, stars.
    Staff of the household's village and the household itself; anyone else gets 404."""
    household = _visible_household(request, id)
    if household is None:
        return problems.not_found(_("找不到该户，或您无权查看"))
    year = clock.localdate().year
    score = conduct_score(household, *period_range("year", year))
    return {
        **_household_out(household),
        "members": [
            {"name": m.name, "relation": m.relation, "relation_label": m.get_relation_display()}
            for m in household.members.all()
        ],
        "balance": household_balance(household),
        "conduct_year": year,
        "conduct_score": score,
        "stars": stars_for(score, household.village.star_thresholds),
    }


@router.get(
    "/households/{id}/transfers", response={200: Statement, **errors(400, 401, 404)}, summary="A household's statement"
)
def household_transfers(request, id: int = IdPath, page: Query[Page] = None):
    """The household's transfers, newest first, each with a line of explanation and its signed amount."""
    household = _visible_household(request, id)
    if household is None:
        return problems.not_found(_("找不到该户，或您无权查看"))
    page = page or Page()
    limit, offset = page.limit, page.offset
    # The selector pages by page number; an offset that is not a multiple of the limit spans two of its pages.
    first = household_statement(household, page=offset // limit + 1, per_page=limit)
    paginator = first.paginator
    lines = []
    if first.number == offset // limit + 1:  # get_page() answers the last page for one past the end
        lines = list(first.object_list)
        if offset % limit and first.has_next():
            lines += list(household_statement(household, page=first.number + 1, per_page=limit).object_list)
        lines = lines[offset % limit : offset % limit + limit]
    return {
        "count": paginator.count,
        "limit": limit,
        "offset": offset,
        "items": [
            {
                "id": t.id,
                "seq": t.seq,
                "code": t.code,
                "code_label": t.get_code_display(),
                "amount": t.amount,
                "signed_amount": t.signed,
                # Free text masked as on the resident's statement page: a memo may name someone's phone.
                "explanation": mask_numbers(t.explanation),
                "item_name": t.item_name,
                "memo": mask_numbers(t.memo),
                "reason": mask_numbers(t.reason),
                "reverses": t.reverses_id,
                "period": t.period,
                "created_at": t.created_at,
            }
            for t in lines
        ],
    }


# --- the rubric ------------------------------------------------------------------------------------------------


@router.get("/rubric", response={200: RubricList, **errors(400, 401, 404)}, summary="The rubric in force in a village")
def rubric_list(request, filters: Query[RubricQuery]):
    """Active rubric items (the village's own and the district's it has not overridden), with their points.
    ``village`` may be left out by a caller who belongs to exactly one village."""
    scope = scope_for(request.user)
    village_id = filters.village
    if village_id is None:
        own = list(scope.villages().values_list("id", flat=True)[:2]) if scope.village_ids is not None else []
        if len(own) != 1:
            return problems.invalid({"village": [_("此项为必填项")]})
        village_id = own[0]
    village = Village.objects.select_related("township").filter(id=village_id).first()
    if village is None:
        return problems.not_found(_("找不到该村"), errors={"village": [_("找不到该村")]})
    items = rubric_for_village(village)
    count = items.count()
    window = items[filters.offset : filters.offset + filters.limit]
    return {
        "village": _village_out(village),
        "count": count,
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [
            {
                "id": item.id,
                "name": item.name,
                "category": item.category.name,
                "kind": item.kind,
                "points": item.points,
                "signed_points": item.signed_points,
                "cap_period": item.cap_period,
                "cap_points": item.cap_points,
                "evidence_required": item.evidence_required,
            }
            for item in window
        ],
    }


# --- awards and reversals --------------------------------------------------------------------------------------


@router.post(
    "/awards",
    response={201: AwardOut, **errors(400, 401, 403, 404, 409, 413)},
    summary="Award or deduct for households",
)
def awards_create(request, payload: AwardIn, idempotency_key: str | None = IdempotencyKey):
    """Award (or, for a deduction item, deduct) the rubric item's points to every listed household of one
    village: all of them or none. Committee (and township, district) only."""
    key, refusal = _idempotency_key(idempotency_key)
    if refusal:
        return refusal
    scope = scope_for(request.user)
    if not scope.can(Capability.MANAGE_POINTS):
        return problems.forbidden()
    wanted = list(dict.fromkeys(payload.households))
    households = list(scope.households().filter(id__in=wanted))
    found = {h.id for h in households}
    missing = [i for i in wanted if i not in found]
    if missing:
        shown = "、".join(str(i) for i in missing[:10]) + ("…" if len(missing) > 10 else "")
        message = _("找不到这些户，或您无权查看：%(ids)s") % {"ids": shown}
        return problems.not_found(message, errors={"households": [message]})
    if len({h.village_id for h in households}) > 1:
        return problems.invalid({"households": [_("一次只能给同一个村的户记分")]})
    item = RubricItem.objects.filter(id=payload.rubric_item).first()
    if item is None:
        return problems.not_found(_("找不到该细则"), errors={"rubric_item": [_("找不到该细则")]})
    by_id = {h.id: h for h in households}
    transfers = points_award(
        actor=request.user,
        village=households[0].village,
        rubric_item=item,
        households=[by_id[i] for i in wanted],
        idempotency_key=key,
        memo=payload.memo,
    )
    return Status(201, {"count": len(transfers), "transfers": _transfers_out(transfers)})


@router.post(
    "/transfers/{id}/reversal",
    response={201: TransferOut, **errors(400, 401, 403, 404, 409, 413)},
    summary="Reverse a transfer",
)
def transfer_reversal(request, payload: ReversalIn, id: int = IdPath, idempotency_key: str | None = IdempotencyKey):
    """Undo a transfer with a reversal that names it and the reason; at most once, never a reversal itself."""
    key, refusal = _idempotency_key(idempotency_key)
    if refusal:
        return refusal
    scope = scope_for(request.user)
    transfer = (
        Transfer.objects.select_related("village", "household", "debit_account", "credit_account")
        .filter(id=id, village_id__in=scope.villages().values("id"))
        .first()
    )
    # Who may read the transfer learns it exists (404 otherwise); whether they may reverse it is the service's.
    if transfer is None or not _transfer_visible(scope, transfer):
        return problems.not_found(_("找不到该记录，或您无权查看"))
    reversal = transfer_reverse(actor=request.user, transfer=transfer, reason=payload.reason, idempotency_key=key)
    return Status(201, _transfers_out([reversal])[0])


# --- the public chain head -------------------------------------------------------------------------------------


@router.get(
    "/villages/{id}/ledger", auth=None, response={200: LedgerOut, **errors(400, 404)}, summary="A village's chain head"
)
def village_ledger(request, id: int = IdPath):
    """Public: how many transfers the village's ledger holds, the hash at the head of its chain, and when
    ``verify_ledger`` last checked it. Anyone can compare the hash with the one on the public notice."""
    village = Village.objects.filter(id=id).first()
    if village is None:
        return problems.not_found(_("找不到该村"))
    head = LedgerHead.objects.filter(village=village).first()
    return {
        "village": _village_out(village),
        "transfer_count": head.seq if head else 0,
        "head_hash": head.hash if head else GENESIS_HASH,
        "last_verified_at": head.last_verified_at if head else None,
        "last_verified_ok": head.last_verified_ok if head else None,
    }
