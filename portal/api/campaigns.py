"""Selection campaigns over JSON: the campaigns, their approved nominees, ballots, and released results.

Thin callers of ``campaigns.services``: who may vote or enter a paper ballot, what a valid ballot is, when voting
is open and when results may be seen are the service's rules. This module decides only which campaigns and
households an id names for this caller (404 where existence must not leak), checks the Idempotency-Key header,
and shapes the answers.

Visibility. A campaign is public once it leaves its draft (nominating, voting, closed, published): anyone,
even without a token, may list it and read it with its approved nominees. A draft is seen only by those who
run it. Without ``?village=`` a signed-in caller lists the campaigns covering their own villages; with it, anyone
lists those covering that village (its own, its township's, its district's).

Statuses. A ballot the service refuses as malformed (no nominee, too many, the same one twice, one who is not an
approved nominee, no household named on a paper ballot) is **400** with the field in ``errors``. Already voted
and voting closed are **409**; so are results asked for before they are released (``results-hidden``): the
campaign is public, only its count is not yet. Nominees never carry a phone or ID number, nor a household id:
free text (the description, a nominee's story, a winner's citation) goes out through ``mask_numbers``, as on the
pages.
"""

import datetime

from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from campaigns.ballots import ballot_cast
from campaigns.exceptions import BadBallot
from campaigns.models import Campaign, Nomination, Winner
from campaigns.policy import can_manage, visible_campaigns
from campaigns.selectors import results_for, voting_open
from points.exceptions import HeheError
from points.models import Household, Village
from points.privacy import mask_numbers
from points.scope import NOBODY, RESIDENT, Capability, scope_for
from portal.api import problems
from portal.api.common import PUBLIC, PUBLIC_OPENAPI, refusal
from portal.api.ledger import IdempotencyKey, IdPath, _idempotency_key, _village_out, _visible_household, errors
from portal.api.schemas import BodyId, Page, QueryId, VillageOut

router = Router(tags=["campaigns"])

Phase = Campaign.Phase
MAX_NOMINEES = 100  # bounds the body; how many a ballot may name is the campaign's own rule (at most 20)


# --- shapes ------------------------------------------------------------------------------------------------------


class CampaignQuery(Page):
    village: QueryId | None = Field(None, description="campaigns covering this village; default: your own villages")


class CampaignOut(Schema):
    id: int
    title: str
    kind: str
    kind_label: str
    level: str = Field(description="village, township or district")
    village: int | None
    township: int | None
    district: int
    nominee_type: str = Field(description="person or household")
    phase: str = Field(description="draft, nominating, voting, closed, published")
    phase_label: str
    choices_per_ballot: int
    winners_count: int
    participation_points: int
    winner_points: int
    nominating_starts: datetime.datetime
    voting_starts: datetime.datetime
    voting_ends: datetime.datetime
    voting_open: bool = Field(description="a ballot can be cast now (the voting phase, between its start and end)")
    results_released_at: datetime.datetime | None
    published_at: datetime.datetime | None


class CampaignList(Schema):
    count: int
    limit: int
    offset: int
    items: list[CampaignOut]


class NomineeOut(Schema):
    id: int = Field(description="what a ballot names")
    name: str
    household_number: str
    village: VillageOut
    story: str


class CampaignDetail(CampaignOut):
    description: str
    nominees: list[NomineeOut] = Field(description="approved nominees only")


class BallotIn(Schema):
    nominees: list[BodyId] = Field(min_length=1, max_length=MAX_NOMINEES, description="approved nominee ids")
    household: BodyId | None = Field(None, description="the voting household: required on a paper ballot")


class BallotOut(Schema):
    receipt: str = Field(description="finds the ballot in the published list; the same key answers it again")


class NomineeCount(Schema):
    id: int
    name: str
    household_number: str
    village: VillageOut
    votes: int
    rank: int
    tied_at_cut: bool = Field(description="tied on votes at the last winning place")


class VillageTurnout(Schema):
    village: VillageOut
    voted: int
    eligible: int


class Turnout(Schema):
    voted: int = Field(description="households that voted")
    eligible: int = Field(description="active households of the villages covered")
    villages: list[VillageTurnout]


class WinnerOut(Schema):
    nominee: int
    name: str
    rank: int
    votes: int
    citation: str


