"""Every public page of the portal in a real browser (the system Chromium through Playwright), on a phone (375 px)
and a desktop (1280 px): HTTP 200, no console or page errors, no request to any host but the server's own, no
sideways scrolling on the phone, and no serious or critical accessibility violation found by axe-core
(axe-playwright-python). Then the large-text care mode (长辈模式): on, kept across pages, off again.

The data is built once per module (a module-wide live server and one Chromium), not per test: a district with
households and awards, a published notice with an answered objection, published 好婆婆 and 最美家庭 campaigns with
winners and photos, an open campaign, a family motto, products with Pillow-made photos and a public donation, then
``seed_pages`` for the page tree and the news. At the end the database is put back as the migrations left it
(see ``portal``).

Set HEHE_SCREENSHOTS=/some/dir to keep a full-page screenshot of each page (never inside the repository).
"""

import datetime
import io
import itertools
import os
import shutil
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import axe_playwright_python.sync_playwright as axe_sync
import playwright.sync_api as sync_api
import pytest
from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.cache import caches
from django.core.files.images import ImageFile
from django.core.management import call_command
from django.db import connections
from django.test import override_settings
from django.test.testcases import LiveServerThread
from django.urls import reverse
from django.utils import timezone
from PIL import Image as PILImage
from PIL import ImageDraw
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.images import get_image_model
from wagtail.models import Collection, Locale, Page, Site

from campaigns.models import Campaign, Nomination, Winner
from points import clock
from points.ledger.awards import points_award
from points.ledger.notices import notice_publish, objection_answer, objection_file
from points.ledger.verify import verify_ledger
from points.models import Product, RubricCategory, RubricItem, Transfer
from points.store.services import stock_receive
from portal.models import (
    FamilyMottoIndexPage,
    FamilyMottoPage,
    HomePage,
    HonorRollIndexPage,
    NewsIndexPage,
    NewsPage,
    RankingPage,
    StoreCataloguePage,
    VillageIndexPage,
    VillagePage,
)

from ..days import DAYS, DEFAULT_DAY
from ..factories import make_household, shared_cast
from .browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    NEEDS_CHROMIUM,
    other_connections,
    short_lived_connections,
    wait_until_no_other_connections,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db, NEEDS_CHROMIUM]

VIEWPORTS = {375: {"width": 375, "height": 812}, 1280: {"width": 1280, "height": 900}}
BLOCKING = ("serious", "critical")
SEARCH_WORD = "家风"
PAGES = [
    "home",
    "honor_roll",
    "motto_index",
    "motto",
    "news_index",
    "news",
    "notice",
    "ranking",
    "catalogue",
    "village_index",
    "village",
    "search",
]


# --- the data ------------------------------------------------------------------------------------------------


_photo_numbers = itertools.count(1)


