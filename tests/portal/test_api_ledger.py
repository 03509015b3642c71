"""The JSON API's ledger endpoints (api.md): tokens, households, statements, rubric, awards, reversals, heads.

Every refusal is checked for its status, for being problem+json, and for changing nothing.
"""

import hashlib
import json

import pytest

from points.ledger.selectors import household_balance
from points.models import GENESIS_HASH, Account, LedgerHead, RubricCategory, RubricItem, Transfer
from portal.api.tokens import token_issue, token_revoke
from portal.models import ApiToken

API = "/api/v1"
PROBLEM = "application/problem+json"


@pytest.fixture
def rubric(cast):
    category = RubricCategory.objects.create(name="孝老爱亲")
    return {
        "care": RubricItem.objects.create(category=category, district=cast.district, name="照顾老人", points=10),
        "litter": RubricItem.objects.create(
            category=category, district=cast.district, name="乱扔垃圾", points=5, kind="deduction"
        ),
        "capped": RubricItem.objects.create(
            category=category, district=cast.district, name="志愿服务", points=10, cap_period="month", cap_points=20
        ),
        "retired": RubricItem.objects.create(
            category=category, district=cast.district, name="旧细则", points=3, active=False
        ),
    }


def auth(user):
    _token, plaintext = token_issue(user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}


def get(client, path, user=None, **extra):
    return client.get(API + path, **(auth(user) if user else {}), **extra)


def post(client, path, body, user=None, key=None, raw=None, **extra):
    if user is not None:
        extra.update(auth(user))
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    data = raw if raw is not None else json.dumps(body)
    return client.post(API + path, data=data, content_type="application/json", **extra)


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    assert body["detail"]
    return body


def award(client, cast, item, households, key="k1", user=None, memo=""):
    body = {"rubric_item": item.id, "households": [h.id for h in households], "memo": memo}
    return post(client, "/awards", body, user=user or cast.committee_a, key=key)


# --- tokens ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "password"), [("committee_a", "pw-staff-123"), ("QS01-001", "pw-resident-123")])
def test_good_credentials_get_a_token_and_only_its_hash_is_stored(client, cast, username, password):
    response = post(client, "/token", {"username": username, "password": password, "name": "收银机"})
    assert response.status_code == 201
    token = response.json()["token"]
    row = ApiToken.objects.get()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.name, row.token_hash}
    me = client.get(f"{API}/households/{cast.household_a.id}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 200
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_token_needs_no_csrf_cookie_and_sessions_do_not_authenticate(cast):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    body = json.dumps({"username": "committee_a", "password": "pw-staff-123"})
    assert strict.post(f"{API}/token", body, content_type="application/json").status_code == 201
    strict.force_login(cast.committee_a)  # a browser session is not a token
    problem(strict.get(f"{API}/households"), 401)


def test_bad_credentials_answer_401_problem(client, cast):
    body = problem(post(client, "/token", {"username": "committee_a", "password": "wrong"}), 401)
    assert body["type"].endswith("bad-credentials")
    assert not ApiToken.objects.exists()


def test_token_creation_is_throttled_like_the_login_page(client, cast):
    attempt = {"username": "committee_a", "password": "guess"}
    for _ in range(4):
        problem(post(client, "/token", attempt, REMOTE_ADDR="10.9.9.9"), 401)
    post(client, "/token", attempt, REMOTE_ADDR="10.9.9.9")
    problem(post(client, "/token", attempt, REMOTE_ADDR="10.9.9.9"), 429)
    right = {"username": "committee_a", "password": "pw-staff-123"}
    assert "15" in problem(post(client, "/token", right, REMOTE_ADDR="10.9.9.9"), 429)["detail"]
    assert post(client, "/token", right, REMOTE_ADDR="10.0.0.1").status_code == 201


def test_a_revoked_token_answers_401(client, cast):
    token, plaintext = token_issue(user=cast.committee_a, name="丢失的手机")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}
    assert client.get(f"{API}/households", **headers).status_code == 200
    token_revoke(token=token)
    problem(client.get(f"{API}/households", **headers), 401)


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer nonsense", "Basic Y29tbWl0dGVlX2E6cHc=", "Bearer " + "x" * 5000]
)
def test_no_or_bad_token_answers_401(client, cast, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get(f"{API}/households/{cast.household_a.id}", **extra)
    problem(response, 401)
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_deactivated_users_token_stops_working(client, cast):
    headers = auth(cast.committee_a)
    cast.committee_a.is_active = False
    cast.committee_a.save()
    problem(client.get(f"{API}/households", **headers), 401)


def test_reissuing_a_residents_password_ends_every_token_of_that_resident(client, cast):
    """Issue 12, hole 9: a lost phone keeps its token; the committee re-issues the password and the phone is out."""
    from points.register.services import resident_password_issue

    _token, plaintext = token_issue(user=cast.resident_a, name="旧手机")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}
    own = f"{API}/households/{cast.household_a.id}"
    assert client.get(own, **headers).status_code == 200
    other, other_plaintext = token_issue(user=cast.committee_a, name="村委电脑")

    resident_password_issue(household=cast.household_a, actor=cast.committee_a)

    problem(client.get(own, **headers), 401)
    assert client.get(f"{API}/households", HTTP_AUTHORIZATION=f"Bearer {other_plaintext}").status_code == 200


