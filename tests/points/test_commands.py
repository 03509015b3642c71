"""The commands cron runs: safe to run often, each doing its work once."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from points import clock
from points.ledger.awards import points_award
from points.models import Product, Redemption, RubricCategory, RubricItem
from points.store.services import redemption_create, stock_receive


@pytest.mark.any_day
def test_expire_reservations_refunds_once(cast):
    soap = Product.objects.create(village=cast.village_a, name="肥皂", price=2)
    stock_receive(actor=cast.storekeeper_a, product=soap, quantity=5, idempotency_key="in")
    item = RubricItem.objects.create(
        category=RubricCategory.objects.create(name="孝老爱亲"), district=cast.district, name="照顾老人", points=10
    )
    points_award(
        actor=cast.committee_a,
        village=cast.village_a,
        rubric_item=item,
        households=[cast.household_a],
        idempotency_key="a",
    )
    reservation = redemption_create(
        actor=cast.resident_a, household=cast.household_a, lines=[(soap.pk, 2)], idempotency_key="r", reserve=True
    )
    out = StringIO()
    with clock.frozen_at(clock.now() + datetime.timedelta(days=30)):
        call_command("expire_reservations", stdout=out)
        call_command("expire_reservations", stdout=out)
    assert out.getvalue().splitlines() == ["expired 1 reservation(s)", "expired 0 reservation(s)"]
    reservation.refresh_from_db()
    assert reservation.status == Redemption.Status.EXPIRED


@pytest.mark.any_day
def test_advance_campaigns_reports_its_moves(db):
    out = StringIO()
    call_command("advance_campaigns", stdout=out)
    assert out.getvalue().strip() == "moved 0 campaign(s)"
