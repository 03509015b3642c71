"""The resident's campaign pages (评选): the list, one campaign with its nominees, voting, nominating, the results
with the receipt lookup, and an objection to the results.

A campaign is found among ``visible_campaigns`` of the signed-in resident (drafts never show); anything else reads
as 404. The household is always the scope's. Ballots are secret: the answer to a vote is rendered straight from
the POST (never a redirect, a flash message or the session, any of which would keep the receipt next to the
household) and shows the receipt code, not the choices; pages say only whether the household voted
(``BallotRecord``). Results and the receipt lookup are public once released, since a receipt is meant to be
checked by anyone; before that only the campaign's residents learn that the count is not out yet.

The small reads below (did this household vote, the approved nominees, a household by its number) belong in a
``campaigns/selectors.py`` when that module exists.
"""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from campaigns.ballots import ballot_cast
from campaigns.exceptions import AlreadyVoted, NotEligible, ResultsHidden
from campaigns.models import BallotRecord, Campaign, Nomination, NominationPhoto
from campaigns.policy import visible_campaigns
from campaigns.results import result_objection_deadline, result_objection_file, result_objections_open
from campaigns.selectors import (
    approved_nominees,
    household_voted,
    receipt_lookup,
    results_for,
    visible_campaign,
    voting_open,
)
from campaigns.services import nomination_submit
from points import clock
from points.admin.forms import show_refusal
from points.exceptions import HeheError, IdempotencyConflict
from points.images import photo_response
from points.models import Household
from points.privacy import mask_numbers
from points.register.identifiers import parse_login_number
from points.register.selectors import village_by_code
from points.scope import RESIDENT, scope_for
from portal.forms import MSG_STALE_FORM, BallotForm, NominationForm, ObjectionForm, ReceiptLookupForm
from portal.views.common import own_household, resident_only

Phase = Campaign.Phase
RECENT_SHOWN = 10
MSG_ALREADY_VOTED = gettext_noop("本户已投票。每户只能投一次，选票不能更改。")
MSG_NOT_ELIGIBLE = gettext_noop("不符合评选条件：%(rule)s")
MSG_NOMINATED = gettext_noop("提名已提交，村委审核通过后列入候选名单。")
MSG_NOT_NOMINATING = gettext_noop("现在不是提名阶段")
MSG_OBJECTION_SENT = gettext_noop("异议已提交，村委会公开答复。")
MSG_NOT_PUBLISHED = gettext_noop("获奖名单公布后才能提出异议")
MSG_NOTICE_OVER = gettext_noop("结果公示期已过，不能再提出异议")

# --- reads ------------------------------------------------------------------------------------------------------


def _visible_campaign(user, campaign_id: int) -> Campaign:
    campaign = visible_campaign(user, campaign_id)
    if campaign is None:
        raise Http404
    return campaign


def _nominees(campaign: Campaign) -> list[Nomination]:
    rows = approved_nominees(campaign)
    for nomination in rows:
        nomination.public_story = mask_numbers(nomination.story)
    return rows


def _nominee_household(campaign: Campaign, own: Household, raw: str) -> Household | None:
    """The household a resident names by its login number (QS01-023) or by its number in the resident's own
    village, if the campaign covers it; otherwise None (one answer for "no such household" and "not in this
    campaign")."""
    parsed = parse_login_number(raw)
    if parsed is None:
        return None
    code, number = parsed
    village = village_by_code(code) if code else own.village
    if village is None or not campaign.covers_village(village):
        return None
    return Household.objects.select_related("village").filter(village=village, number__iexact=number).first()


# --- pages ------------------------------------------------------------------------------------------------------


