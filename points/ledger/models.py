"""The ledger: accounts, immutable transfers, the rubric, claims, monthly notices and objections.

Double entry in the style of TigerBeetle: every movement of points is one ``Transfer`` of a positive whole
amount from a debit account to a credit account. Only ``points.ledger`` writes transfers; the database refuses
UPDATE and DELETE of them (triggers installed by migration 0003). Each village's transfers form a hash chain
whose head is kept on ``LedgerHead``; ``manage.py verify_ledger`` recomputes it.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from points import clock
from points.images import private_storage
from points.register.models import District, Household, Member, Village

GENESIS_HASH = "0" * 64


class Account(models.Model):
    """One per household, plus an issuance account (the source of awards) and a store account per village.

    ``balance`` = ``credits`` − ``debits`` is kept on the row by the ledger in the transaction of each transfer.
    A household's balance may go below zero only through a deduction; a redemption is refused first.
    """

    class Kind(models.TextChoices):
        HOUSEHOLD = "household", _("户")
        ISSUANCE = "issuance", _("发放")
        STORE = "store", _("积分超市")

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="accounts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    household = models.OneToOneField(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_account"
    )
    debits = models.BigIntegerField(default=0)
    credits = models.BigIntegerField(default=0)
    balance = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("积分账户")
        verbose_name_plural = _("积分账户")
        constraints = [
            models.CheckConstraint(condition=Q(balance=F("credits") - F("debits")), name="account_balance_is_sum"),
            models.CheckConstraint(condition=Q(debits__gte=0, credits__gte=0), name="account_totals_not_negative"),
            models.CheckConstraint(
                condition=Q(kind="household", household__isnull=False)
                | Q(~Q(kind="household"), household__isnull=True),
                name="account_household_iff_household_kind",
            ),
            models.UniqueConstraint(
                fields=["village", "kind"], condition=Q(household__isnull=True), name="one_system_account_per_kind"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.household_id or self.village_id}"


class LedgerHead(models.Model):
    """The head of a village's hash chain. Its row lock serializes the village's writers, so the chain is linear."""

    village = models.OneToOneField(Village, on_delete=models.PROTECT, primary_key=True, related_name="ledger_head")
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    last_verified_ok = models.BooleanField(null=True)

    class Meta:
        verbose_name = _("账本链头")
        verbose_name_plural = _("账本链头")

    def __str__(self):
        return f"{self.village_id}#{self.seq}"


class RubricCategory(models.Model):
    """积分细则的分类 (e.g. 孝老爱亲, 环境卫生, 遵纪守法)."""

    name = models.CharField(_("名称"), max_length=50, unique=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("细则分类")
        verbose_name_plural = _("细则分类")
        ordering = ["order", "id"]

    def __str__(self):
        return self.name


class RubricItem(models.Model):
    """积分细则: a named reason with points, award or deduction, and an optional per-household cap.

    District-wide items (``district`` set) apply to every village of the district; a village item that
    ``overrides`` one replaces it for that village. Editing an item never changes past transfers: each transfer
    copies the item's name and points when it is made.
    """

    class Kind(models.TextChoices):
        AWARD = "award", _("加分")
        DEDUCTION = "deduction", _("扣分")

    class CapPeriod(models.TextChoices):
        NONE = "none", _("不限")
        MONTH = "month", _("每月")
        YEAR = "year", _("每年")

    category = models.ForeignKey(RubricCategory, on_delete=models.PROTECT, related_name="items", verbose_name=_("分类"))
    district = models.ForeignKey(District, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("区"))
    village = models.ForeignKey(Village, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("村"))
    overrides = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="overridden_by",
        verbose_name=_("替代全区细则"),
    )
    name = models.CharField(_("名称"), max_length=80)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.AWARD)
    points = models.PositiveIntegerField(_("分值"))
    cap_period = models.CharField(_("上限周期"), max_length=5, choices=CapPeriod.choices, default=CapPeriod.NONE)
    cap_points = models.PositiveIntegerField(_("每户上限（分）"), null=True, blank=True)
    evidence_required = models.BooleanField(_("需要照片佐证"), default=False)
    active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("积分细则")
        verbose_name_plural = _("积分细则")
        ordering = ["category__order", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(district__isnull=False, village__isnull=True)
                | Q(district__isnull=True, village__isnull=False),
                name="rubric_item_district_xor_village",
                violation_error_message=_("细则须属于一个区或一个村"),
            ),
            models.CheckConstraint(
                condition=Q(points__gte=1, points__lte=1000),
                name="rubric_item_points_range",
                violation_error_message=_("分值应在 1 到 1000 之间"),
            ),
            models.CheckConstraint(
                # NULL passes a CHECK: a capped period needs cap_points spelled out as not null.
                condition=Q(cap_period="none", cap_points__isnull=True)
                | Q(~Q(cap_period="none"), cap_points__isnull=False, cap_points__gte=1),
                name="rubric_item_cap_consistent",
                violation_error_message=_("设了上限周期就要填每户上限，反之亦然"),
            ),
            models.CheckConstraint(
                condition=Q(overrides__isnull=True) | Q(village__isnull=False),
                name="rubric_item_only_village_overrides",
            ),
            models.UniqueConstraint(
                fields=["village", "overrides"],
                condition=Q(overrides__isnull=False),
                name="rubric_item_one_override_per_village",
                violation_error_message=_("本村已替代过这条全区细则"),
            ),
        ]

    def __str__(self):
        sign = "+" if self.kind == self.Kind.AWARD else "−"
        return f"{self.name}（{sign}{self.points}）"

    @property
    def signed_points(self) -> int:
        return self.points if self.kind == self.Kind.AWARD else -self.points


class Transfer(models.Model):
    """One immutable movement of points. Never updated or deleted: a mistake is undone by a reversal.

    ``household`` names the household the transfer concerns (for its statement); ``member`` the person who
    earned it; ``actor`` who recorded it and ``acted_for`` the resident a committee member acted for.
    ``conduct_delta`` is the transfer's signed effect on the conduct score (awards +, deductions −, and their
    reversals the opposite; redemptions 0). ``period`` is the month it belongs to, for notices and closing.
    """

    class Code(models.TextChoices):
        AWARD = "award", _("加分")
        DEDUCTION = "deduction", _("扣分")
        REDEMPTION = "redemption", _("兑换")
        REFUND = "refund", _("退还")
        VOTE = "vote", _("参与投票")
        MOTTO = "motto", _("家风家训")
        WINNER = "winner", _("评选获奖")
        REVERSAL = "reversal", _("冲正")
        EXPIRY = "expiry", _("过期")
        OPENING = "opening", _("期初")

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="transfers")
    seq = models.PositiveBigIntegerField()
    debit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    credit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    amount = models.PositiveBigIntegerField(_("分值"))
    code = models.CharField(_("类型"), max_length=12, choices=Code.choices)
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="transfers", verbose_name=_("户")
    )
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("成员")
    )
    rubric_item = models.ForeignKey(RubricItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    item_name = models.CharField(_("事由"), max_length=80, blank=True)
    conduct_delta = models.IntegerField(default=0)
    period = models.DateField(_("所属月份"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    acted_for = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    memo = models.CharField(_("备注"), max_length=200, blank=True)
    photo = models.ForeignKey("wagtailimages.Image", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversal", verbose_name=_("冲正的记录")
    )
    reason = models.CharField(_("冲正原因"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"), default=clock.now)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("积分流水")
        verbose_name_plural = _("积分流水")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(condition=~Q(debit_account=F("credit_account")), name="transfer_accounts_differ"),
            models.CheckConstraint(
                condition=Q(code="reversal", reverses__isnull=False) | Q(~Q(code="reversal"), reverses__isnull=True),
                name="transfer_reversal_names_original",
            ),
            models.CheckConstraint(condition=~Q(code="reversal") | ~Q(reason=""), name="transfer_reversal_has_reason"),
            models.UniqueConstraint(fields=["village", "seq"], name="transfer_seq_unique_in_village"),
        ]
        indexes = [
            # A household's statement, newest first.
            models.Index(fields=["household", "-id"], name="transfer_household_idx"),
            # The public notice: a village's month by kind.
            models.Index(fields=["village", "period", "code"], name="transfer_notice_idx"),
            # Caps: an item's transfers to a household in a period.
            models.Index(fields=["household", "rubric_item", "period"], name="transfer_cap_idx"),
        ]

    def __str__(self):
        return f"#{self.seq} {self.get_code_display()} {self.amount}"

    @property
    def signed_amount_for_household(self) -> int:
        """The transfer seen from its household: + credited, − debited."""
        if self.household_id is None:
            return 0
        account = getattr(self.household, "ledger_account", None)
        if account is not None and self.debit_account_id == account.id:
            return -self.amount
        return self.amount


class PeriodSummary(models.Model):
    """A household's conduct per month, kept by the ledger in the transfer's transaction.

    Rankings and stars sum at most twelve of these rows per household, so their cost does not grow with the
    number of transfers.
    """

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+")
    # No index of its own: the unique (household, period) index leads with it. A second, narrower index let
    # PostgreSQL's planner (before ANALYZE) read every month of a household to keep twelve (bench/ledger.py).
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="period_summaries", db_index=False)
    period = models.DateField()
    conduct = models.IntegerField(default=0)
    awarded = models.PositiveIntegerField(default=0)
    deducted = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("月度品行分")
        verbose_name_plural = _("月度品行分")
        constraints = [
            models.UniqueConstraint(fields=["household", "period"], name="period_summary_unique"),
        ]
        indexes = [models.Index(fields=["village", "period"], name="period_summary_village_idx")]

    def __str__(self):
        return f"{self.household_id} {self.period:%Y-%m} {self.conduct}"


class IdempotencyKey(models.Model):
    """The first result of a write, under the key its caller chose. Same key and request: same result."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    operation = models.CharField(max_length=40)
    request_hash = models.CharField(max_length=64)
    result = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["actor", "key"], name="idempotency_key_unique_per_actor")]

    def __str__(self):
        return self.key


