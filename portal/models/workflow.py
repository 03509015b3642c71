"""The family mottos' moderation workflow (家风家训审核) and its task, decided through ``points.scope``."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page, Task, TaskState, Workflow, WorkflowPage, WorkflowTask

from points.scope import Capability, scope_for
from portal.models.mottos import FamilyMottoIndexPage, FamilyMottoPage


class CommitteeApprovalTask(Task):
    """家风家训审核: the committee of the motto household's village (or the township and district staff over it)
    approves, which publishes the page and credits the motto points once, or sends it back with a comment.

    Wagtail's group approval would let one group moderate every village's mottos; this task asks ``points.scope``
    instead, so a committee sees and decides only its own villagers' mottos (and needs no page permissions).
    """

    @staticmethod
    def _village_of(obj):
        page = obj.specific if isinstance(obj, Page) else obj
        household_id = getattr(page, "household_id", None)
        if household_id is None:
            return None
        from points.models import Household

        return Household.objects.filter(pk=household_id).values_list("village_id", flat=True).first()

    def may_moderate(self, obj, user) -> bool:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return False
        if user.is_superuser:
            return True
        village_id = self._village_of(obj)
        return village_id is not None and scope_for(user).can(Capability.MANAGE_POINTS, village_id)

    def user_can_access_editor(self, obj, user):
        return self.may_moderate(obj, user)

    def locked_for_user(self, obj, user):
        return not self.may_moderate(obj, user)

    def user_can_lock(self, obj, user):
        return False

    def user_can_unlock(self, obj, user):
        return False

    def get_actions(self, obj, user):
        if not self.may_moderate(obj, user):
            return []
        return [
            ("reject", _("退回（写明原因）"), True),
            ("approve", _("通过并公布"), False),
            ("approve", _("通过并公布（附意见）"), True),
        ]

    def on_action(self, task_state, user, action_name, **kwargs):
        if not self.may_moderate(task_state.workflow_state.content_object, user):
            raise PermissionDenied
        return super().on_action(task_state, user, action_name, **kwargs)

    def get_task_states_user_can_moderate(self, user, **kwargs):
        states = self.task_states.filter(status=TaskState.STATUS_IN_PROGRESS)
        if getattr(user, "is_superuser", False):
            return states
        scope = scope_for(user)
        if Capability.MANAGE_POINTS not in scope.capabilities:
            return TaskState.objects.none()
        pages = FamilyMottoPage.objects.filter(household__village__in=scope.villages()).values_list("pk", flat=True)
        return states.filter(workflow_state__object_id__in=[str(pk) for pk in pages])

    @classmethod
    def get_description(cls):
        return _("该户所在村的村委（及其上级乡镇、区）审核")

    class Meta:
        verbose_name = _("村委审核任务")
        verbose_name_plural = _("村委审核任务")


MOTTO_WORKFLOW = "家风家训审核"


MOTTO_TASK = "村委审核家风家训"


def motto_workflow_for(index: FamilyMottoIndexPage):
    """The mottos' moderation workflow (one task: ``CommitteeApprovalTask``), made once and assigned to
    ``index`` unless the index already has a workflow of its own."""
    task, _created = CommitteeApprovalTask.objects.get_or_create(name=MOTTO_TASK)
    workflow, created = Workflow.objects.get_or_create(name=MOTTO_WORKFLOW)
    if created or not workflow.workflow_tasks.exists():
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    WorkflowPage.objects.get_or_create(page=index, defaults={"workflow": workflow})
    return workflow
