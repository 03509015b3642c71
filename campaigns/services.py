"""Campaign services: create, move phases, nominate, review, cast ballots, release results, confirm winners.

Campaigns depend on points (the register, the ledger, the scope) and never the other way round. Ballots are
secret: see campaigns/models.py. Casting credits the household's participation points in the same
transaction, exactly once: the unique ``BallotRecord`` is the guard.
"""

import datetime
import hashlib
import hmac
import json
import uuid

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from points import clock, fastsql
from points.awards import points_grant
from points.exceptions import IdempotencyConflict, MonthClosed, OutOfScope
from points.images import validate_photo
from points.ledger import lock_head, stored_text
from points.models import Household, IdempotencyKey, Member, PeriodSummary, StaffRole, Transfer
from points.scope import RESIDENT, SUPERUSER, Capability, scope_for
from points.selectors import household_stars

from .exceptions import AlreadyVoted, BadBallot, CampaignError, NotEligible, ResultsHidden, VotingClosed
from .models import (
    Ballot,
    BallotChoice,
    BallotRecord,
    Campaign,
    Nomination,
    NominationPhoto,
    PhaseChange,
    ResultObjection,
    Winner,
    new_receipt,
)

Phase = Campaign.Phase
ORDER = [Phase.DRAFT, Phase.NOMINATING, Phase.VOTING, Phase.CLOSED, Phase.PUBLISHED]
MAX_PHOTOS = 3
MAX_CHOICES_PER_BALLOT = 20  # Campaign's check constraint


# --- who may run a campaign -----------------------------------------------------------------------------------


def can_manage(actor, campaign: Campaign) -> bool:
    """Village campaigns: the village's committee (and those above). Township: township staff of it (and the
    district). District: the district admin."""
    scope = scope_for(actor)
    if Capability.MANAGE_POINTS not in scope.capabilities:
        return False
    if scope.role == SUPERUSER:
        return True
    if campaign.level == Campaign.Level.VILLAGE:
        return scope.covers_village(campaign.village_id)
    if campaign.level == Campaign.Level.TOWNSHIP:
        return scope.role in (StaffRole.Role.TOWNSHIP_STAFF, StaffRole.Role.DISTRICT_ADMIN) and all(
            scope.covers_village(v) for v in campaign.villages().values_list("id", flat=True)
        )
    return scope.role == StaffRole.Role.DISTRICT_ADMIN and all(
        scope.covers_village(v) for v in campaign.villages().values_list("id", flat=True)
    )


def visible_campaigns(actor):
    """Campaigns covering any of the user's villages (all of them for a superuser)."""
    scope = scope_for(actor)
    if scope.village_ids is None:
        return Campaign.objects.all()
    villages = scope.villages()
    return Campaign.objects.filter(
        Q(level=Campaign.Level.VILLAGE, village__in=villages)
        | Q(level=Campaign.Level.TOWNSHIP, township_id__in=villages.values("township_id"))
        | Q(level=Campaign.Level.DISTRICT, district_id__in=villages.values("township__district_id"))
    ).distinct()


def _require_manage(actor, campaign: Campaign) -> None:
    if not can_manage(actor, campaign):
        raise OutOfScope(_("您无权管理这项评选"))


# --- phases -----------------------------------------------------------------------------------------------------


def _move(campaign: Campaign, to: str, actor, note: str = "") -> None:
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
    _require_manage(actor, campaign)
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
    _require_manage(actor, campaign)
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
    _move(campaign, to, actor, note)
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
                _move(campaign, target, None, _("按日期自动进入"))
                moves += 1
    return moves


# --- nominations --------------------------------------------------------------------------------------------------


