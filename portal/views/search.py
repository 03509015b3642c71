"""站内搜索 (``/search/?q=``): pages and family mottos, and the honor roll's winners, each group paginated on
its own (``page`` and ``wpage``). Reads ``portal.search``; never cached (see ``portal.cache``)."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _

from portal.renditions import with_renditions
from portal.search import MAX_QUERY_LENGTH, normalise, search_pages, search_winners, specific_in_order
from portal.selectors import with_family_mottos

PAGES_PER_PAGE = 10
WINNERS_PER_PAGE = 6


def search(request):
    query = normalise(request.GET.get("q"))
    context = {"search_query": query[:MAX_QUERY_LENGTH], "problem": "", "pages": None, "winners": None}
    if not query:
        context["problem"] = _("请输入要找的字词，如「家风」「送法下乡」或获奖者的名字。")
    elif len(query) > MAX_QUERY_LENGTH:
        context["problem"] = _("搜索词太长了，请不超过 %(max)s 个字。") % {"max": MAX_QUERY_LENGTH}
    else:
        pages = Paginator(search_pages(query), PAGES_PER_PAGE).get_page(request.GET.get("page"))
        pages.results = specific_in_order(pages.object_list)
        winners = Paginator(search_winners(query), WINNERS_PER_PAGE).get_page(request.GET.get("wpage"))
        winners.results = with_family_mottos(with_renditions(winners.object_list, "photo"))
        context.update(pages=pages, winners=winners)
    return render(request, "portal/search.html", context)