class Results(Schema):
    campaign: int
    phase: str
    results_released_at: datetime.datetime | None
    ballots: int
    turnout: Turnout
    tie_at_cut: bool
    nominees: list[NomineeCount] = Field(description="most votes first")
    winners: list[WinnerOut] = Field(description="winners the committee confirmed; empty until it has")


# --- helpers ----------------------------------------------------------------------------------------------------


def _drafts_run_by(user) -> list[int]:
    """Drafts are not public: only those who run a campaign see it before it opens."""
    if Capability.MANAGE_POINTS not in scope_for(user).capabilities:
        return []
    drafts = visible_campaigns(user).filter(phase=Phase.DRAFT).select_related("village")
    return [c.pk for c in drafts if can_manage(user, c)]


def _visible_campaign(request, campaign_id: int) -> Campaign | None:
    campaign = Campaign.objects.select_related("village").filter(pk=campaign_id).first()
    if campaign is None or (campaign.phase == Phase.DRAFT and not can_manage(request.user, campaign)):
        return None
    return campaign


def _covering(village: Village) -> Q:
    return (
        Q(level=Campaign.Level.VILLAGE, village_id=village.id)
        | Q(level=Campaign.Level.TOWNSHIP, township_id=village.township_id)
        | Q(level=Campaign.Level.DISTRICT, district_id=village.township.district_id)
    )


def _campaign_out(campaign: Campaign) -> dict:
    return {
        "id": campaign.id,
        "title": campaign.title,
        "kind": campaign.kind,
        "kind_label": campaign.get_kind_display(),
        "level": campaign.level,
        "village": campaign.village_id,
        "township": campaign.township_id,
        "district": campaign.district_id,
        "nominee_type": campaign.nominee_type,
        "phase": campaign.phase,
        "phase_label": campaign.get_phase_display(),
        "choices_per_ballot": campaign.choices_per_ballot,
        "winners_count": campaign.winners_count,
        "participation_points": campaign.participation_points,
        "winner_points": campaign.winner_points,
        "nominating_starts": campaign.nominating_starts,
        "voting_starts": campaign.voting_starts,
        "voting_ends": campaign.voting_ends,
        "voting_open": voting_open(campaign),
        "results_released_at": campaign.results_released_at,
        "published_at": campaign.published_at,
    }


def _nominee_out(nomination: Nomination) -> dict:
    return {
        "id": nomination.id,
        "name": nomination.display_name,
        "household_number": nomination.household.number,
        "village": _village_out(nomination.village),
    }


# --- campaigns ---------------------------------------------------------------------------------------------------


@router.get(
    "/campaigns",
    auth=PUBLIC,
    openapi_extra=PUBLIC_OPENAPI,
    response={200: CampaignList, **errors(400, 401, 404)},
    summary="Campaigns",
)
def campaigns_list(request, filters: Query[CampaignQuery]):
    """Public, token optional: campaigns with their phase, the latest voting first. With ``village``: those
    covering it (the village's, its township's, its district's). Without: a signed-in caller's own; everyone
    else's every public campaign. Drafts only for those who run them."""
    campaigns = Campaign.objects.filter(~Q(phase=Phase.DRAFT) | Q(pk__in=_drafts_run_by(request.user)))
    if filters.village is not None:
        village = Village.objects.select_related("township").filter(id=filters.village).first()
        if village is None:
            return problems.not_found(_("找不到该村"), errors={"village": [_("找不到该村")]})
        campaigns = campaigns.filter(_covering(village))
    elif scope_for(request.user).role != NOBODY:
        campaigns = campaigns.filter(pk__in=visible_campaigns(request.user).values("pk"))
    campaigns = campaigns.order_by("-voting_starts", "-id")
    count = campaigns.count()
    window = campaigns[filters.offset : filters.offset + filters.limit]
    return {
        "count": count,
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_campaign_out(c) for c in window],
    }