def test_a_token_expires_after_its_lifetime(client, cast, settings):
    import datetime

    from points import clock

    settings.HEHE_API_TOKEN_DAYS = 30
    issued = datetime.datetime(2026, 1, 31, 9, 0, tzinfo=datetime.UTC)
    with clock.frozen_at(issued):
        token, plaintext = token_issue(user=cast.committee_a, name="收银机")
    assert token.expires_at == issued + datetime.timedelta(days=30)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}
    with clock.frozen_at(issued + datetime.timedelta(days=30, seconds=-1)):
        assert client.get(f"{API}/households", **headers).status_code == 200
    with clock.frozen_at(issued + datetime.timedelta(days=30)):
        problem(client.get(f"{API}/households", **headers), 401)


# --- households ------------------------------------------------------------------------------------------------


def numbers(response):
    assert response.status_code == 200, response.content
    return {(h["village"]["code"], h["number"]) for h in response.json()["items"]}


def test_committee_lists_and_searches_only_its_village(client, cast):
    assert numbers(get(client, "/households", cast.committee_a)) == {("QS01", "001"), ("QS01", "002")}
    assert numbers(get(client, "/households?q=zsf", cast.committee_a)) == {("QS01", "001")}
    assert numbers(get(client, "/households?q=002", cast.committee_a)) == {("QS01", "002")}
    assert numbers(get(client, "/households?q=陈玉兰", cast.committee_a)) == set()
    problem(get(client, f"/households?village={cast.village_b.id}", cast.committee_a), 403)
    problem(get(client, "/households?village=999999", cast.committee_a), 404)


def test_household_list_is_paginated_newest_first(client, cast):
    response = get(client, "/households?limit=1&offset=0", cast.township_staff)
    body = response.json()
    assert body["count"] == 3
    assert [h["id"] for h in body["items"]] == [cast.household_b.id]
    assert get(client, "/households?limit=1&offset=2", cast.township_staff).json()["items"][0]["number"] == "001"


def test_the_list_is_for_staff_only(client, cast):
    problem(get(client, "/households", cast.resident_a), 403)
    problem(get(client, "/households", cast.stranger), 403)
    problem(get(client, "/households"), 401)


def test_another_village_gets_404_for_a_household(client, cast):
    problem(get(client, f"/households/{cast.household_a.id}", cast.committee_b), 404)
    problem(get(client, f"/households/{cast.household_a.id}/transfers", cast.committee_b), 404)
    problem(get(client, f"/households/{cast.household_a.id}", cast.stranger), 404)


