"""The resident's campaign pages: nominees, a secret ballot cast once with a receipt, nominations, results and
the receipt lookup, objections to the results. Own household only; no private numbers; never a ballot's choices
beside the household that cast it."""

import datetime
import io
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from campaigns.ballots import ballot_cast
from campaigns.models import Ballot, BallotRecord, Campaign, Nomination, ResultObjection
from campaigns.results import results_release, winners_confirm
from campaigns.services import campaign_advance, campaign_create, nomination_submit
from points import clock
from points.ledger.awards import points_award
from points.ledger.selectors import household_balance
from points.models import RubricCategory, RubricItem
from tests.factories import make_household

from .pages import PHONE, page_of


def now():
    return clock.now()


def form_key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f-]{36})"', html).group(1)


def png(name="photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def new_campaign(cast, *, village=None, title="2026 年青山村好婆婆", committee=None, **fields):
    campaign = campaign_create(
        actor=committee or cast.committee_a,
        campaign=Campaign(
            kind=Campaign.Kind.GOOD_MOTHER_IN_LAW,
            title=title,
            level=Campaign.Level.VILLAGE,
            village=village or cast.village_a,
            district=cast.district,
            nominee_type=Campaign.NomineeType.PERSON,
            choices_per_ballot=2,
            winners_count=1,
            participation_points=2,
            winner_points=50,
            nominating_starts=now() - datetime.timedelta(days=1),
            voting_starts=now() - datetime.timedelta(hours=1),
            voting_ends=now() + datetime.timedelta(days=7),
            **fields,
        ),
    )
    return campaign


@pytest.fixture
def campaign(cast):
    """A village A 好婆婆 campaign (persons, two choices per ballot), nominating now."""
    campaign = new_campaign(cast)
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.NOMINATING)
    return Campaign.objects.get(pk=campaign.pk)


@pytest.fixture
def voting(cast, campaign, media):
    """Approved nominees 李秀英 (household A, with a photo), 王建国 (A2) and 赵桂英 (a third household); voting."""
    third = make_household(cast.village_a, number="003", head="赵桂英")
    nominees = [
        nomination_submit(
            actor=cast.committee_a,
            campaign=campaign,
            household=household,
            member=household.members.order_by("-relation").first(),
            story=story,
            photos=photos,
        )
        for household, story, photos in (
            (cast.household_a, f"照顾瘫痪的婆婆十年。电话 {PHONE}", [png()]),
            (cast.household_a2, "邻里和睦，热心帮忙。", []),
            (third, "孝顺公婆，教子有方。", []),
        )
    ]
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.VOTING)
    campaign.refresh_from_db()
    return {"campaign": campaign, "nominees": nominees, "third": third}


NAMES = ("李秀英", "王建国", "赵桂英")


def vote(client, campaign, nominee_ids, key=None):
    if key is None:
        key = form_key(page_of(client.get(f"/campaigns/{campaign.pk}/")))
    return client.post(f"/campaigns/{campaign.pk}/vote/", {"idempotency_key": key, "nominees": nominee_ids})


def release(cast, campaign):
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.CLOSED)
    return results_release(actor=cast.committee_a, campaign=campaign)