@resident_only
def campaigns(request, household):
    """评选投票: campaigns open now (nominating, voting) and recent ones, with "本户已投票" where it applies."""
    rows = list(
        visible_campaigns(request.user)
        .exclude(phase=Phase.DRAFT)
        .select_related("village", "township")
        .order_by("-voting_starts", "-id")[:50]
    )
    voted = set(
        BallotRecord.objects.filter(household=household, campaign__in=[c.pk for c in rows]).values_list(
            "campaign_id", flat=True
        )
    )
    for campaign in rows:
        campaign.voted = campaign.pk in voted
        campaign.voting_open = voting_open(campaign)
    context = {
        "household": household,
        "current": [c for c in rows if c.phase in (Phase.NOMINATING, Phase.VOTING)],
        "recent": [c for c in rows if c.phase in (Phase.CLOSED, Phase.PUBLISHED)][:RECENT_SHOWN],
    }
    return render(request, "portal/campaigns.html", context)


def _campaign_page(request, household, campaign, *, form, refusal: str = ""):
    voted = household_voted(campaign, household)
    context = {
        "household": household,
        "campaign": campaign,
        "nominees": _nominees(campaign),
        "voted": voted,
        "voting_open": voting_open(campaign),
        "voting_over": campaign.phase == Phase.VOTING and clock.now() >= campaign.voting_ends,
        "form": form,
        "chosen": form.chosen(),
        "refusal": refusal,
        "description": mask_numbers(campaign.description),
        "objections_open": result_objections_open(campaign),
    }
    return render(request, "portal/campaign_detail.html", context)


@resident_only
def campaign(request, household, campaign_id):
    """One campaign: phase, rules, nominees with stories and photos; during voting the ballot (if not yet cast)."""
    return _campaign_page(request, household, _visible_campaign(request.user, campaign_id), form=BallotForm())


def nominee_photo(request, campaign_id, photo_id):
    """An approved nominee's photo, for those who may see the campaign (the private storage has no URL)."""
    campaign = _visible_campaign(request.user, campaign_id)
    photo = (
        NominationPhoto.objects.filter(
            pk=photo_id, nomination__campaign=campaign, nomination__status=Nomination.Status.APPROVED
        )
        .select_related("nomination")
        .first()
    )
    if photo is None:
        raise Http404
    return photo_response(photo.image)


@never_cache
@resident_only
@require_POST
def campaign_vote(request, household, campaign_id):
    """``ballot_cast`` for the household; the answer shows the receipt code and never the choices."""
    campaign = _visible_campaign(request.user, campaign_id)
    form = BallotForm(request.POST)
    refusal = ""
    if form.is_valid():
        try:
            receipt = ballot_cast(
                actor=request.user,
                campaign=campaign,
                nominee_ids=form.cleaned_data["nominees"],
                idempotency_key=form.key,
            )
        except AlreadyVoted:
            refusal = _(MSG_ALREADY_VOTED)
        except IdempotencyConflict:  # this page's key was used for other choices: the first ballot stands
            refusal = _(MSG_ALREADY_VOTED) if household_voted(campaign, household) else str(MSG_STALE_FORM)
        except HeheError as exc:
            refusal = str(exc.message)
        else:
            context = {"household": household, "campaign": campaign, "receipt": receipt}
            return render(request, "portal/campaign_receipt.html", context)
    return _campaign_page(request, household, campaign, form=form, refusal=refusal)


@resident_only
def campaign_nominate(request, household, campaign_id):
    """提名 during the nominating phase → ``nomination_submit`` (pending the committee's review)."""
    campaign = _visible_campaign(request.user, campaign_id)
    posted = request.method == "POST"
    form = NominationForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        household=household,
        person=campaign.nominee_type == Campaign.NomineeType.PERSON,
        find_household=lambda raw: _nominee_household(campaign, household, raw),
    )
    refusal = "" if campaign.phase == Phase.NOMINATING else _(MSG_NOT_NOMINATING)
    if posted and form.is_valid():
        try:
            nomination_submit(
                actor=request.user,
                campaign=campaign,
                household=form.nominee_household,
                member=form.nominee_member,
                story=form.cleaned_data["story"],
                photos=form.cleaned_data["photos"],
            )
        except NotEligible as exc:
            form.add_error(None, _(MSG_NOT_ELIGIBLE) % {"rule": exc.message})
        except (HeheError, ValidationError) as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _(MSG_NOMINATED))
            return redirect("portal:campaign", campaign_id=campaign.pk)
    context = {"household": household, "campaign": campaign, "form": form, "refusal": refusal}
    return render(request, "portal/campaign_nominate.html", context)


