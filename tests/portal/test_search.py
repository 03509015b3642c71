"""Site search (/search/?q=): live public pages and family mottos through Wagtail's index (a substring match over
its text for Chinese, which full-text engines cannot split into words), and winners of published campaigns."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Campaign, Nomination, Winner
from points import clock
from portal.models import FamilyMottoPage, NewsPage
from portal.search import MAX_QUERY_LENGTH, has_cjk, normalise

from ..factories import make_household

pytestmark = pytest.mark.django_db


def make_winner(cast, household, *, title, phase=Campaign.Phase.PUBLISHED, citation="孝敬老人，邻里和睦。"):
    now = clock.now()
    campaign = Campaign.objects.create(
        kind=Campaign.Kind.GOOD_MOTHER_IN_LAW,
        title=title,
        level=Campaign.Level.VILLAGE,
        district=cast.district,
        township=cast.township,
        village=household.village,
        nominee_type=Campaign.NomineeType.HOUSEHOLD,
        nominating_starts=now - datetime.timedelta(days=30),
        voting_starts=now - datetime.timedelta(days=20),
        voting_ends=now - datetime.timedelta(days=10),
        phase=phase,
        published_at=now if phase == Campaign.Phase.PUBLISHED else None,
        created_by=cast.committee_a,
    )
    nomination = Nomination.objects.create(
        campaign=campaign,
        village=household.village,
        household=household,
        story="事迹",
        status=Nomination.Status.APPROVED,
        nominated_by=cast.committee_a,
    )
    return Winner.objects.create(
        campaign=campaign,
        nomination=nomination,
        village=household.village,
        rank=1,
        votes=10,
        citation=citation,
        confirmed_by=cast.committee_a,
    )


def search(client, q, **params):
    response = client.get("/search/", {"q": q, **params})
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, title_id: str) -> str:
    start = html.index(f'id="{title_id}"')
    end = html.find("</section>", start)
    return html[start:end]


def page_hits(html):
    return re.findall(r'<a class="line-text" href="([^"]+)">', section(html, "pages-title"))


def winner_hits(html):
    return re.findall(r"<h3>([^<]+)</h3>", section(html, "winners-title"))


# --- pages and mottos ----------------------------------------------------------------------------------------


def test_finds_a_motto_by_a_word_in_its_story_or_motto(client, site_pages):
    assert page_hits(search(client, "人缘")) == [site_pages.motto.url]  # in the story only
    assert page_hits(search(client, "勤俭")) == [site_pages.motto.url]  # part of the motto
    assert page_hits(search(client, "  与人为善 ")) == [site_pages.motto.url]


def test_finds_news_by_title_summary_and_body(client, site_pages):
    assert site_pages.news.url in page_hits(search(client, "送法下乡"))
    assert page_hits(search(client, "民法典")) == [site_pages.news.url]  # the summary
    assert page_hits(search(client, "踊跃提问")) == [site_pages.news.url]  # a paragraph of the StreamField body
    assert page_hits(search(client, "民法典 赡养")) == [site_pages.news.url]  # every word must match
    assert page_hits(search(client, "民法典 饺子")) == []
    assert page_hits(search(client, "《民法典》，赡养")) == [site_pages.news.url]  # punctuation separates words


def test_finds_a_village_page_by_its_village(client, site_pages):
    assert site_pages.village.url in page_hits(search(client, "青山村"))


def test_latin_queries_go_through_wagtail_full_text_search(client, site_pages):
    page = site_pages.news_index.add_child(
        instance=NewsPage(title="Family Day dumplings", slug="family-day", date=datetime.date(2026, 11, 2))
    )
    assert not has_cjk("family day")
    assert page_hits(search(client, "family")) == [page.url]
    assert page_hits(search(client, "DUMPLINGS day")) == [page.url]
    assert page_hits(search(client, "family nothing-like-this")) == []


def test_never_a_draft_or_a_draft_change(client, site_pages):
    draft = site_pages.motto_index.add_child(
        instance=FamilyMottoPage(
            title="草稿家的家风家训", slug="draft", household=site_pages.motto.household, motto="耕读传家", live=False
        )
    )
    assert not draft.live
    assert page_hits(search(client, "耕读传家")) == []
    news = site_pages.news
    news.summary = "尚未发布的修改：秸秆禁烧"
    news.save_revision()  # a draft change of a live page: the public text stays the published one
    assert page_hits(search(client, "秸秆禁烧")) == []
    assert page_hits(search(client, "民法典")) == [news.url]


def test_never_a_private_page(client, site_pages):
    from wagtail.models import PageViewRestriction

    PageViewRestriction.objects.create(page=site_pages.news, restriction_type="login")
    assert page_hits(search(client, "民法典")) == []


# --- winners -------------------------------------------------------------------------------------------------


def test_finds_a_published_winner_by_name_never_an_unpublished_campaigns(client, cast, site_pages):
    make_winner(cast, cast.household_a2, title="2026年好婆婆", citation="照顾瘫痪的婆婆十年。")
    make_winner(cast, cast.household_b, title="2026年柳溪村好婆婆", phase=Campaign.Phase.CLOSED)
    assert winner_hits(search(client, "王建国")) == ["王建国家"]
    assert winner_hits(search(client, "建国")) == ["王建国家"]
    assert winner_hits(search(client, "瘫痪")) == ["王建国家"]  # the citation
    assert winner_hits(search(client, "陈玉兰")) == []  # the campaign is closed, not published
    html = search(client, "好婆婆")
    assert winner_hits(html) == ["王建国家"]
    assert "陈玉兰" not in html


def test_a_masked_mottos_household_is_not_found_by_the_whole_name(client, site_pages):
    # The motto's title masks the head's name (张*丰): searching the whole name must not reveal whose it is.
    assert page_hits(search(client, "张三丰")) == []


# --- the form and its edges ----------------------------------------------------------------------------------


def test_the_header_has_an_accessible_search_box(client, site_pages):
    html = client.get(site_pages.home.url).content.decode()
    header = html[html.index('<header class="site-header">') : html.index("</header>")]
    assert 'role="search"' in header and 'action="/search/"' in header
    assert re.search(r'<label for="site-search-q"[^>]*>搜索全站</label>', header)
    assert 'id="site-search-q" name="q"' in header


def test_an_empty_query_asks_politely(client, site_pages):
    for q in ("", "   ", "\u3000"):
        html = search(client, q)
        assert "请输入要找的字词" in html
        assert 'id="pages-title"' not in html
    assert "请输入要找的字词" in client.get("/search/").content.decode()


def test_a_too_long_query_is_refused_politely(client, site_pages):
    html = search(client, "家" * (MAX_QUERY_LENGTH + 1))
    assert f"请不超过 {MAX_QUERY_LENGTH} 个字" in html
    assert 'id="pages-title"' not in html
    assert "家" * MAX_QUERY_LENGTH in html  # what was typed stays in the box (cut to the limit)
    assert normalise(" a\u3000 b ") == "a b"


def test_results_are_paginated_and_the_query_kept(client, site_pages):
    for i in range(12):
        site_pages.news_index.add_child(
            instance=NewsPage(title=f"家庭日第{i}期", slug=f"family-day-{i}", date=datetime.date(2026, 10, i + 1))
        )
    first = search(client, "家庭日")
    assert len(page_hits(first)) == 10
    assert "第 1 / 2 页" in first
    assert "?q=%E5%AE%B6%E5%BA%AD%E6%97%A5&amp;page=2&amp;wpage=1" in first
    second = search(client, "家庭日", page="2")
    assert len(page_hits(second)) == 2
    assert set(page_hits(first)).isdisjoint(page_hits(second))
    assert len(page_hits(search(client, "家庭日", page="99"))) == 2  # past the end: the last page


def test_search_runs_in_a_constant_number_of_queries(client, cast, site_pages):
    def count():
        with CaptureQueriesContext(connection) as captured:
            search(client, "好婆婆 孝敬")
        return len(captured)

    for i in range(2):
        make_winner(cast, make_household(cast.village_a, number=f"9{i:02d}", head="赵春梅"), title=f"好婆婆{i}")
    small = count()
    for i in range(2, 20):
        make_winner(cast, make_household(cast.village_a, number=f"9{i:02d}", head="赵春梅"), title=f"好婆婆{i}")
    assert count() == small