# --- who may see what ------------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, cast, voting):
    pk = voting["campaign"].pk
    for url in ["/campaigns/", f"/campaigns/{pk}/", f"/campaigns/{pk}/nominate/", f"/campaigns/{pk}/objection/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), url
    response = client.post(f"/campaigns/{pk}/vote/", {"nominees": [voting["nominees"][0].pk]})
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
    # Results are public once released; before that, a visitor is asked to sign in and learns nothing.
    response = client.get(f"/campaigns/{pk}/results/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
    assert BallotRecord.objects.count() == 0


@pytest.mark.parametrize("role", ["committee_a", "grid_worker_a"])
def test_staff_find_no_resident_campaign_pages(client_for, cast, voting, role):
    client = client_for(role)
    pk = voting["campaign"].pk
    for url in ["/campaigns/", f"/campaigns/{pk}/", f"/campaigns/{pk}/nominate/"]:
        assert client.get(url).status_code == 404, url


def test_other_villages_and_draft_campaigns_are_not_shown(client_for, cast, voting):
    theirs = new_campaign(cast, village=cast.village_b, title="柳溪村最美家庭", committee=cast.committee_b)
    campaign_advance(actor=cast.committee_b, campaign=theirs, to=Campaign.Phase.NOMINATING)
    draft = new_campaign(cast, title="还在起草的评选")
    client = client_for("resident_a")
    listing = page_of(client.get("/campaigns/"))
    assert "2026 年青山村好婆婆" in listing
    assert "柳溪村最美家庭" not in listing and "还在起草的评选" not in listing
    for other in (theirs, draft):
        for url in (f"/campaigns/{other.pk}/", f"/campaigns/{other.pk}/nominate/", f"/campaigns/{other.pk}/results/"):
            assert client.get(url).status_code == 404, url


# --- the campaign and its ballot ---------------------------------------------------------------------------------


def test_the_campaign_page_shows_nominees_stories_photos_and_the_rule(client_for, cast, voting):
    client = client_for("resident_a")
    listing = page_of(client.get("/campaigns/"))
    assert "投票中" in listing and "去投票" in listing
    page = page_of(client.get(f"/campaigns/{voting['campaign'].pk}/"))
    for name in NAMES:
        assert name in page
    assert "照顾瘫痪的婆婆十年。电话 ***" in page and "邻里和睦，热心帮忙。" in page
    campaign_id = voting["campaign"].pk
    assert re.search(rf'<img src="/campaigns/{campaign_id}/photos/[0-9]+/" alt="李秀英的照片 1"', page)
    assert "每户一票，最多选 2 位，可以少选。投出后不能更改。" in page
    assert page.count('type="checkbox" name="nominees"') == 3
    assert form_key(page)
    assert "本户已投票" not in page


def test_a_vote_shows_the_receipt_and_never_the_choices(client_for, cast, voting):
    campaign, nominees = voting["campaign"], voting["nominees"]
    client = client_for("resident_a")
    response = vote(client, campaign, [nominees[1].pk, nominees[2].pk])
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = page_of(response)
    ballot = Ballot.objects.get()
    assert f'<p class="receipt-code" translate="no">{ballot.receipt}</p>' in page
    assert "请记下您的选票编号，结果公布后可凭编号查询" in page
    for name in NAMES:
        assert name not in page
    assert BallotRecord.objects.get().household == cast.household_a
    assert household_balance(cast.household_a) == 2
    # Afterwards the household sees that it voted, never whom for, and no ballot form.
    detail = page_of(client.get(f"/campaigns/{campaign.pk}/"))
    assert "本户已投票" in detail and 'name="nominees"' not in detail and ballot.receipt not in detail
    assert "本户已投票" in page_of(client.get("/campaigns/"))


def test_a_double_tap_casts_one_ballot_with_one_receipt(client_for, cast, voting):
    campaign, nominees = voting["campaign"], voting["nominees"]
    client = client_for("resident_a")
    key = form_key(page_of(client.get(f"/campaigns/{campaign.pk}/")))
    first = page_of(vote(client, campaign, [nominees[0].pk], key=key))
    second = page_of(vote(client, campaign, [nominees[0].pk], key=key))
    receipt = Ballot.objects.get().receipt
    assert receipt in first and receipt in second
    assert BallotRecord.objects.count() == 1 and household_balance(cast.household_a) == 2


@pytest.mark.parametrize("bad_key", ["", "not-a-uuid", "1" * 500])
def test_a_ballot_with_a_malformed_key_is_refused_in_chinese(client_for, cast, voting, bad_key):
    campaign, nominees = voting["campaign"], voting["nominees"]
    balance = household_balance(cast.household_a)
    response = vote(client_for("resident_a"), campaign, [nominees[0].pk], key=bad_key)
    assert response.status_code == 200
    assert "页面已过期，请返回重新选择后再提交" in page_of(response)
    assert BallotRecord.objects.count() == 0 and household_balance(cast.household_a) == balance


@pytest.mark.parametrize("same_key", [False, True])
def test_voting_again_says_the_household_voted_and_credits_nothing(client_for, cast, voting, same_key):
    campaign, nominees = voting["campaign"], voting["nominees"]
    client = client_for("resident_a")
    key = form_key(page_of(client.get(f"/campaigns/{campaign.pk}/")))
    vote(client, campaign, [nominees[0].pk], key=key)
    # A second tab opened before the first vote carries another key; a reload carries the same one.
    response = vote(client, campaign, [nominees[2].pk], key=key if same_key else str(uuid.uuid4()))
    assert response.status_code == 200
    page = page_of(response)
    assert "本户已投票" in page and "receipt-code" not in page
    assert BallotRecord.objects.count() == Ballot.objects.count() == 1
    assert household_balance(cast.household_a) == 2


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("too many", "每票最多选 2 位"),
        ("none", "请至少选择一位候选"),
        ("another campaign's nominee", "所选的候选不在本次评选的候选名单中"),
        ("not a number", "候选编号无效"),
    ],
)
def test_bad_ballots_are_refused_in_chinese_and_write_nothing(client_for, cast, voting, case, message):
    campaign, nominees = voting["campaign"], voting["nominees"]
    other = new_campaign(cast, title="2026 年青山村好媳妇")
    campaign_advance(actor=cast.committee_a, campaign=other, to=Campaign.Phase.NOMINATING)
    elsewhere = nomination_submit(
        actor=cast.committee_a,
        campaign=other,
        household=cast.household_a2,
        member=cast.household_a2.members.first(),
        story="另一项评选的候选",
    )
    choice = {
        "too many": [n.pk for n in nominees],
        "none": [],
        "another campaign's nominee": [elsewhere.pk],
        "not a number": ["abc"],
    }[case]
    client = client_for("resident_a")
    response = vote(client, campaign, choice)
    assert response.status_code == 200
    page = page_of(response)
    assert message in page and "receipt-code" not in page
    assert 'name="nominees"' in page  # the ballot is shown again to correct
    assert BallotRecord.objects.count() == Ballot.objects.count() == 0
    assert household_balance(cast.household_a) == 0


