"""The register: district → township → village → household → member, and who may act where.

Every tenant row carries ``village_id`` (members too) so the schema can be distributed by village. Phones and ID
numbers live only on ``Member`` and never leave the admin: public pages, logs and URLs must not show them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel


class District(models.Model):
    """区: the top tier (the women's federation works here)."""

    name = models.CharField(_("名称"), max_length=50)
    code = models.CharField(_("代码"), max_length=20, unique=True)

    class Meta:
        verbose_name = _("区")
        verbose_name_plural = _("区")

    def __str__(self):
        return self.name


class Township(models.Model):
    """乡镇/街道."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="townships", verbose_name=_("区"))
    name = models.CharField(_("名称"), max_length=50)
    code = models.CharField(_("代码"), max_length=20, unique=True)

    class Meta:
        verbose_name = _("乡镇")
        verbose_name_plural = _("乡镇")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Village(models.Model):
    """村/社区: the tenant. Its code prefixes household numbers when a resident signs in (``QS01-023``)."""

    township = models.ForeignKey(Township, on_delete=models.PROTECT, related_name="villages", verbose_name=_("乡镇"))
    name = models.CharField(_("名称"), max_length=50)
    code = models.CharField(
        _("代码"),
        max_length=20,
        unique=True,
        help_text=_("字母和数字，用于居民登录，如 QS01"),
    )
    notice_days = models.PositiveSmallIntegerField(
        _("公示期（天）"), default=7, help_text=_("每月积分公示后，居民可在这些天内提出异议")
    )
    mask_names = models.BooleanField(_("公示时隐去姓名中间字"), default=True, help_text=_("如 张三丰 显示为 张*丰"))
    pickup_days = models.PositiveSmallIntegerField(
        _("预约领取期限（天）"), default=3, help_text=_("居民预约的商品须在这些天内领取，逾期自动取消并退还积分")
    )
    star_thresholds = models.JSONField(
        _("星级门槛"),
        default=list,
        blank=True,
        help_text=_("全年品行分达到这些分数分别评为一至五星，如 [30, 60, 90, 120, 150]"),
    )
    red_black_list = models.BooleanField(
        _("公开红黑榜"),
        default=False,
        help_text=_("在村页面和排行榜上公开红榜（文明积分靠前的户）和黑榜（有扣分的户），姓名按上面的设置隐去"),
    )

    class Meta:
        verbose_name = _("村")
        verbose_name_plural = _("村")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=~Q(code__contains="-"), name="village_code_has_no_dash"),
            models.CheckConstraint(condition=Q(notice_days__lte=60), name="village_notice_days_at_most_60"),
            models.CheckConstraint(
                condition=Q(pickup_days__gte=1, pickup_days__lte=30), name="village_pickup_days_range"
            ),
        ]

    def __str__(self):
        return self.name


class VillageGroup(models.Model):
    """村民小组 (组): households belong to one; awards can target a whole group."""

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="groups", verbose_name=_("村"))
    name = models.CharField(_("名称"), max_length=30)

    class Meta:
        verbose_name = _("村民小组")
        verbose_name_plural = _("村民小组")
        ordering = ["village_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["village", "name"],
                name="group_name_unique_in_village",
                violation_error_message=_("该村已有同名的组"),
            )
        ]

    def __str__(self):
        return self.name


class Household(ClusterableModel):
    """户: the unit that earns and spends points. Archived, never deleted once it has history.

    ``head_name`` and ``head_initials`` are copies of the head member's name, kept by ``household_save`` so that
    the counter can find a household among thousands with one indexed query.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("在册")
        ARCHIVED = "archived", _("已归档")

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="households", verbose_name=_("村"))
    number = models.CharField(_("户号"), max_length=20)
    group = models.ForeignKey(VillageGroup, on_delete=models.PROTECT, related_name="households", verbose_name=_("组"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    head_name = models.CharField(_("户主"), max_length=50, blank=True, editable=False)
    head_initials = models.CharField(_("户主拼音首字母"), max_length=100, blank=True, editable=False)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.ACTIVE, editable=False)
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True, editable=False)
    archived_reason = models.CharField(_("归档原因"), max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户籍")
        ordering = ["village_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["village", "number"],
                name="household_number_unique_in_village",
                violation_error_message=_("该村已有此户号"),
            ),
            models.CheckConstraint(condition=~Q(number=""), name="household_number_not_empty"),
            models.CheckConstraint(
                condition=Q(status="active", archived_at__isnull=True)
                | Q(status="archived", archived_at__isnull=False),
                name="household_archived_has_time",
            ),
        ]
        indexes = [
            # The counter's search: "head name starts with" within one village.
            models.Index(fields=["village", "head_name"], name="household_head_name_idx"),
        ]

    def __str__(self):
        return f"{self.number} {self.head_name}".strip()

    @property
    def login_number(self) -> str:
        """What a resident types to sign in: village code and household number, e.g. ``QS01-023``."""
        return f"{self.village.code}-{self.number}"

    @property
    def is_archived(self) -> bool:
        return self.status == self.Status.ARCHIVED


