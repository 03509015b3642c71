"""红黑榜: a village that switches it on shows, on its page and on the ranking, its best households (红榜) and the
households with deductions (黑榜), names masked as on the public notice, with the way to object beside it."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from points import clock
from points.ledger.awards import points_award, transfer_reverse
from points.ledger.selectors import red_black_list

from ..factories import make_household

pytestmark = pytest.mark.django_db


def last_month() -> datetime.date:
    return (clock.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def in_last_month():
    month = last_month()
    return clock.frozen_at(timezone.make_aware(datetime.datetime(month.year, month.month, 10, 10)))


def award(cast, item, households, key):
    return points_award(
        actor=cast.committee_a, village=cast.village_a, rubric_item=item, households=households, idempotency_key=key
    )


@pytest.fixture
def history(cast, rubric_items):
    """Last month in 青山村: 张三丰 +10, 王建国 +5 and −5 (乱扔垃圾), 李四海 −8 (焚烧秸秆, reversed after an
    upheld objection), 赵春梅 +5."""
    li = make_household(cast.village_a, number="003", head="李四海")
    zhao = make_household(cast.village_a, number="004", head="赵春梅")
    with in_last_month():
        award(cast, rubric_items.care, [cast.household_a], "rb-care")
        award(cast, rubric_items.tidy, [cast.household_a2, zhao], "rb-tidy")
        award(cast, rubric_items.litter, [cast.household_a2], "rb-litter")
        (burning,) = award(cast, rubric_items.burning, [li], "rb-burning")
        transfer_reverse(
            actor=cast.committee_a, transfer=burning, reason="异议成立：不是这户", idempotency_key="rb-rev"
        )
    return {"li": li, "zhao": zhao}


def switch_on(village, on=True):
    village.red_black_list = on
    village.save(update_fields=["red_black_list"])


# --- the selector --------------------------------------------------------------------------------------------


@pytest.mark.any_day
def test_the_lists_mask_names_leave_out_reversed_deductions_and_rank_again(cast, history):
    month = last_month()
    lists = red_black_list(cast.village_a, month, month)
    assert lists["black"] == [{"name": "王*国", "points": 5, "count": 1, "items": ["乱扔垃圾"]}]
    # 王建国 (on the black list) is left out of the red list; 赵春梅 ranks 2nd, not 3rd.
    assert [(r["rank"], r["name"], r["score"]) for r in lists["red"]] == [(1, "张*丰", 10), (2, "赵*梅", 5)]
    assert lists["start"] == lists["end"] == month

    cast.village_a.mask_names = False
    assert [r["name"] for r in red_black_list(cast.village_a, month, month)["red"]] == ["张三丰", "赵春梅"]
    # Another period, another village: nothing.
    this_month = clock.localdate().replace(day=1)
    assert red_black_list(cast.village_a, this_month, this_month) == {
        "red": [],
        "black": [],
        "start": this_month,
        "end": this_month,
    }
    assert red_black_list(cast.village_b, month, month)["red"] == []


def test_the_lists_are_cut_to_the_limit(cast, rubric_items):
    households = [make_household(cast.village_a, number=f"1{i:02d}", head="孙秀英") for i in range(5)]
    award(cast, rubric_items.care, households[:3], "rb-limit-care")
    award(cast, rubric_items.litter, households[3:], "rb-limit-litter")
    month = clock.localdate().replace(day=1)
    lists = red_black_list(cast.village_a, month, month, limit=2)
    assert len(lists["red"]) == 2 and len(lists["black"]) == 2
    assert all(row["name"] == "孙*英" for row in lists["red"] + lists["black"])


# --- the pages -----------------------------------------------------------------------------------------------


def test_hidden_when_the_village_has_not_switched_it_on(client, cast, site_pages, history):
    assert not cast.village_a.red_black_list  # off by default
    for url in (site_pages.village.url, site_pages.ranking.url + "?village=QS01"):
        html = client.get(url).content.decode()
        assert "红黑榜" not in html and "黑榜" not in html


@pytest.mark.any_day
def test_shown_masked_with_the_objection_path_when_on(client, cast, site_pages, history):
    switch_on(cast.village_a)
    month = last_month()
    html = client.get(site_pages.village.url).content.decode()
    block = html[html.index('class="red-black"') : html.index("</section>", html.index('id="black-list-title"'))]
    assert f"红黑榜 · {month.year}年{month.month}月" in block
    line = r'王\*国</strong></span>\s*<span class="line-who">乱扔垃圾</span><span class="amount minus">−5<'
    assert re.search(line, block)
    assert "1. 张*丰" in block and "2. 赵*梅" in block
    for whole in ("张三丰", "王建国", "赵春梅", "李四海", "李*海"):
        assert whole not in block
    assert f'href="/notice/QS01/{month:%Y-%m}/"' in html
    assert f'href="{reverse("portal:objections")}"' in html

    ranking = client.get(site_pages.ranking.url + f"?village=QS01&period=month&year={month.year}&n={month.month}")
    assert "王*国" in ranking.content.decode() and 'id="red-black-title"' in ranking.content.decode()
    # Only for one chosen village: the township and district views have no red and black list.
    assert 'id="red-black-title"' not in client.get(site_pages.ranking.url + "?township=QSZ").content.decode()


def test_switching_off_hides_it_again_at_once(client, cast, site_pages, history):
    switch_on(cast.village_a)
    assert 'id="red-black-title"' in client.get(site_pages.village.url).content.decode()
    switch_on(cast.village_a, False)  # a Village save purges the page cache
    assert 'id="red-black-title"' not in client.get(site_pages.village.url).content.decode()


def test_the_pages_with_the_lists_render_in_a_constant_number_of_queries(client, cast, site_pages, rubric_items):
    from portal.cache import purge

    switch_on(cast.village_a)
    urls = [site_pages.village.url, site_pages.ranking.url + "?village=QS01"]

    def counts(n, batch):
        households = [make_household(cast.village_a, number=f"{batch}{i:03d}", head="周桂英") for i in range(n)]
        with in_last_month():
            award(cast, rubric_items.care, households[: n // 2], f"rb-q-care-{batch}")
            award(cast, rubric_items.litter, households[n // 2 :], f"rb-q-litter-{batch}")
        award(cast, rubric_items.care, households[: n // 2], f"rb-q-care-now-{batch}")
        award(cast, rubric_items.litter, households[n // 2 :], f"rb-q-litter-now-{batch}")
        result = []
        for url in urls:
            client.get(url)
            purge()
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            result.append(len(captured))
        return result

    assert counts(4, 5) == counts(30, 6)


def test_the_switch_is_in_the_village_edit_form(client, cast):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser(username="rb-admin", password="pw-admin-123")
    client.force_login(admin)
    html = client.get(reverse("wagtailsnippets_points_village:edit", args=[cast.village_a.pk])).content.decode()
    assert 'name="red_black_list"' in html
    assert "公开红黑榜" in html