def test_a_resident_sees_only_its_own_household(client, cast, rubric):
    award(client, cast, rubric["care"], [cast.household_a])
    response = get(client, f"/households/{cast.household_a.id}", cast.resident_a)
    assert response.status_code == 200
    assert response.json()["balance"] == 10
    assert get(client, f"/households/{cast.household_a.id}/transfers", cast.resident_a).json()["count"] == 1
    problem(get(client, f"/households/{cast.household_a2.id}", cast.resident_a), 404)
    problem(get(client, f"/households/{cast.household_a2.id}/transfers", cast.resident_a), 404)


def test_household_detail_has_members_score_and_stars_but_no_phone(client, cast, rubric):
    cast.village_a.star_thresholds = [10, 20]
    cast.village_a.save()
    award(client, cast, rubric["care"], [cast.household_a])
    response = get(client, f"/households/{cast.household_a.id}", cast.storekeeper_a)
    body = response.json()
    assert "13800138001" not in response.content.decode()
    assert body["login_number"] == "QS01-001"
    assert body["head_name"] == "张三丰"
    assert body["members"] == [
        {"name": "张三丰", "relation": "head", "relation_label": "户主"},
        {"name": "李秀英", "relation": "spouse", "relation_label": "配偶"},
    ]
    assert (body["balance"], body["conduct_score"], body["stars"]) == (10, 10, 1)


@pytest.mark.parametrize("query", ["q=%00", "q=%ff%fe", "q=" + "x" * 51, "village=abc", "village=0", "limit=x"])
def test_bad_search_parameters_are_400_not_500(client, cast, query):
    response = get(client, f"/households?{query}", cast.committee_a)
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        problem(response, 400)


@pytest.mark.parametrize("bad", ["abc", "0", "-1", str(10**20), "1.5"])
def test_bad_household_ids_are_400_not_500(client, cast, bad):
    body = problem(get(client, f"/households/{bad}", cast.committee_a), 400)
    assert "id" in body["errors"]


def test_statement_pages_newest_first_with_explanations(client, cast, rubric):
    for key in ("s1", "s2"):
        award(client, cast, rubric["care"], [cast.household_a], key=key)
    award(client, cast, rubric["litter"], [cast.household_a], key="s3", memo="河边")
    path = f"/households/{cast.household_a.id}/transfers"
    body = get(client, path, cast.committee_a).json()
    assert body["count"] == 3
    assert [line["signed_amount"] for line in body["items"]] == [-5, 10, 10]
    assert "乱扔垃圾" in body["items"][0]["explanation"] and "河边" in body["items"][0]["explanation"]
    window = get(client, path + "?limit=2&offset=1", cast.committee_a).json()["items"]
    assert [line["id"] for line in window] == [line["id"] for line in body["items"][1:3]]
    assert get(client, path + "?limit=2&offset=4", cast.committee_a).json()["items"] == []
    assert problem(get(client, path + "?limit=0", cast.committee_a), 400)["errors"]["limit"]
    problem(get(client, path + "?limit=1000", cast.committee_a), 400)
    problem(get(client, path + "?offset=-1", cast.committee_a), 400)


# --- the rubric ------------------------------------------------------------------------------------------------


def test_rubric_lists_active_items_of_the_callers_village(client, cast, rubric):
    body = get(client, "/rubric", cast.resident_a).json()
    assert body["village"]["code"] == "QS01"
    assert {i["name"]: i["signed_points"] for i in body["items"]} == {"照顾老人": 10, "乱扔垃圾": -5, "志愿服务": 10}
    assert problem(get(client, "/rubric", cast.township_staff), 400)["errors"]["village"]
    assert get(client, f"/rubric?village={cast.village_b.id}", cast.township_staff).json()["count"] == 3
    problem(get(client, "/rubric?village=999999", cast.township_staff), 404)
    problem(get(client, "/rubric"), 401)


# --- awards ----------------------------------------------------------------------------------------------------


