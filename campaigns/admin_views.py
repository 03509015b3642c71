"""The campaigns' admin pages beyond the snippet listing: a campaign's page and its phases, nominations and their
review, paper ballot entry (纸质选票录入), the tally and its release, the winners, and the result objections.

Each view is thin: it finds the campaign through ``admin_policy.manageable_campaigns`` and checks it again with
``services.can_manage`` (a campaign the user may not run answers 404, whether it exists or not), parses one form,
calls one service and renders. A refusal (a ``HeheError``'s ``message`` or a ``ValidationError``) is shown on the
form; every service is one transaction, so a refusal changes nothing.

Ballots are secret: the ballot screen shows who was entered and the receipt code to write on the paper, never
the choices once saved, and its page after a save does not list the nominees at all (the script fetches them for
the next ballot).
"""

import re

from django.core.exceptions import ValidationError
from django.db.models import Case, Count, IntegerField, OuterRef, Subquery, When
from django.db.models.functions import Coalesce
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from wagtail.admin import messages

from points import clock
from points.exceptions import HeheError, IdempotencyConflict
from points.models import Household, Village
from points.scope import Capability, scope_for
from points.selectors import household_search

from .admin_forms import (
    AdvanceForm,
    BallotForm,
    HouseholdSearchForm,
    NominateForm,
    ObjectionAnswerForm,
    ReviewForm,
    WinnersForm,
    show_refusal,
)
from .admin_policy import manageable_campaigns
from .exceptions import AlreadyVoted
from .models import BallotRecord, Campaign, Nomination, ResultObjection
from .services import (
    ORDER,
    ballot_cast,
    campaign_advance,
    can_manage,
    eligibility_problem,
    nomination_review,
    nomination_submit,
    result_objection_answer,
    results_for,
    results_release,
    winners_confirm,
)

Phase = Campaign.Phase
TEMPLATES = "campaigns/admin/"
SEARCH_LIMIT = 20
# What a household card's QR code holds (and a committee member may type): the village code and the number.
LOGIN_NUMBER = re.compile(r"^\s*([A-Za-z0-9]+)-(\S+)\s*$")

NEXT_ACTION = {
    Phase.NOMINATING: gettext_lazy("开始提名"),
    Phase.VOTING: gettext_lazy("开始投票"),
    Phase.CLOSED: gettext_lazy("结束投票"),
}
NO_NUMBER = gettext_lazy("请输入选票上的户号")
NO_VILLAGE = gettext_lazy("请先选择村")
UNKNOWN_NUMBER = gettext_lazy("没有找到户号为「%(number)s」的户，请核对选票上的户号")
OUTSIDE = gettext_lazy("户号「%(number)s」不在本次评选的范围内，或您无权为其录入选票")
ARCHIVED = gettext_lazy("该户已归档，不能投票")
NOT_DRAFT = gettext_lazy("评选已开始，设置不能再修改（只有草稿阶段可以修改）")


# --- lookups through the scope ------------------------------------------------------------------------------


def _require_manager(request):
    scope = scope_for(request.user)
    if not scope.can(Capability.MANAGE_POINTS):
        raise Http404
    return scope


def campaign_or_404(request, pk: int) -> Campaign:
    _require_manager(request)
    campaign = (
        manageable_campaigns(request.user)
        .select_related("village", "township", "district", "created_by")
        .filter(pk=pk)
        .first()
    )
    if campaign is None or not can_manage(request.user, campaign):
        raise Http404
    return campaign


def _nomination_or_404(request, pk: int) -> Nomination:
    _require_manager(request)
    nomination = (
        Nomination.objects.select_related("campaign", "household", "member")
        .filter(pk=pk, campaign__in=manageable_campaigns(request.user))
        .first()
    )
    if nomination is None or not can_manage(request.user, nomination.campaign):
        raise Http404
    return nomination


def _objection_or_404(request, pk: int) -> ResultObjection:
    _require_manager(request)
    objection = (
        ResultObjection.objects.select_related("campaign", "household")
        .filter(pk=pk, campaign__in=manageable_campaigns(request.user))
        .first()
    )
    if objection is None or not can_manage(request.user, objection.campaign):
        raise Http404
    return objection


def campaign_villages(request, campaign: Campaign):
    """The campaign's villages that the user covers (for one who may run it: all of them)."""
    scope = scope_for(request.user)
    villages = campaign.villages().select_related("township").order_by("township__code", "code")
    return villages if scope.village_ids is None else villages.filter(id__in=scope.village_ids)


