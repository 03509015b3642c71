"""The ledger's hand-written SQL: each statement named, with why it is SQL and not the ORM.

Only ``books`` calls these (the one writer of transfers). Every function takes the connection to use, which
the caller chose with ``router.db_for_write`` (see ``books.db_for_ledger``) and whose transaction it runs in;
nothing here picks a database, opens a transaction or builds a model instance. Values go in as the database
takes them (dates through ``connection.ops``), rows come back as tuples.

Why SQL at all: these are the statements every award, redemption and ballot sends. Each is one round trip that
the ORM would make two (read then write), or could not write at all (a row lock with a month check in one
statement, an additive upsert, a guarded multi-row UPDATE), and the ORM compiles each call anew, which costs more
than the database's work on these paths (bench/ledger.py). Both backends run the same text: SQLite (3.35+) has
``RETURNING``, ``UPDATE ... FROM`` and ``ON CONFLICT``; only the row lock is PostgreSQL's alone.
"""

import datetime

CHUNK = 500  # rows per statement: a transfer row has 21 parameters; SQLite allows 32,766 per statement

# --- the village's chain head ------------------------------------------------------------------------------------

# The head row locked for this transaction, and whether the month is closed, in one statement: every write takes
# this lock first, so it serializes the village's writers (sequence numbers and hashes stay linear) and orders
# them (no deadlock on account rows). FOR NO KEY UPDATE: a transfer's foreign key to its village may still be
# checked concurrently. SQLite has no row locks: the writer's BEGIN IMMEDIATE already holds the database.
LOCK_HEAD = """
    SELECT h.seq, h.hash,
           EXISTS (SELECT 1 FROM points_monthlynotice n
                   WHERE n.village_id = h.village_id AND n.period = %s AND n.closed_at IS NOT NULL)
    FROM points_ledgerhead h
    WHERE h.village_id = %s"""
ROW_LOCK = " FOR NO KEY UPDATE OF h"


def lock_head(connection, *, village_id: int, period: datetime.date) -> tuple[int, str, bool] | None:
    """(seq, hash, month closed?) of the village's head, locked; None if the village has no head row yet."""
    sql = LOCK_HEAD + (ROW_LOCK if connection.vendor == "postgresql" else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datefield_value(period), village_id])
        row = cursor.fetchone()
    return None if row is None else (row[0], row[1], bool(row[2]))


# The head moved past the transfers just written (the lock is held, so no guard is needed).
MOVE_HEAD = "UPDATE points_ledgerhead SET seq = %s, hash = %s WHERE village_id = %s"


