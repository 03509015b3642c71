from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    """Selection campaigns (评选). Built on points; the models arrive with the campaigns issue."""

    name = "campaigns"
    verbose_name = _("评选")