def test_a_good_batch_awards_every_household(client, cast, rubric):
    response = award(client, cast, rubric["care"], [cast.household_a, cast.household_a2], memo="重阳节")
    assert response.status_code == 201
    body = response.json()
    assert body["count"] == 2
    assert {t["household"] for t in body["transfers"]} == {cast.household_a.id, cast.household_a2.id}
    assert all(t["signed_amount"] == 10 and t["code"] == "award" for t in body["transfers"])
    assert household_balance(cast.household_a) == household_balance(cast.household_a2) == 10
    deduction = award(client, cast, rubric["litter"], [cast.household_a], key="k2").json()
    assert deduction["transfers"][0]["signed_amount"] == -5
    assert household_balance(cast.household_a) == 5


def test_a_missing_idempotency_key_is_400_and_writes_nothing(client, cast, rubric):
    body = {"rubric_item": rubric["care"].id, "households": [cast.household_a.id]}
    problem(post(client, "/awards", body, user=cast.committee_a), 400)
    problem(post(client, "/awards", body, user=cast.committee_a, key="   "), 400)
    problem(post(client, "/awards", body, user=cast.committee_a, key="k" * 101), 400)
    problem(post(client, "/awards", body, user=cast.committee_a, key="a\x00b"), 400)
    assert Transfer.objects.count() == 0


def test_the_same_key_and_body_replays_the_first_answer(client, cast, rubric):
    first = award(client, cast, rubric["care"], [cast.household_a, cast.household_a2], key="batch-7")
    again = award(client, cast, rubric["care"], [cast.household_a, cast.household_a2], key="batch-7")
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert Transfer.objects.count() == 2
    assert household_balance(cast.household_a) == 10


def test_the_same_key_with_another_body_is_409(client, cast, rubric):
    award(client, cast, rubric["care"], [cast.household_a], key="batch-8")
    body = problem(award(client, cast, rubric["care"], [cast.household_a2], key="batch-8"), 409)
    assert body["type"].endswith("idempotency-conflict")
    assert Transfer.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rubric_item": 0}, "rubric_item"),
        ({"rubric_item": -1}, "rubric_item"),
        ({"rubric_item": "abc"}, "rubric_item"),
        ({"rubric_item": "1"}, "rubric_item"),
        ({"rubric_item": 10**20}, "rubric_item"),
        ({"rubric_item": 1.5}, "rubric_item"),
        ({"rubric_item": True}, "rubric_item"),
        ({"rubric_item": None}, "rubric_item"),
        ({"households": []}, "households"),
        ({"households": ["x"]}, "households.0"),
        ({"households": [10**20]}, "households.0"),
        ({"households": "1"}, "households"),
        ({"households": None}, "households"),
        ({"memo": 5}, "memo"),
        ({"memo": "长" * 201}, "memo"),
    ],
)
def test_bad_award_input_is_400_with_a_message_per_field(client, cast, rubric, body, field):
    good = {"rubric_item": rubric["care"].id, "households": [cast.household_a.id], "memo": ""}
    response = post(client, "/awards", {**good, **body}, user=cast.committee_a, key="bad")
    errors = problem(response, 400)["errors"]
    assert field in errors and all(errors[field]), errors
    assert Transfer.objects.count() == 0


def test_a_missing_field_is_named(client, cast):
    errors = problem(post(client, "/awards", {"memo": "x"}, user=cast.committee_a, key="m"), 400)["errors"]
    assert set(errors) == {"rubric_item", "households"}


@pytest.mark.parametrize("target", ["unknown", "household_b", "household_c"])
def test_households_the_caller_cannot_see_are_404(client, cast, rubric, target):
    ids = [cast.household_a.id, 987654 if target == "unknown" else cast[target].id]
    body = {"rubric_item": rubric["care"].id, "households": ids}
    assert "households" in problem(post(client, "/awards", body, user=cast.committee_a, key="x"), 404)["errors"]
    assert Transfer.objects.count() == 0


def test_an_unknown_rubric_item_is_404(client, cast):
    body = {"rubric_item": 987654, "households": [cast.household_a.id]}
    assert "rubric_item" in problem(post(client, "/awards", body, user=cast.committee_a, key="x"), 404)["errors"]


