"""Services of the village store: redemptions and reservations, stock receipts, write-offs and stock-takes.

A redemption locks the village's ledger head first (``books.lock_head``): every store and points write of the
village then queues behind it, so stock and points move together and no two writers can deadlock. Stock is
decremented with a guarded ``UPDATE ... WHERE stock >= q`` (``points/store/sql.py``); points with the ledger's
guarded debit. Every stock movement is written by ``stock_movements_record``, the one write path of that table.

Points and stock move in one transaction, so they live in one database: the services run in the ledger's
transaction (``books.atomic``) and the stock statements on ``router.db_for_write(Product)``, the same alias.
"""

import datetime
from dataclasses import dataclass

from django.db import connections, router, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from points import clock
from points.exceptions import InsufficientPoints, InvalidAmount, OutOfScope, OutOfStock, StoreError
from points.ledger import books
from points.models import (
    Account,
    Household,
    Product,
    Redemption,
    RedemptionLine,
    StockMovement,
    Stocktake,
    Transfer,
    Village,
)
from points.scope import RESIDENT, Capability, scope_for
from points.signals import send_after_commit, store_changed
from points.store import sql

MAX_QUANTITY = 999
MAX_LINES = 50


def store_db() -> str:
    """The alias the store writes to, as the router names it (asked on each call; reads inside a write
    transaction use it too, to see its own rows)."""
    return router.db_for_write(Product)


def _require_store(actor, village_id: int) -> None:
    if not scope_for(actor).can(Capability.OPERATE_STORE, village_id):
        raise OutOfScope()


def _may_reserve(actor, household: Household) -> bool:
    scope = scope_for(actor)
    if scope.role == RESIDENT:
        return scope.household_id == household.id
    return scope.can(Capability.OPERATE_STORE, household.village_id)


def _quantity(value, label) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUANTITY:
        raise StoreError(_("%(product)s 的数量应为 1 到 %(max)s 之间的整数") % {"product": label, "max": MAX_QUANTITY})
    return value


def _wanted(lines) -> dict[int, int]:
    """(product id or Product, quantity) pairs → {product id: quantity}, duplicates merged; refuses bad input."""
    lines = list(lines or [])
    if not lines:
        raise StoreError(_("请至少选择一件商品"))
    if len(lines) > MAX_LINES:
        raise StoreError(_("一次最多兑换 %(max)s 种商品") % {"max": MAX_LINES})
    wanted: dict[int, int] = {}
    for product, quantity in lines:
        product_id = product.pk if isinstance(product, Product) else product
        if isinstance(product_id, bool) or not isinstance(product_id, int) or product_id < 1:
            raise StoreError(_("商品编号无效：%(value)s") % {"value": product_id})
        wanted[product_id] = wanted.get(product_id, 0) + _quantity(quantity, f"#{product_id}")
    return wanted


def _parse_lines(village: Village, lines) -> list[tuple[Product, int]]:
    """(product id or Product, quantity) pairs → locked-order list of (Product, quantity); duplicates merged."""
    wanted = _wanted(lines)
    products = Product.objects.using(store_db()).in_bulk(list(wanted))
    parsed = []
    for product_id in sorted(wanted):
        product = products.get(product_id)
        if product is None or product.village_id != village.id:
            raise StoreError(_("商品 #%(id)s 不是本村超市的商品") % {"id": product_id})
        if not product.active:
            raise StoreError(_("%(product)s 已下架") % {"product": product.name})
        parsed.append((product, _quantity(wanted[product_id], product.name)))
    return parsed


def _move_stock(product: Product, delta: int) -> int | None:
    """Add ``delta`` to the stock in one guarded statement; the stock left, or None if it would go below zero."""
    db = store_db()
    left = sql.move_stock(connections[db], product_id=product.pk, delta=delta)
    if left is not None:
        send_after_commit(store_changed, product.village_id, using=db)
    return left


