"""The JSON API's store endpoints (api.md): the catalogue, redemptions, reservations handed over or cancelled.

Every refusal is checked for its status, for being problem+json, and for changing nothing: not the stock, not the
balance, not the count of redemptions, transfers and stock movements.
"""

import datetime
import json

import pytest

from points import clock
from points.ledger.selectors import household_balance
from points.models import Product, Redemption
from points.register.services import household_archive, resident_password_issue
from points.store.services import redemption_create
from tests.factories import superuser
from tests.points.store import test_services as test_store
from tests.portal.test_api_ledger import API, JUNK, get, post, problem

store = test_store.store  # village A's soap (2 pts, 50 in stock) and oil (30 pts, 3); household_a holds 100
counts = test_store.counts


def state(cast):
    """Everything a refused redemption must leave as it was."""
    stock = tuple(Product.objects.order_by("id").values_list("stock", flat=True))
    return counts(), stock, household_balance(cast.household_a), household_balance(cast.household_a2)


def line(product, quantity):
    return {"product": product.id, "quantity": quantity}


def redeem(client, cast, lines, key="r1", user=None, household=None):
    body = {"household": (household or cast.household_a).id, "lines": lines}
    return post(client, "/redemptions", body, user=user or cast.storekeeper_a, key=key)


def reserve(client, cast, store, key="res1"):
    response = redeem(client, cast, [line(store["soap"], 5)], key=key, user=cast.resident_a)
    assert response.status_code == 201, response.content
    return response.json()


def fulfil(client, redemption_id, user, key="f1"):
    return post(client, f"/redemptions/{redemption_id}/fulfilment", {}, user=user, key=key)


def cancel(client, redemption_id, user, key="c1"):
    return post(client, f"/redemptions/{redemption_id}/cancellation", {}, user=user, key=key)


# --- the catalogue -----------------------------------------------------------------------------------------------


def test_the_catalogue_is_public_with_price_and_stock_and_only_what_is_on_the_shelf(client, cast, store):
    Product.objects.create(village=cast.village_a, name="旧毛巾", price=3, active=False)
    Product.objects.create(village=cast.village_b, name="柳溪大米", price=20)
    response = client.get(f"{API}/products?village={cast.village_a.id}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["village"]["code"] == "QS01"
    assert body["count"] == 2
    assert [(p["name"], p["price"], p["stock"], p["unit"]) for p in body["items"]] == [
        ("肥皂", 2, 50, "块"),
        ("菜籽油", 30, 3, "桶"),
    ]
    assert body["items"][0]["category_label"] == "日用品"
    assert get(client, "/products", cast.resident_a).json()["items"] == body["items"]  # the caller's own village
    window = client.get(f"{API}/products?village={cast.village_a.id}&limit=1&offset=1").json()
    assert [p["name"] for p in window["items"]] == ["菜籽油"]


def test_catalogue_refusals(client, cast, store):
    assert "village" in problem(client.get(f"{API}/products"), 400)["errors"]
    assert "village" in problem(get(client, "/products", cast.township_staff), 400)["errors"]
    problem(client.get(f"{API}/products?village=987654"), 404)
    for bad in ("abc", "0", "-1", str(10**20), "1.5"):
        problem(client.get(f"{API}/products?village={bad}"), 400)
    problem(client.get(f"{API}/products?village={cast.village_a.id}", HTTP_AUTHORIZATION="Bearer nonsense"), 401)


def test_a_browser_session_does_not_make_the_catalogue_caller_anyone(client, cast, store):
    client.force_login(cast.resident_a)  # signed in on the web, but no token: anonymous here
    assert "village" in problem(client.get(f"{API}/products"), 400)["errors"]


# --- redemptions at the counter and reservations --------------------------------------------------------------


def test_a_counter_redemption_answers_201_with_lines_total_and_balance(client, cast, store):
    response = redeem(client, cast, [line(store["soap"], 5), line(store["oil"], 2)])
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["total"], body["balance_after"]) == ("completed", 70, 30)
    assert body["receipt_number"] == Redemption.objects.get().receipt_number
    assert body["receipt_number"].startswith("QS01-")
    assert body["household"] == cast.household_a.id
    assert body["pickup_deadline"] is None
    assert {(x["product_name"], x["quantity"], x["unit_price"], x["points"]) for x in body["lines"]} == {
        ("肥皂", 5, 2, 10),
        ("菜籽油", 2, 30, 60),
    }
    assert household_balance(cast.household_a) == 30
    assert list(Product.objects.order_by("id").values_list("stock", flat=True)) == [45, 1]
    assert Redemption.objects.get().status == Redemption.Status.COMPLETED


