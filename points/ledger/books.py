"""The only module that writes transfers. Owns accounts, the hash chain, balances and period summaries.

Every caller runs inside one ``transaction.atomic``. ``post`` first locks the village's ``LedgerHead`` row:
that lock serializes the village's writers, so sequence numbers and the hash chain stay linear, and because
every writer takes it before touching any account, two batches can never deadlock on account rows.
"""

import datetime
import functools
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.utils import timezone, translation

from points import clock, fastsql
from points.exceptions import (
    IdempotencyConflict,
    IdempotencyKeyInvalid,
    InsufficientPoints,
    InvalidAmount,
    LedgerError,
    MonthClosed,
)
from points.models import (
    GENESIS_HASH,
    Account,
    Household,
    IdempotencyKey,
    LedgerHead,
    MonthlyNotice,
    PeriodSummary,
    Transfer,
    Village,
)
from points.signals import ledger_changed, send_after_commit

MAX_AMOUNT = 100_000
MAX_IDEMPOTENCY_KEY_LENGTH = 100
CONDUCT_CODES = {Transfer.Code.AWARD: 1, Transfer.Code.DEDUCTION: -1}


@dataclass(slots=True)
class Head:
    """A village's chain head as this transaction locked it (``lock_head``), kept current by ``post``."""

    village_id: int
    seq: int
    hash: str
    period: datetime.date
    month_closed: bool


@dataclass(slots=True, frozen=True)
class AccountRef:
    """An account as the write path needs it (``Posting``'s debit and credit): no model instance to build."""

    id: int
    village_id: int
    kind: str
    household_id: int | None


@dataclass
class Posting:
    """One transfer to make. ``guard`` refuses it if the debit account would go below zero."""

    debit: AccountRef
    credit: AccountRef
    amount: int
    code: str
    household: Household | None = None
    member_id: int | None = None
    rubric_item_id: int | None = None
    item_name: str = ""
    conduct_delta: int = 0
    memo: str = ""
    reverses: Transfer | None = None
    reason: str = ""
    acted_for_id: int | None = None
    photo_id: int | None = None
    guard: bool = False


def month_of(moment: datetime.datetime | None = None) -> datetime.date:
    """The first day of the month that ``moment`` falls in, in the project's zone (``TIME_ZONE``, Asia/Shanghai).

    The ledger's month is the village's, never a request's activated zone (and so it costs no thread-local
    look-up: this is on every write's path)."""
    return (moment or clock.now()).astimezone(timezone.get_default_timezone()).date().replace(day=1)


def system_account(village: Village, kind: str) -> AccountRef:
    return accounts_for(village, system=(kind,))[0][kind]


def household_account(household: Household) -> AccountRef:
    return household_accounts([household])[household.id]


def household_accounts(households: list[Household]) -> dict[int, AccountRef]:
    """Accounts for many households at once (created where missing), keyed by household id."""
    found: dict[int, AccountRef] = {}
    by_village: dict[int, list[Household]] = defaultdict(list)
    for h in households:
        by_village[h.village_id].append(h)
    for village_id, members in by_village.items():
        found.update(accounts_for(Village(pk=village_id), households=members)[1])
    return found