def _campaign_households(request, campaign: Campaign):
    return scope_for(request.user).households().filter(village__in=campaign_villages(request, campaign))


# --- reads the selectors do not have yet (candidates for campaigns/selectors.py) --------------------------------


def _count(queryset, group: str):
    """A correlated COUNT(*) of ``queryset`` (already filtered on an OuterRef), 0 when there are no rows."""
    return Coalesce(
        Subquery(queryset.order_by().values(group).annotate(n=Count("pk")).values("n")[:1]),
        0,
        output_field=IntegerField(),
    )


def with_turnout(campaigns):
    """Annotate ``voted`` (households that cast a ballot) and ``eligible`` (active households of the campaign's
    villages), in the one listing query."""
    active = Household.objects.filter(status=Household.Status.ACTIVE)
    eligible = Case(
        When(
            level=Campaign.Level.VILLAGE,
            then=_count(active.filter(village_id=OuterRef("village_id")), "village_id"),
        ),
        When(
            level=Campaign.Level.TOWNSHIP,
            then=_count(active.filter(village__township_id=OuterRef("township_id")), "village__township_id"),
        ),
        default=_count(
            active.filter(village__township__district_id=OuterRef("district_id")), "village__township__district_id"
        ),
        output_field=IntegerField(),
    )
    voted = _count(BallotRecord.objects.filter(campaign_id=OuterRef("pk")), "campaign_id")
    return campaigns.annotate(voted=voted, eligible=eligible)


def turnout_label(campaign) -> str:
    if campaign.phase in (Phase.DRAFT, Phase.NOMINATING):
        return "—"
    voted, eligible = getattr(campaign, "voted", 0), getattr(campaign, "eligible", 0)
    if not eligible:
        return str(voted)
    return _("%(voted)s/%(eligible)s（%(percent)s%%）") % {
        "voted": voted,
        "eligible": eligible,
        "percent": voted * 100 // eligible,
    }


def _ballot_counts(campaign: Campaign, user) -> dict:
    records = BallotRecord.objects.filter(campaign=campaign)
    return {
        "voted": records.count(),
        "paper": records.filter(channel=BallotRecord.Channel.PAPER).count(),
        "mine": records.filter(channel=BallotRecord.Channel.PAPER, entered_by=user).count(),
    }


def _approved(campaign: Campaign) -> list[Nomination]:
    return list(
        Nomination.objects.filter(campaign=campaign, status=Nomination.Status.APPROVED)
        .select_related("household", "member", "village")
        .order_by("id")
    )


# --- helpers -------------------------------------------------------------------------------------------------


def _render(request, template, context, *, title, icon="success", status=200):
    context = {"page_title": title, "header_icon": icon, **context}
    campaign = context.get("campaign")
    if campaign is not None:
        context.setdefault("nav", _nav(campaign))
    return TemplateResponse(request, TEMPLATES + template, context, status=status)


def _nav(campaign: Campaign) -> list[tuple[str, str, str]]:
    """The campaign's tabs: (key, label, url)."""
    pk = campaign.pk
    tabs = [
        ("detail", _("概况"), reverse("campaigns_detail", args=[pk])),
        ("nominations", _("候选与提名"), reverse("campaigns_nominations", args=[pk])),
        ("ballots", _("纸质选票录入"), reverse("campaigns_ballots", args=[pk])),
        ("tally", _("计票"), reverse("campaigns_tally", args=[pk])),
        ("winners", _("确认获奖"), reverse("campaigns_winners", args=[pk])),
        ("objections", _("结果异议"), reverse("campaigns_objections", args=[pk])),
    ]
    if campaign.phase == Phase.DRAFT:
        tabs.insert(1, ("edit", _("修改设置"), reverse("wagtailsnippets_campaigns_campaign:edit", args=[pk])))
    return tabs


def _next_phase(campaign: Campaign) -> str | None:
    index = ORDER.index(campaign.phase)
    following = ORDER[index + 1] if index + 1 < len(ORDER) else None
    return following if following in NEXT_ACTION else None


def detail_url(campaign) -> str:
    return reverse("campaigns_detail", args=[campaign.pk])


# --- 概况 and phases ------------------------------------------------------------------------------------------


def detail(request, pk: int):
    campaign = campaign_or_404(request, pk)
    return _detail_page(request, campaign, AdvanceForm())


