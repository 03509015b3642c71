"""The public page cache (portal/cache.py): anonymous GETs of Wagtail pages and the public notice are kept and
served from Django's cache; everything that changes what they show purges them; signed-in users, care mode and
languages never share a copy."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign, Nomination, Winner
from points import clock
from points.ledger.awards import points_award
from points.ledger.notices import notice_publish
from points.models import Product
from portal.cache import CARE_COOKIE, GENERATION_KEY, HEADER, purge
from portal.models import NewsPage

pytestmark = pytest.mark.django_db


def award(cast, item, households, key):
    return points_award(
        actor=cast.committee_a, village=cast.village_a, rubric_item=item, households=households, idempotency_key=key
    )


def get(client, url, **extra):
    response = client.get(url, **extra)
    assert response.status_code == 200, (url, response.status_code)
    return response


# --- hits and misses -----------------------------------------------------------------------------------------


def test_a_second_anonymous_get_is_a_hit_without_queries(client, site_pages, django_assert_num_queries):
    urls = [site_pages.home.url, site_pages.news.url, site_pages.ranking.url + "?period=year", "/notice/QS01/2026-10/"]
    for url in urls:
        first = get(client, url)
        assert first[HEADER] == "miss"
        with django_assert_num_queries(0):
            second = get(client, url)
        assert second[HEADER] == "hit"
        assert second.content.decode().replace(_token(second), "") == first.content.decode().replace(_token(first), "")


def _token(response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())[1]


def test_head_is_served_from_the_same_copy(client, site_pages):
    get(client, site_pages.news.url)
    assert client.head(site_pages.news.url)[HEADER] == "hit"


def test_the_query_string_is_part_of_the_key(client, site_pages):
    assert get(client, site_pages.ranking.url + "?period=month")[HEADER] == "miss"
    assert get(client, site_pages.ranking.url + "?period=year")[HEADER] == "miss"
    assert get(client, site_pages.ranking.url + "?period=year")[HEADER] == "hit"


def test_parameters_no_page_reads_are_left_out_of_the_key(client, site_pages):
    """/?a=1, /?a=2, … are the same page: one entry, not one per made-up query (hole 12 of issue 12)."""
    assert get(client, site_pages.home.url + "?a=1")[HEADER] == "miss"
    assert get(client, site_pages.home.url + "?a=2")[HEADER] == "hit"
    assert get(client, site_pages.home.url)[HEADER] == "hit"
    assert get(client, site_pages.ranking.url + "?period=year&utm=x")[HEADER] == "miss"
    assert get(client, site_pages.ranking.url + "?utm=y&period=year")[HEADER] == "hit"


def test_a_value_no_page_accepts_is_rendered_and_never_stored(client, site_pages):
    for _ in range(2):
        assert get(client, site_pages.ranking.url + "?year=" + "9" * 40)[HEADER] == "bypass"
        assert get(client, site_pages.ranking.url + "?village=<script>")[HEADER] == "bypass"


def test_a_path_keeps_a_bounded_number_of_query_variants(client, site_pages, monkeypatch):
    monkeypatch.setattr("portal.cache.MAX_VARIANTS_PER_PATH", 3)
    urls = [site_pages.news.url + f"?page={n}" for n in range(1, 6)]
    for url in urls:
        assert get(client, url)[HEADER] == "miss"
    assert [get(client, url)[HEADER] for url in urls] == ["hit", "hit", "hit", "miss", "miss"]
    assert get(client, site_pages.news.url)[HEADER] == "miss"  # the bare path always gets its place
    assert get(client, site_pages.news.url)[HEADER] == "hit"
    purge()  # a new generation: the count starts again
    assert get(client, urls[4])[HEADER] == "miss"
    assert get(client, urls[4])[HEADER] == "hit"


def test_every_parameter_a_public_page_reads_is_in_the_key():
    """A page that starts reading a new parameter must add it to PAGE_PARAMS, or every value would share a copy."""
    import pathlib

    import portal
    from portal.cache import PAGE_PARAMS

    root = pathlib.Path(portal.__file__).parent
    read = set()
    for path in [*(root / "models").glob("*.py"), root / "selectors.py"]:
        source = path.read_text()
        read |= set(re.findall(r"request\.GET\.get\(\"(\w+)\"", source))
        read |= set(re.findall(r"_int_param\(request, \"(\w+)\"", source))
    assert read, "the scan found no parameter: has the pages' code moved?"
    assert read <= set(PAGE_PARAMS), read - set(PAGE_PARAMS)


def test_a_cached_page_carries_the_visitors_own_csrf_token(site_pages):
    first = Client(enforce_csrf_checks=True)
    get(first, site_pages.news.url)
    other = Client(enforce_csrf_checks=True)
    response = get(other, site_pages.news.url)
    assert response[HEADER] == "hit"
    assert "csrftoken" in response.cookies  # the visitor had none: the hit sets it like a rendered page would
    posted = other.post("/care-mode/", {"next": site_pages.news.url, "csrfmiddlewaretoken": _token(response)})
    assert posted.status_code == 302


def test_not_found_and_redirects_are_not_cached(client, site_pages):
    for url in ("/notice/XX99/2026-10/", "/no-such-page/"):
        first = client.get(url)
        assert first.status_code == 404
        assert client.get(url)[HEADER] == "miss"
    # The motto form (a plain view, not a public page) sends a visitor to sign in, and is never even looked up.
    first = client.get(site_pages.motto_index.url + "submit/")
    assert first.status_code == 302 and "/login/" in first["Location"]
    assert HEADER not in client.get(site_pages.motto_index.url + "submit/")


def test_other_views_are_not_touched(client, site_pages):
    assert HEADER not in client.get("/login/")
    assert HEADER not in client.get("/search/?q=家风")


def test_a_lost_generation_counter_makes_every_copy_stale(client, site_pages):
    get(client, site_pages.news.url)
    cache.delete(GENERATION_KEY)
    assert get(client, site_pages.news.url)[HEADER] == "miss"
    assert get(client, site_pages.news.url)[HEADER] == "hit"


def test_the_cache_can_be_switched_off(client, site_pages, settings):
    settings.HEHE_PAGE_CACHE_SECONDS = 0
    get(client, site_pages.news.url)
    assert HEADER not in get(client, site_pages.news.url)


# --- who never gets a shared copy ----------------------------------------------------------------------------


def test_signed_in_users_never_get_or_leave_a_cached_copy(client, cast, site_pages):
    url = site_pages.home.url
    anonymous = get(client, url)
    assert anonymous[HEADER] == "miss" and "居民登录" in anonymous.content.decode()
    client.force_login(cast.resident_a)
    for _ in range(2):
        mine = get(client, url)
        assert mine[HEADER] == "bypass"
        assert "退出" in mine.content.decode() and "居民登录" not in mine.content.decode()
    client.logout()
    again = get(client, url)
    assert again[HEADER] in ("hit", "miss")
    assert "退出" not in again.content.decode()


def test_a_visitor_with_messages_waiting_is_not_served_a_copy(client, site_pages):
    get(client, site_pages.news.url)
    client.cookies["messages"] = "pending"
    assert get(client, site_pages.news.url)[HEADER] == "bypass"


def test_care_mode_and_language_variants_never_mix(client, site_pages):
    url = site_pages.news.url
    plain = get(client, url)
    assert plain[HEADER] == "miss"
    client.cookies[CARE_COOKIE] = "1"
    care = get(client, url)
    assert care[HEADER] == "miss" and 'class="care"' in care.content.decode()
    assert get(client, url)[HEADER] == "hit"
    client.cookies[CARE_COOKIE] = "0"
    back = get(client, url)
    assert back[HEADER] == "hit" and 'class="care"' not in back.content.decode()
    client.cookies["django_language"] = "en"
    english = get(client, url)
    assert english[HEADER] == "miss" and '<html lang="en"' in english.content.decode()
    assert get(client, url)[HEADER] == "hit"
    client.cookies["django_language"] = "zh-hans"
    chinese = get(client, url)
    assert chinese[HEADER] == "hit" and '<html lang="zh-hans"' in chinese.content.decode()


# --- purges --------------------------------------------------------------------------------------------------


def test_an_award_purges_once_committed(client, cast, site_pages, rubric_items, django_capture_on_commit_callbacks):
    url = site_pages.ranking.url + "?village=QS01"
    before = get(client, url).content.decode()
    assert "+10" not in before
    assert get(client, url)[HEADER] == "hit"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        award(cast, rubric_items.care, [cast.household_a], "cache-award-1")
    # Not committed yet (the test's transaction is still open): the copy stays, nothing was sent.
    assert get(client, url)[HEADER] == "hit"
    for callback in callbacks:  # the commit: points.signals.ledger_changed is sent
        callback()
    after = get(client, url)
    assert after[HEADER] == "miss"
    assert re.search(r"张\*丰</td><td>青山村</td><td class=\"num\">10<", after.content.decode())


@pytest.mark.any_day
def test_a_deduction_purges_the_notice(client, cast, site_pages, rubric_items, django_capture_on_commit_callbacks):
    month = clock.localdate().replace(day=1)
    notice_publish(actor=cast.committee_a, village=cast.village_a, period=month)
    url = f"/notice/QS01/{month:%Y-%m}/"
    assert "乱扔垃圾" not in get(client, url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        award(cast, rubric_items.litter, [cast.household_a], "cache-deduct-1")
    assert "乱扔垃圾" in get(client, url).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_really_committed_award_purges(client, cast, site_pages, rubric_items):
    url = site_pages.ranking.url + "?village=QS01"
    get(client, url)
    assert get(client, url)[HEADER] == "hit"
    award(cast, rubric_items.care, [cast.household_a2], "cache-award-committed")  # its own transaction
    response = get(client, url)
    assert response[HEADER] == "miss"
    assert re.search(r"王\*国</td><td>青山村</td><td class=\"num\">10<", response.content.decode())


@pytest.mark.django_db(transaction=True)
def test_a_redemption_purges_once_for_its_points_and_its_stock(cast, rubric_items, monkeypatch):
    """A counter redemption moves points and stock in one commit: ledger_changed and store_changed arrive in one
    batch, and one purge (one cache round trip) serves both. Two commits, two purges."""
    import portal.cache
    from points.store.services import redemption_create, stock_receive

    award(cast, rubric_items.care, [cast.household_a], "cache-once-award")
    product = Product.objects.create(village=cast.village_a, name="洗衣粉", price=2, unit="袋")
    stock_receive(actor=cast.storekeeper_a, product=product, quantity=5, idempotency_key="cache-once-stock")
    purges = []
    real_purge = portal.cache.purge
    monkeypatch.setattr(portal.cache, "purge", lambda: (purges.append(1), real_purge()))
    for n in (1, 2):
        redemption_create(
            actor=cast.storekeeper_a,
            household=cast.household_a,
            lines=[(product.pk, 1)],
            idempotency_key=f"cache-once-{n}",
        )
        assert len(purges) == n


def test_publishing_unpublishing_moving_and_deleting_pages_purge(client, site_pages):
    index_url = site_pages.news_index.url
    get(client, index_url)
    page = site_pages.news_index.add_child(
        instance=NewsPage(title="家庭日包饺子", slug="family-day", date=datetime.date(2026, 11, 15), live=False)
    )
    assert "家庭日包饺子" not in get(client, index_url).content.decode()  # a draft: nothing to show yet
    page.save_revision().publish()
    assert "家庭日包饺子" in get(client, index_url).content.decode()
    page.refresh_from_db()  # the revision published its own copy
    page.unpublish()
    assert "家庭日包饺子" not in get(client, index_url).content.decode()
    page.save_revision().publish()
    assert "家庭日包饺子" in get(client, index_url).content.decode()
    page.refresh_from_db()
    page.delete()
    assert "家庭日包饺子" not in get(client, index_url).content.decode()
    assert "送法下乡进青山村" in get(client, index_url).content.decode()
    get(client, site_pages.news.url)
    site_pages.news.move(site_pages.home, pos="last-child")
    assert "送法下乡进青山村" not in get(client, index_url).content.decode()
    assert client.get("/news/law-to-village/").status_code != 200  # moved away (a redirect now), not a copy


def test_making_a_page_private_purges_it(client, site_pages):
    from wagtail.models import PageViewRestriction

    get(client, site_pages.news.url)
    PageViewRestriction.objects.create(page=site_pages.news, restriction_type="login")
    response = client.get(site_pages.news.url)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_a_password_protected_page_is_never_shared(client, site_pages):
    from wagtail.models import PageViewRestriction

    restriction = PageViewRestriction.objects.create(
        page=site_pages.news, restriction_type=PageViewRestriction.PASSWORD, password="hehe-secret"
    )
    url = site_pages.news.url
    form = get(client, url)  # the password form: the same for every visitor
    assert "民法典" not in form.content.decode()
    unlocked = client.post(
        reverse("wagtailcore_authenticate_with_password", args=[restriction.pk, site_pages.news.pk]),
        {"password": "hehe-secret", "return_url": url},
    )
    assert unlocked.status_code == 302
    mine = get(client, url)
    assert mine[HEADER] == "bypass" and "民法典" in mine.content.decode()
    # Wagtail marks every response of a restricted page no-cache, so none of them is ever stored.
    stranger = get(Client(), url)
    assert stranger[HEADER] == "miss" and "民法典" not in stranger.content.decode()


@pytest.mark.any_day
def test_campaign_and_store_changes_purge(client, cast, site_pages, media):
    from wagtail.images import get_image_model
    from wagtail.images.tests.utils import get_test_image_file

    honor = site_pages.honor_roll.url
    get(client, honor)
    now = clock.now()
    campaign = Campaign.objects.create(
        kind=Campaign.Kind.BEAUTIFUL_FAMILY,
        title="最美家庭评选",
        level=Campaign.Level.VILLAGE,
        district=cast.district,
        township=cast.township,
        village=cast.village_a,
        nominee_type=Campaign.NomineeType.HOUSEHOLD,
        nominating_starts=now - datetime.timedelta(days=30),
        voting_starts=now - datetime.timedelta(days=20),
        voting_ends=now - datetime.timedelta(days=10),
        phase=Campaign.Phase.CLOSED,
        created_by=cast.committee_a,
    )
    nomination = Nomination.objects.create(
        campaign=campaign,
        village=cast.village_a,
        household=cast.household_a2,
        story="邻里和睦。",
        status=Nomination.Status.APPROVED,
        nominated_by=cast.committee_a,
    )
    Winner.objects.create(
        campaign=campaign,
        nomination=nomination,
        village=cast.village_a,
        rank=1,
        votes=9,
        citation="和和美美一家人。",
        confirmed_by=cast.committee_a,
    )
    assert "和和美美一家人" not in get(client, honor).content.decode()  # not published yet
    campaign.phase, campaign.published_at = Campaign.Phase.PUBLISHED, now
    campaign.save()
    assert "和和美美一家人" in get(client, honor).content.decode()

    village = site_pages.village.url
    get(client, village)
    photo = get_image_model().objects.create(title="毛巾照片", file=get_test_image_file("towel.png"))
    Product.objects.create(village=cast.village_a, name="新毛巾", price=3, photo=photo)
    assert "新毛巾" in get(client, village).content.decode()


def test_a_household_rename_purges(client, cast, site_pages, rubric_items):
    award(cast, rubric_items.care, [cast.household_a2], "cache-rename")
    cast.village_a.mask_names = False
    cast.village_a.save()
    url = site_pages.ranking.url + "?village=QS01"
    assert "王建国" in get(client, url).content.decode()
    household = cast.household_a2
    household.head_name = "王建军"  # as household_save keeps it from the head member
    household.save()
    assert "王建军" in get(client, url).content.decode()


def test_purge_makes_every_cached_page_a_miss(client, site_pages):
    urls = [site_pages.home.url, site_pages.news.url, "/notice/QS01/2026-10/"]
    for url in urls:
        get(client, url)
    purge()
    assert [get(client, url)[HEADER] for url in urls] == ["miss"] * 3


# --- the fast path (PageCacheFastPathMiddleware) ------------------------------------------------------------


def test_a_hit_is_served_before_the_stack_with_headers_and_a_csrf_cookie(site_pages, monkeypatch):
    """Without a session cookie the copy is served by the fast path: URL resolving never runs, the response still
    carries the clickjacking header, the language, Vary: Cookie and a fresh CSRF cookie for the visitor."""
    import django.core.handlers.base as handlers

    visitor = Client()
    get(visitor, site_pages.news.url)
    resolved = []
    real = handlers.BaseHandler.resolve_request
    monkeypatch.setattr(handlers.BaseHandler, "resolve_request", lambda self, r: resolved.append(r) or real(self, r))
    fresh = Client()
    hit = get(fresh, site_pages.news.url)
    assert hit[HEADER] == "hit" and resolved == []
    assert hit["X-Frame-Options"] == "DENY"
    assert hit["Content-Language"] == "zh-hans" and "Cookie" in hit["Vary"]
    assert hit.cookies["csrftoken"].value and _token(hit) != "__HEHE_CSRF_TOKEN__"
    english = Client()
    english.cookies["django_language"] = "en"
    assert get(english, site_pages.news.url)[HEADER] == "miss"  # another language, another copy
    assert get(english, site_pages.news.url)["Content-Language"] == "en"


def test_a_visitor_with_a_session_cookie_takes_the_full_path(client, cast, site_pages, monkeypatch):
    import django.core.handlers.base as handlers

    get(Client(), site_pages.news.url)
    resolved = []
    real = handlers.BaseHandler.resolve_request
    monkeypatch.setattr(handlers.BaseHandler, "resolve_request", lambda self, r: resolved.append(r) or real(self, r))
    client.force_login(cast.resident_a)
    assert get(client, site_pages.news.url)[HEADER] == "bypass" and resolved  # signed in: rendered for them
    client.logout()
    client.cookies["sessionid"] = "stale"
    assert get(client, site_pages.news.url)[HEADER] == "hit" and len(resolved) == 2  # the full path's hit
