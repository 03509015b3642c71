"""The campaigns' admin screens end to end through the test client: a whole campaign from creation to published
winners, who may reach what, and bad input answered with a clear message while nothing changes."""

import datetime
import html
import io
import json
import os
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from campaigns.ballots import ballot_cast
from campaigns.models import Ballot, BallotRecord, Campaign, Nomination, PhaseChange, ResultObjection, Winner
from campaigns.results import result_objection_file, results_release, winners_confirm
from campaigns.services import campaign_advance, campaign_create, campaigns_advance_by_date, nomination_submit
from points import clock
from points.ledger.awards import points_award
from points.ledger.selectors import household_balance
from points.ledger.verify import verify_ledger
from points.models import RubricCategory, RubricItem, Transfer
from tests.e2e.browser import CHROMIUM, NEEDS_CHROMIUM
from tests.factories import make_household

LIST = "/admin/snippets/campaigns/campaign/"
LOGGED_OUT = ["resident_a", "stranger", None]
NO_MANAGE = ["grid_worker_a", "storekeeper_a"]


def page(response) -> str:
    return response.content.decode()


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def url(name, obj) -> str:
    return reverse(name, args=[obj.pk])


def counts() -> tuple[int, int, int]:
    return BallotRecord.objects.count(), Ballot.objects.count(), Transfer.objects.count()


def campaign_form(scope, **overrides) -> dict:
    now = clock.now()
    data = {
        "title": "2026 年青山村好婆婆",
        "kind": Campaign.Kind.GOOD_MOTHER_IN_LAW,
        "nominee_type": Campaign.NomineeType.PERSON,
        "scope": scope,
        "description": "孝老爱亲，邻里和睦",
        "nominating_starts": local(now - datetime.timedelta(days=1)),
        "voting_starts": local(now - datetime.timedelta(hours=1)),
        "voting_ends": local(now + datetime.timedelta(days=7)),
        "notice_days": 5,
        "rule_no_deduction": "on",
        "rule_min_stars": 0,
        "choices_per_ballot": 2,
        "winners_count": 1,
        "participation_points": 2,
        "winner_points": 50,
    }
    data.update(overrides)
    return data


def make_campaign(cast, *, actor=None, level=Campaign.Level.VILLAGE, village=None, township=None, **fields):
    now = clock.now()
    values = {
        "kind": Campaign.Kind.GOOD_MOTHER_IN_LAW,
        "title": "2026 年青山村好婆婆",
        "level": level,
        "village": village if level == Campaign.Level.VILLAGE else None,
        "township": township,
        "district": cast.district,
        "nominee_type": Campaign.NomineeType.PERSON,
        "choices_per_ballot": 2,
        "winners_count": 1,
        "participation_points": 2,
        "winner_points": 50,
        "nominating_starts": now - datetime.timedelta(days=1),
        "voting_starts": now - datetime.timedelta(hours=1),
        "voting_ends": now + datetime.timedelta(days=7),
    }
    if level == Campaign.Level.VILLAGE and village is None:
        values["village"] = cast.village_a
    values.update(fields)
    return campaign_create(actor=actor or cast.committee_a, campaign=Campaign(**values))


@pytest.fixture
def campaign(cast):
    """A village A 好婆婆 campaign (persons, two choices per ballot, one winner), nominating now."""
    campaign = make_campaign(cast)
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.NOMINATING)
    return Campaign.objects.get(pk=campaign.pk)


@pytest.fixture
def voting(cast, campaign):
    """Three approved nominees (李秀英 of household A, 王建国 of A2, 赵桂英 of a third household) and one resident
    nomination still pending (刘芳 of a fourth); voting open."""
    third = make_household(cast.village_a, number="003", head="赵桂英")
    fourth = make_household(cast.village_a, number="004", head="刘芳")
    spouse = cast.household_a.members.get(name="李秀英")
    nominees = [
        nomination_submit(actor=cast.committee_a, campaign=campaign, household=h, member=m, story="孝顺公婆。")
        for h, m in (
            (cast.household_a, spouse),
            (cast.household_a2, cast.household_a2.members.get()),
            (third, third.members.get()),
        )
    ]
    pending = nomination_submit(
        actor=cast.resident_a, campaign=campaign, household=fourth, member=fourth.members.get(), story="待审核"
    )
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.VOTING)
    campaign.refresh_from_db()
    return {"campaign": campaign, "nominees": nominees, "pending": pending, "third": third, "fourth": fourth}


def ballot_data(household, nominees, *, number=None, key=None, **extra) -> dict:
    data = {
        "idempotency_key": key or str(uuid.uuid4()),
        "village": household.village_id,
        "number": number if number is not None else household.number,
        "household": household.pk,
        "nominees": [n.pk if hasattr(n, "pk") else n for n in nominees],
        "action": "cast",
    }
    data.update(extra)
    return data


def deduct(cast, household, points=5):
    item = RubricItem.objects.create(
        category=RubricCategory.objects.create(name="遵纪守法"),
        district=cast.district,
        name="乱扔垃圾",
        points=points,
        kind="deduction",
    )
    points_award(
        actor=cast.committee_a, village=household.village, rubric_item=item, households=[household], idempotency_key="d"
    )


# --- the whole campaign, through the screens --------------------------------------------------------------------


