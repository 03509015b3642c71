"""Nominations in the admin: the committee nominates (a household search as you type) and reviews residents'
nominations."""

from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from wagtail.admin import messages

from campaigns.admin.common import (
    SEARCH_LIMIT,
    Phase,
    campaign_households,
    campaign_or_404,
    campaign_villages,
    nomination_or_404,
    render,
)
from campaigns.admin.forms import (
    HouseholdSearchForm,
    NominateForm,
    ReviewForm,
)
from campaigns.models import Campaign, Nomination
from campaigns.policy import eligibility_problem
from campaigns.services import nomination_review, nomination_submit
from points.admin.forms import show_refusal
from points.exceptions import HeheError
from points.images import photo_response
from points.register.selectors import household_search
from points.scope import scope_for


def _household_result(household, url: str) -> dict:
    """What the household picker shows: never a phone or an ID number."""
    return {
        "id": household.pk,
        "number": household.number,
        "head": household.head_name,
        "village": household.village.name,
        "archived": household.is_archived,
        "url": f"{url}?household={household.pk}#nominate",
    }


def _search_households(request, campaign, query: str):
    query = (query or "").strip()[:50]
    if not query:
        return []
    found = household_search(scope=scope_for(request.user), query=query).filter(
        village__in=campaign_villages(request, campaign)
    )
    return list(found.select_related("village").order_by("village__code", "number")[: SEARCH_LIMIT + 1])


@require_GET
def household_search_json(request, pk: int):
    """The nomination picker: households of the campaign's villages matching a number, a name or pinyin."""
    campaign = campaign_or_404(request, pk)
    url = reverse("campaigns_nominations", args=[campaign.pk])
    found = _search_households(request, campaign, request.GET.get("q", ""))
    return JsonResponse({"results": [_household_result(h, url) for h in found[:SEARCH_LIMIT]]})


def nominations(request, pk: int):
    campaign = campaign_or_404(request, pk)
    households = campaign_households(request, campaign)
    if request.method == "POST":
        form = NominateForm(request.POST, request.FILES, campaign=campaign, households=households)
        if form.is_valid():
            data = form.cleaned_data
            try:
                nomination = nomination_submit(
                    actor=request.user,
                    campaign=campaign,
                    household=form.household,
                    member=data["member_obj"],
                    story=data["story"],
                    photos=data["photos"],
                )
            except (HeheError, ValidationError) as exc:
                show_refusal(form, exc)
            else:
                messages.success(request, _("已提名「%(name)s」，已列入候选名单") % {"name": nomination.display_name})
                return redirect("campaigns_nominations", pk=campaign.pk)
        return _nominations_page(request, campaign, form=form)
    chosen = None
    raw = request.GET.get("household", "")
    if raw.isdigit() and len(raw) < 19:
        chosen = households.filter(pk=int(raw)).prefetch_related("members").first()
    form = NominateForm(campaign=campaign, households=households, household=chosen)
    return _nominations_page(request, campaign, form=form)


def _nominations_page(request, campaign, *, form, review_forms=None, status=200):
    search = HouseholdSearchForm(request.GET or None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    results = _search_households(request, campaign, query) if query else []
    all_nominations = list(
        campaign.nominations.select_related("household", "member", "village", "nominated_by", "reviewed_by")
        .prefetch_related("photos")
        .order_by("id")
    )
    review_forms = review_forms or {}
    pending = [n for n in all_nominations if n.status == Nomination.Status.PENDING]
    for nomination in pending:
        nomination.review_form = review_forms.get(nomination.pk) or ReviewForm()
        nomination.problem = eligibility_problem(campaign, nomination.household)
    chosen = form.household
    nominated = {n.member_id if n.member_id else ("h", n.household_id) for n in all_nominations}
    context = {
        "campaign": campaign,
        "active_tab": "nominations",
        "form": form,
        "search": search,
        "query": query,
        "results": results[:SEARCH_LIMIT],
        "more": len(results) > SEARCH_LIMIT,
        "chosen": chosen,
        "chosen_problem": eligibility_problem(campaign, chosen) if chosen else None,
        "chosen_nominated": chosen is not None and ("h", chosen.pk) in nominated,
        "can_nominate": campaign.phase == Phase.NOMINATING,
        "pending": pending,
        "approved": [n for n in all_nominations if n.status == Nomination.Status.APPROVED],
        "rejected": [n for n in all_nominations if n.status == Nomination.Status.REJECTED],
        "search_url": reverse("campaigns_household_search", args=[campaign.pk]),
        "is_person": campaign.nominee_type == Campaign.NomineeType.PERSON,
    }
    title = _("候选与提名 · %(title)s") % {"title": campaign.title}
    return render(request, "nominations.html", context, title=title, icon="user", status=status)


@require_POST
def nomination_review_view(request, pk: int):
    nomination = nomination_or_404(request, pk)
    campaign = campaign_or_404(request, nomination.campaign_id)
    form = ReviewForm(request.POST)
    if form.is_valid():
        approve = form.cleaned_data["decision"] == ReviewForm.APPROVE
        try:
            nomination_review(
                actor=request.user, nomination=nomination, approve=approve, reason=form.cleaned_data["reason"]
            )
        except (HeheError, ValidationError) as exc:
            show_refusal(form, exc)
        else:
            text = _("已通过「%(name)s」的提名") if approve else _("已退回「%(name)s」的提名")
            messages.success(request, text % {"name": nomination.display_name})
            return redirect("campaigns_nominations", pk=campaign.pk)
    nomination.refresh_from_db()
    if nomination.status != Nomination.Status.PENDING:
        # Reviewed meanwhile (another tab, a colleague): its card is gone, so say why above the list.
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("campaigns_nominations", pk=campaign.pk)
    blank = NominateForm(campaign=campaign, households=campaign_households(request, campaign))
    return _nominations_page(request, campaign, form=blank, review_forms={nomination.pk: form})


def nomination_photo(request, pk: int, photo_id: int):
    """One of a nomination's photos, for those who run its campaign (the private storage has no URL)."""
    nomination = nomination_or_404(request, pk)
    photo = nomination.photos.filter(pk=photo_id).first()
    if photo is None:
        raise Http404
    return photo_response(photo.image)
