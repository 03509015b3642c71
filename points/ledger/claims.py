"""积分申报: residents (or grid workers for them) claim an award; the committee approves or rejects it."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from points import clock
from points.exceptions import ClaimError, OutOfScope
from points.images import photo_clean
from points.ledger import books
from points.ledger.awards import points_award, rubric_for_village
from points.models import Claim, ClaimPhoto, Household, Member, RubricItem
from points.scope import RESIDENT, Capability, scope_for

MAX_PHOTOS = 3
MAX_TEXT = 1000


def _may_claim_for(actor, household: Household) -> bool:
    scope = scope_for(actor)
    if scope.role == RESIDENT:
        return scope.household_id == household.id
    return scope.can(Capability.SUBMIT_CLAIMS, household.village_id)


@books.atomic
def claim_submit(
    *,
    actor,
    household: Household,
    rubric_item: RubricItem,
    text: str,
    photos=(),
    member: Member | None = None,
    idempotency_key: str | None = None,
) -> Claim:
    """A claim for the committee to review. With ``idempotency_key`` (the phone form sends one per form it
    shows), a double tap or a resent form makes one claim: the same key and request return the first claim, the
    key with another request is refused."""
    if idempotency_key is None:
        return _claim_create(
            actor=actor, household=household, rubric_item=rubric_item, text=text, photos=photos, member=member
        )
    photos = list(photos or [])
    request = {
        "household": household.pk,
        "item": rubric_item.pk,
        "text": (text or "").strip(),
        "member": getattr(member, "pk", None),
        "photos": [[getattr(p, "name", ""), getattr(p, "size", None)] for p in photos],
    }
    made: list[Claim] = []

    def run():
        made.append(
            _claim_create(
                actor=actor, household=household, rubric_item=rubric_item, text=text, photos=photos, member=member
            )
        )
        return {"claim": made[0].pk}

    result, replayed = books.idempotent(
        actor=actor, key=idempotency_key, operation="claim_submit", request=request, run=run
    )
    return Claim.objects.get(pk=result["claim"]) if replayed else made[0]


def _claim_create(*, actor, household, rubric_item, text, photos, member) -> Claim:
    if not _may_claim_for(actor, household):
        raise OutOfScope()
    if household.is_archived:
        raise ClaimError(_("该户已归档"))
    errors = {}
    text = (text or "").strip()
    if not text:
        errors["text"] = [_("请写明做了什么好事")]
    elif len(text) > MAX_TEXT:
        errors["text"] = [_("说明最多 %(max)s 字") % {"max": MAX_TEXT}]
    usable = rubric_for_village(household.village).filter(pk=rubric_item.pk, kind=RubricItem.Kind.AWARD)
    if not usable.exists():
        errors["rubric_item"] = [_("只能申报本村启用的加分细则")]
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = [_("最多上传 %(max)s 张照片") % {"max": MAX_PHOTOS}]
    elif rubric_item.evidence_required and not photos:
        errors["photos"] = [_("该细则需要照片佐证")]
    photo_errors = []
    cleaned = []
    for photo in photos[:MAX_PHOTOS]:
        try:
            cleaned.append(photo_clean(photo))  # re-encoded from its pixels, renamed: nothing of the upload is kept
        except ValidationError as exc:
            photo_errors.extend(exc.messages)
    if photo_errors:
        errors.setdefault("photos", []).extend(photo_errors)
    if member is not None and member.household_id != household.id:
        errors["member"] = [_("所选成员不属于该户")]
    if errors:
        raise ValidationError(errors)
    claim = Claim.objects.create(
        village_id=household.village_id,
        household=household,
        member=member,
        rubric_item=rubric_item,
        text=text,
        submitted_by=actor,
    )
    for photo in cleaned:
        ClaimPhoto.objects.create(claim=claim, village_id=household.village_id, image=photo)
    return claim


def _lock_pending(claim: Claim, actor) -> Claim:
    claim = (
        Claim.objects.select_for_update(of=("self",), no_key=True)
        .select_related("household", "rubric_item")
        .get(pk=claim.pk)
    )
    if not scope_for(actor).can(Capability.MANAGE_POINTS, claim.village_id):
        raise OutOfScope()
    if claim.status != Claim.Status.PENDING:
        raise ClaimError(_("该申报已审核（%(status)s）") % {"status": claim.get_status_display()})
    return claim


@books.atomic
def claim_approve(*, actor, claim: Claim, memo: str = "") -> Claim:
    """Approve: the award is made through the ledger (once: the claim row is locked and must be pending)."""
    claim = _lock_pending(claim, actor)
    (transfer,) = points_award(
        actor=actor,
        village=claim.household.village,
        rubric_item=claim.rubric_item,
        households=[claim.household],
        member=claim.member,
        memo=memo or _("申报：%(text)s") % {"text": claim.text[:150]},
        idempotency_key=f"claim-{claim.pk}",
    )
    claim.status = Claim.Status.APPROVED
    claim.transfer = transfer
    claim.reviewed_by = actor
    claim.reviewed_at = clock.now()
    claim.save(update_fields=["status", "transfer", "reviewed_by", "reviewed_at"])
    return claim


@books.atomic
def claim_reject(*, actor, claim: Claim, reason: str) -> Claim:
    claim = _lock_pending(claim, actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写未通过的原因")]})
    claim.status = Claim.Status.REJECTED
    claim.reject_reason = reason[:200]
    claim.reviewed_by = actor
    claim.reviewed_at = clock.now()
    claim.save(update_fields=["status", "reject_reason", "reviewed_by", "reviewed_at"])
    return claim