def test_a_resident_reserves_for_its_own_household(client, cast, store):
    body = reserve(client, cast, store)
    assert (body["status"], body["total"], body["balance_after"]) == ("reserved", 10, 90)
    assert body["pickup_deadline"] is not None
    redemption = Redemption.objects.get()
    assert (redemption.status, redemption.created_by) == (Redemption.Status.RESERVED, cast.resident_a)
    assert household_balance(cast.household_a) == 90
    # Another household's, even of the same village: not theirs to see.
    response = redeem(
        client, cast, [line(store["soap"], 1)], key="r2", user=cast.resident_a, household=cast.household_a2
    )
    assert "household" in problem(response, 404)["errors"]


def test_the_same_key_twice_redeems_once_and_answers_the_same(client, cast, store):
    first = redeem(client, cast, [line(store["soap"], 5)], key="till-7")
    again = redeem(client, cast, [line(store["soap"], 5)], key="till-7")
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert Redemption.objects.count() == 1
    assert household_balance(cast.household_a) == 90


def test_a_replay_answers_the_first_body_even_after_the_reservation_moved_on(client, cast, store):
    first = redeem(client, cast, [line(store["soap"], 5)], key="phone-1", user=cast.resident_a)
    assert fulfil(client, first.json()["id"], cast.storekeeper_a).status_code == 200
    again = redeem(client, cast, [line(store["soap"], 5)], key="phone-1", user=cast.resident_a)
    assert (again.status_code, again.content) == (first.status_code, first.content)


def test_the_same_key_with_another_body_is_409_and_changes_nothing(client, cast, store):
    redeem(client, cast, [line(store["soap"], 5)], key="till-8")
    before = state(cast)
    body = problem(redeem(client, cast, [line(store["soap"], 6)], key="till-8"), 409)
    assert body["type"].endswith("idempotency-conflict")
    assert state(cast) == before


def test_one_short_line_refuses_them_all_naming_the_product(client, cast, store):
    before = state(cast)
    body = problem(redeem(client, cast, [line(store["soap"], 2), line(store["oil"], 4)]), 409)
    assert body["type"].endswith("out-of-stock")
    assert "菜籽油" in body["detail"] and "3" in body["detail"]
    assert state(cast) == before