@router.get(
    "/campaigns/{id}",
    auth=PUBLIC,
    openapi_extra=PUBLIC_OPENAPI,
    response={200: CampaignDetail, **errors(400, 401, 404)},
    summary="One campaign",
)
def campaign_get(request, id: int = IdPath):
    """The campaign and its approved nominees: name, household number, village and story (never a phone or ID
    number). A draft is 404 except to those who run it."""
    campaign = _visible_campaign(request, id)
    if campaign is None:
        return problems.not_found(_("找不到该评选"))
    nominees = (
        Nomination.objects.filter(campaign=campaign, status=Nomination.Status.APPROVED)
        .select_related("household", "member", "village")
        .order_by("id")
    )
    return {
        **_campaign_out(campaign),
        "description": mask_numbers(campaign.description),
        "nominees": [{**_nominee_out(n), "story": mask_numbers(n.story)} for n in nominees],
    }


@router.post(
    "/campaigns/{id}/ballots",
    response={201: BallotOut, **errors(400, 401, 403, 404, 409, 413)},
    summary="Cast a ballot",
)
def ballot_create(request, payload: BallotIn, id: int = IdPath, idempotency_key: str | None = IdempotencyKey):
    """One ballot per household per campaign, final. A resident votes for their own household (``household``
    may be left out); a committee member enters a paper ballot naming the household. Answers the receipt code
    that finds the ballot in the published list; the same Idempotency-Key and body answer the same receipt,
    even after voting has closed.

    400 a malformed ballot (too many nominees, one twice, one not approved); 409 already voted, voting closed,
    the key used for another ballot; 403 a household or campaign the caller may not vote or enter ballots for."""
    key, refused = _idempotency_key(idempotency_key)
    if refused:
        return refused
    campaign = _visible_campaign(request, id)
    if campaign is None:
        return problems.not_found(_("找不到该评选"))
    scope = scope_for(request.user)
    if scope.role != RESIDENT and Capability.MANAGE_POINTS not in scope.capabilities:
        return problems.forbidden(_("只有居民（为本户）和村委（录入纸质选票）可以投票"))
    household = None
    if payload.household is not None:
        household = _visible_household(request, payload.household)
        if household is None:
            message = _("找不到该户，或您无权查看")
            return problems.not_found(message, errors={"household": [message]})
    try:
        receipt = ballot_cast(
            actor=request.user,
            campaign=campaign,
            nominee_ids=list(payload.nominees),
            idempotency_key=key,
            household=household,
        )
    except BadBallot as exc:
        voter = household or Household.objects.filter(pk=scope.household_id).first()
        field = "household" if voter is None or voter.is_archived else "nominees"
        return problems.invalid({field: [exc.message]}, detail=exc.message)
    except HeheError as exc:
        return refusal(exc)
    return Status(201, {"receipt": receipt})


@router.get(
    "/campaigns/{id}/results",
    auth=PUBLIC,
    openapi_extra=PUBLIC_OPENAPI,
    response={200: Results, **errors(400, 401, 404, 409)},
    summary="A campaign's count",
)
def campaign_results(request, id: int = IdPath):
    """Anyone, once the committee has released the count: votes per approved nominee (most first, with ranks and
    ties at the last winning place), turnout per village and overall, and the confirmed winners. Before that,
    409 ``results-hidden`` (those who run the campaign see it already)."""
    campaign = _visible_campaign(request, id)
    if campaign is None:
        return problems.not_found(_("找不到该评选"))
    try:
        tally = results_for(request.user, campaign)
    except HeheError as exc:
        return refusal(exc)
    winners = Winner.objects.filter(campaign=campaign).select_related("nomination__household", "nomination__member")
    return {
        "campaign": campaign.id,
        "phase": campaign.phase,
        "results_released_at": campaign.results_released_at,
        "ballots": tally["ballots"],
        "turnout": {
            "voted": tally["voted"],
            "eligible": tally["eligible"],
            "villages": [
                {"village": _village_out(t["village"]), "voted": t["voted"], "eligible": t["eligible"]}
                for t in tally["turnout"]
            ],
        },
        "tie_at_cut": tally["tie_at_cut"],
        "nominees": [
            {
                **_nominee_out(row["nomination"]),
                "votes": row["votes"],
                "rank": row["rank"],
                "tied_at_cut": row["tied_at_cut"],
            }
            for row in tally["rows"]
        ],
        "winners": [
            {
                "nominee": w.nomination_id,
                "name": w.nomination.display_name,
                "rank": w.rank,
                "votes": w.votes,
                "citation": mask_numbers(w.citation),
            }
            for w in winners.order_by("rank", "id")
        ],
    }
