"""The ledger as a state machine: random awards, deductions, redemptions, reversals, replays, notices and month
closes, checked after every step against a model in plain Python and against the books themselves.

Every example builds its own village (unique codes), households, committee member and rubric inside the one
database transaction pytest-django gives the test, and the model is keyed to those objects only, so examples
never see each other's rows. Time is the machine's own clock, passed to the services through ``clock.frozen_at``.
"""

import datetime
import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from points import clock
from points.exceptions import (
    AlreadyReversed,
    CapExceeded,
    IdempotencyConflict,
    InsufficientPoints,
    LedgerError,
    MonthClosed,
    NoticeError,
    NotReversible,
)
from points.ledger import books
from points.ledger.awards import points_award, transfer_reverse
from points.ledger.notices import month_close, notice_publish
from points.ledger.selectors import conduct_score, household_balance
from points.ledger.verify import verify_ledger
from points.models import (
    Account,
    District,
    PeriodSummary,
    RubricCategory,
    RubricItem,
    StaffRole,
    Township,
    Transfer,
)
from tests.factories import make_household, make_staff, make_village

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime.datetime(2031, 1, 1, 9, 30, tzinfo=SHANGHAI)
HOUSEHOLDS = 4
NOTICE_DAYS = 2  # short, so that a month can be published and closed while it is still the current month
# name -> (kind, points, monthly cap)
RUBRIC = {
    "care": ("award", 10, None),
    "help": ("award", 3, None),
    "capped": ("award", 4, 6),  # the second in a month passes the cap
    "litter": ("deduction", 5, None),
}
ISSUANCE, STORE = "issuance", "store"

_example = itertools.count(1)


@dataclass
class Entry:
    """The model's view of one transfer."""

    code: str
    who: int  # index into the machine's households
    amount: int
    conduct: int
    item: str | None
    period: datetime.date
    reversed: bool = False


def previous_month(month: datetime.date) -> datetime.date:
    return (month - datetime.timedelta(days=1)).replace(day=1)


