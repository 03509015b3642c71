"""Family mottos are moderated by the household's own village committee (portal.models.CommitteeApprovalTask):
it approves (the page is published, the motto points credited once) or sends the motto back with a comment; a
committee of another village can neither see nor decide it."""

import pytest
from django.core.exceptions import PermissionDenied
from wagtail.models import TaskState

from points.models import Transfer
from portal.models import FamilyMottoPage, MottoCredit, motto_workflow_for
from portal.mottos import motto_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(cast, site_pages):
    motto_workflow_for(site_pages.motto_index)
    page = motto_submit(
        index=site_pages.motto_index,
        user=cast.resident_a,
        household=cast.household_a,  # the resident's own: motto_submit refuses any other
        motto="孝老爱亲，耕读传家",
        story="我家三代人都守着这八个字。",
    )
    assert not page.live and page.workflow_in_progress
    return page


def task_of(page):
    state = FamilyMottoPage.objects.get(pk=page.pk).current_workflow_task_state
    return state, state.task.specific


def test_the_households_committee_approves_and_the_motto_pays_once(cast, submitted):
    state, task = task_of(submitted)
    assert [name for name, _label, _comment in task.get_actions(submitted, cast.committee_a)] == [
        "reject",
        "approve",
        "approve",
    ]
    task.on_action(state, cast.committee_a, "approve", comment="同意公布")
    page = FamilyMottoPage.objects.get(pk=submitted.pk)
    assert page.live and not page.workflow_in_progress
    assert TaskState.objects.get(pk=state.pk).finished_by == cast.committee_a
    assert MottoCredit.objects.filter(page=page).count() == 1
    credits = Transfer.objects.filter(code=Transfer.Code.MOTTO, household=cast.household_a)
    assert credits.count() == 1
    page.save_revision(user=cast.committee_a).publish(user=None, skip_permission_checks=True)  # published again
    assert credits.count() == 1  # still once


def test_another_villages_committee_can_neither_see_nor_decide(cast, submitted):
    state, task = task_of(submitted)
    assert task.get_actions(submitted, cast.committee_b) == []
    assert task.locked_for_user(submitted, cast.committee_b) and not task.user_can_access_editor(
        submitted, cast.committee_b
    )
    assert list(task.get_task_states_user_can_moderate(cast.committee_b)) == []
    assert list(task.get_task_states_user_can_moderate(cast.committee_a)) == [TaskState.objects.get(pk=state.pk)]
    for outsider in (cast.committee_b, cast.resident_a, cast.stranger, cast.storekeeper_a):
        with pytest.raises(PermissionDenied):
            task.on_action(state, outsider, "approve")
    page = FamilyMottoPage.objects.get(pk=submitted.pk)
    assert not page.live and page.workflow_in_progress
    assert not Transfer.objects.filter(code=Transfer.Code.MOTTO).exists()


def test_sent_back_with_a_comment_stays_a_draft_and_pays_nothing(cast, submitted):
    state, task = task_of(submitted)
    task.on_action(state, cast.committee_a, "reject", comment="请补充家风故事的具体事例")
    page = FamilyMottoPage.objects.get(pk=submitted.pk)
    assert not page.live
    assert TaskState.objects.get(pk=state.pk).status == TaskState.STATUS_REJECTED
    assert TaskState.objects.get(pk=state.pk).comment == "请补充家风故事的具体事例"
    assert not Transfer.objects.filter(code=Transfer.Code.MOTTO).exists()


def test_the_committee_reviews_it_in_the_admin_without_page_permissions(client, cast, submitted):
    client.force_login(cast.committee_a)
    editor = client.get(f"/admin/pages/{submitted.pk}/edit/")
    assert editor.status_code == 200
    assert "通过并公布" in editor.content.decode()
    client.force_login(cast.committee_b)
    assert client.get(f"/admin/pages/{submitted.pk}/edit/").status_code in (302, 403)


def _editor_form(page, user, household):
    """The page editor's form as Wagtail builds it for ``user``, posted with ``household`` and the page's values."""
    form_class = FamilyMottoPage.get_edit_handler().get_form_class()
    data = {"title": page.title, "slug": page.slug, "motto": page.motto, "story": page.story, "household": household.pk}
    return form_class(data, instance=page, for_user=user, parent_page=page.get_parent())


def test_the_moderation_editor_cannot_move_a_motto_to_another_household(cast, submitted):
    """Issue 12, hole 8: the editor's household field let a committee move a pending motto into another village
    (who is paid, who moderates). Whatever is posted, the household stays."""
    page = FamilyMottoPage.objects.get(pk=submitted.pk)
    form = _editor_form(page, cast.committee_a, cast.household_b)

    assert form.fields["household"].disabled
    form.is_valid()
    assert form.cleaned_data["household"] == submitted.household


def test_a_new_motto_page_offers_only_households_the_editor_covers(cast, site_pages):
    form_class = FamilyMottoPage.get_edit_handler().get_form_class()
    form = form_class(instance=FamilyMottoPage(), for_user=cast.committee_a, parent_page=site_pages.motto_index)

    offered = set(form.fields["household"].queryset)

    assert cast.household_a in offered and cast.household_a2 in offered
    assert cast.household_b not in offered and cast.household_c not in offered
