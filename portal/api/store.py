"""The village store over JSON: the catalogue, redemptions at the counter and reservations from a phone.

Thin callers of ``points.store`` and ``points.selectors``: every rule (stock, points, who may redeem for whom,
which products a line may name, the states a reservation moves through) is the service's. What this module adds
is the HTTP side: which redemption or household an id names for this caller (404 where existence must not
leak), the Idempotency-Key header, which field a refused line was (400), and the shape of the answers.

Statuses: a line naming a product the household's village store does not offer (unknown id, another village's
product, one taken off the shelf) is invalid input, **400** with ``errors["lines.<i>.product"]``; the product
catalogue is public, so there is nothing to hide behind a 404. Out of stock (the detail names the product),
insufficient points (the detail says how many are needed and held), a reservation not in a state to hand over
or cancel: **409**.
"""

import datetime
from collections import Counter
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from points.exceptions import HeheError, OutOfStock, StoreError
from points.models import Household, Redemption
from points.scope import RESIDENT, scope_for
from points.store.selectors import catalogue
from points.store.selectors import redemption_balance_after as balance_after
from points.store.services import MAX_LINES, MAX_QUANTITY, redemption_create, reservation_cancel, reservation_fulfil
from portal.api import problems
from portal.api.common import PUBLIC, PUBLIC_OPENAPI, chosen_village, refusal, replayed
from portal.api.ledger import (
    IdempotencyKey,
    IdPath,
    _idempotency_key,
    _ledger_visible,
    _village_out,
    _visible_household,
    errors,
)
from portal.api.schemas import BodyId, Page, QueryId, VillageOut

router = Router(tags=["store"])


# --- shapes ------------------------------------------------------------------------------------------------------


class ProductQuery(Page):
    village: QueryId | None = Field(None, description="required unless you belong to one village")


class ProductOut(Schema):
    id: int
    name: str
    category: str
    category_label: str
    price: int = Field(description="points per unit")
    unit: str
    stock: int


class ProductList(Schema):
    village: VillageOut
    count: int
    limit: int
    offset: int
    items: list[ProductOut]


Quantity = Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY)]


class LineIn(Schema):
    product: BodyId
    quantity: Quantity


class RedemptionIn(Schema):
    household: BodyId
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)


class LineOut(Schema):
    product: int
    product_name: str
    quantity: int
    unit_price: int
    points: int


class RedemptionOut(Schema):
    """A redemption. Built from what does not change, so the same Idempotency-Key replays it byte for byte."""

    id: int
    receipt_number: str = Field(description="the number printed on the receipt, e.g. QS01-000012")
    village: int
    household: int
    status: str = Field(
        description="POST /redemptions: as created (completed at the counter, reserved for a reservation); "
        "fulfilment and cancellation: after the action (fulfilled, cancelled, or expired if it was overdue)"
    )
    total: int = Field(description="points debited")
    lines: list[LineOut]
    balance_after: int = Field(description="the household's balance right after this redemption's debit")
    created_at: datetime.datetime
    pickup_deadline: datetime.datetime | None = Field(description="reservations only")
    transfer: int = Field(description="the ledger transfer that debited the points")
    refund: int | None = Field(None, description="the transfer that refunded them (cancelled or expired)")
    closed_at: datetime.datetime | None = None


# --- helpers ----------------------------------------------------------------------------------------------------


def _redemption_out(redemption: Redemption, *, as_created: bool = False) -> dict:
    """The redemption now, or ``as_created``: as the POST that made it first answered, whatever happened since
    (the same key must replay the same body)."""
    if as_created:
        reserved = redemption.pickup_deadline is not None
        status = Redemption.Status.RESERVED if reserved else Redemption.Status.COMPLETED
    else:
        status = Redemption.Status(redemption.status)
    return {
        "id": redemption.id,
        "receipt_number": redemption.receipt_number,
        "village": redemption.village_id,
        "household": redemption.household_id,
        "status": status.value,
        "total": redemption.total_points,
        "lines": [
            {
                "product": line.product_id,
                "product_name": line.product_name,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "points": line.points,
            }
            for line in redemption.lines.order_by("id")
        ],
        "balance_after": balance_after(redemption),
        "created_at": redemption.created_at,
        "pickup_deadline": redemption.pickup_deadline,
        "transfer": redemption.transfer_id,
        "refund": None if as_created else redemption.refund_id,
        "closed_at": None if as_created else redemption.closed_at,
    }


def _line_errors(household: Household, lines: list[LineIn]) -> dict:
    """Which lines the store refused, by field: a product it does not offer, or more of one product than a
    redemption may take once the lines naming it are added up (the service merges them)."""
    offered = set(
        catalogue(household.village).filter(pk__in={line.product for line in lines}).values_list("pk", flat=True)
    )
    totals = Counter()
    for line in lines:
        totals[line.product] += line.quantity
    found = {}
    for index, line in enumerate(lines):
        if line.product not in offered:
            found[f"lines.{index}.product"] = [_("本村超市没有这件商品，或已下架")]
        elif totals[line.product] > MAX_QUANTITY:
            found[f"lines.{index}.quantity"] = [_("同一商品合计不能超过 %(max)s") % {"max": MAX_QUANTITY}]
    return found


