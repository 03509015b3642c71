"""关怀模式 (care mode): a large-text switch in every public page's header that works without JavaScript and
persists in a cookie; the page says ``<html class="care">`` when it is on."""

import re

import pytest
from django.test import Client

from portal.cache import CARE_COOKIE
from portal.views.site import CARE_COOKIE_AGE

TOGGLE = re.compile(r'<button type="submit" id="care-toggle" aria-pressed="(true|false)">')


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]


def html_tag(html: str) -> str:
    return re.search(r"<html[^>]*>", html)[0]


@pytest.mark.django_db
def test_the_switch_is_in_the_header_of_every_public_page(client, site_pages):
    for page in (site_pages.home, site_pages.news, site_pages.ranking, site_pages.village, site_pages.motto):
        html = client.get(page.url).content.decode()
        header = html[html.index('<header class="site-header">') : html.index("</header>")]
        assert 'action="/care-mode/"' in header and 'method="post"' in header
        assert TOGGLE.search(header)[1] == "false"
        assert f'<input type="hidden" name="next" value="{page.url}">' in header
        assert "关怀模式" in header
        assert html_tag(html) == '<html lang="zh-hans">'


@pytest.mark.django_db
def test_the_toggle_sets_and_clears_the_cookie_and_the_class(site_pages):
    client = Client(enforce_csrf_checks=True)  # the real CSRF check, as a browser meets it
    url = site_pages.news.url + "?page=1"
    html = client.get(url).content.decode()
    response = client.post("/care-mode/", {"next": url, "csrfmiddlewaretoken": csrf_token(html)})
    assert response.status_code == 302 and response["Location"] == url
    cookie = response.cookies[CARE_COOKIE]
    assert cookie.value == "1"
    assert cookie["max-age"] == CARE_COOKIE_AGE and cookie["samesite"] == "Lax" and cookie["httponly"]

    html = client.get(url).content.decode()
    assert html_tag(html) == '<html lang="zh-hans" class="care">'
    assert TOGGLE.search(html)[1] == "true"

    response = client.post("/care-mode/", {"next": url, "csrfmiddlewaretoken": csrf_token(html)})
    assert response.cookies[CARE_COOKIE].value == "0"
    html = client.get(url).content.decode()
    assert 'class="care"' not in html_tag(html)
    assert TOGGLE.search(html)[1] == "false"


@pytest.mark.django_db
def test_care_mode_works_on_the_notice_and_for_signed_in_residents(client, cast, site_pages):
    client.cookies[CARE_COOKIE] = "1"
    assert 'class="care"' in html_tag(client.get("/notice/QS01/2026-10/").content.decode())
    client.force_login(cast.resident_a)
    assert 'class="care"' in html_tag(client.get("/me/").content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/news/", "http://testserver.evil.example/", "", "javascript:alert(1)"],
)
def test_a_foreign_or_missing_next_goes_home(client, target):
    response = client.post("/care-mode/", {"next": target})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response.cookies[CARE_COOKIE].value == "1"


@pytest.mark.django_db
def test_get_is_refused_and_a_post_without_csrf_is_refused(site_pages):
    client = Client(enforce_csrf_checks=True)
    assert client.get("/care-mode/").status_code == 405
    response = client.post("/care-mode/", {"next": "/"})
    assert response.status_code == 403
    assert CARE_COOKIE not in response.cookies


def test_text_sizes_are_rem_based_so_the_root_size_scales_everything():
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "portal" / "static" / "portal" / "site.css").read_text()
    assert re.search(r"html\.care\s*\{\s*font-size:\s*125%", css)
    # No text size in px anywhere: the root size must reach every piece of text.
    for sheet in ("site.css", "pages.css"):
        text = (Path(__file__).resolve().parents[2] / "portal" / "static" / "portal" / sheet).read_text()
        assert not re.search(r"font(-size)?:[^;]*\d+px", text), sheet
