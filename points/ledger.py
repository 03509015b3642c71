"""The only module that writes transfers. Owns accounts, the hash chain, balances and period summaries.

Every caller runs inside one ``transaction.atomic``. ``post`` first locks the village's ``LedgerHead`` row:
that lock serializes the village's writers, so sequence numbers and the hash chain stay linear, and because
every writer takes it before touching any account, two batches can never deadlock on account rows.
"""

import datetime
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from . import clock
from .exceptions import (
    IdempotencyConflict,
    IdempotencyKeyInvalid,
    InsufficientPoints,
    InvalidAmount,
    LedgerError,
    MonthClosed,
)
from .models import (
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
from .signals import ledger_changed, send_after_commit

MAX_AMOUNT = 100_000
MAX_IDEMPOTENCY_KEY_LENGTH = 100
CONDUCT_CODES = {Transfer.Code.AWARD: 1, Transfer.Code.DEDUCTION: -1}


@dataclass
class Posting:
    """One transfer to make. ``guard`` refuses it if the debit account would go below zero."""

    debit: Account
    credit: Account
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
    """The first day of the month (Asia/Shanghai) that ``moment`` falls in."""
    local = timezone.localtime(moment or clock.now())
    return local.date().replace(day=1)


def system_account(village: Village, kind: str) -> Account:
    account = Account.objects.filter(village=village, kind=kind, household__isnull=True).first()
    if account is None:
        try:
            with transaction.atomic():
                account = Account.objects.create(village=village, kind=kind)
        except IntegrityError:
            account = Account.objects.get(village=village, kind=kind, household__isnull=True)
    return account


def household_account(household: Household) -> Account:
    account = Account.objects.filter(household=household).first()
    if account is None:
        try:
            with transaction.atomic():
                account = Account.objects.create(
                    village_id=household.village_id, kind=Account.Kind.HOUSEHOLD, household=household
                )
        except IntegrityError:
            account = Account.objects.get(household=household)
    return account


def household_accounts(households: list[Household]) -> dict[int, Account]:
    """Accounts for many households at once (created where missing), keyed by household id."""
    ids = [h.id for h in households]
    found = {a.household_id: a for a in Account.objects.filter(household_id__in=ids)}
    missing = [h for h in households if h.id not in found]
    if missing:
        Account.objects.bulk_create(
            [Account(village_id=h.village_id, kind=Account.Kind.HOUSEHOLD, household=h) for h in missing],
            ignore_conflicts=True,
        )
        found = {a.household_id: a for a in Account.objects.filter(household_id__in=ids)}
    return found


def transfer_hash(prev_hash: str, fields: dict) -> str:
    """sha256 over the predecessor's hash and the transfer's fields, in a fixed order and format."""
    canonical = json.dumps([prev_hash, fields], ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def hashed_fields(t: Transfer) -> dict:
    """The fields the chain covers. ``verify_ledger`` calls this on stored rows, ``post`` on new ones."""
    created = t.created_at.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    return {
        "village": t.village_id,
        "seq": t.seq,
        "debit": t.debit_account_id,
        "credit": t.credit_account_id,
        "amount": t.amount,
        "code": t.code,
        "household": t.household_id,
        "member": t.member_id,
        "item": t.rubric_item_id,
        "item_name": t.item_name,
        "conduct": t.conduct_delta,
        "period": t.period.isoformat(),
        "actor": t.actor_id,
        "acted_for": t.acted_for_id,
        "memo": t.memo,
        "photo": t.photo_id,
        "reverses": t.reverses_id,
        "reason": t.reason,
        "created_at": created,
    }


def lock_head(village: Village) -> LedgerHead:
    """Lock the village's chain head for this transaction (PostgreSQL: a row lock; SQLite: the IMMEDIATE
    transaction already holds the database's write lock). One raw statement: this is on every write's path,
    and calling it again in the same transaction is cheap."""
    table = LedgerHead._meta.db_table
    lock = " FOR NO KEY UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, hash FROM {table} WHERE village_id = %s{lock}", [village.pk])
        row = cursor.fetchone()
    if row is None:
        try:
            with transaction.atomic():
                LedgerHead.objects.create(village=village)
        except IntegrityError:
            pass  # a concurrent writer created it
        return lock_head(village)
    return LedgerHead(village=village, seq=row[0], hash=row[1])


def is_month_closed(village_id: int, period: datetime.date) -> bool:
    return MonthlyNotice.objects.filter(village_id=village_id, period=period, closed_at__isnull=False).exists()


def post(*, village: Village, postings: list[Posting], actor) -> list[Transfer]:
    """Write ``postings`` as transfers of ``village``: all of them or, on any refusal, none.

    Must run inside the caller's ``transaction.atomic`` so that a refusal rolls back what the caller did too.
    """
    if not connection.in_atomic_block:
        raise LedgerError("ledger.post must run inside transaction.atomic")
    if not postings:
        return []
    for p in postings:
        if not isinstance(p.amount, int) or isinstance(p.amount, bool) or not 0 < p.amount <= MAX_AMOUNT:
            raise InvalidAmount()
        if p.debit.id == p.credit.id:
            raise LedgerError("debit and credit accounts must differ")
        if p.debit.village_id != village.id or p.credit.village_id != village.id:
            raise LedgerError("accounts of another village")

    head = lock_head(village)
    now = clock.now()
    period = month_of(now)
    if is_month_closed(village.id, period):
        raise MonthClosed()

    # Balances: one UPDATE per account. A guarded debit only lands if the balance covers it, in the same
    # statement (no read-then-write race); zero rows updated means not enough points.
    debits: dict[int, int] = defaultdict(int)
    credits: dict[int, int] = defaultdict(int)
    guarded: set[int] = set()
    for p in postings:
        debits[p.debit.id] += p.amount
        credits[p.credit.id] += p.amount
        if p.guard:
            guarded.add(p.debit.id)
    table = Account._meta.db_table
    update = f"UPDATE {table} SET debits = debits + %s, credits = credits + %s, balance = balance + %s WHERE id = %s"
    with connection.cursor() as cursor:
        for account_id in sorted(set(debits) | set(credits)):
            out, into = debits.get(account_id, 0), credits.get(account_id, 0)
            if account_id in guarded:
                cursor.execute(update + " AND balance >= %s", [out, into, into - out, account_id, out])
            else:
                cursor.execute(update, [out, into, into - out, account_id])
            if cursor.rowcount != 1:
                raise InsufficientPoints()

    transfers = []
    prev_hash, seq = head.hash, head.seq
    for p in postings:
        seq += 1
        transfer = Transfer(
            village=village,
            seq=seq,
            debit_account_id=p.debit.id,
            credit_account_id=p.credit.id,
            amount=p.amount,
            code=p.code,
            household=p.household,
            member_id=p.member_id,
            rubric_item_id=p.rubric_item_id,
            item_name=p.item_name[:80],
            conduct_delta=p.conduct_delta,
            period=period,
            actor=actor if actor is not None and actor.is_authenticated else None,
            acted_for_id=p.acted_for_id,
            memo=p.memo[:200],
            photo_id=p.photo_id,
            reverses=p.reverses,
            reason=p.reason[:200],
            created_at=now,
            prev_hash=prev_hash,
        )
        transfer.hash = transfer_hash(prev_hash, hashed_fields(transfer))
        prev_hash = transfer.hash
        transfers.append(transfer)
    Transfer.objects.bulk_create(transfers, batch_size=1000)

    _add_to_summaries(village.id, period, transfers)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {LedgerHead._meta.db_table} SET seq = %s, hash = %s WHERE village_id = %s",
            [seq, prev_hash, village.pk],
        )
    send_after_commit(ledger_changed, village.pk)
    return transfers


