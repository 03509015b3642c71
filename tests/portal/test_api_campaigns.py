"""The JSON API's campaign endpoints (api.md): campaigns and nominees, ballots, released results.

Every refusal is checked for its status, for being problem+json, and for changing nothing: no ballot, no ballot
record, no participation credit.
"""

import datetime
import json

import pytest

from campaigns.models import Ballot, BallotRecord, Campaign, Nomination
from campaigns.results import results_release, winners_confirm
from campaigns.services import campaign_advance, campaign_create, nomination_review, nomination_submit
from points import clock
from points.ledger.selectors import household_balance
from points.models import Transfer
from points.register.services import household_archive
from tests.campaigns import test_services
from tests.factories import make_household
from tests.portal.test_api_ledger import API, JUNK, get, post, problem

campaign = test_services.campaign  # village A's 好婆婆, nominating; two choices per ballot, one winner
voting = test_services.voting  # the same, voting: 李秀英 (household A), 王建国 (A2), 赵桂英 (a third household)


def votes():
    """Everything a refused ballot must leave as it was."""
    return BallotRecord.objects.count(), Ballot.objects.count(), Transfer.objects.filter(code="vote").count()


def vote(client, campaign, nominees, user, key="v1", household=None):
    body = {"nominees": [n if isinstance(n, int) else n.pk for n in nominees]}
    if household is not None:
        body["household"] = household.pk
    return post(client, f"/campaigns/{campaign.pk}/ballots", body, user=user, key=key)


def draft(cast, village, title="乙村最美家庭（草稿）"):
    now = clock.now()
    return campaign_create(
        actor=cast.district_admin,
        campaign=Campaign(
            kind=Campaign.Kind.BEAUTIFUL_FAMILY,
            title=title,
            level=Campaign.Level.VILLAGE,
            village=village,
            district=cast.district,
            nominee_type=Campaign.NomineeType.HOUSEHOLD,
            nominating_starts=now + datetime.timedelta(days=1),
            voting_starts=now + datetime.timedelta(days=2),
            voting_ends=now + datetime.timedelta(days=3),
        ),
    )


def titles(response):
    assert response.status_code == 200, response.content
    return {c["title"]: c["phase"] for c in response.json()["items"]}


def release(cast, campaign):
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.CLOSED)
    return results_release(actor=cast.committee_a, campaign=campaign)


# --- campaigns and nominees --------------------------------------------------------------------------------------


@pytest.mark.any_day
def test_anyone_lists_the_open_and_published_campaigns_of_a_village_with_their_phase(client, cast, voting):
    hidden = draft(cast, cast.village_a, title="青山村好媳妇（草稿）")
    mine = {"2026 年青山村好婆婆": "voting"}
    assert titles(client.get(f"{API}/campaigns?village={cast.village_a.id}")) == mine
    assert titles(client.get(f"{API}/campaigns")) == mine  # anonymous, no village: every public campaign
    assert titles(client.get(f"{API}/campaigns?village={cast.village_b.id}")) == {}
    assert titles(get(client, "/campaigns", cast.resident_a)) == mine  # signed in: its own villages
    assert titles(get(client, "/campaigns", cast.committee_b)) == {}
    # A draft: only for those who run it.
    assert titles(get(client, "/campaigns", cast.committee_a)) == {**mine, hidden.title: "draft"}
    assert titles(get(client, f"/campaigns?village={cast.village_a.id}", cast.committee_b)) == mine
    item = client.get(f"{API}/campaigns").json()["items"][0]
    assert (item["phase_label"], item["kind"], item["level"], item["village"]) == (
        "投票中",
        "good_mother_in_law",
        "village",
        cast.village_a.id,
    )


