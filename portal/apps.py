from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("门户")

    def ready(self):
        from portal.cache import connect_signals

        connect_signals()  # the public page cache is purged when what the pages show changes

        from wagtail.signals import page_published

        from .models import FamilyMottoPage
        from .mottos import motto_credit

        # A motto's first publication credits its household once (portal.mottos).
        page_published.connect(motto_credit, sender=FamilyMottoPage, dispatch_uid="portal_motto_credit")
