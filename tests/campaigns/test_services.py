"""Campaigns: nominations checked against the ledger, secret final ballots, credits once, winners."""

import datetime

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from campaigns.ballots import ballot_cast
from campaigns.exceptions import AlreadyVoted, BadBallot, CampaignError, NotEligible, ResultsHidden, VotingClosed
from campaigns.models import Ballot, BallotChoice, BallotRecord, Campaign, Nomination, PhaseChange, Winner
from campaigns.results import results_release, winners_confirm
from campaigns.selectors import published_winners, receipt_lookup, results_for
from campaigns.services import (
    campaign_advance,
    campaign_create,
    campaigns_advance_by_date,
    nomination_review,
    nomination_submit,
)
from points import clock
from points.exceptions import IdempotencyConflict, OutOfScope
from points.ledger.awards import points_award
from points.ledger.selectors import household_balance
from points.ledger.verify import verify_ledger
from points.models import Household, RubricCategory, RubricItem, Transfer
from points.register.services import resident_password_issue
from tests.factories import make_household


def now():
    return clock.now()


@pytest.fixture
def campaign(cast):
    """A village A 好婆婆 campaign (persons), nominating now."""
    campaign = campaign_create(
        actor=cast.committee_a,
        campaign=Campaign(
            kind=Campaign.Kind.GOOD_MOTHER_IN_LAW,
            title="2026 年青山村好婆婆",
            level=Campaign.Level.VILLAGE,
            village=cast.village_a,
            district=cast.district,
            nominee_type=Campaign.NomineeType.PERSON,
            choices_per_ballot=2,
            winners_count=1,
            participation_points=2,
            winner_points=50,
            nominating_starts=now() - datetime.timedelta(days=1),
            voting_starts=now() - datetime.timedelta(hours=1),
            voting_ends=now() + datetime.timedelta(days=7),
        ),
    )
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.NOMINATING)
    return Campaign.objects.get(pk=campaign.pk)


@pytest.fixture
def voting(cast, campaign):
    """Three approved nominees: 李秀英 (household A), 王建国 (A2) and 赵桂英 (a third household); voting open."""
    third = make_household(cast.village_a, number="003", head="赵桂英")
    nominees = [
        nomination_submit(
            actor=cast.committee_a,
            campaign=campaign,
            household=household,
            member=household.members.order_by("-relation").first()
            if household == cast.household_a
            else household.members.first(),
            story="孝顺公婆，邻里和睦。",
        )
        for household in (cast.household_a, cast.household_a2, third)
    ]
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.VOTING)
    campaign.refresh_from_db()
    return {"campaign": campaign, "nominees": nominees, "third": third}


def test_a_resident_votes_once_and_earns_participation_points_once(cast, voting):
    campaign, nominees = voting["campaign"], voting["nominees"]
    receipt = ballot_cast(
        actor=cast.resident_a, campaign=campaign, nominee_ids=[nominees[1].pk], idempotency_key="phone-1"
    )
    assert len(receipt) == 10
    assert household_balance(cast.household_a) == 2
    record = BallotRecord.objects.get(campaign=campaign, household=cast.household_a)
    assert record.channel == BallotRecord.Channel.PHONE
    assert record.credit.code == Transfer.Code.VOTE
    # The same request again (a lost response): the same receipt, no second credit.
    assert (
        ballot_cast(actor=cast.resident_a, campaign=campaign, nominee_ids=[nominees[1].pk], idempotency_key="phone-1")
        == receipt
    )
    with pytest.raises(IdempotencyConflict):
        ballot_cast(actor=cast.resident_a, campaign=campaign, nominee_ids=[nominees[2].pk], idempotency_key="phone-1")
    with pytest.raises(AlreadyVoted):
        ballot_cast(actor=cast.resident_a, campaign=campaign, nominee_ids=[nominees[2].pk], idempotency_key="other")
    assert BallotRecord.objects.count() == 1
    assert Ballot.objects.count() == 1
    assert household_balance(cast.household_a) == 2
    assert verify_ledger().ok


def test_committee_enters_a_paper_ballot_naming_the_household(cast, voting):
    nominees = voting["nominees"]
    ballot_cast(
        actor=cast.committee_a,
        campaign=voting["campaign"],
        household=cast.household_a2,
        nominee_ids=[nominees[0].pk, nominees[2].pk],
        idempotency_key="paper-17",
    )
    record = BallotRecord.objects.get(household=cast.household_a2)
    assert (record.channel, record.entered_by) == (BallotRecord.Channel.PAPER, cast.committee_a)


