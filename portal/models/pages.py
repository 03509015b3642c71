"""The public site's pages: the home page (root of the tree), honor roll, news, rankings, store catalogue, villages.

Every listing page builds its context in ``get_context`` from ``portal.selectors`` and the selectors of ``points``
and ``campaigns`` (portal -> campaigns -> points), with a fixed number of queries however many rows there are.
Public pages show no phone or ID numbers: nothing here reads them.
"""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from portal.blocks import BodyBlock
from portal.renditions import with_renditions
from portal.selectors import (
    all_villages,
    masked_ranking,
    open_campaigns,
    previous_month,
    red_black,
    this_month,
    villages_in_order,
    winners_for_pages,
)

HONOR_ROLL_LIMIT = 200


RANKING_LIMIT = 100


HOME_WINNERS = 6


HOME_RANKING = 10


HOME_NEWS = 5


VILLAGE_RANKING = 10


VILLAGE_WINNERS = 12


NEWS_PER_PAGE = 20


def _int_param(request, name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.GET.get(name, default))
    except (TypeError, ValueError):
        return default
    return value if low <= value <= high else default


class HomePage(Page):
    """首页: the site's root. Shows the latest honor-roll winners with photos, this month's top households
    (masked), the campaigns open now and the latest news; every section hangs below it as its own page."""

    intro = RichTextField(_("导语"), blank=True)
    max_count = 1
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = [
        "portal.HonorRollIndexPage",
        "portal.NewsIndexPage",
        "portal.RankingPage",
        "portal.StoreCataloguePage",
        "portal.VillageIndexPage",
        "portal.FamilyMottoIndexPage",
    ]

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]

    class Meta:
        verbose_name = _("首页")

    def get_context(self, request, *args, **kwargs):
        from points.register.selectors import register_overview

        context = super().get_context(request, *args, **kwargs)
        context["overview"] = register_overview()
        month = this_month()
        context["month"] = month
        context["winners"] = winners_for_pages(limit=HOME_WINNERS, with_photo=True)
        context["top_households"] = masked_ranking(villages=all_villages(), start=month, end=month, limit=HOME_RANKING)
        context["open_campaigns"] = open_campaigns()
        context["latest_news"] = list(NewsPage.objects.live().order_by("-date", "-id")[:HOME_NEWS])
        context["sections"] = list(self.get_children().live().specific().order_by("path"))
        return context


class HonorRollIndexPage(Page):
    """光荣榜: the winners of published campaigns (``campaigns.selectors.published_winners``), one year at a time
    (``?year=``), grouped by campaign, optionally for one village (``?village=<code>``). Campaigns own the
    winners; this page only reads them, so publishing a campaign is all it takes to appear here."""

    intro = RichTextField(_("导语"), blank=True)
    max_count = 1
    parent_page_types = ["portal.HomePage"]
    subpage_types = []

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]

    class Meta:
        verbose_name = _("光荣榜")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        this_year = this_month().year
        year = _int_param(request, "year", this_year, 2000, this_year + 1)
        villages = villages_in_order()
        village = next((v for v in villages if v.code == request.GET.get("village")), None)
        context.update(
            year=year,
            years=range(this_year, this_year - 5, -1),
            villages=villages,
            village=village,
            winners=winners_for_pages(villages=[village] if village else None, year=year, limit=HONOR_ROLL_LIMIT),
        )
        return context


class NewsIndexPage(Page):
    """新闻动态: the list of news (送法下乡, 家庭日 …), newest first, twenty to a page."""

    intro = RichTextField(_("导语"), blank=True)
    max_count = 1
    parent_page_types = ["portal.HomePage"]
    subpage_types = ["portal.NewsPage"]

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]

    class Meta:
        verbose_name = _("新闻动态栏目")

    def get_context(self, request, *args, **kwargs):
        from django.core.paginator import Paginator

        context = super().get_context(request, *args, **kwargs)
        news = NewsPage.objects.child_of(self).live().order_by("-date", "-id")
        context["news"] = Paginator(news, NEWS_PER_PAGE).get_page(request.GET.get("page"))
        return context


