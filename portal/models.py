"""The public site's pages (the home page is the root of the tree; the honor roll and the rest hang below it),
and the JSON API's bearer tokens.

Every listing page builds its context in ``get_context`` from the selectors of ``points`` and ``campaigns``
(portal → campaigns → points is the allowed direction) and asks for a fixed number of queries however many
winners, households or products there are: lists are capped, related rows are joined or prefetched, and image
renditions are prefetched with the images. Public pages show no phone or ID numbers: nothing here reads them.

Family mottos are the one write: a resident's submission becomes a draft page in Wagtail's moderation workflow
(``motto_submit``), and its first publication credits the household once (``MottoCredit``, ``_credit_motto``).
"""

import datetime

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField, StreamField
from wagtail.images import get_image_model
from wagtail.models import Page, Task, TaskState, Workflow, WorkflowPage, WorkflowTask
from wagtail.search import index
from wagtail.signals import page_published

from points.scope import Capability, scope_for

from .blocks import BodyBlock

HONOR_ROLL_LIMIT = 200
RANKING_LIMIT = 100
HOME_WINNERS = 6
HOME_RANKING = 10
HOME_NEWS = 5
VILLAGE_RANKING = 10
VILLAGE_WINNERS = 12
NEWS_PER_PAGE = 20
# Card photos (winners, products, mottos) in WebP at two widths: the templates' ``{% srcset_image … %}`` asks
# for exactly these, so prefetching them makes the photos cost no query per row.
CARD_PHOTO_SPECS = ["fill-320x240|format-webp", "fill-640x480|format-webp"]
MOTTO_LIMIT = 100
RED_BLACK_LIMIT = 10
# Points credited once when a household's motto is first published (a village setting in a later issue).
MOTTO_POINTS = 10


# --- reads shared by the pages (thin wrappers over the apps' selectors) ----------------------------------------


def _with_renditions(rows, photo_path: str, specs=CARD_PHOTO_SPECS):
    """Prefetch the renditions of each row's photo in one query, so ``{% srcset_image %}`` costs nothing per row."""
    rows = list(rows)
    Rendition = get_image_model().get_rendition_model()
    prefetch_related_objects(
        rows, Prefetch(f"{photo_path}__renditions", queryset=Rendition.objects.filter(filter_spec__in=specs))
    )
    return rows


def _winners(*, villages=None, year=None, limit: int, with_photo: bool = False):
    from campaigns.services import published_winners

    winners = published_winners(villages=villages, year=year)
    if with_photo:
        winners = winners.filter(photo__isnull=False)
    return _with_family_mottos(_with_renditions(winners[:limit], "photo"))


def _with_family_mottos(winners: list) -> list:
    """One more query for every winner's family motto (the newest published one of the household)."""
    mottos = {}
    rows = FamilyMottoPage.objects.live().filter(household_id__in={w.nomination.household_id for w in winners})
    for household_id, motto in rows.order_by("first_published_at", "id").values_list("household_id", "motto"):
        mottos[household_id] = motto
    for winner in winners:
        winner.family_motto = mottos.get(winner.nomination.household_id, "")
    return winners


def _masked_ranking(*, villages, start, end, limit: int) -> list[dict]:
    """``points.selectors.ranking`` with each head's name masked where the village masks names."""
    from points.models import Village
    from points.selectors import mask_name, ranking

    rows = ranking(villages=villages, start=start, end=end, limit=limit)
    masks = dict(Village.objects.filter(pk__in={r["village_id"] for r in rows}).values_list("pk", "mask_names"))
    for row in rows:
        row["name"] = mask_name(row["head_name"]) if masks.get(row["village_id"], True) else row["head_name"]
        row["stars_range"] = range(row["stars"])
        del row["head_name"]
    return rows


def _red_black(village, start: datetime.date, end: datetime.date) -> dict | None:
    """红黑榜 of ``village`` for the months ``start``..``end``, or None when the village has not switched it on.
    Beside it the pages show the way to object: the month's public notice, where a resident of the village files
    an objection against a line while the notice is open, and the resident's own objections page."""
    from points.selectors import red_black_list

    if village is None or not village.red_black_list:
        return None
    data = red_black_list(village, start, end, limit=RED_BLACK_LIMIT)
    notice_month = min(data["end"], _this_month())
    data["notice_month"] = notice_month
    data["notice_url"] = reverse("portal:notice", args=[village.code, f"{notice_month:%Y-%m}"])
    data["objections_url"] = reverse("portal:objections")
    return data


def _open_campaigns(limit: int = 5):
    from campaigns.models import Campaign

    open_phases = [Campaign.Phase.NOMINATING, Campaign.Phase.VOTING]
    return list(
        Campaign.objects.filter(phase__in=open_phases)
        .select_related("village", "township")
        .order_by("voting_ends", "id")[:limit]
    )