def _visible_redemption(request, redemption_id: int) -> Redemption | None:
    """A redemption whose household's ledger the caller may read (staff of its village, the household itself)."""
    scope = scope_for(request.user)
    redemption = (
        Redemption.objects.select_related("village", "household")
        .filter(id=redemption_id, village_id__in=scope.villages().values("id"))
        .first()
    )
    if redemption is None or not _ledger_visible(scope, redemption.household):
        return None
    return redemption


# --- the catalogue -----------------------------------------------------------------------------------------------


@router.get(
    "/products",
    auth=PUBLIC,
    openapi_extra=PUBLIC_OPENAPI,
    response={200: ProductList, **errors(400, 401, 404)},
    summary="A village store's catalogue",
)
def products_list(request, filters: Query[ProductQuery]):
    """Public, token optional: the products on the shelf with their points price and stock, in the store's own
    order. ``village`` may be left out by a caller who belongs to exactly one village."""
    village, refused = chosen_village(request, filters.village)
    if refused:
        return refused
    products = catalogue(village)
    count = products.count()
    window = products[filters.offset : filters.offset + filters.limit]
    return {
        "village": _village_out(village),
        "count": count,
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [
            {
                "id": p.id,
                "name": p.name,
                "category": p.category,
                "category_label": p.get_category_display(),
                "price": p.price,
                "unit": p.unit,
                "stock": p.stock,
            }
            for p in window
        ],
    }


# --- redemptions -------------------------------------------------------------------------------------------------


@router.post(
    "/redemptions",
    response={201: RedemptionOut, **errors(400, 401, 403, 404, 409, 413)},
    summary="Redeem goods for points",
)
def redemptions_create(request, payload: RedemptionIn, idempotency_key: str | None = IdempotencyKey):
    """Every line or none. A storekeeper (or committee) redeems for a household of the village at the counter:
    ``completed``. A resident redeems for their own household: a reservation (``reserved``), held until its
    pickup deadline. Lines naming the same product are added up.

    409 when a rule refuses it: out of stock (naming the product), insufficient points (how many needed, how many
    held), an archived household, a total beyond what one transfer may move."""
    key, refused = _idempotency_key(idempotency_key)
    if refused:
        return refused
    household = _visible_household(request, payload.household)
    if household is None:
        message = _("找不到该户，或您无权查看")
        return problems.not_found(message, errors={"household": [message]})
    try:
        redemption = redemption_create(
            actor=request.user,
            household=household,
            lines=[(line.product, line.quantity) for line in payload.lines],
            idempotency_key=key,
            reserve=scope_for(request.user).role == RESIDENT,
        )
    except OutOfStock as exc:
        return refusal(exc)
    except StoreError as exc:  # which line it was, if it was a line; else a rule (an archived household): 409
        found = _line_errors(household, payload.lines)
        if found:
            return problems.invalid(found, detail=exc.message)
        return refusal(exc)
    except HeheError as exc:
        return refusal(exc)
    return Status(201, _redemption_out(redemption, as_created=True))


def _close(request, redemption_id: int, idempotency_key: str | None, service, operation: str):
    key, refused = _idempotency_key(idempotency_key)
    if refused:
        return refused
    redemption = _visible_redemption(request, redemption_id)
    if redemption is None:
        return problems.not_found(_("找不到该兑换单，或您无权查看"))

    def act():
        return _redemption_out(service(actor=request.user, redemption=redemption))

    try:
        return replayed(
            actor=request.user, key=key, operation=operation, request={"redemption": redemption.id}, act=act
        )
    except HeheError as exc:
        return refusal(exc)


@router.post(
    "/redemptions/{id}/fulfilment",
    response={200: RedemptionOut, **errors(400, 401, 403, 404, 409)},
    summary="Hand over a reservation",
)
def redemption_fulfil(request, id: int = IdPath, idempotency_key: str | None = IdempotencyKey):
    """The storekeeper hands the goods of a reservation over (status ``fulfilled``). Idempotency-Key required,
    so a counter that retries gets the first answer again. 409 if it is not reserved (a counter redemption,
    already fulfilled or cancelled) or its pickup deadline has passed (it is then expired and refunded)."""
    return _close(request, id, idempotency_key, reservation_fulfil, "api_reservation_fulfil")


@router.post(
    "/redemptions/{id}/cancellation",
    response={200: RedemptionOut, **errors(400, 401, 403, 404, 409)},
    summary="Cancel a reservation",
)
def redemption_cancel(request, id: int = IdPath, idempotency_key: str | None = IdempotencyKey):
    """The storekeeper, or the resident who reserved, cancels a reservation: the points are refunded and the
    goods restocked, once (status ``cancelled``; ``expired`` if its deadline had already passed). 409 if it is
    not reserved. Another household's redemption is 404."""
    return _close(request, id, idempotency_key, reservation_cancel, "api_reservation_cancel")