def eligibility_problem(campaign: Campaign, household: Household) -> str | None:
    """The first rule the household fails, in words, or None. Checked against the ledger."""
    if household.is_archived:
        return _("该户已归档")
    if not campaign.covers_village(household.village):
        return _("该户不在本次评选的范围内")
    year = clock.localdate().year
    if campaign.rule_no_deduction:
        deducted = (
            PeriodSummary.objects.filter(household=household, period__year=year).aggregate(total=Sum("deducted"))[
                "total"
            ]
            or 0
        )
        if deducted:
            return _("今年有扣分记录（%(points)s 分），不符合「今年无扣分」的条件") % {"points": deducted}
    if campaign.rule_min_stars:
        stars = household_stars(household, year)
        if stars < campaign.rule_min_stars:
            return _("今年为 %(stars)s 星，不符合「至少 %(min)s 星」的条件") % {
                "stars": stars,
                "min": campaign.rule_min_stars,
            }
    return None


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
    for photo in photos[:MAX_PHOTOS]:
        try:
            validate_photo(photo)
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
    for photo in photos:
        NominationPhoto.objects.create(nomination=nomination, village_id=household.village_id, image=photo)
    return nomination


@transaction.atomic
def nomination_review(*, actor, nomination: Nomination, approve: bool, reason: str = "") -> Nomination:
    nomination = (
        Nomination.objects.select_for_update(of=("self",), no_key=True)
        .select_related("campaign", "household")
        .get(pk=nomination.pk)
    )
    _require_manage(actor, nomination.campaign)
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


# --- ballots -----------------------------------------------------------------------------------------------------


def _keyed(key: str, payload) -> str:
    """HMAC under the client's own key: the stored idempotency record reveals nothing without that key."""
    message = json.dumps(payload, sort_keys=True, default=str).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _seal(key: str, receipt: str) -> str:
    pad = hmac.new(key.encode(), b"receipt", hashlib.sha256).digest()
    return bytes(a ^ b for a, b in zip(receipt.encode(), pad, strict=False)).hex()


def _unseal(key: str, sealed: str) -> str:
    pad = hmac.new(key.encode(), b"receipt", hashlib.sha256).digest()
    return bytes(a ^ b for a, b in zip(bytes.fromhex(sealed), pad, strict=False)).decode()


def _check_ballot(campaign: Campaign, household: Household, ids: list[int], approved: int) -> None:
    """Refuse a ballot that may not be cast, with the reason. ``approved``: how many of ``ids`` are approved
    nominees of the campaign (read with the campaign, see ``_ballot_cast``)."""
    now = clock.now()
    if campaign.phase != Phase.VOTING or not (campaign.voting_starts <= now < campaign.voting_ends):
        raise VotingClosed()
    if not campaign.covers_village(household.village):
        raise OutOfScope(_("该户不在本次评选的范围内"))
    if household.is_archived:
        raise BadBallot(_("该户已归档"))
    if not ids:
        raise BadBallot(_("请至少选择一位候选"))
    if len(set(ids)) != len(ids):
        raise BadBallot(_("同一位候选不能重复选择"))
    if len(ids) > campaign.choices_per_ballot:
        raise BadBallot(_("每票最多选 %(max)s 位") % {"max": campaign.choices_per_ballot})
    if approved != len(ids):  # ids are distinct here
        raise BadBallot(_("所选的候选不在本次评选的候选名单中"))


class _AlreadyCast(Exception):
    """Raised out of ``_ballot_cast``'s transaction (rolling back what it wrote) when the household's ballot
    record already exists; ``ballot_cast`` then answers with ``replay``."""

    def __init__(self, replay):
        super().__init__("already cast")
        self.replay = replay


def ballot_cast(
    *, actor, campaign: Campaign, nominee_ids, idempotency_key: str, household: Household | None = None
) -> str:
    """Cast a household's ballot; returns its receipt code. Final: one ballot per household per campaign.

    A resident votes for their own household (phone); a committee member enters a paper ballot naming the
    household. The participation credit lands in the same transaction. The idempotency record stores only
    an HMAC of the request and the receipt sealed under the caller's own key, so it does not link the household
    to its choices. A household that has voted gets its receipt back (same key and request) or AlreadyVoted.
    """
    try:
        return _ballot_cast(
            actor=actor,
            campaign=campaign,
            nominee_ids=nominee_ids,
            idempotency_key=idempotency_key,
            household=household,
        )
    except _AlreadyCast as cast:
        return cast.replay(AlreadyVoted())


