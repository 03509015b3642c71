"""Site search (``/search/?q=``): live, public pages (news, family mottos, villages, sections) and the winners of
published campaigns. Reads only; the view in ``portal.views.search`` renders what these return.

Pages go through Wagtail search (the database backend: SQLite FTS5 or PostgreSQL full-text search), with the
fields each page type lists in ``search_fields``.

Chinese needs a fallback. Both engines split text into words at spaces and punctuation, and Chinese is written
without spaces: "勤俭持家，与人为善" is indexed as the two "words" 勤俭持家 and 与人为善, so searching 勤俭 or 持家
finds nothing, and a news title is one long word that only the whole title matches. So a query with any Chinese
character (``has_cjk``) is answered by a substring match instead: every word of the query (split at spaces and
punctuation) must occur in the page's indexed text, which Wagtail's own index keeps in plain text beside the
full-text columns (``title``/``body`` on SQLite, ``title_text``/``body_text`` on PostgreSQL). The pages searched
and the fields searched are exactly the same as Wagtail search's; only the matching differs. Title matches come
first, then the newest. A LIKE over the index is a scan, which is fine for a district's few thousand pages; a
province would put a Chinese analyser (e.g. Elasticsearch with an ik/smartcn tokenizer) behind the same function.

Winners are few (a handful per campaign) and change without a page publish (a household renamed, a campaign
published), so they are matched on their rows directly (names, citation, campaign, village) among the winners
``campaigns.selectors.published_winners`` returns: never a winner of a campaign that is not published.

Phone and ID numbers are never findable: family mottos are indexed with them masked (``public_motto``,
``public_story``), and a word with a digit in it is not looked for in a winner's citation, which is stored as
the committee typed it (a search for 138 0013 would otherwise tell whose citation holds that number).
"""

import re
from functools import reduce
from operator import and_

from django.db import connection
from django.db.models import Case, IntegerField, Q, Value, When
from wagtail.models import Page

MAX_QUERY_LENGTH = 50
MAX_TERMS = 5

# CJK Unified Ideographs (with extension A, compatibility ideographs and the supplementary planes' extensions).
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def normalise(query: str | None) -> str:
    """The query with runs of white space (full-width spaces too) made single spaces and the ends trimmed."""
    return " ".join((query or "").split())


def has_cjk(query: str) -> bool:
    return bool(_CJK.search(query))


# Words are split at white space and at Chinese and Western punctuation (「勤俭，持家」 looks for both words).
_SEPARATORS = re.compile(r"[\s\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65,.;:!?\"'()\[\]<>]+")


# Any digit, full-width too: such a word may be a piece of a phone or ID number.
_DIGIT = re.compile(r"\d")


def terms(query: str) -> list[str]:
    return [word for word in _SEPARATORS.split(query or "") if word][:MAX_TERMS]


def _index_text_fields() -> tuple[str, str]:
    if connection.vendor == "postgresql":
        return "index_entries__title_text", "index_entries__body_text"
    return "index_entries__title", "index_entries__body"


def search_pages(query: str):
    """Live, public pages matching ``query`` (already normalised, not empty), best first. A queryset or
    Wagtail's search results: both can be counted and sliced, so a Paginator takes either."""
    pages = Page.objects.live().public()
    if not has_cjk(query):
        return pages.search(query, operator="and")
    title_field, body_field = _index_text_fields()
    words = terms(query) or [query]
    condition = reduce(
        and_, [Q(**{f"{title_field}__icontains": w}) | Q(**{f"{body_field}__icontains": w}) for w in words]
    )
    in_title = reduce(and_, [Q(**{f"{title_field}__icontains": w}) for w in words])
    return (
        pages.filter(condition)
        .annotate(title_hit=Case(When(in_title, then=Value(1)), default=Value(0), output_field=IntegerField()))
        .order_by("-title_hit", "-first_published_at", "-id")
    )


def specific_in_order(pages) -> list:
    """The specific pages (NewsPage, FamilyMottoPage …) of a slice of results, in the same order: one query per
    page type on the slice, not one per page."""
    ids = [p.pk for p in pages]
    found = {p.pk: p for p in Page.objects.filter(pk__in=ids).specific()}
    return [found[pk] for pk in ids if pk in found]


def search_winners(query: str):
    """Winners of published campaigns whose names, citation, campaign or village match every word of
    ``query``; newest campaign first. A queryset."""
    from campaigns.selectors import published_winners

    condition = reduce(
        and_,
        [
            Q(nomination__household__head_name__icontains=w)
            | Q(nomination__member__name__icontains=w)
            | (Q() if _DIGIT.search(w) else Q(citation__icontains=w))
            | Q(campaign__title__icontains=w)
            | Q(village__name__icontains=w)
            for w in terms(query) or [query]
        ],
    )
    return published_winners().filter(condition)
