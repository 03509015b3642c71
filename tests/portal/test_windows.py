"""The time windows, each one function, and every page and API answer that shows them agreeing with the service
that enforces them at the window's edges: the last instant in and the first instant out.

- the month's notice takes objections through its whole deadline day (Asia/Shanghai):
  ``points.ledger.notices.notice_objections_open``;
- published results take objections until ``published_at + notice_days``, that instant included:
  ``campaigns.results.result_objections_open``;
- voting is open from ``voting_starts`` (in) to ``voting_ends`` (out): ``campaigns.selectors.voting_open``.
"""

import datetime
import zoneinfo

import pytest
from django.urls import reverse

from campaigns.ballots import ballot_cast
from campaigns.exceptions import CampaignError, VotingClosed
from campaigns.models import Campaign, ResultObjection
from campaigns.results import (
    result_objection_deadline,
    result_objection_file,
    result_objections_open,
    results_release,
    winners_confirm,
)
from campaigns.selectors import voting_open
from campaigns.services import campaign_advance
from points import clock
from points.exceptions import NoticeError
from points.ledger.awards import points_award
from points.ledger.notices import (
    month_close,
    notice_objections_open,
    notice_period_over,
    notice_publish,
    objection_file,
)
from points.models import MonthlyNotice, Objection, RubricCategory, RubricItem
from tests.campaigns import test_services
from tests.portal.test_api_ledger import API

pytestmark = pytest.mark.django_db

campaign = test_services.campaign
voting = test_services.voting

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
SECOND = datetime.timedelta(seconds=1)


def at(*args):
    return datetime.datetime(*args, tzinfo=SHANGHAI)


# --- the month's notice --------------------------------------------------------------------------------------


@pytest.fixture
def notice(cast):
    """April 2026 of village A published on 2 May: objections until 9 May (seven days) inclusive."""
    category = RubricCategory.objects.create(name="孝老爱亲", order=1)
    item = RubricItem.objects.create(category=category, district=cast.district, name="赡养照顾老人", points=10)
    with clock.frozen_at(at(2026, 4, 12, 10)):
        points_award(
            actor=cast.committee_a,
            village=cast.village_a,
            rubric_item=item,
            households=[cast.household_a],
            idempotency_key="w1",
        )
    with clock.frozen_at(at(2026, 5, 2, 10)):
        notice = notice_publish(actor=cast.committee_a, village=cast.village_a, period=datetime.date(2026, 4, 1))
    assert notice.objection_deadline == datetime.date(2026, 5, 9)
    return notice


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        (at(2026, 5, 2, 10), True),
        (at(2026, 5, 9, 0, 0, 0), True),
        (at(2026, 5, 9, 23, 59, 59), True),  # the last second in
        (at(2026, 5, 10, 0, 0, 0), False),  # the first second out
        (at(2026, 5, 20, 12), False),
    ],
)
def test_the_notice_page_the_objection_page_and_the_service_agree(client, cast, notice, moment, open_):
    line = notice.village.transfers.get(code="award")
    client.force_login(cast.resident_a)
    with clock.frozen_at(moment):
        assert notice_objections_open(MonthlyNotice.objects.get(pk=notice.pk)) is open_
        assert notice_period_over(notice) is not open_
        public = client.get("/notice/QS01/2026-04/")
        assert public.context["objections_open"] is open_ and public.context["can_object"] is open_
        form = client.get(reverse("portal:objection_new", args=[line.pk]))
        assert (form.context["refusal"] == "") is open_
        if open_:
            objection_file(actor=cast.resident_a, transfer=line, text="加分有误")
            assert Objection.objects.count() == 1
            with pytest.raises(NoticeError, match="公示期到"):
                month_close(actor=cast.committee_a, village=cast.village_a, period=notice.period)
        else:
            with pytest.raises(NoticeError, match="公示期已过"):
                objection_file(actor=cast.resident_a, transfer=line, text="加分有误")
            assert not Objection.objects.exists()
            month_close(actor=cast.committee_a, village=cast.village_a, period=notice.period)


