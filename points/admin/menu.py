"""A menu item shown only to users whose scope holds its capability."""

from wagtail.admin.menu import MenuItem

from points.scope import Capability, scope_for


class ScopedMenuItem(MenuItem):
    def __init__(self, *args, capability: Capability, **kwargs):
        super().__init__(*args, **kwargs)
        self.capability = capability

    def is_shown(self, request):
        return scope_for(request.user).can(self.capability)