def test_one_batch_stays_in_one_village(client, cast, rubric):
    response = award(client, cast, rubric["care"], [cast.household_a, cast.household_b], user=cast.district_admin)
    assert "households" in problem(response, 400)["errors"]
    assert award(client, cast, rubric["care"], [cast.household_b], user=cast.district_admin).status_code == 201


def test_rules_refuse_with_409_and_change_nothing(client, cast, rubric):
    body = problem(award(client, cast, rubric["retired"], [cast.household_a], key="r1"), 409)
    assert body["type"].endswith("inactive-item")
    for key in ("c1", "c2"):
        assert award(client, cast, rubric["capped"], [cast.household_a], key=key).status_code == 201
    before = Transfer.objects.count()
    body = problem(award(client, cast, rubric["capped"], [cast.household_a2, cast.household_a], key="c3"), 409)
    assert body["type"].endswith("cap-exceeded")
    assert "张三丰" in body["detail"]
    assert Transfer.objects.count() == before
    assert household_balance(cast.household_a2) == 0


@pytest.mark.parametrize("role", ["grid_worker_a", "storekeeper_a", "resident_a", "stranger"])
def test_only_those_who_manage_points_may_award(client, cast, rubric, role):
    problem(award(client, cast, rubric["care"], [cast.household_a], user=cast[role]), 403)
    assert Transfer.objects.count() == 0


def test_another_villages_committee_cannot_award_here(client, cast, rubric):
    problem(award(client, cast, rubric["care"], [cast.household_a], user=cast.committee_b), 404)
    anonymous = post(client, "/awards", {"rubric_item": rubric["care"].id, "households": [1]}, key="a")
    problem(anonymous, 401)
    assert Transfer.objects.count() == 0


def test_messages_follow_accept_language(client, cast, rubric):
    zh = award(client, cast, rubric["care"], [cast.household_a], user=cast.grid_worker_a)
    assert problem(zh, 403)["detail"] == "您无权操作该村的数据"
    body = {"rubric_item": rubric["care"].id, "households": [cast.household_a.id]}
    en = post(client, "/awards", body, user=cast.grid_worker_a, key="k", HTTP_ACCEPT_LANGUAGE="en")
    assert problem(en, 403)["detail"] == "You do not have permission to manage this village's data"
    assert en["Content-Language"] == "en"


# --- reversals -------------------------------------------------------------------------------------------------


def reverse_(client, transfer_id, reason="录错了", key="rv1", user=None):
    return post(client, f"/transfers/{transfer_id}/reversal", {"reason": reason}, user=user, key=key)


def test_a_transfer_is_reversed_once(client, cast, rubric):
    (original,) = award(client, cast, rubric["care"], [cast.household_a]).json()["transfers"]
    first = reverse_(client, original["id"], user=cast.committee_a)
    assert first.status_code == 201
    reversal = first.json()
    assert (reversal["reverses"], reversal["code"], reversal["signed_amount"]) == (original["id"], "reversal", -10)
    assert household_balance(cast.household_a) == 0
    replay = reverse_(client, original["id"], user=cast.committee_a)
    assert (replay.status_code, replay.content) == (first.status_code, first.content)
    again = problem(reverse_(client, original["id"], key="rv2", user=cast.committee_a), 409)
    assert again["type"].endswith("already-reversed")
    of_reversal = problem(reverse_(client, reversal["id"], key="rv3", user=cast.committee_a), 409)
    assert of_reversal["type"].endswith("not-reversible")
    assert Transfer.objects.count() == 2


def test_reversal_refusals(client, cast, rubric):
    (original,) = award(client, cast, rubric["care"], [cast.household_a]).json()["transfers"]
    path = f"/transfers/{original['id']}/reversal"
    assert problem(post(client, path, {"reason": "  "}, user=cast.committee_a, key="e"), 400)["errors"]["reason"]
    problem(post(client, path, {}, user=cast.committee_a, key="e2"), 400)
    problem(post(client, path, {"reason": "无 key"}, user=cast.committee_a), 400)
    problem(reverse_(client, original["id"], user=cast.committee_b), 404)
    problem(reverse_(client, original["id"], user=cast.resident_a), 403)
    problem(reverse_(client, original["id"], user=cast.grid_worker_a), 403)
    problem(reverse_(client, 987654, user=cast.committee_a), 404)
    problem(reverse_(client, "abc", user=cast.committee_a), 400)
    assert Transfer.objects.count() == 1