class NewsPage(Page):
    """一条新闻: date, a one-line summary for the lists, and a body from the shared ``BodyBlock``."""

    date = models.DateField(_("日期"))
    summary = models.CharField(_("摘要"), max_length=200, blank=True)
    body = StreamField(BodyBlock(), verbose_name=_("正文"), blank=True)
    parent_page_types = ["portal.NewsIndexPage"]
    subpage_types = []

    content_panels = [*Page.content_panels, FieldPanel("date"), FieldPanel("summary"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("summary"), index.SearchField("body")]

    class Meta:
        verbose_name = _("新闻")


class RankingPage(Page):
    """排行榜: households by conduct score for a month, quarter or year (``?period=month&year=2026&n=5``),
    for a village, a township or the whole district (``?village=<code>`` / ``?township=<code>``), with stars.
    Names are masked where the village masks them. Reads ``points.selectors.ranking``, which reads only the
    monthly summaries, so the cost does not grow with the number of transfers. For one chosen village that
    switched it on, the village's 红黑榜 for the same period follows the table."""

    intro = RichTextField(_("导语"), blank=True)
    max_count = 1
    parent_page_types = ["portal.HomePage"]
    subpage_types = []

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]

    class Meta:
        verbose_name = _("排行榜")

    def get_context(self, request, *args, **kwargs):
        from points.ledger.selectors import period_range

        context = super().get_context(request, *args, **kwargs)
        month = this_month()
        kind = request.GET.get("period") if request.GET.get("period") in ("month", "quarter", "year") else "month"
        year = _int_param(request, "year", month.year, 2000, month.year + 1)
        default_n = {"month": month.month, "quarter": (month.month - 1) // 3 + 1, "year": 1}[kind]
        number = _int_param(request, "n", default_n, 1, {"month": 12, "quarter": 4, "year": 1}[kind])
        start, end = period_range(kind, year, number)
        villages = villages_in_order()
        townships = list({v.township_id: v.township for v in villages}.values())
        village = next((v for v in villages if v.code == request.GET.get("village")), None)
        township = next((t for t in townships if t.code == request.GET.get("township")), None)
        if village:
            chosen = [village]
        elif township:
            chosen = [v for v in villages if v.township_id == township.pk]
        else:
            chosen = villages
        context.update(
            kind=kind,
            year=year,
            number=number,
            years=range(month.year, month.year - 5, -1),
            numbers=range(1, {"month": 12, "quarter": 4, "year": 1}[kind] + 1),
            villages=villages,
            townships=townships,
            village=village,
            township=township,
            rows=masked_ranking(villages=chosen, start=start, end=end, limit=RANKING_LIMIT),
            red_black=red_black(village, start, end),
        )
        return context


class StoreCataloguePage(Page):
    """积分超市: a chosen village's goods (``?village=<code>``) with their points prices and stock, and the
    donors who agreed to be named. Reads ``points.selectors.catalogue`` and ``public_donors``."""

    intro = RichTextField(_("导语"), blank=True)
    max_count = 1
    parent_page_types = ["portal.HomePage"]
    subpage_types = []

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]

    class Meta:
        verbose_name = _("积分超市")

    def get_context(self, request, *args, **kwargs):
        from points.store.selectors import catalogue, public_donors

        context = super().get_context(request, *args, **kwargs)
        villages = villages_in_order()
        village = next((v for v in villages if v.code == request.GET.get("village")), None)
        if village is None and villages:
            village = villages[0]
        context.update(
            villages=villages,
            village=village,
            products=with_renditions(catalogue(village), "photo") if village else [],
            donors=public_donors(village) if village else [],
        )
        return context


class VillageIndexPage(Page):
    """各村: the list of the villages' own pages."""

    intro = RichTextField(_("导语"), blank=True)
    max_count = 1
    parent_page_types = ["portal.HomePage"]
    subpage_types = ["portal.VillagePage"]

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]

    class Meta:
        verbose_name = _("各村")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["village_pages"] = list(
            VillagePage.objects.child_of(self).live().select_related("village__township").order_by("title")
        )
        return context


class VillagePage(Page):
    """One village's public page, linked to its ``points.Village``: its honor roll, the link to last month's
    public points notice, this year's top ten households, last month's 红黑榜 (when the village switched it on)
    and its store. Deleting the village is refused while the page exists (PROTECT): the page is the public
    record."""

    village = models.ForeignKey(
        "points.Village", on_delete=models.PROTECT, related_name="portal_pages", verbose_name=_("村")
    )
    intro = RichTextField(_("简介"), blank=True)
    parent_page_types = ["portal.VillageIndexPage"]
    subpage_types = []

    content_panels = [*Page.content_panels, FieldPanel("village"), FieldPanel("intro")]
    search_fields = [
        *Page.search_fields,
        index.SearchField("intro"),
        index.RelatedFields("village", [index.SearchField("name")]),
    ]

    class Meta:
        verbose_name = _("村页面")
        constraints = [models.UniqueConstraint(fields=["village"], name="portal_villagepage_one_per_village")]

    def get_context(self, request, *args, **kwargs):
        from points.ledger.selectors import period_range
        from points.store.selectors import catalogue

        context = super().get_context(request, *args, **kwargs)
        village = self.village
        month = this_month()
        notice_month = previous_month(month)
        context.update(
            village=village,
            winners=winners_for_pages(villages=[village], limit=VILLAGE_WINNERS),
            notice_month=notice_month,
            notice_url=reverse("portal:notice", args=[village.code, f"{notice_month:%Y-%m}"]),
            ranking_year=month.year,
            top_households=masked_ranking(
                villages=[village], start=period_range("year", month.year)[0], end=month, limit=VILLAGE_RANKING
            ),
            products=with_renditions(catalogue(village), "photo"),
            red_black=red_black(village, notice_month, notice_month),
        )
        return context
