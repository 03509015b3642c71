"""The public site's pages. The home page is the root of the tree; the honor roll and the rest hang below it."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page


class HomePage(Page):
    """首页: the site's root. Later issues add the honor roll, rankings and news to its context."""

    intro = RichTextField(_("导语"), blank=True)
    max_count = 1
    parent_page_types = ["wagtailcore.Page"]

    content_panels = [*Page.content_panels, FieldPanel("intro")]

    class Meta:
        verbose_name = _("首页")

    def get_context(self, request, *args, **kwargs):
        from points.selectors import register_overview  # portal → points is the allowed direction

        context = super().get_context(request, *args, **kwargs)
        context["overview"] = register_overview()
        return context
