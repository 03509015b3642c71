"""积分公示 and 异议: publish a village's month, take objections during the notice period, answer, close."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from points import clock
from points.exceptions import NoticeError, OutOfScope
from points.ledger import books
from points.ledger.awards import transfer_reverse
from points.models import LedgerHead, MonthlyNotice, Objection, Transfer, Village
from points.scope import RESIDENT, Capability, scope_for

NOTICE_CODES = (Transfer.Code.AWARD, Transfer.Code.DEDUCTION, Transfer.Code.REVERSAL)


def notice_period_over(notice: MonthlyNotice) -> bool:
    """Whether the notice period has ended: the whole deadline day (Asia/Shanghai) is still inside it, its last
    second included; the next day's first second is outside."""
    return clock.localdate() > notice.objection_deadline


def notice_objections_open(notice: MonthlyNotice | None) -> bool:
    """The one rule of whether a month's notice takes objections now: published, not closed, period not over.
    ``objection_file`` refuses by it; the public notice, the resident's objection page and the admin show it."""
    return notice is not None and not notice.is_closed and not notice_period_over(notice)


def _require(actor, village_id: int) -> None:
    if not scope_for(actor).can(Capability.MANAGE_POINTS, village_id):
        raise OutOfScope()


@books.atomic
def notice_publish(*, actor, village: Village, period: datetime.date) -> MonthlyNotice:
    """Publish ``period`` (a month that has ended, or the current one) for ``village.notice_days`` days."""
    _require(actor, village.id)
    period = period.replace(day=1)
    if period > books.month_of():
        raise NoticeError(_("不能公示未来的月份"))
    today = clock.localdate()
    head, _created = LedgerHead.objects.get_or_create(village=village)
    try:
        with transaction.atomic(using=books.ledger_db()):
            return MonthlyNotice.objects.create(
                village=village,
                period=period,
                published_at=clock.now(),
                published_by=actor,
                objection_deadline=today + datetime.timedelta(days=village.notice_days),
                head_hash=head.hash,
            )
    except IntegrityError as exc:
        raise NoticeError(_("%(month)s 已经公示过") % {"month": f"{period:%Y-%m}"}) from exc


@books.atomic
def objection_file(*, actor, transfer: Transfer, text: str) -> Objection:
    """A resident of the village objects to a transfer of a published, open month, before the deadline."""
    scope = scope_for(actor)
    if scope.role != RESIDENT or not scope.covers_village(transfer.village_id):
        raise OutOfScope(_("只有本村居民可以对公示提出异议"))
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": [_("请写明异议的理由")]})
    if len(text) > 1000:
        raise ValidationError({"text": [_("异议最多 1000 字")]})
    if transfer.code not in NOTICE_CODES:
        raise NoticeError(_("只能对公示中的加分、扣分和冲正提出异议"))
    notice = MonthlyNotice.objects.filter(village_id=transfer.village_id, period=transfer.period).first()
    if notice is None:
        raise NoticeError(_("该月份尚未公示"))
    if not notice_objections_open(notice):
        raise NoticeError(_("公示期已过，不能再提出异议"))
    if Objection.objects.filter(
        transfer=transfer, household_id=scope.household_id, status=Objection.Status.OPEN
    ).exists():
        raise NoticeError(_("您对这条记录的异议还在等待答复"))
    return Objection.objects.create(
        village_id=transfer.village_id,
        notice=notice,
        transfer=transfer,
        household_id=scope.household_id,
        filed_by=actor,
        text=text,
    )


@books.atomic
def objection_answer(*, actor, objection: Objection, upheld: bool, answer: str) -> Objection:
    """Answer publicly. Upheld: the transfer is reversed (in the open month). Dismissed: a reason is required."""
    objection = (
        Objection.objects.select_for_update(of=("self",), no_key=True).select_related("transfer").get(pk=objection.pk)
    )
    _require(actor, objection.village_id)
    if objection.status != Objection.Status.OPEN:
        raise NoticeError(_("该异议已经答复"))
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError({"answer": [_("请填写答复")]})
    if upheld:
        objection.reversal = transfer_reverse(
            actor=actor,
            transfer=objection.transfer,
            reason=books.stored_text(gettext_noop("异议成立：%(answer)s"), answer=answer[:150]),
            idempotency_key=f"objection-{objection.pk}",
        )
        objection.status = Objection.Status.UPHELD
    else:
        objection.status = Objection.Status.DISMISSED
    objection.answer = answer[:500]
    objection.answered_by = actor
    objection.answered_at = clock.now()
    objection.save(update_fields=["status", "answer", "answered_by", "answered_at", "reversal"])
    return objection


@books.atomic
def month_close(*, actor, village: Village, period: datetime.date) -> MonthlyNotice:
    """Close a published month after its notice period, once every objection is answered."""
    _require(actor, village.id)
    notice = (
        MonthlyNotice.objects.select_for_update(of=("self",), no_key=True)
        .filter(village=village, period=period.replace(day=1))
        .first()
    )
    if notice is None:
        raise NoticeError(_("该月份尚未公示，不能结账"))
    if notice.is_closed:
        raise NoticeError(_("该月份已经结账"))
    if not notice_period_over(notice):
        raise NoticeError(_("公示期到 %(date)s 才结束，之后才能结账") % {"date": notice.objection_deadline.isoformat()})
    open_count = notice.objections.filter(status=Objection.Status.OPEN).count()
    if open_count:
        raise NoticeError(_("还有 %(count)s 条异议未答复，不能结账") % {"count": open_count})
    notice.closed_at = clock.now()
    notice.closed_by = actor
    notice.save(update_fields=["closed_at", "closed_by"])
    return notice
