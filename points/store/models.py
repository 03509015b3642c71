"""The village store (积分超市): products, the stock ledger, redemptions and reservations, stock-takes.

Stock is a ledger too: every change is an immutable ``StockMovement`` and ``Product.stock`` is kept on the row
in the same transaction, never below zero (a CHECK constraint). A redemption moves points (through
``points.ledger``) and stock in one transaction: every line or none.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from points import clock
from points.ledger.models import Transfer
from points.register.models import Household, Village


class Product(models.Model):
    """商品 of one village's store. Price and stock are whole numbers; past redemptions keep their price."""

    class Category(models.TextChoices):
        DAILY = "daily", _("日用品")
        GRAIN_OIL = "grain_oil", _("粮油")
        CLEANING = "cleaning", _("清洁用品")
        STATIONERY = "stationery", _("文具")
        FOOD = "food", _("食品")
        OTHER = "other", _("其他")

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="products", verbose_name=_("村"))
    name = models.CharField(_("名称"), max_length=60)
    category = models.CharField(_("类别"), max_length=12, choices=Category.choices, default=Category.DAILY)
    photo = models.ForeignKey(
        "wagtailimages.Image",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("照片"),
    )
    price = models.PositiveIntegerField(_("兑换积分"))
    unit = models.CharField(_("单位"), max_length=8, default="件")
    stock = models.PositiveIntegerField(_("库存"), default=0, editable=False)
    low_stock_threshold = models.PositiveIntegerField(_("低库存提醒"), default=5)
    active = models.BooleanField(_("上架"), default=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        ordering = ["village_id", "order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_not_negative"),
            models.CheckConstraint(
                condition=Q(price__gte=1, price__lte=100_000),
                name="product_price_range",
                violation_error_message=_("兑换积分应在 1 到 100000 之间"),
            ),
            models.UniqueConstraint(
                fields=["village", "name"],
                name="product_name_unique_in_village",
                violation_error_message=_("本村超市已有同名商品"),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_low(self) -> bool:
        return self.stock <= self.low_stock_threshold


class Redemption(models.Model):
    """兑换: at the counter (completed at once) or reserved from a phone (held, then fulfilled, cancelled or
    expired). ``transfer`` is the points debit; ``refund`` the credit back if it was cancelled or expired."""

    class Status(models.TextChoices):
        COMPLETED = "completed", _("已兑换")
        RESERVED = "reserved", _("已预约")
        FULFILLED = "fulfilled", _("已领取")
        CANCELLED = "cancelled", _("已取消")
        EXPIRED = "expired", _("已过期")

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+", verbose_name=_("村"))
    number = models.PositiveIntegerField(_("单号"))
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("户"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    total_points = models.PositiveIntegerField(_("积分合计"))
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="redemption")
    refund = models.OneToOneField(
        Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="refunded_redemption"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("时间"), default=clock.now)
    pickup_deadline = models.DateTimeField(_("领取截止"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("兑换")
        verbose_name_plural = _("兑换")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["village", "number"], name="redemption_number_unique_in_village"),
            models.CheckConstraint(
                condition=Q(status__in=["cancelled", "expired"], refund__isnull=False)
                | Q(~Q(status__in=["cancelled", "expired"]), refund__isnull=True),
                name="redemption_refund_iff_cancelled",
            ),
            models.CheckConstraint(
                condition=~Q(status="reserved") | Q(pickup_deadline__isnull=False),
                name="redemption_reserved_has_deadline",
            ),
        ]
        indexes = [
            # The expiry sweep: reservations past their deadline.
            models.Index(
                fields=["status", "pickup_deadline"], name="redemption_expiry_idx", condition=Q(status="reserved")
            ),
        ]

    def __str__(self):
        return f"{self.village_id}-{self.number:06d}"

    @property
    def receipt_number(self) -> str:
        return f"{self.village.code}-{self.number:06d}"


class RedemptionLine(models.Model):
    redemption = models.ForeignKey(Redemption, on_delete=models.PROTECT, related_name="lines")
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("商品"))
    product_name = models.CharField(_("商品"), max_length=60)
    quantity = models.PositiveIntegerField(_("数量"))
    unit_price = models.PositiveIntegerField(_("单价（积分）"))
    points = models.PositiveIntegerField(_("积分"))

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="redemption_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.product_name} × {self.quantity}"


class Stocktake(models.Model):
    """盘点: the storekeeper's counted quantities; each variance is recorded as a movement."""

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+", verbose_name=_("村"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("盘点时间"), default=clock.now)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("盘点")
        verbose_name_plural = _("盘点")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.village_id} {self.created_at:%Y-%m-%d}"


class StockMovement(models.Model):
    """One immutable change of a product's stock. ``quantity`` is signed; ``stock_after`` what it left."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("入库")
        DONATION = "donation", _("捐赠")
        REDEMPTION = "redemption", _("兑换")
        RETURN = "return", _("退回")
        ADJUSTMENT = "adjustment", _("调整")
        WRITE_OFF = "write_off", _("报损")
        STOCKTAKE = "stocktake", _("盘点差异")

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="movements", verbose_name=_("商品"))
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    quantity = models.IntegerField(_("数量"))
    stock_after = models.PositiveIntegerField(_("变动后库存"))
    donor_name = models.CharField(_("捐赠人"), max_length=60, blank=True)
    donor_public = models.BooleanField(_("同意公开捐赠人"), default=False)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    redemption = models.ForeignKey(Redemption, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    stocktake = models.ForeignKey(Stocktake, on_delete=models.PROTECT, null=True, blank=True, related_name="movements")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(_("时间"), default=clock.now)

    class Meta:
        verbose_name = _("库存变动")
        verbose_name_plural = _("库存变动")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="stock_movement_not_zero"),
            models.CheckConstraint(
                condition=~Q(kind="donation") | ~Q(donor_name=""), name="stock_donation_names_donor"
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["write_off", "adjustment"]) | ~Q(reason=""), name="stock_write_off_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["receipt", "donation", "return"], quantity__gt=0)
                | Q(kind__in=["redemption", "write_off"], quantity__lt=0)
                | Q(kind__in=["adjustment", "stocktake"]),
                name="stock_movement_sign_matches_kind",
            ),
        ]
        indexes = [models.Index(fields=["village", "kind", "-id"], name="stock_movement_kind_idx")]

    def __str__(self):
        return f"{self.product_id} {self.get_kind_display()} {self.quantity:+d}"
