"""Campaign services: create and edit, move phases (by date and by committee action), nominate and review.

Campaigns depend on points (the register, the ledger, the scope) and never the other way round. Ballots are in
``campaigns.ballots``, results and winners in ``campaigns.results``, who may run a campaign in ``campaigns.policy``.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from campaigns.policy import can_manage, eligibility_problem, require_manage
from points import clock
from points.exceptions import OutOfScope
from points.images import photo_clean
from points.models import Household, Member
from points.scope import RESIDENT, scope_for

from .exceptions import CampaignError, NotEligible
from .models import (
    Campaign,
    Nomination,
    NominationPhoto,
    PhaseChange,
)

Phase = Campaign.Phase


ORDER = [Phase.DRAFT, Phase.NOMINATING, Phase.VOTING, Phase.CLOSED, Phase.PUBLISHED]


MAX_PHOTOS = 3


def phase_move(campaign: Campaign, to: str, actor, note: str = "") -> None:
    PhaseChange.objects.create(campaign=campaign, from_phase=campaign.phase, to_phase=to, actor=actor, note=note)
    campaign.phase = to
    campaign.save(update_fields=["phase"])


@transaction.atomic
def campaign_create(*, actor, campaign: Campaign) -> Campaign:
    campaign.created_by = actor
    campaign.phase = Phase.DRAFT
    if campaign.village_id:
        campaign.township_id = campaign.village.township_id
    if campaign.township_id:
        campaign.district_id = campaign.township.district_id
    require_manage(actor, campaign)
    campaign.full_clean()
    campaign.save()
    PhaseChange.objects.create(
        campaign=campaign, from_phase=Phase.DRAFT, to_phase=Phase.DRAFT, actor=actor, note=_("创建")
    )
    return campaign


EDITABLE = [
    "title",
    "kind",
    "description",
    "nominating_starts",
    "voting_starts",
    "voting_ends",
    "notice_days",
    "rule_no_deduction",
    "rule_min_stars",
    "choices_per_ballot",
    "winners_count",
    "participation_points",
    "winner_points",
]


@transaction.atomic
def campaign_update(*, actor, campaign: Campaign) -> Campaign:
    """Change a draft's title, dates, rules and points. Its scope and nominee type are fixed at creation."""
    stored = Campaign.objects.select_for_update(of=("self",), no_key=True).filter(pk=campaign.pk).first()
    if stored is None or not can_manage(actor, stored):
        raise OutOfScope(_("您无权管理这项评选"))
    if stored.phase != Phase.DRAFT:
        raise CampaignError(_("评选已开始，设置不能再修改（只有草稿阶段可以修改）"))
    for name in EDITABLE:
        setattr(stored, name, getattr(campaign, name))
    stored.full_clean()
    stored.save(update_fields=EDITABLE)
    return stored


@transaction.atomic
def campaign_advance(*, actor, campaign: Campaign, to: str, note: str = "") -> Campaign:
    """Move one phase forward by committee action (draft → nominating → voting → closed → published)."""
    campaign = Campaign.objects.select_for_update(of=("self",), no_key=True).get(pk=campaign.pk)
    require_manage(actor, campaign)
    if to not in ORDER or ORDER.index(to) != ORDER.index(campaign.phase) + 1:
        raise CampaignError(
            _("不能从「%(from)s」直接进入「%(to)s」")
            % {"from": campaign.get_phase_display(), "to": Campaign.Phase(to).label if to in ORDER else to}
        )
    if to == Phase.VOTING and not campaign.nominations.filter(status=Nomination.Status.APPROVED).exists():
        raise CampaignError(_("还没有审核通过的候选，不能开始投票"))
    if to == Phase.PUBLISHED:
        raise CampaignError(_("请通过「确认获奖」公布结果"))
    now = clock.now()
    if to == Phase.VOTING and now < campaign.voting_starts:
        # Opened early by the committee: the voting window starts now, or every ballot would be refused.
        campaign.voting_starts = now
        campaign.save(update_fields=["voting_starts"])
    if to == Phase.CLOSED and now < campaign.voting_ends:
        campaign.voting_ends = now
        campaign.save(update_fields=["voting_ends"])
    phase_move(campaign, to, actor, note)
    return campaign


