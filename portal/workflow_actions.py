"""``WAGTAIL_FINISH_WORKFLOW_ACTION`` (a module of its own: Wagtail imports it while its models load)."""


def finish_workflow(workflow_state, user=None):
    """Publish what the workflow approved. A family motto is published on the approver's authority from its
    task (``portal.models.CommitteeApprovalTask``: a committee has no page permissions); anything else as
    Wagtail's own action does, with the approver's permissions checked."""
    from wagtail.models import Page

    from portal.models import FamilyMottoPage

    obj = workflow_state.content_object
    motto = isinstance(obj, Page) and obj.specific_class is FamilyMottoPage
    obj.get_latest_revision().publish(user=user, skip_permission_checks=motto)