def test_township_campaigns_reach_every_village_of_the_township(client, cast, voting):
    now = clock.now()
    township = campaign_create(
        actor=cast.township_staff,
        campaign=Campaign(
            kind=Campaign.Kind.STAR_HOUSEHOLD,
            title="青山镇星级文明户",
            level=Campaign.Level.TOWNSHIP,
            township=cast.township,
            district=cast.district,
            nominee_type=Campaign.NomineeType.HOUSEHOLD,
            nominating_starts=now,
            voting_starts=now + datetime.timedelta(days=1),
            voting_ends=now + datetime.timedelta(days=2),
        ),
    )
    campaign_advance(actor=cast.township_staff, campaign=township, to=Campaign.Phase.NOMINATING)
    assert set(titles(client.get(f"{API}/campaigns?village={cast.village_b.id}"))) == {"青山镇星级文明户"}
    assert titles(client.get(f"{API}/campaigns?village={cast.village_c.id}")) == {}  # another township


def test_campaign_list_refusals_and_pages(client, cast, voting):
    problem(client.get(f"{API}/campaigns?village=987654"), 404)
    for bad in ("abc", "0", str(10**20), "limit=0"):
        query = bad if "=" in bad else f"village={bad}"
        problem(client.get(f"{API}/campaigns?{query}"), 400)
    problem(client.get(f"{API}/campaigns", HTTP_AUTHORIZATION="Bearer nonsense"), 401)
    page = client.get(f"{API}/campaigns?limit=1&offset=1").json()
    assert (page["count"], page["items"]) == (1, [])