@transaction.atomic
@fastsql.shared_cursor_for_call
def _ballot_cast(*, actor, campaign: Campaign, nominee_ids, idempotency_key: str, household: Household | None):
    key = (idempotency_key or "").strip()
    if not key or len(key) > 100:
        raise BadBallot(_("缺少请求编号（Idempotency-Key），或长度超过 100"))
    scope = scope_for(actor)
    if not isinstance(nominee_ids, list | tuple):
        raise BadBallot(_("候选须为列表"))
    ids = []
    for value in nominee_ids:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BadBallot(_("候选编号无效：%(value)s") % {"value": value})
        ids.append(value)
    # Fresh rows (the phase may have moved since the caller read them), read without the ORM's compiling: this
    # is the hot path of a village meeting's paper ballots and of every phone vote (see bench/campaigns.py). The
    # campaign comes with the number of the chosen nominees it has approved: one statement, not two. (A longer list
    # than any ballot allows is refused as too many before the count matters: it is not sent whole.)
    counted = list(dict.fromkeys(ids))[:MAX_CHOICES_PER_BALLOT]
    campaign, approved = fastsql.get_and_scalar(
        Campaign,
        campaign.pk,
        f"SELECT COUNT(*) FROM {Nomination._meta.db_table} n WHERE n.campaign_id = t.id AND n.status = %s "
        f"AND n.id IN ({', '.join(['%s'] * len(counted)) or 'NULL'})",
        [Nomination.Status.APPROVED, *counted],
    )
    if scope.role == RESIDENT:
        if household is not None and household.pk != scope.household_id:
            raise OutOfScope(_("居民只能为本户投票"))
        household = fastsql.get_with(Household, scope.household_id, "village")
        channel = BallotRecord.Channel.PHONE
    else:
        if household is None:
            raise BadBallot(_("录入纸质选票时请选择投票的户"))
        household = fastsql.get_with(Household, household.pk, "village")
        if not (scope.can(Capability.MANAGE_POINTS, household.village_id) and can_manage(actor, campaign)):
            raise OutOfScope(_("您不能为该户录入选票"))
        channel = BallotRecord.Channel.PAPER

    request = {"campaign": campaign.pk, "household": household.pk, "nominees": sorted(ids)}
    lookup = "ballot:" + hashlib.sha256(key.encode()).hexdigest()
    digest = _keyed(key, request)

    def replay(refusal: Exception) -> str:
        """The ballot can't be cast: a retry of one that was (same key, same request) gets its receipt, even if
        voting closed since; a different request under that key is refused; else the refusal stands. Looked up
        only here, off the happy path."""
        existing = IdempotencyKey.objects.filter(actor=actor, key=lookup).first()
        if existing is None:
            raise refusal
        if existing.request_hash != digest:
            raise IdempotencyConflict()
        return _unseal(key, existing.result["sealed"])

    try:
        _check_ballot(campaign, household, ids, approved)
    except (CampaignError, OutOfScope) as refusal:
        return replay(refusal)
    now = clock.now()

    head = lock_head(household.village)  # the participation credit's ledger lock, taken before the ballot rows
    credit_id = None
    if campaign.participation_points:
        try:
            credit_id = points_grant(
                actor=actor,
                household=household,
                amount=campaign.participation_points,
                code=Transfer.Code.VOTE,
                item_name=stored_text(gettext_noop("参与「%(title)s」投票"), title=campaign.title[:60]),
                head=head,
            ).pk
        except MonthClosed:
            # The credit can't land (the village closed this month early). A household that has voted still gets
            # its receipt (or AlreadyVoted), as it would with the month open; a new ballot is refused.
            if BallotRecord.objects.filter(campaign_id=campaign.pk, household_id=household.pk).exists():
                raise _AlreadyCast(replay) from None
            raise
    # The unique (campaign, household) is the guard: a second ballot inserts nothing (no savepoint needed; on
    # PostgreSQL a concurrent one waits for the first to commit), and _AlreadyCast rolls back the credit above.
    # Plain multi-row INSERTs of the rows' values, no model instances: see points/fastsql.py.
    inserted = fastsql.insert_rows(
        BallotRecord,
        [
            {
                "campaign_id": campaign.pk,
                "village_id": household.village_id,
                "household_id": household.pk,
                "channel": channel,
                "entered_by_id": actor.pk,
                "cast_at": now,
                "credit_id": credit_id,
            }
        ],
        on_conflict_do_nothing=("campaign_id", "household_id"),
    )
    if inserted is None:
        # This household has voted: a retry (or a concurrent twin that committed first) gets its receipt.
        raise _AlreadyCast(replay)
    # The ballot, its choices and the idempotency row: one round trip on PostgreSQL (fastsql.insert_chain).
    ballot_id, receipt = uuid.uuid4(), new_receipt()
    stored = fastsql.insert_chain(
        [
            (Ballot, [{"id": ballot_id, "campaign_id": campaign.pk, "receipt": receipt}]),
            (BallotChoice, [{"id": uuid.uuid4(), "ballot_id": ballot_id, "nomination_id": pk} for pk in sorted(ids)]),
        ],
        IdempotencyKey,
        [
            {
                "actor_id": actor.pk,
                "key": lookup,
                "operation": "ballot_cast",
                "request_hash": digest,
                "result": {"sealed": _seal(key, receipt)},
            }
        ],
        on_conflict_do_nothing=("actor_id", "key"),
    )
    if stored is None:
        raise IdempotencyConflict()  # the key was used for another household's ballot: this one rolls back
    return receipt


