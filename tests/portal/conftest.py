"""Shared by the portal's tests: a small page tree over the cast (the empty cache for every test is in the root
conftest)."""

import datetime

import pytest

from points.models import RubricCategory, RubricItem


class Tree(dict):
    __getattr__ = dict.__getitem__


@pytest.fixture
def site_pages(cast):
    """Home, news (index and one story), ranking, villages (index and 青山村), family mottos (index and the
    张三丰 household's motto) and the honor roll — all live."""
    from wagtail.models import Page

    from portal.models import (
        FamilyMottoIndexPage,
        FamilyMottoPage,
        HomePage,
        HonorRollIndexPage,
        NewsIndexPage,
        NewsPage,
        RankingPage,
        VillageIndexPage,
        VillagePage,
    )

    home = HomePage.objects.first()
    if home is None:  # a transactional test before this one flushed the tree the migrations made: make it again
        from django.conf import settings
        from wagtail.coreutils import get_supported_content_language_variant
        from wagtail.models import Locale, Site

        Locale.objects.get_or_create(language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE))
        root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root", slug="root"))
        home = root.add_child(instance=HomePage(title="和合积分", slug="home"))
        Site.objects.update_or_create(
            is_default_site=True, defaults={"hostname": "localhost", "port": 80, "root_page": home}
        )
    assert Page.objects.filter(depth=1).exists()
    news_index = home.add_child(instance=NewsIndexPage(title="新闻动态", slug="news"))
    villages = home.add_child(instance=VillageIndexPage(title="各村", slug="villages"))
    mottos = home.add_child(instance=FamilyMottoIndexPage(title="家风家训", slug="mottos"))
    return Tree(
        home=home,
        news_index=news_index,
        news=news_index.add_child(
            instance=NewsPage(
                title="送法下乡进青山村",
                slug="law-to-village",
                date=datetime.date(2026, 11, 1),
                summary="司法所的同志来村里讲《民法典》婚姻家庭编。",
                body=[("heading", {"text": "现场"}), ("paragraph", "<p>村民们踊跃提问，赡养老人的问题最多。</p>")],
            )
        ),
        ranking=home.add_child(instance=RankingPage(title="排行榜", slug="ranking")),
        honor_roll=home.add_child(instance=HonorRollIndexPage(title="光荣榜", slug="honor-roll")),
        villages=villages,
        village=villages.add_child(instance=VillagePage(title="青山村", slug="qs01", village=cast.village_a)),
        motto_index=mottos,
        motto=mottos.add_child(
            instance=FamilyMottoPage(
                title="张*丰家的家风家训",
                slug="motto-a",
                household=cast.household_a,
                motto="勤俭持家，与人为善",
                story="爷爷常说，日子是省出来的，人缘是帮出来的。",
            )
        ),
    )


@pytest.fixture
def rubric_items(cast):
    category = RubricCategory.objects.create(name="孝老爱亲", order=1)
    other = RubricCategory.objects.create(name="环境卫生", order=2)
    return Tree(
        care=RubricItem.objects.create(category=category, district=cast.district, name="赡养照顾老人", points=10),
        tidy=RubricItem.objects.create(category=other, district=cast.district, name="门前三包保持整洁", points=5),
        litter=RubricItem.objects.create(
            category=other, district=cast.district, name="乱扔垃圾", points=5, kind="deduction"
        ),
        burning=RubricItem.objects.create(
            category=other, district=cast.district, name="焚烧秸秆", points=8, kind="deduction"
        ),
    )
