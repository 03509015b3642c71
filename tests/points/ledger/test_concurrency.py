"""The ledger under real concurrency (PostgreSQL only): guarded debits, overlapping batches, one key, one reversal.

Every thread has its own database connection (Django's are per thread) and closes it when done; all threads of a
race start together on a ``threading.Barrier``, and every join has a timeout, so a deadlock or a lost wake-up fails
the test instead of hanging the suite. SQLite takes its write lock at BEGIN (IMMEDIATE), so these races exist only
on PostgreSQL; without TEST_DATABASE_URL the tests are skipped. Transactional tests end with Django's flush, which
on PostgreSQL is a TRUNCATE: the append-only triggers refuse only UPDATE and DELETE.
"""

from collections import defaultdict

import pytest
from django.contrib.auth import get_user_model

from points.exceptions import AlreadyReversed, IdempotencyConflict, InsufficientPoints
from points.ledger.awards import points_award, transfer_reverse
from points.ledger.selectors import household_balance
from points.ledger.verify import verify_ledger
from points.models import Account, IdempotencyKey, LedgerHead, RubricCategory, RubricItem, Transfer
from tests.concurrency import error_types, race, values
from tests.factories import make_household, redeem

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def on_this_thread(user):
    """The user loaded on the calling thread's connection, with no scope cached by another thread."""
    return get_user_model().objects.get(pk=user.pk)


def assert_books_verify():
    result = verify_ledger()
    assert result.ok, result.problem


@pytest.fixture
def items(cast):
    category = RubricCategory.objects.create(name="孝老爱亲")
    make = RubricItem.objects.create
    return {
        "care": make(category=category, district=cast.district, name="照顾老人", points=10),
        "clean": make(category=category, district=cast.district, name="庭院整洁", points=3),
        "hundred": make(category=category, district=cast.district, name="见义勇为", points=100),
        "litter": make(category=category, district=cast.district, name="乱扔垃圾", points=5, kind="deduction"),
    }


def award(actor, village, item, households, key):
    return points_award(
        actor=on_this_thread(actor), village=village, rubric_item=item, households=households, idempotency_key=key
    )


# --- (a) twenty counters, one balance ---------------------------------------------------------------------------


def test_twenty_guarded_debits_of_ten_against_a_hundred(cast, items):
    household = cast.household_a
    award(cast.committee_a, cast.village_a, items["hundred"], [household], "seed")
    assert household_balance(household) == 100

    outcomes = race(*[lambda: redeem(household, 10, cast.storekeeper_a)] * 20)

    assert len(values(outcomes)) == 10, error_types(outcomes)
    assert error_types(outcomes) == {"InsufficientPoints": 10}
    assert all(isinstance(v, InsufficientPoints) for kind, v in outcomes if kind == "error")  # not a DB error
    assert household_balance(household) == 0
    store = Account.objects.get(village=cast.village_a, kind=Account.Kind.STORE)
    assert store.balance == 100
    # The ten winners' transfers follow each other in the chain, and the household never went below zero.
    redemptions = list(Transfer.objects.filter(code=Transfer.Code.REDEMPTION).order_by("seq"))
    assert [t.seq for t in redemptions] == list(range(2, 12))
    assert_books_verify()


# --- (b) overlapping batches, two villages at once --------------------------------------------------------------


def test_overlapping_batches_in_two_villages_neither_deadlock_nor_lose_a_point(cast, items):
    village_a, village_b = cast.village_a, cast.village_b
    in_a = [make_household(village_a, number=f"A{i:02d}", head=f"甲户{i:02d}") for i in range(60)]
    in_b = [make_household(village_b, number=f"B{i:02d}", head=f"乙户{i:02d}") for i in range(40)]
    # Half of village B's households already have accounts, half get them inside the race.
    award(cast.committee_b, village_b, items["clean"], in_b[:20], "b-seed")

    def batches(actor, village, households, label, plan):
        """One committee member entering several batches one after another; returns what each one moved."""

        def call():
            moved = []
            for n, (item, start) in enumerate(plan):
                chosen = households[start : start + 30]
                made = award(actor, village, items[item], list(reversed(chosen)) if n % 2 else chosen, f"{label}-{n}")
                moved.extend((t.household_id, t.conduct_delta) for t in made)  # ± amount: the balance's change
            return moved

        return call

    calls = [
        # Village A: four sessions at once, batches of 30 overlapping their neighbours' by 20, awards and deductions.
        batches(cast.committee_a, village_a, in_a, "a0", [("care", 0), ("litter", 20), ("clean", 10)]),
        batches(cast.committee_a, village_a, in_a, "a1", [("clean", 10), ("care", 30), ("litter", 0)]),
        batches(cast.committee_a, village_a, in_a, "a2", [("litter", 20), ("clean", 0), ("care", 10)]),
        batches(cast.committee_a, village_a, in_a, "a3", [("care", 30), ("care", 20), ("clean", 30)]),
        # Village B at the same time, by its own committee.
        batches(cast.committee_b, village_b, in_b, "b0", [("care", 0), ("clean", 10)]),
        batches(cast.committee_b, village_b, in_b, "b1", [("clean", 10), ("litter", 0)]),
    ]
    outcomes = race(*calls)

    assert error_types(outcomes) == {}, [value for kind, value in outcomes if kind == "error"]
    expected = defaultdict(int)
    for household in in_b[:20]:
        expected[household.id] += 3
    for moved in values(outcomes):
        for household_id, delta in moved:
            expected[household_id] += delta
    for household in in_a + in_b:
        assert household_balance(household) == expected[household.id], household.number
    made = sum(len(moved) for moved in values(outcomes))
    assert made == 30 * (3 * 4 + 2 * 2)
    for village in (village_a, village_b):
        assert LedgerHead.objects.get(village=village).seq == Transfer.objects.filter(village=village).count()
    assert Transfer.objects.count() == made + 20
    assert_books_verify()


