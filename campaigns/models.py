"""Selection campaigns (评选): nominations, secret ballots, tallies and winners.

Secrecy is structural. ``BallotRecord`` says that a household voted (one per household per campaign, a
database constraint) and holds its participation credit; ``Ballot`` holds the choices under a random receipt
code, with a random primary key and no time, so neither ids nor timestamps line the two tables up. No foreign
key leads from a household, a member, a user or a ballot record to a ballot.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from points import clock
from points.images import private_storage
from points.models import District, Household, Member, Township, Transfer, Village


class Campaign(models.Model):
    class Kind(models.TextChoices):
        GOOD_MOTHER_IN_LAW = "good_mother_in_law", _("好婆婆")
        GOOD_DAUGHTER_IN_LAW = "good_daughter_in_law", _("好媳妇")
        BEAUTIFUL_FAMILY = "beautiful_family", _("最美家庭")
        STAR_HOUSEHOLD = "star_household", _("星级文明户")
        FAMILY_TRADITION = "family_tradition", _("好家风")

    class Level(models.TextChoices):
        VILLAGE = "village", _("村级")
        TOWNSHIP = "township", _("乡镇级")
        DISTRICT = "district", _("区级")

    class NomineeType(models.TextChoices):
        PERSON = "person", _("个人")
        HOUSEHOLD = "household", _("家庭")

    class Phase(models.TextChoices):
        DRAFT = "draft", _("草稿")
        NOMINATING = "nominating", _("提名中")
        VOTING = "voting", _("投票中")
        CLOSED = "closed", _("投票结束")
        PUBLISHED = "published", _("已公布")

    kind = models.CharField(_("类别"), max_length=24, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    level = models.CharField(_("范围"), max_length=10, choices=Level.choices)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("区"))
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("乡镇")
    )
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, null=True, blank=True, related_name="campaigns", verbose_name=_("村")
    )
    nominee_type = models.CharField(_("候选类型"), max_length=10, choices=NomineeType.choices)
    rule_no_deduction = models.BooleanField(_("今年无扣分记录"), default=True)
    rule_min_stars = models.PositiveSmallIntegerField(_("至少几星"), default=0)
    choices_per_ballot = models.PositiveSmallIntegerField(_("每票可选人数"), default=1)
    winners_count = models.PositiveSmallIntegerField(_("评出名额"), default=1)
    participation_points = models.PositiveIntegerField(_("投票积分"), default=2)
    winner_points = models.PositiveIntegerField(_("获奖积分"), default=50)
    nominating_starts = models.DateTimeField(_("提名开始"))
    voting_starts = models.DateTimeField(_("投票开始"))
    voting_ends = models.DateTimeField(_("投票截止"))
    notice_days = models.PositiveSmallIntegerField(_("结果公示期（天）"), default=5)
    phase = models.CharField(_("阶段"), max_length=12, choices=Phase.choices, default=Phase.DRAFT)
    results_released_at = models.DateTimeField(_("公布计票时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("公布获奖时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("评选")
        verbose_name_plural = _("评选")
        ordering = ["-voting_starts", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level="village", village__isnull=False, township__isnull=False)
                | Q(level="township", village__isnull=True, township__isnull=False)
                | Q(level="district", village__isnull=True, township__isnull=True),
                name="campaign_scope_matches_level",
            ),
            models.CheckConstraint(
                condition=Q(nominating_starts__lte=models.F("voting_starts"))
                & Q(voting_starts__lt=models.F("voting_ends")),
                name="campaign_dates_in_order",
                violation_error_message=_("日期须依次为：提名开始 ≤ 投票开始 < 投票截止"),
            ),
            models.CheckConstraint(
                condition=Q(choices_per_ballot__gte=1, choices_per_ballot__lte=20, winners_count__gte=1),
                name="campaign_counts_sane",
            ),
            models.CheckConstraint(condition=Q(rule_min_stars__lte=5), name="campaign_min_stars_at_most_5"),
        ]

    def __str__(self):
        return self.title

    def villages(self):
        """The villages whose households may vote and be nominated."""
        if self.level == self.Level.VILLAGE:
            return Village.objects.filter(pk=self.village_id)
        if self.level == self.Level.TOWNSHIP:
            return Village.objects.filter(township_id=self.township_id)
        return Village.objects.filter(township__district_id=self.district_id)

    def covers_village(self, village: Village) -> bool:
        if self.level == self.Level.VILLAGE:
            return village.pk == self.village_id
        if self.level == self.Level.TOWNSHIP:
            return village.township_id == self.township_id
        return village.township.district_id == self.district_id


class PhaseChange(models.Model):
    """Every move between phases, with who made it (``actor`` empty: moved by its dates)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="phase_changes")
    from_phase = models.CharField(max_length=12, choices=Campaign.Phase.choices)
    to_phase = models.CharField(max_length=12, choices=Campaign.Phase.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField(default=clock.now)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.from_phase} → {self.to_phase}"