def test_another_households_vote_is_not_this_households(client_for, cast, voting):
    ballot_cast(
        actor=cast.committee_a,
        campaign=voting["campaign"],
        household=cast.household_a2,
        nominee_ids=[voting["nominees"][0].pk],
        idempotency_key="paper-1",
    )
    page = page_of(client_for("resident_a").get(f"/campaigns/{voting['campaign'].pk}/"))
    assert "本户已投票" not in page and 'name="nominees"' in page


# --- results -------------------------------------------------------------------------------------------------------


def test_results_are_hidden_until_released(client_for, cast, voting):
    campaign = voting["campaign"]
    client = client_for("resident_a")
    vote(client, campaign, [voting["nominees"][1].pk])
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.CLOSED)
    page = page_of(client.get(f"/campaigns/{campaign.pk}/results/"))
    assert "计票结果尚未公布" in page
    assert "各候选得票" not in page and "王建国" not in page and "凭编号查询" not in page
    response = client.post(f"/campaigns/{campaign.pk}/results/", {"receipt": Ballot.objects.get().receipt})
    assert "计票结果尚未公布" in page_of(response) and "王建国" not in page_of(response)


def test_released_results_show_counts_turnout_winners_and_find_a_receipt(client_for, client, cast, voting):
    campaign, nominees = voting["campaign"], voting["nominees"]
    resident = client_for("resident_a")
    vote(resident, campaign, [nominees[1].pk, nominees[2].pk])
    receipt = Ballot.objects.get().receipt
    ballot_cast(
        actor=cast.committee_a,
        campaign=campaign,
        household=cast.household_a2,
        nominee_ids=[nominees[1].pk],
        idempotency_key="paper-1",
    )
    campaign = release(cast, campaign)
    url = f"/campaigns/{campaign.pk}/results/"
    page = page_of(resident.get(url))
    assert '<span class="mid-number">2</span> / 3 户投票（67%）' in page
    rows = re.findall(r"<tr[^>]*>\s*<td>(\d+)</td>\s*<th scope=\"row\">([^<]+)", page)
    assert [(rank, name.strip()) for rank, name in rows] == [("1", "王建国"), ("2", "赵桂英"), ("3", "李秀英")]
    assert "获奖名单待村委确认后公布" in page
    found = page_of(resident.post(url, {"receipt": receipt.lower()}))
    assert f'编号 <strong translate="no">{receipt}</strong> 的选票已计入' in found
    chosen = found.split("的选票已计入", 1)[1].split("</ul>", 1)[0]
    assert "王建国" in chosen and "赵桂英" in chosen and "李秀英" not in chosen
    assert "没有找到编号为 ZZZZZZZZZZ 的选票" in page_of(resident.post(url, {"receipt": "ZZZZZZZZZZ"}))
    assert "请输入选票编号" in page_of(resident.post(url, {"receipt": " "}))
    winners_confirm(
        actor=cast.committee_a,
        campaign=campaign,
        picks=[{"nomination": nominees[1].pk, "citation": "热心助人的好榜样"}],
    )
    published = page_of(resident.get(url))
    assert "★ 当选" in published and "热心助人的好榜样" in published
    assert f'href="/campaigns/{campaign.pk}/objection/"' in published
    # Public once released: anyone may read the count and check a receipt, and gets no objection link.
    client.logout()
    public = page_of(client.get(url))
    assert "王建国" in public and "/objection/" not in public
    assert "王建国" in page_of(client.post(url, {"receipt": receipt}))


