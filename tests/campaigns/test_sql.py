"""campaigns/sql.py: the ballot's statements (the campaign with its approved-nominee count, the ballot record's
exactly-once insert, the ballot with its choices and its idempotency key), on SQLite and on PostgreSQL (the suite's
second run); and the ballot's key check, which is the ledger's."""

# ruff: noqa: F811  (the fixtures imported from test_services are the tests' parameters)

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from campaigns import sql
from campaigns.ballots import ballot_cast
from campaigns.exceptions import BadBallot
from campaigns.models import Ballot, BallotChoice, BallotRecord, Campaign, Nomination
from points import clock
from points.exceptions import IdempotencyKeyInvalid
from points.ledger import books
from points.models import Account, IdempotencyKey

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


def campaign_with_approved(campaign, nominee_ids):
    statement, params = sql.campaign_with_approved_nominees(
        campaign_id=campaign.pk, nominee_ids=nominee_ids, approved=Nomination.Status.APPROVED.value
    )
    return list(Campaign.objects.raw(statement, params))


def test_the_campaign_is_read_with_how_many_of_the_chosen_nominees_it_approved(cast, voting):
    campaign, nominees = voting["campaign"], voting["nominees"]
    Nomination.objects.filter(pk=nominees[2].pk).update(status=Nomination.Status.PENDING)
    ids = [nominees[0].pk, nominees[1].pk, nominees[2].pk, 10**9]
    (found,) = campaign_with_approved(campaign, ids)
    assert found.approved_nominees == 2  # not the pending one, nor one that does not exist
    orm = Campaign.objects.get(pk=campaign.pk)
    assert [getattr(found, f.attname) for f in Campaign._meta.concrete_fields] == [
        getattr(orm, f.attname) for f in Campaign._meta.concrete_fields
    ]  # the row as the ORM reads it: dates, choices and all
    assert campaign_with_approved(campaign, [])[0].approved_nominees == 0
    other = Campaign.objects.create(**{
        f.attname: getattr(orm, f.attname) for f in Campaign._meta.concrete_fields if not f.primary_key
    } | {"title": "另一次评选"})  # fmt: skip
    assert campaign_with_approved(other, ids)[0].approved_nominees == 0  # another campaign's nominees don't count
    assert campaign_with_approved(Campaign(pk=10**9), ids) == []


def ballot_rows(receipt):
    (ballot,) = Ballot.objects.filter(receipt=receipt)
    return ballot, sorted(BallotChoice.objects.filter(ballot=ballot).values_list("nomination_id", flat=True))


def test_insert_ballot_writes_the_ballot_and_its_choices(cast, voting):
    campaign, nominees = voting["campaign"], voting["nominees"]
    with transaction.atomic():
        sql.insert_ballot(
            connection, campaign_id=campaign.pk, receipt="ABCDEFGHJK", nomination_ids=[nominees[0].pk, nominees[2].pk]
        )
    ballot, choices = ballot_rows("ABCDEFGHJK")
    assert ballot.campaign_id == campaign.pk and choices == [nominees[0].pk, nominees[2].pk]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_on_postgresql_the_ballot_and_its_choices_go_with_the_key_in_one_statement(cast, voting):
    campaign, nominees = voting["campaign"], voting["nominees"]
    taken = dict(actor=cast.resident_a, key="ballot:k", operation="ballot_cast", request_hash="h", result={"x": 1})
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        first = sql.ballot_before_key(
            connection, campaign_id=campaign.pk, receipt="ABCDEFGHJK", nomination_ids=[nominees[1].pk]
        )
        record_id = books.take_idempotency_key(**taken, first=first)
    assert len(captured) == 1
    assert IdempotencyKey.objects.get(pk=record_id).result == {"x": 1}
    assert ballot_rows("ABCDEFGHJK")[1] == [nominees[1].pk]
    with transaction.atomic():  # the key is taken: no record, the ballot rows written (the caller rolls back)
        first = sql.ballot_before_key(
            connection, campaign_id=campaign.pk, receipt="MNPQRSTUVW", nomination_ids=[nominees[1].pk]
        )
        assert books.take_idempotency_key(**taken, first=first) is None
        assert ballot_rows("MNPQRSTUVW")[1] == [nominees[1].pk]
        transaction.set_rollback(True)
    assert not Ballot.objects.filter(receipt="MNPQRSTUVW").exists()


def test_a_ballot_sends_the_statements_bench_campaigns_counts(cast, voting):
    """A resident's ballot on PostgreSQL: the scope, the campaign with its count, the household, the head, the
    accounts, the balances, the transfer, the head again, the record, and the ballot with its choices and key."""
    with transaction.atomic():  # the village's head and accounts exist (the first writer creates them)
        books.lock_head(cast.village_a)
        books.accounts_for(cast.village_a, households=[cast.household_a], system=(Account.Kind.ISSUANCE,))
    cast.resident_a.__dict__.pop("_hehe_scope", None)
    with CaptureQueriesContext(connection) as captured:
        ballot_cast(
            actor=cast.resident_a, campaign=voting["campaign"], nominee_ids=[voting["nominees"][1].pk],
            idempotency_key="count",
        )  # fmt: skip
    sent = [q["sql"] for q in captured if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    assert len(sent) == (10 if connection.vendor == "postgresql" else 12), "\n".join(s[:70] for s in sent)
