"""Casting a ballot: secret, final, and crediting the household's participation points exactly once.

Ballots are secret: see campaigns/models.py. Casting credits the household's participation points in the same
transaction, exactly once: the unique ``BallotRecord`` is the guard.
"""

import hashlib
import hmac
import json

from django.db import connections, router
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from campaigns import sql
from campaigns.policy import can_manage
from campaigns.selectors import voting_open
from points import clock
from points.exceptions import IdempotencyConflict, IdempotencyKeyInvalid, MonthClosed, OutOfScope
from points.ledger import books
from points.ledger.awards import points_grant
from points.models import Household, IdempotencyKey, Transfer
from points.scope import RESIDENT, Capability, scope_for

from .exceptions import AlreadyVoted, BadBallot, CampaignError, VotingClosed
from .models import (
    BallotRecord,
    Campaign,
    Nomination,
    new_receipt,
)

Phase = Campaign.Phase

MAX_CHOICES_PER_BALLOT = 20  # Campaign's check constraint


def _keyed(key: str, payload) -> str:
    """HMAC under the client's own key: the stored idempotency record reveals nothing without that key."""
    message = json.dumps(payload, sort_keys=True, default=str).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _seal(key: str, receipt: str) -> str:
    pad = hmac.new(key.encode(), b"receipt", hashlib.sha256).digest()
    return bytes(a ^ b for a, b in zip(receipt.encode(), pad, strict=False)).hex()


def _unseal(key: str, sealed: str) -> str:
    pad = hmac.new(key.encode(), b"receipt", hashlib.sha256).digest()
    return bytes(a ^ b for a, b in zip(bytes.fromhex(sealed), pad, strict=False)).decode()


def _check_ballot(campaign: Campaign, household: Household, ids: list[int], approved: int) -> None:
    """Refuse a ballot that may not be cast, with the reason. ``approved``: how many of ``ids`` are approved
    nominees of the campaign (read with the campaign, see ``_ballot_cast``)."""
    if not voting_open(campaign):
        raise VotingClosed()
    if not campaign.covers_village(household.village):
        raise OutOfScope(_("该户不在本次评选的范围内"))
    if household.is_archived:
        raise BadBallot(_("该户已归档"))
    if not ids:
        raise BadBallot(_("请至少选择一位候选"))
    if len(set(ids)) != len(ids):
        raise BadBallot(_("同一位候选不能重复选择"))
    if len(ids) > campaign.choices_per_ballot:
        raise BadBallot(_("每票最多选 %(max)s 位") % {"max": campaign.choices_per_ballot})
    if approved != len(ids):  # ids are distinct here
        raise BadBallot(_("所选的候选不在本次评选的候选名单中"))


class _AlreadyCast(Exception):
    """Raised out of ``_ballot_cast``'s transaction (rolling back what it wrote) when the household's ballot
    record already exists; ``ballot_cast`` then answers with ``replay``."""

    def __init__(self, replay):
        super().__init__("already cast")
        self.replay = replay


def ballot_cast(
    *, actor, campaign: Campaign, nominee_ids, idempotency_key: str, household: Household | None = None
) -> str:
    """Cast a household's ballot; returns its receipt code. Final: one ballot per household per campaign.

    A resident votes for their own household (phone); a committee member enters a paper ballot naming the
    household. The participation credit lands in the same transaction. The idempotency record stores only
    an HMAC of the request and the receipt sealed under the caller's own key, so it does not link the household
    to its choices. A household that has voted gets its receipt back (same key and request) or AlreadyVoted.
    """
    try:
        return _ballot_cast(
            actor=actor,
            campaign=campaign,
            nominee_ids=nominee_ids,
            idempotency_key=idempotency_key,
            household=household,
        )
    except _AlreadyCast as cast:
        return cast.replay(AlreadyVoted())