@pytest.mark.parametrize(
    ("choice", "error", "message"),
    [
        (lambda n: [], BadBallot, "至少选择一位"),
        (lambda n: [n[0].pk, n[0].pk], BadBallot, "不能重复"),
        (lambda n: [n[0].pk, n[1].pk, n[2].pk], BadBallot, "最多选 2 位"),
        (lambda n: [999999], BadBallot, "不在本次评选的候选名单"),
        (lambda n: ["1"], BadBallot, "候选编号无效"),
        (lambda n: [0], BadBallot, "候选编号无效"),
        (lambda n: list(range(1, 40_001)), BadBallot, "最多选 2 位"),  # more than SQLite's 32,766 parameters
        (lambda n: [n[0].pk] * 40_000, BadBallot, "不能重复"),
        (lambda n: [n[0].pk, 999999], BadBallot, "不在本次评选的候选名单"),  # one approved, one not
    ],
)
def test_bad_ballots_are_refused_and_change_nothing(cast, voting, choice, error, message):
    with pytest.raises(error, match=message):
        ballot_cast(
            actor=cast.resident_a,
            campaign=voting["campaign"],
            nominee_ids=choice(voting["nominees"]),
            idempotency_key="bad",
        )
    assert BallotRecord.objects.count() == Ballot.objects.count() == 0
    assert household_balance(cast.household_a) == 0


def test_unapproved_nominee_is_refused(cast, voting):
    pending = Nomination.objects.create(
        campaign=voting["campaign"],
        village=cast.village_a,
        household=cast.household_a2,
        member=None,
        story="待审核",
        nominated_by=cast.resident_a,
    )
    with pytest.raises(BadBallot, match="不在本次评选的候选名单"):
        ballot_cast(actor=cast.resident_a, campaign=voting["campaign"], nominee_ids=[pending.pk], idempotency_key="u")


@pytest.mark.any_day
def test_voting_outside_the_window_is_refused(cast, voting):
    campaign = voting["campaign"]
    with clock.frozen_at(campaign.voting_ends + datetime.timedelta(minutes=1)):
        with pytest.raises(VotingClosed):
            ballot_cast(
                actor=cast.resident_a, campaign=campaign, nominee_ids=[voting["nominees"][0].pk], idempotency_key="late"
            )
    with clock.frozen_at(campaign.voting_starts - datetime.timedelta(minutes=1)):
        with pytest.raises(VotingClosed):
            ballot_cast(
                actor=cast.resident_a,
                campaign=campaign,
                nominee_ids=[voting["nominees"][0].pk],
                idempotency_key="early",
            )
    assert BallotRecord.objects.count() == 0


def test_foreign_scope_is_refused(cast, voting):
    campaign, nominee = voting["campaign"], voting["nominees"][0]
    with pytest.raises(OutOfScope):
        ballot_cast(
            actor=cast.committee_b,
            campaign=campaign,
            household=cast.household_b,
            nominee_ids=[nominee.pk],
            idempotency_key="f1",
        )
    with pytest.raises(OutOfScope):
        ballot_cast(
            actor=cast.committee_a,
            campaign=campaign,
            household=cast.household_b,
            nominee_ids=[nominee.pk],
            idempotency_key="f2",
        )
    resident_password_issue(household=cast.household_b, actor=cast.committee_b)
    resident_b = Household.objects.get(pk=cast.household_b.pk).account.user
    with pytest.raises(OutOfScope):
        ballot_cast(actor=resident_b, campaign=campaign, nominee_ids=[nominee.pk], idempotency_key="f3")
    with pytest.raises(OutOfScope):
        ballot_cast(
            actor=cast.resident_a,
            campaign=campaign,
            household=cast.household_a2,
            nominee_ids=[nominee.pk],
            idempotency_key="f4",
        )
    with pytest.raises(OutOfScope):
        ballot_cast(
            actor=cast.grid_worker_a,
            campaign=campaign,
            household=cast.household_a2,
            nominee_ids=[nominee.pk],
            idempotency_key="f5",
        )
    assert BallotRecord.objects.count() == 0


