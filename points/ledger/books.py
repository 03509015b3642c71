"""The only module that writes transfers. Owns accounts, the hash chain, balances and period summaries.

Every caller runs inside one transaction on the ledger's database (``atomic``, on the alias the router names:
``ledger_db``). ``post`` first locks the village's ``LedgerHead`` row: that lock serializes the village's writers,
so sequence numbers and the hash chain stay linear, and because every writer takes it before touching any
account, two batches can never deadlock on account rows. The statements the hot paths send are named in
``points/ledger/sql.py``; everything else is the ORM.
"""

import datetime
import functools
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone, translation

from points import clock
from points.exceptions import (
    IdempotencyConflict,
    IdempotencyKeyInvalid,
    InsufficientPoints,
    InvalidAmount,
    LedgerError,
    MonthClosed,
)
from points.ledger import sql
from points.models import (
    GENESIS_HASH,
    Account,
    Household,
    IdempotencyKey,
    LedgerHead,
    Transfer,
    Village,
)
from points.signals import ledger_changed, send_after_commit

MAX_AMOUNT = 100_000
MAX_IDEMPOTENCY_KEY_LENGTH = 100
CONDUCT_CODES = {Transfer.Code.AWARD: 1, Transfer.Code.DEDUCTION: -1}


def ledger_db() -> str:
    """The alias of the database the ledger writes to, as the router names it. Asked on every call (never at
    import), so a router installed later, or changed in a test, is obeyed. Reads inside a write transaction use
    it too: they must see the rows the transaction wrote (a read replica would not)."""
    return router.db_for_write(Transfer)


def atomic(func):
    """``transaction.atomic`` on ``ledger_db()``, for a service that moves points: the decorator form reads the
    router at each call, where ``@transaction.atomic`` would always open its transaction on "default"."""

    @functools.wraps(func)
    def call(*args, **kwargs):
        with transaction.atomic(using=ledger_db()):
            return func(*args, **kwargs)

    return call


