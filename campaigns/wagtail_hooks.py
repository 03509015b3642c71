"""Campaigns (评选) in the Wagtail admin: one menu group for those who may run a campaign.

The campaign snippet viewset lists, creates and edits (drafts only) through ``campaigns.services``; everything
after creation has its own page in ``campaigns/admin/`` (a campaign's page and phases, nominations, paper ballots, the
tally, the winners, result objections). A ``CampaignPermissionPolicy`` routes Wagtail's checks to
``services.can_manage``, so a campaign the user may not run is neither listed nor reachable (404).
"""

from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.widgets import ListingButton
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import CreateView, IndexView, SnippetViewSetGroup

from campaigns.admin import ballots, nominations, phases, results
from campaigns.admin.common import NOT_DRAFT, turnout_label, with_turnout
from campaigns.admin.forms import CampaignForm
from campaigns.admin.policy import CampaignPermissionPolicy, manageable_campaigns
from campaigns.services import campaign_create, campaign_update
from points.admin.menu import ScopedMenuItem
from points.admin.views import ScopedEditView, ScopedSnippetViewSet, ServiceSaveMixin
from points.scope import Capability

from .models import Campaign

MENU_HOOK = "register_campaigns_menu_item"
Phase = Campaign.Phase


def _date(value):
    return value.strftime("%Y-%m-%d") if value else ""


def _dates_label(campaign) -> str:
    local = timezone.localtime
    return _("提名 %(nominating)s · 投票 %(start)s 至 %(end)s") % {
        "nominating": _date(local(campaign.nominating_starts)),
        "start": _date(local(campaign.voting_starts)),
        "end": _date(local(campaign.voting_ends)),
    }


def _scope_label(campaign) -> str:
    place = campaign.village or campaign.township or campaign.district
    return f"{campaign.get_level_display()} · {place.name}"


class CampaignIndexView(IndexView):
    """The title opens the campaign's page; its other pages are buttons, offered when the phase allows them."""

    def get_edit_url(self, instance):
        return None

    def get_inspect_url(self, instance):
        return reverse("campaigns_detail", args=[instance.pk])

    def get_copy_url(self, instance):
        return None

    def get_delete_url(self, instance):
        return None

    def get_list_more_buttons(self, instance):
        pk = instance.pk
        items = [(_("概况"), reverse("campaigns_detail", args=[pk]), "info-circle", 10)]
        if instance.phase == Phase.DRAFT:
            items.append((_("修改设置"), reverse("wagtailsnippets_campaigns_campaign:edit", args=[pk]), "edit", 11))
        items.append((_("候选与提名"), reverse("campaigns_nominations", args=[pk]), "user", 20))
        if instance.phase == Phase.VOTING:
            items.append((_("纸质选票录入"), reverse("campaigns_ballots", args=[pk]), "keyboard", 30))
        if instance.phase in (Phase.VOTING, Phase.CLOSED, Phase.PUBLISHED):
            items.append((_("计票"), reverse("campaigns_tally", args=[pk]), "table", 40))
        if instance.phase in (Phase.CLOSED, Phase.PUBLISHED):
            items.append((_("确认获奖"), reverse("campaigns_winners", args=[pk]), "success", 50))
        if instance.phase == Phase.PUBLISHED:
            items.append((_("结果异议"), reverse("campaigns_objections", args=[pk]), "help", 60))
        return [ListingButton(label, url=url, icon_name=icon, priority=p) for label, url, icon, p in items]


class CampaignServiceMixin(ServiceSaveMixin):
    def get_success_url(self):
        return reverse("campaigns_detail", args=[self.object.pk])


class CampaignCreateView(CampaignServiceMixin, CreateView):
    @staticmethod
    def service(instance, actor):
        return campaign_create(actor=actor, campaign=instance)

    def get_success_message(self, instance):
        return _("已创建评选「%(title)s」（草稿）。核对无误后，在本页点击「开始提名」") % {"title": instance.title}


class CampaignEditView(CampaignServiceMixin, ScopedEditView):
    """Only a draft's settings change; a started campaign's page says so instead of offering a form."""

    @staticmethod
    def service(instance, actor):
        return campaign_update(actor=actor, campaign=instance)

    def dispatch(self, request, *args, **kwargs):
        if self.object.phase != Phase.DRAFT:
            messages.error(request, NOT_DRAFT)
            return redirect("campaigns_detail", pk=self.object.pk)
        return super().dispatch(request, *args, **kwargs)

    def get_success_message(self):
        return _("已保存「%(title)s」的设置") % {"title": self.object.title}


