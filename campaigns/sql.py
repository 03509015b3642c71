"""The campaigns' hand-written SQL: the ballot record's exactly-once insert, named, with why it is SQL.

Only ``campaigns/ballots.py`` calls it, with the connection it chose by ``router.db_for_write(BallotRecord)`` and
in whose transaction it runs. The ballot and its choices are written by the ORM.
"""

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
