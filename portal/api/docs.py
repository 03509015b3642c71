"""The interactive docs at ``/api/v1/docs``, served entirely from this server.

ninja renders Swagger UI from a CDN unless ``ninja`` is in INSTALLED_APPS; village deployments may have no
internet, and no page of ours may pull scripts from elsewhere. So the page is rendered here and the three files
it needs are read from ninja's own package, under ``/api/v1/docs/assets/``. Swagger UI's online validator
(``validatorUrl``), which would send the schema to swagger.io, is switched off.
"""

import mimetypes
from pathlib import Path

import ninja
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.utils.html import escape, json_script
from django.utils.translation import get_language
from ninja import Router
from ninja.openapi.docs import DocsBase

from portal.api import problems

ASSETS_DIR = Path(ninja.__file__).resolve().parent / "static" / "ninja"
ASSETS = {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-init.js"}

router = Router()


class LocalSwagger(DocsBase):
    def render_page(self, request, api, **kwargs):
        def asset(name):
            return escape(reverse(f"{api.urls_namespace}:docs_asset", kwargs={"name": name}))

        settings = {
            "url": self.get_openapi_url(api, kwargs),
            "layout": "BaseLayout",
            "deepLinking": True,
            "validatorUrl": None,
        }
        html = (
            "<!DOCTYPE html>\n"
            f'<html lang="{escape(get_language() or "zh-hans")}"><head><meta charset="utf-8">'
            f"<title>{escape(api.title)}</title>"
            f'<link rel="stylesheet" href="{asset("swagger-ui.css")}"></head><body>'
            f"{json_script(settings, 'swagger-settings')}"
            '<div id="swagger-ui"></div>'
            f'<script src="{asset("swagger-ui-bundle.js")}"></script>'
            f'<script src="{asset("swagger-ui-init.js")}"></script>'
            "</body></html>"
        )
        return HttpResponse(html)


@router.get("/docs/assets/{name}", auth=None, include_in_schema=False, url_name="docs_asset")
def docs_asset(request, name: str):
    if name not in ASSETS:
        return problems.not_found()
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse((ASSETS_DIR / name).open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    return response
