"""The public pages' cache: Wagtail pages and the public points notice, kept in Django's cache (Redis in
production, memory in tests and the demo) and purged whenever what they show changes.

What is cached: an anonymous GET or HEAD of a Wagtail page (``wagtail.views.serve``) or of a view marked with
``@public_page`` (the notice), answered 200, that set no cookie, carried no message and did not touch the
session. Never for a signed-in user (their pages show their own household), never a POST, never a response that
says ``Cache-Control: private``/``no-store``/``no-cache``, never for a visitor who passed a page's password
(that page is theirs alone). Every response of those views says ``X-Hehe-Cache: hit|miss|bypass``.

The key is the host, the path with its *normalised* query, the active language and the care-mode (large text)
flag, so those variants never mix. The query keeps only the parameters the public pages read (``PAGE_PARAMS``),
sorted, the value a page reads: ``/?a=1``, ``/?a=2``… are one page, not a new entry each (a visitor could otherwise fill
the Redis that also holds the sessions). A value that no page would accept (long, or not a plain word) is
rendered and not stored; and no path keeps more than ``MAX_VARIANTS_PER_PATH`` query variants per generation.
Each entry stores the *generation* it was rendered under; a purge increments the
one global generation (``cache.incr``), which makes every stored page stale at once — no scan, no key list.
Lookup reads the generation and the page in one round trip (``get_many``). The generation is read *before* the
page renders, so a purge that lands while a page is rendering leaves that page stale as well.

CSRF: the header's forms (language, care mode, sign-out) carry a per-visitor token. The stored copy holds a
placeholder instead, and every hit gets the visitor's own fresh token (``get_token``, which also makes the CSRF
middleware set the cookie when the visitor has none). This middleware therefore sits after
``CsrfViewMiddleware``, ``AuthenticationMiddleware`` and ``MessageMiddleware``.

Purges: ``points.signals.ledger_changed`` / ``store_changed`` (sent after commit), Wagtail's page published,
unpublished, moved and deleted, and saves and deletes of every model a public page shows that can change without
the ledger (villages, households and members, notices and objections, products, images, campaigns, nominations,
winners, phase changes, result objections, page view restrictions, sites). Not purged: the notice's "last
verified" time, which ``verify_ledger`` writes with an UPDATE; it is at most ``HEHE_PAGE_CACHE_SECONDS`` old.
A purge inside a transaction happens at once *and* again after the commit: at once for readers on the same
connection, after the commit because a page rendered by another request between the first purge and the commit
would still show the old rows.

Wagtail marks every response of a page with view restrictions never-cache, so private pages are never stored;
a visitor who unlocked a password-protected page also bypasses the cache altogether.
"""

import hashlib
import re
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.utils import translation
from django.utils.cache import patch_vary_headers

GENERATION_KEY = "hehe:pages:generation"
KEY_PREFIX = "hehe:page:"
CARE_COOKIE = "hehe_care"
HEADER = "X-Hehe-Cache"
CSRF_PLACEHOLDER = b"__HEHE_CSRF_TOKEN__"
_CSRF_INPUT = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')
MAX_QUERY_LENGTH = 300  # longer query strings are not cached (nothing on the site makes them)
# The query parameters public pages read (portal/models/pages.py: page numbers, year, village, township, period,
# n). Any other parameter changes nothing on a page, so it is left out of the key (tests/portal/test_page_cache.py
# checks this list against what the pages read).
PAGE_PARAMS = ("n", "page", "period", "township", "village", "year")
_PLAIN_VALUE = re.compile(r"^[A-Za-z0-9_-]{0,20}$")
# At most this many query variants of one path are stored per generation (pages 1–40 of the news, every year of
# the ranking…); past it a variant is rendered and not kept. Bounds what anyone can make the cache hold.
MAX_VARIANTS_PER_PATH = 64
VARIANTS_PREFIX = "hehe:variants:"
# Wagtail keeps the ids of the password-protected pages a visitor unlocked under this session key.
PASSED_RESTRICTIONS_KEY = "passed_page_view_restrictions"
MESSAGES_COOKIE = "messages"  # django.contrib.messages' cookie storage


def timeout() -> int:
    """Seconds a page stays cached without a purge (for what changes by the clock: "this month", open dates)."""
    return int(getattr(settings, "HEHE_PAGE_CACHE_SECONDS", 300))


def public_page(view):
    """Mark a (non-Wagtail) view as a public page the cache may keep."""
    view.hehe_public_page = True
    return view


def _is_public_view(view_func) -> bool:
    from wagtail import views as wagtail_views

    return view_func is wagtail_views.serve or getattr(view_func, "hehe_public_page", False)


def care_mode(request) -> bool:
    return request.COOKIES.get(CARE_COOKIE) == "1"


# --- the generation ------------------------------------------------------------------------------------------


