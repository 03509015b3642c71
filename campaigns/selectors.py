"""Reads of campaigns for pages and the API. Views call these; they never filter campaign models themselves."""

from django.db.models import Count

from campaigns.policy import can_manage, visible_campaigns
from points import clock
from points.models import Household

from .exceptions import ResultsHidden
from .models import (
    Ballot,
    BallotChoice,
    BallotRecord,
    Campaign,
    Nomination,
    Winner,
)

Phase = Campaign.Phase


def visible_campaign(user, campaign_id: int) -> Campaign | None:
    """A non-draft campaign the user may see, or None (callers answer 404)."""
    return (
        visible_campaigns(user)
        .exclude(phase=Campaign.Phase.DRAFT)
        .select_related("village", "township")
        .filter(pk=campaign_id)
        .first()
    )


def household_voted(campaign: Campaign, household: Household) -> bool:
    """That the household voted; nothing about what it chose (no table says)."""
    return BallotRecord.objects.filter(campaign=campaign, household=household).exists()


def approved_nominees(campaign: Campaign) -> list[Nomination]:
    return list(
        Nomination.objects.filter(campaign=campaign, status=Nomination.Status.APPROVED)
        .select_related("household", "member", "village")
        .prefetch_related("photos")
        .order_by("id")
    )


def voting_open(campaign: Campaign) -> bool:
    """The one rule of "voting is open": the voting phase, from ``voting_starts`` (the first instant in) until
    ``voting_ends`` (the first instant out). ``ballot_cast`` refuses by it; the resident's pages, the paper-ballot
    screen and the API say by it whether a ballot can be cast."""
    return campaign.phase == Campaign.Phase.VOTING and campaign.voting_starts <= clock.now() < campaign.voting_ends


def counts_visible(campaign: Campaign) -> bool:
    """Whether any vote count of the campaign may be shown to anyone, its committee included: only once voting
    has ended. A running count would let whoever watches it (before and after one household votes, with that
    household's statement showing its participation credit) read that household's choices; Helios likewise
    releases nothing before the election ends. Turnout alone may be shown while voting runs."""
    return campaign.phase in (Phase.CLOSED, Phase.PUBLISHED)


def turnout(campaign: Campaign) -> dict:
    """Households that voted against those eligible, per village and overall, and the number of ballots: what may
    be shown while voting runs. Nothing about any choice."""
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
    per_village = [
        {"village": village, "voted": voted.get(village.pk, 0), "eligible": eligible.get(village.pk, 0)}
        for village in villages
    ]
    return {
        "turnout": per_village,
        "voted": sum(t["voted"] for t in per_village),
        "eligible": sum(t["eligible"] for t in per_village),
        "ballots": Ballot.objects.filter(campaign=campaign).count(),
    }


def tally(campaign: Campaign) -> dict:
    """Counts per approved nominee (most first, ranked "1224"), ties around the winning line, and the turnout.
    Callers that show it go through ``results_for``; the winners' confirmation reads it after voting ended."""
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
    return {"rows": rows, "tie_at_cut": tie_at_cut, **turnout(campaign)}


def results_for(actor, campaign: Campaign) -> dict:
    """The tally: for nobody while voting runs (``counts_visible``); once it has ended, for those who run the
    campaign (to release it), and for anyone once released."""
    if not counts_visible(campaign):
        raise ResultsHidden()
    if campaign.results_released_at is None and not can_manage(actor, campaign):
        raise ResultsHidden()
    return tally(campaign)


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