def _villages():
    from points.models import Village

    return list(Village.objects.select_related("township").order_by("township__code", "code"))


def _int_param(request, name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.GET.get(name, default))
    except (TypeError, ValueError):
        return default
    return value if low <= value <= high else default


def _this_month() -> datetime.date:
    from points import clock

    return clock.localdate().replace(day=1)


def _previous_month(month: datetime.date) -> datetime.date:
    return (month - datetime.timedelta(days=1)).replace(day=1)


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
        from points.selectors import register_overview  # portal → points is the allowed direction

        context = super().get_context(request, *args, **kwargs)
        context["overview"] = register_overview()
        month = _this_month()
        context["month"] = month
        context["winners"] = _winners(limit=HOME_WINNERS, with_photo=True)
        context["top_households"] = _masked_ranking(
            villages=_all_villages(), start=month, end=month, limit=HOME_RANKING
        )
        context["open_campaigns"] = _open_campaigns()
        context["latest_news"] = list(NewsPage.objects.live().order_by("-date", "-id")[:HOME_NEWS])
        context["sections"] = list(self.get_children().live().specific().order_by("path"))
        return context


def _all_villages():
    from points.models import Village

    return Village.objects.all()


class HonorRollIndexPage(Page):
    """光荣榜: the winners of published campaigns (``campaigns.services.published_winners``), one year at a time
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
        this_year = _this_month().year
        year = _int_param(request, "year", this_year, 2000, this_year + 1)
        villages = _villages()
        village = next((v for v in villages if v.code == request.GET.get("village")), None)
        context.update(
            year=year,
            years=range(this_year, this_year - 5, -1),
            villages=villages,
            village=village,
            winners=_winners(villages=[village] if village else None, year=year, limit=HONOR_ROLL_LIMIT),
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
        from points.selectors import period_range

        context = super().get_context(request, *args, **kwargs)
        month = _this_month()
        kind = request.GET.get("period") if request.GET.get("period") in ("month", "quarter", "year") else "month"
        year = _int_param(request, "year", month.year, 2000, month.year + 1)
        default_n = {"month": month.month, "quarter": (month.month - 1) // 3 + 1, "year": 1}[kind]
        number = _int_param(request, "n", default_n, 1, {"month": 12, "quarter": 4, "year": 1}[kind])
        start, end = period_range(kind, year, number)
        villages = _villages()
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
            rows=_masked_ranking(villages=chosen, start=start, end=end, limit=RANKING_LIMIT),
            red_black=_red_black(village, start, end),
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
        from points.selectors import catalogue, public_donors

        context = super().get_context(request, *args, **kwargs)
        villages = _villages()
        village = next((v for v in villages if v.code == request.GET.get("village")), None)
        if village is None and villages:
            village = villages[0]
        context.update(
            villages=villages,
            village=village,
            products=_with_renditions(catalogue(village), "photo") if village else [],
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
        from points.selectors import catalogue, period_range

        context = super().get_context(request, *args, **kwargs)
        village = self.village
        month = _this_month()
        notice_month = _previous_month(month)
        context.update(
            village=village,
            winners=_winners(villages=[village], limit=VILLAGE_WINNERS),
            notice_month=notice_month,
            notice_url=reverse("portal:notice", args=[village.code, f"{notice_month:%Y-%m}"]),
            ranking_year=month.year,
            top_households=_masked_ranking(
                villages=[village], start=period_range("year", month.year)[0], end=month, limit=VILLAGE_RANKING
            ),
            products=_with_renditions(catalogue(village), "photo"),
            red_black=_red_black(village, notice_month, notice_month),
        )
        return context


class MottoForm(forms.Form):
    motto = forms.CharField(label=_("家风家训"), max_length=200, help_text=_("一两句话，如「勤俭持家，与人为善」"))
    story = forms.CharField(
        label=_("家风故事"), max_length=3000, required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    photo = forms.FileField(
        label=_("照片"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def clean_photo(self):
        from points.images import validate_photo

        photo = self.cleaned_data.get("photo")
        if photo:
            validate_photo(photo)  # size-limited, checked by Pillow; a decompression bomb is refused
        return photo


class FamilyMottoIndexPage(RoutablePageMixin, Page):
    """家风家训: the published mottos, newest first, and the residents' phone form (``submit/``). A resident's
    submission becomes a DRAFT ``FamilyMottoPage`` sent into Wagtail's moderation workflow; the committee
    approves and publishes it in the admin, and the first publication credits the household once."""

    intro = RichTextField(_("导语"), blank=True)
    max_count = 1
    parent_page_types = ["portal.HomePage"]
    subpage_types = ["portal.FamilyMottoPage"]

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]

    class Meta:
        verbose_name = _("家风家训栏目")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        mottos = (
            FamilyMottoPage.objects.child_of(self)
            .live()
            .select_related("household__village", "photo")
            .order_by("-first_published_at", "-id")[:MOTTO_LIMIT]
        )
        context["mottos"] = _with_renditions(mottos, "photo")
        return context

    @path("")
    def index(self, request):
        return self.render(request)

    @path("submit/")
    def submit(self, request):
        from points.scope import RESIDENT, scope_for

        if not request.user.is_authenticated:
            return redirect(f"{reverse('portal:login')}?next={request.path}")
        scope = scope_for(request.user)
        if scope.role != RESIDENT:
            messages.error(request, _("只有居民可以提交家风家训"))
            return redirect(self.url)
        form = MottoForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            from points.models import Household

            household = Household.objects.select_related("village").get(pk=scope.household_id)
            motto_submit(index=self, user=request.user, household=household, **form.cleaned_data)
            messages.success(request, _("已提交，村委审核通过后会在这里公布。"))
            return redirect(self.url)
        return TemplateResponse(
            request, "portal/family_motto_submit_page.html", {"page": self, "self": self, "form": form}
        )


class FamilyMottoPage(Page):
    """一户的家风家训: motto, story and photo, linked to its household. Made by ``motto_submit`` as a draft in
    moderation (or by an editor in the admin); ``MottoCredit`` makes its first publication pay the household's
    motto points exactly once, however often it is published again."""

    household = models.ForeignKey(
        "points.Household", on_delete=models.PROTECT, related_name="portal_mottos", verbose_name=_("户")
    )
    motto = models.CharField(_("家风家训"), max_length=200)
    story = models.TextField(_("家风故事"), max_length=3000, blank=True)
    photo = models.ForeignKey(
        "wagtailimages.Image",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("照片"),
    )
    parent_page_types = ["portal.FamilyMottoIndexPage"]
    subpage_types = []

    content_panels = [
        *Page.content_panels,
        FieldPanel("household"),
        FieldPanel("motto"),
        FieldPanel("story"),
        FieldPanel("photo"),
    ]
    # The head's whole name is not indexed: the title carries it masked where the village masks names, and a
    # search by the whole name must not reveal whose motto a masked one is.
    search_fields = [
        *Page.search_fields,
        index.SearchField("motto"),
        index.SearchField("story"),
        index.RelatedFields("household", [index.RelatedFields("village", [index.SearchField("name")])]),
    ]

    class Meta:
        verbose_name = _("家风家训")


class MottoCredit(models.Model):
    """The exactly-once guard for a motto's points: the unique row is written in the same transaction as the
    transfer, so a second publication (or two at once) finds it and credits nothing."""

    page = models.OneToOneField(FamilyMottoPage, on_delete=models.PROTECT, related_name="credit")
    transfer = models.OneToOneField("points.Transfer", on_delete=models.PROTECT, related_name="+")
    credited_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("家风家训积分")
        verbose_name_plural = _("家风家训积分")

    def __str__(self):
        return f"{self.page} · {self.transfer_id}"


def motto_submit(*, index: FamilyMottoIndexPage, user, household, motto: str, story: str = "", photo=None):
    """A resident's motto as a DRAFT page under ``index``, its first revision saved and the moderation workflow
    started (when the tree has one), all or nothing."""
    from points import clock
    from points.selectors import mask_name

    with transaction.atomic():
        image = None
        if photo:
            image = get_image_model().objects.create(
                title=_("%(village)s %(number)s 户家风照片")
                % {"village": household.village.name, "number": household.number},
                file=photo,
                uploaded_by_user=user,
            )
        name = mask_name(household.head_name) if household.village.mask_names else household.head_name
        page = FamilyMottoPage(
            title=_("%(name)s家的家风家训") % {"name": name},
            slug=f"motto-{household.pk}-{clock.now():%Y%m%d%H%M%S%f}",
            household=household,
            motto=motto,
            story=story,
            photo=image,
            live=False,
            owner=user,
        )
        index.add_child(instance=page)
        page.save_revision(user=user, log_action=True)
        workflow = page.get_workflow()
        if workflow is not None:
            workflow.start(page, user)
    return page


def _credit_motto(sender, instance, revision=None, **kwargs):
    """On publication: the household's motto points, once (``MottoCredit`` holds the guard)."""
    from django.utils.translation import gettext_noop

    from points.awards import points_grant
    from points.exceptions import HeheError
    from points.ledger import stored_text
    from points.models import Transfer

    if MottoCredit.objects.filter(page_id=instance.pk).exists():
        return
    actor = (revision.user if revision is not None else None) or instance.owner
    try:
        with transaction.atomic():
            transfer = points_grant(
                actor=actor,
                household=instance.household,
                amount=MOTTO_POINTS,
                code=Transfer.Code.MOTTO,
                item_name=stored_text(gettext_noop("家风家训")),
                memo=instance.motto[:100],
            )
            MottoCredit.objects.create(page=instance, transfer=transfer)
    except IntegrityError:
        return  # published twice at once: the other publication credited it
    except HeheError:
        return  # an archived household: the motto is published, no points are due