def stock_movements_record(movements: list[StockMovement], *, lines: list[RedemptionLine] = ()) -> list[StockMovement]:
    """Write stock movements: the one way rows get into that table (receipts, donations, redemptions, returns,
    write-offs, stock-takes), so all are written alike: one named INSERT (``sql.insert_stock_movements``), no
    ``save()``, no ``post_save``. ``lines``: a redemption's lines, written in the same round trip (on PostgreSQL) as
    its movements. The stock itself was moved by the caller (``_move_stock``/``_take_lines``), which queued
    ``store_changed`` for after the commit. Returns the movements, saved, with their ids."""
    if not movements:
        return []
    db = router.db_for_write(StockMovement)
    connection = connections[db]
    adapt = connection.ops.adapt_datetimefield_value
    ids = sql.insert_stock_movements(
        connection,
        [
            [
                m.village_id,
                m.product_id,
                m.kind,
                m.quantity,
                m.stock_after,
                m.donor_name,
                m.donor_public,
                m.reason,
                m.redemption_id,
                m.stocktake_id,
                m.actor_id,
                adapt(m.created_at),
            ]
            for m in movements
        ],
        lines=[
            [
                line.redemption_id,
                line.village_id,
                line.product_id,
                line.product_name,
                line.quantity,
                line.unit_price,
                line.points,
            ]
            for line in lines
        ],
    )
    for movement, movement_id in zip(movements, ids, strict=True):
        movement.pk = movement_id
        movement._state.adding = False
        movement._state.db = db
    return movements


def _fingerprint_lines(lines) -> list:
    """The lines as the idempotency check sees them: [(p, 1), (p, 1)] is the same request as [(p, 2)]."""
    merged: dict[str, object] = {}
    for product, quantity in lines or []:
        key = str(getattr(product, "pk", product))
        previous = merged.get(key)
        both_ints = isinstance(previous, int) and isinstance(quantity, int) and not isinstance(quantity, bool)
        merged[key] = previous + quantity if both_ints else (quantity if previous is None else [previous, quantity])
    return sorted((key, str(value)) for key, value in merged.items())


def _take_stock(product: Product, quantity: int) -> int:
    """Guarded decrement; returns the stock left or raises OutOfStock naming the product."""
    left = _move_stock(product, -quantity)
    if left is None:
        left = Product.objects.using(store_db()).filter(pk=product.pk).values_list("stock", flat=True).get()
        raise OutOfStock(
            _("%(product)s 库存不足：需要 %(need)s%(unit)s，只剩 %(left)s%(unit)s")
            % {"product": product.name, "need": quantity, "left": left, "unit": product.unit}
        )
    return left


def _total(lines) -> int:
    """The points for [(unit price, quantity)], refused above the ledger's limit for one transfer."""
    total = sum(price * quantity for price, quantity in lines)
    if total > books.MAX_AMOUNT:
        raise InvalidAmount(_("一次兑换不能超过 %(max)s 分") % {"max": books.MAX_AMOUNT})
    return total


@dataclass(frozen=True, slots=True)
class TakenLine:
    """A redemption line whose stock is taken: what the redemption records of its product, and the stock left."""

    product_id: int
    name: str
    unit_price: int
    unit: str
    quantity: int
    stock_left: int


def _take_lines(village: Village, lines) -> list[TakenLine]:
    """The counter's hot path: every line's stock taken by one guarded ``UPDATE ... RETURNING`` that also checks the
    product is this village's and on sale, and returns what the redemption needs of it (name, price, unit), so
    no separate read. If any line is not taken, the lines are checked one by one as ``_parse_lines`` and
    ``_take_stock`` do, to refuse with the exact reason (the caller's transaction then rolls back what was
    taken). Returns the lines in product order."""
    wanted = _wanted(lines)
    if any(quantity > MAX_QUANTITY for quantity in wanted.values()):  # merged lines over the limit: say which
        _parse_lines(village, lines)
    db = store_db()
    taken = {row[0]: row for row in sql.take_lines(connections[db], village_id=village.pk, quantities=wanted)}
    if taken:
        send_after_commit(store_changed, village.pk, using=db)
    if len(taken) == len(wanted):
        return [TakenLine(*taken[pk][:4], quantity=wanted[pk], stock_left=taken[pk][4]) for pk in sorted(wanted)]
    # Something is wrong: say what, in the order the checks always ran (product, total, stock).
    parsed = _parse_lines(village, lines)
    _total((product.price, quantity) for product, quantity in parsed)
    for product, quantity in parsed:
        if product.pk not in taken:
            _take_stock(product, quantity)  # refuses with the stock there is
    raise StoreError("a line was refused without a reason")  # cannot happen: one of the checks above refused


def _put_stock(product: Product, quantity: int) -> int:
    return _move_stock(product, quantity)


