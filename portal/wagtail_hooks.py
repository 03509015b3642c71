"""The API's tokens in the Wagtail admin: a listing and a revoke button.

A district admin (or superuser) sees every token; a committee (whoever may issue residents' passwords) also the
tokens of its villages' residents, to end a lost phone's; anyone else with an admin login only their own. Tokens are
issued by ``POST /api/v1/token``, never here, and never edited: revoking (``portal.api.tokens.token_revoke``)
sets ``revoked_at`` and keeps the row.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin import messages
from wagtail.admin.ui.tables import Column
from wagtail.permission_policies.base import BasePermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import DeleteView, HistoryView, IndexView, InspectView, SnippetViewSet, UsageView

from points import clock
from points.models import StaffRole
from points.scope import SUPERUSER, Capability, scope_for
from portal.api.tokens import token_live, token_revoke
from portal.models import ApiToken

SEES_ALL = {SUPERUSER, StaffRole.Role.DISTRICT_ADMIN}


def tokens_for(user):
    """The tokens ``user`` may see and revoke."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ApiToken.objects.none()
    tokens = ApiToken.objects.select_related("user")
    scope = scope_for(user)
    if scope.role in SEES_ALL:
        return tokens
    residents = [
        village_id
        for village_id in (scope.village_ids or ())
        if scope.can(Capability.ISSUE_RESIDENT_PASSWORD, village_id)
    ]
    return tokens.filter(Q(user=user) | Q(user__resident__village_id__in=residents))


def token_status(token) -> str:
    """What the listing says of a token: why it no longer works, or that it does."""
    now = clock.now()
    if token.revoked_at is not None:
        return gettext("已撤销")
    if token.expires_at <= now:
        return gettext("已过期")
    if not token_live(token, now):
        return gettext("已失效（密码已重置或账号停用）")
    return gettext("有效")


class ApiTokenPermissionPolicy(BasePermissionPolicy):
    """View and revoke ("delete") only; a token is never created or edited in the admin."""

    actions = {"view", "delete"}

    def user_has_permission(self, user, action):
        return action in self.actions and getattr(user, "is_authenticated", False) and user.is_active

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        if action == "delete" and instance.is_revoked:
            return False
        return tokens_for(user).filter(pk=instance.pk).exists()

    def instances_user_has_any_permission_for(self, user, actions):
        if not any(self.user_has_permission(user, a) for a in actions):
            return ApiToken.objects.none()
        return tokens_for(user)

    def users_with_any_permission(self, actions):
        return get_user_model().objects.none()

    def users_with_any_permission_for_instance(self, actions, instance):
        return get_user_model().objects.none()


class OwnTokensMixin:
    """Object views find only the tokens the user may see: another user's token answers 404."""

    def get_object(self, *args, **kwargs):
        # Wagtail's object views disagree on get_object's signature (the history view takes no queryset).
        obj = super().get_object(*args, **kwargs)
        if not tokens_for(self.request.user).filter(pk=obj.pk).exists():
            raise Http404
        return obj


class ApiTokenIndexView(IndexView):
    def get_list_more_buttons(self, instance):
        buttons = list(super().get_list_more_buttons(instance))
        delete_url = self.get_delete_url(instance)
        for button in buttons:
            if delete_url and button.url == delete_url:
                button.label = _("撤销")
        return buttons


class ApiTokenRevokeView(OwnTokensMixin, DeleteView):
    page_title = _("撤销接口令牌")
    template_name = "wagtailusers/api_tokens/confirm_revoke.html"

    def get_usage_url(self):
        return None

    @property
    def confirmation_message(self):
        return gettext("撤销后，使用这个令牌的设备将无法再调用接口。确定撤销吗？")

    def form_valid(self, form):
        token_revoke(token=self.object)
        messages.success(self.request, gettext("已撤销接口令牌：%(name)s") % {"name": self.object.name})
        return HttpResponseRedirect(self.get_success_url())


class ApiTokenInspectView(OwnTokensMixin, InspectView):
    pass


class ApiTokenHistoryView(OwnTokensMixin, HistoryView):
    pass


class ApiTokenUsageView(OwnTokensMixin, UsageView):
    pass


class ApiTokenViewSet(SnippetViewSet):
    model = ApiToken
    icon = "key"
    menu_label = _("接口令牌")
    menu_name = "api_tokens"
    menu_order = 900
    add_to_admin_menu = True
    index_view_class = ApiTokenIndexView
    delete_view_class = ApiTokenRevokeView
    inspect_view_class = ApiTokenInspectView
    history_view_class = ApiTokenHistoryView
    usage_view_class = ApiTokenUsageView
    inspect_view_enabled = True
    inspect_view_fields = ["name", "user", "created_at", "expires_at", "last_used_at", "revoked_at"]
    copy_view_enabled = False
    list_display = [
        "name",
        "user",
        "created_at",
        "expires_at",
        "last_used_at",
        Column("status", label=_("状态"), accessor=token_status),
    ]
    list_filter = []
    ordering = ["-created_at", "-id"]

    def get_queryset(self, request):
        return tokens_for(request.user)


register_permission_policy(ApiToken, ApiTokenPermissionPolicy(ApiToken))
register_snippet(ApiTokenViewSet)