class LedgerMachine(RuleBasedStateMachine):
    transfers = Bundle("transfers")

    def __init__(self):
        super().__init__()
        n = next(_example)
        district = District.objects.create(name=f"状态机区{n}", code=f"SMD{n}")
        township = Township.objects.create(district=district, name=f"状态机镇{n}", code=f"SMT{n}")
        self.village = make_village(township, f"状态机村{n}", f"SM{n}")
        self.village.notice_days = NOTICE_DAYS
        self.village.save(update_fields=["notice_days"])
        self.households = [make_household(self.village, number=f"{i + 1:03d}") for i in range(HOUSEHOLDS)]
        self.actor = make_staff(f"sm_committee_{n}", StaffRole.Role.COMMITTEE, village=self.village)
        category = RubricCategory.objects.create(name=f"状态机分类{n}")
        self.items = {
            name: RubricItem.objects.create(
                category=category,
                village=self.village,
                name=name,
                kind=kind,
                points=points,
                cap_period="month" if cap else "none",
                cap_points=cap,
            )
            for name, (kind, points, cap) in RUBRIC.items()
        }
        self.now = START
        self._keys = itertools.count(1)
        # The model.
        self.balances: dict[object, int] = defaultdict(int)  # household index, ISSUANCE or STORE -> balance
        self.entries: dict[int, Entry] = {}  # transfer id -> entry
        self.conduct: dict[tuple[int, datetime.date], int] = defaultdict(int)
        self.item_conduct: dict[tuple[int, str, datetime.date], int] = defaultdict(int)
        self.awards_sent: list[tuple[str, str, list[int], list[int]]] = []  # key, item, household indices, ids
        self.notices: dict[datetime.date, datetime.date] = {}  # period -> objection deadline
        self.closed: dict[datetime.date, datetime.datetime] = {}  # period -> closed at

    # --- helpers -------------------------------------------------------------------------------------------

    @property
    def period(self) -> datetime.date:
        return self.now.astimezone(SHANGHAI).date().replace(day=1)

    @property
    def today(self) -> datetime.date:
        return self.now.astimezone(SHANGHAI).date()

    def key(self, prefix: str) -> str:
        return f"{prefix}-{next(self._keys)}"

    def record(self, transfer: Transfer, who: int, item: str | None) -> None:
        self.entries[transfer.id] = Entry(
            code=transfer.code,
            who=who,
            amount=transfer.amount,
            conduct=transfer.conduct_delta,
            item=item,
            period=transfer.period,
        )
        assert transfer.period == self.period, "a transfer lands in the month it is made"
        self.conduct[(who, transfer.period)] += transfer.conduct_delta
        if item is not None:
            self.item_conduct[(who, item, transfer.period)] += transfer.conduct_delta

    def award_call(self, item: str, picks: list[int], key: str, memo: str = "") -> list[Transfer]:
        with clock.frozen_at(self.now):
            return points_award(
                actor=self.actor,
                village=self.village,
                rubric_item=self.items[item],
                households=[self.households[i] for i in picks],
                idempotency_key=key,
                memo=memo,
            )

    # --- rules ---------------------------------------------------------------------------------------------

    @initialize(target=transfers, rounds=st.integers(0, 3))
    def opening_awards(self, rounds):
        """Some households start with points, so that redemptions have something to spend."""
        made = []
        for _ in range(rounds):
            made.extend(self.give("care", set(range(HOUSEHOLDS))))
        return multiple(*made)

    @rule(target=transfers, item=st.sampled_from(sorted(RUBRIC)), who=st.integers(0, HOUSEHOLDS - 1))
    def award(self, item, who):
        """An award or a deduction from the rubric to one household."""
        return multiple(*self.give(item, {who}))

    @rule(
        target=transfers,
        item=st.sampled_from(sorted(RUBRIC)),
        picks=st.sets(st.integers(0, HOUSEHOLDS - 1), min_size=2),
    )
    def award_batch(self, item, picks):
        """An award or a deduction to several households at once: all of it or none of it."""
        return multiple(*self.give(item, picks))

    def give(self, item: str, picks: set[int]) -> list[int]:
        """Award (or deduct) ``item`` to the ``picks`` through the service; the ids of the transfers made."""
        kind, points, cap = RUBRIC[item]
        picks = sorted(picks)
        over = cap is not None and any(self.item_conduct[(i, item, self.period)] + points > cap for i in picks)
        closed = self.period in self.closed
        key = self.key("award")
        if over or closed:
            # Both can hold at once; the service names whichever it checks first.
            expected = tuple(exc for exc, holds in ((CapExceeded, over), (MonthClosed, closed)) if holds)
            with pytest.raises(expected) as refused:
                self.award_call(item, picks, key)
            event(f"award refused: {refused.type.__name__}")
            return []
        made = self.award_call(item, picks, key)
        assert [t.household_id for t in made] == [self.households[i].id for i in picks]
        sign = 1 if kind == "award" else -1
        for who, transfer in zip(picks, made, strict=True):
            assert transfer.amount == points and transfer.conduct_delta == sign * points
            self.balances[who] += sign * points
            self.balances[ISSUANCE] -= sign * points
            self.record(transfer, who, item)
        self.awards_sent.append((key, item, picks, [t.id for t in made]))
        event(f"{kind} made: batch of {len(picks)}" if len(picks) > 1 else f"{kind} made")
        return [t.id for t in made]

    @rule(
        target=transfers,
        who=st.integers(0, HOUSEHOLDS - 1),
        how=st.sampled_from(["some", "all of it", "one more than all"]),
        some=st.integers(1, 12),
    )
    def redeem(self, who, how, some):
        """A plain guarded debit to the store: refused exactly when the balance is short, or the month closed."""
        household = self.households[who]
        # Right at the edge as often as not: spending the whole balance lands, one point more is refused.
        amount = {
            "some": some,
            "all of it": max(self.balances[who], 1),
            "one more than all": max(self.balances[who], 0) + 1,
        }[how]

        def debit():
            with clock.frozen_at(self.now), transaction.atomic():
                return books.post(
                    village=self.village,
                    postings=[
                        books.Posting(
                            debit=books.household_account(household),
                            credit=books.system_account(self.village, Account.Kind.STORE),
                            amount=amount,
                            code=Transfer.Code.REDEMPTION,
                            household=household,
                            guard=True,
                        )
                    ],
                    actor=self.actor,
                )

        if self.period in self.closed:
            with pytest.raises(MonthClosed):
                debit()
            event("redemption refused: MonthClosed")
            return multiple()
        if self.balances[who] < amount:
            with pytest.raises(InsufficientPoints):
                debit()
            event("redemption refused: InsufficientPoints")
            return multiple()
        (transfer,) = debit()
        self.balances[who] -= amount
        self.balances[STORE] += amount
        self.record(transfer, who, None)
        assert household_balance(household) >= 0
        event("redemption made")
        return transfer.id

    @rule(target=transfers, original=transfers, reason=st.sampled_from(["录错了", "重复录入", " "]))
    def reverse(self, original, reason):
        """Undo an earlier transfer: at most once, never a reversal or a redemption, always in the open month."""
        entry = self.entries[original]
        transfer = Transfer.objects.get(pk=original)

        def call():
            with clock.frozen_at(self.now):
                return transfer_reverse(
                    actor=self.actor, transfer=transfer, reason=reason, idempotency_key=self.key("reverse")
                )

        if not reason.strip() or entry.code == Transfer.Code.REDEMPTION:
            with pytest.raises(LedgerError) as refused:
                call()
            assert refused.type is LedgerError  # the plain refusal, not one of its subclasses
            event("reversal refused: blank reason or a redemption")
            return multiple()
        for refused_with, holds in (
            (NotReversible, entry.code == Transfer.Code.REVERSAL),
            (AlreadyReversed, entry.reversed),
            (MonthClosed, self.period in self.closed),
        ):
            if holds:
                with pytest.raises(refused_with):
                    call()
                event(f"reversal refused: {refused_with.__name__}")
                return multiple()
        reversal = call()
        assert reversal.reverses_id == original and reversal.code == Transfer.Code.REVERSAL
        assert reversal.amount == entry.amount and reversal.conduct_delta == -entry.conduct
        # The reversal moves the points back: from the original's credit account to its debit account.
        credited = entry.who if entry.code == Transfer.Code.AWARD else ISSUANCE
        debited = ISSUANCE if entry.code == Transfer.Code.AWARD else entry.who
        self.balances[credited] -= entry.amount
        self.balances[debited] += entry.amount
        entry.reversed = True
        self.record(reversal, entry.who, entry.item)
        event(f"reversal made ({entry.code}{', in a later month' if entry.period != self.period else ''})")
        return reversal.id

    @precondition(lambda self: self.awards_sent)
    @rule(index=st.integers(0, 1000), change=st.booleans())
    def replay(self, index, change):
        """The same key again: the same request returns the first transfers (even once the month is closed);
        a different request under that key is refused. Neither writes anything."""
        key, item, picks, ids = self.awards_sent[index % len(self.awards_sent)]
        if change:
            with pytest.raises(IdempotencyConflict):
                self.award_call(item, picks, key, memo="换了内容")
        else:
            assert [t.id for t in self.award_call(item, picks, key)] == ids

    @precondition(lambda self: any(entry.reversed for entry in self.entries.values()))
    @rule(index=st.integers(0, 1000))
    def reverse_again(self, index):
        """A second reversal of a reversed transfer (random draws from the bundle rarely hit one twice)."""
        reversed_ids = sorted(tid for tid, entry in self.entries.items() if entry.reversed)
        self.reverse(reversed_ids[index % len(reversed_ids)], reason="再冲一次")

    @rule(days=st.integers(1, 31), hours=st.integers(0, 23))
    def advance(self, days, hours):
        self.now += datetime.timedelta(days=days, hours=hours)

    @rule(action=st.sampled_from(["publish", "publish previous", "close", "close previous", "close now"]))
    def notice(self, action):
        """A month is published for objections; a month is closed after its deadline."""
        if action.startswith("publish"):
            self.publish(previous_month(self.period) if action.endswith("previous") else self.period)
        elif action == "close now":
            self.publish_wait_and_close()
        else:
            self.close(previous_month(self.period) if action.endswith("previous") else self.period)

    def publish(self, period):
        with clock.frozen_at(self.now):
            if period in self.notices:
                with pytest.raises(NoticeError):
                    notice_publish(actor=self.actor, village=self.village, period=period)
                return
            notice = notice_publish(actor=self.actor, village=self.village, period=period)
        assert notice.objection_deadline == self.today + datetime.timedelta(days=NOTICE_DAYS)
        self.notices[period] = notice.objection_deadline

    def close(self, period):
        """Only once published, past its deadline, and once."""
        deadline = self.notices.get(period)
        with clock.frozen_at(self.now):
            if deadline is None or period in self.closed or self.today <= deadline:
                with pytest.raises(NoticeError):
                    month_close(actor=self.actor, village=self.village, period=period)
                return
            notice = month_close(actor=self.actor, village=self.village, period=period)
        assert notice.is_closed
        self.closed[period] = self.now
        event("current month closed" if self.period == period else "past month closed")

    def publish_wait_and_close(self):
        """Publish the current month if need be, move the clock past its deadline and close it. If the deadline
        falls in the next month, the month closed is the previous one and the current month stays open."""
        period = self.period
        if period in self.closed:
            return
        if period not in self.notices:
            self.publish(period)
        deadline = self.notices[period]
        if self.today <= deadline:
            self.now += datetime.timedelta(days=(deadline - self.today).days + 1)
        self.close(period)

    # --- invariants ----------------------------------------------------------------------------------------
    # One invariant, so that each step costs a handful of queries: the suite runs 25 examples of 30 steps.

    @invariant()
    def books_hold(self):
        accounts = {a.id: a for a in Account.objects.filter(village=self.village)}
        index_of = {h.id: i for i, h in enumerate(self.households)}

        # The model's balances are the database's (households through the selector the app shows them with).
        by_holder = {index_of[a.household_id] if a.household_id else a.kind: a.balance for a in accounts.values()}
        for holder in [*range(HOUSEHOLDS), ISSUANCE, STORE]:
            assert by_holder.get(holder, 0) == self.balances[holder], holder
        assert household_balance(self.households[0]) == self.balances[0]

        # Replay the village's transfers in order: each account's balance is its credits − debits, no
        # redemption ever took a household below zero, and nothing landed in a month after it was closed.
        running: dict[int, int] = defaultdict(int)
        debits: dict[int, int] = defaultdict(int)
        credits: dict[int, int] = defaultdict(int)
        reversed_ids = []
        rows = (
            Transfer.objects.filter(village=self.village)
            .order_by("seq")
            .values_list(
                "code", "debit_account_id", "credit_account_id", "amount", "reverses_id", "period", "created_at"
            )
        )
        count = 0
        for code, debit, credit, amount, reverses_id, period, created_at in rows:
            count += 1
            assert period not in self.closed or created_at <= self.closed[period], f"landed in closed {period}"
            running[debit] -= amount
            running[credit] += amount
            debits[debit] += amount
            credits[credit] += amount
            if code == Transfer.Code.REDEMPTION:
                assert running[debit] >= 0, "a redemption took a household below zero"
            if reverses_id is not None:
                reversed_ids.append(reverses_id)
        assert count == len(self.entries)
        for account in accounts.values():
            assert (account.debits, account.credits) == (debits[account.id], credits[account.id])
            assert account.balance == credits[account.id] - debits[account.id] == running[account.id]

        # The village sums to zero, and so does the whole database (every example's village so far).
        assert sum(a.balance for a in accounts.values()) == 0
        assert (Account.objects.aggregate(total=Sum("balance"))["total"] or 0) == 0

        # Each transfer reversed at most once, and exactly those the model reversed.
        assert max(Counter(reversed_ids).values(), default=0) <= 1
        assert set(reversed_ids) == {tid for tid, entry in self.entries.items() if entry.reversed}

        # This month's conduct scores, as the rankings read them.
        summaries = dict(
            PeriodSummary.objects.filter(village=self.village, period=self.period).values_list(
                "household_id", "conduct"
            )
        )
        for who, household in enumerate(self.households):
            assert summaries.get(household.id, 0) == self.conduct[(who, self.period)], who
        assert conduct_score(self.households[0], self.period, self.period) == self.conduct[(0, self.period)]

        # And the books prove themselves: hash chain, balances, summaries.
        result = verify_ledger(village=self.village, record=False)
        assert result.ok, result.problem
        assert result.transfers == len(self.entries)


LedgerMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the shared checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestLedgerMachine = LedgerMachine.TestCase
