"""The resident's store pages: the catalogue, reserving (once per confirm page), refusals that change nothing,
the household's reservations and cancelling them. Own household only; no private numbers."""

import datetime
import re

import pytest
from django.utils import timezone
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file

from points import clock
from points.ledger.awards import points_award
from points.ledger.selectors import household_balance
from points.models import Product, Redemption, RubricCategory, RubricItem, StockMovement, Transfer
from points.store.services import redemption_create, stock_receive

from .pages import page_of

STORE_PAGES = ["/store/", "/store/reserve/", "/me/reservations/"]


def at(year, month, day, hour=10):
    return timezone.make_aware(datetime.datetime(year, month, day, hour))


def form_key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f-]{36})"', html).group(1)


@pytest.fixture
def store(cast, media):
    """Village A's store: soap (2 pts, 50, with a photo), oil (30 pts, 3 left, donated), a rice cooker beyond
    household A's 100 points, towels sold out; and village B's rice, which village A never sees."""
    photo = get_image_model().objects.create(title="肥皂", file=get_test_image_file("soap.png", size=(400, 300)))
    soap = Product.objects.create(village=cast.village_a, name="肥皂", price=2, unit="块", photo=photo, order=1)
    oil = Product.objects.create(village=cast.village_a, name="菜籽油", price=30, unit="桶", order=2)
    cooker = Product.objects.create(village=cast.village_a, name="电饭锅", price=500, unit="个", order=3)
    towel = Product.objects.create(village=cast.village_a, name="毛巾", price=3, unit="条", order=4)
    rice = Product.objects.create(village=cast.village_b, name="柳溪大米", price=10, unit="袋")
    stock_receive(actor=cast.storekeeper_a, product=soap, quantity=50, idempotency_key="in-soap")
    stock_receive(
        actor=cast.storekeeper_a,
        product=oil,
        quantity=3,
        idempotency_key="in-oil",
        donor_name="青山粮油店",
        donor_public=True,
    )
    stock_receive(
        actor=cast.storekeeper_a,
        product=cooker,
        quantity=2,
        idempotency_key="in-cooker",
        donor_name="不愿具名的老板",
        donor_public=False,
    )
    stock_receive(actor=cast.committee_b, product=rice, quantity=9, idempotency_key="in-rice")
    item = RubricItem.objects.create(
        category=RubricCategory.objects.create(name="孝老爱亲"), district=cast.district, name="照顾老人", points=100
    )
    points_award(
        actor=cast.committee_a,
        village=cast.village_a,
        rubric_item=item,
        households=[cast.household_a, cast.household_a2],
        idempotency_key="seed",
    )
    return {"soap": soap, "oil": oil, "cooker": cooker, "towel": towel, "rice": rice}


def stock(product) -> int:
    return Product.objects.values_list("stock", flat=True).get(pk=product.pk)


def written():
    return (Redemption.objects.count(), Transfer.objects.count(), StockMovement.objects.count())


def qty(product) -> str:
    return f"qty_{product.pk}"


def confirm(client, lines: dict) -> str:
    """Open the confirm page for {product: quantity} and return it."""
    response = client.get("/store/reserve/", {qty(p): q for p, q in lines.items()})
    assert response.status_code == 200
    return page_of(response)


def post_reserve(client, lines: dict, key: str):
    return client.post("/store/reserve/", {"idempotency_key": key, **{qty(p): q for p, q in lines.items()}})


# --- who may see what ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [*STORE_PAGES, "/me/reservations/1/cancel/"])
def test_anonymous_is_sent_to_login(client, db, url):
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("role", ["storekeeper_a", "committee_a"])
def test_staff_find_no_resident_store_pages(client_for, cast, store, role):
    client = client_for(role)
    for url in STORE_PAGES:
        assert client.get(url).status_code == 404, url


# --- the catalogue ---------------------------------------------------------------------------------------------