def test_a_campaign_from_creation_to_published_winners(client_for, cast):
    client = client_for("committee_a")
    form = page(client.get(f"{LIST}add/"))
    assert f"village:{cast.village_a.pk}" in form
    assert f"village:{cast.village_b.pk}" not in form and "township:" not in form and "district:" not in form

    # Create (a draft), then open nominations.
    response = client.post(f"{LIST}add/", campaign_form(f"village:{cast.village_a.pk}"))
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == url("campaigns_detail", campaign)
    assert (campaign.phase, campaign.level, campaign.village, campaign.township) == (
        "draft",
        "village",
        cast.village_a,
        cast.township,
    )
    assert campaign.created_by == cast.committee_a
    response = client.post(url("campaigns_advance", campaign), {"to": "nominating", "note": "村民代表会议通过"})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.phase == "nominating"

    # The committee nominates: find the household, pick the member, tell the story.
    found = page(client.get(url("campaigns_nominations", campaign), {"q": "wjg"}))
    assert f"?household={cast.household_a2.pk}" in found and "张三丰" not in found
    chosen = page(client.get(url("campaigns_nominations", campaign), {"household": cast.household_a2.pk}))
    assert 'data-testid="chosen"' in chosen and "王建国" in chosen
    head_a2 = cast.household_a2.members.get()
    response = client.post(
        url("campaigns_nominations", campaign),
        {"household": cast.household_a2.pk, "member": head_a2.pk, "story": "照顾瘫痪的婆婆十年。"},
    )
    assert response.status_code == 302
    spouse = cast.household_a.members.get(name="李秀英")
    response = client.post(
        url("campaigns_nominations", campaign),
        {"household": cast.household_a.pk, "member": spouse.pk, "story": "勤俭持家，孝敬老人。"},
    )
    assert response.status_code == 302
    assert set(Nomination.objects.values_list("status", flat=True)) == {"approved"}

    # A resident's nomination waits; the committee approves it.
    third = make_household(cast.village_a, number="003", head="赵桂英")
    resident_pick = nomination_submit(
        actor=cast.resident_a, campaign=campaign, household=third, member=third.members.get(), story="热心助人。"
    )
    listing = page(client.get(url("campaigns_nominations", campaign)))
    assert "居民提名待审核 1 条" in listing and "热心助人。" in listing
    response = client.post(url("campaigns_nomination_review", resident_pick), {"decision": "approve"})
    assert response.status_code == 302
    resident_pick.refresh_from_db()
    assert resident_pick.status == "approved"

    # Voting; two paper ballots after the village meeting.
    assert client.post(url("campaigns_advance", campaign), {"to": "voting"}).status_code == 302
    ballots_url = url("campaigns_ballots", campaign)
    blank = page(client.get(ballots_url))
    assert 'name="number"' in blank and "autofocus" in blank
    assert "李秀英" not in blank and "王建国" not in blank  # nothing about the nominees until a household is named
    key = re.search(r'name="idempotency_key" value="([0-9a-f-]{36})"', blank).group(1)
    # Enter on the number (no script): the head's name and the nominees, nothing recorded yet.
    confirm = client.post(ballots_url, {"idempotency_key": key, "number": "001", "action": "lookup"})
    assert confirm.status_code == 200
    assert "户主：张三丰" in page(confirm) and "李秀英" in page(confirm) and "赵桂英" in page(confirm)
    assert f'name="household" value="{cast.household_a.pk}"' in page(confirm)
    assert counts()[0] == 0
    spouse_nomination = Nomination.objects.get(member=spouse)
    a2_nomination = Nomination.objects.get(member=head_a2)
    first = client.post(ballots_url, ballot_data(cast.household_a, [spouse_nomination], key=key), follow=True)
    text = page(first)
    assert "已录入：001 张三丰" in text and "回执码" in text
    assert "本场已录入纸质选票 <strong>1</strong> 张" in text
    second = client.post(ballots_url, ballot_data(cast.household_a2, [a2_nomination]), follow=True)
    assert "本场已录入纸质选票 <strong>2</strong> 张（您录入 2 张）" in page(second)
    assert BallotRecord.objects.filter(campaign=campaign, channel="paper", entered_by=cast.committee_a).count() == 2
    assert Ballot.objects.filter(campaign=campaign).count() == 2
    assert Transfer.objects.filter(code=Transfer.Code.VOTE).count() == 2

    # Close, tally (a tie at the single place), release.
    assert client.post(url("campaigns_advance", campaign), {"to": "closed"}).status_code == 302
    tally = page(client.get(url("campaigns_tally", campaign)))
    assert 'data-testid="tie"' in tally and "⚠ 并列" in tally
    assert "赵桂英" in tally  # every approved nominee, with 0 votes too
    response = client.post(url("campaigns_release", campaign))
    assert response.status_code == 302 and response["Location"] == url("campaigns_winners", campaign)
    campaign.refresh_from_db()
    assert campaign.results_released_at is not None

    # Winners: a tie needs the committee's decision written down.
    winners_url = url("campaigns_winners", campaign)
    pick = {f"pick_{a2_nomination.pk}": "on", f"citation_{a2_nomination.pk}": "十年如一日照顾婆婆。"}
    refused = client.post(winners_url, pick)
    assert refused.status_code == 200
    assert "王建国 与他人票数并列，请记录村委的决定" in page(refused)
    assert Winner.objects.count() == 0 and Transfer.objects.filter(code=Transfer.Code.WINNER).count() == 0
    pick[f"tie_note_{a2_nomination.pk}"] = "村民代表会议表决 12:7"
    response = client.post(winners_url, pick)
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.phase == "published" and campaign.published_at is not None
    (winner,) = Winner.objects.all()
    assert (winner.nomination, winner.tie_note, winner.votes) == (a2_nomination, "村民代表会议表决 12:7", 1)
    assert household_balance(cast.household_a2) == 2 + 50  # its paper ballot, and the win
    # Confirming again credits nothing more.
    again = client.post(winners_url, pick)
    assert again.status_code == 200 and "请先结束投票并公布计票结果" in page(again)
    assert Transfer.objects.filter(code=Transfer.Code.WINNER).count() == 1
    assert verify_ledger().ok

    # The campaign's page shows every phase change and who made it.
    detail = page(client.get(url("campaigns_detail", campaign)))
    history = detail.split('data-testid="phase-history"')[1].split("</table>")[0]
    for label in ("草稿 → 提名中", "提名中 → 投票中", "投票中 → 投票结束", "投票结束 → 已公布", "村民代表会议通过"):
        assert label in history, label
    assert history.count("committee_a") == 5


