"""Every error of the API as ``application/problem+json`` (RFC 9457), in the caller's language.

Owns the mapping from domain exceptions (``points.exceptions``) and ninja/pydantic errors to HTTP statuses, and
the last-resort handler: no input may produce a bare 500, and a truly unexpected error is logged with phone and
ID numbers blotted out before it answers a problem 500.
"""

import json
import logging
import traceback

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError, ValidationError

from points.exceptions import (
    AlreadyReversed,
    CapExceeded,
    HeheError,
    IdempotencyConflict,
    InactiveItem,
    InsufficientPoints,
    InvalidAmount,
    MonthClosed,
    NotReversible,
    OutOfScope,
)
from points.privacy import mask_numbers

logger = logging.getLogger("portal.api")

CONTENT_TYPE = "application/problem+json"

# Problem types are URNs: stable names a client can branch on, not pages anyone has to host.
TYPE_PREFIX = "urn:hehe:problem:"

# The rules of the ledger that refuse a request: 409, each with its own type.
REFUSALS = [
    (InsufficientPoints, "insufficient-points"),
    (AlreadyReversed, "already-reversed"),
    (NotReversible, "not-reversible"),
    (CapExceeded, "cap-exceeded"),
    (InactiveItem, "inactive-item"),
    (MonthClosed, "month-closed"),
    (InvalidAmount, "invalid-amount"),
    (IdempotencyConflict, "idempotency-conflict"),
]


def titles() -> dict[int, str]:
    """Short titles per status, translated at call time (the request's language is active then)."""
    return {
        400: _("请求无效"),
        401: _("需要有效的令牌"),
        403: _("无权操作"),
        404: _("找不到"),
        405: _("不支持该请求方法"),
        409: _("请求被拒绝"),
        413: _("请求过大"),
        429: _("登录尝试过多"),
        500: _("服务器内部错误"),
    }


def problem(status: int, detail, *, kind: str | None = None, errors: dict | None = None, title=None) -> HttpResponse:
    """One RFC 9457 problem response. ``errors`` maps a field to its messages (invalid input only)."""
    body = {
        "type": TYPE_PREFIX + (kind or _default_kind(status)),
        "title": str(title or titles().get(status, _("请求无效"))),
        "status": status,
        "detail": str(detail),
    }
    if errors:
        body["errors"] = {field: [str(m) for m in messages] for field, messages in errors.items()}
    content = json.dumps(body, ensure_ascii=False, cls=DjangoJSONEncoder)
    return HttpResponse(content, status=status, content_type=CONTENT_TYPE)


def _default_kind(status: int) -> str:
    return {
        400: "invalid-input",
        401: "unauthenticated",
        403: "forbidden",
        404: "not-found",
        405: "method-not-allowed",
        409: "refused",
        413: "too-large",
        429: "too-many-attempts",
        500: "server-error",
    }.get(status, "error")


def invalid(errors: dict, detail=None) -> HttpResponse:
    return problem(400, detail or _("请求中有无效的内容，请按字段说明修改"), errors=errors)


def not_found(detail=None, errors: dict | None = None) -> HttpResponse:
    return problem(404, detail or _("找不到该对象，或您无权查看"), errors=errors)


def forbidden(detail=None) -> HttpResponse:
    return problem(403, detail or OutOfScope.default_message, kind="out-of-scope")


def from_domain(exc: HeheError) -> HttpResponse:
    """A service refused: outside the caller's scope is 403 (the object's existence was already known to
    them), every other refusal is a rule saying no, 409."""
    if isinstance(exc, OutOfScope):
        return forbidden(exc.message)
    for cls, kind in REFUSALS:
        if isinstance(exc, cls):
            return problem(409, exc.message, kind=kind)
    return problem(409, exc.message, kind="refused")


# --- pydantic / ninja validation errors ------------------------------------------------------------------------

# Where ninja says an error was found; the body's single schema argument is always called ``payload``.
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}
_WRAPPERS = {"payload", "filters"}


def _field(loc) -> str:
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    if parts and parts[0] in _WRAPPERS:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "body"


def _message(error: dict) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("此项为必填项")
    if kind in {"int_type", "int_parsing", "int_from_float", "int_parsing_size"}:
        return _("须为整数")
    if kind in {"greater_than_equal", "greater_than"}:
        limit = ctx.get("ge", ctx.get("gt"))
        if kind == "greater_than":
            return _("须大于 %(limit)s") % {"limit": limit}
        return _("不能小于 %(limit)s") % {"limit": limit}
    if kind in {"less_than_equal", "less_than"}:
        limit = ctx.get("le", ctx.get("lt"))
        return _("不能大于 %(limit)s") % {"limit": limit}
    if kind == "string_type":
        return _("须为文字")
    if kind == "string_too_short":
        return _("不能为空")
    if kind == "string_too_long":
        return _("过长（最多 %(max)s 字）") % {"max": ctx.get("max_length")}
    if kind == "list_type":
        return _("须为列表")
    if kind == "too_short":
        return _("至少需要 %(min)s 项") % {"min": ctx.get("min_length")}
    if kind == "too_long":
        return _("最多 %(max)s 项") % {"max": ctx.get("max_length")}
    if kind in {"null_character", "not_unicode"}:
        return _("含有无法保存的字符")
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return _("须为 JSON 对象")
    return _("格式不正确")


def from_validation(exc: ValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        errors.setdefault(_field(error.get("loc", ())), []).append(_message(error))
    return invalid(errors)


# --- handlers registered on the NinjaAPI ----------------------------------------------------------------------


def scrub(text: str) -> str:
    """Blot out anything shaped like a phone or ID number: logs must never hold them."""
    return mask_numbers(text)


def install(api) -> None:
    """Replace ninja's default handlers (422 lists, HTML 500s) with problem responses."""

    @api.exception_handler(ValidationError)
    def validation_error(request, exc):
        return from_validation(exc)

    @api.exception_handler(AuthenticationError)
    def authentication_error(request, exc):
        response = problem(401, _("缺少令牌，或令牌无效、已撤销"))
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        # ninja raises these itself for a body it cannot parse (400); we raise none of our own.
        if exc.status_code == 400:
            return problem(400, _("请求正文不是有效的 JSON 对象"), kind="malformed-body")
        return problem(exc.status_code, titles().get(exc.status_code, _("请求无效")))

    @api.exception_handler(HeheError)
    def domain_error(request, exc):
        return from_domain(exc)

    @api.exception_handler(Http404)
    def http404(request, exc):
        return not_found()

    @api.exception_handler(PermissionDenied)
    def permission_denied(request, exc):
        return forbidden()

    @api.exception_handler(RequestDataTooBig)
    def too_big(request, exc):
        return problem(413, _("请求正文过大"))

    @api.exception_handler(TooManyFieldsSent)
    def too_many_fields(request, exc):
        return problem(400, _("请求中的字段过多"))

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request, exc):
        return problem(400, _("请求无效"))

    @api.exception_handler(Exception)
    def unexpected(request, exc):
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        logger.error("API %s %s failed:\n%s", request.method, request.path, scrub(trace))
        return problem(500, _("服务器出错了，请稍后再试；问题已记录"))