@books.atomic
def redemption_create(*, actor, household: Household, lines, idempotency_key: str, reserve: bool = False) -> Redemption:
    """Redeem goods for points: at the counter (completed) or reserved from a phone (held until pickup).

    Every line or none: a refusal names what was short (points, or which product). Idempotent per key.
    """
    db = store_db()
    # Fresh rows (archived? moved?), read where this transaction writes.
    household = Household.objects.using(db).select_related("village").get(pk=household.pk)
    village = household.village
    if reserve:
        if not _may_reserve(actor, household):
            raise OutOfScope()
    else:
        _require_store(actor, village.id)
    if household.is_archived:
        raise StoreError(_("该户已归档，不能兑换"))
    request_lines = _fingerprint_lines(lines)
    request = {"household": household.id, "lines": request_lines, "reserve": reserve}

    # The head first: holding it, the receipt number this redemption will take is known (its transfer's
    # sequence number), so the idempotency record is written once, with its answer.
    head = books.lock_head(village)
    answer = {"village": village.id, "number": head.seq + 1}

    def run():
        taken = _take_lines(village, lines)
        total = _total((line.unit_price, line.quantity) for line in taken)
        system, accounts = books.accounts_for(village, households=[household], system=(Account.Kind.STORE,))
        account = accounts[household.id]
        try:
            (transfer,) = books.post(
                village=village,
                postings=[
                    books.Posting(
                        debit=account,
                        credit=system[Account.Kind.STORE],
                        amount=total,
                        code=Transfer.Code.REDEMPTION,
                        household=household,
                        item_name="、".join(f"{line.name}×{line.quantity}" for line in taken)[:80],
                        guard=True,
                    )
                ],
                actor=actor,
                head=head,
            )
        except InsufficientPoints as exc:
            balance = Account.objects.using(db).filter(pk=account.id).values_list("balance", flat=True).get()
            raise InsufficientPoints(
                _("积分不足：需要 %(need)s 分，余额 %(balance)s 分") % {"need": total, "balance": balance}
            ) from exc
        now = clock.now()
        redemption = Redemption(
            village=village,
            number=transfer.seq,  # unique and increasing in the village: the receipt number
            household=household,
            status=Redemption.Status.RESERVED if reserve else Redemption.Status.COMPLETED,
            total_points=total,
            transfer=transfer,
            created_by=actor,
            created_at=now,
            pickup_deadline=now + village_pickup_window(village) if reserve else None,
        )
        _redemption_insert(redemption)
        stock_movements_record(
            [
                StockMovement(
                    village_id=village.pk,
                    product_id=line.product_id,
                    kind=StockMovement.Kind.REDEMPTION,
                    quantity=-line.quantity,
                    stock_after=line.stock_left,
                    redemption_id=redemption.pk,
                    actor=actor,
                    created_at=now,
                )
                for line in taken
            ],
            lines=[
                RedemptionLine(
                    redemption_id=redemption.pk,
                    village_id=village.pk,
                    product_id=line.product_id,
                    product_name=line.name,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    points=line.unit_price * line.quantity,
                )
                for line in taken
            ],
        )
        made.append(redemption)
        if redemption.number != answer["number"]:
            raise StoreError("the head moved while it was held")  # cannot happen: the lock is ours
        return answer

    made: list[Redemption] = []
    result, replayed = books.idempotent(
        actor=actor, key=idempotency_key, operation="redemption_create", request=request, run=run, result=answer
    )
    if not replayed:
        return made[0]
    found = Redemption.objects.using(db).select_related("village", "household")
    if "number" in result:  # early records named the redemption's id
        return found.get(village_id=result["village"], number=result["number"])
    return found.get(pk=result["redemption"])


def _redemption_insert(redemption: Redemption) -> Redemption:
    """Write a new redemption (open: no refund, not closed) with the store's named INSERT: the counter's path, where
    the ORM's ``create`` costs more to compile than the database takes to write it (bench/store.py)."""
    db = router.db_for_write(Redemption)
    redemption.pk = sql.insert_redemption(
        connections[db],
        village_id=redemption.village_id,
        number=redemption.number,
        household_id=redemption.household_id,
        status=redemption.status,
        total_points=redemption.total_points,
        transfer_id=redemption.transfer_id,
        created_by_id=redemption.created_by_id,
        created_at=redemption.created_at,
        pickup_deadline=redemption.pickup_deadline,
    )
    redemption._state.adding = False
    redemption._state.db = db
    return redemption


def village_pickup_window(village: Village) -> datetime.timedelta:
    return datetime.timedelta(days=village.pickup_days)


