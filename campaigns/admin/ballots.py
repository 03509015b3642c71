"""Paper ballot entry (纸质选票录入), keyboard only, for village meetings.

Ballots are secret: the ballot screen shows who was entered and the receipt code to write on the paper, never
the choices once saved, and its page after a save does not list the nominees at all (the script fetches them for
the next ballot).
"""

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from wagtail.admin import messages

from campaigns.admin.common import (
    ARCHIVED,
    NO_NUMBER,
    NO_VILLAGE,
    OUTSIDE,
    UNKNOWN_NUMBER,
    Phase,
    approved,
    ballot_counts,
    campaign_or_404,
    campaign_villages,
    render,
    require_manager,
)
from campaigns.admin.forms import BallotForm
from campaigns.admin.policy import manageable_campaigns
from campaigns.ballots import ballot_cast
from campaigns.exceptions import AlreadyVoted
from campaigns.models import BallotRecord, Campaign
from campaigns.policy import can_manage
from campaigns.selectors import voting_open
from points.admin.forms import show_refusal
from points.exceptions import HeheError
from points.models import Village
from points.register.identifiers import parse_login_number
from points.scope import scope_for


def ballots_start(request):
    """The menu's entry: the campaigns now voting that the user runs; straight to the only one."""
    require_manager(request)
    voting = list(manageable_campaigns(request.user).filter(phase=Phase.VOTING).select_related("village", "township"))
    voting = [c for c in voting if can_manage(request.user, c)]
    if len(voting) == 1:
        return redirect("campaigns_ballots", pk=voting[0].pk)
    return render(request, "ballots_start.html", {"campaigns": voting}, title=_("纸质选票录入"), icon="keyboard")


def find_voter(request, campaign, villages, village_id, number):
    """The household a paper ballot names: ``(household, None)`` or ``(None, why not)``.

    ``number`` is the household number in the chosen village, or a card's login number (``QS01-023``). Only
    households of the campaign's villages that the user covers are found; nothing says whether a number exists
    in a village outside them.
    """
    shown = (number or "").strip()[:40]
    if not shown:
        return None, str(NO_NUMBER)
    parsed = parse_login_number(number)
    if parsed is None:
        return None, str(UNKNOWN_NUMBER % {"number": shown})
    code, number = parsed
    by_id = {v.pk: v for v in villages}
    village = None
    if code is not None:
        coded = Village.objects.filter(code__iexact=code).first()
        if coded is None:
            return None, str(UNKNOWN_NUMBER % {"number": shown})
        if coded.pk not in by_id:
            return None, str(OUTSIDE % {"number": shown})
        village = by_id[coded.pk]
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
        .filter(village=village, number__iexact=number)
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
                        idempotency_key=form.key,
                    )
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
    context = {
        "campaign": campaign,
        "active_tab": "ballots",
        "form": form,
        "household": household if show_nominees else None,
        "confirming": confirming,
        "nominees": _nominee_choices(approved(campaign), campaign) if show_nominees else [],
        "chosen": form.chosen() if form.is_bound else set(),
        "counts": ballot_counts(campaign, request.user),
        "voting_open": voting_open(campaign),
        "show_form": campaign.phase == Phase.VOTING or form.is_bound,
        "several_villages": len(villages) > 1,
        "lookup_url": reverse("campaigns_ballot_lookup", args=[campaign.pk]),
        "js_strings": _ballot_strings(campaign),
    }
    title = _("纸质选票录入 · %(title)s") % {"title": campaign.title}
    response = render(request, "ballots.html", context, title=title, icon="keyboard")
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
                "nominees": [] if voted else _nominee_choices(approved(campaign), campaign),
            }
        )
    response["Cache-Control"] = "no-store"
    return response