def _photo(title: str, colour: tuple[int, int, int], size=(800, 600)):
    """A Wagtail image drawn with Pillow: a coloured field with a light band (nothing fetched from elsewhere)."""
    canvas = PILImage.new("RGB", size, colour)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((size[0] // 10, size[1] // 3, size[0] * 9 // 10, size[1] // 2), fill=(255, 250, 243))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return get_image_model().objects.create(title=title, file=ImageFile(buffer, name=f"e2e-{next(_photo_numbers)}.png"))


def _ensure_site_tree():
    """The rows the migrations create and a transactional test's flush removes: Wagtail's locale, root collection,
    root page, the home page and the default site. Made again only where missing (the module normally runs before
    any transactional test, but a random or hand-picked order may differ)."""
    locale, _ = Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    if not Collection.objects.exists():
        Collection.add_root(name="Root")
    root = Page.objects.filter(depth=1).first() or Page.add_root(
        instance=Page(title="Root", slug="root", locale=locale, live=True)
    )
    home = HomePage.objects.first()
    if home is None:
        home = root.add_child(instance=HomePage(title="和合积分", slug="home", locale=locale))
    if not Site.objects.exists():
        Site.objects.create(hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="和合积分")


def build_portal_data() -> dict[str, str]:
    """Everything the public pages show, through the services where there is one. Returns page name → path."""
    _ensure_site_tree()
    cast = shared_cast()  # committed once per worker (tests/conftest.py), so the live server sees it
    village, committee = cast["village_a"], cast["committee_a"]
    households = [cast["household_a"], cast["household_a2"]]
    for number, head in [("003", "赵春梅"), ("004", "孙玉华"), ("005", "周建军"), ("006", "吴桂芳")]:
        households.append(make_household(village, number=number, head=head, members=[("钱小红", "spouse", "F")]))
    care = RubricCategory.objects.create(name="孝老爱亲")
    elders = RubricItem.objects.create(category=care, district=cast["district"], name="照顾老人", points=10)
    tidy = RubricItem.objects.create(category=care, district=cast["district"], name="庭院整洁", points=5)
    points_award(actor=committee, village=village, rubric_item=elders, households=households, idempotency_key="e2e-1")
    points_award(actor=committee, village=village, rubric_item=tidy, households=households[:3], idempotency_key="e2e-2")
    for actor, other in ((cast["committee_b"], cast["household_b"]), (cast["district_admin"], cast["household_c"])):
        key = f"e2e-{other.pk}"
        points_award(actor=actor, village=other.village, rubric_item=elders, households=[other], idempotency_key=key)

    # 积分公示 of this month, with one objection answered in public; then the ledger checked (the notice says so).
    month = clock.localdate().replace(day=1)
    notice_publish(actor=committee, village=village, period=month)
    transfer = Transfer.objects.filter(village=village, code=Transfer.Code.AWARD).order_by("id").last()
    objection = objection_file(actor=cast["resident_a"], transfer=transfer, text="这一户上个月已经加过分了。")
    objection_answer(actor=committee, objection=objection, upheld=False, answer="经核实，两次记录分属不同月份。")
    verify_ledger()

    # The store: three products with photos and stock, one given by a donor who agreed to be named.
    for order, (name, price, unit, colour) in enumerate(
        [("大米", 30, "袋", (200, 170, 90)), ("洗衣液", 15, "瓶", (60, 120, 200)), ("作业本", 2, "本", (90, 160, 90))]
    ):
        product = Product.objects.create(
            village=village, name=name, price=price, unit=unit, order=order, photo=_photo(f"商品 {name}", colour)
        )
        stock_receive(actor=cast["storekeeper_a"], product=product, quantity=20, idempotency_key=f"e2e-stock-{order}")
    stock_receive(
        actor=cast["storekeeper_a"],
        product=product,
        quantity=50,
        idempotency_key="e2e-donation",
        donor_name="青山农资店",
        donor_public=True,
    )

    # Published campaigns with winners (a 好婆婆 and a 最美家庭) and one open for voting.
    now = clock.now()
    dates = {
        "nominating_starts": now - datetime.timedelta(days=40),
        "voting_starts": now - datetime.timedelta(days=30),
        "voting_ends": now - datetime.timedelta(days=20),
    }
    scope = {"district": cast["district"], "township": cast["township"], "village": village}
    mothers = Campaign.objects.create(
        kind=Campaign.Kind.GOOD_MOTHER_IN_LAW,
        title=f"{now.year} 年青山村好婆婆",
        level=Campaign.Level.VILLAGE,
        nominee_type=Campaign.NomineeType.PERSON,
        phase=Campaign.Phase.PUBLISHED,
        published_at=now,
        created_by=committee,
        **scope,
        **dates,
    )
    families = Campaign.objects.create(
        kind=Campaign.Kind.BEAUTIFUL_FAMILY,
        title=f"{now.year} 年青山村最美家庭",
        level=Campaign.Level.VILLAGE,
        nominee_type=Campaign.NomineeType.HOUSEHOLD,
        phase=Campaign.Phase.PUBLISHED,
        published_at=now,
        created_by=committee,
        **scope,
        **dates,
    )
    Campaign.objects.create(
        kind=Campaign.Kind.GOOD_DAUGHTER_IN_LAW,
        title=f"{now.year} 年青山村好媳妇",
        level=Campaign.Level.VILLAGE,
        nominee_type=Campaign.NomineeType.PERSON,
        phase=Campaign.Phase.VOTING,
        created_by=committee,
        **scope,
        nominating_starts=now - datetime.timedelta(days=5),
        voting_starts=now - datetime.timedelta(days=1),
        voting_ends=now + datetime.timedelta(days=6),
    )
    for rank, household in enumerate(households[2:4], start=1):
        member = household.members.get(relation="spouse")
        nomination = Nomination.objects.create(
            campaign=mothers,
            village=village,
            household=household,
            member=member,
            story="照顾瘫痪在床的婆婆十年，邻里称赞。",
            status=Nomination.Status.APPROVED,
            nominated_by=committee,
        )
        Winner.objects.create(
            campaign=mothers,
            nomination=nomination,
            village=village,
            rank=rank,
            votes=40 - rank,
            citation="十年如一日，孝老爱亲。",
            photo=_photo(f"好婆婆 {rank}", (179, 38, 30)),
            confirmed_by=committee,
        )
    nomination = Nomination.objects.create(
        campaign=families,
        village=village,
        household=cast["household_a"],
        story="三代同堂，和和美美。",
        status=Nomination.Status.APPROVED,
        nominated_by=committee,
    )
    Winner.objects.create(
        campaign=families,
        nomination=nomination,
        village=village,
        rank=1,
        votes=52,
        citation="勤俭持家，热心公益。",
        photo=_photo("最美家庭", (29, 107, 44)),
        confirmed_by=committee,
    )

    # The page tree and the news, as the demo builds them; then one family's motto, published by the committee.
    call_command("seed_pages", stdout=io.StringIO())
    motto_index = FamilyMottoIndexPage.objects.get()
    motto = motto_index.add_child(
        instance=FamilyMottoPage(
            title="张*丰家的家风家训",
            slug="motto-e2e",
            household=cast["household_a"],
            motto="勤俭持家，与人为善",
            story="爷爷常说，日子是省出来的，人缘是帮出来的。\n\n我们家每年腊月都给村里的孤寡老人送年货。",
            photo=_photo("张家全家福", (122, 74, 0)),
            live=False,
        )
    )
    motto.save_revision(user=committee).publish(user=committee, skip_permission_checks=True)

    paths = {
        "home": HomePage.objects.get().url,
        "honor_roll": HonorRollIndexPage.objects.get().url,
        "motto_index": motto_index.url,
        "motto": FamilyMottoPage.objects.get(pk=motto.pk).url,
        "news_index": NewsIndexPage.objects.get().url,
        "news": NewsPage.objects.get(slug="law-to-village").url,
        "notice": reverse("portal:notice", args=[village.code, f"{month:%Y-%m}"]),
        "ranking": RankingPage.objects.get().url,
        "catalogue": StoreCataloguePage.objects.get().url,
        "village_index": VillageIndexPage.objects.get().url,
        "village": VillagePage.objects.get(village=village).url,
    }
    paths["search"] = f"{reverse('portal:search')}?q={SEARCH_WORD}"
    return paths


# --- one server, one browser per module ---------------------------------------------------------------------


def _start_server():
    # An in-memory SQLite database exists only on its connection: the server's threads must share it.
    shared = {c.alias: c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()}
    for connection in shared.values():
        connection.inc_thread_sharing()
    thread = LiveServerThread("localhost", StaticFilesHandler, connections_override=shared, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    return thread, shared


def _is_test_database(connection) -> bool:
    name = str(connection.settings_dict["NAME"])
    return connection.is_in_memory_db() if connection.vendor == "sqlite" else name.startswith("test_")


@pytest.fixture(scope="module")
def chromium():
    """One Chromium for the module. Started before anything touches the database: from here on Django sees a
    connection of its own (Playwright's sync API gives the calling code a new context), and the data, the live
    server and each test's transaction must all use that same connection (an in-memory SQLite database exists only
    on its connection, and a second one would find the tables locked by the test's transaction)."""
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="module")
def portal(chromium, django_db_setup, django_db_blocker):
    """The live server's URL and the pages' paths, over data built once for the module.

    The tests are ordinary database tests (``django_db``), so they run among the suite's first, on the database
    the migrations made. The module takes a snapshot of it first (Django's own serializer, as a serialized
    rollback does), commits its data where the live server can read it, and at the end flushes and puts the
    snapshot back, so the tests after it find the database as they would have."""
    media = tempfile.mkdtemp(prefix="hehe-e2e-media-")
    connection = connections["default"]
    # Made in the hour before the moment each test starts at (tests/conftest.py's DAYS), never after it.
    made_at = timezone.make_aware(DAYS[DEFAULT_DAY]) - datetime.timedelta(hours=1)
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media),
        short_lived_connections(),
        clock.travelled_to(made_at),
    ):
        assert _is_test_database(connection), f"refusing to write to {connection.settings_dict['NAME']}"
        # pytest-django's own connection (made before Playwright started, in the other context) stays open.
        known = {row[0] for row in other_connections()}
        snapshot = connection.creation.serialize_db_to_string()
        _clear_caches()  # Wagtail caches the site's root paths
        thread = None
        try:
            paths = build_portal_data()
            thread, shared = _start_server()
            url = f"http://{thread.host}:{thread.port}"
            _warm_up(url, paths)
            yield {"url": url, "paths": paths}
        finally:
            if thread is not None:
                thread.terminate()
                for shared_connection in shared.values():
                    shared_connection.dec_thread_sharing()
            left = wait_until_no_other_connections(known=known)
            call_command("flush", interactive=False, verbosity=0, reset_sequences=False, inhibit_post_migrate=True)
            connection.creation.deserialize_db_from_string(snapshot)
            _clear_caches()
            connections.close_all()
            shutil.rmtree(media, ignore_errors=True)
            assert left == [], f"the live server left database sessions open: {left}"