def _locked_reservation(redemption: Redemption) -> Redemption:
    return (
        Redemption.objects.using(store_db())
        .select_for_update(of=("self",), no_key=True)
        .select_related("village", "household")
        .get(pk=redemption.pk)
    )


def _release(redemption: Redemption, *, status: str, actor) -> Redemption:
    """Refund the points and restock the goods of a reserved redemption, exactly once (row lock + status)."""
    village = redemption.village
    books.lock_head(village)
    (refund,) = books.post(
        village=village,
        postings=[
            books.Posting(
                debit=books.system_account(village, Account.Kind.STORE),
                credit=books.household_account(redemption.household),
                amount=redemption.total_points,
                code=Transfer.Code.REFUND,
                household=redemption.household,
                item_name=books.stored_text(gettext_noop("预约 %(number)s 退还"), number=redemption.receipt_number),
            )
        ],
        actor=actor,
    )
    now = clock.now()
    movements = []
    for line in redemption.lines.select_related("product").order_by("product_id"):
        movements.append(
            StockMovement(
                village=village,
                product=line.product,
                kind=StockMovement.Kind.RETURN,
                quantity=line.quantity,
                stock_after=_put_stock(line.product, line.quantity),
                redemption=redemption,
                actor=actor,
                created_at=now,
                reason=str(Redemption.Status(status).label),
            )
        )
    stock_movements_record(movements)
    redemption.status = status
    redemption.refund = refund
    redemption.closed_by = actor
    redemption.closed_at = now
    redemption.save(update_fields=["status", "refund", "closed_by", "closed_at"])
    return redemption


def _expire_if_overdue(redemption: Redemption) -> bool:
    if redemption.status == Redemption.Status.RESERVED and redemption.pickup_deadline < clock.now():
        _release(redemption, status=Redemption.Status.EXPIRED, actor=None)
        return True
    return False


def reservation_fulfil(*, actor, redemption: Redemption) -> Redemption:
    """The storekeeper hands over a reserved order (before its pickup deadline).

    An overdue reservation is expired first, in a transaction of its own, so that the refund stands even
    though the hand-over is then refused.
    """
    _require_store(actor, redemption.village_id)
    with transaction.atomic(using=books.ledger_db()):
        expired = _expire_if_overdue(_locked_reservation(redemption))
    if expired:
        raise StoreError(_("该预约已过领取期限，已自动取消并退还积分"))
    return _fulfil(actor=actor, redemption=redemption)


@books.atomic
def _fulfil(*, actor, redemption: Redemption) -> Redemption:
    redemption = _locked_reservation(redemption)
    if redemption.status != Redemption.Status.RESERVED:
        raise StoreError(_("该预约当前状态为「%(status)s」，不能领取") % {"status": redemption.get_status_display()})
    redemption.status = Redemption.Status.FULFILLED
    redemption.closed_by = actor
    redemption.closed_at = clock.now()
    redemption.save(update_fields=["status", "closed_by", "closed_at"])
    return redemption


@books.atomic
def reservation_cancel(*, actor, redemption: Redemption) -> Redemption:
    """The resident who reserved, or the storekeeper, cancels: points refunded and goods restocked, once."""
    redemption = _locked_reservation(redemption)
    if not _may_reserve(actor, redemption.household):
        raise OutOfScope()
    if _expire_if_overdue(redemption):
        return redemption
    if redemption.status != Redemption.Status.RESERVED:
        raise StoreError(_("该预约当前状态为「%(status)s」，不能取消") % {"status": redemption.get_status_display()})
    return _release(redemption, status=Redemption.Status.CANCELLED, actor=actor)


def reservations_expire(*, village: Village | None = None, household: Household | None = None) -> int:
    """Expire every reservation past its deadline (safe to run often and concurrently). Returns how many."""
    overdue = Redemption.objects.filter(status=Redemption.Status.RESERVED, pickup_deadline__lt=clock.now())
    if village is not None:
        overdue = overdue.filter(village=village)
    if household is not None:
        overdue = overdue.filter(household=household)
    expired = 0
    for pk in list(overdue.values_list("pk", flat=True)):
        with transaction.atomic(using=books.ledger_db()):
            redemption = _locked_reservation(Redemption(pk=pk))
            # Re-checked under the row lock: a concurrent sweep or a cancel may have got here first.
            if _expire_if_overdue(redemption):
                expired += 1
    return expired


