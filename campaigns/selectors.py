"""Reads of campaigns for pages and the API. Views call these; they never filter campaign models themselves."""

from points import clock
from points.models import Household

from .models import BallotRecord, Campaign, Nomination
from .services import visible_campaigns


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
    return campaign.phase == Campaign.Phase.VOTING and campaign.voting_starts <= clock.now() < campaign.voting_ends
