"""Residents sign in with a login number or phone; attempts are throttled per identifier and address."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from points.register.services import household_archive, resident_password_issue

LOGIN = "/login/"


def post_login(client, username, password, ip="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.parametrize("identifier", ["QS01-001", "qs01-001", "13800138001"])
def test_resident_signs_in_with_login_number_or_phone(client, cast, identifier):
    response = post_login(client, identifier, "pw-resident-123")
    assert response.status_code == 302
    assert response["Location"] == "/me/"
    page = client.get("/me/").content.decode()
    assert "张三丰" in page
    assert "QS01-001" in page
    assert "13800138001" not in page  # the resident's own page shows no phone either


def test_wrong_password_says_so_in_chinese_without_telling_which_half(client, cast):
    response = post_login(client, "QS01-001", "wrong-password")
    assert response.status_code == 200
    assert "户号/手机号或密码不正确" in response.content.decode()
    response = post_login(client, "QS01-999", "wrong-password")
    assert "户号/手机号或密码不正确" in response.content.decode()


def test_a_phone_shared_by_two_households_does_not_sign_in(client, cast):
    from points.models import Member

    Member.objects.filter(household=cast.household_a2).update(phone="13800138001")
    resident_password_issue(household=cast.household_a2, actor=cast.committee_a)
    assert post_login(client, "13800138001", "pw-resident-123").status_code == 200


def test_archived_household_cannot_sign_in(client, cast):
    household_archive(household=cast.household_a, actor=cast.committee_a, reason="迁出")
    assert post_login(client, "QS01-001", "pw-resident-123").status_code == 200


def test_reset_password_replaces_the_old_one(client, cast):
    new_password = resident_password_issue(household=cast.household_a, actor=cast.committee_a)
    assert post_login(client, "QS01-001", "pw-resident-123").status_code == 200
    assert post_login(client, "QS01-001", new_password).status_code == 302


def test_staff_cannot_sign_in_as_residents_and_residents_cannot_enter_admin(client, cast):
    assert post_login(client, "QS01-001", "pw-resident-123").status_code == 302
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_throttle_locks_the_attacker_not_the_resident(client, cast):
    for _ in range(5):
        post_login(client, "QS01-001", "guess", ip="10.9.9.9")
    # From the attacker's address even the right password is refused now...
    locked = post_login(client, "QS01-001", "pw-resident-123", ip="10.9.9.9")
    assert locked.status_code == 429
    assert "15 分钟" in locked.content.decode()
    # ...but the resident, from their own phone, still gets in.
    assert post_login(client, "QS01-001", "pw-resident-123", ip="10.0.0.1").status_code == 302


def test_lockout_ends_after_the_cool_off(client, cast):
    for _ in range(5):
        post_login(client, "QS01-001", "guess", ip="10.9.9.9")
    assert post_login(client, "QS01-001", "pw-resident-123", ip="10.9.9.9").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert post_login(client, "QS01-001", "pw-resident-123", ip="10.9.9.9").status_code == 302


def test_admin_login_is_throttled_too(client, cast):
    for _ in range(5):
        client.post("/admin/login/", {"username": "committee_a", "password": "guess"}, REMOTE_ADDR="10.8.8.8")
    response = client.post(
        "/admin/login/", {"username": "committee_a", "password": "pw-staff-123"}, REMOTE_ADDR="10.8.8.8"
    )
    assert response.status_code == 429


def test_anonymous_me_redirects_to_login(client, db):
    response = client.get("/me/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_language_switch_on_every_page(client, cast):
    page = client.get(LOGIN).content.decode()
    assert 'action="/i18n/setlang/"' in page
    client.post("/i18n/setlang/", {"language": "en", "next": LOGIN})
    english = client.get(LOGIN).content.decode()
    assert 'lang="en"' in english


def test_pages_are_chinese_first_whatever_the_browser_asks(client, db):
    page = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in page
    assert "居民登录" in page