@books.atomic
def stock_receive(
    *, actor, product: Product, quantity: int, idempotency_key: str, donor_name: str = "", donor_public: bool = False
) -> StockMovement:
    """入库, or a donation (捐赠) when a donor is named; the donor appears on the public list only with consent."""
    product = Product.objects.using(store_db()).select_related("village").get(pk=product.pk)
    _require_store(actor, product.village_id)
    quantity = _quantity(quantity, product.name)
    donor_name = (donor_name or "").strip()[:60]
    kind = StockMovement.Kind.DONATION if donor_name else StockMovement.Kind.RECEIPT

    def run():
        books.lock_head(product.village)
        (movement,) = stock_movements_record(
            [
                StockMovement(
                    village_id=product.village_id,
                    product=product,
                    kind=kind,
                    quantity=quantity,
                    stock_after=_put_stock(product, quantity),
                    donor_name=donor_name,
                    donor_public=bool(donor_name and donor_public),
                    actor=actor,
                )
            ]
        )
        return {"movement": movement.pk}

    request = {"product": product.pk, "quantity": quantity, "donor": donor_name, "public": donor_public}
    result, _replayed = books.idempotent(
        actor=actor, key=idempotency_key, operation="stock_receive", request=request, run=run
    )
    return StockMovement.objects.using(store_db()).get(pk=result["movement"])


@books.atomic
def stock_write_off(*, actor, product: Product, quantity: int, reason: str, idempotency_key: str) -> StockMovement:
    """报损: broken, spoiled or expired goods leave the stock with a reason."""
    product = Product.objects.using(store_db()).select_related("village").get(pk=product.pk)
    _require_store(actor, product.village_id)
    quantity = _quantity(quantity, product.name)
    reason = (reason or "").strip()
    if not reason:
        raise StoreError(_("请填写报损原因"))

    def run():
        books.lock_head(product.village)
        (movement,) = stock_movements_record(
            [
                StockMovement(
                    village_id=product.village_id,
                    product=product,
                    kind=StockMovement.Kind.WRITE_OFF,
                    quantity=-quantity,
                    stock_after=_take_stock(product, quantity),
                    reason=reason[:200],
                    actor=actor,
                )
            ]
        )
        return {"movement": movement.pk}

    result, _replayed = books.idempotent(
        actor=actor,
        key=idempotency_key,
        operation="stock_write_off",
        request={"product": product.pk, "quantity": quantity, "reason": reason},
        run=run,
    )
    return StockMovement.objects.using(store_db()).get(pk=result["movement"])


@books.atomic
def stocktake_record(*, actor, village: Village, counts: dict, idempotency_key: str, note: str = "") -> Stocktake:
    """盘点: counted quantities per product; each difference from the books is recorded as a movement."""
    _require_store(actor, village.id)
    clean: dict[int, int] = {}
    for product_id, counted in (counts or {}).items():
        if isinstance(counted, bool) or not isinstance(counted, int) or not 0 <= counted <= 1_000_000:
            raise StoreError(_("盘点数量应为 0 或正整数（商品 #%(id)s）") % {"id": product_id})
        clean[int(product_id)] = counted
    if not clean:
        raise StoreError(_("请至少填写一种商品的盘点数量"))

    def run():
        books.lock_head(village)
        products = {p.pk: p for p in Product.objects.using(store_db()).filter(pk__in=clean, village=village)}
        unknown = sorted(set(clean) - set(products))
        if unknown:
            raise StoreError(_("商品 #%(id)s 不是本村超市的商品") % {"id": unknown[0]})
        stocktake = Stocktake.objects.using(store_db()).create(village=village, actor=actor, note=(note or "")[:200])
        movements = []
        for product_id in sorted(clean):
            product = products[product_id]
            variance = clean[product_id] - product.stock
            if variance == 0:
                continue
            left = _put_stock(product, variance) if variance > 0 else _take_stock(product, -variance)
            movements.append(
                StockMovement(
                    village=village,
                    product=product,
                    kind=StockMovement.Kind.STOCKTAKE,
                    quantity=variance,
                    stock_after=left,
                    stocktake=stocktake,
                    actor=actor,
                )
            )
        stock_movements_record(movements)
        return {"stocktake": stocktake.pk}

    result, _replayed = books.idempotent(
        actor=actor,
        key=idempotency_key,
        operation="stocktake_record",
        request={"village": village.pk, "counts": sorted(clean.items()), "note": note},
        run=run,
    )
    return Stocktake.objects.using(store_db()).get(pk=result["stocktake"])
