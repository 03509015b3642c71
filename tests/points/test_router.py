"""Every read and write of the ledger and the store goes to the database the router names (issue 11): the
hand-written statements included, and the transactions they run in."""

import pytest
from django.db import connection
from django.utils.connection import ConnectionDoesNotExist

from points.ledger.awards import points_award
from points.models import Product, RubricCategory, RubricItem, StockMovement, Transfer
from points.store.services import redemption_create, stock_receive

ASKED: list[str] = []


class RecordingRouter:
    """Sends everything to "default" by name, and records which models it was asked about."""

    def db_for_write(self, model, **hints):
        ASKED.append(model._meta.label)
        return "default"

    def db_for_read(self, model, **hints):
        return "default"


class ElsewhereRouter:
    """Sends writes to a database that does not exist: a writer that ignores the router would still succeed."""

    def db_for_write(self, model, **hints):
        return "elsewhere"

    def db_for_read(self, model, **hints):
        return "default"


@pytest.fixture
def item(cast):
    return RubricItem.objects.create(
        category=RubricCategory.objects.create(name="孝老爱亲"), district=cast.district, name="照顾老人", points=50
    )


def test_the_ledger_and_the_store_ask_the_router_for_their_connection(cast, item, settings):
    settings.DATABASE_ROUTERS = [f"{__name__}.RecordingRouter"]
    ASKED.clear()
    points_award(
        actor=cast.committee_a, village=cast.village_a, rubric_item=item, households=[cast.household_a],
        idempotency_key="a",
    )  # fmt: skip
    assert "points.Transfer" in ASKED  # the head lock, balances, transfers, summaries, idempotency record
    soap = Product.objects.create(village=cast.village_a, name="肥皂", price=2, unit="块")
    stock_receive(actor=cast.storekeeper_a, product=soap, quantity=5, idempotency_key="in")
    ASKED.clear()
    redemption_create(actor=cast.storekeeper_a, household=cast.household_a, lines=[(soap, 2)], idempotency_key="r")
    assert {"points.Transfer", "points.Product", "points.StockMovement", "points.Redemption"} <= set(ASKED)


def test_a_router_naming_another_database_is_obeyed(cast, item, settings):
    soap = Product.objects.create(village=cast.village_a, name="肥皂", price=2, unit="块", stock=5)
    settings.DATABASE_ROUTERS = [f"{__name__}.ElsewhereRouter"]
    with pytest.raises(ConnectionDoesNotExist):
        points_award(
            actor=cast.committee_a, village=cast.village_a, rubric_item=item, households=[cast.household_a],
            idempotency_key="a",
        )  # fmt: skip
    with pytest.raises(ConnectionDoesNotExist):
        redemption_create(actor=cast.storekeeper_a, household=cast.household_a, lines=[(soap, 1)], idempotency_key="r")
    assert not Transfer.objects.exists() and not StockMovement.objects.exists()
    assert connection.in_atomic_block  # the test's own transaction, untouched
