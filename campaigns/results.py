"""After voting: releasing the tally, confirming the winners (credited once, published to the honor roll), and
objections to the results."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from campaigns.policy import require_manage
from campaigns.selectors import tally
from campaigns.services import phase_move
from points import clock
from points.exceptions import OutOfScope
from points.ledger import books
from points.ledger.awards import points_grant
from points.models import Household, Transfer
from points.scope import RESIDENT, scope_for

from .exceptions import CampaignError
from .models import (
    Campaign,
    ResultObjection,
    Winner,
)

Phase = Campaign.Phase


def result_objection_deadline(campaign: Campaign) -> datetime.datetime | None:
    """When the results notice ends: ``notice_days`` after publication; None before the results are published."""
    if campaign.phase != Phase.PUBLISHED or campaign.published_at is None:
        return None
    return campaign.published_at + datetime.timedelta(days=campaign.notice_days)


def result_objections_open(campaign: Campaign) -> bool:
    """The one rule of whether the published results take objections now: up to and including the deadline's
    instant, not a microsecond after. ``result_objection_file`` refuses by it; the results page and the
    objection page show it."""
    deadline = result_objection_deadline(campaign)
    return deadline is not None and clock.now() <= deadline


@books.atomic
def results_release(*, actor, campaign: Campaign) -> Campaign:
    campaign = Campaign.objects.select_for_update(of=("self",), no_key=True).get(pk=campaign.pk)
    require_manage(actor, campaign)
    if campaign.phase != Phase.CLOSED:
        raise CampaignError(_("投票结束后才能公布计票结果"))
    if campaign.results_released_at is None:
        campaign.results_released_at = clock.now()
        campaign.save(update_fields=["results_released_at"])
    return campaign


@books.atomic
def winners_confirm(*, actor, campaign: Campaign, picks: list[dict]) -> list[Winner]:
    """Confirm the winners and publish: ``picks`` = [{"nomination": id, "citation": str, "photo_id"?: int,
    "tie_note"?: str}]. Winner points are credited once (a nomination wins at most once: a unique row)."""
    campaign = Campaign.objects.select_for_update(of=("self",), no_key=True).get(pk=campaign.pk)
    require_manage(actor, campaign)
    if campaign.phase != Phase.CLOSED or campaign.results_released_at is None:
        raise CampaignError(_("请先结束投票并公布计票结果"))
    if not picks or len(picks) > campaign.winners_count:
        raise CampaignError(_("请选择 1 到 %(max)s 位获奖者") % {"max": campaign.winners_count})
    result = tally(campaign)
    by_id = {row["nomination"].pk: row for row in result["rows"]}
    winners = []
    for pick in picks:
        row = by_id.get(pick.get("nomination"))
        if row is None:
            raise CampaignError(_("所选获奖者不在候选名单中"))
        citation = (pick.get("citation") or "").strip()
        if not citation:
            raise ValidationError({"citation": [_("请填写颁奖词")]})
        tie_note = (pick.get("tie_note") or "").strip()
        if row["tied_at_cut"] and not tie_note:
            raise CampaignError(_("%(name)s 与他人票数并列，请记录村委的决定") % {"name": row["nomination"]})
        nomination = row["nomination"]
        try:
            with transaction.atomic(using=books.ledger_db()):
                winner = Winner.objects.create(
                    campaign=campaign,
                    nomination=nomination,
                    village_id=nomination.village_id,
                    rank=row["rank"],
                    votes=row["votes"],
                    citation=citation[:1000],
                    photo_id=pick.get("photo_id"),
                    tie_note=tie_note[:300],
                    confirmed_by=actor,
                )
        except IntegrityError as exc:
            raise CampaignError(_("%(name)s 已确认为获奖者") % {"name": nomination}) from exc
        if campaign.winner_points:
            winner.credit = points_grant(
                actor=actor,
                household=nomination.household,
                amount=campaign.winner_points,
                code=Transfer.Code.WINNER,
                item_name=books.stored_text(gettext_noop("荣获「%(title)s」"), title=campaign.title[:60]),
                member=nomination.member,
            )
            winner.save(update_fields=["credit"])
        winners.append(winner)
    campaign.published_at = clock.now()
    phase_move(campaign, Phase.PUBLISHED, actor, _("确认获奖并公布"))
    campaign.save(update_fields=["published_at"])
    return winners


@books.atomic
def result_objection_file(*, actor, campaign: Campaign, text: str) -> ResultObjection:
    scope = scope_for(actor)
    if scope.role != RESIDENT:
        raise OutOfScope(_("只有居民可以对评选结果提出异议"))
    household = Household.objects.select_related("village").get(pk=scope.household_id)
    if not campaign.covers_village(household.village):
        raise OutOfScope(_("该户不在本次评选的范围内"))
    if campaign.phase != Phase.PUBLISHED:
        raise CampaignError(_("结果公布后才能提出异议"))
    if not result_objections_open(campaign):
        raise CampaignError(_("结果公示期已过"))
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": [_("请写明异议的理由")]})
    return ResultObjection.objects.create(
        campaign=campaign, village_id=household.village_id, household=household, filed_by=actor, text=text[:1000]
    )


@books.atomic
def result_objection_answer(*, actor, objection: ResultObjection, upheld: bool, answer: str) -> ResultObjection:
    objection = (
        ResultObjection.objects.select_for_update(of=("self",), no_key=True)
        .select_related("campaign")
        .get(pk=objection.pk)
    )
    require_manage(actor, objection.campaign)
    if objection.status != ResultObjection.Status.OPEN:
        raise CampaignError(_("该异议已经答复"))
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError({"answer": [_("请填写答复")]})
    objection.status = ResultObjection.Status.UPHELD if upheld else ResultObjection.Status.DISMISSED
    objection.answer = answer[:500]
    objection.answered_by = actor
    objection.answered_at = clock.now()
    objection.save(update_fields=["status", "answer", "answered_by", "answered_at"])
    return objection