def test_a_campaign_shows_its_approved_nominees_and_never_a_phone(client, cast, campaign):
    approved = nomination_submit(
        actor=cast.committee_a,
        campaign=campaign,
        household=cast.household_a,
        member=cast.household_a.members.get(name="李秀英"),
        story="照顾瘫痪婆婆十年。",
    )
    pending = nomination_submit(
        actor=cast.resident_a,
        campaign=campaign,
        household=cast.household_a2,
        member=cast.household_a2.members.first(),
        story="邻里和睦。",
    )
    assert pending.status == Nomination.Status.PENDING
    response = client.get(f"{API}/campaigns/{campaign.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["phase"]) == ("2026 年青山村好婆婆", "nominating")
    assert body["nominees"] == [
        {
            "id": approved.pk,
            "name": "李秀英",
            "household_number": "001",
            "village": {"id": cast.village_a.id, "code": "QS01", "name": "青山村"},
            "story": "照顾瘫痪婆婆十年。",
        }
    ]
    assert "13800138001" not in response.content.decode()
    nomination_review(actor=cast.committee_a, nomination=pending, approve=True)
    assert len(client.get(f"{API}/campaigns/{campaign.pk}").json()["nominees"]) == 2


def test_a_draft_or_unknown_campaign_is_404(client, cast, campaign):
    hidden = draft(cast, cast.village_a)
    problem(client.get(f"{API}/campaigns/{hidden.pk}"), 404)
    problem(get(client, f"/campaigns/{hidden.pk}", cast.resident_a), 404)
    problem(get(client, f"/campaigns/{hidden.pk}", cast.committee_b), 404)
    assert get(client, f"/campaigns/{hidden.pk}", cast.committee_a).json()["phase"] == "draft"
    problem(client.get(f"{API}/campaigns/987654"), 404)
    for bad in ("abc", "0", "-1", str(10**20), "1.5"):
        assert "id" in problem(client.get(f"{API}/campaigns/{bad}"), 400)["errors"]


# --- ballots -----------------------------------------------------------------------------------------------------


def test_a_resident_votes_and_gets_a_receipt_once(client, cast, voting):
    campaign, nominees = voting["campaign"], voting["nominees"]
    first = vote(client, campaign, [nominees[1]], cast.resident_a, key="phone-1")
    assert first.status_code == 201, first.content
    receipt = first.json()["receipt"]
    assert len(receipt) == 10 and first.json() == {"receipt": receipt}
    assert BallotRecord.objects.get().channel == BallotRecord.Channel.PHONE
    assert household_balance(cast.household_a) == 2
    replay = vote(client, campaign, [nominees[1]], cast.resident_a, key="phone-1")
    assert (replay.status_code, replay.content) == (first.status_code, first.content)
    named = vote(client, campaign, [nominees[1]], cast.resident_a, key="phone-1", household=cast.household_a)
    assert (named.status_code, named.content) == (first.status_code, first.content)  # naming itself: the same
    before = votes()
    body = problem(vote(client, campaign, [nominees[2]], cast.resident_a, key="phone-2"), 409)
    assert body["type"].endswith("already-voted")
    body = problem(vote(client, campaign, [nominees[2]], cast.resident_a, key="phone-1"), 409)
    assert body["type"].endswith("idempotency-conflict")
    assert votes() == before == (1, 1, 1)
    assert household_balance(cast.household_a) == 2


def test_the_committee_enters_a_paper_ballot_naming_the_household(client, cast, voting):
    campaign, nominees = voting["campaign"], voting["nominees"]
    response = vote(client, campaign, nominees[::2], cast.committee_a, key="paper-17", household=cast.household_a2)
    assert response.status_code == 201, response.content
    record = BallotRecord.objects.get()
    assert (record.household, record.channel, record.entered_by) == (
        cast.household_a2,
        BallotRecord.Channel.PAPER,
        cast.committee_a,
    )
    again = vote(client, campaign, nominees[:1], cast.committee_a, key="paper-18", household=cast.household_a2)
    assert problem(again, 409)["type"].endswith("already-voted")
    errors = problem(vote(client, campaign, nominees[:1], cast.committee_a, key="paper-19"), 400)["errors"]
    assert "household" in errors  # a paper ballot names the household


def test_who_may_vote_for_whom(client, cast, voting):
    campaign, nominees = voting["campaign"], voting["nominees"]
    before = votes()
    problem(vote(client, campaign, nominees[:1], cast.resident_a, household=cast.household_a2), 404)
    problem(vote(client, campaign, nominees[:1], cast.committee_a, household=cast.household_b), 404)
    problem(vote(client, campaign, nominees[:1], cast.committee_b, household=cast.household_a), 404)
    problem(vote(client, campaign, nominees[:1], cast.committee_b, household=cast.household_b), 403)  # not covered
    problem(vote(client, campaign, nominees[:1], cast.storekeeper_a, household=cast.household_a2), 403)
    problem(vote(client, campaign, nominees[:1], cast.grid_worker_a, household=cast.household_a2), 403)
    problem(vote(client, campaign, nominees[:1], cast.stranger), 403)
    problem(post(client, f"/campaigns/{campaign.pk}/ballots", {"nominees": [nominees[0].pk]}, key="anon"), 401)
    problem(vote(client, Campaign(pk=987654), nominees[:1], cast.resident_a), 404)
    hidden = draft(cast, cast.village_a)
    problem(vote(client, hidden, nominees[:1], cast.resident_a), 404)
    assert votes() == before


@pytest.mark.parametrize(
    ("nominees", "field"),
    [
        (lambda n: [n[0], n[1], n[2]], "nominees"),  # three where two may be chosen
        (lambda n: [n[0], n[0]], "nominees"),
        (lambda n: [987654], "nominees"),
        (lambda n: ["pending"], "nominees"),
        (lambda n: ["other campaign"], "nominees"),
        (lambda n: [], "nominees"),
        (lambda n: ["x"], "nominees.0"),
        (lambda n: [0], "nominees.0"),
        (lambda n: [-1], "nominees.0"),
        (lambda n: [1.5], "nominees.0"),
        (lambda n: [True], "nominees.0"),
        (lambda n: [10**20], "nominees.0"),
        (lambda n: "1", "nominees"),
        (lambda n: None, "nominees"),
        (lambda n: {"id": 1}, "nominees"),
        (lambda n: list(range(1, 200)), "nominees"),
    ],
)
def test_bad_ballots_are_400_naming_the_field_and_change_nothing(client, cast, voting, nominees, field):
    """Malformed ballots (too many, the same twice, not an approved nominee) are invalid input: 400, not 409."""
    campaign = voting["campaign"]
    third = voting["third"]
    pending = Nomination.objects.create(
        campaign=campaign,
        village=cast.village_a,
        household=third,
        story="待审核",
        nominated_by=cast.resident_a,
    )
    chosen = nominees(voting["nominees"])
    if chosen == ["other campaign"]:
        chosen = [other_nominee(cast)]
    elif isinstance(chosen, list):
        chosen = [pending.pk if n == "pending" else getattr(n, "pk", n) for n in chosen]
    before = votes()
    body = {"nominees": chosen}
    response = post(client, f"/campaigns/{campaign.pk}/ballots", body, user=cast.resident_a, key="bad")
    errors = problem(response, 400)["errors"]
    assert field in errors and all(errors[field]), errors
    assert votes() == before


def other_nominee(cast):
    """An approved nominee of another campaign (village B's)."""
    now = clock.now()
    campaign = campaign_create(
        actor=cast.committee_b,
        campaign=Campaign(
            kind=Campaign.Kind.GOOD_DAUGHTER_IN_LAW,
            title="柳溪村好媳妇",
            level=Campaign.Level.VILLAGE,
            village=cast.village_b,
            district=cast.district,
            nominee_type=Campaign.NomineeType.HOUSEHOLD,
            nominating_starts=now - datetime.timedelta(days=1),
            voting_starts=now,
            voting_ends=now + datetime.timedelta(days=1),
        ),
    )
    campaign_advance(actor=cast.committee_b, campaign=campaign, to=Campaign.Phase.NOMINATING)
    return nomination_submit(actor=cast.committee_b, campaign=campaign, household=cast.household_b, story="好").pk


def test_a_missing_or_bad_idempotency_key_is_400(client, cast, voting):
    campaign, nominees = voting["campaign"], voting["nominees"]
    for key in (None, "  ", "k" * 101, "a\x00b"):
        problem(vote(client, campaign, nominees[:1], cast.resident_a, key=key), 400)
    assert votes() == (0, 0, 0)


@pytest.mark.any_day
def test_voting_closed_is_409_but_a_replay_still_answers_the_receipt(client, cast, voting):
    campaign, nominees = voting["campaign"], voting["nominees"]
    first = vote(client, campaign, nominees[:1], cast.resident_a, key="early")
    with clock.frozen_at(campaign.voting_ends + datetime.timedelta(seconds=1)):
        replay = vote(client, campaign, nominees[:1], cast.resident_a, key="early")
        late = vote(client, campaign, nominees[:1], cast.committee_a, key="late", household=cast.household_a2)
    assert (replay.status_code, replay.content) == (first.status_code, first.content)
    assert problem(late, 409)["type"].endswith("voting-closed")
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.CLOSED)
    late = vote(client, campaign, nominees[:1], cast.committee_a, key="later", household=cast.household_a2)
    assert problem(late, 409)["type"].endswith("voting-closed")
    assert votes() == (1, 1, 1)


