"""The store's hand-written SQL: the guarded stock updates and the counter's writes, each named, with why it is SQL
and not the ORM.

Only ``points/store/services.py`` calls these. Every function takes the connection to use, which the service
chose with ``router.db_for_write`` and whose transaction it runs in; nothing here picks a database, opens a
transaction or builds a model instance. Values go in as the database takes them (dates through
``connection.ops``), rows come back as tuples.

Why SQL: ``Product.stock`` can never go below zero, and two cashiers may sell the last item at once. A guarded
``UPDATE ... WHERE stock >= q`` decides that in the database, in the same statement that moves the stock, and
``RETURNING`` answers with the stock left (the movement records it) in the same round trip. The ORM's
``filter(stock__gte=q).update(stock=F("stock") - q)`` is the same guard but cannot return the row: it would need
a second query, on the counter's hot path. The redemption, its lines and its stock movements are written here too:
the ORM's ``create``/``bulk_create`` compile their INSERTs on every call, which cost more than the database's work
on the counter's path (bench/store.py), and on PostgreSQL the lines and the movements go in one round trip. Both
backends run the same text (SQLite 3.35+: ``RETURNING``, ``UPDATE ... FROM``), except that one round trip, which
SQLite (no data-modifying ``WITH``, and no round trips to save) sends as two statements.
"""

import functools

CHUNK = 500  # rows per statement: a stock movement row has 12 parameters; SQLite allows 32,766 per statement

# Add ``delta`` (negative: take) to one product's stock, unless that would take it below zero.
MOVE_STOCK = "UPDATE points_product SET stock = stock + %s WHERE id = %s AND stock + %s >= 0 RETURNING stock"


def move_stock(connection, *, product_id: int, delta: int) -> int | None:
    """The stock left after adding ``delta``, or None if there was not enough (nothing changed)."""
    with connection.cursor() as cursor:
        cursor.execute(MOVE_STOCK, [delta, product_id, delta])
        row = cursor.fetchone()
    return None if row is None else row[0]


# The counter's redemption: every line's stock taken in one statement, each only if the product is this village's,
# on sale and has enough; each taken row answers with what the redemption records of it, so the products need no
# separate read. VALUES names its columns column1, column2 on both backends: (product id, quantity).
TAKE_LINES = """
    UPDATE points_product
    SET stock = points_product.stock - v.column2
    FROM (VALUES {values}) AS v
    WHERE points_product.id = v.column1
      AND points_product.village_id = %s
      AND points_product.active
      AND points_product.stock >= v.column2
    RETURNING points_product.id, points_product.name, points_product.price, points_product.unit,
              points_product.stock"""


def take_lines(connection, *, village_id: int, quantities: dict[int, int]) -> list[tuple]:
    """Take {product id: quantity} from the village's stock. Returns (id, name, price, unit, stock left) for each
    line taken, in no particular order; a line missing from the answer was not taken (another village's product,
    off sale, or short), and the caller's transaction must roll back the others."""
    with connection.cursor() as cursor:
        cursor.execute(
            TAKE_LINES.format(values=", ".join(["(%s, %s)"] * len(quantities))),
            [value for product_id in sorted(quantities) for value in (product_id, quantities[product_id])]
            + [village_id],
        )
        return cursor.fetchall()


# --- the counter's writes ----------------------------------------------------------------------------------------

# The redemption row; its id comes back for the lines and the movements. The receipt number is its transfer's
# sequence number, known while the head is held, so no ``max + 1`` is read.
INSERT_REDEMPTION = """
    INSERT INTO points_redemption (village_id, number, household_id, status, total_points, transfer_id, refund_id,
                                   created_by_id, created_at, pickup_deadline, closed_by_id, closed_at)
    VALUES (%s, %s, %s, %s, %s, %s, NULL, %s, %s, %s, NULL, NULL)
    RETURNING id"""