class CampaignViewSet(ScopedSnippetViewSet):
    model = Campaign
    icon = "success"
    menu_label = _("评选活动")
    menu_name = "campaigns"
    menu_order = 1
    index_view_class = CampaignIndexView
    add_view_class = CampaignCreateView
    edit_view_class = CampaignEditView
    copy_view_enabled = False
    inspect_view_enabled = False
    list_per_page = 50
    list_display = [
        "title",
        Column("kind", label=_("类别"), accessor="get_kind_display"),
        Column("scope", label=_("范围"), accessor=_scope_label),
        Column("phase", label=_("阶段"), accessor="get_phase_display"),
        Column("dates", label=_("日期"), accessor=_dates_label),
        Column("turnout", label=_("投票率"), accessor=turnout_label),
    ]
    list_filter = ["phase", "kind", "level"]
    search_fields = ["title"]
    search_backend_name = None
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [
                    FieldPanel("title"),
                    FieldRowPanel([FieldPanel("kind"), FieldPanel("nominee_type")]),
                    FieldPanel("scope"),
                    FieldPanel("description"),
                ],
                heading=_("评选"),
            ),
            MultiFieldPanel(
                [
                    FieldRowPanel([FieldPanel("nominating_starts"), FieldPanel("notice_days")]),
                    FieldRowPanel([FieldPanel("voting_starts"), FieldPanel("voting_ends")]),
                ],
                heading=_("日期"),
                help_text=_("提名开始 ≤ 投票开始 < 投票截止；投票截止后系统自动结束投票"),
            ),
            MultiFieldPanel(
                [
                    FieldRowPanel([FieldPanel("rule_no_deduction"), FieldPanel("rule_min_stars")]),
                    FieldRowPanel([FieldPanel("choices_per_ballot"), FieldPanel("winners_count")]),
                    FieldRowPanel([FieldPanel("participation_points"), FieldPanel("winner_points")]),
                ],
                heading=_("候选条件、选票与积分"),
            ),
        ],
        base_form_class=CampaignForm,
    )

    def get_queryset(self, request):
        return with_turnout(manageable_campaigns(request.user).select_related("village", "township", "district"))


class CampaignGroup(SnippetViewSetGroup):
    menu_label = _("评选")
    menu_icon = "success"
    menu_name = "campaigns_group"
    menu_order = 200
    submenu_hook = MENU_HOOK
    items = (CampaignViewSet,)


register_permission_policy(Campaign, CampaignPermissionPolicy())
register_snippet(CampaignGroup)


@hooks.register("register_admin_urls")
def register_campaign_urls():
    return [
        path("campaigns/<int:pk>/", phases.detail, name="campaigns_detail"),
        path("campaigns/<int:pk>/advance/", phases.advance, name="campaigns_advance"),
        path("campaigns/<int:pk>/nominations/", nominations.nominations, name="campaigns_nominations"),
        path(
            "campaigns/<int:pk>/nominations/households.json",
            nominations.household_search_json,
            name="campaigns_household_search",
        ),
        path(
            "campaigns/nominations/<int:pk>/review/",
            nominations.nomination_review_view,
            name="campaigns_nomination_review",
        ),
        path(
            "campaigns/nominations/<int:pk>/photos/<int:photo_id>/",
            nominations.nomination_photo,
            name="campaigns_nomination_photo",
        ),
        path("campaigns/ballots/", ballots.ballots_start, name="campaigns_ballots_start"),
        path("campaigns/<int:pk>/ballots/", ballots.ballots, name="campaigns_ballots"),
        path("campaigns/<int:pk>/ballots/lookup.json", ballots.ballot_lookup, name="campaigns_ballot_lookup"),
        path("campaigns/<int:pk>/tally/", results.tally_view, name="campaigns_tally"),
        path("campaigns/<int:pk>/release/", results.release, name="campaigns_release"),
        path("campaigns/<int:pk>/winners/", results.winners, name="campaigns_winners"),
        path("campaigns/<int:pk>/objections/", results.objections, name="campaigns_objections"),
        path("campaigns/objections/<int:pk>/answer/", results.objection_answer, name="campaigns_objection_answer"),
    ]


@hooks.register(MENU_HOOK)
def ballots_menu_item():
    return ScopedMenuItem(
        _("纸质选票录入"),
        reverse("campaigns_ballots_start"),
        name="campaigns_ballots",
        icon_name="keyboard",
        order=2,
        capability=Capability.MANAGE_POINTS,
    )
