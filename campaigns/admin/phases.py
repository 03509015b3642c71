"""A campaign's own admin page and its phase buttons (开始提名, 开始投票, 结束投票)."""

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail.admin import messages

from campaigns.admin.common import (
    NEXT_ACTION,
    Phase,
    campaign_or_404,
    detail_url,
    next_phase,
    render,
    turnout_label,
    with_turnout,
)
from campaigns.admin.forms import AdvanceForm
from campaigns.models import Campaign, Nomination, ResultObjection
from campaigns.services import campaign_advance
from points import clock
from points.admin.forms import show_refusal
from points.exceptions import HeheError


def detail(request, pk: int):
    campaign = campaign_or_404(request, pk)
    return _detail_page(request, campaign, AdvanceForm())


def _detail_page(request, campaign, form, status=200):
    following = next_phase(campaign)
    campaign = (
        with_turnout(Campaign.objects.filter(pk=campaign.pk)).select_related("village", "township", "district").get()
    )
    counts = dict(
        Nomination.objects.filter(campaign=campaign).values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    context = {
        "campaign": campaign,
        "active_tab": "detail",
        "form": form,
        "next_phase": following,
        "next_label": NEXT_ACTION.get(following),
        # Started by hand before its date, voting still opens only at ``voting_starts``: say so at the button.
        "early_voting": following == Phase.VOTING and clock.now() < campaign.voting_starts,
        "changes": campaign.phase_changes.select_related("actor").order_by("at", "id"),
        "turnout": turnout_label(campaign),
        "approved_count": counts.get(Nomination.Status.APPROVED, 0),
        "pending_count": counts.get(Nomination.Status.PENDING, 0),
        "open_objections": campaign.objections.filter(status=ResultObjection.Status.OPEN).count(),
    }
    return render(request, "detail.html", context, title=campaign.title, icon="success", status=status)


@require_POST
def advance(request, pk: int):
    campaign = campaign_or_404(request, pk)
    form = AdvanceForm(request.POST)
    if form.is_valid():
        try:
            campaign = campaign_advance(
                actor=request.user, campaign=campaign, to=form.cleaned_data["to"], note=form.cleaned_data["note"]
            )
        except (HeheError, ValidationError) as exc:
            show_refusal(form, exc)
        else:
            messages.success(
                request,
                _("「%(title)s」已进入「%(phase)s」阶段")
                % {"title": campaign.title, "phase": campaign.get_phase_display()},
            )
            return redirect(detail_url(campaign))
    campaign.refresh_from_db()
    return _detail_page(request, campaign, form)
