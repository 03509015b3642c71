"""Response headers every answer carries (portal/middleware.py, issue 12 hole 13): a strict CSP on the site
(no inline script, nothing from another host), a Permissions-Policy, and Cache-Control: private on every page a
signed-in user gets."""

import pytest

from portal.middleware import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.django_db


def test_public_pages_forbid_inline_script_and_other_hosts(client, site_pages):
    response = client.get(site_pages.home.url)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "form-action 'self'" in policy
    assert "geolocation=()" in response["Permissions-Policy"] and "camera=()" in response["Permissions-Policy"]
    assert "private" not in response.get("Cache-Control", "")  # anonymous pages may be shared (and cached)


def test_a_cached_copy_carries_the_same_headers(client, site_pages):
    client.get(site_pages.news.url)
    hit = client.get(site_pages.news.url)
    assert hit["X-Hehe-Cache"] == "hit"
    assert hit["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_the_notice_and_the_api_carry_the_policy_and_the_api_docs_allow_only_inline_styles(client, cast):
    assert client.get("/api/v1/openapi.json")["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    docs = client.get("/api/v1/docs")
    assert "style-src 'self' 'unsafe-inline'" in docs["Content-Security-Policy"]
    assert "script-src 'self'" in docs["Content-Security-Policy"]


def test_the_admin_gets_the_permissions_policy_only(client, cast):
    client.force_login(cast.committee_a)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.parametrize(("role", "path"), [("resident_a", "/me/"), ("resident_a", "/me/statement/")])
def test_signed_in_pages_are_private_to_every_cache(client_for, cast, role, path):
    response = client_for(role).get(path)
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


def test_a_signed_in_visitor_of_a_public_page_gets_it_private(client_for, cast, site_pages):
    response = client_for("resident_a").get(site_pages.home.url)
    assert response.status_code == 200 and "private" in response["Cache-Control"]