# --- (c) one idempotency key from eight threads -----------------------------------------------------------------


def test_one_key_sent_by_eight_threads_makes_one_set_of_transfers(cast, items):
    households = [cast.household_a, cast.household_a2]

    outcomes = race(*[lambda: award(cast.committee_a, cast.village_a, items["care"], households, "same-key")] * 8)

    assert error_types(outcomes) == {}, error_types(outcomes)
    ids = [[t.id for t in made] for made in values(outcomes)]
    assert len(ids) == 8 and all(each == ids[0] for each in ids)
    assert sorted(Transfer.objects.values_list("id", flat=True)) == sorted(ids[0])
    assert IdempotencyKey.objects.filter(key="same-key").count() == 1
    assert [household_balance(h) for h in households] == [10, 10]
    assert_books_verify()


def test_one_key_with_two_different_requests_at_once_runs_only_one(cast, items):
    first = [cast.household_a]
    second = [cast.household_a, cast.household_a2]

    outcomes = race(
        *[lambda: award(cast.committee_a, cast.village_a, items["care"], first, "contested")] * 4,
        *[lambda: award(cast.committee_a, cast.village_a, items["care"], second, "contested")] * 4,
    )

    # Whichever request took the key first ran once; its four senders got its transfers, the others a refusal.
    made = values(outcomes)
    assert len(made) == 4, error_types(outcomes)
    assert error_types(outcomes) == {"IdempotencyConflict": 4}
    assert all(isinstance(v, IdempotencyConflict) for kind, v in outcomes if kind == "error")
    ids = {tuple(t.id for t in each) for each in made}
    assert len(ids) == 1
    assert sorted(Transfer.objects.values_list("id", flat=True)) == sorted(next(iter(ids)))
    assert_books_verify()


# --- (d) two reversals of one transfer --------------------------------------------------------------------------


def test_two_concurrent_reversals_of_one_transfer(cast, items):
    (original,) = award(cast.committee_a, cast.village_a, items["care"], [cast.household_a], "to-undo")

    def reverse(key):
        return lambda: transfer_reverse(
            actor=on_this_thread(cast.committee_a), transfer=original, reason="重复录入", idempotency_key=key
        )

    outcomes = race(reverse("undo-1"), reverse("undo-2"))

    (reversal,) = values(outcomes)
    assert error_types(outcomes) == {"AlreadyReversed": 1}
    assert all(isinstance(v, AlreadyReversed) for kind, v in outcomes if kind == "error")
    assert reversal.reverses_id == original.id
    assert Transfer.objects.filter(reverses=original).count() == 1
    assert household_balance(cast.household_a) == 0
    assert_books_verify()


def test_many_reversals_of_one_transfer_and_its_key_replayed(cast, items):
    """Six members reverse at once, two of them with the same key: one reversal; the key's twin gets it too."""
    (original,) = award(cast.committee_a, cast.village_a, items["litter"], [cast.household_a], "to-undo")

    def reverse(key):
        return lambda: transfer_reverse(
            actor=on_this_thread(cast.committee_a), transfer=original, reason="扣错了", idempotency_key=key
        )

    outcomes = race(*[reverse(f"undo-{n}") for n in range(4)], reverse("twin"), reverse("twin"))

    reversals = values(outcomes)
    assert Transfer.objects.filter(reverses=original).count() == 1
    winner = Transfer.objects.get(reverses=original)
    assert all(r.id == winner.id for r in reversals)
    # The winner, plus its twin if the twin key won; everyone else was told it is already reversed.
    assert len(reversals) in (1, 2)
    assert error_types(outcomes) == {"AlreadyReversed": 6 - len(reversals)}
    assert household_balance(cast.household_a) == 0
    assert_books_verify()
