"""Ballots per second: ``campaigns.ballots.ballot_cast`` against raw SQL making the same writes.

Not a test. Run from the project root::

    .venv/bin/python bench/campaigns.py            # full run (real migrations, 3 interleaved rounds), ~4 minutes
    .venv/bin/python bench/campaigns.py --quick    # smoke run (schema from the models, 1 short round), < 1 minute
    .venv/bin/python bench/campaigns.py --profile  # also profile the single-threaded service path

Each backend runs in a child process of its own (Django is configured once per process; ``harness`` runs them):
SQLite in a temporary file with the project's options (WAL, IMMEDIATE transactions), then PostgreSQL in a scratch
database ``hehe_bench_campaigns`` (or ``BENCH_POSTGRES_URL``) created before the child and dropped after it (skipped
with a message if the server is unreachable).

Every ballot is cast by the resident user of a different household (one ballot per household per campaign), in a
village-level campaign in phase voting, and earns the participation credit through the ledger. Per backend and
mode (1 worker, then 8 workers, threads with their own connections, all in ONE village) the service and the
baseline run for the same time, interleaved over rounds so that a change of machine load hits both alike. The
baseline makes the same writes in one transaction (the two balance updates, the transfer with its sha256 hash
chained on the village's head, the head update, the ballot record with its credit, the ballot with a random UUID
and receipt, its choices, the idempotency row) through the same Django connection; the service additionally
re-reads the campaign, household and nominees, computes the actor's scope, checks the window and the month, and
looks up the idempotency key. Anomalies (expected zero): a ballot that failed, BallotRecord and Ballot counts that
disagree with the ballots counted, or books that ``verify_ledger`` refuses. Exit status: 0 all PASS, 1 a
throughput target missed, 2 an anomaly.
"""

import datetime
import hashlib
import itertools
import sys
import threading

import harness

WORKERS = 8
HOUSEHOLDS_PER_VILLAGE = 400  # each casts one ballot per campaign
CAMPAIGNS_PER_VILLAGE = 100  # so a side can cast 40,000 ballots before the pool is used up
NOMINEES = 4  # approved nominations per campaign
CHOICES = 2  # nominees chosen on every ballot
PARTICIPATION_POINTS = 2


# --- child: the world -------------------------------------------------------------------------------------------


class Side:
    """One side of the comparison: its own village, campaigns, and households with resident sign-ins."""

    def __init__(self, name, village, campaigns, nominees, actors, households, accounts, issuance_account):
        self.name = name
        self.village = village
        self.campaigns = campaigns  # ballot n goes to campaign n // households, household n % households
        self.nominees = nominees  # campaign id -> approved nomination ids
        self.actors = actors  # household id -> its resident user
        self.households = households
        self.accounts = accounts  # household id -> account id
        self.issuance_account = issuance_account
        self.counted = 0  # ballots that succeeded (the harness counts them)
        self.cursor = itertools.count()  # the next (campaign, household) slot, shared by the side's workers
        self.lock = threading.Lock()

    def slot(self):
        """The next unused (campaign, household) pair: every household votes once per campaign."""
        with self.lock:
            n = next(self.cursor)
        campaign = self.campaigns[n // len(self.households)]  # IndexError: the pool is used up (not expected)
        household = self.households[n % len(self.households)]
        return n, campaign, household


def seed(prefix: str, code: str, township, root):
    from django.contrib.auth import get_user_model

    from campaigns.models import Campaign, Nomination
    from points import clock
    from points.ledger.books import household_accounts, lock_head, system_account
    from points.models import Account, Household, ResidentAccount, Village, VillageGroup

    village = Village.objects.create(township=township, name=f"{prefix}村", code=code)
    group = VillageGroup.objects.create(village=village, name="一组")
    lock_head(village)  # creates the ledger head, as the village's first award would
    # Households and resident sign-ins in bulk: resident_password_issue hashes a password per household, which
    # would take minutes for hundreds of them. The user and ResidentAccount rows are the ones it writes (with an
    # unusable password); its HouseholdEvent audit row is left out, as ballot_cast does not read it.
    households = Household.objects.bulk_create(
        [
            Household(village=village, number=f"{n + 1:04d}", group=group, address="幸福路", head_name=f"户主{n:03d}")
            for n in range(HOUSEHOLDS_PER_VILLAGE)
        ]
    )
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"resident-{code}-{h.pk}", password="!") for h in households]
    )
    now = clock.now()
    ResidentAccount.objects.bulk_create(
        [
            ResidentAccount(user=u, household=h, village=village, issued_at=now, issued_by=root)
            for u, h in zip(users, households, strict=True)
        ]
    )
    accounts = {hid: a.id for hid, a in household_accounts(households).items()}
    issuance = system_account(village, Account.Kind.ISSUANCE).id
    campaigns = Campaign.objects.bulk_create(
        [
            Campaign(
                kind=Campaign.Kind.BEAUTIFUL_FAMILY,
                title=f"{prefix}最美家庭评选{n + 1}",
                level=Campaign.Level.VILLAGE,
                district_id=township.district_id,
                township=township,
                village=village,
                nominee_type=Campaign.NomineeType.HOUSEHOLD,
                choices_per_ballot=CHOICES,
                winners_count=1,
                participation_points=PARTICIPATION_POINTS,
                nominating_starts=now - datetime.timedelta(days=10),
                voting_starts=now - datetime.timedelta(days=1),
                voting_ends=now + datetime.timedelta(days=7),
                phase=Campaign.Phase.VOTING,
                created_by=root,
            )
            for n in range(CAMPAIGNS_PER_VILLAGE)
        ]
    )
    Nomination.objects.bulk_create(
        [
            Nomination(
                campaign=c,
                village=village,
                household=households[k],
                story="基准候选",
                status=Nomination.Status.APPROVED,
                nominated_by=root,
                reviewed_by=root,
                reviewed_at=now,
            )
            for c in campaigns
            for k in range(NOMINEES)
        ]
    )
    nominees = {}
    for campaign_id, pk in Nomination.objects.filter(village=village).values_list("campaign_id", "pk"):
        nominees.setdefault(campaign_id, []).append(pk)
    actors = {h.pk: u for u, h in zip(users, households, strict=True)}
    return Side(prefix, village, campaigns, nominees, actors, households, accounts, issuance)