def test_the_listing_shows_phase_dates_and_turnout(client_for, cast, voting):
    ballot_cast(
        actor=cast.resident_a, campaign=voting["campaign"], nominee_ids=[voting["nominees"][1].pk], idempotency_key="k"
    )
    listing = page(client_for("committee_a").get(LIST))
    assert "2026 年青山村好婆婆" in listing and "投票中" in listing and "村级 · 青山村" in listing
    assert "1/4（25%）" in listing  # 1 of the village's 4 active households
    assert url("campaigns_detail", voting["campaign"]) in listing
    assert url("campaigns_ballots", voting["campaign"]) in listing


def test_the_listing_filters_and_searches(client_for, cast, voting):
    make_campaign(cast, title="青山村最美家庭")
    client = client_for("committee_a")
    voting_only = page(client.get(LIST, {"phase": "voting"}))
    assert "2026 年青山村好婆婆" in voting_only and "青山村最美家庭" not in voting_only
    found = page(client.get(LIST, {"q": "最美"}))
    assert "青山村最美家庭" in found and "2026 年青山村好婆婆" not in found


def test_the_nomination_picker_searches_the_campaigns_villages_only(client_for, cast, campaign):
    client = client_for("committee_a")
    search = url("campaigns_household_search", campaign)
    (found,) = client.get(search, {"q": "wjg"}).json()["results"]
    assert found["head"] == "王建国" and found["url"].endswith(f"?household={cast.household_a2.pk}#nominate")
    assert client.get(search, {"q": "001"}).json()["results"][0]["head"] == "张三丰"
    assert "13800138001" not in page(client.get(search, {"q": "张"}))
    assert client.get(search, {"q": "cyl"}).json()["results"] == []  # 陈玉兰 lives in village B
    assert client.get(search, {"q": ""}).json()["results"] == []
    # Without the script: the search box submits and the results are links.
    listing = page(client.get(url("campaigns_nominations", campaign), {"q": "cyl"}))
    assert "没有找到「cyl」" in listing
    # With it: the shared live search loads before the script that uses it.
    assert listing.index("points/live_search.js") < listing.index("campaigns/admin.js")
    assert "points/once.js" in listing  # one-shot forms (shared with the store's pages)


@pytest.mark.any_day
def test_a_move_by_date_shows_as_automatic(client_for, cast, voting):
    with clock.frozen_at(voting["campaign"].voting_ends + datetime.timedelta(seconds=1)):
        assert campaigns_advance_by_date() == 1
    detail = page(client_for("committee_a").get(url("campaigns_detail", voting["campaign"])))
    assert "按日期自动" in detail and "投票中 → 投票结束" in detail


def test_paper_ballot_success_page_never_shows_the_choices(client_for, cast, voting):
    spouse, _a2, third = voting["nominees"]
    client = client_for("committee_a")
    response = client.post(
        url("campaigns_ballots", voting["campaign"]), ballot_data(cast.household_a, [spouse, third]), follow=True
    )
    text = page(response)
    receipt = re.search(r"回执码 ([A-Z0-9]{10})", text).group(1)
    assert "已录入：001 张三丰" in text
    assert Ballot.objects.get().receipt == receipt
    assert "李秀英" not in text and "赵桂英" not in text  # neither chosen nominee, nor any other
    assert "no-store" in response["Cache-Control"]


def test_a_resubmitted_ballot_form_records_once(client_for, cast, voting):
    client = client_for("committee_a")
    data = ballot_data(cast.household_a, [voting["nominees"][1]])
    ballots_url = url("campaigns_ballots", voting["campaign"])
    first = page(client.post(ballots_url, data, follow=True))
    second = page(client.post(ballots_url, data, follow=True))  # a double click, a reload
    receipt = re.search(r"回执码 ([A-Z0-9]{10})", first).group(1)
    assert f"回执码 {receipt}" in second
    assert counts()[:2] == (1, 1)
    assert Transfer.objects.filter(code=Transfer.Code.VOTE).count() == 1
    # The same key for another household: refused, and the form gets a fresh key.
    reused = client.post(
        ballots_url, ballot_data(cast.household_a2, [voting["nominees"][1]], key=data["idempotency_key"])
    )
    assert "同一个请求编号已用于另一项不同的操作" in page(reused)
    assert data["idempotency_key"] not in page(reused)
    assert counts()[:2] == (1, 1)


@pytest.mark.parametrize("bad_key", ["", "not-a-uuid"])
def test_a_ballot_form_with_a_malformed_key_is_refused_in_chinese(client_for, cast, voting, bad_key):
    data = {**ballot_data(cast.household_a, [voting["nominees"][1]]), "idempotency_key": bad_key}
    response = client_for("committee_a").post(url("campaigns_ballots", voting["campaign"]), data)
    assert response.status_code == 200
    assert "表单已失效，请刷新页面后重新填写" in page(response)
    assert counts()[:2] == (0, 0)


def test_ballot_lookup_names_the_head_and_lists_the_nominees(client_for, cast, voting):
    client = client_for("committee_a")
    lookup = url("campaigns_ballot_lookup", voting["campaign"])
    found = client.get(lookup, {"number": "002", "village": cast.village_a.pk}).json()
    assert found["ok"] and found["household"] == {
        "id": cast.household_a2.pk,
        "village_id": cast.village_a.pk,
        "label": "002 王建国",
        "head": "王建国",
        "village": "青山村",
    }
    assert [(n["key"], n["name"]) for n in found["nominees"]] == [("1", "李秀英"), ("2", "王建国"), ("3", "赵桂英")]
    assert "刘芳" not in json.dumps(found, ensure_ascii=False)  # pending: not on the ballot
    assert "13800138001" not in json.dumps(client.get(lookup, {"number": "QS01-001"}).json())
    assert client.get(lookup, {"number": "999"}).json() == {
        "ok": False,
        "error": "没有找到户号为「999」的户，请核对选票上的户号",
    }
    ballot_cast(
        actor=cast.resident_a, campaign=voting["campaign"], nominee_ids=[voting["nominees"][0].pk], idempotency_key="x"
    )
    voted = client.get(lookup, {"number": "001"}).json()
    assert not voted["ok"] and voted["error"] == "本户已经投过票，选票不能更改" and voted["nominees"] == []