# --- the chain head --------------------------------------------------------------------------------------------


def test_village_ledger_shows_the_chain_head_to_anyone(client, cast, rubric):
    award(client, cast, rubric["care"], [cast.household_a, cast.household_a2])
    head = LedgerHead.objects.get(village=cast.village_a)
    body = client.get(f"{API}/villages/{cast.village_a.id}/ledger").json()
    assert (
        (body["transfer_count"], body["head_hash"]) == (head.seq, head.hash) == (2, Transfer.objects.latest("id").hash)
    )
    empty = client.get(f"{API}/villages/{cast.village_c.id}/ledger").json()
    assert (empty["transfer_count"], empty["head_hash"]) == (0, GENESIS_HASH)
    problem(client.get(f"{API}/villages/987654/ledger"), 404)


# --- no input answers 500 --------------------------------------------------------------------------------------

JUNK = [
    "null",
    "[]",
    '"x"',
    "1",
    "1e999",
    "{",
    "",
    "\xff\xfe",
    "{'single': 'quotes'}",
    '{"households": "1"}',
    '{"rubric_item": NaN, "households": [Infinity]}',
    '{"rubric_item": {"id": 1}, "households": [[1]]}',
    '{"reason": ["x"], "username": 1, "password": null}',
    "[" * 50_000 + "]" * 50_000,
    '{"a":' * 5_000 + "1" + "}" * 5_000,
    json.dumps({"rubric_item": 1, "households": [1], "memo": "x" * 1_000_000, "reason": "y" * 1_000_000}),
    json.dumps({"username": "u" * 100_000, "password": "p" * 100_000}),
    json.dumps({"households": list(range(1, 25_000)), "rubric_item": 1}),
    json.dumps({"rubric_item": 1, "households": [1], "memo": "a\x00b", "reason": "a\x00b", "username": "\x00"}),
    json.dumps({"rubric_item": 1, "households": [1], "memo": "\ud800", "reason": "\udfff", "password": "\ud800"}),
]


@pytest.mark.parametrize("path", ["/token", "/awards", "/transfers/{id}/reversal"])
@pytest.mark.parametrize("raw", JUNK, ids=range(len(JUNK)))
def test_junk_bodies_answer_4xx_problems_never_500(client, cast, rubric, path, raw):
    (original,) = award(client, cast, rubric["care"], [cast.household_a], key="setup").json()["transfers"]
    before = Transfer.objects.count()
    path = path.format(id=original["id"])
    response = post(client, path, None, user=cast.committee_a, key="junk", raw=raw)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    problem(response, response.status_code)
    assert Transfer.objects.count() == before


@pytest.mark.parametrize("raw", ["null", "[]", '"x"', "1", "1e999", "{", '{"rubric_item": NaN}', "[" * 50_000])
def test_a_body_that_is_not_a_json_object_is_malformed(client, cast, raw):
    body = problem(post(client, "/awards", None, user=cast.committee_a, key="m", raw=raw), 400)
    assert body["type"].endswith("malformed-body")


def test_a_body_over_the_upload_limit_is_413(client, cast):
    raw = json.dumps({"memo": "x" * (6 * 1024 * 1024)})
    problem(post(client, "/awards", None, user=cast.committee_a, key="big", raw=raw), 413)