def clean_idempotency_key(key: str | None) -> str:
    """The idempotency key as it is stored, or IdempotencyKeyInvalid: the one check of a key, used by every
    service (``idempotent``, the ballot) and by the API's early 400 (its limit is ``MAX_IDEMPOTENCY_KEY_LENGTH``)."""
    key = (key or "").strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise IdempotencyKeyInvalid()
    return key


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
    if not ids and not wanted_system:
        return {}, {}
    db = ledger_db()

    def read():
        kinds, owned = {}, {}
        rows = sql.accounts(connections[db], household_ids=ids, village_id=village.pk, kinds=sorted(wanted_system))
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
        Account.objects.using(db).bulk_create(
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
    db = ledger_db()
    period = month_of(clock.now())
    row = sql.lock_head(connections[db], village_id=village.pk, period=period)
    if row is None:
        try:
            with transaction.atomic(using=db):
                LedgerHead.objects.using(db).create(village=village)
        except IntegrityError:
            pass  # a concurrent writer created it
        return lock_head(village)
    seq, head_hash, month_closed = row
    return Head(village_id=village.pk, seq=seq, hash=head_hash, period=period, month_closed=month_closed)


TRANSFER_FIELDS = [f for f in Transfer._meta.concrete_fields if not f.primary_key]
TRANSFER_ATTNAMES = [f.attname for f in TRANSFER_FIELDS]
# ``post`` builds rows positionally in this order (the model's field order), hashing all but the last three.
HASH = TRANSFER_ATTNAMES.index("created_at")
PERIOD = TRANSFER_ATTNAMES.index("period")
assert [f.column for f in TRANSFER_FIELDS] == list(sql.TRANSFER_COLUMNS), (
    "points.ledger.post builds transfer rows in the model's field order: update sql.TRANSFER_COLUMNS with the model"
)


def post(*, village: Village, postings: list[Posting], actor, head: Head | None = None) -> list[Transfer]:
    """Write ``postings`` as transfers of ``village``: all of them or, on any refusal, none.

    Must run inside the caller's transaction on ``ledger_db()`` (``atomic``) so that a refusal rolls back what the
    caller did too. ``head`` is the village's head as ``lock_head`` returned it earlier in this transaction (else
    it is locked here). Statements (``points/ledger/sql.py``): the balances, the transfers and the summaries (one
    each per 500 rows), the head: the rows a hand-written transaction would write, no more. The transfers are
    returned with their ids, the objects given in the postings attached as their related objects.
    """
    db = ledger_db()
    connection = connections[db]
    if not connection.in_atomic_block:
        raise LedgerError("ledger.post must run inside a transaction on the ledger's database")
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
    # The two dates as the database takes them, adapted once for all rows.
    created_db, period_db = connection.ops.adapt_datetimefield_value(now), connection.ops.adapt_datefield_value(period)
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

    if not sql.move_balances(connection, _balance_moves(postings)):
        raise InsufficientPoints()
    for transfer, transfer_id in zip(transfers, sql.insert_transfers(connection, rows), strict=True):
        transfer.id = transfer_id
        transfer._state.adding = False
        transfer._state.db = db
    totals = _summary_totals(transfers)
    if totals:
        sql.add_to_summaries(connection, village_id=village_id, period=period, totals=totals)
    sql.move_head(connection, village_id=village_id, seq=seq, hash=prev_hash)
    head.seq, head.hash = seq, prev_hash
    send_after_commit(ledger_changed, village_id, using=db)
    return transfers


def _balance_moves(postings: list[Posting]) -> list[tuple[int, int, int, bool]]:
    """[(account id, debit, credit, guarded)] per account, in id order (the order rows are locked in)."""
    debits: dict[int, int] = defaultdict(int)
    credits: dict[int, int] = defaultdict(int)
    guarded: set[int] = set()
    for p in postings:
        debits[p.debit.id] += p.amount
        credits[p.credit.id] += p.amount
        if p.guard:
            guarded.add(p.debit.id)
    return [
        (account_id, debits.get(account_id, 0), credits.get(account_id, 0), account_id in guarded)
        for account_id in sorted(set(debits) | set(credits))
    ]


def _summary_totals(transfers: list[Transfer]) -> list[tuple[int, int, int, int]]:
    """[(household id, conduct, awarded, deducted)] of the transfers that count towards a household's month."""
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
    return [(household_id, *row) for household_id, row in totals.items()]


def request_digest(operation: str, request: dict) -> str:
    """What an idempotency record keeps of a request: the same request gives the same digest."""
    return hashlib.sha256(
        json.dumps([operation, request], sort_keys=True, default=str, ensure_ascii=False).encode()
    ).hexdigest()


def take_idempotency_key(
    *, actor, key: str, operation: str, request_hash: str, result: dict, first: tuple[str, list] | None = None
) -> int | None:
    """Record that ``actor`` used ``key``: the record's id, or None if the key was used before (then nothing is
    written). Inside the caller's transaction: the record stands or falls with what it guards. ``idempotent``
    and the ballot (which keeps only an HMAC of its request) both take their keys here. ``first``: rows the caller
    writes in the same statement, on PostgreSQL (``sql.take_idempotency_key``)."""
    connection = connections[ledger_db()]
    if not connection.in_atomic_block:
        raise LedgerError("an idempotency key must be taken inside a transaction on the ledger's database")
    return sql.take_idempotency_key(
        connection,
        actor_id=actor.pk,
        key=key,
        operation=operation,
        request_hash=request_hash,
        result=result,
        created_at=clock.now(),
        first=first,
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
    key = clean_idempotency_key(key)
    digest = request_digest(operation, request)
    record_id = take_idempotency_key(
        actor=actor, key=key, operation=operation, request_hash=digest, result=result or {}
    )
    records = IdempotencyKey.objects.using(ledger_db())
    if record_id is None:
        existing = records.get(actor=actor, key=key)
        if existing.request_hash != digest or existing.operation != operation:
            raise IdempotencyConflict()
        return existing.result, True
    if result is not None:
        run()
        return result, False
    result = run()
    records.filter(pk=record_id).update(result=result)
    return result, False


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
