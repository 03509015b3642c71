"""The store's admin pages (积分超市) through the test client: the counter and its receipts, the reservations desk,
stock receipts, donations and write-offs, stock-takes, household cards, the report and the catalogue.

Every refusal is checked twice: the Chinese message is on the page, and nothing changed (stock, balances, counts).
"""

import datetime
import re
import uuid

import pytest
import segno
from django.urls import reverse
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file

from points import clock
from points.ledger.awards import points_award
from points.ledger.selectors import household_balance
from points.models import (
    IdempotencyKey,
    Product,
    Redemption,
    RubricCategory,
    RubricItem,
    StockMovement,
    Stocktake,
    Transfer,
)
from points.store.services import redemption_create, stock_receive

PHONE = "13800138001"  # household_a's head: must never reach a card or the counter


@pytest.fixture
def store(cast):
    """Village A's store with soap (2 pts, 50 in stock) and oil (30 pts, 3 in stock, donated);
    household_a holds 100 points. Village B has its own washing powder."""
    soap = Product.objects.create(village=cast.village_a, name="肥皂", price=2, unit="块", order=1)
    oil = Product.objects.create(village=cast.village_a, name="菜籽油", price=30, unit="桶", order=2)
    powder = Product.objects.create(village=cast.village_b, name="洗衣粉", price=5, unit="袋")
    stock_receive(actor=cast.storekeeper_a, product=soap, quantity=50, idempotency_key="in-soap")
    stock_receive(
        actor=cast.storekeeper_a,
        product=oil,
        quantity=3,
        idempotency_key="in-oil",
        donor_name="青山粮油店",
        donor_public=True,
    )
    stock_receive(actor=cast.committee_b, product=powder, quantity=10, idempotency_key="in-powder")
    item = RubricItem.objects.create(
        category=RubricCategory.objects.create(name="孝老爱亲"), district=cast.district, name="照顾老人", points=100
    )
    points_award(
        actor=cast.committee_a,
        village=cast.village_a,
        rubric_item=item,
        households=[cast.household_a],
        idempotency_key="seed",
    )
    return {"soap": soap, "oil": oil, "powder": powder}


def stock(product) -> int:
    return Product.objects.values_list("stock", flat=True).get(pk=product.pk)


def snapshot(cast, store) -> tuple:
    """Everything a refused request must leave as it was."""
    return (
        Redemption.objects.count(),
        Transfer.objects.count(),
        StockMovement.objects.count(),
        Stocktake.objects.count(),
        IdempotencyKey.objects.count(),
        household_balance(cast.household_a),
        stock(store["soap"]),
        stock(store["oil"]),
        stock(store["powder"]),
    )


def page(response) -> str:
    return response.content.decode()


def counter_url(household) -> str:
    return reverse("points_store_counter_household", args=[household.pk])