def test_a_closed_notice_takes_no_objection_whatever_the_date(cast, notice):
    MonthlyNotice.objects.filter(pk=notice.pk).update(closed_at=at(2026, 5, 3, 9))
    with clock.frozen_at(at(2026, 5, 3, 10)):
        assert not notice_objections_open(MonthlyNotice.objects.get(pk=notice.pk))


# --- the results of a campaign ---------------------------------------------------------------------------------


@pytest.fixture
def published(cast, voting):
    campaign, nominees = voting["campaign"], voting["nominees"]
    ballot_cast(actor=cast.resident_a, campaign=campaign, nominee_ids=[nominees[1].pk], idempotency_key="w")
    moment = clock.now().replace(microsecond=0) + datetime.timedelta(hours=1)
    with clock.frozen_at(moment):
        campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.CLOSED)
        results_release(actor=cast.committee_a, campaign=campaign)
        winners_confirm(
            actor=cast.committee_a, campaign=campaign, picks=[{"nomination": nominees[1].pk, "citation": "好"}]
        )
    campaign.refresh_from_db()
    assert campaign.published_at == moment
    assert result_objection_deadline(campaign) == moment + datetime.timedelta(days=campaign.notice_days)
    return campaign


@pytest.mark.parametrize(("offset", "open_"), [(-SECOND, True), (datetime.timedelta(0), True), (SECOND, False)])
def test_the_results_page_the_objection_page_and_the_service_agree(client, cast, published, offset, open_):
    client.force_login(cast.resident_a)
    with clock.frozen_at(result_objection_deadline(published) + offset):
        assert result_objections_open(published) is open_
        results = client.get(reverse("portal:campaign_results", args=[published.pk]))
        assert results.context["objections_open"] is open_
        form = client.get(reverse("portal:campaign_objection", args=[published.pk]))
        assert (form.context["refusal"] == "") is open_
        if open_:
            result_objection_file(actor=cast.resident_a, campaign=published, text="计票有误")
            assert ResultObjection.objects.count() == 1
        else:
            with pytest.raises(CampaignError, match="结果公示期已过"):
                result_objection_file(actor=cast.resident_a, campaign=published, text="计票有误")
            assert not ResultObjection.objects.exists()


def test_results_not_yet_published_have_no_window(cast, voting):
    assert result_objection_deadline(voting["campaign"]) is None
    assert not result_objections_open(voting["campaign"])


# --- voting ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edge", "offset", "open_"),
    [
        ("voting_starts", -SECOND, False),
        ("voting_starts", datetime.timedelta(0), True),  # voting_starts exactly: in
        ("voting_ends", -SECOND, True),
        ("voting_ends", datetime.timedelta(0), False),  # voting_ends exactly: out
    ],
)
def test_the_pages_the_api_the_paper_ballot_screen_and_the_service_agree(client, cast, voting, edge, offset, open_):
    campaign, nominees = voting["campaign"], voting["nominees"]
    with clock.frozen_at(getattr(campaign, edge) + offset):
        assert voting_open(campaign) is open_
        assert client.get(f"{API}/campaigns/{campaign.pk}").json()["voting_open"] is open_
        client.force_login(cast.resident_a)
        assert client.get(reverse("portal:campaign", args=[campaign.pk])).context["voting_open"] is open_
        assert client.get(reverse("portal:campaigns")).context["current"][0].voting_open is open_
        client.force_login(cast.committee_a)
        assert client.get(reverse("campaigns_ballots", args=[campaign.pk])).context["voting_open"] is open_
        cast_it = lambda: ballot_cast(  # noqa: E731
            actor=cast.resident_a, campaign=campaign, nominee_ids=[nominees[1].pk], idempotency_key="edge"
        )
        if open_:
            assert cast_it()
        else:
            with pytest.raises(VotingClosed):
                cast_it()
