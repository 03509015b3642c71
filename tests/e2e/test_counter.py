"""The counter in a real browser (system Chromium through Playwright): find a household by pinyin initials, build a
cart, confirm, read the receipt. Also: no console errors, and no request leaves the live server.

Set HEHE_SCREENSHOTS=/some/dir to keep a screenshot of each step (never inside the repository).
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connections

from points.ledger.awards import points_award
from points.ledger.selectors import household_balance
from points.models import Product, Redemption, RubricCategory, RubricItem
from points.store.services import stock_receive

from .browser import CHROMIUM, NEEDS_CHROMIUM

# Playwright's sync API runs an event loop in this thread; Django's ORM would otherwise refuse to be called here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import playwright.sync_api as sync_api

sync_api.expect.set_options(timeout=20_000)  # assertions wait longer on a loaded machine

pytestmark = [pytest.mark.slow, NEEDS_CHROMIUM]


@pytest.fixture
def shelves(cast):
    """Village A's store: soap (2 pts) and oil (30 pts); 张三丰 holds 100 points."""
    soap = Product.objects.create(village=cast.village_a, name="肥皂", price=2, unit="块", order=1)
    oil = Product.objects.create(village=cast.village_a, name="菜籽油", price=30, unit="桶", order=2)
    stock_receive(actor=cast.storekeeper_a, product=soap, quantity=50, idempotency_key="e2e-soap")
    stock_receive(actor=cast.storekeeper_a, product=oil, quantity=5, idempotency_key="e2e-oil")
    item = RubricItem.objects.create(
        category=RubricCategory.objects.create(name="孝老爱亲"), district=cast.district, name="照顾老人", points=100
    )
    points_award(
        actor=cast.committee_a,
        village=cast.village_a,
        rubric_item=item,
        households=[cast.household_a],
        idempotency_key="e2e-seed",
    )
    return {"soap": soap, "oil": oil}


@pytest.fixture
def browser_page(live_server):
    """A fresh page that records console errors and every URL it requests."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(30_000)  # a loaded 2-core CI machine is slow
        page = context.new_page()
        page.console_errors = []
        page.requested = []
        page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
        page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
        page.on("request", lambda request: page.requested.append(request.url))
        try:
            yield page
        finally:
            context.close()
            browser.close()


def saved_state(cast) -> tuple[int, int]:
    """Redemptions and 张三丰's balance, read from the database.

    Under Playwright's sync API the test body runs in a greenlet with its own context, so Django opens a separate
    connection for it; close it here, or PostgreSQL refuses to drop the test database at the end of the run."""
    try:
        return Redemption.objects.count(), household_balance(cast.household_a)
    finally:
        connections.close_all()


def shot(page, name):
    folder = os.environ.get("HEHE_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_a_storekeeper_redeems_at_the_counter(live_server, cast, shelves, browser_page):
    page = browser_page
    expect = sync_api.expect
    page.goto(f"{live_server.url}/admin/login/?next=/admin/store/counter/")
    page.fill("input[name=username]", "storekeeper_a")
    page.fill("input[name=password]", "pw-staff-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/store/counter/")

    search = page.locator("#counter-q")
    expect(search).to_be_focused()
    search.press_sequentially("zsf")
    result = page.locator("[data-search-results] a", has_text="张三丰")
    expect(result).to_have_count(1)
    shot(page, "1-search")
    result.click()
    page.wait_for_url(f"**/admin/store/counter/{cast.household_a.pk}/")
    expect(page.get_by_test_id("balance")).to_have_text("100")

    confirm = page.locator("[data-confirm]")
    expect(confirm).to_be_disabled()  # an empty cart cannot be confirmed
    soap = page.locator(f"[data-product='{shelves['soap'].pk}'] [data-add]")
    oil = page.locator(f"[data-product='{shelves['oil'].pk}'] [data-add]")
    soap.click()
    soap.click()
    oil.click()
    expect(page.locator("[data-cart-lines] li")).to_have_count(2)
    expect(page.locator("[data-cart-total]")).to_have_text("34")
    expect(page.locator("[data-cart-after]")).to_have_text("66")
    shot(page, "2-cart")
    confirm.dblclick()  # a double click still redeems once

    page.wait_for_url("**/admin/store/receipts/*/")
    expect(page.get_by_test_id("balance-after")).to_have_text("66")
    expect(page.get_by_test_id("receipt-total")).to_have_text("34")
    expect(page.get_by_test_id("receipt")).to_contain_text("肥皂")
    expect(page.get_by_test_id("receipt")).to_contain_text("菜籽油")
    shot(page, "3-receipt")

    # The next customer's card, read by a USB scanner: it types the login number and Enter (into the search box,
    # which takes the focus a moment after the page loads).
    expect(page.locator("[data-search-input]")).to_be_focused()
    page.keyboard.type("QS01-002")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/admin/store/counter/{cast.household_a2.pk}/")
    expect(page.get_by_test_id("household")).to_contain_text("王建国")

    assert saved_state(cast) == (1, 66)
    assert page.console_errors == []
    server = urlsplit(live_server.url).netloc
    foreign = [url for url in page.requested if not url.startswith("data:") and urlsplit(url).netloc != server]
    assert foreign == []
