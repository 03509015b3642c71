"""The store's hand-written SQL: the guarded stock updates, each named, with why it is SQL and not the ORM.

Only ``points/store/services.py`` calls these. Every function takes the connection to use, which the service
chose with ``router.db_for_write(Product)`` and whose transaction it runs in. Stock movements, redemptions and
their lines are written by the ORM (``bulk_create``); only the stock counter itself is moved here.

Why SQL: ``Product.stock`` can never go below zero, and two cashiers may sell the last item at once. A guarded
``UPDATE ... WHERE stock >= q`` decides that in the database, in the same statement that moves the stock, and
``RETURNING`` answers with the stock left (the movement records it) in the same round trip. The ORM's
``filter(stock__gte=q).update(stock=F("stock") - q)`` is the same guard but cannot return the row: it would need
a second query, on the counter's hot path. Both backends run the same text (SQLite 3.35+: ``RETURNING``,
``UPDATE ... FROM``).
"""

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
