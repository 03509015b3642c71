"""Reads of the register. Views and pages call these; they never filter models themselves."""

import datetime

from django.core.paginator import Paginator
from django.db.models import BigIntegerField, Case, Count, F, OuterRef, Q, QuerySet, Subquery, Sum, When, Window
from django.db.models.functions import Coalesce, Rank
from django.utils.translation import gettext as _

from .models import (
    Account,
    Claim,
    Household,
    LedgerHead,
    MonthlyNotice,
    Objection,
    PeriodSummary,
    Product,
    Redemption,
    RedemptionLine,
    StockMovement,
    Transfer,
    Village,
)
from .scope import Scope


def register_overview() -> list[dict]:
    """Public counts per village: households in the register. Nothing personal."""
    return list(
        Village.objects.select_related("township")
        .annotate(households_count=Count("households", filter=Q(households__status=Household.Status.ACTIVE)))
        .order_by("township__code", "code")
        .values("name", "township__name", "households_count")
    )


def household_search(*, scope: Scope, query: str, village_id: int | None = None) -> QuerySet[Household]:
    """Households in scope whose number, head's name or pinyin initials match ``query``."""
    qs = scope.households()
    if village_id is not None:
        qs = qs.filter(village_id=village_id)
    query = (query or "").strip()
    if not query:
        return qs
    condition = Q(number__iexact=query) | Q(number__istartswith=query) | Q(head_name__contains=query)
    if query.isascii() and query.isalpha():
        condition |= Q(head_initials__icontains=query.lower()) | Q(members__name_initials__icontains=query.lower())
    else:
        condition |= Q(members__name__contains=query)
    return qs.filter(condition).distinct()


def household_detail(*, scope: Scope, household_id: int) -> Household | None:
    """One household with its members, or None if it is outside the scope (callers answer 404)."""
    return scope.households().prefetch_related("members").filter(id=household_id).first()


# --- the ledger ----------------------------------------------------------------------------------------------


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


def mask_name(name: str) -> str:
    """张三丰 → 张*丰, 李四 → 李*, 欧阳小锋 → 欧**锋: enough for neighbours to recognise, not to identify."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


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


# --- the store -----------------------------------------------------------------------------------------------


def catalogue(village: Village, *, include_inactive: bool = False):
    products = Product.objects.filter(village=village).select_related("photo")
    if not include_inactive:
        products = products.filter(active=True)
    return products.order_by("order", "id")


def household_reservations(household: Household):
    return (
        Redemption.objects.filter(household=household)
        .select_related("village")
        .prefetch_related("lines")
        .order_by("-id")
    )


def store_report(village: Village, *, top: int = 10) -> dict:
    """Stock on hand and its points value against the points households hold; low stock; top products;
    donations received."""
    products = list(Product.objects.filter(village=village).order_by("order", "id"))
    stock_value = sum(p.stock * p.price for p in products)
    outstanding = (
        Account.objects.filter(village=village, kind=Account.Kind.HOUSEHOLD, balance__gt=0).aggregate(
            total=Sum("balance")
        )["total"]
        or 0
    )
    sold = (
        RedemptionLine.objects.filter(village=village)
        .exclude(redemption__status__in=[Redemption.Status.CANCELLED, Redemption.Status.EXPIRED])
        .values("product_id", "product__name")
        .annotate(quantity=Sum("quantity"), points=Sum("points"))
        .order_by("-quantity", "product_id")[:top]
    )
    donations = (
        StockMovement.objects.filter(village=village, kind=StockMovement.Kind.DONATION)
        .select_related("product")
        .order_by("-id")
    )
    return {
        "products": products,
        "stock_value": stock_value,
        "points_outstanding": outstanding,
        "coverage": (stock_value / outstanding) if outstanding else None,
        "low_stock": [p for p in products if p.active and p.is_low],
        "top_products": list(sold),
        "donations": list(donations[:100]),
    }


def public_donors(village: Village) -> list[dict]:
    """爱心捐赠榜: donors who agreed to be named, with what they gave."""
    return list(
        StockMovement.objects.filter(village=village, kind=StockMovement.Kind.DONATION, donor_public=True)
        .values("donor_name", "product__name", "product__unit")
        .annotate(quantity=Sum("quantity"))
        .order_by("-quantity", "donor_name")
    )


# --- small reads for the resident pages ----------------------------------------------------------------------


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


def village_by_code(code: str) -> Village | None:
    return Village.objects.filter(code__iexact=(code or "").strip()).first()


def redemption_balance_after(redemption: Redemption) -> int:
    """The household's balance right after this redemption's transfer (a reprinted receipt stays true).

    Reads the household's transfers up to it; the village's writes are serialised by the ledger head, so ids
    follow the order the balance moved in.
    """
    account_id = Account.objects.filter(household_id=redemption.household_id).values_list("id", flat=True).first()
    signed = Case(
        When(credit_account_id=account_id, then=F("amount")),
        When(debit_account_id=account_id, then=-F("amount")),
        default=0,
        output_field=BigIntegerField(),
    )
    total = (
        Transfer.objects.filter(Q(debit_account_id=account_id) | Q(credit_account_id=account_id))
        .filter(id__lte=redemption.transfer_id)
        .aggregate(total=Sum(signed))["total"]
    )
    return total or 0
