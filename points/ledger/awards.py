"""Services that award, deduct and reverse points. Each is one transaction and goes through ``points.ledger``."""

import datetime

from django.db import IntegrityError, connections, transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from points.exceptions import (
    AlreadyReversed,
    CapExceeded,
    InactiveItem,
    LedgerError,
    NotReversible,
    OutOfScope,
)
from points.ledger import books, sql
from points.models import Account, Household, Member, RubricItem, Transfer, Village
from points.scope import Capability, scope_for

MAX_BATCH = 20_000
REVERSIBLE = {
    Transfer.Code.AWARD,
    Transfer.Code.DEDUCTION,
    Transfer.Code.VOTE,
    Transfer.Code.MOTTO,
    Transfer.Code.WINNER,
    Transfer.Code.OPENING,
}


def rubric_for_village(village: Village, *, include_inactive: bool = False):
    """The rubric in force in ``village``: its own items plus the district's items it has not overridden."""
    district_id = village.township.district_id
    own = RubricItem.objects.filter(village=village)
    overridden = own.exclude(overrides__isnull=True).values("overrides_id")
    items = RubricItem.objects.filter(Q(village=village) | Q(district_id=district_id)).exclude(id__in=overridden)
    if not include_inactive:
        items = items.filter(active=True)
    return items.select_related("category").order_by("category__order", "order", "id")


def rubric_item_applies(village: Village, item: RubricItem) -> bool:
    """Whether ``item`` is in force in ``village`` (active or not): the village's own item, or a district item of
    the village's district that the village has not overridden. One statement (none for the village's own), on
    the ledger's database: an award asks it inside its transaction."""
    if item.village_id is not None:
        return item.village_id == village.pk
    connection = connections[books.ledger_db()]
    return sql.rubric_item_applies(connection, village_id=village.pk, district_id=item.district_id, item_id=item.pk)


def _require(actor, capability: Capability, village_id: int) -> None:
    if not scope_for(actor).can(capability, village_id):
        raise OutOfScope()


def _cap_window(item: RubricItem) -> tuple[datetime.date, datetime.date] | None:
    """The months (first, last) the item's cap counts in now, or None for an item without a cap (then the month
    is not even looked up: this is on every award's path)."""
    if item.cap_period == RubricItem.CapPeriod.MONTH:
        month = books.month_of()
        return month, month
    if item.cap_period == RubricItem.CapPeriod.YEAR:
        month = books.month_of()
        return month.replace(month=1), month
    return None


def _check_caps(item: RubricItem, households: list[Household]) -> None:
    """Refuse the whole batch if any household would pass the item's cap in the current period."""
    window = _cap_window(item)
    if window is None:
        return
    sign = 1 if item.kind == RubricItem.Kind.AWARD else -1
    used = dict(
        Transfer.objects.using(books.ledger_db())  # under the head lock: this transaction's own rows count
        .filter(
            household__in=[h.id for h in households], rubric_item=item, period__gte=window[0], period__lte=window[1]
        )
        .values("household_id")
        .annotate(total=Sum("conduct_delta"))
        .values_list("household_id", "total")
    )
    over = [h for h in households if sign * (used.get(h.id) or 0) + item.points > item.cap_points]
    if over:
        names = "、".join(str(h) for h in over[:5]) + ("…" if len(over) > 5 else "")
        raise CapExceeded(
            _("「%(item)s」%(period)s每户最多 %(cap)s 分，以下户已达上限：%(names)s")
            % {"item": item.name, "period": item.get_cap_period_display(), "cap": item.cap_points, "names": names}
        )


@books.atomic
def points_award(
    *,
    actor,
    village: Village,
    rubric_item: RubricItem,
    households: list[Household],
    idempotency_key: str,
    memo: str = "",
    member: Member | None = None,
    acted_for: Member | None = None,
    photo_id: int | None = None,
) -> list[Transfer]:
    """Award (or, for a deduction item, deduct) the item's points to each household: all of them or none.

    One idempotency key covers the whole batch. Caps are checked under the village's ledger lock.
    """
    _require(actor, Capability.MANAGE_POINTS, village.id)
    unique = list({h.id: h for h in households}.values())
    request = {
        "village": village.id,
        "item": rubric_item.id,
        "households": sorted(h.id for h in unique),
        "memo": memo,
        "member": getattr(member, "id", None),
        "acted_for": getattr(acted_for, "id", None),
        "photo": photo_id,
    }

    def check():
        # Inside run(): a retry of a request that succeeded gets its first answer even if, since then, the
        # item was deactivated or a household archived.
        if not unique:
            raise LedgerError(_("请至少选择一户"))
        if len(unique) > MAX_BATCH:
            raise LedgerError(_("一次最多 %(max)s 户") % {"max": MAX_BATCH})
        foreign = [h for h in unique if h.village_id != village.id]
        if foreign:
            raise OutOfScope(_("%(household)s 不是本村的户") % {"household": foreign[0]})
        archived = [h for h in unique if h.is_archived]
        if archived:
            raise LedgerError(_("%(household)s 已归档，不能记分") % {"household": archived[0]})
        if not rubric_item_applies(village, rubric_item):
            raise LedgerError(_("该细则不适用于本村"))
        if not rubric_item.active:
            raise InactiveItem()
        for person in (member, acted_for):
            if person is not None and (len(unique) != 1 or person.household_id != unique[0].id):
                raise LedgerError(_("所选成员不属于该户"))

    written: list[Transfer] = []

    # The head first: holding it, the answer is known before anything is written (the sequence numbers this
    # batch will take), so the idempotency record is written once, with its answer.
    head = books.lock_head(village)
    answer = {"village": village.id, "seqs": [head.seq + 1, head.seq + len(unique)]}

    def run():
        check()
        _check_caps(rubric_item, unique)
        code = Transfer.Code.AWARD if rubric_item.kind == RubricItem.Kind.AWARD else Transfer.Code.DEDUCTION
        system, accounts = books.accounts_for(village, households=unique, system=(Account.Kind.ISSUANCE,))
        issuance = system[Account.Kind.ISSUANCE]
        postings = []
        for household in unique:
            account = accounts[household.id]
            debit, credit = (issuance, account) if code == Transfer.Code.AWARD else (account, issuance)
            postings.append(
                books.Posting(
                    debit=debit,
                    credit=credit,
                    amount=rubric_item.points,
                    code=code,
                    household=household,
                    member_id=getattr(member, "id", None),
                    rubric_item_id=rubric_item.id,
                    item_name=rubric_item.name,
                    conduct_delta=books.conduct_delta_for(code, rubric_item.points),
                    memo=memo,
                    acted_for_id=getattr(acted_for, "id", None),
                    photo_id=photo_id,
                )
            )
        written.extend(books.post(village=village, postings=postings, actor=actor, head=head))
        if [written[0].seq, written[-1].seq] != answer["seqs"]:
            raise LedgerError("the head moved while it was held")  # cannot happen: the lock is ours
        return answer

    result, replayed = books.idempotent(
        actor=actor, key=idempotency_key, operation="points_award", request=request, run=run, result=answer
    )
    if not replayed:
        return written  # the rows as written: no need to read them back
    return awarded_transfers(result)