# --- who may reach what -------------------------------------------------------------------------------------------


def campaign_urls(campaign, nomination=None) -> list[str]:
    urls = [
        url("campaigns_detail", campaign),
        url("campaigns_nominations", campaign),
        url("campaigns_household_search", campaign) + "?q=001",
        url("campaigns_ballots", campaign),
        url("campaigns_ballot_lookup", campaign) + "?number=001",
        url("campaigns_tally", campaign),
        url("campaigns_winners", campaign),
        url("campaigns_objections", campaign),
    ]
    return urls


def test_committee_b_cannot_reach_or_enter_ballots_in_a_village_a_campaign(client_for, cast, voting):
    campaign = voting["campaign"]
    client = client_for("committee_b")
    for address in campaign_urls(campaign):
        assert client.get(address).status_code == 404, address
    for view in ("edit", "history", "usage", "delete"):
        assert client.get(f"{LIST}{view}/{campaign.pk}/").status_code == 404, view
    before = counts()
    assert (
        client.post(
            url("campaigns_ballots", campaign), ballot_data(cast.household_a, voting["nominees"][:1])
        ).status_code
        == 404
    )
    assert (
        client.post(
            url("campaigns_ballots", campaign), ballot_data(cast.household_b, voting["nominees"][:1])
        ).status_code
        == 404
    )
    assert client.post(url("campaigns_advance", campaign), {"to": "closed"}).status_code == 404
    assert (
        client.post(url("campaigns_nomination_review", voting["pending"]), {"decision": "approve"}).status_code == 404
    )
    assert client.post(url("campaigns_release", campaign)).status_code == 404
    assert counts() == before
    campaign.refresh_from_db()
    voting["pending"].refresh_from_db()
    assert campaign.phase == "voting" and voting["pending"].status == "pending"
    assert "2026 年青山村好婆婆" not in page(client.get(LIST))


@pytest.mark.parametrize("role", NO_MANAGE)
def test_grid_workers_and_storekeepers_are_refused(client_for, cast, voting, role):
    client = client_for(role)
    for address in [*campaign_urls(voting["campaign"]), reverse("campaigns_ballots_start")]:
        assert client.get(address).status_code == 404, address
    listing = client.get(LIST)
    assert listing.status_code in (302, 403) and "2026 年青山村好婆婆" not in page(listing)
    assert client.get(f"{LIST}add/").status_code in (302, 403)
    before = counts()
    data = ballot_data(cast.household_a, voting["nominees"][:1])
    assert client.post(url("campaigns_ballots", voting["campaign"]), data).status_code == 404
    assert client.post(f"{LIST}add/", campaign_form(f"village:{cast.village_a.pk}")).status_code in (302, 403)
    assert counts() == before and Campaign.objects.count() == 1


@pytest.mark.parametrize("role", LOGGED_OUT)
def test_residents_and_anonymous_are_sent_to_the_login_page(client_for, cast, voting, role):
    client = client_for(role)
    for address in [*campaign_urls(voting["campaign"]), LIST, reverse("campaigns_ballots_start")]:
        response = client.get(address)
        assert response.status_code == 302 and "login" in response["Location"], address
    before = counts()
    response = client.post(
        url("campaigns_ballots", voting["campaign"]), ballot_data(cast.household_a2, [voting["nominees"][0]])
    )
    assert response.status_code == 302
    assert counts() == before


def test_unknown_and_oversized_ids_are_not_found(client_for, cast, campaign):
    client = client_for("committee_a")
    for pk in (0, 999999, 10**25):
        assert client.get(f"/admin/campaigns/{pk}/").status_code == 404, pk
        assert client.post(f"/admin/campaigns/nominations/{pk}/review/", {"decision": "approve"}).status_code == 404
    assert client.get(f"{LIST}edit/{10**25}/").status_code == 404
    assert client.get(url("campaigns_ballots", campaign), {"village": "9" * 30}).status_code == 200
    assert client.get(url("campaigns_nominations", campaign), {"household": "9" * 30}).status_code == 200


def test_menu_shows_campaigns_to_those_who_may_run_one(client_for, cast):
    def in_menu(label, html):
        return f'"label": {json.dumps(label)}' in html

    for role in ("committee_a", "township_staff", "district_admin"):
        html = page(client_for(role).get("/admin/"))
        assert in_menu("评选", html) and in_menu("纸质选票录入", html), role
    for role in NO_MANAGE:
        html = page(client_for(role).get("/admin/"))
        assert not in_menu("评选", html) and not in_menu("纸质选票录入", html), role