def choices_for(side: Side, campaign, n: int) -> list[int]:
    """CHOICES of the campaign's nominees, rotating with the ballot number."""
    pool = side.nominees[campaign.pk]
    return [pool[(n + k) % len(pool)] for k in range(CHOICES)]


# --- child: the two ways of casting a ballot --------------------------------------------------------------------


def service_op(side: Side, worker: int, workers: int, run_id: str):
    """A callable casting one ballot through the service, as the resident of the next unused household."""
    from campaigns.ballots import ballot_cast

    def op(n: int) -> None:
        slot, campaign, household = side.slot()
        actor = side.actors[household.pk]
        actor.__dict__.pop("_hehe_scope", None)  # a request computes the scope afresh; so does each call here
        ballot_cast(
            actor=actor,
            campaign=campaign,
            nominee_ids=choices_for(side, campaign, slot),
            idempotency_key=f"{run_id}-{worker}-{n}",
        )

    return op


def baseline_op(side: Side, worker: int, workers: int, run_id: str):
    """The same ballot as raw SQL: the writes and the reads they need, nothing else. Keeps the chain valid."""
    import uuid

    from django.db import connection, transaction
    from django.utils import timezone

    from campaigns.ballots import _keyed, _seal
    from campaigns.models import Ballot, BallotChoice, BallotRecord, new_receipt
    from points.ledger import books
    from points.models import Account, IdempotencyKey, LedgerHead, Transfer

    ops = connection.ops
    head_sql = f"SELECT seq, hash FROM {LedgerHead._meta.db_table} WHERE village_id = %s"
    if connection.vendor == "postgresql":
        head_sql += " FOR NO KEY UPDATE"  # SQLite: the IMMEDIATE transaction already holds the write lock
    record_sql = (
        f"INSERT INTO {BallotRecord._meta.db_table} (campaign_id, village_id, household_id, channel, entered_by_id,"
        " cast_at, credit_id) VALUES (%s, %s, %s, 'phone', %s, %s, %s)"
    )
    ballot_sql = f"INSERT INTO {Ballot._meta.db_table} (id, campaign_id, receipt) VALUES (%s, %s, %s)"
    choice_sql = f"INSERT INTO {BallotChoice._meta.db_table} (id, ballot_id, nomination_id) VALUES (%s, %s, %s)"
    account_sql = (
        f"UPDATE {Account._meta.db_table} SET debits = debits + %s, credits = credits + %s,"
        " balance = balance + %s WHERE id = %s"
    )
    transfer_sql = (
        f"INSERT INTO {Transfer._meta.db_table} (village_id, seq, debit_account_id, credit_account_id, amount, code,"
        " household_id, member_id, rubric_item_id, item_name, conduct_delta, period, actor_id, acted_for_id, memo,"
        " photo_id, reverses_id, reason, created_at, prev_hash, hash)"
        " VALUES (%s, %s, %s, %s, %s, 'vote', %s, NULL, NULL, %s, 0, %s, %s, NULL, '', NULL, NULL, '', %s, %s, %s)"
        " RETURNING id"
    )
    head_update_sql = f"UPDATE {LedgerHead._meta.db_table} SET seq = %s, hash = %s WHERE village_id = %s"
    key_sql = (
        f"INSERT INTO {IdempotencyKey._meta.db_table} (actor_id, key, operation, request_hash, result, created_at)"
        " VALUES (%s, %s, 'ballot_cast', %s, %s, %s)"
    )
    uuid_field = Ballot._meta.pk
    result_field = IdempotencyKey._meta.get_field("result")
    village_id = side.village.id
    issuance = side.issuance_account
    amount = PARTICIPATION_POINTS

    def op(n: int) -> None:
        slot, campaign, household = side.slot()
        actor_id = side.actors[household.pk].pk
        account_id = side.accounts[household.pk]
        ids = choices_for(side, campaign, slot)
        key = f"{run_id}-{worker}-{n}"
        lookup = "ballot:" + hashlib.sha256(key.encode()).hexdigest()
        digest = _keyed(key, {"campaign": campaign.pk, "household": household.pk, "nominees": sorted(ids)})
        item_name = f"参与「{campaign.title[:60]}」投票"[:80]
        receipt = new_receipt()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(head_sql, [village_id])
            seq, prev_hash = cursor.fetchone()
            now = timezone.now()
            at = ops.adapt_datetimefield_value(now)
            # books.post: one UPDATE per account in id order, then the transfer, then the head. A vote credit
            # has no conduct effect, so post() writes no PeriodSummary row for it (neither does this).
            for account, delta_out, delta_in in sorted([(issuance, amount, 0), (account_id, 0, amount)]):
                cursor.execute(account_sql, [delta_out, delta_in, delta_in - delta_out, account])
            period = books.month_of(now)
            seq += 1
            fields = harness.transfer_fields(
                village=village_id, seq=seq, debit=issuance, credit=account_id, amount=amount, code="vote",
                household=household.pk, item=None, item_name=item_name, conduct=0, period=period, actor=actor_id,
                created_at=now,
            )  # fmt: skip
            chained = books.transfer_hash(prev_hash, fields)
            cursor.execute(
                transfer_sql,
                [
                    village_id,
                    seq,
                    issuance,
                    account_id,
                    amount,
                    household.pk,
                    item_name,
                    ops.adapt_datefield_value(period),
                    actor_id,
                    at,
                    prev_hash,
                    chained,
                ],
            )
            transfer_id = cursor.fetchone()[0]
            cursor.execute(head_update_sql, [seq, chained, village_id])
            # The record with its credit (as the service writes it: after the transfer, one INSERT).
            cursor.execute(record_sql, [campaign.pk, village_id, household.pk, actor_id, at, transfer_id])
            ballot_id = uuid_field.get_db_prep_value(uuid.uuid4(), connection)
            cursor.execute(ballot_sql, [ballot_id, campaign.pk, receipt])
            for nomination_id in sorted(ids):
                cursor.execute(
                    choice_sql, [uuid_field.get_db_prep_value(uuid.uuid4(), connection), ballot_id, nomination_id]
                )
            result = result_field.get_db_prep_save({"sealed": _seal(key, receipt)}, connection)
            cursor.execute(key_sql, [actor_id, lookup, digest, result, at])

    return op


