"""Reads of the ledger: balances, conduct scores and stars, statements, rankings, the public notice, the red and
black list, the claims and objections queues. Rankings and stars read the monthly summaries the ledger keeps."""

import datetime

from django.core.paginator import Paginator
from django.db.models import F, OuterRef, Subquery, Sum, Window
from django.db.models.functions import Coalesce, Rank
from django.utils.translation import gettext as _

from points.models import (
    Account,
    Claim,
    Household,
    LedgerHead,
    MonthlyNotice,
    Objection,
    PeriodSummary,
    Transfer,
    Village,
)
from points.privacy import mask_name
from points.scope import Scope


def period_range(kind: str, year: int, number: int = 1) -> tuple[datetime.date, datetime.date]:
    """First and last month (both first days) of a month, quarter or year."""
    if kind == "month":
        start = datetime.date(year, number, 1)
        return start, start
    if kind == "quarter":
        first = 3 * (number - 1) + 1
        return datetime.date(year, first, 1), datetime.date(year, first + 2, 1)
    if kind == "year":
        return datetime.date(year, 1, 1), datetime.date(year, 12, 1)
    raise ValueError(kind)


def household_balance(household: Household) -> int:
    return Account.objects.filter(household=household).values_list("balance", flat=True).first() or 0


def conduct_score(household: Household, start: datetime.date, end: datetime.date) -> int:
    """Awards minus deductions (and their reversals) in the months ``start``..``end``; redemptions excluded."""
    total = PeriodSummary.objects.filter(household=household, period__gte=start, period__lte=end).aggregate(
        total=Sum("conduct")
    )["total"]
    return total or 0


def stars_for(score: int, thresholds) -> int:
    """星级: how many of the village's thresholds (one to five) the year's conduct score reaches."""
    return sum(1 for threshold in sorted(thresholds or [])[:5] if score >= threshold)


def household_stars(household: Household, year: int) -> int:
    return stars_for(conduct_score(household, *period_range("year", year)), household.village.star_thresholds)


def household_statement(household: Household, *, page: int = 1, per_page: int = 20):
    """The household's transfers, newest first, one page at a time (an index on household, -id serves it)."""
    account_id = Account.objects.filter(household=household).values_list("id", flat=True).first()
    transfers = (
        Transfer.objects.filter(household=household)
        .select_related("rubric_item", "member", "actor", "reverses")
        .order_by("-id")
    )
    paginator = Paginator(transfers, per_page)
    page_obj = paginator.get_page(page)
    for transfer in page_obj.object_list:
        transfer.signed = -transfer.amount if transfer.debit_account_id == account_id else transfer.amount
        transfer.explanation = explain(transfer)
    return page_obj


def explain(transfer: Transfer) -> str:
    """One line a villager can read: what happened and why."""
    label = transfer.get_code_display()
    if transfer.code == Transfer.Code.REVERSAL:
        return _("冲正第 %(seq)s 号记录（%(item)s）：%(reason)s") % {
            "seq": transfer.reverses.seq if transfer.reverses_id else "?",
            "item": transfer.item_name or label,
            "reason": transfer.reason,
        }
    parts = [f"{label}：{transfer.item_name}" if transfer.item_name else label]
    if transfer.member_id:
        parts.append(transfer.member.name)
    if transfer.memo:
        parts.append(transfer.memo)
    return " · ".join(parts)


def ranking(*, villages, start: datetime.date, end: datetime.date, limit: int | None = None) -> list[dict]:
    """Active households of ``villages`` by conduct score, standard competition ranking ("1224").

    Reads only the monthly summaries, so its cost does not grow with the number of transfers.
    """
    rows = (
        Household.objects.filter(village__in=villages, status=Household.Status.ACTIVE)
        # A correlated subquery per household, served by the (household, period) unique index: its cost does
        # not grow with the years of history, and it never scans another village's summaries.
        .annotate(
            score=Coalesce(
                Subquery(
                    PeriodSummary.objects.filter(household=OuterRef("pk"), period__gte=start, period__lte=end)
                    .values("household")
                    .annotate(total=Sum("conduct"))
                    .values("total")
                ),
                0,
            )
        )
        .annotate(rank=Window(expression=Rank(), order_by=F("score").desc()))
        .order_by("rank", "village_id", "number")
        .values("id", "number", "head_name", "village_id", "village__name", "village__star_thresholds", "score", "rank")
    )
    if limit is not None:
        rows = rows[:limit]
    result = []
    for row in rows:
        row["stars"] = stars_for(row["score"], row.pop("village__star_thresholds"))
        result.append(row)
    return result


