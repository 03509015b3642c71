"""campaigns/sql.py: the ballot record's exactly-once insert, on SQLite and on PostgreSQL (the suite's second run);
and the ballot's key check, which is the ledger's."""

# ruff: noqa: F811  (the fixtures imported from test_services are the tests' parameters)

import pytest
from django.db import connection, transaction

from campaigns import sql
from campaigns.ballots import ballot_cast
from campaigns.exceptions import BadBallot
from campaigns.models import Ballot, BallotRecord
from points import clock
from points.exceptions import IdempotencyKeyInvalid
from points.ledger import books

from .test_services import campaign, voting  # noqa: F401  (a village A campaign, voting open, three nominees)


def test_insert_ballot_record_inserts_once_per_household(cast, voting):
    record = dict(
        campaign_id=voting["campaign"].pk, village_id=cast.village_a.pk, household_id=cast.household_a.pk,
        channel=BallotRecord.Channel.PAPER, entered_by_id=cast.committee_a.pk, cast_at=clock.now(), credit_id=None,
    )  # fmt: skip
    with transaction.atomic():
        first = sql.insert_ballot_record(connection, **record)
        assert sql.insert_ballot_record(connection, **{**record, "channel": BallotRecord.Channel.PHONE}) is None
    stored = BallotRecord.objects.get(pk=first)
    assert (stored.household_id, stored.channel, stored.cast_at, stored.credit_id) == (
        cast.household_a.pk, "paper", record["cast_at"], None,
    )  # fmt: skip
    assert BallotRecord.objects.count() == 1


@pytest.mark.parametrize("key", ["", "   ", "k" * (books.MAX_IDEMPOTENCY_KEY_LENGTH + 1)])
def test_the_ballot_checks_its_key_as_every_service_does(cast, voting, key):
    with pytest.raises(IdempotencyKeyInvalid) as ledger:
        books.clean_idempotency_key(key)
    with pytest.raises(BadBallot) as ballot:
        ballot_cast(
            actor=cast.resident_a, campaign=voting["campaign"], nominee_ids=[voting["nominees"][1].pk],
            idempotency_key=key,
        )  # fmt: skip
    assert ballot.value.message == ledger.value.message
    assert not Ballot.objects.exists()


def test_the_longest_key_is_taken(cast, voting):
    key = " " + "k" * books.MAX_IDEMPOTENCY_KEY_LENGTH + " "
    assert books.clean_idempotency_key(key) == key.strip()
    receipt = ballot_cast(
        actor=cast.resident_a, campaign=voting["campaign"], nominee_ids=[voting["nominees"][1].pk], idempotency_key=key
    )
    assert Ballot.objects.filter(receipt=receipt).exists()


class RecordingRouter:
    """Sends everything to "default" by name, and records which models it was asked about."""

    asked: list[str] = []

    def db_for_write(self, model, **hints):
        self.asked.append(model._meta.label)
        return "default"

    def db_for_read(self, model, **hints):
        return "default"


def test_the_ballot_asks_the_router_for_its_connection(cast, voting, settings):
    settings.DATABASE_ROUTERS = [f"{__name__}.RecordingRouter"]
    RecordingRouter.asked.clear()
    ballot_cast(
        actor=cast.resident_a, campaign=voting["campaign"], nominee_ids=[voting["nominees"][1].pk], idempotency_key="b"
    )
    assert {"campaigns.BallotRecord", "points.Transfer"} <= set(RecordingRouter.asked)