# --- results ------------------------------------------------------------------------------------------------------


def tally(campaign: Campaign) -> dict:
    """Counts per approved nominee, turnout per village and overall, and ties around the winning line."""
    counts = dict(
        BallotChoice.objects.filter(ballot__campaign=campaign)
        .values("nomination_id")
        .annotate(n=Count("id"))
        .values_list("nomination_id", "n")
    )
    nominees = list(
        Nomination.objects.filter(campaign=campaign, status=Nomination.Status.APPROVED).select_related(
            "household", "member", "village"
        )
    )
    rows = sorted(
        ({"nomination": n, "votes": counts.get(n.pk, 0)} for n in nominees),
        key=lambda row: (-row["votes"], row["nomination"].pk),
    )
    rank = 0
    for index, row in enumerate(rows):
        if index == 0 or row["votes"] != rows[index - 1]["votes"]:
            rank = index + 1
        row["rank"] = rank
    cut = campaign.winners_count
    boundary_votes = rows[cut - 1]["votes"] if len(rows) >= cut else None
    tie_at_cut = boundary_votes is not None and len(rows) > cut and rows[cut]["votes"] == boundary_votes
    for row in rows:
        row["tied_at_cut"] = tie_at_cut and row["votes"] == boundary_votes
    voted = dict(
        BallotRecord.objects.filter(campaign=campaign)
        .values("village_id")
        .annotate(n=Count("id"))
        .values_list("village_id", "n")
    )
    villages = list(campaign.villages().order_by("code"))
    eligible = dict(
        Household.objects.filter(village__in=villages, status=Household.Status.ACTIVE)
        .values("village_id")
        .annotate(n=Count("id"))
        .values_list("village_id", "n")
    )
    turnout = [
        {"village": village, "voted": voted.get(village.pk, 0), "eligible": eligible.get(village.pk, 0)}
        for village in villages
    ]
    total_voted = sum(t["voted"] for t in turnout)
    total_eligible = sum(t["eligible"] for t in turnout)
    return {
        "rows": rows,
        "tie_at_cut": tie_at_cut,
        "turnout": turnout,
        "voted": total_voted,
        "eligible": total_eligible,
        "ballots": Ballot.objects.filter(campaign=campaign).count(),
    }


