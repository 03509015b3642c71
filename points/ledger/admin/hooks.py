"""The ledger in the Wagtail admin (积分管理): the rubric's viewsets, and the menu and URLs of the awards, claims,
objections and notices pages (their views are in ``points.ledger.admin.views``).

The rubric's permission policies are registered first, before any viewset asks Wagtail for one.
"""

from django.contrib.admin.utils import quote
from django.db.models import ProtectedError
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.panels import FieldPanel, FieldRowPanel, ObjectList
from wagtail.admin.ui.menus import MenuItem as ListingMenuItem
from wagtail.admin.ui.sidebar import LinkMenuItem as LinkMenuItemComponent
from wagtail.admin.ui.tables import Column
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import CreateView, IndexView, SnippetViewSetGroup

from points.admin.forms import villages_for
from points.admin.menu import ScopedMenuItem
from points.admin.views import (
    InstanceLinksMixin,
    ScopedDeleteView,
    ScopedEditView,
    ScopedSnippetViewSet,
    ServiceSaveMixin,
)
from points.ledger.admin import views as admin_ledger
from points.ledger.admin.forms import RubricItemForm
from points.ledger.admin.policy import RubricCategoryPermissionPolicy, rubric_item_in_use
from points.ledger.rubric import rubric_item_save
from points.ledger.selectors import pending_claims
from points.models import RubricCategory, RubricItem
from points.scope import Capability, scope_for

# Before any viewset asks for a policy (Wagtail would create a fallback one).
register_permission_policy(RubricItem, admin_ledger.RUBRIC_POLICY)
register_permission_policy(RubricCategory, RubricCategoryPermissionPolicy())

IN_USE = _("「%(object)s」已被使用（有积分记录、申报或替代细则），不能删除；如不再使用，请编辑并取消「启用」。")


CATEGORY_IN_USE = _("「%(object)s」下还有细则，不能删除。")


class RubricItemIndexView(InstanceLinksMixin, IndexView):
    def get_list_more_buttons(self, instance):
        buttons = list(super().get_list_more_buttons(instance))
        scope = scope_for(self.request.user)
        if instance.village_id is None and scope.can(Capability.MANAGE_POINTS) and self.add_url:
            buttons.append(
                ListingMenuItem(
                    _("本村替代"),
                    url=f"{self.add_url}?overrides={instance.pk}",
                    icon_name="copy",
                    priority=40,
                )
            )
        return buttons


class RubricItemServiceMixin(ServiceSaveMixin):
    @staticmethod
    def service(instance, actor):
        return rubric_item_save(item=instance, actor=actor)


class RubricItemCreateView(RubricItemServiceMixin, CreateView):
    def get_initial_form_instance(self):
        """``?overrides=<id>``: start from a copy of that district item, to change it for the village."""
        base_id = self.request.GET.get("overrides", "")
        if not base_id.isdigit() or len(base_id) > 18:
            return super().get_initial_form_instance()
        base = (
            self.permission_policy.instances_user_has_any_permission_for(self.request.user, ["view"])
            .filter(pk=int(base_id), village__isnull=True)
            .first()
        )
        if base is None:
            return super().get_initial_form_instance()
        villages = villages_for(self.request.user, Capability.MANAGE_POINTS)
        return RubricItem(
            category=base.category,
            overrides=base,
            village=villages.first() if villages.count() == 1 else None,
            name=base.name,
            kind=base.kind,
            points=base.points,
            cap_period=base.cap_period,
            cap_points=base.cap_points,
            evidence_required=base.evidence_required,
            order=base.order,
        )


class RubricItemEditView(RubricItemServiceMixin, ScopedEditView):
    pass


class ProtectedDeleteView(ScopedDeleteView):
    """Delete only what nothing refers to; otherwise say why (and how to retire it) instead of failing.

    Another village's row (or a district row without MANAGE_STAFF) answers 404, like every object view.
    """

    # The policy refuses "delete" for a row in use; who may change it is told why here instead of a 404.
    scope_action = "change"
    in_use_message = IN_USE

    def in_use(self, obj) -> bool:
        return rubric_item_in_use(obj)

    def dispatch(self, request, *args, **kwargs):
        if self.in_use(self.object):
            return self._refuse()
        try:
            return super().dispatch(request, *args, **kwargs)
        except ProtectedError:  # something started using it since the check
            return self._refuse()

    def _refuse(self):
        messages.error(self.request, self.in_use_message % {"object": self.object})
        if self.edit_url_name:
            return redirect(self.edit_url_name, quote(self.object.pk))
        return redirect(self.index_url_name)


class RubricCategoryIndexView(InstanceLinksMixin, IndexView):
    pass


class RubricCategoryDeleteView(ProtectedDeleteView):
    in_use_message = CATEGORY_IN_USE

    def in_use(self, obj) -> bool:
        return RubricItem.objects.filter(category=obj).exists()


def _rubric_scope_label(item):
    if item.village_id is None:
        return _("全区")
    return item.village.name


def _rubric_cap_label(item):
    if item.cap_period == RubricItem.CapPeriod.NONE:
        return ""
    return f"{item.get_cap_period_display()} {item.cap_points}"