def _clear_caches():
    for cache in caches.all():
        cache.clear()


def _warm_up(url: str, paths: dict):
    """One request per page before the tests: the image renditions are made (and committed) now, not inside a
    test's transaction; then the caches are emptied, so each page's first visit renders it afresh."""
    for path in paths.values():
        if path:
            with urllib.request.urlopen(url + urllib.parse.quote(path, safe="/?=&"), timeout=60) as response:
                response.read()
    _clear_caches()


@pytest.fixture(scope="module")
def axe():
    return axe_sync.Axe()


class Watched:
    """A page in a fresh context (its own cookies) that records errors, requests and failed responses."""

    def __init__(self, browser, width: int):
        self.context = browser.new_context(locale="zh-CN", viewport=VIEWPORTS[width])
        self.context.set_default_timeout(30_000)  # a loaded 2-core machine is slow
        self.page = self.context.new_page()
        self.errors, self.requested, self.failed = [], [], []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("request", lambda request: self.requested.append(request.url))
        self.page.on("requestfailed", lambda request: self.failed.append(f"{request.url} ({request.failure})"))
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.url} (HTTP {r.status})"))

    def _console(self, message):
        if message.type == "error":
            where = (message.location or {}).get("url", "")
            self.errors.append(f"console: {message.text} {where}".rstrip())

    def foreign(self, base_url: str) -> list[str]:
        server = urlsplit(base_url).netloc
        return [url for url in self.requested if not url.startswith("data:") and urlsplit(url).netloc != server]

    def close(self):
        self.context.close()


