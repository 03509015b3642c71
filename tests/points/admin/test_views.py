"""The shared scoped viewset: every object view of the points and campaigns snippets checks the row's scope."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from wagtail.snippets.models import get_snippet_models
from wagtail.snippets.views.snippets import EditView

from points.admin.views import ScopedObjectMixin, ScopedSnippetViewSet
from points.models import VillageGroup


def test_every_points_and_campaigns_snippet_checks_the_scope_in_each_object_view():
    ours = [m for m in get_snippet_models() if m._meta.app_label in ("points", "campaigns")]
    assert {m._meta.model_name for m in ours} >= {"household", "product", "rubricitem", "campaign"}
    for model in ours:
        viewset = model.snippet_viewset
        assert isinstance(viewset, ScopedSnippetViewSet), model
        for name in ScopedSnippetViewSet.OBJECT_VIEWS:
            assert issubclass(getattr(viewset, name), ScopedObjectMixin), (model, name)


def test_an_object_view_without_the_scope_check_is_refused_at_start_up():
    class Careless(ScopedSnippetViewSet):
        model = VillageGroup
        edit_view_class = EditView

    with pytest.raises(ImproperlyConfigured, match="Careless.edit_view_class"):
        Careless()
