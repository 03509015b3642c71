"""The shared admin base of the points app's viewsets: a snippet viewset whose object views check each row
against the scope (an object outside it answers 404), create/edit views that save through a service and show its
refusals on the form, and listing links shown only where the policy allows them."""

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import Http404
from wagtail.snippets.views.snippets import (
    DeleteView,
    EditView,
    HistoryView,
    InspectView,
    SnippetViewSet,
    UsageView,
)

from points.admin.forms import show_refusal
from points.exceptions import HeheError


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


class ScopedEditView(ScopedObjectMixin, EditView):
    scope_action = "change"


class ScopedDeleteView(ScopedObjectMixin, DeleteView):
    scope_action = "delete"


class ScopedInspectView(ScopedObjectMixin, InspectView):
    pass


class ScopedHistoryView(ScopedObjectMixin, HistoryView):
    pass


class ScopedUsageView(ScopedObjectMixin, UsageView):
    pass


class ScopedSnippetViewSet(SnippetViewSet):
    """A snippet viewset whose every object view checks the row against the scope (404 outside it).

    A viewset with its own edit or delete view subclasses ``ScopedEditView`` or ``ScopedDeleteView`` and names it
    as usual (``edit_view_class = HouseholdEditView``); one that would skip the row check is refused at start-up.
    """

    edit_view_class = ScopedEditView
    delete_view_class = ScopedDeleteView
    inspect_view_class = ScopedInspectView
    history_view_class = ScopedHistoryView
    usage_view_class = ScopedUsageView

    OBJECT_VIEWS = (
        "edit_view_class",
        "delete_view_class",
        "inspect_view_class",
        "history_view_class",
        "usage_view_class",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.OBJECT_VIEWS:
            if not issubclass(getattr(self, name), ScopedObjectMixin):
                raise ImproperlyConfigured(
                    f"{type(self).__name__}.{name} must check the row against the scope: subclass a Scoped*View"
                )


class ServiceSaveMixin:
    """Create/edit views that save through a service and show its refusals on the form."""

    @staticmethod
    def service(instance, actor):
        raise NotImplementedError("a viewset's create and edit views name the service that saves their model")

    def form_valid(self, form):
        self.form = form
        try:
            self.object = self.service(form.save(commit=False), self.request.user)
        except (HeheError, ValidationError) as exc:
            show_refusal(form, exc)
            return self._refused(form)
        return self.save_action()

    def _refused(self, form):
        self.produced_error_code = "validation_error"
        self.produced_error_message = self.get_error_message()
        return self.form_invalid(form)


class InstanceLinksMixin:
    """Listing links per row: edit and delete only where the policy allows them for that row."""

    def _allowed(self, action, instance):
        return self.permission_policy.user_has_permission_for_instance(self.request.user, action, instance)

    def get_edit_url(self, instance):
        return super().get_edit_url(instance) if self._allowed("change", instance) else None

    def get_delete_url(self, instance):
        return super().get_delete_url(instance) if self._allowed("delete", instance) else None
