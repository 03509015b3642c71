"""Chinese first: pages are in zh-hans unless the reader chose another language with the switch.

Django's LocaleMiddleware would follow the browser's Accept-Language, and many phones of the elderly residents
we serve are set to English by whoever sold them. The pages ignore it and follow only the explicit choice (the
language cookie); the JSON API still honours Accept-Language, as its contract says.
"""

from django.middleware.locale import LocaleMiddleware


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return super().process_request(request)