def test_not_enough_points_is_409_saying_how_many(client, cast, store):
    before = state(cast)
    body = problem(redeem(client, cast, [line(store["soap"], 45), line(store["oil"], 1)]), 409)
    assert body["type"].endswith("insufficient-points")
    assert "120" in body["detail"] and "100" in body["detail"]
    assert state(cast) == before


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([{"product": "soap", "quantity": 0}], "lines.0.quantity"),
        ([{"product": "soap", "quantity": -1}], "lines.0.quantity"),
        ([{"product": "soap", "quantity": 10**12}], "lines.0.quantity"),
        ([{"product": "soap", "quantity": 1000}], "lines.0.quantity"),
        ([{"product": "soap", "quantity": "2"}], "lines.0.quantity"),
        ([{"product": "soap", "quantity": 1.5}], "lines.0.quantity"),
        ([{"product": "soap", "quantity": True}], "lines.0.quantity"),
        ([{"product": "soap", "quantity": None}], "lines.0.quantity"),
        ([{"product": "soap"}], "lines.0.quantity"),
        ([{"product": "abc", "quantity": 1}], "lines.0.product"),
        ([{"product": 0, "quantity": 1}], "lines.0.product"),
        ([{"product": 10**20, "quantity": 1}], "lines.0.product"),
        ([{"product": "unknown", "quantity": 1}], "lines.0.product"),
        ([{"product": "soap", "quantity": 1}, {"product": "foreign", "quantity": 1}], "lines.1.product"),
        ([{"product": "inactive", "quantity": 1}], "lines.0.product"),
        ([{"product": "soap", "quantity": 600}, {"product": "soap", "quantity": 600}], "lines.1.quantity"),
        ([], "lines"),
        (None, "lines"),
        ("soap", "lines"),
        ([["soap", 1]], "lines.0.product"),
        ([{"product": "soap", "quantity": 1}] * 51, "lines"),
        ("missing", "lines"),
    ],
)
def test_bad_lines_are_400_naming_the_field_and_change_nothing(client, cast, store, lines, field):
    """A product the store does not offer (unknown, another village's, off the shelf) is invalid input: 400."""
    ids = {
        "soap": store["soap"].id,
        "unknown": 987654,
        "foreign": Product.objects.create(village=cast.village_b, name="柳溪大米", price=1).id,
        "inactive": Product.objects.create(village=cast.village_a, name="旧毛巾", price=1, active=False).id,
    }
    if isinstance(lines, list):
        lines = [
            {**x, "product": ids.get(x["product"], x["product"])} if isinstance(x, dict) else ["soap", 1] for x in lines
        ]
    body = {"household": cast.household_a.id}
    if lines != "missing":
        body["lines"] = lines
    before = state(cast)
    errors = problem(post(client, "/redemptions", body, user=cast.storekeeper_a, key="bad"), 400)["errors"]
    assert field in errors and all(errors[field]), errors
    assert state(cast) == before


@pytest.mark.parametrize("household", ["abc", "1", 0, -1, 10**20, 1.5, None, True])
def test_a_bad_household_is_400(client, cast, store, household):
    body = {"household": household, "lines": [line(store["soap"], 1)]}
    errors = problem(post(client, "/redemptions", body, user=cast.storekeeper_a, key="bad"), 400)["errors"]
    assert "household" in errors


def test_a_missing_idempotency_key_is_400_and_redeems_nothing(client, cast, store):
    before = state(cast)
    body = {"household": cast.household_a.id, "lines": [line(store["soap"], 1)]}
    problem(post(client, "/redemptions", body, user=cast.storekeeper_a), 400)
    problem(post(client, "/redemptions", body, user=cast.storekeeper_a, key=" "), 400)
    problem(post(client, "/redemptions", body, user=cast.storekeeper_a, key="k" * 101), 400)
    assert state(cast) == before


def test_who_may_redeem_for_whom(client, cast, store):
    before = state(cast)
    soap = [line(store["soap"], 1)]
    problem(redeem(client, cast, soap, user=cast.committee_b), 404)  # another village's household
    problem(redeem(client, cast, soap, user=cast.stranger), 404)
    problem(redeem(client, cast, soap, user=cast.grid_worker_a), 403)  # sees the household, runs no store
    problem(post(client, "/redemptions", {"household": cast.household_a.id, "lines": soap}, key="anon"), 401)
    problem(redeem(client, cast, soap, household=cast.household_b, user=cast.storekeeper_a), 404)
    assert state(cast) == before
    assert redeem(client, cast, soap, user=cast.committee_a).status_code == 201  # the committee runs the store too


def test_an_archived_household_is_refused_with_409(client, cast, store):
    household_archive(household=cast.household_a, actor=cast.committee_a, reason="迁出")
    before = state(cast)
    body = problem(redeem(client, cast, [line(store["soap"], 1)]), 409)
    assert "归档" in body["detail"]
    assert state(cast) == before


