"""The demo seeder writes a year of history through the real services, and running it again doubles nothing."""

import io

import pytest
from django.core.management import call_command

from points.models import Claim, MonthlyNotice, Objection, PeriodSummary, ResidentAccount, Transfer, Village
from points.verify import verify_ledger


def seed(households=8):
    out = io.StringIO()
    call_command("seed_demo", households=households, stdout=out)
    return out.getvalue()


def counts():
    return {
        "transfers": Transfer.objects.count(),
        "claims": Claim.objects.count(),
        "notices": MonthlyNotice.objects.count(),
        "objections": Objection.objects.count(),
        "residents": ResidentAccount.objects.count(),
        "summaries": PeriodSummary.objects.count(),
    }


@pytest.mark.slow
def test_seed_demo_writes_a_verifiable_year_and_is_idempotent(db):
    first_output = seed()
    first = counts()
    second_output = seed()
    assert counts() == first  # nothing doubled
    assert "已有积分流水，保持不变" in second_output and "账本校验通过" in first_output

    assert verify_ledger().ok
    villages = list(Village.objects.all())
    assert len(villages) == 4
    for village in villages:
        assert village.star_thresholds == [30, 60, 90, 120, 150]
        transfers = Transfer.objects.filter(village=village)
        assert transfers.filter(code=Transfer.Code.AWARD).count() > 100
        assert transfers.filter(code=Transfer.Code.DEDUCTION).exists()
        # A committee reversal with a reason, besides the one an upheld objection makes.
        reversals = transfers.filter(code=Transfer.Code.REVERSAL)
        assert reversals.exclude(reason__startswith="异议成立").filter(reason__contains="户号选错").exists()
        # A year of months, in order: the chain's times never go backwards.
        times = list(transfers.order_by("seq").values_list("created_at", flat=True))
        assert times == sorted(times)
        assert transfers.values("period").distinct().count() >= 11
        notices = MonthlyNotice.objects.filter(village=village)
        assert notices.filter(closed_at__isnull=False).count() >= 10
        assert notices.filter(closed_at__isnull=True).count() == 1  # the one still taking objections
        objections = Objection.objects.filter(village=village)
        upheld = objections.get(status=Objection.Status.UPHELD)
        assert upheld.reversal.reverses == upheld.transfer and upheld.answer
        assert objections.filter(status=Objection.Status.DISMISSED).exists()
        assert {o.filed_by_id for o in objections} <= set(
            ResidentAccount.objects.filter(village=village).values_list("user_id", flat=True)
        )
        claims = Claim.objects.filter(village=village)
        assert {c.status for c in claims} == {"pending", "approved", "rejected"}
        assert all(c.reject_reason for c in claims.filter(status="rejected"))
    # 柳溪村's own item replaces the district's there, and only there.
    assert not Transfer.objects.filter(village__code="LX02", item_name="乱扔垃圾").exists()
    assert not Transfer.objects.exclude(village__code="LX02").filter(item_name="乱扔垃圾（含向溪河倾倒）").exists()
    # Redemptions are the store's to seed, not this history's.
    assert not Transfer.objects.filter(code=Transfer.Code.REDEMPTION).exists()