def _add_to_summaries(village_id: int, period: datetime.date, transfers: list[Transfer]) -> None:
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
    sql = (
        f"INSERT INTO {table} (village_id, household_id, period, conduct, awarded, deducted) "
        f"VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (household_id, period) DO UPDATE SET "
        f"conduct = {table}.conduct + excluded.conduct, awarded = {table}.awarded + excluded.awarded, "
        f"deducted = {table}.deducted + excluded.deducted"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(village_id, h, period, c, a, d) for h, (c, a, d) in totals.items()])


def idempotent(*, actor, key: str, operation: str, request: dict, run: Callable[[], dict]) -> tuple[dict, bool]:
    """Run ``run`` once per (actor, key). Returns (result, replayed).

    The same key with the same request returns the first result; with a different request it is refused.
    Two concurrent requests with one key: the second waits on the unique index until the first commits, then
    finds its row and returns its result.
    """
    if not connection.in_atomic_block:
        raise LedgerError("idempotent() must run inside transaction.atomic")
    key = (key or "").strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise IdempotencyKeyInvalid()
    digest = hashlib.sha256(
        json.dumps([operation, request], sort_keys=True, default=str, ensure_ascii=False).encode()
    ).hexdigest()
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(
                actor=actor, key=key, operation=operation, request_hash=digest, result={}
            )
    except IntegrityError:
        existing = IdempotencyKey.objects.get(actor=actor, key=key)
        if existing.request_hash != digest or existing.operation != operation:
            raise IdempotencyConflict() from None
        return existing.result, True
    result = run()
    IdempotencyKey.objects.filter(pk=record.pk).update(result=result)
    return result, False


def conduct_delta_for(code: str, amount: int) -> int:
    return CONDUCT_CODES.get(code, 0) * amount


def initial_head_hash() -> str:
    return GENESIS_HASH