@pytest.fixture
def watched(chromium, request):
    pages = []

    def open_page(width: int) -> Watched:
        page = Watched(chromium, width)
        pages.append(page)
        return page

    yield open_page
    for page in pages:
        page.close()


def shot(page, name):
    folder = os.environ.get("HEHE_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def describe(violations) -> str:
    lines = []
    for violation in violations:
        targets = ", ".join(" ".join(map(str, node["target"])) for node in violation["nodes"][:8])
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}\n    at {targets}")
    return "\n".join(lines)


# --- the pages ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", list(VIEWPORTS), ids=lambda w: f"{w}px")
@pytest.mark.parametrize("name", PAGES)
def test_public_page(portal, watched, axe, name, width):
    path = portal["paths"][name]
    view = watched(width)
    page = view.page
    response = page.goto(portal["url"] + path, wait_until="load")
    assert response is not None and response.status == 200, (path, response and response.status)
    page.wait_for_load_state("networkidle")
    shot(page, f"{name}-{width}")

    assert view.errors == [], f"{path}: console or page errors:\n" + "\n".join(view.errors)
    assert view.failed == [], f"{path}: failed requests:\n" + "\n".join(view.failed)
    assert view.foreign(portal["url"]) == [], f"{path}: requests to another host"
    if width == 375:
        overflow = page.evaluate(
            """() => ({width: document.documentElement.scrollWidth,
                       wide: [...document.querySelectorAll('body *')]
                         .filter(e => e.getBoundingClientRect().right > 375.5)
                         .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))})"""
        )
        assert overflow["width"] <= 375, f"{path}: {overflow['width']} px wide at 375 px: {overflow['wide']}"

    violations = [v for v in axe.run(page).response["violations"] if v["impact"] in BLOCKING]
    assert violations == [], f"{path} at {width} px: axe found serious or critical violations:\n{describe(violations)}"