def test_an_unexpected_error_is_a_problem_500_logged_without_phone_numbers(client, cast, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("lookup failed for 13800138001 / 110101199003077777")

    monkeypatch.setattr("portal.api.ledger.household_search", broken)
    body = problem(get(client, "/households", cast.committee_a), 500)
    assert "13800138001" not in body["detail"]
    assert "RuntimeError" in caplog.text
    assert "13800138001" not in caplog.text and "110101199003077777" not in caplog.text


def test_unknown_paths_and_methods_are_problems_not_html(client, cast):
    problem(client.get(f"{API}/nothing/here"), 404)
    assert client.delete(f"{API}/awards").status_code == 405


# --- OpenAPI and docs ------------------------------------------------------------------------------------------


def test_openapi_document_and_local_docs(client, db):
    schema = client.get(f"{API}/openapi.json").json()
    for path in ("/token", "/households", "/households/{id}", "/households/{id}/transfers", "/rubric", "/awards"):
        assert API + path in schema["paths"], path
    assert f"{API}/transfers/{{id}}/reversal" in schema["paths"]
    assert f"{API}/villages/{{id}}/ledger" in schema["paths"]
    page = client.get(f"{API}/docs").content.decode()
    assert "cdn" not in page.lower() and "https://" not in page
    assert '"validatorUrl": null' in page
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-init.js"):
        assert f"{API}/docs/assets/{asset}" in page
        assert client.get(f"{API}/docs/assets/{asset}").status_code == 200
    problem(client.get(f"{API}/docs/assets/..%2Fmain.py"), 404)


# --- the token admin -------------------------------------------------------------------------------------------

ADMIN = "/admin/snippets/portal/apitoken/"


def test_admin_lists_own_tokens_and_district_admin_all(client, cast):
    mine, _ = token_issue(user=cast.committee_a, name="甲村收银机")
    token_issue(user=cast.committee_b, name="乙村手机")
    client.force_login(cast.committee_a)
    response = client.get(ADMIN)
    assert response.status_code == 200
    page = response.content.decode()
    assert "甲村收银机" in page and "乙村手机" not in page
    client.force_login(cast.district_admin)
    page = client.get(ADMIN).content.decode()
    assert "甲村收银机" in page and "乙村手机" in page


def test_admin_revokes_own_token_but_not_anothers(client, cast):
    mine, plaintext = token_issue(user=cast.committee_a, name="甲村收银机")
    theirs, _ = token_issue(user=cast.committee_b, name="乙村手机")
    client.force_login(cast.committee_a)
    for view in ("inspect", "history", "delete"):
        assert client.get(f"{ADMIN}{view}/{theirs.pk}/").status_code == 404, view
        assert client.get(f"{ADMIN}{view}/{mine.pk}/").status_code == 200, view
    assert client.post(f"{ADMIN}delete/{theirs.pk}/").status_code == 404
    assert client.post(f"{ADMIN}delete/{mine.pk}/").status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None
    assert ApiToken.objects.count() == 2  # revoking keeps the row
    problem(client.get(f"{API}/households", HTTP_AUTHORIZATION=f"Bearer {plaintext}"), 401)


def test_a_committee_sees_and_revokes_its_residents_tokens_and_no_one_elses(client, cast):
    resident_token, plaintext = token_issue(user=cast.resident_a, name="张家手机")
    staff_token, _ = token_issue(user=cast.storekeeper_a, name="超市收银机")
    client.force_login(cast.committee_b)
    assert "张家手机" not in client.get(ADMIN).content.decode()
    assert client.post(f"{ADMIN}delete/{resident_token.pk}/").status_code == 404
    client.force_login(cast.committee_a)
    page = client.get(ADMIN).content.decode()
    assert "张家手机" in page and "有效" in page
    assert "超市收银机" not in page  # staff tokens are their own (and the district's) business
    assert client.post(f"{ADMIN}delete/{resident_token.pk}/").status_code == 302
    problem(client.get(f"{API}/households", HTTP_AUTHORIZATION=f"Bearer {plaintext}"), 401)
    assert "已撤销" in client.get(ADMIN).content.decode()
    staff_token.refresh_from_db()
    assert staff_token.revoked_at is None


def test_account_balances_still_sum_to_zero_after_api_writes(client, cast, rubric):
    award(client, cast, rubric["care"], [cast.household_a, cast.household_a2])
    award(client, cast, rubric["litter"], [cast.household_a], key="k2")
    assert sum(Account.objects.values_list("balance", flat=True)) == 0
