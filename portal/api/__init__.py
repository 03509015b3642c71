"""The JSON API v1 (docs: /work/shared/api.md), mounted at ``/api/v1/`` by ``portal.urls``.

One ``NinjaAPI``: bearer-token auth by default (``tokens``), every error as problem+json (``problems``), each
request in the caller's language (Accept-Language; zh-hans by default), docs served locally (``docs``).
Endpoints live in routers per concern; they call ``points`` services and selectors and add no rules.
"""

import functools

from django.utils import translation
from ninja import NinjaAPI, Router

from points.ledger import books
from portal.api import campaigns, docs, ledger, problems, store, tokens
from portal.api.parser import ObjectParser

__all__ = ["api"]


def in_callers_language(run):
    """Activate the language the caller asked for (Accept-Language) for the whole request, auth included."""

    @functools.wraps(run)
    def wrapper(request, *args, **kwargs):
        language = translation.get_language_from_request(request)
        with translation.override(language):
            response = run(request, *args, **kwargs)
        response.headers.setdefault("Content-Language", language)
        return response

    return wrapper


class HeheAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """ninja documents every response as application/json and an optional header as optional; say what
        the API does: problems are application/problem+json, and points-moving POSTs require Idempotency-Key
        (the handler answers its absence with a 400 of its own, hence the optional parameter in code)."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for parameter in operation.get("parameters", []):
                    if parameter.get("in") == "header" and parameter.get("name") == "Idempotency-Key":
                        parameter["required"] = True
                        parameter["schema"] = {"type": "string", "maxLength": books.MAX_IDEMPOTENCY_KEY_LENGTH}
                for response in operation.get("responses", {}).values():
                    content = response.get("content", {})
                    body = content.get("application/json")
                    if body and body.get("schema", {}).get("$ref", "").endswith("/Problem"):
                        content[problems.CONTENT_TYPE] = content.pop("application/json")
        return schema


api = HeheAPI(
    title="和合积分 API",
    version="1",
    description=(
        "Points ledger, register, store and campaigns of 和合积分. Errors are application/problem+json (RFC 9457)."
    ),
    urls_namespace="api-v1",
    auth=tokens.TokenAuth(),
    docs=docs.LocalSwagger(),
    parser=ObjectParser(),
)
problems.install(api)
api.add_decorator(in_callers_language, mode="view")
api.add_router("", tokens.router)
api.add_router("", ledger.router)
api.add_router("", store.router)
api.add_router("", campaigns.router)
api.add_router("", docs.router)

# Last: any other path under /api/v1/ answers a problem 404, not the site's HTML page.
unknown = Router()


@unknown.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None, include_in_schema=False)
def unknown_path(request, rest: str):
    return problems.not_found()


api.add_router("", unknown)