def results_for(actor, campaign: Campaign) -> dict:
    """The tally, for anyone once released, before that only for those who run the campaign."""
    if campaign.results_released_at is None and not can_manage(actor, campaign):
        raise ResultsHidden()
    return tally(campaign)


@transaction.atomic
def results_release(*, actor, campaign: Campaign) -> Campaign:
    campaign = Campaign.objects.select_for_update(of=("self",), no_key=True).get(pk=campaign.pk)
    _require_manage(actor, campaign)
    if campaign.phase != Phase.CLOSED:
        raise CampaignError(_("投票结束后才能公布计票结果"))
    if campaign.results_released_at is None:
        campaign.results_released_at = clock.now()
        campaign.save(update_fields=["results_released_at"])
    return campaign


@transaction.atomic
def winners_confirm(*, actor, campaign: Campaign, picks: list[dict]) -> list[Winner]:
    """Confirm the winners and publish: ``picks`` = [{"nomination": id, "citation": str, "photo_id"?: int,
    "tie_note"?: str}]. Winner points are credited once (a nomination wins at most once: a unique row)."""
    campaign = Campaign.objects.select_for_update(of=("self",), no_key=True).get(pk=campaign.pk)
    _require_manage(actor, campaign)
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
            with transaction.atomic():
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
                item_name=stored_text(gettext_noop("荣获「%(title)s」"), title=campaign.title[:60]),
                member=nomination.member,
            )
            winner.save(update_fields=["credit"])
        winners.append(winner)
    campaign.published_at = clock.now()
    _move(campaign, Phase.PUBLISHED, actor, _("确认获奖并公布"))
    campaign.save(update_fields=["published_at"])
    return winners


def published_winners(*, villages=None, year: int | None = None):
    """What the honor roll shows: winners of published campaigns (the portal reads this)."""
    winners = Winner.objects.filter(campaign__phase=Phase.PUBLISHED).select_related(
        "campaign", "nomination", "nomination__household", "nomination__member", "village", "photo"
    )
    if villages is not None:
        winners = winners.filter(village__in=villages)
    if year is not None:
        winners = winners.filter(campaign__published_at__year=year)
    return winners.order_by("-campaign__published_at", "campaign_id", "rank")


def receipt_lookup(campaign: Campaign, receipt: str):
    """Anyone can find a ballot by its receipt in the published list, once results are released."""
    if campaign.results_released_at is None:
        raise ResultsHidden()
    ballot = Ballot.objects.filter(campaign=campaign, receipt=(receipt or "").strip().upper()).first()
    if ballot is None:
        return None
    return [
        choice.nomination for choice in ballot.choices.select_related("nomination__household", "nomination__member")
    ]


@transaction.atomic
def result_objection_file(*, actor, campaign: Campaign, text: str) -> ResultObjection:
    scope = scope_for(actor)
    if scope.role != RESIDENT:
        raise OutOfScope(_("只有居民可以对评选结果提出异议"))
    household = Household.objects.select_related("village").get(pk=scope.household_id)
    if not campaign.covers_village(household.village):
        raise OutOfScope(_("该户不在本次评选的范围内"))
    if campaign.phase != Phase.PUBLISHED:
        raise CampaignError(_("结果公布后才能提出异议"))
    if clock.now() > campaign.published_at + datetime.timedelta(days=campaign.notice_days):
        raise CampaignError(_("结果公示期已过"))
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": [_("请写明异议的理由")]})
    return ResultObjection.objects.create(
        campaign=campaign, village_id=household.village_id, household=household, filed_by=actor, text=text[:1000]
    )


@transaction.atomic
def result_objection_answer(*, actor, objection: ResultObjection, upheld: bool, answer: str) -> ResultObjection:
    objection = (
        ResultObjection.objects.select_for_update(of=("self",), no_key=True)
        .select_related("campaign")
        .get(pk=objection.pk)
    )
    _require_manage(actor, objection.campaign)
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