def test_the_catalogue_shows_balance_photos_prices_stock_hints_and_consenting_donors(client_for, cast, store):
    page = page_of(client_for("resident_a").get("/store/"))
    assert '<span class="big-number">100</span>' in page
    assert "青山村积分超市" in page
    for name in ("肥皂", "菜籽油", "电饭锅", "毛巾"):
        assert name in page
    assert "柳溪大米" not in page  # another village's store
    assert '<span class="mid-number">30</span> 分/桶' in page and "库存 3桶" in page
    assert page.count("✓ 可兑换") == 2  # soap and oil
    assert page.count("✗ 积分不够") == 1 and page.index("电饭锅") < page.index("✗ 积分不够")
    assert page.count("✗ 库存不足") == 1 and page.index("毛巾") < page.index("✗ 库存不足")
    # Only what can be reserved gets a quantity box.
    assert f'name="{qty(store["soap"])}"' in page and f'name="{qty(store["oil"])}"' in page
    assert f'name="{qty(store["cooker"])}"' not in page and f'name="{qty(store["towel"])}"' not in page
    # A small WebP rendition named by the product; nothing from another host.
    (img,) = re.findall(r"<img [^>]+>", page)
    assert 'alt="肥皂"' in img and re.search(r'src="/media/images/[^"]+\.webp"', img)
    assert "http://" not in page.split("<main", 1)[1] and "https://" not in page.split("<main", 1)[1]
    # 爱心捐赠榜: only donors who agreed to be named.
    assert "爱心捐赠榜" in page and "青山粮油店" in page and "捐赠 菜籽油 3桶" in page
    assert "不愿具名的老板" not in page


def test_me_links_to_the_store_reservations_and_campaigns(client_for, cast):
    page = page_of(client_for("resident_a").get("/me/"))
    assert 'href="/store/"' in page and "积分超市" in page
    assert 'href="/me/reservations/"' in page and "我的预约" in page
    assert 'href="/campaigns/"' in page and "评选投票" in page


# --- reserving -------------------------------------------------------------------------------------------------


def test_a_reservation_moves_points_and_stock_and_shows_the_pickup_deadline(client_for, cast, store):
    client = client_for("resident_a")
    with clock.frozen_at(at(2026, 5, 10)):
        page = confirm(client, {store["soap"]: 5, store["oil"]: 2})
        assert "肥皂" in page and "× 5块" in page and "菜籽油" in page
        assert '<span class="mid-number">70</span>' in page  # 5 × 2 + 2 × 30
        assert "<strong>30</strong> 分" in page  # the balance after
        assert "确认预约（扣 70 分）" in page
        assert written()[0] == 0  # the confirm page writes nothing
        response = post_reserve(client, {store["soap"]: 5, store["oil"]: 2}, form_key(page))
        assert response.status_code == 302 and response["Location"] == "/me/reservations/"
        listing = page_of(client.get("/me/reservations/"))
    redemption = Redemption.objects.get()
    assert (redemption.household, redemption.status, redemption.total_points) == (
        cast.household_a,
        Redemption.Status.RESERVED,
        70,
    )
    assert household_balance(cast.household_a) == 30
    assert (stock(store["soap"]), stock(store["oil"])) == (45, 1)
    assert f"预约成功，单号 {redemption.receipt_number}。请在 5 月 13 日前到超市领取。" in listing
    assert "已预约" in listing and "请在 5 月 13 日前到超市领取" in listing
    assert "肥皂 × 5" in listing and "菜籽油 × 2" in listing and "<strong>70</strong> 分" in listing
    assert f'href="/me/reservations/{redemption.pk}/cancel/"' in listing


def test_the_same_confirm_page_posted_twice_reserves_once(client_for, cast, store):
    client = client_for("resident_a")
    key = form_key(confirm(client, {store["oil"]: 1}))
    first = post_reserve(client, {store["oil"]: 1}, key)
    second = post_reserve(client, {store["oil"]: 1}, key)
    assert first.status_code == second.status_code == 302
    assert Redemption.objects.count() == 1
    assert household_balance(cast.household_a) == 70
    assert stock(store["oil"]) == 2
    # A new confirm page has a new key: a second reservation is a deliberate one.
    assert form_key(confirm(client, {store["oil"]: 1})) != key


def test_out_of_stock_names_the_product_and_changes_nothing(client_for, cast, store):
    client = client_for("resident_a")
    preview = confirm(client, {store["soap"]: 1, store["oil"]: 4})
    assert "菜籽油 库存不足：只剩 3桶" in preview and "确认预约" not in preview
    before = written()
    response = post_reserve(client, {store["soap"]: 1, store["oil"]: 4}, "0b6c2f4e-6a43-4c4e-9a55-1d6f1f7c2a10")
    assert response.status_code == 200
    page = page_of(response)
    assert "没有预约成功" in page and "菜籽油 库存不足：需要 4桶，只剩 3桶" in page
    assert written() == before
    assert (stock(store["soap"]), stock(store["oil"])) == (50, 3)
    assert household_balance(cast.household_a) == 100
    assert f'name="{qty(store["oil"])}" value="4"' in page  # the quantities are kept for correcting


