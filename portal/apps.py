from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("门户")

    def ready(self):
        from .cache import connect_signals

        connect_signals()  # the public page cache is purged when what the pages show changes
