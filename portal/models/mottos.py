"""家风家训 pages: the index with the residents' phone form, one page per motto, the once-per-household credit."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index

from points.privacy import mask_numbers
from points.scope import scope_for
from portal.renditions import with_renditions

MOTTO_LIMIT = 100


class FamilyMottoIndexPage(Page):
    """家风家训: the published mottos, newest first. Residents submit theirs from the phone at ``/mottos/submit/``
    (``portal.views.mottos``, a plain view: a page route here would make the model and the motto service import
    each other); the submission becomes a DRAFT ``FamilyMottoPage`` in Wagtail's moderation workflow, the
    committee approves and publishes it in the admin, and the first publication credits the household once."""

    intro = RichTextField(_("导语"), blank=True)
    max_count = 1
    parent_page_types = ["portal.HomePage"]
    subpage_types = ["portal.FamilyMottoPage"]

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]

    class Meta:
        verbose_name = _("家风家训栏目")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        mottos = (
            FamilyMottoPage.objects.child_of(self)
            .live()
            .select_related("household__village", "photo")
            .order_by("-first_published_at", "-id")[:MOTTO_LIMIT]
        )
        context["mottos"] = with_renditions(mottos, "photo")
        return context


class FamilyMottoPageForm(WagtailAdminPageForm):
    """The motto's household decides who is paid for it and which committee moderates it, so the page editor
    never moves it: fixed once the page exists (a disabled field ignores whatever is posted for it), and on a new
    page only a household of the editor's own villages can be picked."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("household")
        if field is None:
            return
        if self.instance.pk:
            field.disabled = True
            field.help_text = _("家风家训所属的户不能在此修改")
        else:
            field.queryset = scope_for(self.for_user).households()


class FamilyMottoPage(Page):
    """一户的家风家训: motto, story and photo, linked to its household. Made by ``motto_submit`` as a draft in
    moderation (or by an editor in the admin); ``MottoCredit`` makes its first publication pay the household's
    motto points exactly once, however often it is published again."""

    household = models.ForeignKey(
        "points.Household", on_delete=models.PROTECT, related_name="portal_mottos", verbose_name=_("户")
    )
    motto = models.CharField(_("家风家训"), max_length=200)
    story = models.TextField(_("家风故事"), max_length=3000, blank=True)
    photo = models.ForeignKey(
        "wagtailimages.Image",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("照片"),
    )
    parent_page_types = ["portal.FamilyMottoIndexPage"]
    subpage_types = []
    base_form_class = FamilyMottoPageForm

    content_panels = [
        *Page.content_panels,
        FieldPanel("household"),
        FieldPanel("motto"),
        FieldPanel("story"),
        FieldPanel("photo"),
    ]
    # The head's whole name is not indexed: the title carries it masked where the village masks names, and a
    # search by the whole name must not reveal whose motto a masked one is. The motto and story are indexed as
    # the page shows them, numbers masked: a search for a phone number must not tell whose page holds it.
    search_fields = [
        *Page.search_fields,
        index.SearchField("public_motto"),
        index.SearchField("public_story"),
        index.RelatedFields("household", [index.RelatedFields("village", [index.SearchField("name")])]),
    ]

    class Meta:
        verbose_name = _("家风家训")

    def public_motto(self) -> str:
        return mask_numbers(self.motto)

    def public_story(self) -> str:
        return mask_numbers(self.story)


class MottoCredit(models.Model):
    """The exactly-once guard for a motto's points: the unique row is written in the same transaction as the
    transfer, so a second publication (or two at once) finds it and credits nothing."""

    page = models.OneToOneField(FamilyMottoPage, on_delete=models.PROTECT, related_name="credit")
    transfer = models.OneToOneField("points.Transfer", on_delete=models.PROTECT, related_name="+")
    credited_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("家风家训积分")
        verbose_name_plural = _("家风家训积分")

    def __str__(self):
        return f"{self.page} · {self.transfer_id}"