def awarded_transfers(result: dict) -> list[Transfer]:
    """The transfers a recorded ``points_award`` answer names (by village and sequence numbers; early records
    named transfer ids)."""
    if "seqs" in result:
        first, last = result["seqs"]
        transfers = Transfer.objects.using(books.ledger_db())  # just recorded: read where it was written
        return list(transfers.filter(village_id=result["village"], seq__range=(first, last)).order_by("seq"))
    return list(Transfer.objects.using(books.ledger_db()).filter(id__in=result["transfers"]).order_by("id"))


@books.atomic
def transfer_reverse(*, actor, transfer: Transfer, reason: str, idempotency_key: str) -> Transfer:
    """Undo ``transfer`` with a reversal that names it and a reason. At most once; lands in the open month."""
    _require(actor, Capability.MANAGE_POINTS, transfer.village_id)
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError(_("请填写冲正原因"))
    village = transfer.village

    def run():
        if transfer.code == Transfer.Code.REVERSAL:
            raise NotReversible()
        if transfer.code not in REVERSIBLE:
            raise LedgerError(_("兑换记录不能冲正，请在积分超市办理退货"))
        books.lock_head(village)
        if Transfer.objects.using(books.ledger_db()).filter(reverses=transfer).exists():
            raise AlreadyReversed()
        posting = books.Posting(
            debit=transfer.credit_account,
            credit=transfer.debit_account,
            amount=transfer.amount,
            code=Transfer.Code.REVERSAL,
            household=transfer.household,
            member_id=transfer.member_id,
            rubric_item_id=transfer.rubric_item_id,
            item_name=transfer.item_name,
            conduct_delta=-transfer.conduct_delta,
            reverses=transfer,
            reason=reason,
        )
        try:
            with transaction.atomic(using=books.ledger_db()):
                (reversal,) = books.post(village=village, postings=[posting], actor=actor)
        except IntegrityError as exc:  # the unique reverses_id: a concurrent reversal won
            raise AlreadyReversed() from exc
        return {"transfer": reversal.id}

    result, _replayed = books.idempotent(
        actor=actor,
        key=idempotency_key,
        operation="transfer_reverse",
        request={"transfer": transfer.id, "reason": reason},
        run=run,
    )
    return Transfer.objects.using(books.ledger_db()).get(id=result["transfer"])


def households_in_group(village: Village, group_id: int):
    return Household.objects.filter(village=village, group_id=group_id, status=Household.Status.ACTIVE)


def households_in_village(village: Village):
    return Household.objects.filter(village=village, status=Household.Status.ACTIVE)


GRANT_CODES = {Transfer.Code.VOTE, Transfer.Code.MOTTO, Transfer.Code.WINNER}


def points_grant(
    *,
    actor,
    household: Household,
    amount: int,
    code: str,
    item_name: str,
    memo: str = "",
    member: Member | None = None,
    head=None,
) -> Transfer:
    """Credit points that a rule of another layer earned (voting, a published motto, a selection win).

    The calling service has already decided that the rule applies and holds its own exactly-once guard (a
    unique row in its own transaction); this only moves the points. Must run inside the caller's transaction.
    ``head``: the village's ledger head if the caller locked it already (``books.lock_head``).
    """
    if code not in GRANT_CODES:
        raise LedgerError("points_grant is only for vote, motto and winner credits")
    if household.is_archived:
        raise LedgerError(_("%(household)s 已归档，不能记分") % {"household": household})
    village = household.village
    system, accounts = books.accounts_for(village, households=[household], system=(Account.Kind.ISSUANCE,))
    (transfer,) = books.post(
        village=village,
        postings=[
            books.Posting(
                debit=system[Account.Kind.ISSUANCE],
                credit=accounts[household.id],
                amount=amount,
                code=code,
                household=household,
                member_id=getattr(member, "id", None),
                item_name=item_name,
                memo=memo,
            )
        ],
        actor=actor,
        head=head,
    )
    return transfer