def test_township_staff_run_a_township_campaign_and_a_committee_cannot(client_for, cast):
    committee = client_for("committee_a")
    refused = committee.post(f"{LIST}add/", campaign_form(f"township:{cast.township.pk}", title="青山镇最美家庭"))
    assert refused.status_code == 200 and "所选范围不存在，或您无权在该范围发起评选" in page(refused)
    assert not Campaign.objects.exists()

    staff = client_for("township_staff")
    form = page(staff.get(f"{LIST}add/"))
    assert f"township:{cast.township.pk}" in form and f"village:{cast.village_b.pk}" in form
    assert f"village:{cast.village_c.pk}" not in form and "district:" not in form
    data = campaign_form(f"township:{cast.township.pk}", title="青山镇最美家庭", nominee_type="household")
    response = staff.post(f"{LIST}add/", data)
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert (campaign.level, campaign.township, campaign.village, campaign.district) == (
        "township",
        cast.township,
        None,
        cast.district,
    )
    assert staff.get(url("campaigns_detail", campaign)).status_code == 200
    assert staff.post(url("campaigns_advance", campaign), {"to": "nominating"}).status_code == 302

    committee = client_for("committee_a")
    for address in campaign_urls(campaign):
        assert committee.get(address).status_code == 404, address
    assert "青山镇最美家庭" not in page(committee.get(LIST))

    # Staff nominate households of both villages and enter ballots from both, choosing the village.
    staff = client_for("township_staff")
    for household in (cast.household_a, cast.household_b):
        response = staff.post(url("campaigns_nominations", campaign), {"household": household.pk, "story": "家风好。"})
        assert response.status_code == 302
    assert staff.post(url("campaigns_advance", campaign), {"to": "voting"}).status_code == 302
    nominees = list(Nomination.objects.order_by("id"))
    blank = page(staff.get(url("campaigns_ballots", campaign)))
    assert f'<option value="{cast.village_b.pk}">青山镇 · 柳溪村</option>' in blank
    response = staff.post(url("campaigns_ballots", campaign), ballot_data(cast.household_b, nominees[:1]))
    assert response.status_code == 302
    assert BallotRecord.objects.get().household == cast.household_b


def test_district_admin_runs_a_district_campaign(client_for, cast):
    client = client_for("district_admin")
    assert f"district:{cast.district.pk}" in page(client.get(f"{LIST}add/"))
    response = client.post(f"{LIST}add/", campaign_form(f"district:{cast.district.pk}", title="和安区星级文明户"))
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert (campaign.level, campaign.district, campaign.township) == ("district", cast.district, None)
    assert client.get(url("campaigns_detail", campaign)).status_code == 200
    assert client_for("township_staff").get(url("campaigns_detail", campaign)).status_code == 404


def test_each_committee_lists_only_its_own_campaigns(client_for, cast):
    make_campaign(cast, title="青山村活动")
    make_campaign(cast, actor=cast.committee_b, village=cast.village_b, title="柳溪村活动")
    a = page(client_for("committee_a").get(LIST))
    b = page(client_for("committee_b").get(LIST))
    staff = page(client_for("township_staff").get(LIST))
    assert "青山村活动" in a and "柳溪村活动" not in a
    assert "柳溪村活动" in b and "青山村活动" not in b
    assert "青山村活动" in staff and "柳溪村活动" in staff


# --- bad input: a clear message, nothing changes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unknown_number", "没有找到户号为「999」的户，请核对选票上的户号"),
        ("other_village_card", "户号「LX02-001」不在本次评选的范围内，或您无权为其录入选票"),
        ("other_village_id", "户号「001」不在本次评选的范围内，或您无权为其录入选票"),
        ("second_ballot", "本户已经投过票，选票不能更改"),
        ("too_many", "每票最多选 2 位"),
        ("duplicate", "同一位候选不能重复选择"),
        ("unapproved", "所选的候选不在本次评选的候选名单中"),
        ("non_numeric", "候选编号无效：abc"),
        ("none", "请至少选择一位候选"),
        ("no_number", "请输入选票上的户号"),
    ],
)
def test_bad_paper_ballots_are_refused_with_a_message_and_change_nothing(client_for, cast, voting, case, message):
    spouse, a2, third = voting["nominees"]
    if case == "second_ballot":
        ballot_cast(
            actor=cast.committee_a,
            campaign=voting["campaign"],
            household=cast.household_a,
            nominee_ids=[a2.pk],
            idempotency_key="first",
        )
    data = {
        "unknown_number": ballot_data(cast.household_a, [a2], number="999"),
        "other_village_card": ballot_data(cast.household_a, [a2], number="LX02-001"),
        "other_village_id": ballot_data(cast.household_a, [a2], village=cast.village_b.pk),
        "second_ballot": ballot_data(cast.household_a, [third]),
        "too_many": ballot_data(cast.household_a, [spouse, a2, third]),
        "duplicate": ballot_data(cast.household_a, [a2, a2]),
        "unapproved": ballot_data(cast.household_a, [voting["pending"]]),
        "non_numeric": ballot_data(cast.household_a, ["abc"]),
        "none": ballot_data(cast.household_a, []),
        "no_number": ballot_data(cast.household_a, [a2], number=""),
    }[case]
    before = counts()
    response = client_for("committee_a").post(url("campaigns_ballots", voting["campaign"]), data)
    assert response.status_code == 200
    text = page(response)
    assert message in text
    assert counts() == before
    if case in ("too_many", "duplicate", "unapproved", "none"):
        # The entry is kept for correction: the household, its head and the ticked choices.
        assert "户主：张三丰" in text and f'value="{data["idempotency_key"]}"' in text


@pytest.mark.any_day
def test_a_paper_ballot_outside_the_voting_window_is_refused(client_for, cast, voting):
    campaign = voting["campaign"]
    data = ballot_data(cast.household_a, [voting["nominees"][1]])
    with clock.frozen_at(campaign.voting_ends + datetime.timedelta(minutes=1)):
        response = client_for("committee_a").post(url("campaigns_ballots", campaign), data)
        assert "现在不在投票时间内" in page(response)
    assert counts()[:2] == (0, 0)
    with clock.frozen_at(campaign.voting_ends + datetime.timedelta(minutes=1)):
        blank = page(client_for("committee_a").get(url("campaigns_ballots", campaign)))
    assert 'data-testid="voting-closed"' in blank