class Nomination(models.Model):
    """候选: a person (member) or a household, with a story and photos; approved by the committee."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已通过")
        REJECTED = "rejected", _("未通过")

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="nominations")
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="nominations")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True, related_name="nominations")
    story = models.TextField(_("事迹"), max_length=3000)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    nominated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    nominated_at = models.DateTimeField(default=clock.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.CharField(_("未通过原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("候选")
        verbose_name_plural = _("候选")
        ordering = ["campaign_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "household"],
                condition=Q(member__isnull=True),
                name="nomination_household_once",
                violation_error_message=_("该户已被提名"),
            ),
            models.UniqueConstraint(
                fields=["campaign", "member"],
                condition=Q(member__isnull=False),
                name="nomination_member_once",
                violation_error_message=_("此人已被提名"),
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reject_reason=""), name="nomination_rejection_has_reason"
            ),
        ]

    def __str__(self):
        return self.member.name if self.member_id else f"{self.household.head_name}家"

    @property
    def display_name(self) -> str:
        return str(self)


class NominationPhoto(models.Model):
    """A nomination's photos, re-encoded by ``points.images.photo_clean`` and kept in the private storage: shown
    to those who run the campaign and, once the nomination is approved, to the voters who may see the campaign,
    through scoped views only. A winner's photo on the honor roll is a separate, published Wagtail image."""

    nomination = models.ForeignKey(Nomination, on_delete=models.CASCADE, related_name="photos")
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+")
    image = models.ImageField(upload_to="nominations/%Y/%m/", storage=private_storage)

    def __str__(self):
        return self.image.name


class BallotRecord(models.Model):
    """That a household voted in a campaign (never what it chose), and the participation credit it earned."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("手机投票")
        PAPER = "paper", _("纸质选票")

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="ballot_records")
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="ballot_records")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    cast_at = models.DateTimeField(default=clock.now)
    credit = models.OneToOneField(Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "household"], name="one_ballot_per_household"),
        ]
        indexes = [models.Index(fields=["campaign", "village"], name="ballot_record_turnout_idx")]

    def __str__(self):
        return f"{self.campaign_id}/{self.household_id}"


def new_receipt() -> str:
    """A receipt code a voter can copy from a phone: 10 characters, unambiguous letters and digits."""
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


class Ballot(models.Model):
    """The choices of one ballot, found by its receipt code. Random key, no time, no link to who cast it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="ballots")
    receipt = models.CharField(max_length=12, default=new_receipt)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "receipt"], name="ballot_receipt_unique")]

    def __str__(self):
        return self.receipt


class BallotChoice(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    ballot = models.ForeignKey(Ballot, on_delete=models.PROTECT, related_name="choices")
    nomination = models.ForeignKey(Nomination, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ballot", "nomination"], name="ballot_choice_unique"),
        ]

    def __str__(self):
        return f"{self.ballot_id}:{self.nomination_id}"


class Winner(models.Model):
    """A confirmed winner: citation, photo, rank; ``tie_note`` records the committee's decision on a tie."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="winners")
    nomination = models.OneToOneField(Nomination, on_delete=models.PROTECT, related_name="winner")
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+")
    rank = models.PositiveSmallIntegerField(_("名次"))
    votes = models.PositiveIntegerField(_("得票"))
    citation = models.TextField(_("颁奖词"), max_length=1000)
    photo = models.ForeignKey("wagtailimages.Image", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    tie_note = models.CharField(_("并列票数的处理"), max_length=300, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(default=clock.now)
    credit = models.OneToOneField(Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("获奖")
        verbose_name_plural = _("获奖")
        ordering = ["campaign_id", "rank", "id"]

    def __str__(self):
        return f"{self.campaign} · {self.nomination}"


class ResultObjection(models.Model):
    """异议 on a campaign's published results, answered publicly by the committee."""

    class Status(models.TextChoices):
        OPEN = "open", _("待答复")
        UPHELD = "upheld", _("异议成立")
        DISMISSED = "dismissed", _("异议不成立")

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="objections")
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(default=clock.now)
    text = models.TextField(_("异议内容"), max_length=1000)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    answer = models.CharField(_("答复"), max_length=500, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-filed_at"]

    def __str__(self):
        return f"{self.campaign_id} {self.get_status_display()}"