def insert_redemption(
    connection, *, village_id: int, number: int, household_id: int, status: str, total_points: int, transfer_id: int,
    created_by_id: int, created_at, pickup_deadline,
) -> int:  # fmt: skip
    """The new redemption's id (a new redemption is never closed nor refunded)."""
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_REDEMPTION,
            [
                village_id,
                number,
                household_id,
                status,
                total_points,
                transfer_id,
                created_by_id,
                ops.adapt_datetimefield_value(created_at),
                ops.adapt_datetimefield_value(pickup_deadline),
            ],
        )
        return cursor.fetchone()[0]


# A stock movement row's columns; ``stock_movements_record`` gives the values in this order.
STOCK_MOVEMENT_COLUMNS = (
    "village_id", "product_id", "kind", "quantity", "stock_after", "donor_name", "donor_public", "reason",
    "redemption_id", "stocktake_id", "actor_id", "created_at",
)  # fmt: skip

# Stock movements, many in one statement, their ids back in row order: the one INSERT of that table, whatever the
# movement's kind (receipt, donation, redemption, return, write-off, stock-take).
INSERT_STOCK_MOVEMENTS = "INSERT INTO points_stockmovement ({columns}) VALUES {values} RETURNING id"

# A redemption's lines (what it records of each product: name, quantity, unit price, points), many in one statement.
REDEMPTION_LINE_COLUMNS = (
    "redemption_id", "village_id", "product_id", "product_name", "quantity", "unit_price", "points",
)  # fmt: skip
INSERT_REDEMPTION_LINES = "INSERT INTO points_redemptionline ({columns}) VALUES {values}"

# PostgreSQL: a redemption's lines and its stock movements in ONE statement, the lines as a data-modifying WITH:
# one round trip (~0.3 ms each on the counter's path) instead of two. The foreign keys are checked at commit.
INSERT_LINES_AND_STOCK_MOVEMENTS = "WITH lines AS ({lines}) {movements}"


@functools.cache
def _insert_sql(vendor: str, movements: int, lines: int) -> tuple[str, ...]:
    """The statements that write ``lines`` redemption lines and ``movements`` stock movements, built once per count."""

    def values(columns, rows):
        return ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * rows)

    insert_movements = INSERT_STOCK_MOVEMENTS.format(
        columns=", ".join(STOCK_MOVEMENT_COLUMNS), values=values(STOCK_MOVEMENT_COLUMNS, movements)
    )
    if not lines:
        return (insert_movements,)
    insert_lines = INSERT_REDEMPTION_LINES.format(
        columns=", ".join(REDEMPTION_LINE_COLUMNS), values=values(REDEMPTION_LINE_COLUMNS, lines)
    )
    if vendor == "postgresql":
        return (INSERT_LINES_AND_STOCK_MOVEMENTS.format(lines=insert_lines, movements=insert_movements),)
    return insert_lines, insert_movements


def insert_stock_movements(connection, movements: list[list], *, lines: list[list] = ()) -> list[int]:
    """INSERT the movements (values in ``STOCK_MOVEMENT_COLUMNS`` order, as the database takes them), and first a
    redemption's ``lines`` (``REDEMPTION_LINE_COLUMNS`` order, at most ``CHUNK``: a redemption has at most 50);
    the movements' new ids, in row order."""
    if len(lines) > CHUNK:
        raise ValueError(f"at most {CHUNK} redemption lines per statement")
    ids = []
    line_params = [value for row in lines for value in row]
    with connection.cursor() as cursor:
        for start in range(0, len(movements), CHUNK):
            chunk = movements[start : start + CHUNK]
            statements = _insert_sql(connection.vendor, len(chunk), len(lines) if start == 0 else 0)
            params = [value for row in chunk for value in row]
            if start == 0:
                if len(statements) == 2:  # SQLite: the lines first, on their own
                    cursor.execute(statements[0], line_params)
                else:
                    params = line_params + params
            cursor.execute(statements[-1], params)
            ids += [movement_id for (movement_id,) in cursor.fetchall()]
    return ids
