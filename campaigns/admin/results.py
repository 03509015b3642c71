"""The tally and its release, the winners, and the objections to the results, in the admin."""

from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail.admin import messages

from campaigns.admin.common import Phase, campaign_or_404, detail_url, objection_or_404, render
from campaigns.admin.forms import (
    ObjectionAnswerForm,
    WinnersForm,
)
from campaigns.models import ResultObjection
from campaigns.results import result_objection_answer, results_release, winners_confirm
from campaigns.selectors import counts_visible, results_for, turnout
from points.admin.forms import show_refusal
from points.exceptions import HeheError


def _tally_page(request, campaign, *, error=None, status=200):
    # While voting runs, only turnout: no count (nor an order of nominees) reaches anyone's screen.
    show_counts = counts_visible(campaign)
    context = {
        "campaign": campaign,
        "active_tab": "tally",
        "result": results_for(request.user, campaign) if show_counts else turnout(campaign),
        "show_counts": show_counts,
        "error": error,
    }
    title = _("计票 · %(title)s") % {"title": campaign.title}
    return render(request, "tally.html", context, title=title, icon="table", status=status)


def tally_view(request, pk: int):
    return _tally_page(request, campaign_or_404(request, pk))


@require_POST
def release(request, pk: int):
    campaign = campaign_or_404(request, pk)
    try:
        campaign = results_release(actor=request.user, campaign=campaign)
    except (HeheError, ValidationError) as exc:
        message = getattr(exc, "message", None) or " ".join(exc.messages)
        return _tally_page(request, campaign, error=str(message))
    messages.success(request, _("计票结果已公布：村民可凭回执码查到自己的选票。下一步请确认获奖"))
    return redirect("campaigns_winners", pk=campaign.pk)


def winners(request, pk: int):
    campaign = campaign_or_404(request, pk)
    if not counts_visible(campaign):
        # The winners' form lists the nominees by their votes: nothing of it exists before voting has ended.
        messages.warning(request, _("投票结束后才能确认获奖"))
        return redirect("campaigns_tally", pk=campaign.pk)
    result = results_for(request.user, campaign)
    form = WinnersForm(request.POST if request.method == "POST" else None, rows=result["rows"], user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            confirmed = winners_confirm(actor=request.user, campaign=campaign, picks=form.picks())
        except (HeheError, ValidationError) as exc:
            show_refusal(form, exc)
        else:
            values = {"count": len(confirmed), "points": campaign.winner_points}
            if campaign.winner_points:
                text = _("已确认 %(count)s 位获奖者并公布到光荣榜，每位获奖者已加 %(points)s 分") % values
            else:
                text = _("已确认 %(count)s 位获奖者并公布到光荣榜") % values
            messages.success(request, text)
            return redirect(detail_url(campaign))
        campaign.refresh_from_db()
    context = {
        "campaign": campaign,
        "active_tab": "winners",
        "form": form,
        "rows": list(form.bound_rows()),
        "result": result,
        "show_counts": True,
        "ready": campaign.phase == Phase.CLOSED and campaign.results_released_at is not None,
        "show_form": campaign.phase == Phase.CLOSED or form.is_bound,
        "winners": campaign.winners.select_related(
            "nomination", "nomination__household", "nomination__member", "photo"
        ),
    }
    title = _("确认获奖 · %(title)s") % {"title": campaign.title}
    return render(request, "winners.html", context, title=title, icon="success")


def objections(request, pk: int):
    return _objections_page(request, campaign_or_404(request, pk))


def _objections_page(request, campaign, forms=None):
    forms = forms or {}
    items = list(campaign.objections.select_related("household", "answered_by").order_by("status", "-filed_at"))
    for objection in items:
        objection.form = forms.get(objection.pk) or ObjectionAnswerForm()
    context = {
        "campaign": campaign,
        "active_tab": "objections",
        "open": [o for o in items if o.status == ResultObjection.Status.OPEN],
        "answered": [o for o in items if o.status != ResultObjection.Status.OPEN],
    }
    title = _("结果异议 · %(title)s") % {"title": campaign.title}
    return render(request, "objections.html", context, title=title, icon="help")


@require_POST
def objection_answer(request, pk: int):
    objection = objection_or_404(request, pk)
    campaign = campaign_or_404(request, objection.campaign_id)
    form = ObjectionAnswerForm(request.POST)
    if form.is_valid():
        upheld = form.cleaned_data["decision"] == ObjectionAnswerForm.UPHELD
        try:
            result_objection_answer(
                actor=request.user, objection=objection, upheld=upheld, answer=form.cleaned_data["answer"]
            )
        except (HeheError, ValidationError) as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("已答复，答复将与评选结果一同公开"))
            return redirect("campaigns_objections", pk=campaign.pk)
    return _objections_page(request, campaign, {objection.pk: form})