def test_a_changed_number_must_be_confirmed_again(client_for, cast, voting):
    """The hidden household (confirmed by its name) and the typed number disagree: show the new name, record
    nothing. A ballot never lands on a household whose head was not on the screen."""
    data = ballot_data(cast.household_a, [voting["nominees"][1]], number="002")
    response = client_for("committee_a").post(url("campaigns_ballots", voting["campaign"]), data)
    assert response.status_code == 200 and "户主：王建国" in page(response)
    assert f'name="household" value="{cast.household_a2.pk}"' in page(response)
    assert counts()[0] == 0


def test_the_ballot_page_outside_voting_says_so(client_for, cast, campaign):
    text = page(client_for("committee_a").get(url("campaigns_ballots", campaign)))
    assert "只有投票阶段才能录入纸质选票" in text and 'name="number"' not in text


def test_nominating_an_ineligible_household_shows_the_rule_it_fails(client_for, cast, campaign):
    deduct(cast, cast.household_a2)
    client = client_for("committee_a")
    chosen = page(client.get(url("campaigns_nominations", campaign), {"household": cast.household_a2.pk}))
    assert "该户目前不符合候选条件：今年有扣分记录（5 分）" in chosen
    response = client.post(
        url("campaigns_nominations", campaign),
        {"household": cast.household_a2.pk, "member": cast.household_a2.members.get().pk, "story": "好人好事"},
    )
    assert response.status_code == 200
    assert "今年有扣分记录（5 分），不符合「今年无扣分」的条件" in page(response)
    assert not Nomination.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"story": ""}, "请写下候选的事迹"),
        ({"member": ""}, "本次评选的候选是个人，请选择家庭成员"),
        ({"member": "other"}, "所选成员不属于该户"),
        ({"household": "other_village"}, "所选的户不在本次评选的范围内，或您无权提名该户"),
        ({"household": "x"}, "编号无效"),
    ],
)
def test_bad_nominations_are_refused(client_for, cast, campaign, fields, message):
    data = {"household": cast.household_a2.pk, "member": cast.household_a2.members.get().pk, "story": "好人好事"}
    data.update(fields)
    if data["member"] == "other":
        data["member"] = cast.household_a.members.first().pk
    if data["household"] == "other_village":
        data["household"] = cast.household_b.pk
    response = client_for("committee_a").post(url("campaigns_nominations", campaign), data)
    assert response.status_code == 200 and message in page(response)
    assert not Nomination.objects.exists()


def png(name="photo.png", size=(40, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_nominate_with_photos_and_refuse_a_non_image(client_for, cast, campaign, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    client = client_for("committee_a")
    data = {"household": cast.household_a2.pk, "member": cast.household_a2.members.get().pk, "story": "好人好事"}
    bad = SimpleUploadedFile("fake.jpg", b"not an image", content_type="image/jpeg")
    response = client.post(url("campaigns_nominations", campaign), {**data, "photos": [png(), bad]})
    assert response.status_code == 200 and "fake.jpg 不是有效的图片" in page(response)
    assert not Nomination.objects.exists()
    response = client.post(url("campaigns_nominations", campaign), {**data, "photos": [png("a.png"), png("b.png")]})
    assert response.status_code == 302
    assert Nomination.objects.get().photos.count() == 2
    assert "<img" in page(client.get(url("campaigns_nominations", campaign)))


def test_reject_a_resident_nomination_needs_a_reason(client_for, cast, campaign):
    pending = nomination_submit(
        actor=cast.resident_a,
        campaign=campaign,
        household=cast.household_a2,
        member=cast.household_a2.members.get(),
        story="热心肠",
    )
    client = client_for("committee_a")
    review = url("campaigns_nomination_review", pending)
    response = client.post(review, {"decision": "reject", "reason": ""})
    assert response.status_code == 200 and "请填写未通过的原因" in page(response)
    pending.refresh_from_db()
    assert pending.status == "pending"
    assert client.post(review, {"decision": "reject", "reason": "事迹不属实"}).status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.reject_reason) == ("rejected", "事迹不属实")
    again = client.post(review, {"decision": "approve"}, follow=True)
    assert "该提名已审核" in page(again)
    pending.refresh_from_db()
    assert pending.status == "rejected"


def test_approving_an_ineligible_resident_nomination_shows_the_rule(client_for, cast, campaign):
    pending = nomination_submit(
        actor=cast.resident_a,
        campaign=campaign,
        household=cast.household_a2,
        member=cast.household_a2.members.get(),
        story="热心肠",
    )
    deduct(cast, cast.household_a2, points=3)
    response = client_for("committee_a").post(url("campaigns_nomination_review", pending), {"decision": "approve"})
    assert "今年有扣分记录（3 分）" in page(response)
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_voting_cannot_start_without_an_approved_nominee(client_for, cast, campaign):
    response = client_for("committee_a").post(url("campaigns_advance", campaign), {"to": "voting"})
    assert response.status_code == 200 and "还没有审核通过的候选，不能开始投票" in page(response)
    campaign.refresh_from_db()
    assert campaign.phase == "nominating"
    skip = client_for("committee_a").post(url("campaigns_advance", campaign), {"to": "closed"})
    assert "不能从「提名中」直接进入「投票结束」" in page(skip)


@pytest.mark.any_day
def test_starting_voting_before_its_date_is_explained(client_for, cast):
    now = clock.now()
    campaign = make_campaign(
        cast, voting_starts=now + datetime.timedelta(days=3), voting_ends=now + datetime.timedelta(days=10)
    )
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.NOMINATING)
    text = page(client_for("committee_a").get(url("campaigns_detail", campaign)))
    assert "开始投票" in text and "选票也要到那时才能投出和录入" in text


def test_confirming_winners_before_release_is_refused(client_for, cast, voting):
    campaign, nominee = voting["campaign"], voting["nominees"][1]
    ballot_cast(actor=cast.resident_a, campaign=campaign, nominee_ids=[nominee.pk], idempotency_key="v")
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.CLOSED)
    client = client_for("committee_a")
    before = Transfer.objects.count()
    response = client.post(
        url("campaigns_winners", campaign), {f"pick_{nominee.pk}": "on", f"citation_{nominee.pk}": "好婆婆"}
    )
    assert response.status_code == 200
    assert "请先结束投票并公布计票结果" in page(response)
    assert not Winner.objects.exists() and Transfer.objects.count() == before
    campaign.refresh_from_db()
    assert campaign.phase == "closed"