def _detail_page(request, campaign, form, status=200):
    following = _next_phase(campaign)
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
    return _render(request, "detail.html", context, title=campaign.title, icon="success", status=status)


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


# --- 候选与提名 -------------------------------------------------------------------------------------------------


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
    households = _campaign_households(request, campaign)
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
    return _render(request, "nominations.html", context, title=title, icon="user", status=status)


@require_POST
def nomination_review_view(request, pk: int):
    nomination = _nomination_or_404(request, pk)
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
    blank = NominateForm(campaign=campaign, households=_campaign_households(request, campaign))
    return _nominations_page(request, campaign, form=blank, review_forms={nomination.pk: form})


# --- 纸质选票录入 -----------------------------------------------------------------------------------------------


def ballots_start(request):
    """The menu's entry: the campaigns now voting that the user runs; straight to the only one."""
    _require_manager(request)
    voting = list(manageable_campaigns(request.user).filter(phase=Phase.VOTING).select_related("village", "township"))
    voting = [c for c in voting if can_manage(request.user, c)]
    if len(voting) == 1:
        return redirect("campaigns_ballots", pk=voting[0].pk)
    return _render(request, "ballots_start.html", {"campaigns": voting}, title=_("纸质选票录入"), icon="keyboard")


def find_voter(request, campaign, villages, village_id, number):
    """The household a paper ballot names: ``(household, None)`` or ``(None, why not)``.

    ``number`` is the household number in the chosen village, or a card's login number (``QS01-023``). Only
    households of the campaign's villages that the user covers are found; nothing says whether a number exists
    in a village outside them.
    """
    number = (number or "").strip()
    if not number:
        return None, str(NO_NUMBER)
    shown = number[:40]
    by_id = {v.pk: v for v in villages}
    village = None
    card = LOGIN_NUMBER.match(number)
    if card:
        coded = Village.objects.filter(code__iexact=card.group(1)).first()
        if coded is not None:
            if coded.pk not in by_id:
                return None, str(OUTSIDE % {"number": shown})
            village, number = by_id[coded.pk], card.group(2)
    if village is None:
        if village_id is not None:
            village = by_id.get(village_id)
            if village is None:
                return None, str(OUTSIDE % {"number": shown})
        elif len(villages) == 1:
            village = villages[0]
        else:
            return None, str(NO_VILLAGE)
    household = (
        scope_for(request.user)
        .households()
        .filter(village=village, number=number)
        .select_related("village", "village__township")
        .first()
    )
    if household is None:
        return None, str(UNKNOWN_NUMBER % {"number": shown})
    if household.is_archived:
        return None, str(ARCHIVED)
    return household, None


def _nominee_choices(nominees, campaign) -> list[dict]:
    """The nominees as the ballot screen lists them: a key (1–9) for the first nine, the village when several."""
    several = campaign.level != Campaign.Level.VILLAGE
    return [
        {
            "id": n.pk,
            "key": str(i + 1) if i < 9 else "",
            "name": n.display_name,
            "village": n.village.name if several else "",
        }
        for i, n in enumerate(nominees)
    ]


def _ballot_strings(campaign) -> dict:
    """The script's texts, translated here so that the static file needs no catalogue."""
    return {
        "head": _("户主：%(head)s（%(village)s）"),
        "chosen": _("已选 %(count)s 位，最多 %(max)s 位"),
        "too_many": _("已选 %(count)s 位，超过每票最多 %(max)s 位"),
        "failed": _("查询失败，请检查网络后重试；也可以直接点「查找」"),
        "busy": _("正在提交…"),
        "max": str(campaign.choices_per_ballot),
    }