page_published.connect(_credit_motto, sender=FamilyMottoPage, dispatch_uid="portal_motto_credit")


class ApiToken(models.Model):
    """A bearer token for the JSON API (``/api/v1/``), issued by ``POST /api/v1/token``.

    Only the sha256 of the token is stored, so a copy of the database cannot be used to call the API; the
    plaintext is shown once when issued. A token carries no permissions of its own: each request acts as
    ``user``, and ``points.scope`` decides what that user may do, exactly as on the web. Revoking sets
    ``revoked_at`` (the row stays, for the record of who used the API and when); a revoked token, or one whose
    user is deactivated (an archived household's resident), no longer authenticates.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="portal_api_tokens",  # Wagtail's own APIToken already takes "api_tokens"
        verbose_name=_("用户"),
    )
    name = models.CharField(_("名称"), max_length=100, help_text=_("用来认出这个令牌，如「超市收银机」"))
    token_hash = models.CharField(_("令牌摘要"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} · {self.user}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


# --- moderation of family mottos by the household's own committee -----------------------------------------------


class CommitteeApprovalTask(Task):
    """家风家训审核: the committee of the motto household's village (or the township and district staff over it)
    approves, which publishes the page and credits the motto points once, or sends it back with a comment.

    Wagtail's group approval would let one group moderate every village's mottos; this task asks ``points.scope``
    instead, so a committee sees and decides only its own villagers' mottos (and needs no page permissions).
    """

    @staticmethod
    def _village_of(obj):
        page = obj.specific if isinstance(obj, Page) else obj
        household_id = getattr(page, "household_id", None)
        if household_id is None:
            return None
        from points.models import Household

        return Household.objects.filter(pk=household_id).values_list("village_id", flat=True).first()

    def may_moderate(self, obj, user) -> bool:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return False
        if user.is_superuser:
            return True
        village_id = self._village_of(obj)
        return village_id is not None and scope_for(user).can(Capability.MANAGE_POINTS, village_id)

    def user_can_access_editor(self, obj, user):
        return self.may_moderate(obj, user)

    def locked_for_user(self, obj, user):
        return not self.may_moderate(obj, user)

    def user_can_lock(self, obj, user):
        return False

    def user_can_unlock(self, obj, user):
        return False

    def get_actions(self, obj, user):
        if not self.may_moderate(obj, user):
            return []
        return [
            ("reject", _("退回（写明原因）"), True),
            ("approve", _("通过并公布"), False),
            ("approve", _("通过并公布（附意见）"), True),
        ]

    def on_action(self, task_state, user, action_name, **kwargs):
        if not self.may_moderate(task_state.workflow_state.content_object, user):
            raise PermissionDenied
        return super().on_action(task_state, user, action_name, **kwargs)

    def get_task_states_user_can_moderate(self, user, **kwargs):
        states = self.task_states.filter(status=TaskState.STATUS_IN_PROGRESS)
        if getattr(user, "is_superuser", False):
            return states
        scope = scope_for(user)
        if Capability.MANAGE_POINTS not in scope.capabilities:
            return TaskState.objects.none()
        pages = FamilyMottoPage.objects.filter(household__village__in=scope.villages()).values_list("pk", flat=True)
        return states.filter(workflow_state__object_id__in=[str(pk) for pk in pages])

    @classmethod
    def get_description(cls):
        return _("该户所在村的村委（及其上级乡镇、区）审核")

    class Meta:
        verbose_name = _("村委审核任务")
        verbose_name_plural = _("村委审核任务")


MOTTO_WORKFLOW = "家风家训审核"
MOTTO_TASK = "村委审核家风家训"


def motto_workflow_for(index: FamilyMottoIndexPage):
    """The mottos' moderation workflow (one task: ``CommitteeApprovalTask``), made once and assigned to
    ``index`` unless the index already has a workflow of its own."""
    task, _created = CommitteeApprovalTask.objects.get_or_create(name=MOTTO_TASK)
    workflow, created = Workflow.objects.get_or_create(name=MOTTO_WORKFLOW)
    if created or not workflow.workflow_tasks.exists():
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    WorkflowPage.objects.get_or_create(page=index, defaults={"workflow": workflow})
    return workflow
