"""The API's request and response shapes, which are also its OpenAPI document.

Input is strict where a client's mistake could be read two ways: ids must be JSON integers (not ``"5"``, not
``true``, not ``5.0``) between 1 and the largest id the database can hold, so no value can reach a query and
overflow it. Unknown fields are ignored. Nothing here carries a phone or ID number.
"""

import datetime
from typing import Annotated

from ninja import Field, Schema
from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

from points.ledger.awards import MAX_BATCH

MAX_ID = 2**63 - 1  # a PostgreSQL bigint; larger values would overflow the query, not find nothing
MAX_LIMIT = 100
MAX_OFFSET = 1_000_000

BodyId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
QueryId = Annotated[int, Field(ge=1, le=MAX_ID)]


def storable(value: str) -> str:
    """Refuse what a database cannot store: NUL characters (PostgreSQL) and lone surrogates (not UTF-8)."""
    if "\x00" in value:
        raise PydanticCustomError("null_character", "NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("not_unicode", "not valid Unicode") from None
    return value


Text = Annotated[str, AfterValidator(storable)]


class Problem(Schema):
    """RFC 9457 problem details; ``errors`` maps a field to its messages when the input was invalid."""

    type: str
    title: str
    status: int
    detail: str
    errors: dict[str, list[str]] | None = None


class Page(Schema):
    limit: int = Field(20, ge=1, le=MAX_LIMIT, description="at most 100")
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


# --- tokens ---------------------------------------------------------------------------------------------------


class TokenIn(Schema):
    username: Text = Field(min_length=1, max_length=150, description="staff username, or QS01-001 / phone")
    password: Text = Field(min_length=1, max_length=1000)
    name: Text = Field("", max_length=100, description="a label to recognise the token by in the admin")


class TokenOut(Schema):
    token: str = Field(description="shown only this once; send it as `Authorization: Bearer <token>`")
    id: int
    name: str
    created_at: datetime.datetime


# --- the register ---------------------------------------------------------------------------------------------


class VillageOut(Schema):
    id: int
    code: str
    name: str


class HouseholdQuery(Page):
    village: QueryId | None = None
    q: Text = Field("", max_length=50, description="household number, head's name, or pinyin initials (zsf)")


class HouseholdOut(Schema):
    id: int
    number: str
    login_number: str
    head_name: str
    village: VillageOut
    group: str
    status: str


class HouseholdList(Schema):
    count: int
    limit: int
    offset: int
    items: list[HouseholdOut]


class MemberOut(Schema):
    name: str
    relation: str
    relation_label: str


class HouseholdDetail(HouseholdOut):
    members: list[MemberOut]
    balance: int = Field(description="spendable points")
    conduct_year: int
    conduct_score: int = Field(description="awards minus deductions this year; redemptions do not lower it")
    stars: int


# --- the ledger -----------------------------------------------------------------------------------------------


class StatementLine(Schema):
    id: int
    seq: int
    code: str
    code_label: str
    amount: int
    signed_amount: int = Field(description="+ credited to the household, − debited")
    explanation: str
    item_name: str
    memo: str
    reason: str
    reverses: int | None
    period: datetime.date
    created_at: datetime.datetime


class Statement(Schema):
    count: int
    limit: int
    offset: int
    items: list[StatementLine]


class RubricQuery(Page):
    village: QueryId | None = Field(None, description="required unless you belong to one village")


class RubricItemOut(Schema):
    id: int
    name: str
    category: str
    kind: str
    points: int
    signed_points: int
    cap_period: str
    cap_points: int | None
    evidence_required: bool


class RubricList(Schema):
    village: VillageOut
    count: int
    limit: int
    offset: int
    items: list[RubricItemOut]


class AwardIn(Schema):
    rubric_item: BodyId
    households: list[BodyId] = Field(min_length=1, max_length=MAX_BATCH)
    memo: Text = Field("", max_length=200)


class TransferOut(Schema):
    """A transfer as written. Built only from the stored row, so a replay answers byte for byte the same."""

    id: int
    seq: int
    village: int
    household: int | None
    code: str
    amount: int
    signed_amount: int
    item_name: str
    memo: str
    reason: str
    reverses: int | None
    period: datetime.date
    created_at: datetime.datetime
    hash: str


class AwardOut(Schema):
    count: int
    transfers: list[TransferOut]


class ReversalIn(Schema):
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(storable)
    ]


class LedgerOut(Schema):
    village: VillageOut
    transfer_count: int
    head_hash: str
    last_verified_at: datetime.datetime | None
    last_verified_ok: bool | None