# --- handing over and cancelling reservations -----------------------------------------------------------------


def test_the_storekeeper_hands_a_reservation_over_once(client, cast, store):
    reservation = reserve(client, cast, store)
    first = fulfil(client, reservation["id"], cast.storekeeper_a)
    assert first.status_code == 200, first.content
    assert (first.json()["status"], first.json()["balance_after"]) == ("fulfilled", 90)
    assert first.json()["closed_at"] is not None
    replay = fulfil(client, reservation["id"], cast.storekeeper_a)
    assert (replay.status_code, replay.content) == (first.status_code, first.content)
    assert problem(fulfil(client, reservation["id"], cast.storekeeper_a, key="f2"), 409)["type"].endswith(
        "store-refused"
    )
    problem(cancel(client, reservation["id"], cast.resident_a), 409)
    assert Redemption.objects.get().status == Redemption.Status.FULFILLED
    assert household_balance(cast.household_a) == 90


def test_the_resident_cancels_its_reservation_refunded_and_restocked_once(client, cast, store):
    reservation = reserve(client, cast, store)
    first = cancel(client, reservation["id"], cast.resident_a)
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["status"] == "cancelled" and body["refund"] is not None
    assert household_balance(cast.household_a) == 100
    assert Product.objects.get(pk=store["soap"].pk).stock == 50
    replay = cancel(client, reservation["id"], cast.resident_a)
    assert (replay.status_code, replay.content) == (first.status_code, first.content)
    before = state(cast)
    problem(cancel(client, reservation["id"], cast.resident_a, key="c2"), 409)
    body = problem(fulfil(client, reservation["id"], cast.storekeeper_a), 409)  # a cancelled one cannot be handed
    assert "已取消" in body["detail"]
    assert state(cast) == before


def test_the_storekeeper_may_cancel_too(client, cast, store):
    reservation = reserve(client, cast, store)
    assert cancel(client, reservation["id"], cast.storekeeper_a).json()["status"] == "cancelled"
    assert household_balance(cast.household_a) == 100


def test_a_key_used_for_something_else_is_409(client, cast, store):
    reservation = reserve(client, cast, store, key="same")
    body = problem(cancel(client, reservation["id"], cast.resident_a, key="same"), 409)
    assert body["type"].endswith("idempotency-conflict")
    assert Redemption.objects.get().status == Redemption.Status.RESERVED


def test_who_may_hand_over_and_cancel(client, cast, store):
    reservation = reserve(client, cast, store)
    counter = redeem(client, cast, [line(store["soap"], 1)], key="counter").json()
    resident_password_issue(household=cast.household_a2, actor=superuser())
    cast.household_a2.refresh_from_db()
    neighbour = cast.household_a2.account.user
    before = state(cast)
    problem(cancel(client, reservation["id"], neighbour), 404)  # another household's reservation
    problem(fulfil(client, reservation["id"], neighbour), 404)
    problem(cancel(client, reservation["id"], cast.committee_b), 404)
    problem(fulfil(client, reservation["id"], cast.committee_b), 404)
    problem(cancel(client, reservation["id"], cast.stranger), 404)
    problem(fulfil(client, reservation["id"], cast.resident_a), 403)  # the resident cannot hand itself goods
    problem(cancel(client, reservation["id"], cast.grid_worker_a), 403)
    problem(post(client, f"/redemptions/{reservation['id']}/cancellation", {}, key="anon"), 401)
    problem(post(client, f"/redemptions/{reservation['id']}/fulfilment", {}, key="anon"), 401)
    problem(fulfil(client, 987654, cast.storekeeper_a), 404)
    problem(fulfil(client, "abc", cast.storekeeper_a), 400)
    problem(post(client, f"/redemptions/{reservation['id']}/fulfilment", {}, user=cast.storekeeper_a), 400)
    problem(cancel(client, counter["id"], cast.storekeeper_a), 409)  # a counter redemption is not a reservation
    assert state(cast) == before