def public_notice(village: Village, period: datetime.date) -> dict:
    """积分公示 for one village and month: every award, deduction and reversal with masked names, the
    objections and their answers, and the ledger's chain head."""
    period = period.replace(day=1)
    notice = MonthlyNotice.objects.filter(village=village, period=period).first()
    transfers = list(
        Transfer.objects.filter(
            village=village,
            period=period,
            code__in=(Transfer.Code.AWARD, Transfer.Code.DEDUCTION, Transfer.Code.REVERSAL),
        )
        .select_related("household", "reverses")
        .order_by("seq")
    )
    mask = village.mask_names
    for transfer in transfers:
        head = transfer.household.head_name if transfer.household_id else ""
        transfer.public_name = mask_name(head) if mask else head
        transfer.public_number = transfer.household.number if transfer.household_id else ""
        # Public: the kind and the rubric item only; never the member's name or the memo (a claim's own text).
        transfer.public_explanation = (
            f"{transfer.get_code_display()}：{transfer.item_name}"
            if transfer.item_name
            else transfer.get_code_display()
        )
        sign = 1 if transfer.code == Transfer.Code.AWARD else -1
        if transfer.code == Transfer.Code.REVERSAL:
            sign = 1 if transfer.conduct_delta >= 0 else -1
        transfer.signed = sign * transfer.amount
    objections = list(
        Objection.objects.filter(village=village, notice=notice).select_related("transfer", "household")
        if notice
        else []
    )
    for objection in objections:
        objection.public_name = mask_name(objection.household.head_name) if mask else objection.household.head_name
    head = LedgerHead.objects.filter(village=village).first()
    return {
        "village": village,
        "period": period,
        "notice": notice,
        "transfers": transfers,
        "objections": objections,
        "head_hash": head.hash if head else "",
        "head_seq": head.seq if head else 0,
        "last_verified_at": head.last_verified_at if head else None,
        "last_verified_ok": head.last_verified_ok if head else None,
    }


RED_BLACK_DEDUCTION_ROWS = 500  # a month of one village's deductions is a few dozen; this only bounds a freak


def red_black_list(village: Village, start: datetime.date, end: datetime.date, *, limit: int = 10) -> dict:
    """红黑榜 of one village for the months ``start``..``end`` (both first days), for the public pages.

    黑榜: households with deductions in the period that were not reversed (an upheld objection reverses its
    deduction, and then the household is off the list), most points deducted first, with the rubric items.
    红榜: the households with the best conduct score (above zero) in the period, "1224" ranks, leaving out any
    household on the black list (ranked again among themselves). Names are masked exactly as on the public
    notice (``village.mask_names``); nothing else about a household is returned. Two queries, whatever the
    village's size."""
    start, end = start.replace(day=1), end.replace(day=1)
    mask = village.mask_names
    deductions = (
        Transfer.objects.filter(
            village=village,
            period__gte=start,
            period__lte=end,
            code=Transfer.Code.DEDUCTION,
            household__isnull=False,
            reversal__isnull=True,
        )
        .order_by("household_id", "seq")
        .values_list("household_id", "household__head_name", "amount", "item_name")[:RED_BLACK_DEDUCTION_ROWS]
    )
    black: dict[int, dict] = {}
    for household_id, head_name, amount, item_name in deductions:
        row = black.setdefault(
            household_id,
            {"name": mask_name(head_name) if mask else head_name, "points": 0, "count": 0, "items": []},
        )
        row["points"] += amount
        row["count"] += 1
        if item_name and item_name not in row["items"]:
            row["items"].append(item_name)
    black_rows = sorted(black.items(), key=lambda kv: (-kv[1]["points"], kv[0]))[:limit]
    red = []
    for row in ranking(villages=[village], start=start, end=end, limit=limit + len(black)):
        if row["score"] <= 0 or len(red) == limit:
            break
        if row["id"] in black:
            continue
        name = mask_name(row["head_name"]) if mask else row["head_name"]
        # Ranked again among the red list itself ("1224"), so leaving out black-listed households leaves no gaps.
        rank = red[-1]["rank"] if red and red[-1]["score"] == row["score"] else len(red) + 1
        red.append({"name": name, "score": row["score"], "rank": rank, "stars": row["stars"]})
    return {"red": red, "black": [row for _, row in black_rows], "start": start, "end": end}


def pending_claims(*, scope: Scope):
    return (
        Claim.objects.filter(village_id__in=scope.villages().values("id"), status=Claim.Status.PENDING)
        .select_related("household", "rubric_item", "member")
        .prefetch_related("photos")
        .order_by("submitted_at")
    )


def open_objections(*, scope: Scope):
    return (
        Objection.objects.filter(village_id__in=scope.villages().values("id"), status=Objection.Status.OPEN)
        .select_related("transfer", "household", "notice")
        .order_by("filed_at")
    )


def household_claims(household: Household):
    return (
        Claim.objects.filter(village_id=household.village_id, household=household)
        .select_related("rubric_item", "member")
        .prefetch_related("photos")
        .order_by("-submitted_at", "-id")
    )


def household_objections(household: Household):
    return (
        Objection.objects.filter(village_id=household.village_id, household=household)
        .select_related("transfer", "notice")
        .order_by("-filed_at", "-id")
    )


def village_transfer_or_none(*, village_id: int, transfer_id: int) -> Transfer | None:
    return Transfer.objects.filter(village_id=village_id, pk=transfer_id).first()