def move_head(connection, *, village_id: int, seq: int, hash: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(MOVE_HEAD, [seq, hash, village_id])


# --- accounts and the rubric, read on every award's path ---------------------------------------------------------

# The households' accounts and the village's system accounts of the given kinds, in one statement. The ORM's
# filter(Q(...) | Q(...)).values_list(...) sends the same SELECT, but compiling it costs more than the database's
# work on the single award's path (bench/ledger.py --profile).
ACCOUNTS = """
    SELECT id, village_id, kind, household_id FROM points_account
    WHERE household_id IN ({household_ids})
       OR (household_id IS NULL AND village_id = %s AND kind IN ({kinds}))"""


def accounts(connection, *, household_ids: list[int], village_id: int, kinds: list[str]) -> list[tuple]:
    """[(id, village id, kind, household id or None)] of the households' and the village's ``kinds`` accounts."""
    with connection.cursor() as cursor:
        cursor.execute(
            ACCOUNTS.format(
                household_ids=", ".join(["%s"] * len(household_ids)) or "NULL",
                kinds=", ".join(["%s"] * len(kinds)) or "NULL",
            ),
            [*household_ids, village_id, *kinds],
        )
        return cursor.fetchall()


# Whether a district rubric item is in force in a village: the village is in the item's district and has not
# overridden it with an item of its own. One statement for two questions, for the same reason as ACCOUNTS.
RUBRIC_ITEM_APPLIES = """
    SELECT EXISTS (SELECT 1 FROM points_village v JOIN points_township t ON t.id = v.township_id
                   WHERE v.id = %s AND t.district_id = %s)
       AND NOT EXISTS (SELECT 1 FROM points_rubricitem r WHERE r.village_id = %s AND r.overrides_id = %s)"""


def rubric_item_applies(connection, *, village_id: int, district_id: int, item_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(RUBRIC_ITEM_APPLIES, [village_id, district_id, village_id, item_id])
        return bool(cursor.fetchone()[0])


# --- balances ----------------------------------------------------------------------------------------------------

# Each account's debits, credits and balance moved in one statement for all accounts. A guarded row (flag 1) moves
# only if its balance covers the debit, checked in the same statement, so there is no read-then-write race; a row
# not moved means "not enough points" and the caller's transaction rolls back. VALUES names its columns
# column1..column4 on both backends: (account id, debit, credit, guarded). No WITH: Python's sqlite3 reports no
# rowcount for a statement that does not start with UPDATE.
MOVE_BALANCES = """
    UPDATE points_account
    SET debits = points_account.debits + v.column2,
        credits = points_account.credits + v.column3,
        balance = points_account.balance + v.column3 - v.column2
    FROM (VALUES {values}) AS v
    WHERE points_account.id = v.column1 AND (v.column4 = 0 OR points_account.balance >= v.column2)"""


def move_balances(connection, rows: list[tuple[int, int, int, bool]]) -> bool:
    """Apply [(account id, debit, credit, guarded)] (one row per account); False if a guarded debit was refused
    (the caller then rolls back: some accounts may have moved)."""
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            cursor.execute(
                MOVE_BALANCES.format(values=", ".join(["(%s, %s, %s, %s)"] * len(chunk))),
                [
                    value
                    for account_id, debit, credit, guard in chunk
                    for value in (account_id, debit, credit, int(guard))
                ],
            )
            if cursor.rowcount != len(chunk):
                return False
    return True


# --- transfers ---------------------------------------------------------------------------------------------------

# A transfer row's columns, in the model's field order (``books`` checks it against the model at import).
TRANSFER_COLUMNS = (
    "village_id", "seq", "debit_account_id", "credit_account_id", "amount", "code", "household_id", "member_id",
    "rubric_item_id", "item_name", "conduct_delta", "period", "actor_id", "acted_for_id", "memo", "photo_id",
    "reverses_id", "reason", "created_at", "prev_hash", "hash",
)  # fmt: skip

# Many transfers in one statement, their ids back in row order: a batch of 5,000 awards is ten statements.
INSERT_TRANSFERS = "INSERT INTO points_transfer ({columns}) VALUES {values} RETURNING id"


def insert_transfers(connection, rows: list[list]) -> list[int]:
    """INSERT the rows (values in ``TRANSFER_COLUMNS`` order, as the database takes them); their new ids."""
    placeholder = "(" + ", ".join(["%s"] * len(TRANSFER_COLUMNS)) + ")"
    ids = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            cursor.execute(
                INSERT_TRANSFERS.format(
                    columns=", ".join(TRANSFER_COLUMNS), values=", ".join([placeholder] * len(chunk))
                ),
                [value for row in chunk for value in row],
            )
            ids += [transfer_id for (transfer_id,) in cursor.fetchall()]
    return ids


# --- period summaries --------------------------------------------------------------------------------------------

# The month's conduct, awards and deductions per household, ADDED to what is there (a row is created the first
# time). The ORM's update_or_create would read, then write, and race; bulk_create(update_conflicts=True) replaces
# values instead of adding them.
ADD_TO_SUMMARIES = """
    INSERT INTO points_periodsummary (village_id, household_id, period, conduct, awarded, deducted)
    VALUES {values}
    ON CONFLICT (household_id, period) DO UPDATE
    SET conduct = points_periodsummary.conduct + excluded.conduct,
        awarded = points_periodsummary.awarded + excluded.awarded,
        deducted = points_periodsummary.deducted + excluded.deducted"""


def add_to_summaries(
    connection, *, village_id: int, period: datetime.date, totals: list[tuple[int, int, int, int]]
) -> None:
    """Add [(household id, conduct, awarded, deducted)] to the village's summaries of ``period``."""
    period_db = connection.ops.adapt_datefield_value(period)
    with connection.cursor() as cursor:
        for start in range(0, len(totals), CHUNK):
            chunk = totals[start : start + CHUNK]
            cursor.execute(
                ADD_TO_SUMMARIES.format(values=", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))),
                [v for household_id, c, a, d in chunk for v in (village_id, household_id, period_db, c, a, d)],
            )


# --- idempotency records -----------------------------------------------------------------------------------------

# Take an idempotency key: the row is inserted, or nothing happens if (actor, key) is taken. No savepoint is
# needed (an IntegrityError would abort a PostgreSQL transaction), and on PostgreSQL a concurrent insert of the
# same key makes this statement wait for that transaction, then do nothing if it committed.
TAKE_IDEMPOTENCY_KEY = """
    INSERT INTO points_idempotencykey (actor_id, "key", operation, request_hash, result, created_at)
    VALUES (%s, %s, %s, %s, %s, %s)
    ON CONFLICT (actor_id, "key") DO NOTHING
    RETURNING id"""


def take_idempotency_key(
    connection,
    *,
    actor_id: int,
    key: str,
    operation: str,
    request_hash: str,
    result: dict,
    created_at: datetime.datetime,
    first: tuple[str, list] | None = None,
) -> int | None:
    """The new record's id, or None if the actor has used ``key`` before. ``first``: a ``WITH`` clause of
    data-modifying statements (its text and parameters) sent in front of this one, PostgreSQL only: rows the
    caller writes just before it takes the key go in the same round trip (the ballot and its choices). They are
    written whether or not the key is taken; the caller rolls back if it is not."""
    prefix, prefix_params = first or ("", [])
    with connection.cursor() as cursor:
        cursor.execute(
            prefix + TAKE_IDEMPOTENCY_KEY,
            [
                *prefix_params,
                actor_id,
                key,
                operation,
                request_hash,
                connection.ops.adapt_json_value(result, None),
                connection.ops.adapt_datetimefield_value(created_at),
            ],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]