# --- care mode (长辈模式) --------------------------------------------------------------------------------------


SIZES = """() => {
  const px = (el) => el ? parseFloat(getComputedStyle(el).fontSize) : null;
  return {body: px(document.body), root: px(document.documentElement),
          text: px(document.querySelector('main p, main li')), heading: px(document.querySelector('main h1')),
          care: document.documentElement.classList.contains('care')};
}"""


def test_care_mode_makes_text_larger_and_stays_on(portal, watched, axe):
    view = watched(375)
    page = view.page
    expect = sync_api.expect
    paths = portal["paths"]
    page.goto(portal["url"] + paths["home"])
    toggle = page.locator("#care-toggle")
    expect(toggle).to_have_count(1)
    expect(toggle).to_have_attribute("aria-pressed", "false")
    normal = page.evaluate(SIZES)
    assert normal["care"] is False

    with page.expect_navigation():
        toggle.click()
    large = page.evaluate(SIZES)
    expect(page.locator("#care-toggle")).to_have_attribute("aria-pressed", "true")
    assert large["care"] is True, "no <html class=care> after turning care mode on"
    assert large["root"] >= 1.25 * 16 - 0.01, large
    for key in ("body", "text", "heading"):
        assert large[key] >= 1.2 * normal[key] - 0.01, (key, normal, large)
    assert any(c["name"] == "hehe_care" and c["value"] == "1" for c in view.context.cookies())

    page.reload()
    assert page.evaluate(SIZES)["body"] == large["body"], "care mode lost on reload"
    page.goto(portal["url"] + paths["honor_roll"])
    elsewhere = page.evaluate(SIZES)
    assert elsewhere["care"] is True and elsewhere["body"] >= 1.2 * normal["body"] - 0.01, elsewhere
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375, "care mode scrolls sideways"
    violations = [v for v in axe.run(page).response["violations"] if v["impact"] in BLOCKING]
    assert violations == [], f"care mode: axe found serious or critical violations:\n{describe(violations)}"

    with page.expect_navigation():
        page.locator("#care-toggle").click()
    back = page.evaluate(SIZES)
    expect(page.locator("#care-toggle")).to_have_attribute("aria-pressed", "false")
    assert back["care"] is False and back["body"] == normal["body"], (normal, back)
    assert view.errors == [], "\n".join(view.errors)
    assert view.foreign(portal["url"]) == []