@pytest.mark.any_day
def test_an_overdue_reservation_is_expired_and_refunded_when_handed_over(client, cast, store):
    reservation = reserve(client, cast, store)
    later = clock.now() + datetime.timedelta(days=cast.village_a.pickup_days, hours=1)
    with clock.frozen_at(later):
        body = problem(fulfil(client, reservation["id"], cast.storekeeper_a), 409)
    assert "过领取期限" in body["detail"]
    assert Redemption.objects.get().status == Redemption.Status.EXPIRED  # the expiry stands
    assert household_balance(cast.household_a) == 100
    assert Product.objects.get(pk=store["soap"].pk).stock == 50


def test_a_twin_request_that_lost_the_race_answers_the_winners_body(client, cast, store, monkeypatch):
    """Two hand-overs under one key, the second refused by the service because the first got there: the second
    answers the first's body once it is recorded."""
    reservation = reserve(client, cast, store)
    first = fulfil(client, reservation["id"], cast.storekeeper_a, key="twin")
    import portal.api.common as common

    looked_up = []
    original = common._first_answer

    def absent_at_first(**kwargs):
        looked_up.append(kwargs["key"])
        return None if len(looked_up) == 1 else original(**kwargs)

    monkeypatch.setattr(common, "_first_answer", absent_at_first)
    again = fulfil(client, reservation["id"], cast.storekeeper_a, key="twin")
    assert looked_up == ["twin", "twin"]
    assert (again.status_code, again.content) == (first.status_code, first.content)


# --- no input answers 500 ----------------------------------------------------------------------------------------

STORE_JUNK = [
    *JUNK,
    '{"household": 1, "lines": [{"product": 1, "quantity": 1e999}]}',
    '{"household": 1, "lines": [{"product": {"id": 1}, "quantity": [1]}]}',
    '{"household": 1, "lines": {"product": 1, "quantity": 1}}',
    json.dumps({"household": 1, "lines": [{"product": 1, "quantity": 1}] * 10_000}),
    json.dumps({"household": "\x00", "lines": [{"product": "\ud800", "quantity": "\x00"}]}),
]


@pytest.mark.parametrize("path", ["/redemptions", "/redemptions/{id}/fulfilment", "/redemptions/{id}/cancellation"])
@pytest.mark.parametrize("raw", STORE_JUNK, ids=range(len(STORE_JUNK)))
def test_junk_bodies_answer_4xx_problems_never_500(client, cast, store, path, raw):
    reservation = redemption_create(
        actor=cast.resident_a,
        household=cast.household_a,
        lines=[(store["soap"].id, 1)],
        idempotency_key="setup",
        reserve=True,
    )
    before = state(cast)
    response = post(client, path.format(id=reservation.id), None, user=cast.storekeeper_a, key="junk", raw=raw)
    if path == "/redemptions":
        assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
        problem(response, response.status_code)
        assert state(cast) == before
    else:  # these take no body: whatever is sent is ignored, or refused as malformed
        assert response.status_code in (200, 400), (response.status_code, response.content[:300])


@pytest.mark.parametrize("bad", ["abc", "0", "-1", str(10**20), "1.5", "%00"])
def test_bad_redemption_ids_are_400(client, cast, store, bad):
    assert "id" in problem(cancel(client, bad, cast.storekeeper_a), 400)["errors"]


def test_the_openapi_document_lists_the_store(client, db):
    schema = client.get(f"{API}/openapi.json").json()
    paths = schema["paths"]
    for path in ("/products", "/redemptions", "/redemptions/{id}/fulfilment", "/redemptions/{id}/cancellation"):
        assert API + path in paths, path
    assert {} in paths[f"{API}/products"]["get"]["security"]  # a token is optional
    header = next(p for p in paths[f"{API}/redemptions"]["post"]["parameters"] if p["name"] == "Idempotency-Key")
    assert header["required"] is True
