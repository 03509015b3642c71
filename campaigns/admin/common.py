"""What the campaigns' admin pages share: finding a campaign, nomination or objection through the scope (one the
user may not run answers 404, whether it exists or not), turnout, the page frame and its navigation.

Each view is thin: it parses one form, calls one service and renders. A refusal (a ``HeheError``'s ``message`` or
a ``ValidationError``) is shown on the form; every service is one transaction, so a refusal changes nothing.
"""

from django.db.models import Case, Count, IntegerField, OuterRef, Subquery, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.admin.policy import manageable_campaigns
from campaigns.models import BallotRecord, Campaign, Nomination, ResultObjection
from campaigns.policy import can_manage
from campaigns.services import ORDER
from points.models import Household
from points.scope import Capability, scope_for

Phase = Campaign.Phase


TEMPLATES = "campaigns/admin/"


SEARCH_LIMIT = 20


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


def require_manager(request):
    scope = scope_for(request.user)
    if not scope.can(Capability.MANAGE_POINTS):
        raise Http404
    return scope


def campaign_or_404(request, pk: int) -> Campaign:
    require_manager(request)
    campaign = (
        manageable_campaigns(request.user)
        .select_related("village", "township", "district", "created_by")
        .filter(pk=pk)
        .first()
    )
    if campaign is None or not can_manage(request.user, campaign):
        raise Http404
    return campaign


def nomination_or_404(request, pk: int) -> Nomination:
    require_manager(request)
    nomination = (
        Nomination.objects.select_related("campaign", "household", "member")
        .filter(pk=pk, campaign__in=manageable_campaigns(request.user))
        .first()
    )
    if nomination is None or not can_manage(request.user, nomination.campaign):
        raise Http404
    return nomination


def objection_or_404(request, pk: int) -> ResultObjection:
    require_manager(request)
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


def campaign_households(request, campaign: Campaign):
    return scope_for(request.user).households().filter(village__in=campaign_villages(request, campaign))


def count(queryset, group: str):
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
            then=count(active.filter(village_id=OuterRef("village_id")), "village_id"),
        ),
        When(
            level=Campaign.Level.TOWNSHIP,
            then=count(active.filter(village__township_id=OuterRef("township_id")), "village__township_id"),
        ),
        default=count(
            active.filter(village__township__district_id=OuterRef("district_id")), "village__township__district_id"
        ),
        output_field=IntegerField(),
    )
    voted = count(BallotRecord.objects.filter(campaign_id=OuterRef("pk")), "campaign_id")
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


def ballot_counts(campaign: Campaign, user) -> dict:
    records = BallotRecord.objects.filter(campaign=campaign)
    return {
        "voted": records.count(),
        "paper": records.filter(channel=BallotRecord.Channel.PAPER).count(),
        "mine": records.filter(channel=BallotRecord.Channel.PAPER, entered_by=user).count(),
    }


def approved(campaign: Campaign) -> list[Nomination]:
    return list(
        Nomination.objects.filter(campaign=campaign, status=Nomination.Status.APPROVED)
        .select_related("household", "member", "village")
        .order_by("id")
    )


def render(request, template, context, *, title, icon="success", status=200):
    context = {"page_title": title, "header_icon": icon, **context}
    campaign = context.get("campaign")
    if campaign is not None:
        context.setdefault("nav", nav(campaign))
    return TemplateResponse(request, TEMPLATES + template, context, status=status)


def nav(campaign: Campaign) -> list[tuple[str, str, str]]:
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


def next_phase(campaign: Campaign) -> str | None:
    index = ORDER.index(campaign.phase)
    following = ORDER[index + 1] if index + 1 < len(ORDER) else None
    return following if following in NEXT_ACTION else None


def detail_url(campaign) -> str:
    return reverse("campaigns_detail", args=[campaign.pk])
