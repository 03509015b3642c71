"""The register in the Wagtail admin: households (with members inline), groups, staff roles, import/export;
and the ledger's 积分管理 group (its views are in ``admin_ledger``).

Every viewset uses a ``ScopedPermissionPolicy`` and a scoped queryset, so what a user sees and may change is
decided by ``points.scope`` alone. Saves go through ``points.register`` services, not ``form.save()``.
"""

import django_filters
from django.contrib.admin.utils import quote
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.menus import MenuItem as ListingMenuItem
from wagtail.admin.ui.sidebar import LinkMenuItem as LinkMenuItemComponent
from wagtail.admin.ui.tables import Column
from wagtail.admin.widgets import ListingButton
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import (
    CreateView,
    DeleteView,
    EditView,
    HistoryView,
    IndexView,
    InspectView,
    SnippetViewSet,
    SnippetViewSetGroup,
    UsageView,
)

from . import admin_ledger, admin_views
from .admin_forms import HouseholdForm, VillageGroupForm, villages_for
from .admin_ledger_forms import RubricItemForm
from .admin_ledger_policy import RubricCategoryPermissionPolicy, rubric_item_in_use
from .admin_policy import ScopedPermissionPolicy
from .exceptions import HeheError
from .models import Household, RubricCategory, RubricItem, StaffRole, Village, VillageGroup
from .register import household_save, staff_role_save
from .rubric import rubric_item_save
from .scope import Capability, scope_for
from .selectors import household_search, pending_claims

REGISTER_ACTIONS = {
    "view": Capability.VIEW_REGISTER,
    "add": Capability.CHANGE_REGISTER,
    "change": Capability.CHANGE_REGISTER,
}


class ScopedObjectMixin:
    """Wagtail's object views check model-level permission only; this adds the per-row scope check.

    An object outside the user's scope answers 404, so its existence does not leak.
    """

    scope_action = "view"

    def get_object(self, *args, **kwargs):  # some of Wagtail's views take a queryset, the history view none
        obj = super().get_object(*args, **kwargs)
        if not self.permission_policy.user_has_permission_for_instance(self.request.user, self.scope_action, obj):
            raise Http404
        return obj


def scoped(view_class, action="view"):
    return type(f"Scoped{view_class.__name__}", (ScopedObjectMixin, view_class), {"scope_action": action})


def scoped_object_views(edit_view_class=EditView):
    """The object views of a snippet viewset, each checking the row against the scope."""
    return {
        "edit_view_class": scoped(edit_view_class, "change"),
        "delete_view_class": scoped(DeleteView, "delete"),
        "inspect_view_class": scoped(InspectView),
        "history_view_class": scoped(HistoryView),
        "usage_view_class": scoped(UsageView),
    }


def _scope_villages(request):
    return scope_for(request.user).villages() if request else scope_for(None).villages()


def _scope_groups(request):
    return VillageGroup.objects.filter(village__in=_scope_villages(request)).select_related("village")


class HouseholdFilterSet(WagtailFilterSet):
    """Filter choices limited to the user's villages: the filter must not list other villages either."""

    village = django_filters.ModelChoiceFilter(label=_("村"), queryset=_scope_villages)
    group = django_filters.ModelChoiceFilter(label=_("组"), queryset=_scope_groups)
    status = django_filters.ChoiceFilter(label=_("状态"), choices=Household.Status.choices)

    class Meta:
        model = Household
        fields = ["village", "group", "status"]


class ServiceSaveMixin:
    """Create/edit views that save through a service and show its refusals on the form."""

    @staticmethod
    def service(instance, actor):
        return household_save(household=instance, actor=actor)

    def form_valid(self, form):
        self.form = form
        try:
            self.object = self.service(form.save(commit=False), self.request.user)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, messages in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages)
            else:
                form.add_error(None, exc.messages)
            return self._refused(form)
        except HeheError as exc:
            form.add_error(None, str(exc.message))
            return self._refused(form)
        return self.save_action()

    def _refused(self, form):
        self.produced_error_code = "validation_error"
        self.produced_error_message = self.get_error_message()
        return self.form_invalid(form)


class HouseholdCreateView(ServiceSaveMixin, CreateView):
    pass


class HouseholdEditView(ServiceSaveMixin, EditView):
    pass


class StaffRoleServiceMixin(ServiceSaveMixin):
    @staticmethod
    def service(instance, actor):
        return staff_role_save(role=instance, actor=actor)


class StaffRoleCreateView(StaffRoleServiceMixin, CreateView):
    pass


class StaffRoleEditView(StaffRoleServiceMixin, EditView):
    pass