def test_winners_need_a_citation_and_at_most_the_places(client_for, cast, voting):
    campaign = voting["campaign"]
    spouse, a2, _third = voting["nominees"]
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.CLOSED)
    results_release(actor=cast.committee_a, campaign=campaign)
    client = client_for("committee_a")
    winners_url = url("campaigns_winners", campaign)
    no_citation = client.post(winners_url, {f"pick_{a2.pk}": "on"})
    assert "请填写颁奖词" in page(no_citation)
    too_many = client.post(
        winners_url,
        {
            f"pick_{a2.pk}": "on",
            f"citation_{a2.pk}": "好",
            f"tie_note_{a2.pk}": "抽签",
            f"pick_{spouse.pk}": "on",
            f"citation_{spouse.pk}": "好",
            f"tie_note_{spouse.pk}": "抽签",
        },
    )
    assert "请选择 1 到 1 位获奖者" in page(too_many)
    nothing = client.post(winners_url, {})
    assert "请选择 1 到 1 位获奖者" in page(nothing)
    assert not Winner.objects.exists()


def test_a_winner_photo_is_chosen_from_the_image_library(client, cast, voting, settings, tmp_path):
    from wagtail.images import get_image_model
    from wagtail.images.tests.utils import get_test_image_file

    from tests.factories import superuser

    settings.MEDIA_ROOT = str(tmp_path)
    image = get_image_model().objects.create(title="颁奖照片", file=get_test_image_file())
    campaign, nominee = voting["campaign"], voting["nominees"][2]
    ballot_cast(actor=cast.resident_a, campaign=campaign, nominee_ids=[nominee.pk], idempotency_key="p")
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.CLOSED)
    results_release(actor=cast.committee_a, campaign=campaign)
    client.force_login(superuser())
    winners_url = url("campaigns_winners", campaign)
    assert f'name="photo_{nominee.pk}"' in page(client.get(winners_url))
    data = {f"pick_{nominee.pk}": "on", f"citation_{nominee.pk}": "热心助人。", f"photo_{nominee.pk}": 999999}
    refused = client.post(winners_url, data)
    assert "所选照片不存在或您无权使用" in page(refused) and not Winner.objects.exists()
    data[f"photo_{nominee.pk}"] = image.pk
    assert client.post(winners_url, data).status_code == 302
    assert Winner.objects.get().photo == image


def test_the_tally_hides_counts_while_voting_and_shows_turnout(client_for, cast, voting):
    ballot_cast(
        actor=cast.resident_a, campaign=voting["campaign"], nominee_ids=[voting["nominees"][2].pk], idempotency_key="t"
    )
    text = page(client_for("committee_a").get(url("campaigns_tally", voting["campaign"])))
    assert "投票结束后才显示各候选的得票" in text and 'data-testid="tally"' not in text
    assert 'data-testid="turnout"' in text and "青山村" in text
    release = client_for("committee_a").post(url("campaigns_release", voting["campaign"]))
    assert "投票结束后才能公布计票结果" in page(release)
    voting["campaign"].refresh_from_db()
    assert voting["campaign"].results_released_at is None


@pytest.mark.parametrize("role", ["committee_a", "township_staff", "district_admin"])
def test_no_count_or_order_of_nominees_reaches_any_screen_while_voting(client_for, cast, voting, role):
    """Issue 12, hole 2: the winners' form listed the nominees most votes first while voting ran; comparing it
    before and after one household voted gave that household's choice. Now it is not reachable at all, and the
    tally page holds turnout only."""
    campaign, nominees = voting["campaign"], voting["nominees"]
    ballot_cast(actor=cast.resident_a, campaign=campaign, nominee_ids=[nominees[2].pk], idempotency_key="w")
    client = client_for(role)

    response = client.get(url("campaigns_winners", campaign))

    assert response.status_code == 302 and response["Location"] == url("campaigns_tally", campaign)
    tally = client.get(url("campaigns_tally", campaign))
    assert "rows" not in tally.context["result"] and "tie_at_cut" not in tally.context["result"]
    assert tally.context["result"]["voted"] == 1
    for nominee in nominees:
        assert nominee.display_name not in page(tally)


def test_result_objections_are_answered_publicly(client_for, cast, voting):
    campaign, nominee = voting["campaign"], voting["nominees"][1]
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.CLOSED)
    results_release(actor=cast.committee_a, campaign=campaign)
    winners_confirm(
        actor=cast.committee_a,
        campaign=campaign,
        picks=[{"nomination": nominee.pk, "citation": "好婆婆", "tie_note": "三人均为 0 票，村民代表会议表决"}],
    )
    campaign.refresh_from_db()
    objection = result_objection_file(actor=cast.resident_a, campaign=campaign, text="计票不公开。")
    client = client_for("committee_a")
    assert "计票不公开。" in page(client.get(url("campaigns_objections", campaign)))
    answer_url = url("campaigns_objection_answer", objection)
    empty = client.post(answer_url, {"decision": "dismissed", "answer": ""})
    assert "请填写答复" in page(empty)
    assert client_for("committee_b").post(answer_url, {"decision": "dismissed", "answer": "x"}).status_code == 404
    objection.refresh_from_db()
    assert objection.status == "open"
    client = client_for("committee_a")
    response = client.post(answer_url, {"decision": "dismissed", "answer": "计票全程录像，结果已公示。"})
    assert response.status_code == 302
    objection.refresh_from_db()
    assert (objection.status, objection.answer, objection.answered_by) == (
        ResultObjection.Status.DISMISSED,
        "计票全程录像，结果已公示。",
        cast.committee_a,
    )


