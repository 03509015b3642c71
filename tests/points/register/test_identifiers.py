"""``points.register.identifiers``: one reading of a login number (``QS01-001``) and a mobile number, and every
caller accepting the same inputs.

Before, four copies disagreed: the sign-in took ``qs01-001`` but not full-width ``ＱＳ０１－００１`` or a spaced
``QS01 - 001``; the counter did not trim a scanner's CR/LF inside its own parser and knew no full-width; the
paper-ballot screen trimmed but matched the number case-sensitively; the nomination form knew four dashes; the
API's household search knew no login number at all.
"""

import json

import pytest
from django.test import RequestFactory
from django.urls import reverse

from campaigns.admin.ballots import find_voter
from points.register.auth import resident_account_for
from points.register.identifiers import parse_login_number, parse_phone, sign_in_key
from points.register.selectors import household_search
from points.scope import scope_for
from portal.views.campaigns import _nominee_household
from tests.campaigns import test_services
from tests.portal.test_api_ledger import API, get

pytestmark = pytest.mark.django_db

campaign = test_services.campaign

# Each names household QS01-001 (张三丰's): typed, mistyped in harmless ways, or scanned from its card.
LOGIN_NUMBERS = [
    "QS01-001",
    " qs01-001 ",
    "Qs01-001\r\n",  # a USB scanner's Enter
    "QS01-001\t",
    "ＱＳ０１－００１",  # full-width, from a phone's Chinese input method
    "ｑｓ０１－００１",
    "QS01－001",
    "QS01—001",
    "QS01–001",
    "QS01 - 001",
    "QS01\u3000-\u3000001",
]
PHONES = [
    "13800138001",
    " 138 0013 8001 ",
    "138-0013-8001",
    "+86 138 0013 8001",
    "+8613800138001",
    "１３８００１３８００１",
]
NOT_LOGIN_NUMBERS = ["", "   ", "张三丰", "QS01-", "-001", "QS01-001-2", "QS01/001", "QS01_001"]


@pytest.mark.parametrize("text", LOGIN_NUMBERS)
def test_a_login_number_is_read_however_it_is_typed(text):
    assert parse_login_number(text) == ("QS01", "001")
    assert sign_in_key(text) == "QS01-001"


@pytest.mark.parametrize("text", ["001", " ００１ ", "001\n"])
def test_a_bare_household_number_has_no_village(text):
    assert parse_login_number(text) == (None, "001")


@pytest.mark.parametrize("text", NOT_LOGIN_NUMBERS)
def test_anything_else_is_no_login_number(text):
    assert parse_login_number(text) is None


@pytest.mark.parametrize("text", PHONES)
def test_a_mobile_is_read_however_it_is_typed(text):
    assert parse_phone(text) == "13800138001"
    assert sign_in_key(text) == "13800138001"


@pytest.mark.parametrize("text", ["1380013800", "23800138001", "QS01-001", "", "8613800138001x"])
def test_anything_else_is_no_mobile(text):
    assert parse_phone(text) is None


def test_a_staff_username_is_only_trimmed():
    assert sign_in_key(" Committee_A ") == "Committee_A"


# --- every caller accepts the same inputs ----------------------------------------------------------------------


@pytest.mark.parametrize("text", LOGIN_NUMBERS + PHONES)
def test_the_sign_in_finds_the_household(cast, text):
    account = resident_account_for(text)
    assert account is not None and account.household_id == cast.household_a.pk


@pytest.mark.parametrize("text", ["ＱＳ０１－００１", "QS01 - 001", "+86 138 0013 8001"])
def test_the_login_page_and_the_api_token_accept_them(client, cast, text):
    response = client.post(reverse("portal:login"), {"username": text, "password": "pw-resident-123"})
    assert response.status_code == 302, response.content.decode()[:500]
    assert int(client.session["_auth_user_id"]) == cast.resident_a.pk
    client.logout()
    body = json.dumps({"username": text, "password": "pw-resident-123"})
    response = client.post(f"{API}/token", data=body, content_type="application/json")
    assert response.status_code == 201, response.content


def test_failed_sign_ins_count_together_however_the_number_is_typed(client, cast):
    for text in ["QS01-001", "qs01-001", "ＱＳ０１－００１", "QS01 - 001", "QS01—001"]:
        client.post(reverse("portal:login"), {"username": text, "password": "wrong"})
    response = client.post(reverse("portal:login"), {"username": "QS01-001", "password": "pw-resident-123"})
    assert "_auth_user_id" not in client.session  # locked: five failures of one identifier
    assert response.status_code in (200, 403, 429)


@pytest.mark.parametrize("text", LOGIN_NUMBERS)
def test_the_register_search_and_the_counter_find_the_card(client_for, cast, text):
    (found,) = household_search(scope=scope_for(cast.storekeeper_a), query=text)
    assert found == cast.household_a
    response = client_for("storekeeper_a").get(reverse("points_store_counter_search"), {"q": text})
    assert [r["id"] for r in response.json()["results"]] == [cast.household_a.pk]


@pytest.mark.parametrize("text", ["QS01-001", "ＱＳ０１－００１", " qs01 - 001\r\n"])
def test_the_api_household_search_finds_the_card(client, cast, text):
    response = get(client, "/households", cast.committee_a, data={"q": text})
    assert response.status_code == 200, response.content
    assert [h["id"] for h in response.json()["items"]] == [cast.household_a.pk]


@pytest.mark.parametrize("text", [*LOGIN_NUMBERS, "001", "００１"])
def test_the_paper_ballot_screen_finds_the_voter(cast, campaign, text):
    request = RequestFactory().get("/")
    request.user = cast.committee_a
    household, problem = find_voter(request, campaign, [cast.village_a], None, text)
    assert problem is None and household == cast.household_a


@pytest.mark.parametrize("text", [*LOGIN_NUMBERS, "001", "００１"])
def test_a_resident_nominating_names_the_household(cast, campaign, text):
    assert _nominee_household(campaign, cast.household_a2, text) == cast.household_a


def test_a_card_of_another_village_is_refused_alike(cast, campaign):
    request = RequestFactory().get("/")
    request.user = cast.committee_a
    household, problem = find_voter(request, campaign, [cast.village_a], None, "ｌｘ０２－００１")
    assert household is None and "不在本次评选的范围内" in problem
    assert _nominee_household(campaign, cast.household_a2, "ｌｘ０２－００１") is None
    assert resident_account_for("ｌｘ０２－００１") is None  # village B's 001 has no account