class HouseholdIndexView(IndexView):
    """Search by number, head's or any member's name, or pinyin initials (``zsf`` finds 张三丰)."""

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        return household_search(scope=scope_for(self.request.user), query=self.search_query).filter(
            pk__in=queryset.values("pk")
        )

    def get_list_more_buttons(self, instance):
        buttons = list(super().get_list_more_buttons(instance))
        scope = scope_for(self.request.user)
        if scope.can(Capability.CHANGE_REGISTER, instance.village_id):
            if instance.is_archived:
                buttons.append(
                    ListingButton(
                        _("恢复"),
                        url=reverse("points_household_restore", args=[instance.pk]),
                        icon_name="undo",
                        priority=40,
                        attrs={"data-restore": "1"},
                    )
                )
            else:
                buttons.append(
                    ListingButton(
                        _("归档"),
                        url=reverse("points_household_archive", args=[instance.pk]),
                        icon_name="folder-inverse",
                        priority=40,
                    )
                )
        if scope.can(Capability.VIEW_LEDGER, instance.village_id):
            buttons.append(
                ListingButton(
                    _("积分明细"),
                    url=reverse("points_ledger_statement", args=[instance.pk]),
                    icon_name="list-ul",
                    priority=30,
                )
            )
        if scope.can(Capability.ISSUE_RESIDENT_PASSWORD, instance.village_id) and not instance.is_archived:
            buttons.append(
                ListingButton(
                    _("居民密码"),
                    url=reverse("points_resident_password", args=[instance.pk]),
                    icon_name="key",
                    priority=50,
                )
            )
        return buttons


class HouseholdViewSet(SnippetViewSet):
    model = Household
    icon = "home"
    menu_label = _("户籍")
    menu_name = "households"
    add_to_admin_menu = False
    index_view_class = HouseholdIndexView
    add_view_class = HouseholdCreateView
    locals().update(scoped_object_views(HouseholdEditView))
    filterset_class = HouseholdFilterSet
    inspect_view_enabled = True
    copy_view_enabled = False
    list_per_page = 50
    list_display = [
        "number",
        "head_name",
        "village",
        "group",
        Column("status", label=_("状态"), accessor="get_status_display"),
    ]
    ordering = ["village", "number"]
    search_fields = ["number", "head_name", "head_initials"]
    search_backend_name = None
    # A SnippetViewSet ignores ``base_form_class``: the scoped form goes on the edit handler, so the village and
    # group choices never list another village.
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [
                    FieldRowPanel([FieldPanel("village"), FieldPanel("number")]),
                    FieldPanel("group"),
                    FieldPanel("address"),
                ],
                heading=_("户"),
            ),
            InlinePanel(
                "members",
                heading=_("家庭成员"),
                label=_("成员"),
                min_num=1,
                panels=[
                    FieldRowPanel(
                        [FieldPanel("name"), FieldPanel("relation"), FieldPanel("gender"), FieldPanel("birth_year")]
                    ),
                    FieldRowPanel([FieldPanel("phone"), FieldPanel("id_number")]),
                ],
            ),
        ],
        base_form_class=HouseholdForm,
    )

    def get_queryset(self, request):
        return scope_for(request.user).households()


class VillageGroupViewSet(SnippetViewSet):
    model = VillageGroup
    icon = "group"
    menu_label = _("村民小组")
    menu_name = "groups"
    list_display = ["name", "village"]
    locals().update(scoped_object_views())
    copy_view_enabled = False
    edit_handler = ObjectList([FieldPanel("village"), FieldPanel("name")], base_form_class=VillageGroupForm)

    def get_queryset(self, request):
        return VillageGroup.objects.filter(village__in=scope_for(request.user).villages()).select_related("village")


class StaffRoleViewSet(SnippetViewSet):
    """Only a district admin (or superuser) assigns roles; committees never manage users."""

    model = StaffRole
    icon = "user"
    menu_label = _("工作人员角色")
    menu_name = "staff_roles"
    add_view_class = StaffRoleCreateView
    locals().update(scoped_object_views(StaffRoleEditView))
    list_display = ["user", "role", "district", "township", "village"]
    copy_view_enabled = False
    panels = [
        FieldPanel("user"),
        FieldPanel("role"),
        FieldPanel("district"),
        FieldPanel("township"),
        FieldPanel("village"),
    ]


class VillageViewSet(SnippetViewSet):
    model = Village
    icon = "site"
    menu_label = _("村")
    menu_name = "villages"
    list_display = ["name", "code", "township"]
    locals().update(scoped_object_views())
    copy_view_enabled = False

    def get_queryset(self, request):
        return scope_for(request.user).villages()


class RegisterGroup(SnippetViewSetGroup):
    menu_label = _("户籍管理")
    menu_icon = "home"
    menu_order = 100
    items = (HouseholdViewSet, VillageGroupViewSet, VillageViewSet, StaffRoleViewSet)