class Claim(models.Model):
    """积分申报: a resident (or a grid worker for them) asks for an award; the committee approves or rejects."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已通过")
        REJECTED = "rejected", _("未通过")

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="claims", verbose_name=_("户"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("成员"))
    rubric_item = models.ForeignKey(RubricItem, on_delete=models.PROTECT, verbose_name=_("细则"))
    text = models.TextField(_("说明"), max_length=1000)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("申报时间"), default=clock.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reject_reason = models.CharField(_("未通过原因"), max_length=200, blank=True)
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="claim")

    class Meta:
        verbose_name = _("积分申报")
        verbose_name_plural = _("积分申报")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending", transfer__isnull=True, reviewed_at__isnull=True)
                | Q(status="approved", transfer__isnull=False, reviewed_at__isnull=False)
                | Q(status="rejected", transfer__isnull=True, reviewed_at__isnull=False) & ~Q(reject_reason=""),
                name="claim_status_consistent",
            ),
        ]
        indexes = [models.Index(fields=["village", "status"], name="claim_queue_idx")]

    def __str__(self):
        return f"{self.household} · {self.rubric_item.name}"


class ClaimPhoto(models.Model):
    """Up to three photos per claim, re-encoded by ``points.images.photo_clean`` and kept in the private storage:
    only the claim's household and those who review it see them (the admin's and the portal's scoped views)."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="photos")
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+")
    image = models.ImageField(upload_to="claims/%Y/%m/", storage=private_storage)

    def __str__(self):
        return self.image.name