# --- child: the books after each mode ---------------------------------------------------------------------------


def check_books(side: Side) -> list[str]:
    """What is wrong with the side's village after a phase (expected: nothing); the harness adds
    ``verify_ledger``'s verdict."""
    from campaigns.models import Ballot, BallotRecord

    problems = []
    records = BallotRecord.objects.filter(village=side.village).count()
    ballots = Ballot.objects.filter(campaign__village=side.village).count()
    if not records == ballots == side.counted:
        problems.append(f"{records} ballot records, {ballots} ballots, but {side.counted} ballots cast")
    uncredited = BallotRecord.objects.filter(village=side.village, credit__isnull=True).count()
    if uncredited:
        problems.append(f"{uncredited} ballot records without their participation credit")
    return problems


BENCH = harness.Throughput(
    name="campaigns",
    doc=__doc__,
    unit="ballot",
    rate_header=("service ballots/s", "baseline ballots/s"),
    seed=seed,
    seeded=f"{HOUSEHOLDS_PER_VILLAGE} households and {CAMPAIGNS_PER_VILLAGE} campaigns",
    service_op=service_op,
    baseline_op=baseline_op,
    check_books=check_books,
    workers=WORKERS,
    profile_filter="/(points|campaigns)/",  # the ballot's own code is in campaigns/
)


if __name__ == "__main__":
    sys.exit(harness.throughput_main(BENCH))
