"""Planted numbers: free text carrying phone and ID numbers in every way people type them, written where
residents and the committee write (a nominee's story, a campaign's description, a winner's citation, a family
motto and its story, an objection and its answer, a memo), must not show on any public page or API answer, nor
be findable by search.

The bug this guards: ``GET /api/v1/campaigns/{id}`` (no login) answered a nominee's story and a winner's citation
with the numbers the pages masked, and the honor roll, the family motto pages and the search index showed them
as typed.
"""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.ballots import ballot_cast
from campaigns.models import Campaign, Nomination
from campaigns.results import results_release, winners_confirm
from campaigns.services import campaign_advance
from points import clock
from points.ledger.awards import points_award
from points.ledger.notices import notice_publish, objection_answer, objection_file
from points.models import RubricCategory, RubricItem, Transfer
from portal.models import FamilyMottoPage
from tests.campaigns import test_services
from tests.portal.test_api_ledger import API, get

pytestmark = pytest.mark.django_db

campaign = test_services.campaign
voting = test_services.voting

PLANTED = [
    "+86 139 5678 4321",
    "+8613956784321",
    "0086 139-5678-4321",
    "139 5678 4321",
    "１３９５６７８４３２１",
    "110101 19900307 123X",
    "110101-1990-0307-123X",
    "110101900307123",
]
TEXT = "照顾瘫痪的婆婆十年。" + "；".join(f"联系{number}" for number in PLANTED) + "。"
# Any of these in a page means a planted number leaked, whole or in part.
PIECES = [
    *PLANTED,
    "13956784321",
    "5678 4321",
    "56784321",
    "５６７８",
    "11010119900307123X",
    "19900307",
    "1990-0307",
    "900307123",
]


def shows_nothing_private(text: str) -> str:
    for piece in PIECES:
        assert piece not in text, piece
    return text


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return shows_nothing_private(response.content.decode())


def answer(response) -> str:
    assert response.status_code == 200, response.content
    return shows_nothing_private(json.dumps(response.json(), ensure_ascii=False))


@pytest.fixture
def published(cast, voting):
    """Village A's campaign with every free text planted: the description, each nominee's story, the winner's
    citation; one ballot, the count released, the winner confirmed and published."""
    campaign, nominees = voting["campaign"], voting["nominees"]
    Campaign.objects.filter(pk=campaign.pk).update(description=TEXT)
    Nomination.objects.filter(campaign=campaign).update(story=TEXT)
    ballot_cast(actor=cast.resident_a, campaign=campaign, nominee_ids=[nominees[1].pk], idempotency_key="b1")
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.CLOSED)
    results_release(actor=cast.committee_a, campaign=campaign)
    winners_confirm(actor=cast.committee_a, campaign=campaign, picks=[{"nomination": nominees[1].pk, "citation": TEXT}])
    campaign.refresh_from_db()
    assert campaign.phase == Campaign.Phase.PUBLISHED
    return campaign


def test_the_public_campaign_api_masks_stories_citations_and_the_description(client, published):
    detail = answer(client.get(f"{API}/campaigns/{published.pk}"))  # no token
    assert "照顾瘫痪的婆婆十年。联系***" in detail
    results = answer(client.get(f"{API}/campaigns/{published.pk}/results"))
    assert "照顾瘫痪的婆婆十年。联系***" in results
    answer(client.get(f"{API}/campaigns?village={published.village_id}"))


def test_the_campaign_pages_mask_them(client, client_for, cast, published):
    results = page(client, reverse("portal:campaign_results", args=[published.pk]))  # public once released
    assert "照顾瘫痪的婆婆十年。联系***" in results
    resident = client_for("resident_a")
    page(resident, reverse("portal:campaign", args=[published.pk]))
    page(resident, reverse("portal:campaign_results", args=[published.pk]))
    page(resident, reverse("portal:campaigns"))


def test_the_honor_roll_and_every_page_with_a_winner_card_mask_the_citation(client, cast, site_pages, published):
    roll = page(client, site_pages.honor_roll.url)
    assert "照顾瘫痪的婆婆十年。联系***" in roll
    page(client, site_pages.village.url)
    page(client, site_pages.home.url)


@pytest.fixture
def planted_motto(cast, site_pages):
    return site_pages.motto_index.add_child(
        instance=FamilyMottoPage(
            title="王*国家的家风家训",
            slug="motto-planted",
            household=cast.household_a2,
            motto="家和万事兴，有事打 139 5678 4321",
            story=TEXT,
        )
    )


def test_family_motto_pages_mask_the_motto_and_its_story(client, planted_motto, site_pages):
    shown = page(client, planted_motto.url)
    assert "家和万事兴，有事打 ***" in shown and "照顾瘫痪的婆婆十年。联系***" in shown
    assert "家和万事兴，有事打 ***" in page(client, site_pages.motto_index.url)


def test_search_shows_masked_text_and_finds_nothing_by_a_number(client, cast, planted_motto, published):
    found = page(client, "/search/?q=家和万事兴")
    assert "王*国家的家风家训" in found and "家和万事兴，有事打 ***" in found
    found = page(client, "/search/?q=婆婆")  # the winner's citation matches; shown masked
    assert "照顾瘫痪的婆婆十年。联系***" in found
    for query in ["13956784321", "139 5678 4321", "5678", "139", "19900307", "家和万事兴 5678"]:
        content = client.get("/search/", {"q": query}).content.decode()  # the query itself is echoed back
        assert "王*国家的家风家训" not in content, query
        assert "没有找到相关的页面或家风家训" in content and "光荣榜上没有找到相关的获奖者" in content, query


def test_the_notice_masks_objections_answers_and_reversal_reasons(client, cast):
    category = RubricCategory.objects.create(name="孝老爱亲", order=1)
    item = RubricItem.objects.create(category=category, district=cast.district, name="赡养照顾老人", points=10)
    at = timezone.make_aware(datetime.datetime(2026, 4, 12, 10))
    with clock.frozen_at(at):
        (line,) = points_award(
            actor=cast.committee_a,
            village=cast.village_a,
            rubric_item=item,
            households=[cast.household_a],
            idempotency_key="n1",
            memo="联系 +86 139 5678 4321",
        )
    with clock.frozen_at(at + datetime.timedelta(days=20)):
        notice_publish(actor=cast.committee_a, village=cast.village_a, period=datetime.date(2026, 4, 1))
    with clock.frozen_at(at + datetime.timedelta(days=21)):
        objection = objection_file(actor=cast.resident_a, transfer=line, text=TEXT)
        objection_answer(actor=cast.committee_a, objection=objection, upheld=True, answer="已核实，电话 139-5678-4321")
        notice = page(client, "/notice/QS01/2026-04/")
        assert "照顾瘫痪的婆婆十年。联系***" in notice and "已核实，电话 ***" in notice
        resident = client_for_resident(client, cast)
        page(resident, "/me/statement/")
        page(resident, "/me/objections/")
        statement = answer(get(client, f"/households/{cast.household_a.pk}/transfers", cast.resident_a))
        assert "联系 ***" in statement
    assert Transfer.objects.filter(code=Transfer.Code.REVERSAL).count() == 1


def client_for_resident(client, cast):
    client.force_login(cast.resident_a)
    return client