@never_cache
def campaign_results(request, campaign_id):
    """计票结果: public once released (counts, turnout, winners, the receipt lookup); before that a resident of
    the campaign reads "计票结果尚未公布" and anyone else is asked to sign in."""
    scope = scope_for(request.user)
    household = own_household(scope) if scope.role == RESIDENT else None
    campaign = visible_campaign(request.user, campaign_id) if household else None
    if campaign is None:
        campaign = Campaign.objects.filter(pk=campaign_id, results_released_at__isnull=False).first()
    if campaign is None:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404
    try:
        tally = results_for(request.user, campaign)
    except ResultsHidden:
        tally = None
    lookup = ReceiptLookupForm(request.POST if request.method == "POST" and tally is not None else None)
    found = None
    if lookup.is_bound and lookup.is_valid():
        try:
            found = receipt_lookup(campaign, lookup.cleaned_data["receipt"])
        except ResultsHidden:
            tally = None
        found = {"receipt": lookup.cleaned_data["receipt"], "choices": found}
    winners = []
    if tally is not None and campaign.phase == Phase.PUBLISHED:
        winners = list(campaign.winners.select_related("nomination__household", "nomination__member"))
        for winner in winners:
            winner.public_citation = mask_numbers(winner.citation)
    if tally is not None:
        winning = {w.nomination_id for w in winners}
        for row in tally["rows"]:
            row["won"] = row["nomination"].pk in winning
        tally["percent"] = round(100 * tally["voted"] / tally["eligible"]) if tally["eligible"] else 0
    context = {
        "household": household,
        "campaign": campaign,
        "tally": tally,
        "winners": winners,
        "lookup": lookup,
        "found": found,
        "objections_open": household is not None and result_objections_open(campaign),
        "objection_deadline": result_objection_deadline(campaign),
    }
    return render(request, "portal/campaign_results.html", context)


@resident_only
def campaign_objection(request, household, campaign_id):
    """异议 on the published results, during the results notice period → ``result_objection_file``."""
    campaign = _visible_campaign(request.user, campaign_id)
    refusal = ""
    if campaign.phase != Phase.PUBLISHED:
        refusal = _(MSG_NOT_PUBLISHED)
    elif not result_objections_open(campaign):
        refusal = _(MSG_NOTICE_OVER)
    posted = request.method == "POST"
    form = ObjectionForm(request.POST if posted else None)
    if posted and form.is_valid():
        try:
            result_objection_file(actor=request.user, campaign=campaign, text=form.cleaned_data["text"])
        except (HeheError, ValidationError) as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _(MSG_OBJECTION_SENT))
            return redirect("portal:campaign_results", campaign_id=campaign.pk)
    context = {
        "household": household,
        "campaign": campaign,
        "form": form,
        "refusal": refusal,
        "deadline": result_objection_deadline(campaign),
    }
    return render(request, "portal/campaign_objection.html", context)


# Included by ``portal.urls.portal_patterns``, so these names read ``portal:campaigns`` and so on.
urlpatterns = [
    path("campaigns/", campaigns, name="campaigns"),
    path("campaigns/<int:campaign_id>/", campaign, name="campaign"),
    path("campaigns/<int:campaign_id>/photos/<int:photo_id>/", nominee_photo, name="nominee_photo"),
    path("campaigns/<int:campaign_id>/vote/", campaign_vote, name="campaign_vote"),
    path("campaigns/<int:campaign_id>/nominate/", campaign_nominate, name="campaign_nominate"),
    path("campaigns/<int:campaign_id>/results/", campaign_results, name="campaign_results"),
    path("campaigns/<int:campaign_id>/objection/", campaign_objection, name="campaign_objection"),
]