class RubricItemViewSet(ScopedSnippetViewSet):
    """积分细则: district items (district admin) and village items and overrides (committees)."""

    model = RubricItem
    icon = "list-ol"
    menu_label = _("积分细则")
    menu_name = "rubric_items"
    menu_order = 5
    index_view_class = RubricItemIndexView
    add_view_class = RubricItemCreateView
    edit_view_class = RubricItemEditView
    delete_view_class = ProtectedDeleteView
    inspect_view_enabled = True
    copy_view_enabled = False
    list_per_page = 100
    list_display = [
        "name",
        "category",
        Column("kind", label=_("类型"), accessor="get_kind_display"),
        "points",
        Column("cap", label=_("每户上限"), accessor=_rubric_cap_label),
        Column("scope", label=_("适用范围"), accessor=_rubric_scope_label),
        Column("overrides", label=_("替代全区细则"), accessor="overrides"),
        Column("active", label=_("启用"), accessor=lambda item: _("是") if item.active else _("否")),
    ]
    list_filter = ["category", "kind", "active"]
    search_fields = ["name"]
    search_backend_name = None
    # A SnippetViewSet has no ``base_form_class``: the form class goes on the edit handler.
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("category"), FieldPanel("name")]),
            FieldRowPanel([FieldPanel("kind"), FieldPanel("points")]),
            FieldRowPanel([FieldPanel("cap_period"), FieldPanel("cap_points")]),
            FieldRowPanel([FieldPanel("village"), FieldPanel("district")]),
            FieldPanel("overrides"),
            FieldRowPanel([FieldPanel("evidence_required"), FieldPanel("active"), FieldPanel("order")]),
        ],
        base_form_class=RubricItemForm,
    )

    def get_queryset(self, request):
        return admin_ledger.RUBRIC_POLICY.visible_items(request.user)


class RubricCategoryViewSet(ScopedSnippetViewSet):
    model = RubricCategory
    icon = "folder-open-1"
    menu_label = _("细则分类")
    menu_name = "rubric_categories"
    menu_order = 6
    index_view_class = RubricCategoryIndexView
    delete_view_class = RubricCategoryDeleteView
    copy_view_enabled = False
    list_display = ["name", "order"]
    panels = [FieldPanel("name"), FieldPanel("order")]


class LedgerGroup(SnippetViewSetGroup):
    menu_label = _("积分管理")
    menu_icon = "tasks"
    menu_name = "points_ledger"
    menu_order = 90
    submenu_hook = "register_points_ledger_menu_item"
    items = (RubricItemViewSet, RubricCategoryViewSet)


register_snippet(LedgerGroup)


@hooks.register("register_admin_urls")
def register_ledger_urls():
    views = admin_ledger
    return [
        path("ledger/award/", views.award_start, name="points_ledger_award_start"),
        path("ledger/award/<int:village_id>/", views.award, name="points_ledger_award"),
        path(
            "ledger/award/<int:village_id>/households.json",
            views.household_search_json,
            name="points_ledger_household_search",
        ),
        path("ledger/households/<int:pk>/statement/", views.statement, name="points_ledger_statement"),
        path("ledger/transfers/<int:pk>/reverse/", views.reverse_transfer, name="points_ledger_reverse"),
        path("ledger/claims/", views.claims, name="points_ledger_claims"),
        path("ledger/claims/<int:pk>/", views.claim_detail, name="points_ledger_claim"),
        path("ledger/claims/<int:pk>/photos/<int:photo_id>/", views.claim_photo, name="points_ledger_claim_photo"),
        path("ledger/claims/<int:pk>/approve/", views.claim_approve_view, name="points_ledger_claim_approve"),
        path("ledger/claims/<int:pk>/reject/", views.claim_reject_view, name="points_ledger_claim_reject"),
        path("ledger/objections/", views.objections, name="points_ledger_objections"),
        path("ledger/objections/<int:pk>/", views.objection_detail, name="points_ledger_objection"),
        path("ledger/objections/<int:pk>/answer/", views.objection_answer_view, name="points_ledger_objection_answer"),
        path("ledger/notices/", views.notices_start, name="points_ledger_notices_start"),
        path("ledger/notices/<int:village_id>/", views.notices, name="points_ledger_notices"),
        path(
            "ledger/notices/<int:village_id>/publish/", views.notice_publish_view, name="points_ledger_notice_publish"
        ),
        path("ledger/notices/<int:village_id>/close/", views.month_close_view, name="points_ledger_month_close"),
    ]


class PendingClaimsMenuItem(ScopedMenuItem):
    """申报审核, with the number of pending claims in the user's villages (one indexed count per page)."""

    def render_component(self, request):
        count = pending_claims(scope=scope_for(request.user)).count()
        label = _("%(label)s（%(count)s）") % {"label": self.label, "count": count} if count else self.label
        return LinkMenuItemComponent(
            self.name, label, self.url, icon_name=self.icon_name, classname=self.classname, attrs=self.attrs
        )


@hooks.register("register_points_ledger_menu_item")
def ledger_award_menu_item():
    return ScopedMenuItem(
        _("加分扣分"),
        reverse("points_ledger_award_start"),
        name="points_award",
        icon_name="plus",
        order=1,
        capability=Capability.MANAGE_POINTS,
    )


@hooks.register("register_points_ledger_menu_item")
def ledger_claims_menu_item():
    return PendingClaimsMenuItem(
        _("申报审核"),
        reverse("points_ledger_claims"),
        name="points_claims",
        icon_name="tasks",
        order=2,
        capability=Capability.MANAGE_POINTS,
    )


@hooks.register("register_points_ledger_menu_item")
def ledger_objections_menu_item():
    return ScopedMenuItem(
        _("异议答复"),
        reverse("points_ledger_objections"),
        name="points_objections",
        icon_name="help",
        order=3,
        capability=Capability.MANAGE_POINTS,
    )


@hooks.register("register_points_ledger_menu_item")
def ledger_notices_menu_item():
    return ScopedMenuItem(
        _("积分公示与结账"),
        reverse("points_ledger_notices_start"),
        name="points_notices",
        icon_name="calendar",
        order=4,
        capability=Capability.MANAGE_POINTS,
    )
