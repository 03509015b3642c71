"""Services of the village store: redemptions and reservations, stock receipts, write-offs and stock-takes.

A redemption locks the village's ledger head first (``books.lock_head``): every store and points write of the
village then queues behind it, so stock and points move together and no two writers can deadlock. Stock is
decremented with a guarded ``UPDATE ... WHERE stock >= q``; points with the ledger's guarded debit.
"""

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from points import clock, fastsql
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

MAX_QUANTITY = 999
MAX_LINES = 50


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
    products = fastsql.fetch(Product, wanted)
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
    """Add ``delta`` to the stock in one guarded statement; the stock left, or None if it would go below zero.

    ``UPDATE ... WHERE stock >= q RETURNING stock``: no read-then-write race, one round trip.
    """
    with fastsql.cursor_for(connections[DEFAULT_DB_ALIAS]) as cursor:
        cursor.execute(
            f"UPDATE {Product._meta.db_table} SET stock = stock + %s WHERE id = %s AND stock + %s >= 0 RETURNING stock",
            [delta, product.pk, delta],
        )
        row = cursor.fetchone()
    if row is not None:
        send_after_commit(store_changed, product.village_id)
    return None if row is None else row[0]


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
        left = Product.objects.filter(pk=product.pk).values_list("stock", flat=True).get()
        raise OutOfStock(
            _("%(product)s 库存不足：需要 %(need)s%(unit)s，只剩 %(left)s%(unit)s")
            % {"product": product.name, "need": quantity, "left": left, "unit": product.unit}
        )
    return left


def _total(parsed: list[tuple[Product, int]]) -> int:
    total = sum(product.price * quantity for product, quantity in parsed)
    if total > books.MAX_AMOUNT:
        raise InvalidAmount(_("一次兑换不能超过 %(max)s 分") % {"max": books.MAX_AMOUNT})
    return total


TAKEN_COLUMNS = ("id", "name", "price", "unit", "stock")
_TAKEN = ", ".join(f"{Product._meta.db_table}.{column}" for column in TAKEN_COLUMNS)
_TAKE_ONE = (
    f"UPDATE {Product._meta.db_table} SET stock = stock - %s WHERE id = %s AND village_id = %s AND active "
    f"AND stock >= %s RETURNING {_TAKEN}"
)


def _take_lines(village: Village, lines) -> tuple[list[tuple[Product, int]], dict[int, int]]:
    """The counter's hot path: every line's stock taken by a guarded ``UPDATE ... RETURNING`` that also checks the
    product is this village's and on sale, and returns what the redemption needs of it (name, price, unit), so
    no separate read. If any line is not taken, the lines are checked one by one as ``_parse_lines`` and
    ``_take_stock`` do, to refuse with the exact reason (the caller's transaction then rolls back what was
    taken). Returns ([(product, quantity)] in product order, {product id: stock left})."""
    wanted = _wanted(lines)
    if any(quantity > MAX_QUANTITY for quantity in wanted.values()):  # merged lines over the limit: say which
        _parse_lines(village, lines)
    table = Product._meta.db_table
    returning = _TAKEN
    rows = []
    db = connections[DEFAULT_DB_ALIAS]
    with fastsql.cursor_for(db) as cursor:
        if db.vendor == "sqlite" or len(wanted) == 1:  # SQLite: plain UPDATEs are the cheaper (books.py)
            for product_id in sorted(wanted):
                cursor.execute(_TAKE_ONE, [wanted[product_id], product_id, village.pk, wanted[product_id]])
                row = cursor.fetchone()
                if row is None:
                    break
                rows.append(row)
        else:
            cursor.execute(
                f"UPDATE {table} SET stock = {table}.stock - v.column2 "
                f"FROM (VALUES {', '.join(['(%s, %s)'] * len(wanted))}) AS v "
                f"WHERE {table}.id = v.column1 AND {table}.village_id = %s AND {table}.active "
                f"AND {table}.stock >= v.column2 RETURNING {returning}",
                [value for product_id in sorted(wanted) for value in (product_id, wanted[product_id])] + [village.pk],
            )
            rows = cursor.fetchall()
    if rows:
        send_after_commit(store_changed, village.pk)
    taken = {row[0]: row for row in rows}
    if len(taken) == len(wanted):
        parsed = [
            (
                Product(id=pk, village_id=village.pk, name=name, price=price, unit=unit, stock=stock, active=True),
                wanted[pk],
            )
            for pk, name, price, unit, stock in (taken[pk] for pk in sorted(wanted))
        ]
        return parsed, {pk: row[4] for pk, row in taken.items()}
    # Something is wrong: say what, in the order the checks always ran (product, total, stock).
    parsed = _parse_lines(village, lines)
    _total(parsed)
    left = {pk: row[4] for pk, row in taken.items()}
    for product, quantity in parsed:
        if product.pk not in left:
            left[product.pk] = _take_stock(product, quantity)  # refuses with the stock there is
    return parsed, left