# --- the campaign's settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"voting_ends": "2020-01-01 00:00"}, "日期须依次为：提名开始 ≤ 投票开始 < 投票截止"),
        ({"choices_per_ballot": 0}, "每票可选人数须在 1 到 20 之间"),
        ({"rule_min_stars": 6}, "星级要求须在 0 到 5 之间"),
        ({"scope": "village:999999"}, "所选范围不存在，或您无权在该范围发起评选"),
        ({"scope": "nonsense"}, "所选范围不存在，或您无权在该范围发起评选"),
    ],
)
def test_bad_campaign_settings_are_refused(client_for, cast, fields, message):
    data = {**campaign_form(f"village:{cast.village_a.pk}"), **fields}
    response = client_for("committee_a").post(f"{LIST}add/", data)
    assert response.status_code == 200 and message in html.unescape(page(response))
    assert not Campaign.objects.exists()


def test_a_draft_is_edited_and_a_started_campaign_is_not(client_for, cast):
    campaign = make_campaign(cast)
    client = client_for("committee_a")
    edit = f"{LIST}edit/{campaign.pk}/"
    form = page(client.get(edit))
    assert 'name="scope"' not in form and 'name="winners_count"' in form
    data = campaign_form("ignored", winners_count=3, rule_min_stars=2)
    response = client.post(edit, data)
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.winners_count, campaign.rule_min_stars, campaign.village) == (3, 2, cast.village_a)
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.NOMINATING)
    response = client.get(edit)
    assert response.status_code == 302 and response["Location"] == url("campaigns_detail", campaign)
    response = client.post(edit, campaign_form("ignored", winners_count=9), follow=True)
    assert "评选已开始，设置不能再修改" in page(response)
    campaign.refresh_from_db()
    assert campaign.winners_count == 3
    assert PhaseChange.objects.filter(campaign=campaign).count() == 2


# --- paper ballots in a real browser, by keyboard only -------------------------------------------------------------


@pytest.mark.slow
@NEEDS_CHROMIUM
def test_paper_ballots_by_keyboard_in_a_browser(live_server, cast, voting):
    """Number, Enter, name shown; 1 and 3 tick, Enter records; the form is back with focus in the number field;
    a refusal keeps the entry. No console errors, no request off the server."""
    import playwright.sync_api as sync_api

    sync_api.expect.set_options(timeout=20_000)  # assertions wait longer on a loaded machine
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    expect = sync_api.expect
    campaign = voting["campaign"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(locale="zh-CN")
        context.set_default_timeout(30_000)  # a loaded 2-core CI machine is slow
        page_ = context.new_page()
        errors, requested = [], []
        page_.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
        page_.on("pageerror", lambda exc: errors.append(str(exc)))
        page_.on("request", lambda request: requested.append(request.url))
        try:
            address = url("campaigns_ballots", campaign)
            page_.goto(f"{live_server.url}/admin/login/?next={address}")
            page_.fill("input[name=username]", "committee_a")
            page_.fill("input[name=password]", "pw-staff-123")
            page_.click("button[type=submit]")
            page_.wait_for_url(f"**{address}")

            number = page_.locator("[data-ballot-number]")
            expect(number).to_be_focused()
            page_.keyboard.type("001")
            page_.keyboard.press("Enter")
            expect(page_.locator("[data-ballot-head]")).to_have_text("户主：张三丰（青山村）")
            expect(page_.locator("[data-ballot-nominees]")).to_be_focused()
            page_.keyboard.press("1")
            page_.keyboard.press("3")
            expect(page_.locator("[data-ballot-chosen]")).to_have_text("已选 2 位，最多 2 位")
            page_.keyboard.press("Enter")
            expect(page_.locator(".messages")).to_contain_text("已录入：001 张三丰")
            expect(page_.locator("[data-ballot-number]")).to_be_focused()
            expect(page_.locator("[data-testid=ballot-count]")).to_contain_text("1")
            assert "李秀英" not in page_.content() and "赵桂英" not in page_.content()

            # Too many choices: the server refuses, the entry stays for correction.
            page_.keyboard.type("002")
            page_.keyboard.press("Enter")
            expect(page_.locator("[data-ballot-head]")).to_have_text("户主：王建国（青山村）")
            for key in ("1", "2", "3"):
                page_.keyboard.press(key)
            expect(page_.locator("[data-ballot-chosen]")).to_have_text("已选 3 位，超过每票最多 2 位")
            page_.keyboard.press("Enter")
            expect(page_.locator("[data-testid=form-errors]")).to_contain_text("每票最多选 2 位")
            expect(page_.locator("input[name=nominees]:checked")).to_have_count(3)
            page_.keyboard.press("3")  # focus is back in the choices
            page_.keyboard.press("Enter")
            expect(page_.locator(".messages")).to_contain_text("已录入：002 王建国")
            # The new page's number field takes the focus (autofocus lands a moment after load): wait for it, as
            # the operator waits for the cursor, or the first digit goes nowhere.
            expect(page_.locator("[data-ballot-number]")).to_be_focused()

            # A household that already voted is named at once.
            page_.keyboard.type("001")
            page_.keyboard.press("Enter")
            expect(page_.locator("[data-ballot-lookup-error]")).to_contain_text("本户已经投过票")
            expect(page_.locator("[data-ballot-step]")).to_be_hidden()
        finally:
            browser.close()
    assert BallotRecord.objects.filter(campaign=campaign).count() == 2
    assert Transfer.objects.filter(code=Transfer.Code.VOTE).count() == 2
    assert errors == []
    assert all(r.startswith(live_server.url) for r in requested), requested