for model, policy in (
    (Household, ScopedPermissionPolicy(Household, actions=REGISTER_ACTIONS)),
    (VillageGroup, ScopedPermissionPolicy(VillageGroup, actions=REGISTER_ACTIONS)),
    (
        Village,
        ScopedPermissionPolicy(
            Village,
            village_field="id",
            actions={
                "view": Capability.VIEW_REGISTER,
                "add": Capability.MANAGE_STAFF,
                "change": Capability.MANAGE_STAFF,
            },
        ),
    ),
    (
        StaffRole,
        ScopedPermissionPolicy(
            StaffRole, actions={a: Capability.MANAGE_STAFF for a in ("view", "add", "change", "delete")}
        ),
    ),
):
    register_permission_policy(model, policy)

register_snippet(RegisterGroup)


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [
        path("register/households/<int:pk>/archive/", admin_views.household_archive, name="points_household_archive"),
        path("register/households/<int:pk>/restore/", admin_views.household_restore, name="points_household_restore"),
        path("register/households/<int:pk>/password/", admin_views.resident_password, name="points_resident_password"),
        path("register/import/", admin_views.register_import, name="points_register_import"),
        path("register/template.xlsx", admin_views.register_template, name="points_register_template"),
        path("register/export/", admin_views.register_export, name="points_register_export"),
    ]


class ScopedMenuItem(MenuItem):
    def __init__(self, *args, capability: Capability, **kwargs):
        super().__init__(*args, **kwargs)
        self.capability = capability

    def is_shown(self, request):
        return scope_for(request.user).can(self.capability)


@hooks.register("register_admin_menu_item")
def register_import_menu_item():
    return ScopedMenuItem(
        _("导入户籍"),
        reverse("points_register_import"),
        icon_name="upload",
        order=101,
        capability=Capability.IMPORT_REGISTER,
    )


@hooks.register("register_admin_menu_item")
def register_export_menu_item():
    return ScopedMenuItem(
        _("导出户籍"),
        reverse("points_register_export"),
        icon_name="download",
        order=102,
        capability=Capability.IMPORT_REGISTER,
    )


# --- the ledger: 积分管理 (awards, claims, objections, notices, the rubric) -------------------------------------

register_permission_policy(RubricItem, admin_ledger.RUBRIC_POLICY)
register_permission_policy(RubricCategory, RubricCategoryPermissionPolicy())

IN_USE = _("「%(object)s」已被使用（有积分记录、申报或替代细则），不能删除；如不再使用，请编辑并取消「启用」。")
CATEGORY_IN_USE = _("「%(object)s」下还有细则，不能删除。")


class InstanceLinksMixin:
    """Listing links per row: edit and delete only where the policy allows them for that row."""

    def _allowed(self, action, instance):
        return self.permission_policy.user_has_permission_for_instance(self.request.user, action, instance)

    def get_edit_url(self, instance):
        return super().get_edit_url(instance) if self._allowed("change", instance) else None

    def get_delete_url(self, instance):
        return super().get_delete_url(instance) if self._allowed("delete", instance) else None


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


class RubricItemEditView(RubricItemServiceMixin, EditView):
    pass


class ProtectedDeleteView(DeleteView):
    """Delete only what nothing refers to; otherwise say why (and how to retire it) instead of failing.

    Another village's row (or a district row without MANAGE_STAFF) answers 404, like every object view.
    """

    in_use_message = IN_USE

    def get_object(self, *args, **kwargs):  # some of Wagtail's views take a queryset, the history view none
        obj = super().get_object(*args, **kwargs)
        if not self.permission_policy.user_has_permission_for_instance(self.request.user, "change", obj):
            raise Http404
        return obj

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


class RubricItemViewSet(SnippetViewSet):
    """积分细则: district items (district admin) and village items and overrides (committees)."""

    model = RubricItem
    icon = "list-ol"
    menu_label = _("积分细则")
    menu_name = "rubric_items"
    menu_order = 5
    index_view_class = RubricItemIndexView
    add_view_class = RubricItemCreateView
    locals().update(scoped_object_views(RubricItemEditView))
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


class RubricCategoryViewSet(SnippetViewSet):
    model = RubricCategory
    icon = "folder-open-1"
    menu_label = _("细则分类")
    menu_name = "rubric_categories"
    menu_order = 6
    index_view_class = type("RubricCategoryIndexView", (InstanceLinksMixin, IndexView), {})
    locals().update(scoped_object_views())
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


from . import wagtail_hooks_store  # noqa: E402, F401  (the store admin: its own module, loaded with these hooks)