def test_an_archived_household_cannot_vote(client, cast, voting):
    household_archive(household=cast.household_a2, actor=cast.committee_a, reason="迁出")
    response = vote(client, voting["campaign"], voting["nominees"][:1], cast.committee_a, household=cast.household_a2)
    assert "household" in problem(response, 400)["errors"]
    assert votes() == (0, 0, 0)


# --- results -----------------------------------------------------------------------------------------------------


def test_results_are_refused_until_released_then_anyone_sees_the_count(client, cast, voting):
    campaign, nominees = voting["campaign"], voting["nominees"]
    vote(client, campaign, [nominees[1]], cast.resident_a, key="a")
    vote(client, campaign, [nominees[1], nominees[2]], cast.committee_a, key="b", household=cast.household_a2)
    path = f"{API}/campaigns/{campaign.pk}/results"
    body = problem(client.get(path), 409)
    assert body["type"].endswith("results-hidden") and "尚未公布" in body["detail"]
    problem(get(client, f"/campaigns/{campaign.pk}/results", cast.resident_a), 409)
    # While voting runs nobody sees a count, not even those who run the campaign (issue 12, hole 2).
    hidden = problem(get(client, f"/campaigns/{campaign.pk}/results", cast.committee_a), 409)
    assert hidden["type"].endswith("results-hidden")
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.CLOSED)
    # Once voting has ended they see it, to check and release it; nobody else yet.
    assert get(client, f"/campaigns/{campaign.pk}/results", cast.committee_a).status_code == 200
    problem(get(client, f"/campaigns/{campaign.pk}/results", cast.resident_a), 409)
    campaign = results_release(actor=cast.committee_a, campaign=campaign)
    response = client.get(path)
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(n["name"], n["votes"], n["rank"]) for n in body["nominees"]] == [
        ("王建国", 2, 1),
        ("赵桂英", 1, 2),
        ("李秀英", 0, 3),
    ]
    assert (body["ballots"], body["turnout"]["voted"], body["turnout"]["eligible"]) == (2, 2, 3)
    assert body["turnout"]["villages"] == [{"village": body["nominees"][0]["village"], "voted": 2, "eligible": 3}]
    assert (body["tie_at_cut"], body["winners"], body["phase"]) == (False, [], "closed")
    assert "13800138001" not in response.content.decode()
    winners_confirm(
        actor=cast.committee_a, campaign=campaign, picks=[{"nomination": nominees[1].pk, "citation": "孝老爱亲"}]
    )
    body = client.get(path).json()
    assert body["phase"] == "published"
    assert body["winners"] == [
        {"nominee": nominees[1].pk, "name": "王建国", "rank": 1, "votes": 2, "citation": "孝老爱亲"}
    ]


