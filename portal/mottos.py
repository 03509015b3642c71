"""Family mottos (家风家训): a resident's submission becomes a draft page in Wagtail's moderation workflow
(``motto_submit``, which also decides who may submit for a household), and its first publication credits the
household once (``MottoCredit``, ``motto_credit``, connected to ``page_published`` in ``portal.apps``).
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from wagtail.images import get_image_model

from points.exceptions import OutOfScope
from points.images import photo_clean
from points.scope import RESIDENT, Capability, scope_for
from portal.models.mottos import FamilyMottoIndexPage, FamilyMottoPage, MottoCredit

# Points credited once when a household's motto is first published (a village setting in a later issue).
MOTTO_POINTS = 10

MSG_NOT_YOURS = _("只有本户居民，或本村可代为申报的工作人员，才能为该户提交家风家训")


def may_submit_motto(user, household) -> bool:
    """A resident for their own household; staff who may file claims for the village's households (a grid worker
    or the committee, for an elder without a phone) for one of that village. Nobody else."""
    scope = scope_for(user)
    if scope.role == RESIDENT:
        return scope.household_id == household.pk
    return scope.can(Capability.SUBMIT_CLAIMS, household.village_id)


def motto_submit(*, index: FamilyMottoIndexPage, user, household, motto: str, story: str = "", photo=None):
    """A household's motto as a DRAFT page under ``index``, its first revision saved and the moderation workflow
    started (when the tree has one), all or nothing. Refused (``OutOfScope``) unless ``may_submit_motto``."""
    from points import clock
    from points.privacy import mask_name

    if not may_submit_motto(user, household):
        raise OutOfScope(MSG_NOT_YOURS)
    with transaction.atomic():
        image = None
        if photo:
            photo = photo_clean(photo)  # re-encoded from its pixels, renamed: nothing of the upload is kept
            image = get_image_model().objects.create(
                title=_("%(village)s %(number)s 户家风照片")
                % {"village": household.village.name, "number": household.number},
                file=photo,
                uploaded_by_user=user,
            )
        name = mask_name(household.head_name) if household.village.mask_names else household.head_name
        page = FamilyMottoPage(
            title=_("%(name)s家的家风家训") % {"name": name},
            slug=f"motto-{household.pk}-{clock.now():%Y%m%d%H%M%S%f}",
            household=household,
            motto=motto,
            story=story,
            photo=image,
            live=False,
            owner=user,
        )
        index.add_child(instance=page)
        page.save_revision(user=user, log_action=True)
        workflow = page.get_workflow()
        if workflow is not None:
            workflow.start(page, user)
    return page


def motto_credit(sender, instance, revision=None, **kwargs):
    """On publication: the household's motto points, once (``MottoCredit`` holds the guard)."""
    from django.utils.translation import gettext_noop

    from points.exceptions import HeheError
    from points.ledger import books
    from points.ledger.awards import points_grant
    from points.models import Transfer

    if MottoCredit.objects.filter(page_id=instance.pk).exists():
        return
    actor = (revision.user if revision is not None else None) or instance.owner
    try:
        with transaction.atomic(using=books.ledger_db()):
            transfer = points_grant(
                actor=actor,
                household=instance.household,
                amount=MOTTO_POINTS,
                code=Transfer.Code.MOTTO,
                item_name=books.stored_text(gettext_noop("家风家训")),
                memo=instance.motto[:100],
            )
            MottoCredit.objects.create(page=instance, transfer=transfer)
    except IntegrityError:
        return  # published twice at once: the other publication credited it
    except HeheError:
        return  # an archived household: the motto is published, no points are due