class MonthlyNotice(models.Model):
    """积分公示: a village's month published for objections; closed after its notice period.

    No transfer may land in a closed month: corrections go into the open month.
    """

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="notices", verbose_name=_("村"))
    period = models.DateField(_("月份"))
    published_at = models.DateTimeField(_("公示时间"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    objection_deadline = models.DateField(_("异议截止日期"))
    closed_at = models.DateTimeField(_("结账时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    head_hash = models.CharField(_("公示时的链头"), max_length=64)

    class Meta:
        verbose_name = _("积分公示")
        verbose_name_plural = _("积分公示")
        ordering = ["-period"]
        constraints = [models.UniqueConstraint(fields=["village", "period"], name="notice_unique_per_month")]

    def __str__(self):
        return f"{self.village} {self.period:%Y-%m}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class Objection(models.Model):
    """异议: a resident questions a transfer during its month's notice period; the committee must answer."""

    class Status(models.TextChoices):
        OPEN = "open", _("待答复")
        UPHELD = "upheld", _("异议成立")
        DISMISSED = "dismissed", _("异议不成立")

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+")
    notice = models.ForeignKey(MonthlyNotice, on_delete=models.PROTECT, related_name="objections")
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="objections", verbose_name=_("流水"))
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+", verbose_name=_("提出户"))
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(_("提出时间"), default=clock.now)
    text = models.TextField(_("异议内容"), max_length=1000)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    answer = models.CharField(_("答复"), max_length=500, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    reversal = models.OneToOneField(Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("异议")
        verbose_name_plural = _("异议")
        ordering = ["-filed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", answered_at__isnull=True)
                | Q(~Q(status="open"), answered_at__isnull=False) & ~Q(answer=""),
                name="objection_answer_consistent",
            ),
            models.CheckConstraint(
                condition=~Q(status="upheld") | Q(reversal__isnull=False), name="objection_upheld_has_reversal"
            ),
        ]

    def __str__(self):
        return f"{self.transfer} · {self.get_status_display()}"