def test_results_of_a_hidden_or_unknown_campaign_are_404(client, cast, voting):
    hidden = draft(cast, cast.village_a)
    problem(client.get(f"{API}/campaigns/{hidden.pk}/results"), 404)
    problem(client.get(f"{API}/campaigns/987654/results"), 404)
    problem(client.get(f"{API}/campaigns/abc/results"), 400)


# --- no input answers 500 ----------------------------------------------------------------------------------------

BALLOT_JUNK = [
    *JUNK,
    '{"nominees": [1e999]}',
    '{"nominees": [{"id": 1}], "household": [1]}',
    '{"nominees": {"0": 1}, "household": "\\u0000"}',
    json.dumps({"nominees": list(range(1, 50_000))}),
    json.dumps({"nominees": [1], "household": 10**30}),
]


@pytest.mark.parametrize("raw", BALLOT_JUNK, ids=range(len(BALLOT_JUNK)))
@pytest.mark.parametrize("user", ["resident_a", "committee_a"])
def test_junk_ballots_answer_4xx_problems_never_500(client, cast, voting, raw, user):
    response = post(client, f"/campaigns/{voting['campaign'].pk}/ballots", None, user=cast[user], key="j", raw=raw)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    problem(response, response.status_code)
    assert votes() == (0, 0, 0)


def test_the_openapi_document_lists_the_campaigns(client, db):
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    for path in ("/campaigns", "/campaigns/{id}", "/campaigns/{id}/ballots", "/campaigns/{id}/results"):
        assert API + path in paths, path
    assert {} in paths[f"{API}/campaigns/{{id}}/results"]["get"]["security"]
    assert {} not in paths[f"{API}/campaigns/{{id}}/ballots"]["post"].get("security", [{"TokenAuth": []}])


def test_a_household_registered_after_voting_opened_may_vote_on_paper(client, cast, voting):
    """Who may vote is the service's rule, not the API's: any active household the campaign covers."""
    late = make_household(cast.village_a, number="009", head="新来户")
    response = vote(client, voting["campaign"], voting["nominees"][:1], cast.committee_a, household=late)
    assert response.status_code == 201, response.content