def _fresh_generation() -> int:
    # If the counter is ever lost (evicted, Redis restarted), it starts again above every value it can have
    # reached before, so no old entry can look current: microseconds since the epoch grow faster than purges.
    return time.time_ns() // 1000


def generation() -> int:
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, _fresh_generation(), None)
        value = cache.get(GENERATION_KEY)
    return int(value)


def purge() -> None:
    """Make every cached page stale (at once, for every process sharing the cache)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no counter yet: nothing cached can be current either
        cache.add(GENERATION_KEY, _fresh_generation(), None)


def _purge_after_commit() -> None:
    purge()


_purge_after_commit.hehe_purge = True


def purge_now_and_after_commit(**kwargs) -> None:
    """Signal receiver: purge now and, inside a transaction, once more after its commit (queued once)."""
    purge()
    connection = transaction.get_connection()
    if connection.in_atomic_block and not any(
        getattr(entry[1], "hehe_purge", False) for entry in connection.run_on_commit
    ):
        transaction.on_commit(_purge_after_commit, robust=True)


_batches = threading.local()


def purge_once_per_batch(batch=None, **kwargs) -> None:
    """Receiver of ``points.signals``: the signals sent after one commit share a ``batch``; one purge serves
    them all (a counter redemption sends ledger_changed and store_changed: one cache round trip, not two)."""
    if batch is not None and getattr(_batches, "last", None) is batch:
        return
    purge_now_and_after_commit()
    _batches.last = batch  # only once it is done: if the purge failed, the batch's next signal tries again


def _purge_on_page_delete(sender, instance, **kwargs):
    purge_now_and_after_commit()


def connect_signals() -> None:
    """Called once from ``PortalConfig.ready``."""
    from django.apps import apps
    from wagtail.images import get_image_model
    from wagtail.models import Page
    from wagtail.signals import page_published, page_unpublished, post_page_move

    from points.signals import ledger_changed, store_changed

    uid = "portal_page_cache_purge"
    ledger_changed.connect(purge_once_per_batch, dispatch_uid=f"{uid}_ledger")
    store_changed.connect(purge_once_per_batch, dispatch_uid=f"{uid}_store")
    page_published.connect(purge_now_and_after_commit, dispatch_uid=f"{uid}_published")
    page_unpublished.connect(purge_now_and_after_commit, dispatch_uid=f"{uid}_unpublished")
    post_page_move.connect(purge_now_and_after_commit, dispatch_uid=f"{uid}_moved")
    for model in apps.get_models():
        if issubclass(model, Page):
            post_delete.connect(_purge_on_page_delete, sender=model, dispatch_uid=f"{uid}_delete_{model._meta.label}")
    shown = [
        "points.Village",
        "points.VillageGroup",
        "points.Household",
        "points.Member",
        "points.MonthlyNotice",
        "points.Objection",
        "points.Product",
        "campaigns.Campaign",
        "campaigns.PhaseChange",
        "campaigns.Nomination",
        "campaigns.Winner",
        "campaigns.ResultObjection",
        "wagtailcore.PageViewRestriction",  # a page made private must stop being served to everyone at once
        "wagtailcore.Site",
    ]
    for model in [apps.get_model(label) for label in shown] + [get_image_model()]:
        label = model._meta.label
        post_save.connect(purge_now_and_after_commit, sender=model, dispatch_uid=f"{uid}_save_{label}")
        post_delete.connect(purge_now_and_after_commit, sender=model, dispatch_uid=f"{uid}_del_{label}")


# --- the middleware ------------------------------------------------------------------------------------------


def language_of(request) -> str:
    """The page language as ``ChineseFirstLocaleMiddleware`` will choose it: the reader's cookie, else zh-hans
    (the browser's Accept-Language is ignored on pages). Known before any middleware ran, for the fast path."""
    code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if code:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            pass
    return settings.LANGUAGE_CODE


def page_query(request) -> str | None:
    """The query as the pages see it: ``PAGE_PARAMS`` only, sorted, each with the value a page reads (the last, as
    ``request.GET`` gives it); None when a value is one no page accepts (such a request is rendered, never stored
    or looked up)."""
    kept = []
    for name in PAGE_PARAMS:
        if name in request.GET:
            value = request.GET[name]
            if not _PLAIN_VALUE.match(value):
                return None
            kept.append(f"{name}={value}")
    return "&".join(kept)


def page_key(request, query: str) -> str:
    language = language_of(request)
    care = "care" if care_mode(request) else ""
    parts = "\n".join([request.get_host(), request.path, query, language, care])
    return KEY_PREFIX + hashlib.sha256(parts.encode()).hexdigest()


def _variant_allowed(request, query: str, gen: int) -> bool:
    """A path's bare URL is always stored; each other variant takes one of its MAX_VARIANTS_PER_PATH places in this
    generation (a purge starts the count again, with the new generation's keys)."""
    if not query:
        return True
    counter = VARIANTS_PREFIX + hashlib.sha256(f"{gen}\n{request.get_host()}\n{request.path}".encode()).hexdigest()
    cache.add(counter, 0, timeout())
    try:
        return cache.incr(counter) <= MAX_VARIANTS_PER_PATH
    except ValueError:  # evicted between add and incr: store this one, the next request starts a new count
        return True


def _may_use_cache(request) -> bool:
    if request.method not in ("GET", "HEAD") or len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_LENGTH:
        return False
    if request.user.is_authenticated:
        return False
    if request.COOKIES.get(MESSAGES_COOKIE):
        return False  # messages are waiting for this visitor: render them
    session = getattr(request, "session", None)
    return not (session is not None and session.get(PASSED_RESTRICTIONS_KEY))


def _may_store(request, response) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    cache_control = response.get("Cache-Control", "").lower()
    if any(word in cache_control for word in ("private", "no-store", "no-cache")):
        return False
    session = getattr(request, "session", None)
    if session is not None and session.modified:
        return False
    messages = getattr(request, "_messages", None)
    return not (messages is not None and len(messages))


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        state = getattr(request, "_hehe_page_cache", None)
        if state is None:
            return response
        if state == "bypass":
            response[HEADER] = "bypass"
            return response
        if state == "hit":
            return response
        key, gen, query = state
        if (
            _may_store(request, response)
            and translation.get_language() == language_of(request)
            and _variant_allowed(request, query, gen)
        ):
            content = _CSRF_INPUT.sub(rb"\1" + CSRF_PLACEHOLDER + rb"\2", response.content)
            entry = {"generation": gen, "content": content, "content_type": response.get("Content-Type")}
            cache.set(key, entry, timeout())
        response[HEADER] = "miss"
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if timeout() <= 0 or not _is_public_view(view_func):
            return None
        if not _may_use_cache(request):
            request._hehe_page_cache = "bypass"
            return None
        query = page_query(request)
        if query is None:
            request._hehe_page_cache = "bypass"
            return None
        key = page_key(request, query)
        found = cache.get_many([GENERATION_KEY, key])
        gen = found.get(GENERATION_KEY)
        if gen is None:
            gen = generation()
        entry = found.get(key)
        if entry is None or entry.get("generation") != gen:
            request._hehe_page_cache = (key, gen, query)
            return None
        request._hehe_page_cache = "hit"
        content = entry["content"].replace(CSRF_PLACEHOLDER, get_token(request).encode())
        response = HttpResponse(content, content_type=entry["content_type"])
        response[HEADER] = "hit"
        return response


# --- the fast path -------------------------------------------------------------------------------------------

# Paths that are never public pages: no cache lookup for them.
NEVER_PAGES = (
    "/admin/",
    "/api/",
    "/django-admin/",
    "/documents/",
    "/i18n/",
    "/me/",
    "/login/",
    "/logout/",
    "/search/",  # never stored (unbounded keys): no lookup either
)


class PageCacheFastPathMiddleware:
    """Serve a stored page before the rest of the stack runs (sessions, locale, URL resolving, auth, messages).

    Only for a visitor who certainly is anonymous and has nothing waiting: a GET or HEAD without a session cookie
    and without queued messages. The key is computed as ``PageCacheMiddleware`` computes it (host, path, query,
    language from the cookie, care flag), so entries stored by the full path are found here; a miss simply goes
    on down the stack, where ``PageCacheMiddleware`` renders and stores. A hit still gets the visitor's own CSRF
    token, through ``CsrfViewMiddleware``'s own request and response steps. Placed right after WhiteNoise: that
    a cached page costs little more than a static file is what bench/portal.py measures.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.csrf = CsrfViewMiddleware(get_response)

    def __call__(self, request):
        if timeout() <= 0 or not self._candidate(request):
            return self.get_response(request)
        query = page_query(request)
        if query is None:
            return self.get_response(request)
        key = page_key(request, query)
        found = cache.get_many([GENERATION_KEY, key])
        entry = found.get(key)
        if entry is None or found.get(GENERATION_KEY) is None or entry.get("generation") != found[GENERATION_KEY]:
            return self.get_response(request)
        self.csrf.process_request(request)
        content = entry["content"].replace(CSRF_PLACEHOLDER, get_token(request).encode())
        response = HttpResponse(content, content_type=entry["content_type"])
        response[HEADER] = "hit"
        response["Content-Language"] = language_of(request)
        patch_vary_headers(response, ("Cookie",))
        return self.csrf.process_response(request, response)

    @staticmethod
    def _candidate(request) -> bool:
        if request.method not in ("GET", "HEAD") or len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_LENGTH:
            return False
        cookies = request.COOKIES
        if settings.SESSION_COOKIE_NAME in cookies or cookies.get(MESSAGES_COOKIE):
            return False
        return not request.path_info.startswith(NEVER_PAGES)