def test_not_enough_points_says_how_many_and_changes_nothing(client_for, cast, store):
    client = client_for("resident_a")
    preview = confirm(client, {store["oil"]: 3, store["soap"]: 15})
    assert "积分不够：还差 20 分" in preview and "确认预约" not in preview
    before = written()
    response = post_reserve(client, {store["oil"]: 3, store["soap"]: 15}, "5e0d1c7a-0f7b-4c1e-8f0e-2b1f8f9b6d21")
    page = page_of(response)
    assert response.status_code == 200
    assert "积分不足：需要 120 分，余额 100 分" in page
    assert written() == before
    assert (stock(store["soap"]), stock(store["oil"])) == (50, 3)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("nothing chosen", "请至少选择一件商品"),
        ("not a number", "肥皂 的数量应为 0 到 999 之间的整数"),
        ("negative", "肥皂 的数量应为 0 到 999 之间的整数"),
        ("another village's product", "有商品已下架或不属于本村超市"),
        ("no key", "页面已过期"),
    ],
)
def test_bad_reservations_are_refused_in_chinese_and_write_nothing(client_for, cast, store, case, message):
    data = {
        "nothing chosen": {qty(store["soap"]): "0"},
        "not a number": {qty(store["soap"]): "两块"},
        "negative": {qty(store["soap"]): "-2"},
        "another village's product": {qty(store["soap"]): "1", qty(store["rice"]): "1"},
        "no key": {qty(store["soap"]): "1"},
    }[case]
    client = client_for("resident_a")
    before = written()
    if case != "no key":
        assert message in page_of(client.get("/store/reserve/", data))
        data = {**data, "idempotency_key": "7d1e2c3b-4a5f-4e6d-8c7b-9a0f1e2d3c4b"}
    response = client.post("/store/reserve/", data)
    assert response.status_code == 200
    assert message in page_of(response)
    assert written() == before
    assert household_balance(cast.household_a) == 100


# --- the household's reservations ----------------------------------------------------------------------------------


def reserve(cast, lines, key, household=None, actor=None):
    return redemption_create(
        actor=actor or cast.resident_a,
        household=household or cast.household_a,
        lines=lines,
        idempotency_key=key,
        reserve=True,
    )


def test_cancelling_restocks_and_refunds(client_for, cast, store):
    reservation = reserve(cast, [(store["soap"].pk, 2), (store["oil"].pk, 1)], "c1")
    assert household_balance(cast.household_a) == 66
    client = client_for("resident_a")
    url = f"/me/reservations/{reservation.pk}/cancel/"
    ask = page_of(client.get(url))
    assert "确定要取消吗？取消后 34 分退回本户" in ask and Redemption.objects.get().status == "reserved"
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == "/me/reservations/"
    reservation.refresh_from_db()
    assert reservation.status == Redemption.Status.CANCELLED
    assert household_balance(cast.household_a) == 100
    assert (stock(store["soap"]), stock(store["oil"])) == (50, 3)
    listing = page_of(client.get("/me/reservations/"))
    assert f"已取消预约 {reservation.receipt_number}，34 分已退还。" in listing and "已取消" in listing
    assert f'href="{url}"' not in listing
    # Cancelling twice refunds once.
    again = client.post(url, follow=True)
    assert "不能取消" in page_of(again)
    assert household_balance(cast.household_a) == 100


def test_overdue_reservations_expire_when_the_resident_looks(client_for, cast, store):
    with clock.frozen_at(at(2026, 5, 10)):
        reserve(cast, [(store["oil"].pk, 1)], "late")
    with clock.frozen_at(at(2026, 5, 14)):  # three pickup days have passed
        page = page_of(client_for("resident_a").get("/me/reservations/"))
    assert "已过期" in page and "30 分已退还" in page and "请在" not in page
    assert household_balance(cast.household_a) == 100 and stock(store["oil"]) == 3


def test_another_households_reservation_is_never_shown_nor_cancelled(client_for, cast, store):
    theirs = reserve(cast, [(store["oil"].pk, 1)], "a2", household=cast.household_a2, actor=cast.storekeeper_a)
    client = client_for("resident_a")
    listing = page_of(client.get("/me/reservations/", {"household": cast.household_a2.pk}))
    assert "您还没有预约过商品" in listing
    assert theirs.receipt_number not in listing and "菜籽油" not in listing
    url = f"/me/reservations/{theirs.pk}/cancel/"
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Redemption.Status.RESERVED
    assert household_balance(cast.household_a2) == 70
    # The store shows household A's balance, whatever the address says; never A2's (70) nor its name.
    store_page = page_of(client.get("/store/", {"household_id": cast.household_a2.pk}))
    assert '<span class="big-number">100</span>' in store_page and "王建国" not in store_page
    assert client.get("/me/reservations/999999/cancel/").status_code == 404
