"""The campaigns' hand-written SQL: the ballot's path, each statement named, with why it is SQL.

Only ``campaigns/ballots.py`` calls these, with the connection it chose by ``router.db_for_write(BallotRecord)``
and in whose transaction it runs. Nothing here picks a database or opens a transaction.

Why SQL: a ballot is a handful of small statements, and on PostgreSQL each costs a round trip (~0.3 ms on the
2-vCPU machine) and, through the ORM, its compiling on every call (0.5-1 ms on a loaded machine), more than the
database's work (bench/campaigns.py). The campaign is read with its approved-nominee count in one statement; the
ballot and its choices travel with the idempotency key in one.
"""

from campaigns.models import Ballot, BallotChoice

# The campaign, with how many of the chosen nominees it has approved, in one statement (the ORM would read them as
# two, and compile both). Read through ``Campaign.objects.raw``: the row becomes a Campaign as the ORM builds any,
# the count its ``approved_nominees`` attribute.
CAMPAIGN_WITH_APPROVED_NOMINEES = """
    SELECT c.*,
           (SELECT COUNT(*) FROM campaigns_nomination n
            WHERE n.campaign_id = c.id AND n.status = %s AND n.id IN ({nominee_ids})) AS approved_nominees
    FROM campaigns_campaign c
    WHERE c.id = %s"""


def campaign_with_approved_nominees(*, campaign_id: int, nominee_ids: list[int], approved: str) -> tuple[str, list]:
    """The statement and its parameters, for ``Campaign.objects.raw``; ``approved``: the approved status."""
    placeholders = ", ".join(["%s"] * len(nominee_ids)) or "NULL"
    return CAMPAIGN_WITH_APPROVED_NOMINEES.format(nominee_ids=placeholders), [approved, *nominee_ids, campaign_id]


# One ballot per household per campaign: the unique (campaign, household) decides it. ON CONFLICT DO NOTHING
# answers "this household has voted" without an error, so no savepoint is needed (an IntegrityError would abort a
# PostgreSQL transaction, and the caller still has to answer with the first receipt); on PostgreSQL a concurrent
# ballot of the same household waits for the first to commit, then inserts nothing. ``bulk_create`` with
# ``ignore_conflicts`` would not say whether the row went in.
INSERT_BALLOT_RECORD = """
    INSERT INTO campaigns_ballotrecord (campaign_id, village_id, household_id, channel, entered_by_id, cast_at,
                                        credit_id)
    VALUES (%s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (campaign_id, household_id) DO NOTHING
    RETURNING id"""


def insert_ballot_record(
    connection, *, campaign_id: int, village_id: int, household_id: int, channel: str, entered_by_id: int, cast_at,
    credit_id: int | None,
) -> int | None:  # fmt: skip
    """The new record's id, or None if the household's ballot record exists (nothing written)."""
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_BALLOT_RECORD,
            [
                campaign_id,
                village_id,
                household_id,
                channel,
                entered_by_id,
                connection.ops.adapt_datetimefield_value(cast_at),
                credit_id,
            ],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


# A ballot: random key, the receipt, no time, nothing that names who cast it (see campaigns/models.py); and its
# choices, one row each.
INSERT_BALLOT = "INSERT INTO campaigns_ballot (id, campaign_id, receipt) VALUES (%s, %s, %s)"
INSERT_BALLOT_CHOICES = "INSERT INTO campaigns_ballotchoice (id, ballot_id, nomination_id) VALUES {values}"

# PostgreSQL: the same two INSERTs as data-modifying WITHs, sent in front of the statement that takes the ballot's
# idempotency key (``books.take_idempotency_key(first=...)``): the ballot, its choices and the key in one round
# trip. The foreign keys are checked at commit. SQLite has no data-modifying WITH (and no round trip to save): there
# the two are sent on their own (``insert_ballot``).
BALLOT_BEFORE_KEY = "WITH ballot AS ({ballot}), choices AS ({choices}) "


def _ballot_statements(connection, *, campaign_id: int, receipt: str, nomination_ids: list[int]):
    # Random keys from the models' own defaults, sent as Django's UUIDField sends them to this backend (SQLite has
    # no uuid type: 32 hex digits).
    ballot_pk, choice_pk = Ballot._meta.pk, BallotChoice._meta.pk
    ballot_id = ballot_pk.get_db_prep_value(ballot_pk.get_default(), connection)
    choices_params = []
    for nomination_id in nomination_ids:
        choices_params += [choice_pk.get_db_prep_value(choice_pk.get_default(), connection), ballot_id, nomination_id]
    choices = INSERT_BALLOT_CHOICES.format(values=", ".join(["(%s, %s, %s)"] * len(nomination_ids)))
    return (INSERT_BALLOT, [ballot_id, campaign_id, receipt]), (choices, choices_params)


def ballot_before_key(connection, *, campaign_id: int, receipt: str, nomination_ids: list[int]) -> tuple[str, list]:
    """PostgreSQL: ``BALLOT_BEFORE_KEY`` for a ballot and its choices, with its parameters."""
    (ballot_sql, ballot_params), (choices_sql, choices_params) = _ballot_statements(
        connection, campaign_id=campaign_id, receipt=receipt, nomination_ids=nomination_ids
    )
    return BALLOT_BEFORE_KEY.format(ballot=ballot_sql, choices=choices_sql), ballot_params + choices_params


def insert_ballot(connection, *, campaign_id: int, receipt: str, nomination_ids: list[int]) -> None:
    """A ballot and its choices, one statement each."""
    statements = _ballot_statements(connection, campaign_id=campaign_id, receipt=receipt, nomination_ids=nomination_ids)
    with connection.cursor() as cursor:
        for statement, params in statements:
            cursor.execute(statement, params)
