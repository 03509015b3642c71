"""Proving the books: recompute every hash, balance and monthly summary, and the zero sum of all accounts.

Streams transfers in sequence order per village (constant memory), stops at the first mismatch and names it.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Sum
from django.utils import timezone

from points.ledger.books import hashed_fields, transfer_hash
from points.models import GENESIS_HASH, Account, LedgerHead, PeriodSummary, Product, StockMovement, Transfer, Village


@dataclass
class VerifyResult:
    ok: bool
    villages: int = 0
    transfers: int = 0
    problem: str = ""


class Mismatch(Exception):
    pass


def verify_village(village: Village) -> int:
    """Check one village; returns its transfer count or raises Mismatch naming the first problem."""
    prev_hash, expected_seq = GENESIS_HASH, 0
    debits: dict[int, int] = defaultdict(int)
    credits: dict[int, int] = defaultdict(int)
    conduct: dict[tuple[int, object], int] = defaultdict(int)
    for transfer in Transfer.objects.filter(village=village).order_by("seq").iterator(chunk_size=5000):
        expected_seq += 1
        where = f"{village.code} transfer #{transfer.seq} (id {transfer.id})"
        if transfer.seq != expected_seq:
            raise Mismatch(f"{where}: sequence gap, expected #{expected_seq}")
        if transfer.prev_hash != prev_hash:
            raise Mismatch(f"{where}: prev_hash does not match its predecessor")
        if transfer_hash(prev_hash, hashed_fields(transfer)) != transfer.hash:
            raise Mismatch(f"{where}: hash does not match its contents (altered)")
        if transfer.amount <= 0:
            raise Mismatch(f"{where}: amount is not positive")
        prev_hash = transfer.hash
        debits[transfer.debit_account_id] += transfer.amount
        credits[transfer.credit_account_id] += transfer.amount
        if transfer.household_id and transfer.conduct_delta:
            conduct[(transfer.household_id, transfer.period)] += transfer.conduct_delta

    head = LedgerHead.objects.filter(village=village).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if head_seq != expected_seq or head_hash != prev_hash:
        raise Mismatch(f"{village.code}: ledger head (#{head_seq}) does not match the last transfer (#{expected_seq})")

    for account in Account.objects.filter(village=village).iterator(chunk_size=5000):
        want_debits, want_credits = debits.get(account.id, 0), credits.get(account.id, 0)
        if (account.debits, account.credits, account.balance) != (
            want_debits,
            want_credits,
            want_credits - want_debits,
        ):
            raise Mismatch(
                f"{village.code} account {account.id} ({account.kind} {account.household_id or ''}): balance "
                f"{account.balance} but transfers give {want_credits - want_debits}"
            )
    for summary in PeriodSummary.objects.filter(village=village).iterator(chunk_size=5000):
        want = conduct.pop((summary.household_id, summary.period), 0)
        if summary.conduct != want:
            raise Mismatch(
                f"{village.code} household {summary.household_id} {summary.period:%Y-%m}: conduct summary "
                f"{summary.conduct} but transfers give {want}"
            )
    leftover = {key: value for key, value in conduct.items() if value}
    if leftover:
        (household_id, period), value = next(iter(leftover.items()))
        raise Mismatch(f"{village.code} household {household_id} {period:%Y-%m}: conduct {value} has no summary")
    verify_stock(village)
    return expected_seq


def verify_stock(village: Village) -> None:
    """Every product's stock equals the sum of its movements, and its last movement says what it left."""
    sums = dict(
        StockMovement.objects.filter(village=village)
        .values("product_id")
        .annotate(total=Sum("quantity"))
        .values_list("product_id", "total")
    )
    for product in Product.objects.filter(village=village).only("id", "name", "stock"):
        total = sums.get(product.id) or 0
        if product.stock != total:
            raise Mismatch(
                f"{village.code} product {product.id} ({product.name}): "
                f"stock {product.stock} but movements give {total}"
            )
        last = StockMovement.objects.filter(product=product).order_by("-id").values_list("stock_after", flat=True)
        last = last.first()
        if last is not None and last != product.stock:
            raise Mismatch(f"{village.code} product {product.id}: last movement left {last}, stock is {product.stock}")


def verify_ledger(*, village: Village | None = None, record: bool = True) -> VerifyResult:
    villages = [village] if village else list(Village.objects.order_by("code"))
    result = VerifyResult(ok=True)
    for item in villages:
        try:
            result.transfers += verify_village(item)
        except Mismatch as exc:
            if record:
                LedgerHead.objects.filter(village=item).update(last_verified_at=timezone.now(), last_verified_ok=False)
            return VerifyResult(ok=False, villages=result.villages, transfers=result.transfers, problem=str(exc))
        result.villages += 1
        if record:
            LedgerHead.objects.filter(village=item).update(last_verified_at=timezone.now(), last_verified_ok=True)
    if village is None:
        total = Account.objects.aggregate(total=Sum("balance"))["total"] or 0
        if total != 0:
            return VerifyResult(
                ok=False,
                villages=result.villages,
                transfers=result.transfers,
                problem=f"the sum of all balances is {total}, not zero",
            )
    return result