def ballots(request, pk: int):
    campaign = campaign_or_404(request, pk)
    villages = list(campaign_villages(request, campaign))
    household = None
    confirming = False
    if request.method == "POST":
        form = BallotForm(request.POST, villages=villages)
        if form.is_valid():
            data = form.cleaned_data
            household, problem = find_voter(request, campaign, villages, data["village"], data["number"])
            if problem:
                form.add_error("number", problem)
            elif data["household"] != household.pk or request.POST.get("action") == "lookup":
                # The number is new (or changed): show the head's name and the nominees first, write nothing.
                form.confirm(household)
                confirming = True
                if BallotRecord.objects.filter(campaign=campaign, household=household).exists():
                    form.add_error("number", str(AlreadyVoted.default_message))
            else:
                try:
                    receipt = ballot_cast(
                        actor=request.user,
                        campaign=campaign,
                        household=household,
                        nominee_ids=data["nominees"],
                        idempotency_key=str(data["idempotency_key"]),
                    )
                except IdempotencyConflict as exc:
                    form.renew_key()
                    show_refusal(form, exc)
                except (HeheError, ValidationError) as exc:
                    show_refusal(form, exc)
                else:
                    # Who was entered and the receipt for the paper; never what was chosen.
                    messages.success(
                        request,
                        _("已录入：%(household)s。回执码 %(receipt)s（请写在这张选票上）")
                        % {"household": household, "receipt": receipt},
                    )
                    return redirect(
                        reverse("campaigns_ballots", args=[campaign.pk]) + f"?village={household.village_id}"
                    )
    else:
        raw = request.GET.get("village", "")
        initial = {"village": int(raw)} if raw.isdigit() and int(raw) in {v.pk for v in villages} else {}
        form = BallotForm(villages=villages, initial=initial)
    show_nominees = household is not None and not form.has_error("number")
    if not show_nominees:
        form.fields["number"].widget.attrs["autofocus"] = ""
    now_open = campaign.phase == Phase.VOTING and campaign.voting_starts <= clock.now() < campaign.voting_ends
    context = {
        "campaign": campaign,
        "active_tab": "ballots",
        "form": form,
        "household": household if show_nominees else None,
        "confirming": confirming,
        "nominees": _nominee_choices(_approved(campaign), campaign) if show_nominees else [],
        "chosen": form.chosen() if form.is_bound else set(),
        "counts": _ballot_counts(campaign, request.user),
        "voting_open": now_open,
        "show_form": campaign.phase == Phase.VOTING or form.is_bound,
        "several_villages": len(villages) > 1,
        "lookup_url": reverse("campaigns_ballot_lookup", args=[campaign.pk]),
        "js_strings": _ballot_strings(campaign),
    }
    title = _("纸质选票录入 · %(title)s") % {"title": campaign.title}
    response = _render(request, "ballots.html", context, title=title, icon="keyboard")
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def ballot_lookup(request, pk: int):
    """The ballot screen's Enter on a household number: the head's name and the nominees, or why not."""
    campaign = campaign_or_404(request, pk)
    villages = list(campaign_villages(request, campaign))
    raw_village = request.GET.get("village", "")
    village_id = int(raw_village) if raw_village.isdigit() and len(raw_village) < 19 else None
    household, problem = find_voter(request, campaign, villages, village_id, request.GET.get("number", "")[:40])
    if problem:
        response = JsonResponse({"ok": False, "error": problem})
    else:
        voted = BallotRecord.objects.filter(campaign=campaign, household=household).exists()
        response = JsonResponse(
            {
                "ok": not voted,
                "error": str(AlreadyVoted.default_message) if voted else "",
                "household": {
                    "id": household.pk,
                    "village_id": household.village_id,
                    "label": str(household),
                    "head": household.head_name,
                    "village": household.village.name,
                },
                "nominees": [] if voted else _nominee_choices(_approved(campaign), campaign),
            }
        )
    response["Cache-Control"] = "no-store"
    return response


# --- 计票, 公布, 获奖 -------------------------------------------------------------------------------------------


def _tally_page(request, campaign, *, error=None, status=200):
    result = results_for(request.user, campaign)
    context = {
        "campaign": campaign,
        "active_tab": "tally",
        "result": result,
        # While voting runs, only turnout: a running count on the committee's screen invites pressure on voters.
        "show_counts": campaign.phase in (Phase.CLOSED, Phase.PUBLISHED),
        "error": error,
    }
    title = _("计票 · %(title)s") % {"title": campaign.title}
    return _render(request, "tally.html", context, title=title, icon="table", status=status)


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
        "show_counts": campaign.phase in (Phase.CLOSED, Phase.PUBLISHED),
        "ready": campaign.phase == Phase.CLOSED and campaign.results_released_at is not None,
        "show_form": campaign.phase == Phase.CLOSED or form.is_bound,
        "winners": campaign.winners.select_related(
            "nomination", "nomination__household", "nomination__member", "photo"
        ),
    }
    title = _("确认获奖 · %(title)s") % {"title": campaign.title}
    return _render(request, "winners.html", context, title=title, icon="success")


# --- 结果异议 ---------------------------------------------------------------------------------------------------


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
    return _render(request, "objections.html", context, title=title, icon="help")


@require_POST
def objection_answer(request, pk: int):
    objection = _objection_or_404(request, pk)
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