def accounts_for(
    village: Village, *, households: list[Household] = (), system: tuple[str, ...] = ()
) -> tuple[dict[str, AccountRef], dict[int, AccountRef]]:
    """The village's system accounts of the given kinds and the households' accounts, in one statement (two more
    the first time an account is missing: it is created). Returns ({kind: account}, {household id: account})."""
    ids = [h.id for h in households]
    wanted_system = set(system)
    table = Account._meta.db_table
    conditions, params = [], []
    if ids:
        conditions.append(f"household_id IN ({', '.join(['%s'] * len(ids))})")
        params += ids
    if wanted_system:
        conditions.append(f"(household_id IS NULL AND village_id = %s AND kind IN ({', '.join(['%s'] * len(system))}))")
        params += [village.pk, *system]
    if not conditions:
        return {}, {}
    sql = f"SELECT id, village_id, kind, household_id FROM {table} WHERE {' OR '.join(conditions)}"

    db = connections[DEFAULT_DB_ALIAS]

    def read():
        with fastsql.cursor_for(db) as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        kinds, owned = {}, {}
        for account_id, village_id, kind, household_id in rows:
            account = AccountRef(id=account_id, village_id=village_id, kind=kind, household_id=household_id)
            if household_id is None:
                kinds[kind] = account
            else:
                owned[household_id] = account
        return kinds, owned

    kinds, owned = read()
    missing = [h for h in households if h.id not in owned]
    missing_kinds = wanted_system - set(kinds)
    if missing or missing_kinds:
        Account.objects.bulk_create(
            [Account(village_id=h.village_id, kind=Account.Kind.HOUSEHOLD, household=h) for h in missing]
            + [Account(village_id=village.pk, kind=kind) for kind in sorted(missing_kinds)],
            ignore_conflicts=True,
        )
        kinds, owned = read()
    return kinds, owned


