"""Two response policies of the site: Chinese first, and the security headers every answer carries.

Chinese first: pages are in zh-hans unless the reader chose another language with the switch.

Django's LocaleMiddleware would follow the browser's Accept-Language, and many phones of the elderly residents
we serve are set to English by whoever sold them. The pages ignore it and follow only the explicit choice (the
language cookie); the JSON API still honours Accept-Language, as its contract says.
"""

from django.middleware.locale import LocaleMiddleware
from django.utils.cache import patch_cache_control, patch_vary_headers

# The public site and the residents' pages run no inline script and load nothing from another host (fonts,
# scripts, styles and images are the site's own), so the policy can be strict: an injected <script> or
# on*-attribute does not run, a form cannot post elsewhere, no other site may frame a page.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# The API's interactive docs (Swagger UI, served locally) set inline styles from its own script.
API_DOCS_POLICY = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
# Nothing on the site uses these; a page (or anything injected into one) cannot ask for them.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=()"
# Wagtail's admin still renders inline scripts of its own: it gets the permissions policy, not this CSP.
ADMIN_PREFIXES = ("/admin/", "/django-admin/")


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return super().process_request(request)


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every answer (the admin: the permissions policy only), and
    ``Cache-Control: private`` with ``Vary: Cookie`` on every answer to a signed-in user, so no shared cache (a
    proxy, the township's network) keeps one resident's page for the next visitor.

    Response-only, placed right after Django's SecurityMiddleware so that pages served by the page cache's fast
    path carry the headers too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        path = request.path_info
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if not path.startswith(ADMIN_PREFIXES) and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = (
                API_DOCS_POLICY if path.startswith("/api/v1/docs") else (CONTENT_SECURITY_POLICY)
            )
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True)
            patch_vary_headers(response, ("Cookie",))
        return response