class Member(models.Model):
    """家庭成员. Points belong to the household; the member gets the credit. Phone and ID number are private."""

    class Relation(models.TextChoices):
        HEAD = "head", _("户主")
        SPOUSE = "spouse", _("配偶")
        SON = "son", _("儿子")
        DAUGHTER = "daughter", _("女儿")
        DAUGHTER_IN_LAW = "daughter_in_law", _("儿媳")
        SON_IN_LAW = "son_in_law", _("女婿")
        GRANDSON = "grandson", _("孙子")
        GRANDDAUGHTER = "granddaughter", _("孙女")
        FATHER = "father", _("父亲")
        MOTHER = "mother", _("母亲")
        SIBLING = "sibling", _("兄弟姐妹")
        OTHER = "other", _("其他")

    class Gender(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")

    household = ParentalKey(Household, on_delete=models.CASCADE, related_name="members", verbose_name=_("户"))
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+", editable=False)
    name = models.CharField(_("姓名"), max_length=50)
    name_initials = models.CharField(_("拼音首字母"), max_length=100, blank=True, editable=False)
    relation = models.CharField(_("与户主关系"), max_length=20, choices=Relation.choices)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    birth_year = models.PositiveSmallIntegerField(_("出生年份"), null=True, blank=True)
    phone = models.CharField(_("手机号"), max_length=11, blank=True, help_text=_("仅村委可见，不在公开页面显示"))
    id_number = models.CharField(_("身份证号"), max_length=18, blank=True, help_text=_("仅村委可见，不在公开页面显示"))

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["household_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["household"], condition=Q(relation="head"), name="one_head_per_household"),
            models.CheckConstraint(condition=~Q(name=""), name="member_name_not_empty"),
            models.CheckConstraint(condition=Q(gender__in=["M", "F"]), name="member_gender_valid"),
            models.CheckConstraint(
                condition=Q(birth_year__isnull=True) | Q(birth_year__gte=1900, birth_year__lte=2100),
                name="member_birth_year_range",
            ),
        ]
        indexes = [
            # Sign-in by phone looks members up by phone.
            models.Index(fields=["phone"], name="member_phone_idx", condition=~Q(phone="")),
        ]

    def __str__(self):
        return self.name


class HouseholdEvent(models.Model):
    """The register's history: created, edited, moved, archived, restored, imported, password issued.

    PROTECT makes the database refuse to delete a household that has history; ``detail`` never holds a phone or
    ID number.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("登记")
        UPDATED = "updated", _("修改")
        MOVED = "moved", _("迁移")
        ARCHIVED = "archived", _("归档")
        RESTORED = "restored", _("恢复")
        IMPORTED = "imported", _("导入")
        PASSWORD_ISSUED = "password_issued", _("发放居民密码")

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="events", verbose_name=_("户"))
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("事项"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    detail = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("户籍记录")
        verbose_name_plural = _("户籍记录")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.household_id}"


class StaffRole(models.Model):
    """Who a staff user is and where: the single input of ``points.scope``.

    The unit the role applies to is checked by the database: a district admin names a district, township staff a
    township, village roles a village.
    """

    class Role(models.TextChoices):
        DISTRICT_ADMIN = "district_admin", _("区管理员")
        TOWNSHIP_STAFF = "township_staff", _("乡镇干部")
        COMMITTEE = "committee", _("村委")
        GRID_WORKER = "grid_worker", _("网格员")
        STOREKEEPER = "storekeeper", _("超市管理员")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_role")
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    district = models.ForeignKey(District, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("区"))
    township = models.ForeignKey(Township, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("乡镇"))
    village = models.ForeignKey(Village, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("村"))

    class Meta:
        verbose_name = _("工作人员角色")
        verbose_name_plural = _("工作人员角色")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role="district_admin", district__isnull=False, township__isnull=True, village__isnull=True)
                    | Q(role="township_staff", district__isnull=True, township__isnull=False, village__isnull=True)
                    | Q(
                        role__in=["committee", "grid_worker", "storekeeper"],
                        district__isnull=True,
                        township__isnull=True,
                        village__isnull=False,
                    )
                ),
                name="staff_role_unit_matches_role",
            ),
        ]

    def __str__(self):
        unit = self.district or self.township or self.village
        return f"{self.get_role_display()} · {unit}"


class ResidentAccount(models.Model):
    """A household's sign-in. The committee issues or resets its password through ``resident_password_issue``."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="resident")
    household = models.OneToOneField(Household, on_delete=models.PROTECT, related_name="account")
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("发放时间"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("居民账号")
        verbose_name_plural = _("居民账号")

    def __str__(self):
        return str(self.household_id)