def transfer_hash(prev_hash: str, fields: dict) -> str:
    """sha256 over the predecessor's hash and the transfer's fields, in a fixed order and format."""
    canonical = json.dumps([prev_hash, fields], ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def hashed_fields(t: Transfer) -> dict:
    """The fields the chain covers. ``verify_ledger`` calls this on stored rows; ``post`` hashes the same
    values (``TRANSFER_ATTNAMES`` order) before it builds the row."""
    return hashed_values(
        [getattr(t, name) for name in TRANSFER_ATTNAMES[:HASH]],
        t.period.isoformat(),
        t.created_at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
    )


def hashed_values(values: list, period: str, created: str) -> dict:
    """The hashed fields from a transfer's column values in ``TRANSFER_ATTNAMES`` order (the dates as text)."""
    (village, seq, debit, credit, amount, code, household, member, item, item_name, conduct, _period, actor,
     acted_for, memo, photo, reverses, reason) = values  # fmt: skip
    return {
        "village": village,
        "seq": seq,
        "debit": debit,
        "credit": credit,
        "amount": amount,
        "code": code,
        "household": household,
        "member": member,
        "item": item,
        "item_name": item_name,
        "conduct": conduct,
        "period": period,
        "actor": actor,
        "acted_for": acted_for,
        "memo": memo,
        "photo": photo,
        "reverses": reverses,
        "reason": reason,
        "created_at": created,
    }


def lock_head(village: Village) -> Head:
    """Lock the village's chain head for this transaction (PostgreSQL: a row lock; SQLite: the IMMEDIATE
    transaction already holds the database's write lock). One statement, which also reads whether the current
    month is closed (``head.month_closed``, for ``post``): this is on every write's path."""
    db = connections[DEFAULT_DB_ALIAS]
    period = month_of(clock.now())
    with fastsql.cursor_for(db) as cursor:
        cursor.execute(_lock_head_sql(db.vendor), [db.ops.adapt_datefield_value(period), village.pk])
        row = cursor.fetchone()
    if row is None:
        try:
            with transaction.atomic():
                LedgerHead.objects.create(village=village)
        except IntegrityError:
            pass  # a concurrent writer created it
        return lock_head(village)
    return Head(village_id=village.pk, seq=row[0], hash=row[1], period=period, month_closed=bool(row[2]))


@functools.cache
def _lock_head_sql(vendor: str) -> str:
    head_table, notice_table = LedgerHead._meta.db_table, MonthlyNotice._meta.db_table
    lock = " FOR NO KEY UPDATE OF h" if vendor == "postgresql" else ""
    return (
        f"SELECT h.seq, h.hash, EXISTS(SELECT 1 FROM {notice_table} n WHERE n.village_id = h.village_id "
        f"AND n.period = %s AND n.closed_at IS NOT NULL) FROM {head_table} h WHERE h.village_id = %s{lock}"
    )


FEW_ACCOUNTS = 8  # up to this many, SQLite updates balances one statement each (see _move_balances)
INSERT_CHUNK = 500  # rows per statement (SQLite allows 32,766 parameters; a transfer row has 21)

TRANSFER_FIELDS = [f for f in Transfer._meta.concrete_fields if not f.primary_key]
TRANSFER_ATTNAMES = [f.attname for f in TRANSFER_FIELDS]
# ``post`` builds rows positionally in this order (the model's field order), hashing all but the last three.
HASH = TRANSFER_ATTNAMES.index("created_at")
PERIOD = TRANSFER_ATTNAMES.index("period")
assert TRANSFER_ATTNAMES == [
    "village_id", "seq", "debit_account_id", "credit_account_id", "amount", "code", "household_id", "member_id",
    "rubric_item_id", "item_name", "conduct_delta", "period", "actor_id", "acted_for_id", "memo", "photo_id",
    "reverses_id", "reason", "created_at", "prev_hash", "hash",
], "points.ledger.post builds transfer rows in the model's field order: update it with the model"  # fmt: skip


def post(*, village: Village, postings: list[Posting], actor, head: Head | None = None) -> list[Transfer]:
    """Write ``postings`` as transfers of ``village``: all of them or, on any refusal, none.

    Must run inside the caller's ``transaction.atomic`` so that a refusal rolls back what the caller did too.
    ``head`` is the village's head as ``lock_head`` returned it earlier in this transaction (else it is locked
    here). Statements: the balances (one UPDATE per 500 accounts; on SQLite one per account up to eight), one
    INSERT for the transfers and one upsert for the summaries (per 500 rows), one UPDATE of the head: the rows a
    hand-written transaction would write, no more. The transfers are built from their column values (no ORM
    compiling; the objects given in the postings are attached as the related objects) and returned with ids.
    """
    db = connections[DEFAULT_DB_ALIAS]
    if not db.in_atomic_block:
        raise LedgerError("ledger.post must run inside transaction.atomic")
    if not postings:
        return []
    village_id = village.pk
    for p in postings:
        if not isinstance(p.amount, int) or isinstance(p.amount, bool) or not 0 < p.amount <= MAX_AMOUNT:
            raise InvalidAmount()
        if p.debit.id == p.credit.id:
            raise LedgerError("debit and credit accounts must differ")
        if p.debit.village_id != village_id or p.credit.village_id != village_id:
            raise LedgerError("accounts of another village")

    now = clock.now()
    period = month_of(now)
    if head is None or head.village_id != village_id or head.period != period:
        head = lock_head(village)  # not locked yet in this transaction, or the month turned since
    if head.month_closed:
        raise MonthClosed()

    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    period_text = period.isoformat()
    created_text = now.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    created_db, period_db = db.ops.adapt_datetimefield_value(now), db.ops.adapt_datefield_value(period)
    prev_hash, seq = head.hash, head.seq
    transfers, rows = [], []
    for p in postings:
        seq += 1
        values = [
            village_id, seq, p.debit.id, p.credit.id, p.amount, p.code,
            p.household.pk if p.household is not None else None, p.member_id, p.rubric_item_id,
            p.item_name[:80], p.conduct_delta, period, actor_id, p.acted_for_id, p.memo[:200], p.photo_id,
            p.reverses.pk if p.reverses is not None else None, p.reason[:200],
        ]  # fmt: skip
        digest = transfer_hash(prev_hash, hashed_values(values, period_text, created_text))
        transfer = Transfer(None, *values, now, prev_hash, digest)
        cache = transfer._state.fields_cache
        cache["village"] = village
        if p.household is not None:
            cache["household"] = p.household
        if p.reverses is not None:
            cache["reverses"] = p.reverses
        values[PERIOD] = period_db
        values += (created_db, prev_hash, digest)
        rows.append(values)
        transfers.append(transfer)
        prev_hash = digest

    with fastsql.cursor_for(db) as cursor:
        _move_balances(cursor, db.vendor, postings)
        _insert_transfers(cursor, db.vendor, transfers, rows)
        _add_to_summaries(cursor, village_id, period_db, transfers)
        cursor.execute(_HEAD_UPDATE, [seq, prev_hash, village_id])
    head.seq, head.hash = seq, prev_hash
    send_after_commit(ledger_changed, village_id)
    return transfers


_HEAD_UPDATE = f"UPDATE {LedgerHead._meta.db_table} SET seq = %s, hash = %s WHERE village_id = %s"
_ACCOUNTS = Account._meta.db_table
_MOVE_ONE = f"UPDATE {_ACCOUNTS} SET debits = debits + %s, credits = credits + %s, balance = balance + %s WHERE id = %s"


def _move_balances(cursor, vendor: str, postings: list[Posting]) -> None:
    """Every account's debits, credits and balance in one UPDATE (per 500 accounts). A guarded debit lands only
    if the balance covers it, in the same statement (no read-then-write race): an account left out means not
    enough points, and the caller's transaction rolls back."""
    debits: dict[int, int] = defaultdict(int)
    credits: dict[int, int] = defaultdict(int)
    guarded: set[int] = set()
    for p in postings:
        debits[p.debit.id] += p.amount
        credits[p.credit.id] += p.amount
        if p.guard:
            guarded.add(p.debit.id)
    rows = [
        (account_id, debits.get(account_id, 0), credits.get(account_id, 0), 1 if account_id in guarded else 0)
        for account_id in sorted(set(debits) | set(credits))
    ]
    if vendor == "sqlite" and len(rows) <= FEW_ACCOUNTS:
        # SQLite: plain UPDATEs by primary key cost microseconds each, an UPDATE ... FROM (VALUES) ten times
        # more; no round trips to save on an embedded database.
        for account_id, debit, credit, guard in rows:
            if guard:
                cursor.execute(_MOVE_ONE + " AND balance >= %s", [debit, credit, credit - debit, account_id, debit])
            else:
                cursor.execute(_MOVE_ONE, [debit, credit, credit - debit, account_id])
            if cursor.rowcount != 1:
                raise InsufficientPoints()
        return
    table = _ACCOUNTS
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        cursor.execute(
            # VALUES names its columns column1..column4 on both backends: (id, debit, credit, guarded).
            # No WITH: Python's sqlite3 reports no rowcount for a statement that does not start with UPDATE.
            f"UPDATE {table} SET debits = {table}.debits + v.column2, credits = {table}.credits + v.column3, "
            f"balance = {table}.balance + v.column3 - v.column2 "
            f"FROM (VALUES {', '.join(['(%s, %s, %s, %s)'] * len(chunk))}) AS v "
            f"WHERE {table}.id = v.column1 AND (v.column4 = 0 OR {table}.balance >= v.column2)",
            [value for row in chunk for value in row],
        )
        if cursor.rowcount != len(chunk):
            raise InsufficientPoints()


@functools.cache
def _insert_sql(vendor: str, rows: int) -> str:
    quote = connection.ops.quote_name
    placeholder = "(" + ", ".join(["%s"] * len(TRANSFER_FIELDS)) + ")"
    return (
        f"INSERT INTO {Transfer._meta.db_table} ({', '.join(quote(f.column) for f in TRANSFER_FIELDS)}) "
        f"VALUES {', '.join([placeholder] * rows)} RETURNING id"
    )


def _insert_transfers(cursor, vendor: str, transfers: list[Transfer], rows: list[list]) -> None:
    """Multi-row ``INSERT ... RETURNING id`` (both backends), setting each transfer's id. ``rows``: the column
    values as the database takes them (``post`` adapts the two dates once for all)."""
    for start in range(0, len(transfers), INSERT_CHUNK):
        chunk = transfers[start : start + INSERT_CHUNK]
        cursor.execute(
            _insert_sql(vendor, len(chunk)), [value for row in rows[start : start + INSERT_CHUNK] for value in row]
        )
        for t, (transfer_id,) in zip(chunk, cursor.fetchall(), strict=True):
            t.id = transfer_id
            t._state.adding = False
            t._state.db = DEFAULT_DB_ALIAS


def _add_to_summaries(cursor, village_id: int, period_db, transfers: list[Transfer]) -> None:
    totals: dict[int, list[int]] = {}
    for t in transfers:
        if t.household_id is None or (t.conduct_delta == 0 and t.code not in CONDUCT_CODES):
            continue
        row = totals.setdefault(t.household_id, [0, 0, 0])
        row[0] += t.conduct_delta
        if t.code == Transfer.Code.AWARD:
            row[1] += t.amount
        elif t.code == Transfer.Code.DEDUCTION:
            row[2] += t.amount
    if not totals:
        return
    table = PeriodSummary._meta.db_table
    rows = list(totals.items())
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        cursor.execute(
            f"INSERT INTO {table} (village_id, household_id, period, conduct, awarded, deducted) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
            + f" ON CONFLICT (household_id, period) DO UPDATE SET conduct = {table}.conduct + excluded.conduct, "
            f"awarded = {table}.awarded + excluded.awarded, deducted = {table}.deducted + excluded.deducted",
            [v for h, (c, a, d) in chunk for v in (village_id, h, period_db, c, a, d)],
        )


def idempotent(
    *, actor, key: str, operation: str, request: dict, run: Callable[[], dict], result: dict | None = None
) -> tuple[dict, bool]:
    """Run ``run`` once per (actor, key). Returns (result, replayed).

    The same key with the same request returns the first result; with a different request it is refused.
    Two concurrent requests with one key: the second waits on the unique index until the first commits, then
    finds its row and returns its result. ``result``: the answer, when the caller knows it before running (it
    holds the village's head, so it knows the sequence numbers it will write): stored with the key, one statement
    fewer; ``run``'s return value is then ignored.
    """
    db = connections[DEFAULT_DB_ALIAS]
    if not db.in_atomic_block:
        raise LedgerError("idempotent() must run inside transaction.atomic")
    key = (key or "").strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise IdempotencyKeyInvalid()
    digest = hashlib.sha256(
        json.dumps([operation, request], sort_keys=True, default=str, ensure_ascii=False).encode()
    ).hexdigest()
    # INSERT ... ON CONFLICT DO NOTHING: no savepoint; on PostgreSQL a concurrent insert of the same key makes
    # this statement wait for that transaction, then do nothing if it committed.
    with fastsql.cursor_for(db) as cursor:
        cursor.execute(
            _idempotency_sql(db.vendor),
            [
                actor.pk,
                key,
                operation,
                digest,
                _RESULT.get_db_prep_save(result or {}, db),
                db.ops.adapt_datetimefield_value(clock.now()),
            ],
        )
        row = cursor.fetchone()
    if row is None:
        existing = IdempotencyKey.objects.get(actor=actor, key=key)
        if existing.request_hash != digest or existing.operation != operation:
            raise IdempotencyConflict()
        return existing.result, True
    if result is not None:
        run()
        return result, False
    result = run()
    with fastsql.cursor_for(db) as cursor:
        cursor.execute(
            f"UPDATE {IdempotencyKey._meta.db_table} SET result = %s WHERE id = %s",
            [_RESULT.get_db_prep_save(result, db), row[0]],
        )
    return result, False


_RESULT = IdempotencyKey._meta.get_field("result")


@functools.cache
def _idempotency_sql(vendor: str) -> str:
    table, key = IdempotencyKey._meta.db_table, connection.ops.quote_name("key")
    return (
        f"INSERT INTO {table} (actor_id, {key}, operation, request_hash, result, created_at) "
        f"VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (actor_id, {key}) DO NOTHING RETURNING id"
    )


def stored_text(message: str, **params) -> str:
    """A text a transfer keeps (its item name), rendered in the site's language (``LANGUAGE_CODE``) whoever acts:
    the ledger is public and reads the same to every villager, as the rubric's item names do. Mark ``message``
    with ``gettext_noop`` where it is written, so that it is still extracted for translation."""
    if translation.get_language() in (None, settings.LANGUAGE_CODE):
        text = translation.gettext(message)
    else:
        with translation.override(settings.LANGUAGE_CODE):
            text = translation.gettext(message)
    return text % params if params else text


def conduct_delta_for(code: str, amount: int) -> int:
    return CONDUCT_CODES.get(code, 0) * amount


def initial_head_hash() -> str:
    return GENESIS_HASH