# --- nominating ----------------------------------------------------------------------------------------------------


def nominate(client, campaign, **data):
    return client.post(f"/campaigns/{campaign.pk}/nominate/", {"story": "照顾婆婆十年如一日。", **data})


def test_a_resident_nominates_another_household_by_its_number_and_it_waits_for_review(client_for, cast, campaign):
    client = client_for("resident_a")
    form = page_of(client.get(f"/campaigns/{campaign.pk}/nominate/"))
    assert "李秀英" in form and "张三丰" in form  # own members to choose from
    assert "王建国" not in form  # never another household's
    assert "我要提名" in page_of(client.get(f"/campaigns/{campaign.pk}/"))
    response = nominate(client, campaign, target="other", login_number="qs01－002", member_name="王建国")
    assert response.status_code == 302 and response["Location"] == f"/campaigns/{campaign.pk}/"
    nomination = Nomination.objects.get()
    assert (nomination.status, nomination.household, nomination.member.name, nomination.nominated_by) == (
        Nomination.Status.PENDING,
        cast.household_a2,
        "王建国",
        cast.resident_a,
    )
    assert "提名已提交，村委审核通过后列入候选名单。" in page_of(client.get(f"/campaigns/{campaign.pk}/"))


def test_a_resident_nominates_their_own_member_with_a_photo(client_for, cast, campaign, media):
    member = cast.household_a.members.get(name="李秀英")
    response = nominate(client_for("resident_a"), campaign, target="own", member=member.pk, photos=[png()])
    assert response.status_code == 302
    nomination = Nomination.objects.get()
    assert (nomination.household, nomination.member, nomination.status) == (cast.household_a, member, "pending")
    assert nomination.photos.count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"target": "own"}, "请选择本户的被提名人"),
        ({"target": "other", "login_number": "", "member_name": "王建国"}, "请填写被提名户的户号"),
        ({"target": "other", "login_number": "QS01-002", "member_name": ""}, "请填写被提名人的姓名"),
        ({"target": "other", "login_number": "QS01-999", "member_name": "王建国"}, "没有找到这一户或这位家庭成员"),
        ({"target": "other", "login_number": "QS01-002", "member_name": "李秀英"}, "没有找到这一户或这位家庭成员"),
        ({"target": "other", "login_number": "LX02-001", "member_name": "陈玉兰"}, "没有找到这一户或这位家庭成员"),
        ({"target": "own", "member": "1", "story": ""}, "请写下候选的事迹"),
    ],
)
def test_bad_nominations_are_refused_in_chinese_and_write_nothing(client_for, cast, campaign, media, data, message):
    if data.get("member") == "1":
        data = {**data, "member": cast.household_a.members.first().pk}
    response = nominate(client_for("resident_a"), campaign, **data)
    assert response.status_code == 200
    page = page_of(response)
    assert message in page and "没有提交成功" in page
    assert not Nomination.objects.exists()