@books.atomic  # the ballot and its participation credit in one transaction: on the ledger's database
def _ballot_cast(*, actor, campaign: Campaign, nominee_ids, idempotency_key: str, household: Household | None):
    try:
        key = books.clean_idempotency_key(idempotency_key)
    except IdempotencyKeyInvalid as refusal:
        raise BadBallot(refusal.message) from None
    db = router.db_for_write(BallotRecord)
    scope = scope_for(actor)
    if not isinstance(nominee_ids, list | tuple):
        raise BadBallot(_("候选须为列表"))
    ids = []
    for value in nominee_ids:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BadBallot(_("候选编号无效：%(value)s") % {"value": value})
        ids.append(value)
    # Fresh rows (the phase may have moved since the caller read them), read where this transaction writes. (A
    # longer list than any ballot allows is refused as too many before the count matters: it is not sent whole.)
    campaign, approved = _campaign_with_approved_nominees(db, campaign.pk, ids[:MAX_CHOICES_PER_BALLOT])
    if scope.role == RESIDENT:
        if household is not None and household.pk != scope.household_id:
            raise OutOfScope(_("居民只能为本户投票"))
        household = Household.objects.using(db).select_related("village").get(pk=scope.household_id)
        channel = BallotRecord.Channel.PHONE
    else:
        if household is None:
            raise BadBallot(_("录入纸质选票时请选择投票的户"))
        household = Household.objects.using(db).select_related("village").get(pk=household.pk)
        if not (scope.can(Capability.MANAGE_POINTS, household.village_id) and can_manage(actor, campaign)):
            raise OutOfScope(_("您不能为该户录入选票"))
        channel = BallotRecord.Channel.PAPER

    request = {"campaign": campaign.pk, "household": household.pk, "nominees": sorted(ids)}
    lookup = "ballot:" + hashlib.sha256(key.encode()).hexdigest()
    digest = _keyed(key, request)

    def replay(refusal: Exception) -> str:
        """The ballot can't be cast: a retry of one that was (same key, same request) gets its receipt, even if
        voting closed since; a different request under that key is refused; else the refusal stands. Looked up
        only here, off the happy path."""
        existing = IdempotencyKey.objects.using(books.ledger_db()).filter(actor=actor, key=lookup).first()
        if existing is None:
            raise refusal
        if existing.request_hash != digest:
            raise IdempotencyConflict()
        return _unseal(key, existing.result["sealed"])

    try:
        _check_ballot(campaign, household, ids, approved)
    except (CampaignError, OutOfScope) as refusal:
        return replay(refusal)
    now = clock.now()

    head = books.lock_head(household.village)  # the participation credit's ledger lock, taken before the ballot rows
    credit_id = None
    if campaign.participation_points:
        try:
            credit_id = points_grant(
                actor=actor,
                household=household,
                amount=campaign.participation_points,
                code=Transfer.Code.VOTE,
                item_name=books.stored_text(gettext_noop("参与「%(title)s」投票"), title=campaign.title[:60]),
                head=head,
            ).pk
        except MonthClosed:
            # The credit can't land (the village closed this month early). A household that has voted still gets
            # its receipt (or AlreadyVoted), as it would with the month open; a new ballot is refused.
            if BallotRecord.objects.using(db).filter(campaign_id=campaign.pk, household_id=household.pk).exists():
                raise _AlreadyCast(replay) from None
            raise
    # The unique (campaign, household) is the guard: a second ballot inserts nothing (no savepoint needed; on
    # PostgreSQL a concurrent one waits for the first to commit), and _AlreadyCast rolls back the credit above.
    record_id = sql.insert_ballot_record(
        connections[db],
        campaign_id=campaign.pk,
        village_id=household.village_id,
        household_id=household.pk,
        channel=channel,
        entered_by_id=actor.pk,
        cast_at=now,
        credit_id=credit_id,
    )
    if record_id is None:
        # This household has voted: a retry (or a concurrent twin that committed first) gets its receipt.
        raise _AlreadyCast(replay)
    # The ballot, its choices and the idempotency key in one round trip on PostgreSQL (campaigns/sql.py). The key is
    # taken last, through the ledger's one idempotency record, holding only an HMAC of the request and the receipt
    # sealed under the caller's key.
    connection = connections[db]
    ballot = {"campaign_id": campaign.pk, "receipt": new_receipt(), "nomination_ids": sorted(ids)}
    if connection.vendor == "postgresql":
        first = sql.ballot_before_key(connection, **ballot)
    else:
        sql.insert_ballot(connection, **ballot)
        first = None
    taken = books.take_idempotency_key(
        actor=actor,
        key=lookup,
        operation="ballot_cast",
        request_hash=digest,
        result={"sealed": _seal(key, ballot["receipt"])},
        first=first,
    )
    if taken is None:
        raise IdempotencyConflict()  # the key was used for another household's ballot: this one rolls back
    return ballot["receipt"]


def _campaign_with_approved_nominees(db: str, campaign_id: int, nominee_ids: list[int]) -> tuple[Campaign, int]:
    """The campaign, read afresh, and how many of ``nominee_ids`` are its approved nominees: one named statement
    (campaigns/sql.py) where the ORM would send and compile two."""
    statement, params = sql.campaign_with_approved_nominees(
        campaign_id=campaign_id, nominee_ids=nominee_ids, approved=Nomination.Status.APPROVED.value
    )
    found = list(Campaign.objects.raw(statement, params, using=db))
    if not found:
        raise Campaign.DoesNotExist("Campaign matching query does not exist.")
    return found[0], found[0].approved_nominees