def test_an_ineligible_household_is_refused_with_the_rule_it_fails(cast, campaign):
    item = RubricItem.objects.create(
        category=RubricCategory.objects.create(name="遵纪守法"),
        district=cast.district,
        name="乱扔垃圾",
        points=5,
        kind="deduction",
    )
    points_award(
        actor=cast.committee_a,
        village=cast.village_a,
        rubric_item=item,
        households=[cast.household_a2],
        idempotency_key="d",
    )
    with pytest.raises(NotEligible, match="今年有扣分记录（5 分）"):
        nomination_submit(
            actor=cast.committee_a,
            campaign=campaign,
            household=cast.household_a2,
            member=cast.household_a2.members.first(),
            story="好人",
        )
    campaign.rule_min_stars = 3
    campaign.rule_no_deduction = False
    campaign.save()
    with pytest.raises(NotEligible, match="至少 3 星"):
        nomination_submit(
            actor=cast.committee_a,
            campaign=campaign,
            household=cast.household_a,
            member=cast.household_a.members.first(),
            story="好人",
        )
    assert Nomination.objects.count() == 0


def test_resident_nominations_wait_for_review(cast, campaign):
    nomination = nomination_submit(
        actor=cast.resident_a,
        campaign=campaign,
        household=cast.household_a2,
        member=cast.household_a2.members.first(),
        story="照顾瘫痪的婆婆十年。",
    )
    assert nomination.status == Nomination.Status.PENDING
    with pytest.raises(ValidationError):
        nomination_review(actor=cast.committee_a, nomination=nomination, approve=False, reason="")
    with pytest.raises(OutOfScope):
        nomination_review(actor=cast.committee_b, nomination=nomination, approve=True)
    nomination_review(actor=cast.committee_a, nomination=nomination, approve=False, reason="事迹不属实")
    nomination.refresh_from_db()
    assert (nomination.status, nomination.reject_reason) == (Nomination.Status.REJECTED, "事迹不属实")


@pytest.mark.any_day
def test_results_stay_hidden_until_released_then_winners_publish_once(cast, voting):
    campaign, nominees = voting["campaign"], voting["nominees"]
    ballot_cast(actor=cast.resident_a, campaign=campaign, nominee_ids=[nominees[1].pk], idempotency_key="a")
    ballot_cast(
        actor=cast.committee_a,
        campaign=campaign,
        household=cast.household_a2,
        nominee_ids=[nominees[2].pk],
        idempotency_key="b",
    )
    with pytest.raises(ResultsHidden):
        results_for(cast.resident_a, campaign)
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.CLOSED)
    campaign = results_release(actor=cast.committee_a, campaign=campaign)
    result = results_for(cast.resident_a, campaign)
    assert result["voted"] == 2
    assert result["tie_at_cut"] is True  # 1 vote each for 王建国 and 赵桂英, one winner
    with pytest.raises(CampaignError, match="票数并列"):
        winners_confirm(
            actor=cast.committee_a,
            campaign=campaign,
            picks=[{"nomination": nominees[1].pk, "citation": "孝老爱亲的好榜样"}],
        )
    winners_confirm(
        actor=cast.committee_a,
        campaign=campaign,
        picks=[{"nomination": nominees[1].pk, "citation": "孝老爱亲的好榜样", "tie_note": "村民代表会议表决 12:7"}],
    )
    campaign.refresh_from_db()
    assert campaign.phase == Campaign.Phase.PUBLISHED
    assert list(published_winners()) == list(Winner.objects.all())
    assert household_balance(cast.household_a2) == 50 + 2  # winner points, and 2 for its paper ballot
    assert Transfer.objects.filter(code=Transfer.Code.WINNER).count() == 1
    with pytest.raises(CampaignError):
        winners_confirm(
            actor=cast.committee_a,
            campaign=campaign,
            picks=[{"nomination": nominees[1].pk, "citation": "again", "tie_note": "x"}],
        )
    assert Transfer.objects.filter(code=Transfer.Code.WINNER).count() == 1
    assert verify_ledger().ok


def test_receipt_finds_its_ballot_after_release(cast, voting):
    campaign, nominees = voting["campaign"], voting["nominees"]
    receipt = ballot_cast(
        actor=cast.resident_a, campaign=campaign, nominee_ids=[nominees[0].pk, nominees[2].pk], idempotency_key="r"
    )
    with pytest.raises(ResultsHidden):
        receipt_lookup(campaign, receipt)
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.CLOSED)
    campaign = results_release(actor=cast.committee_a, campaign=campaign)
    assert {n.pk for n in receipt_lookup(campaign, receipt.lower())} == {nominees[0].pk, nominees[2].pk}
    assert receipt_lookup(campaign, "NOSUCHCODE") is None


@pytest.mark.any_day
def test_phases_move_by_dates_and_by_action_and_every_move_is_recorded(cast, voting):
    campaign = voting["campaign"]
    with clock.frozen_at(campaign.voting_ends + datetime.timedelta(seconds=1)):
        assert campaigns_advance_by_date() == 1
        assert campaigns_advance_by_date() == 0
    campaign.refresh_from_db()
    assert campaign.phase == Campaign.Phase.CLOSED
    moves = list(PhaseChange.objects.filter(campaign=campaign).values_list("to_phase", "actor"))
    assert moves[-1] == ("closed", None)
    assert ("voting", cast.committee_a.pk) in moves
    with pytest.raises(CampaignError):
        campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.NOMINATING)