def test_an_ineligible_nomination_shows_the_rule_it_fails(client_for, cast, campaign):
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
    client = client_for("resident_a")
    page = page_of(nominate(client, campaign, target="other", login_number="002", member_name="王建国"))
    assert "不符合评选条件：今年有扣分记录（5 分），不符合「今年无扣分」的条件" in page
    campaign.rule_min_stars = 3
    campaign.save()
    member = cast.household_a.members.get(name="李秀英")
    page = page_of(nominate(client, campaign, target="own", member=member.pk))
    assert "不符合评选条件：今年为 0 星，不符合「至少 3 星」的条件" in page
    assert not Nomination.objects.exists()


@pytest.mark.any_day
def test_nominating_outside_the_nominating_phase_is_refused(client_for, cast, voting):
    client = client_for("resident_a")
    url = f"/campaigns/{voting['campaign'].pk}/nominate/"
    assert "现在不是提名阶段" in page_of(client.get(url))
    member = cast.household_a.members.get(name="张三丰")
    page = page_of(nominate(client, voting["campaign"], target="own", member=member.pk))
    assert "现在不是提名阶段" in page
    assert Nomination.objects.count() == 3  # the fixture's three


# --- objections to the results ---------------------------------------------------------------------------------------


@pytest.mark.any_day
def test_a_result_objection_during_the_notice_period_and_not_after(client_for, cast, voting):
    campaign, nominees = voting["campaign"], voting["nominees"]
    client = client_for("resident_a")
    url = f"/campaigns/{campaign.pk}/objection/"
    assert "获奖名单公布后才能提出异议" in page_of(client.get(url))
    campaign = release(cast, campaign)
    winners_confirm(
        actor=cast.committee_a,
        campaign=campaign,
        picks=[{"nomination": nominees[0].pk, "citation": "好婆婆", "tie_note": "村民代表会议表决"}],
    )
    campaign.refresh_from_db()
    assert "异议截止" in page_of(client.get(url))
    assert "请写明异议的理由" in page_of(client.post(url, {"text": " "}))
    assert not ResultObjection.objects.exists()
    response = client.post(url, {"text": "候选事迹与实际不符"})
    assert response.status_code == 302 and response["Location"] == f"/campaigns/{campaign.pk}/results/"
    objection = ResultObjection.objects.get()
    assert (objection.household, objection.status) == (cast.household_a, "open")
    assert "异议已提交，村委会公开答复。" in page_of(client.get(f"/campaigns/{campaign.pk}/results/"))
    with clock.frozen_at(campaign.published_at + datetime.timedelta(days=campaign.notice_days, minutes=1)):
        assert "结果公示期已过" in page_of(client.get(url))
        assert "结果公示期已过" in page_of(client.post(url, {"text": "太晚了"}))
        assert "/objection/" not in page_of(client.get(f"/campaigns/{campaign.pk}/results/"))
    assert ResultObjection.objects.count() == 1