def form_key(name: str) -> str:
    """The idempotency key a form would carry (a uuid), named for the test that sends it."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"store-test:{name}"))


def cart(store, key="cart-1", **quantities) -> dict:
    """POST data of the counter form: ``soap=2, oil=1``."""
    data = {"idempotency_key": form_key(key)}
    for name, qty in quantities.items():
        data[f"qty-{store[name].pk}"] = qty
    return data


# --- who may use the store pages ------------------------------------------------------------------------------


def store_urls(cast, store, reservation) -> list[str]:
    a = cast.household_a
    return [
        reverse("points_store_counter"),
        reverse("points_store_counter") + "?q=zsf",
        reverse("points_store_counter_search") + "?q=zsf",
        counter_url(a),
        reverse("points_store_receipt", args=[reservation.pk]),
        reverse("points_store_reservations"),
        reverse("points_store_receive", args=[store["soap"].pk]),
        reverse("points_store_donate", args=[store["soap"].pk]),
        reverse("points_store_write_off", args=[store["soap"].pk]),
        reverse("points_store_stocktake"),
        reverse("points_store_cards"),
        reverse("points_store_card", args=[a.pk]),
        reverse("points_store_report"),
    ]


@pytest.fixture
def reservation(cast, store):
    return redemption_create(
        actor=cast.resident_a,
        household=cast.household_a,
        lines=[(store["soap"].pk, 2)],
        idempotency_key="reserve-1",
        reserve=True,
    )


@pytest.mark.parametrize("role", ["grid_worker_a", "resident_a", "stranger", None])
def test_it_refuses_who_runs_no_store(client_for, cast, store, reservation, role):
    client = client_for(role)
    for url in store_urls(cast, store, reservation):
        response = client.get(url)
        if role == "grid_worker_a":
            assert response.status_code == 404, url  # in the admin, but runs no store
        else:
            assert response.status_code == 302, url  # no admin access: to the login page
            assert "/login/" in response["Location"]
        assert "张三丰" not in page(response)
    for url in (
        reverse("points_store_reservation_fulfil", args=[reservation.pk]),
        reverse("points_store_reservation_cancel", args=[reservation.pk]),
    ):
        assert client.post(url).status_code in (302, 404)
    before = snapshot(cast, store)
    client.post(counter_url(cast.household_a), cart(store, soap=1))
    client.post(
        reverse("points_store_receive", args=[store["soap"].pk]), {"quantity": 5, "idempotency_key": form_key("k")}
    )
    assert snapshot(cast, store) == before
    assert Redemption.objects.get(pk=reservation.pk).status == Redemption.Status.RESERVED


@pytest.mark.parametrize("role", ["grid_worker_a", "resident_a", None])
def test_the_catalogue_is_closed_to_who_runs_no_store(client_for, cast, store, role):
    response = client_for(role).get(reverse("wagtailsnippets_points_product:list"))
    assert response.status_code == 302
    assert "肥皂" not in page(response)


def test_the_menu_shows_the_store_only_to_who_runs_one(client_for, cast):
    # The sidebar's menu is JSON in the page (non-ASCII escaped): look for the items' URLs.
    storekeeper = page(client_for("storekeeper_a").get("/admin/"))
    for url in (reverse("points_store_counter"), reverse("wagtailsnippets_points_product:list")):
        assert url in storekeeper
    assert "\\u79ef\\u5206\\u8d85\\u5e02" in storekeeper  # 积分超市
    grid_worker = page(client_for("grid_worker_a").get("/admin/"))
    assert reverse("points_store_counter") not in grid_worker
    assert reverse("wagtailsnippets_points_product:list") not in grid_worker


def test_it_refuses_other_village(client_for, cast, store, reservation):
    """committee_b runs village B's store: everything of village A answers 404 and changes nothing."""
    redemption = redemption_create(
        actor=cast.storekeeper_a, household=cast.household_a, lines=[(store["soap"].pk, 1)], idempotency_key="r"
    )
    taken = client_for("storekeeper_a").post(
        reverse("points_store_stocktake"),
        {"idempotency_key": form_key("st"), f"count-{store['soap'].pk}": 49, f"count-{store['oil'].pk}": 3},
    )
    assert taken.status_code == 302
    client = client_for("committee_b")
    soap = store["soap"]
    village_a = cast.village_a.pk
    for url in [
        counter_url(cast.household_a),
        reverse("points_store_card", args=[cast.household_a.pk]),
        reverse("points_store_receipt", args=[redemption.pk]),
        reverse("points_store_receipt", args=[reservation.pk]),
        reverse("points_store_receive", args=[soap.pk]),
        reverse("points_store_donate", args=[soap.pk]),
        reverse("points_store_write_off", args=[soap.pk]),
        reverse("points_store_stocktake_detail", args=[Stocktake.objects.get().pk]),
        reverse("points_store_stocktake") + f"?village={village_a}",
        reverse("points_store_report") + f"?village={village_a}",
        reverse("points_store_cards") + f"?village={village_a}",
        reverse("points_store_reservations") + f"?village={village_a}",
        reverse("wagtailsnippets_points_product:edit", args=[soap.pk]),
        reverse("wagtailsnippets_points_product:inspect", args=[soap.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "张三丰" not in page(response) and "肥皂" not in page(response)
    before = snapshot(cast, store)
    assert client.post(counter_url(cast.household_a), cart(store, soap=1)).status_code == 404
    assert (
        client.post(
            reverse("points_store_receive", args=[soap.pk]), {"quantity": 5, "idempotency_key": form_key("x")}
        ).status_code
        == 404
    )
    assert client.post(reverse("points_store_reservation_cancel", args=[reservation.pk])).status_code == 404
    assert client.post(reverse("points_store_reservation_fulfil", args=[reservation.pk])).status_code == 404
    assert snapshot(cast, store) == before
    # Their own search never finds village A, not even by a scanned card.
    for query in ("zsf", "QS01-001", "张三丰"):
        response = client.get(reverse("points_store_counter"), {"q": query})
        assert response.status_code == 200 and "没有找到" in page(response)
        assert client.get(reverse("points_store_counter_search"), {"q": query}).json()["results"] == []
    # Their catalogue lists their own products only.
    listing = page(client.get(reverse("wagtailsnippets_points_product:list")))
    assert "洗衣粉" in listing and "肥皂" not in listing


def test_an_unknown_household_or_product_is_404(client_for, cast, store):
    client = client_for("storekeeper_a")
    assert client.get(reverse("points_store_counter_household", args=[999999])).status_code == 404
    assert client.get(reverse("points_store_card", args=[999999])).status_code == 404
    assert client.get(reverse("points_store_receive", args=[999999])).status_code == 404
    assert client.get(reverse("points_store_receipt", args=[999999])).status_code == 404
    assert client.get(reverse("points_store_report") + "?village=abc").status_code == 404


# --- the counter: finding the household ------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["zsf", "ZSF", "QS01-001", "qs01-001", "张三丰", "李秀英", "001"])
def test_one_match_opens_the_household(client_for, cast, store, query):
    response = client_for("storekeeper_a").get(reverse("points_store_counter"), {"q": query})
    assert response.status_code == 302
    assert response["Location"] == counter_url(cast.household_a)


def test_several_matches_are_listed(client_for, cast, store):
    response = client_for("storekeeper_a").get(reverse("points_store_counter"), {"q": "00"})
    assert response.status_code == 200
    assert "张三丰" in page(response) and "王建国" in page(response)
    assert counter_url(cast.household_a2) in page(response)


@pytest.mark.parametrize("query", ["999", "LX02-001", "QS01-999", "xyz"])
def test_no_match_says_so(client_for, cast, store, query):
    response = client_for("storekeeper_a").get(reverse("points_store_counter"), {"q": query})
    assert response.status_code == 200
    assert f"没有找到「{query}」对应的户" in page(response)


def test_live_search_answers_json_without_private_data(client_for, cast, store):
    response = client_for("storekeeper_a").get(reverse("points_store_counter_search"), {"q": "zsf"})
    assert response.status_code == 200
    (found,) = response.json()["results"]
    assert found["login_number"] == "QS01-001"
    assert found["head_name"] == "张三丰"
    assert found["url"] == counter_url(cast.household_a)
    assert PHONE not in response.content.decode()
    assert "no-store" in response["Cache-Control"]


# --- the counter: redeeming ------------------------------------------------------------------------------------


def test_the_counter_shows_balance_and_products(client_for, cast, store):
    response = client_for("storekeeper_a").get(counter_url(cast.household_a))
    assert response.status_code == 200
    html = page(response)
    assert 'data-testid="balance">100<' in html
    assert "肥皂" in html and "菜籽油" in html and "洗衣粉" not in html
    assert 'name="idempotency_key"' in html
    assert PHONE not in html
    assert "points/counter.js" in html and "points/store.css" in html
    assert html.index("points/live_search.js") < html.index("points/counter.js")  # the shared helper first
    assert "points/once.js" in html  # one-shot forms (shared with the campaigns' pages)


def test_a_redemption_moves_points_and_stock_and_prints_a_receipt(client_for, cast, store):
    client = client_for("storekeeper_a")
    response = client.post(counter_url(cast.household_a), cart(store, soap=5, oil=2))
    redemption = Redemption.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("points_store_receipt", args=[redemption.pk])
    assert redemption.total_points == 70
    assert household_balance(cast.household_a) == 30
    assert (stock(store["soap"]), stock(store["oil"])) == (45, 1)

    receipt = page(client.get(response["Location"]))
    assert redemption.receipt_number in receipt
    assert "QS01-001" in receipt and "张三丰" in receipt
    assert "<td>肥皂</td><td>5</td><td>2</td><td>10</td>" in receipt
    assert "<td>菜籽油</td><td>2</td><td>30</td><td>60</td>" in receipt
    assert 'data-testid="receipt-total">70<' in receipt
    assert 'data-testid="balance-after">30<' in receipt
    assert "@media print" in open_static("points/store.css")


def open_static(name: str) -> str:
    from django.contrib.staticfiles import finders

    with open(finders.find(name), encoding="utf-8") as handle:
        return handle.read()


def test_a_reprinted_receipt_keeps_the_balance_after_that_redemption(client_for, cast, store):
    client = client_for("storekeeper_a")
    first = client.post(counter_url(cast.household_a), cart(store, key="a", soap=5))
    client.post(counter_url(cast.household_a), cart(store, key="b", oil=1))
    assert household_balance(cast.household_a) == 60
    assert 'data-testid="balance-after">90<' in page(client.get(first["Location"]))


def test_a_resubmitted_cart_redeems_once(client_for, cast, store):
    client = client_for("storekeeper_a")
    first = client.post(counter_url(cast.household_a), cart(store, key="double-click", soap=3))
    again = client.post(counter_url(cast.household_a), cart(store, key="double-click", soap=3))
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Redemption.objects.count() == 1
    assert household_balance(cast.household_a) == 94
    assert stock(store["soap"]) == 47


def test_each_cart_gets_its_own_key(client_for, cast, store):
    client = client_for("storekeeper_a")
    keys = set()
    for _ in range(2):
        html = page(client.get(counter_url(cast.household_a)))
        keys.add(html.split('name="idempotency_key" value="')[1].split('"')[0])
    assert len(keys) == 2


@pytest.mark.parametrize(
    ("quantities", "message"),
    [
        ({"soap": 0, "oil": 0}, "请至少选择一件商品"),
        ({}, "请至少选择一件商品"),
        ({"soap": -1}, "「肥皂」的数量不能小于 0"),
        ({"soap": 1000}, "「肥皂」的数量不能超过 999"),
        ({"soap": 10**30}, "「肥皂」的数量不能超过 999"),
        ({"soap": "abc"}, "「肥皂」的数量必须是整数"),
        ({"soap": "1.5"}, "「肥皂」的数量必须是整数"),
        ({"oil": 4}, "菜籽油 库存不足：需要 4桶，只剩 3桶"),
        ({"soap": 50, "oil": 3}, "积分不足：需要 190 分，余额 100 分"),
        ({"soap": 1, "powder": 1}, "不是本村超市的商品"),
    ],
)
def test_bad_carts_are_refused_and_change_nothing(client_for, cast, store, quantities, message):
    before = snapshot(cast, store)
    response = client_for("storekeeper_a").post(counter_url(cast.household_a), cart(store, **quantities))
    assert response.status_code == 200
    assert message in page(response)
    assert 'role="alert"' in page(response)
    assert snapshot(cast, store) == before


def test_an_inactive_product_is_refused_by_name(client_for, cast, store):
    client = client_for("storekeeper_a")
    html = page(client.get(counter_url(cast.household_a)))
    Product.objects.filter(pk=store["oil"].pk).update(active=False)  # taken off the shelf while the page was open
    assert f'name="qty-{store["oil"].pk}"' in html
    before = snapshot(cast, store)
    response = client.post(counter_url(cast.household_a), cart(store, soap=1, oil=1))
    assert "菜籽油 已下架" in page(response)
    assert snapshot(cast, store) == before


@pytest.mark.parametrize(("key", "message"), [("qty-abc", "商品编号无效"), ("qty-999999", "不是本村超市的商品")])
def test_a_forged_product_id_is_refused(client_for, cast, store, key, message):
    before = snapshot(cast, store)
    data = {**cart(store, soap=1), key: 1}
    response = client_for("storekeeper_a").post(counter_url(cast.household_a), data)
    assert message in page(response)
    assert snapshot(cast, store) == before


def test_a_refused_cart_keeps_its_quantities_and_its_key(client_for, cast, store):
    """Nothing was stored under the key: the corrected cart may use it (a double click on it still redeems once)."""
    response = client_for("storekeeper_a").post(counter_url(cast.household_a), cart(store, key="k1", soap=2, oil=4))
    html = page(response)
    assert f'name="qty-{store["soap"].pk}" value="2"' in html
    assert f'name="idempotency_key" value="{form_key("k1")}"' in html


def test_an_archived_household_cannot_redeem(client_for, cast, store):
    from points.register.services import household_archive

    household_archive(household=cast.household_a, actor=cast.committee_a, reason="迁出")
    client = client_for("storekeeper_a")
    assert "该户已归档" in page(client.get(counter_url(cast.household_a)))
    before = snapshot(cast, store)
    response = client.post(counter_url(cast.household_a), cart(store, soap=1))
    assert "该户已归档，不能兑换" in page(response)
    assert snapshot(cast, store) == before


def test_thumbnails_are_small_webp_renditions_loaded_in_few_queries(
    client_for, cast, store, media, django_assert_max_num_queries
):
    Image = get_image_model()
    for n in range(6):
        image = Image.objects.create(title=f"商品{n}", file=get_test_image_file(f"p{n}.png", size=(800, 600)))
        product = Product.objects.create(village=cast.village_a, name=f"毛巾{n}", price=3, photo=image)
        stock_receive(actor=cast.storekeeper_a, product=product, quantity=5, idempotency_key=f"towel-{n}")
    client = client_for("storekeeper_a")
    html = page(client.get(counter_url(cast.household_a)))  # makes the renditions once
    assert html.count(".webp") >= 6
    assert 'height="120"' in html and 'width="120"' in html
    with django_assert_max_num_queries(25):
        client.get(counter_url(cast.household_a))


# --- the reservations desk -------------------------------------------------------------------------------------


def test_the_desk_lists_fulfils_and_cancels_reservations(client_for, cast, store, reservation):
    other = redemption_create(
        actor=cast.resident_a,
        household=cast.household_a,
        lines=[(store["oil"].pk, 1)],
        idempotency_key="reserve-2",
        reserve=True,
    )
    assert household_balance(cast.household_a) == 100 - 4 - 30
    client = client_for("storekeeper_a")
    desk = page(client.get(reverse("points_store_reservations")))
    assert reservation.receipt_number in desk and other.receipt_number in desk
    assert "肥皂 × 2" in desk

    response = client.post(reverse("points_store_reservation_fulfil", args=[reservation.pk]))
    assert response.status_code == 302
    assert Redemption.objects.get(pk=reservation.pk).status == Redemption.Status.FULFILLED
    assert "已领取" in page(client.get(response["Location"]))

    client.post(reverse("points_store_reservation_cancel", args=[other.pk]))
    assert Redemption.objects.get(pk=other.pk).status == Redemption.Status.CANCELLED
    assert household_balance(cast.household_a) == 96
    assert stock(store["oil"]) == 3

    # A second click on either is refused with the reservation's state, and changes nothing.
    before = snapshot(cast, store)
    response = client.post(reverse("points_store_reservation_cancel", args=[other.pk]), follow=True)
    assert "该预约当前状态为「已取消」，不能取消" in page(response)
    response = client.post(reverse("points_store_reservation_fulfil", args=[reservation.pk]), follow=True)
    assert "该预约当前状态为「已领取」，不能领取" in page(response)
    assert snapshot(cast, store) == before
    assert client.get(reverse("points_store_reservation_fulfil", args=[reservation.pk])).status_code == 405


@pytest.mark.any_day
def test_the_desk_expires_overdue_reservations_as_it_loads(client_for, cast, store, reservation):
    later = clock.now() + datetime.timedelta(days=cast.village_a.pickup_days, hours=1)
    with clock.frozen_at(later):
        desk = page(client_for("storekeeper_a").get(reverse("points_store_reservations")))
    assert "1 个预约已过领取期限" in desk
    assert 'data-testid="no-reservations"' in desk
    assert Redemption.objects.get(pk=reservation.pk).status == Redemption.Status.EXPIRED
    assert household_balance(cast.household_a) == 100


def test_a_township_picks_the_village_first(client_for, cast, store):
    client = client_for("township_staff")
    picker = page(client.get(reverse("points_store_report")))
    assert "青山村" in picker and "柳溪村" in picker and "白水村" not in picker
    report = client.get(reverse("points_store_report"), {"village": cast.village_b.pk})
    assert "洗衣粉" in page(report)
    assert client.get(reverse("points_store_report"), {"village": cast.village_c.pk}).status_code == 404


# --- stock: receipts, donations, write-offs -------------------------------------------------------------------


def test_receive_stock(client_for, cast, store):
    url = reverse("points_store_receive", args=[store["soap"].pk])
    client = client_for("storekeeper_a")
    assert "现有库存 50块" in page(client.get(url))
    response = client.post(url, {"quantity": "10", "idempotency_key": form_key("recv-1")})
    assert response.status_code == 302
    assert stock(store["soap"]) == 60
    assert StockMovement.objects.filter(kind="receipt", product=store["soap"]).count() == 2
    assert "已入库：肥皂 10块，现有库存 60" in page(client.get(response["Location"]))
    # The same form sent twice (a double click) receives once.
    client.post(url, {"quantity": "10", "idempotency_key": form_key("recv-1")})
    assert stock(store["soap"]) == 60


def test_record_a_donation_with_consent(client_for, cast, store):
    url = reverse("points_store_donate", args=[store["soap"].pk])
    client = client_for("storekeeper_a")
    response = client.post(
        url, {"quantity": "20", "donor_name": " 张大姐 ", "donor_public": "on", "idempotency_key": form_key("d1")}
    )
    assert response.status_code == 302
    movement = StockMovement.objects.filter(kind="donation").latest("id")
    assert (movement.donor_name, movement.donor_public, movement.quantity) == ("张大姐", True, 20)
    client.post(url, {"quantity": "5", "donor_name": "李先生", "idempotency_key": form_key("d2")})
    assert StockMovement.objects.filter(kind="donation").latest("id").donor_public is False
    assert stock(store["soap"]) == 75


def test_write_off_with_a_reason(client_for, cast, store):
    url = reverse("points_store_write_off", args=[store["soap"].pk])
    response = client_for("storekeeper_a").post(
        url, {"quantity": "4", "reason": "受潮", "idempotency_key": form_key("w1")}
    )
    assert response.status_code == 302
    assert stock(store["soap"]) == 46
    assert StockMovement.objects.get(kind="write_off").reason == "受潮"


@pytest.mark.parametrize(
    ("url_name", "data", "message"),
    [
        ("points_store_receive", {"quantity": "0"}, "「肥皂」的数量不能小于 1"),
        ("points_store_receive", {"quantity": "-5"}, "「肥皂」的数量不能小于 1"),
        ("points_store_receive", {"quantity": "1000"}, "「肥皂」的数量不能超过 999"),
        ("points_store_receive", {"quantity": "99999999999999999999"}, "「肥皂」的数量不能超过 999"),
        ("points_store_receive", {"quantity": "十"}, "「肥皂」的数量必须是整数"),
        ("points_store_receive", {"quantity": ""}, "请填写「肥皂」的数量"),
        ("points_store_donate", {"quantity": "5", "donor_name": "  "}, "请填写捐赠人姓名或单位"),
        ("points_store_donate", {"quantity": "0", "donor_name": "张大姐"}, "不能小于 1"),
        ("points_store_write_off", {"quantity": "5", "reason": " "}, "请填写报损原因"),
        ("points_store_write_off", {"quantity": "abc", "reason": "破损"}, "必须是整数"),
        ("points_store_write_off", {"quantity": "51", "reason": "破损"}, "肥皂 库存不足：需要 51块，只剩 50块"),
    ],
)
def test_bad_stock_input_is_refused_and_changes_nothing(client_for, cast, store, url_name, data, message):
    before = snapshot(cast, store)
    url = reverse(url_name, args=[store["soap"].pk])
    response = client_for("storekeeper_a").post(url, {**data, "idempotency_key": form_key("bad")})
    assert response.status_code == 200
    assert message in page(response)
    assert snapshot(cast, store) == before


# --- stock-takes -----------------------------------------------------------------------------------------------


def test_a_stocktake_records_the_variances_and_reports_them(client_for, cast, store):
    client = client_for("storekeeper_a")
    form = page(client.get(reverse("points_store_stocktake")))
    assert f'name="count-{store["soap"].pk}"' in form and f'name="count-{store["oil"].pk}"' in form
    assert "洗衣粉" not in form
    response = client.post(
        reverse("points_store_stocktake"),
        {
            "idempotency_key": form_key("st-1"),
            f"count-{store['soap'].pk}": "47",
            f"count-{store['oil'].pk}": "3",
            "note": "第一季度",
        },
    )
    taken = Stocktake.objects.get()
    assert response["Location"] == reverse("points_store_stocktake_detail", args=[taken.pk])
    assert (stock(store["soap"]), stock(store["oil"])) == (47, 3)
    (movement,) = taken.movements.all()
    assert (movement.product_id, movement.quantity) == (store["soap"].pk, -3)
    report = page(client.get(response["Location"]))
    assert "<td>肥皂</td><td>50</td><td>47</td>" in report
    assert "-3块" in report and "-6" in report
    assert "第一季度" in report
    assert "第一季度" in page(client.get(reverse("points_store_stocktake")))


@pytest.mark.parametrize(
    ("soap", "oil", "message"),
    [
        ("47", "", "请填写「菜籽油」的数量"),
        ("-1", "3", "「肥皂」的数量不能小于 0"),
        ("abc", "3", "「肥皂」的数量必须是整数"),
        ("47", "10000000", "「菜籽油」的数量不能超过 1000000"),
    ],
)
def test_a_bad_stocktake_is_refused_and_changes_nothing(client_for, cast, store, soap, oil, message):
    before = snapshot(cast, store)
    data = {"idempotency_key": form_key("st-bad"), f"count-{store['soap'].pk}": soap, f"count-{store['oil'].pk}": oil}
    response = client_for("storekeeper_a").post(reverse("points_store_stocktake"), data)
    assert response.status_code == 200
    assert message in page(response)
    assert snapshot(cast, store) == before


# --- every form that moves stock or points writes once ---------------------------------------------------------


def keyed_post(form: str, cast, store) -> tuple[str, dict]:
    """(url, POST data without its key) of each store form that moves stock or points."""
    soap = store["soap"]
    return {
        "counter": (counter_url(cast.household_a), {f"qty-{soap.pk}": "2"}),
        "receive": (reverse("points_store_receive", args=[soap.pk]), {"quantity": "10"}),
        "donate": (reverse("points_store_donate", args=[soap.pk]), {"quantity": "10", "donor_name": "张大姐"}),
        "write off": (reverse("points_store_write_off", args=[soap.pk]), {"quantity": "4", "reason": "受潮"}),
        "stocktake": (
            reverse("points_store_stocktake"),
            {f"count-{soap.pk}": "47", f"count-{store['oil'].pk}": "3"},
        ),
    }[form]


KEYED_FORMS = ["counter", "receive", "donate", "write off", "stocktake"]


@pytest.mark.parametrize("form", KEYED_FORMS)
def test_a_resubmitted_store_form_gives_the_first_result(client_for, cast, store, form):
    url, data = keyed_post(form, cast, store)
    client = client_for("storekeeper_a")
    shown = page(client.get(url))
    key = re.search(r'name="idempotency_key" value="([0-9a-f-]{36})"', shown).group(1)
    first = client.post(url, {**data, "idempotency_key": key})
    after_first = snapshot(cast, store)
    again = client.post(url, {**data, "idempotency_key": key})  # a double click, or back and send again
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert snapshot(cast, store) == after_first


@pytest.mark.parametrize("form", KEYED_FORMS)
@pytest.mark.parametrize("bad_key", ["", "not-a-uuid", "1" * 500])
def test_a_store_form_with_a_malformed_key_is_refused_in_chinese(client_for, cast, store, form, bad_key):
    url, data = keyed_post(form, cast, store)
    before = snapshot(cast, store)
    response = client_for("storekeeper_a").post(url, {**data, "idempotency_key": bad_key})
    assert response.status_code == 200
    assert "表单已失效，请刷新页面后重新填写" in page(response)
    assert snapshot(cast, store) == before


# --- household cards -------------------------------------------------------------------------------------------


def test_a_household_card_has_the_qr_and_login_number_and_no_phone(client_for, cast, store):
    response = client_for("storekeeper_a").get(reverse("points_store_card", args=[cast.household_a.pk]))
    html = page(response)
    assert response.status_code == 200
    assert "QS01-001" in html and "张三丰" in html and "青山村" in html
    assert "<svg" in html
    # The QR code is a full (not Micro) QR of the login number, and nothing else.
    expected = segno.make_qr("QS01-001", error="m").svg_inline(scale=1, border=2, omitsize=True, svgclass="card-qr-svg")
    assert expected in html
    assert PHONE not in html
    assert "身份证" not in html


def test_print_all_cards_of_a_village(client_for, cast, store):
    html = page(client_for("committee_a").get(reverse("points_store_cards")))
    assert html.count('data-testid="card"') == 2
    assert "QS01-001" in html and "QS01-002" in html and "王建国" in html
    assert "陈玉兰" not in html and "LX02" not in html
    assert PHONE not in html
    assert "size: A4" in open_static("points/store.css")


# --- the report ------------------------------------------------------------------------------------------------


def test_the_report_compares_stock_with_points_outstanding(client_for, cast, store):
    client = client_for("storekeeper_a")
    client.post(counter_url(cast.household_a), cart(store, soap=5, oil=1))
    html = page(client.get(reverse("points_store_report")))
    # Stock: 45 soap × 2 + 2 oil × 30 = 150; household_a holds 100 - 40 = 60.
    assert 'data-testid="stock-value">150<' in html
    assert 'data-testid="points-outstanding">60<' in html
    assert "250%" in html
    assert "青山粮油店" in html  # the donation
    assert "<td>菜籽油</td><td>2桶</td><td>5</td>" in html  # low stock: 2 ≤ 5
    assert "<td>肥皂</td><td>5</td><td>10</td>" in html  # top products
    assert "洗衣粉" not in html


# --- the catalogue (Product snippets) ---------------------------------------------------------------------------


def test_the_catalogue_lists_and_adds_products_of_the_users_village(client_for, cast, store):
    client = client_for("storekeeper_a")
    listing = page(client.get(reverse("wagtailsnippets_points_product:list")))
    assert "肥皂" in listing and "菜籽油" in listing and "洗衣粉" not in listing
    assert "3 桶（库存低）" in listing
    assert reverse("points_store_receive", args=[store["soap"].pk]) in listing
    form = page(client.get(reverse("wagtailsnippets_points_product:add")))
    assert 'name="stock"' not in form
    data = {
        "village": cast.village_a.pk,
        "name": "酱油",
        "category": "grain_oil",
        "price": "8",
        "unit": "瓶",
        "low_stock_threshold": "5",
        "active": "on",
        "order": "3",
        "stock": "500",  # not a field: ignored
    }
    response = client.post(reverse("wagtailsnippets_points_product:add"), data)
    assert response.status_code == 302
    product = Product.objects.get(name="酱油")
    assert (product.village_id, product.price, product.stock) == (cast.village_a.pk, 8, 0)
    # No deleting from the catalogue (a product with history is kept): take it off the shelf instead.
    delete = reverse("wagtailsnippets_points_product:delete", args=[product.pk])
    assert client.post(delete).status_code in (302, 403, 404)
    assert Product.objects.filter(pk=product.pk).exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"price": "0"}, "兑换积分应在 1 到 100000 之间"),
        ({"price": "100001"}, "兑换积分应在 1 到 100000 之间"),
        ({"name": "肥皂"}, "本村超市已有同名商品"),
        ({"village": "VILLAGE_B"}, "请选择您管理的村"),
    ],
)
def test_the_catalogue_refuses_bad_products(client_for, cast, store, change, message):
    data = {
        "village": cast.village_a.pk,
        "name": "酱油",
        "category": "grain_oil",
        "price": "8",
        "unit": "瓶",
        "low_stock_threshold": "5",
        "active": "on",
        "order": "3",
        **change,
    }
    if data["village"] == "VILLAGE_B":
        data["village"] = cast.village_b.pk
    count = Product.objects.count()
    response = client_for("storekeeper_a").post(reverse("wagtailsnippets_points_product:add"), data)
    assert response.status_code == 200
    assert message in page(response)
    assert Product.objects.count() == count


def test_editing_a_product_never_touches_its_stock_or_village(client_for, cast, store):
    soap = store["soap"]
    url = reverse("wagtailsnippets_points_product:edit", args=[soap.pk])
    client = client_for("storekeeper_a")
    assert 'name="stock"' not in page(client.get(url))
    data = {
        "village": cast.village_b.pk,
        "name": "香皂",
        "category": "daily",
        "price": "3",
        "unit": "块",
        "low_stock_threshold": "5",
        "active": "on",
        "order": "1",
        "stock": "999",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    soap.refresh_from_db()
    assert (soap.name, soap.price, soap.stock, soap.village_id) == ("香皂", 3, 50, cast.village_a.pk)