def _put_stock(product: Product, quantity: int) -> int:
    return _move_stock(product, quantity)


@transaction.atomic
@fastsql.shared_cursor_for_call
def redemption_create(*, actor, household: Household, lines, idempotency_key: str, reserve: bool = False) -> Redemption:
    """Redeem goods for points: at the counter (completed) or reserved from a phone (held until pickup).

    Every line or none: a refusal names what was short (points, or which product). Idempotent per key.
    """
    # Fresh rows (archived? moved?), read without the ORM's compiling: the counter's hot path (bench/store.py).
    household = fastsql.get_with(Household, household.pk, "village")
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
        parsed, stock_left = _take_lines(village, lines)
        total = _total(parsed)
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
                        item_name="、".join(f"{p.name}×{q}" for p, q in parsed)[:80],
                        guard=True,
                    )
                ],
                actor=actor,
                head=head,
            )
        except InsufficientPoints as exc:
            balance = Account.objects.filter(pk=account.id).values_list("balance", flat=True).get()
            raise InsufficientPoints(
                _("积分不足：需要 %(need)s 分，余额 %(balance)s 分") % {"need": total, "balance": balance}
            ) from exc
        now = clock.now()
        # Built from ids (the related objects attached to the cache): no descriptor work on the hot path.
        redemption = Redemption(
            village_id=village.pk,
            number=transfer.seq,  # unique and increasing in the village: the receipt number
            household_id=household.pk,
            status=Redemption.Status.RESERVED if reserve else Redemption.Status.COMPLETED,
            total_points=total,
            transfer_id=transfer.pk,
            created_by_id=actor.pk,
            created_at=now,
            pickup_deadline=now + village_pickup_window(village) if reserve else None,
        )
        redemption._state.fields_cache.update(village=village, household=household, transfer=transfer, created_by=actor)
        fastsql.insert([redemption])
        # Lines and movements: plain multi-row INSERTs of their values (points/fastsql.py), the counter's hot path.
        fastsql.insert_rows(
            RedemptionLine,
            [
                {
                    "redemption_id": redemption.pk,
                    "village_id": village.pk,
                    "product_id": product.pk,
                    "product_name": product.name,
                    "quantity": quantity,
                    "unit_price": product.price,
                    "points": product.price * quantity,
                }
                for product, quantity in parsed
            ],
        )
        fastsql.insert_rows(
            StockMovement,
            [
                {
                    "village_id": village.pk,
                    "product_id": product.pk,
                    "kind": StockMovement.Kind.REDEMPTION,
                    "quantity": -quantity,
                    "stock_after": stock_left[product.pk],
                    "redemption_id": redemption.pk,
                    "actor_id": actor.pk,
                    "created_at": now,
                }
                for product, quantity in parsed
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
    found = Redemption.objects.select_related("village", "household")
    if "number" in result:  # early records named the redemption's id
        return found.get(village_id=result["village"], number=result["number"])
    return found.get(pk=result["redemption"])


def village_pickup_window(village: Village):
    import datetime

    return datetime.timedelta(days=village.pickup_days)


def _locked_reservation(redemption: Redemption) -> Redemption:
    return (
        Redemption.objects.select_for_update(of=("self",), no_key=True)
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
    StockMovement.objects.bulk_create(movements)
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
    with transaction.atomic():
        expired = _expire_if_overdue(_locked_reservation(redemption))
    if expired:
        raise StoreError(_("该预约已过领取期限，已自动取消并退还积分"))
    return _fulfil(actor=actor, redemption=redemption)


@transaction.atomic
def _fulfil(*, actor, redemption: Redemption) -> Redemption:
    redemption = _locked_reservation(redemption)
    if redemption.status != Redemption.Status.RESERVED:
        raise StoreError(_("该预约当前状态为「%(status)s」，不能领取") % {"status": redemption.get_status_display()})
    redemption.status = Redemption.Status.FULFILLED
    redemption.closed_by = actor
    redemption.closed_at = clock.now()
    redemption.save(update_fields=["status", "closed_by", "closed_at"])
    return redemption


@transaction.atomic
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
        with transaction.atomic():
            redemption = _locked_reservation(Redemption(pk=pk))
            # Re-checked under the row lock: a concurrent sweep or a cancel may have got here first.
            if _expire_if_overdue(redemption):
                expired += 1
    return expired


@transaction.atomic
def stock_receive(
    *, actor, product: Product, quantity: int, idempotency_key: str, donor_name: str = "", donor_public: bool = False
) -> StockMovement:
    """入库, or a donation (捐赠) when a donor is named; the donor appears on the public list only with consent."""
    product = Product.objects.select_related("village").get(pk=product.pk)
    _require_store(actor, product.village_id)
    quantity = _quantity(quantity, product.name)
    donor_name = (donor_name or "").strip()[:60]
    kind = StockMovement.Kind.DONATION if donor_name else StockMovement.Kind.RECEIPT

    def run():
        books.lock_head(product.village)
        movement = StockMovement.objects.create(
            village_id=product.village_id,
            product=product,
            kind=kind,
            quantity=quantity,
            stock_after=_put_stock(product, quantity),
            donor_name=donor_name,
            donor_public=bool(donor_name and donor_public),
            actor=actor,
        )
        return {"movement": movement.pk}

    request = {"product": product.pk, "quantity": quantity, "donor": donor_name, "public": donor_public}
    result, _replayed = books.idempotent(
        actor=actor, key=idempotency_key, operation="stock_receive", request=request, run=run
    )
    return StockMovement.objects.get(pk=result["movement"])


@transaction.atomic
def stock_write_off(*, actor, product: Product, quantity: int, reason: str, idempotency_key: str) -> StockMovement:
    """报损: broken, spoiled or expired goods leave the stock with a reason."""
    product = Product.objects.select_related("village").get(pk=product.pk)
    _require_store(actor, product.village_id)
    quantity = _quantity(quantity, product.name)
    reason = (reason or "").strip()
    if not reason:
        raise StoreError(_("请填写报损原因"))

    def run():
        books.lock_head(product.village)
        movement = StockMovement.objects.create(
            village_id=product.village_id,
            product=product,
            kind=StockMovement.Kind.WRITE_OFF,
            quantity=-quantity,
            stock_after=_take_stock(product, quantity),
            reason=reason[:200],
            actor=actor,
        )
        return {"movement": movement.pk}

    result, _replayed = books.idempotent(
        actor=actor,
        key=idempotency_key,
        operation="stock_write_off",
        request={"product": product.pk, "quantity": quantity, "reason": reason},
        run=run,
    )
    return StockMovement.objects.get(pk=result["movement"])


@transaction.atomic
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
        products = {p.pk: p for p in Product.objects.filter(pk__in=clean, village=village)}
        unknown = sorted(set(clean) - set(products))
        if unknown:
            raise StoreError(_("商品 #%(id)s 不是本村超市的商品") % {"id": unknown[0]})
        stocktake = Stocktake.objects.create(village=village, actor=actor, note=(note or "")[:200])
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
        StockMovement.objects.bulk_create(movements)
        return {"stocktake": stocktake.pk}

    result, _replayed = books.idempotent(
        actor=actor,
        key=idempotency_key,
        operation="stocktake_record",
        request={"village": village.pk, "counts": sorted(clean.items()), "note": note},
        run=run,
    )
    return Stocktake.objects.get(pk=result["stocktake"])
