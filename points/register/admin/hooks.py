"""The register in the Wagtail admin (户籍管理): households (with members inline), groups, villages, staff roles,
import and export.

Every viewset uses a ``ScopedPermissionPolicy`` and a scoped queryset, so what a user sees and may change is
decided by ``points.scope`` alone. Saves go through ``points.register.services``, not ``form.save()``.
"""

import django_filters
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.widgets import ListingButton
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import CreateView, IndexView, SnippetViewSetGroup

from points.admin.menu import ScopedMenuItem
from points.admin.policy import ScopedPermissionPolicy
from points.admin.views import ScopedEditView, ScopedSnippetViewSet, ServiceSaveMixin
from points.models import Household, StaffRole, Village, VillageGroup
from points.register.admin import views as admin_views
from points.register.admin.forms import HouseholdForm, VillageGroupForm
from points.register.selectors import household_search
from points.register.services import household_save, staff_role_save
from points.scope import Capability, scope_for

REGISTER_ACTIONS = {
    "view": Capability.VIEW_REGISTER,
    "add": Capability.CHANGE_REGISTER,
    "change": Capability.CHANGE_REGISTER,
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


class HouseholdServiceMixin(ServiceSaveMixin):
    @staticmethod
    def service(instance, actor):
        return household_save(household=instance, actor=actor)


class HouseholdCreateView(HouseholdServiceMixin, CreateView):
    pass


class HouseholdEditView(HouseholdServiceMixin, ScopedEditView):
    pass


class StaffRoleServiceMixin(ServiceSaveMixin):
    @staticmethod
    def service(instance, actor):
        return staff_role_save(role=instance, actor=actor)


class StaffRoleCreateView(StaffRoleServiceMixin, CreateView):
    pass


class StaffRoleEditView(StaffRoleServiceMixin, ScopedEditView):
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


class HouseholdViewSet(ScopedSnippetViewSet):
    model = Household
    icon = "home"
    menu_label = _("户籍")
    menu_name = "households"
    add_to_admin_menu = False
    index_view_class = HouseholdIndexView
    add_view_class = HouseholdCreateView
    edit_view_class = HouseholdEditView
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


class VillageGroupViewSet(ScopedSnippetViewSet):
    model = VillageGroup
    icon = "group"
    menu_label = _("村民小组")
    menu_name = "groups"
    list_display = ["name", "village"]
    copy_view_enabled = False
    edit_handler = ObjectList([FieldPanel("village"), FieldPanel("name")], base_form_class=VillageGroupForm)

    def get_queryset(self, request):
        return VillageGroup.objects.filter(village__in=scope_for(request.user).villages()).select_related("village")


class StaffRoleViewSet(ScopedSnippetViewSet):
    """Only a district admin (or superuser) assigns roles; committees never manage users."""

    model = StaffRole
    icon = "user"
    menu_label = _("工作人员角色")
    menu_name = "staff_roles"
    add_view_class = StaffRoleCreateView
    edit_view_class = StaffRoleEditView
    list_display = ["user", "role", "district", "township", "village"]
    copy_view_enabled = False
    panels = [
        FieldPanel("user"),
        FieldPanel("role"),
        FieldPanel("district"),
        FieldPanel("township"),
        FieldPanel("village"),
    ]


class VillageViewSet(ScopedSnippetViewSet):
    model = Village
    icon = "site"
    menu_label = _("村")
    menu_name = "villages"
    list_display = ["name", "code", "township"]
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