def test_no_path_leads_from_a_household_to_its_choices():
    """Walk every foreign key and one-to-one (both directions) from Household, except through the shared
    objects every ballot of a campaign hangs from (campaign, village, township, district): the ballots and
    their choices must be unreachable. A new field linking them would fail this test."""
    shared = {
        apps.get_model("campaigns", "Campaign"),
        apps.get_model("points", "Village"),
        apps.get_model("points", "Township"),
        apps.get_model("points", "District"),
    }
    secret = {Ballot, BallotChoice}
    start = apps.get_model("points", "Household")
    seen, frontier = {start}, [start]
    while frontier:
        model = frontier.pop()
        for field in model._meta.get_fields():
            if not field.is_relation or field.related_model is None:
                continue
            target = field.related_model
            if target in shared or target in seen:
                continue
            # A nomination is public and shared by every ballot that chose it; it does not identify a voter.
            if target is apps.get_model("campaigns", "Nomination") and model is BallotChoice:
                continue
            assert target not in secret, f"{model.__name__}.{field.name} leads to {target.__name__}"
            seen.add(target)
            frontier.append(target)
    # And the ballot itself carries nothing that orders or times it against the record of who voted.
    ballot_fields = {f.name for f in Ballot._meta.get_fields()}
    assert ballot_fields == {"id", "campaign", "receipt", "choices"}
    assert Ballot._meta.pk.get_internal_type() == "UUIDField"
    assert BallotChoice._meta.pk.get_internal_type() == "UUIDField"


def test_the_vote_credit_is_named_in_the_site_language_whoever_votes(cast, voting):
    """The ledger is public: a resident using the English pages still leaves 参与「…」投票 in the notice, not
    "Voted in …" (the English catalog has that translation; stored texts are rendered in LANGUAGE_CODE)."""
    from django.utils import translation

    from points.models import Transfer

    with translation.override("en"):
        ballot_cast(
            actor=cast.resident_a,
            campaign=voting["campaign"],
            nominee_ids=[voting["nominees"][0].pk],
            idempotency_key="en-vote",
        )
        assert translation.get_language() == "en"  # the caller's language is left as it was
    credit = Transfer.objects.get(household=cast.household_a, code=Transfer.Code.VOTE)
    assert credit.item_name == f"参与「{voting['campaign'].title}」投票"


@pytest.mark.any_day
def test_after_the_month_closes_early_a_voter_still_gets_a_receipt_and_a_new_ballot_is_refused(cast, voting):
    """The participation credit is written before the ballot record; if the village closed this month early the
    credit cannot land: a retry of a ballot that was cast still gets its receipt (or AlreadyVoted), a new ballot
    is refused with MonthClosed, and nothing changes."""
    from points.exceptions import MonthClosed
    from points.ledger.books import month_of
    from points.ledger.notices import month_close, notice_publish

    campaign, nominees = voting["campaign"], voting["nominees"]
    receipt = ballot_cast(
        actor=cast.resident_a, campaign=campaign, nominee_ids=[nominees[1].pk], idempotency_key="before-close"
    )
    village = cast.village_a
    village.notice_days = 0
    village.save()
    this_month = month_of()
    notice_publish(actor=cast.committee_a, village=village, period=this_month)
    with clock.frozen_at(clock.now() + datetime.timedelta(days=1)):  # the day after its (zero-day) notice period
        month_close(actor=cast.committee_a, village=village, period=this_month)

    again = ballot_cast(
        actor=cast.resident_a, campaign=campaign, nominee_ids=[nominees[1].pk], idempotency_key="before-close"
    )
    assert again == receipt
    with pytest.raises(AlreadyVoted):
        ballot_cast(actor=cast.resident_a, campaign=campaign, nominee_ids=[nominees[2].pk], idempotency_key="later")
    with pytest.raises(MonthClosed):
        ballot_cast(
            actor=cast.committee_a,
            campaign=campaign,
            household=cast.household_a2,
            nominee_ids=[nominees[0].pk],
            idempotency_key="paper-after-close",
        )
    assert BallotRecord.objects.count() == Ballot.objects.count() == 1
    assert household_balance(cast.household_a) == 2 and household_balance(cast.household_a2) == 0
    assert verify_ledger().ok