def campaigns_advance_by_date(now=None) -> int:
    """Move campaigns whose dates have come (nominating → voting → closed); safe to run often. Returns moves."""
    now = now or clock.now()
    moves = 0
    rules = [
        (Phase.DRAFT, Phase.NOMINATING, "nominating_starts"),
        (Phase.NOMINATING, Phase.VOTING, "voting_starts"),
        (Phase.VOTING, Phase.CLOSED, "voting_ends"),
    ]
    for source, target, field in rules:
        for pk in Campaign.objects.filter(phase=source, **{f"{field}__lte": now}).values_list("pk", flat=True):
            with transaction.atomic():
                campaign = Campaign.objects.select_for_update(of=("self",), no_key=True).get(pk=pk)
                if campaign.phase != source:
                    continue
                if source == Phase.DRAFT:
                    continue  # a draft starts only by committee action: dates alone never publish a draft
                if (
                    target == Phase.VOTING
                    and not campaign.nominations.filter(status=Nomination.Status.APPROVED).exists()
                ):
                    continue
                phase_move(campaign, target, None, _("按日期自动进入"))
                moves += 1
    return moves


@transaction.atomic
def nomination_submit(
    *, actor, campaign: Campaign, household: Household, story: str, member: Member | None = None, photos=()
) -> Nomination:
    """The committee nominates (approved at once) or a resident of the scope nominates (pending review)."""
    campaign = Campaign.objects.select_for_update(of=("self",), no_key=True).get(pk=campaign.pk)
    scope = scope_for(actor)
    managing = can_manage(actor, campaign)
    resident_ok = scope.role == RESIDENT and any(
        campaign.villages().filter(pk=v).exists() for v in scope.village_ids or []
    )
    if not managing and not resident_ok:
        raise OutOfScope(_("您不能在这项评选中提名"))
    if campaign.phase != Phase.NOMINATING:
        raise CampaignError(_("现在不是提名阶段"))
    errors = {}
    story = (story or "").strip()
    if not story:
        errors["story"] = [_("请写下候选的事迹")]
    elif len(story) > 3000:
        errors["story"] = [_("事迹最多 3000 字")]
    if campaign.nominee_type == Campaign.NomineeType.PERSON:
        if member is None:
            errors["member"] = [_("本次评选的候选是个人，请选择家庭成员")]
        elif member.household_id != household.id:
            errors["member"] = [_("所选成员不属于该户")]
    elif member is not None:
        errors["member"] = [_("本次评选的候选是家庭，不需要选择成员")]
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = [_("最多上传 %(max)s 张照片") % {"max": MAX_PHOTOS}]
    cleaned = []
    for photo in photos[:MAX_PHOTOS]:
        try:
            cleaned.append(photo_clean(photo))  # re-encoded from its pixels, renamed: nothing of the upload is kept
        except ValidationError as exc:
            errors.setdefault("photos", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    problem = eligibility_problem(campaign, household)
    if problem:
        raise NotEligible(problem)
    try:
        with transaction.atomic():
            nomination = Nomination.objects.create(
                campaign=campaign,
                village_id=household.village_id,
                household=household,
                member=member if campaign.nominee_type == Campaign.NomineeType.PERSON else None,
                story=story,
                nominated_by=actor,
                status=Nomination.Status.APPROVED if managing else Nomination.Status.PENDING,
                reviewed_by=actor if managing else None,
                reviewed_at=clock.now() if managing else None,
            )
    except IntegrityError as exc:
        raise CampaignError(_("已经被提名过了")) from exc
    for photo in cleaned:
        NominationPhoto.objects.create(nomination=nomination, village_id=household.village_id, image=photo)
    return nomination


@transaction.atomic
def nomination_review(*, actor, nomination: Nomination, approve: bool, reason: str = "") -> Nomination:
    nomination = (
        Nomination.objects.select_for_update(of=("self",), no_key=True)
        .select_related("campaign", "household")
        .get(pk=nomination.pk)
    )
    require_manage(actor, nomination.campaign)
    if nomination.status != Nomination.Status.PENDING:
        raise CampaignError(_("该提名已审核"))
    if nomination.campaign.phase not in (Phase.NOMINATING, Phase.DRAFT):
        raise CampaignError(_("提名阶段已结束"))
    if approve:
        problem = eligibility_problem(nomination.campaign, nomination.household)
        if problem:
            raise NotEligible(problem)
        nomination.status = Nomination.Status.APPROVED
    else:
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError({"reason": [_("请填写未通过的原因")]})
        nomination.status = Nomination.Status.REJECTED
        nomination.reject_reason = reason[:200]
    nomination.reviewed_by = actor
    nomination.reviewed_at = clock.now()
    nomination.save(update_fields=["status", "reject_reason", "reviewed_by", "reviewed_at"])
    return nomination
