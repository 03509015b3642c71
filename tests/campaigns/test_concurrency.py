"""Ballots under real concurrency (PostgreSQL only): one household from two devices, 200 households at once."""

import datetime
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from campaigns.ballots import ballot_cast
from campaigns.models import Ballot, BallotChoice, BallotRecord, Campaign
from campaigns.services import campaign_advance, campaign_create, nomination_submit
from points import clock
from points.ledger.selectors import household_balance
from points.ledger.verify import verify_ledger
from points.models import Household, Transfer
from points.register.services import resident_password_issue

from ..concurrency import error_types, race, values
from ..factories import make_household

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def voting(cast):
    now = clock.now()
    campaign = campaign_create(
        actor=cast.committee_a,
        campaign=Campaign(
            kind=Campaign.Kind.BEAUTIFUL_FAMILY,
            title="最美家庭",
            level=Campaign.Level.VILLAGE,
            village=cast.village_a,
            district=cast.district,
            nominee_type=Campaign.NomineeType.HOUSEHOLD,
            choices_per_ballot=2,
            participation_points=2,
            nominating_starts=now - datetime.timedelta(days=1),
            voting_starts=now - datetime.timedelta(hours=1),
            voting_ends=now + datetime.timedelta(days=7),
        ),
    )
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.NOMINATING)
    nominees = [
        nomination_submit(actor=cast.committee_a, campaign=campaign, household=h, story="家庭和睦，孝老爱亲。")
        for h in (cast.household_a, cast.household_a2)
    ]
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.VOTING)
    return Campaign.objects.get(pk=campaign.pk), nominees


def _voter(user, campaign, nominee_ids, key):
    return lambda: ballot_cast(actor=user, campaign=campaign, nominee_ids=nominee_ids, idempotency_key=key)


def test_one_household_from_two_devices_makes_one_ballot_and_one_credit(cast, voting):
    campaign, nominees = voting
    for round_number in range(3):
        household = make_household(cast.village_a, number=f"2{round_number:02d}", head=f"投票户{round_number}")
        resident_password_issue(household=household, actor=cast.committee_a)
        user = Household.objects.get(pk=household.pk).account.user
        phone = _voter(user, campaign, [nominees[0].pk], f"phone-{round_number}")
        tablet = _voter(user, campaign, [nominees[1].pk], f"tablet-{round_number}")
        outcomes = race(phone, tablet)
        assert len(values(outcomes)) == 1, outcomes
        assert error_types(outcomes) == {"AlreadyVoted": 1}
        assert BallotRecord.objects.filter(campaign=campaign, household=household).count() == 1
        assert Transfer.objects.filter(household=household, code=Transfer.Code.VOTE).count() == 1
        assert household_balance(household) == 2
    assert Ballot.objects.filter(campaign=campaign).count() == 3
    assert verify_ledger().ok


def test_200_households_voting_at_once_lose_no_ballot(cast, voting):
    campaign, nominees = voting
    users = []
    for n in range(200):
        household = make_household(cast.village_a, number=f"5{n:03d}", head=f"村民{n:03d}")
        resident_password_issue(household=household, actor=cast.committee_a)
        users.append(Household.objects.get(pk=household.pk).account.user)

    def vote(index):
        try:
            choice = [nominees[index % 2].pk] if index % 3 else [nominees[0].pk, nominees[1].pk]
            return ballot_cast(actor=users[index], campaign=campaign, nominee_ids=choice, idempotency_key=f"k{index}")
        finally:
            connections.close_all()

    # 24 connections at a time (PostgreSQL's default allows 100): 200 ballots in flight against one ledger head.
    with ThreadPoolExecutor(max_workers=24) as pool:
        receipts = list(pool.map(vote, range(200), timeout=300))
    assert len(set(receipts)) == 200
    assert BallotRecord.objects.filter(campaign=campaign).count() == 200
    assert Ballot.objects.filter(campaign=campaign).count() == 200
    expected_choices = sum(2 if i % 3 == 0 else 1 for i in range(200))
    assert BallotChoice.objects.filter(ballot__campaign=campaign).count() == expected_choices
    assert Transfer.objects.filter(code=Transfer.Code.VOTE).count() == 200
    assert verify_ledger().ok
