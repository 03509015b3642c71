"""Admin pages of the village store (积分超市): the counter and its receipts, the reservations desk, stock receipts,
donations and write-offs, stock-takes, household cards and the store report.

Each view is thin: it checks the scope (another village's product, household or receipt answers 404, as does a
user who runs no store), parses one form, calls one service or selector from ``points.store`` /
``points.selectors`` and renders. A service's refusal is shown with its translated ``message``; nothing is
written by a view itself.
"""

import segno
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail.admin import messages

from points.admin.forms import show_refusal, villages_for
from points.exceptions import HeheError
from points.ledger.selectors import household_balance
from points.models import Household, Product, Redemption, Stocktake
from points.register.selectors import household_detail, household_search
from points.scope import Capability, scope_for
from points.store import services
from points.store.admin.forms import (
    CounterForm,
    HouseholdSearchForm,
    StockReceiveForm,
    StocktakeForm,
    WriteOffForm,
)
from points.store.selectors import catalogue, redemption_balance_after, store_report

SEARCH_LIMIT = 20
TEMPLATES = "points/admin/store/"


# --- scope -----------------------------------------------------------------------------------------------------


def _store_villages(request):
    """Villages whose store the user runs. A user who runs none gets 404, like a row outside their scope."""
    if not scope_for(request.user).can(Capability.OPERATE_STORE):
        raise Http404
    return villages_for(request.user, Capability.OPERATE_STORE)


def _chosen_village(request):
    """The village of a village-wide page: ``?village=<id>`` (outside the scope → 404), else the user's only one.

    None when the user runs several stores and has not picked one: the caller shows the picker.
    """
    villages = _store_villages(request)
    raw = request.GET.get("village", "")
    if raw:
        village = villages.filter(pk=int(raw)).first() if raw.isdigit() else None
        if village is None:
            raise Http404
        return village
    found = list(villages[:2])
    return found[0] if len(found) == 1 else None


def _village_picker(request, title: str, url_name: str):
    context = {"page_title": title, "villages": _store_villages(request), "url": reverse(url_name)}
    return TemplateResponse(request, TEMPLATES + "village_picker.html", context)


def _household_or_404(request, pk: int) -> Household:
    _store_villages(request)
    scope = scope_for(request.user)
    household = household_detail(scope=scope, household_id=pk)
    if household is None or not scope.can(Capability.OPERATE_STORE, household.village_id):
        raise Http404
    return household


def _product_or_404(request, pk: int) -> Product:
    product = Product.objects.select_related("village").filter(pk=pk, village__in=_store_villages(request)).first()
    if product is None:
        raise Http404
    return product


def _redemption_or_404(request, pk: int) -> Redemption:
    redemption = (
        Redemption.objects.select_related("village", "household", "created_by", "transfer")
        .filter(pk=pk, village__in=_store_villages(request))
        .first()
    )
    if redemption is None:
        raise Http404
    return redemption


def _products_url() -> str:
    return reverse("wagtailsnippets_points_product:list")


def _with_village(url_name: str, village_id: int, *args) -> str:
    return f"{reverse(url_name, args=args)}?village={village_id}"


# --- the counter (柜台兑换) --------------------------------------------------------------------------------------


def _find_households(request, query: str):
    """Households of the user's stores matching a number, a name, pinyin initials or a scanned login number."""
    query = (query or "").strip()
    villages = _store_villages(request)
    if not query:
        return Household.objects.none()
    # A scanned card's login number finds its one household: ``household_search`` reads it.
    households = household_search(scope=scope_for(request.user), query=query)
    return households.filter(village__in=villages).order_by("village__code", "number")


def _counter_strings() -> dict:
    """The counter script's texts, translated here so that the static script needs no catalogue."""
    return {
        "none": _("没有找到「%(q)s」对应的户，请核对户号、姓名或拼音首字母"),
        "line": _("%(name)s × %(qty)s%(unit)s"),
        "points": _("%(n)s 分"),
        "short": _("积分不足：需要 %(need)s 分，余额 %(balance)s 分"),
        "stock": _("%(name)s 库存不足：只剩 %(left)s%(unit)s"),
        "busy": _("正在兑换…"),
        "less": _("减少"),
        "more": _("增加"),
        "remove": _("移除"),
    }


def counter(request):
    """The counter's start: one search box (keyboard or USB scanner). Exactly one match opens it at once."""
    _store_villages(request)
    form = HouseholdSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    results = None
    if query:
        results = list(_find_households(request, query)[: SEARCH_LIMIT + 1])
        if len(results) == 1:
            return redirect("points_store_counter_household", results[0].pk)
    context = {
        "page_title": _("柜台兑换"),
        "form": form,
        "query": query,
        "results": results[:SEARCH_LIMIT] if results else results,
        "more": bool(results) and len(results) > SEARCH_LIMIT,
        "js_strings": _counter_strings(),
    }
    return TemplateResponse(request, TEMPLATES + "counter.html", context)


def counter_search(request):
    """Live results for the search box, as JSON: no phone, no ID number, only what the counter shows."""
    _store_villages(request)
    query = (request.GET.get("q") or "").strip()[:60]
    households = list(_find_households(request, query)[:SEARCH_LIMIT]) if query else []
    results = [
        {
            "id": h.pk,
            "number": h.number,
            "login_number": h.login_number,
            "head_name": h.head_name,
            "village": h.village.name,
            "archived": h.is_archived,
            "url": reverse("points_store_counter_household", args=[h.pk]),
        }
        for h in households
    ]
    response = JsonResponse({"query": query, "results": results})
    response["Cache-Control"] = "no-store"
    return response


def counter_household(request, pk: int):
    """One household at the counter: its balance, the product grid and the cart; confirming redeems once."""
    household = _household_or_404(request, pk)
    # One query for the products and one for their thumbnails' renditions, however many products there are.
    products = catalogue(household.village).prefetch_related("photo__renditions")
    form = CounterForm(request.POST or None, products=products)
    if request.method == "POST" and form.is_valid():
        try:
            redemption = services.redemption_create(
                actor=request.user,
                household=household,
                lines=form.lines(),
                idempotency_key=form.key,
            )
        except HeheError as exc:
            show_refusal(form, exc)
        else:
            return redirect("points_store_receipt", redemption.pk)
    context = {
        "page_title": _("柜台兑换"),
        "household": household,
        "balance": household_balance(household),
        "form": form,
        "rows": form.rows(),
        "js_strings": _counter_strings(),
    }
    return TemplateResponse(request, TEMPLATES + "counter_household.html", context)


def receipt(request, pk: int):
    """The printable receipt (兑换单): number, household, lines with unit prices, total, balance after."""
    redemption = _redemption_or_404(request, pk)
    context = {
        "page_title": _("兑换单 %(number)s") % {"number": redemption.receipt_number},
        "redemption": redemption,
        "lines": list(redemption.lines.order_by("id")),
        "balance_after": redemption_balance_after(redemption),
    }
    return TemplateResponse(request, TEMPLATES + "receipt.html", context)


# --- the reservations desk (预约领取) ----------------------------------------------------------------------------


def reservations(request):
    """The village's open reservations; overdue ones are expired (and refunded) as the page loads."""
    village = _chosen_village(request)
    if village is None:
        return _village_picker(request, _("预约领取"), "points_store_reservations")
    expired = services.reservations_expire(village=village)
    if expired:
        messages.info(request, _("%(count)s 个预约已过领取期限，已自动取消并退还积分") % {"count": expired})
    open_reservations = (
        Redemption.objects.filter(village=village, status=Redemption.Status.RESERVED)
        .select_related("household", "village")
        .prefetch_related("lines")
        .order_by("pickup_deadline", "id")
    )
    context = {"page_title": _("预约领取"), "village": village, "reservations": open_reservations}
    return TemplateResponse(request, TEMPLATES + "reservations.html", context)


def _close_reservation(request, pk: int, service, done: str):
    redemption = _redemption_or_404(request, pk)
    try:
        service(actor=request.user, redemption=redemption)
    except HeheError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            done % {"number": redemption.receipt_number, "household": redemption.household},
        )
    return redirect(_with_village("points_store_reservations", redemption.village_id))


@require_POST
def reservation_fulfil(request, pk: int):
    return _close_reservation(request, pk, services.reservation_fulfil, _("已领取：%(number)s（%(household)s）"))


@require_POST
def reservation_cancel(request, pk: int):
    return _close_reservation(
        request, pk, services.reservation_cancel, _("已取消：%(number)s（%(household)s），积分已退还")
    )


# --- stock: receipts, donations, write-offs ---------------------------------------------------------------------


def _receive(request, pk: int, *, donation: bool):
    product = _product_or_404(request, pk)
    form = StockReceiveForm(request.POST or None, product=product, donation=donation)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.stock_receive(
                actor=request.user,
                product=product,
                quantity=data["quantity"],
                idempotency_key=form.key,
                donor_name=data.get("donor_name", ""),
                donor_public=data.get("donor_public", False),
            )
        except HeheError as exc:
            show_refusal(form, exc)
        else:
            product.refresh_from_db(fields=["stock"])
            done = _("已记录捐赠：%(product)s %(quantity)s%(unit)s，现有库存 %(stock)s") if donation else None
            done = done or _("已入库：%(product)s %(quantity)s%(unit)s，现有库存 %(stock)s")
            messages.success(
                request,
                done
                % {"product": product.name, "quantity": data["quantity"], "unit": product.unit, "stock": product.stock},
            )
            return redirect(_products_url())
    context = {
        "page_title": _("捐赠入库") if donation else _("入库"),
        "product": product,
        "form": form,
        "submit_label": _("记录捐赠") if donation else _("确认入库"),
    }
    return TemplateResponse(request, TEMPLATES + "stock_form.html", context)


def stock_receive(request, pk: int):
    return _receive(request, pk, donation=False)


def stock_donate(request, pk: int):
    return _receive(request, pk, donation=True)


def stock_write_off(request, pk: int):
    product = _product_or_404(request, pk)
    form = WriteOffForm(request.POST or None, product=product)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.stock_write_off(
                actor=request.user,
                product=product,
                quantity=data["quantity"],
                reason=data["reason"],
                idempotency_key=form.key,
            )
        except HeheError as exc:
            show_refusal(form, exc)
        else:
            product.refresh_from_db(fields=["stock"])
            messages.success(
                request,
                _("已报损：%(product)s %(quantity)s%(unit)s，现有库存 %(stock)s")
                % {"product": product.name, "quantity": data["quantity"], "unit": product.unit, "stock": product.stock},
            )
            return redirect(_products_url())
    context = {"page_title": _("报损"), "product": product, "form": form, "submit_label": _("确认报损")}
    return TemplateResponse(request, TEMPLATES + "stock_form.html", context)


# --- stock-takes (盘点) -----------------------------------------------------------------------------------------


def stocktake(request):
    """The quarterly stock-take: a counted quantity for every product; the variances are recorded."""
    village = _chosen_village(request)
    if village is None:
        return _village_picker(request, _("盘点"), "points_store_stocktake")
    products = catalogue(village, include_inactive=True)
    form = StocktakeForm(request.POST or None, products=products)
    if request.method == "POST" and form.is_valid():
        try:
            taken = services.stocktake_record(
                actor=request.user,
                village=village,
                counts=form.counts(),
                idempotency_key=form.key,
                note=form.cleaned_data["note"],
            )
        except HeheError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("盘点已记录"))
            return redirect("points_store_stocktake_detail", taken.pk)
    context = {
        "page_title": _("盘点"),
        "village": village,
        "form": form,
        "rows": form.rows(),
        "history": Stocktake.objects.filter(village=village).select_related("actor")[:20],
    }
    return TemplateResponse(request, TEMPLATES + "stocktake.html", context)


def stocktake_detail(request, pk: int):
    """One stock-take's report: each product whose count differed from the books, and by how much."""
    taken = Stocktake.objects.select_related("village", "actor").filter(pk=pk, village__in=_store_villages(request))
    taken = taken.first()
    if taken is None:
        raise Http404
    rows = []
    for movement in taken.movements.select_related("product").order_by("product__order", "product_id"):
        rows.append(
            {
                "product": movement.product,
                "book": movement.stock_after - movement.quantity,
                "counted": movement.stock_after,
                "variance": movement.quantity,
                "points": movement.quantity * movement.product.price,
            }
        )
    context = {
        "page_title": _("盘点报告"),
        "stocktake": taken,
        "rows": rows,
        "net_points": sum(row["points"] for row in rows),
    }
    return TemplateResponse(request, TEMPLATES + "stocktake_detail.html", context)


# --- household cards (户卡) -------------------------------------------------------------------------------------


def _card(household: Household) -> dict:
    """What a card shows: login number, head's name, village and a QR code of the login number. Never a phone
    or ID number. A full QR code (not a Micro QR, which phone and counter scanners often cannot read)."""
    code = segno.make_qr(household.login_number, error="m")
    svg = code.svg_inline(scale=1, border=2, omitsize=True, svgclass="card-qr-svg")
    return {"household": household, "login_number": household.login_number, "qr_svg": mark_safe(svg)}


def household_card(request, pk: int):
    household = _household_or_404(request, pk)
    context = {"page_title": _("户卡"), "cards": [_card(household)], "village": household.village, "single": True}
    return TemplateResponse(request, TEMPLATES + "cards.html", context)


def household_cards(request):
    """Every active household's card of one village, several to an A4 page."""
    village = _chosen_village(request)
    if village is None:
        return _village_picker(request, _("打印户卡"), "points_store_cards")
    households = household_search(scope=scope_for(request.user), query="", village_id=village.id).filter(
        status=Household.Status.ACTIVE
    )
    cards = [_card(h) for h in households.order_by("number")]
    context = {"page_title": _("打印户卡"), "cards": cards, "village": village, "single": False}
    return TemplateResponse(request, TEMPLATES + "cards.html", context)


# --- the report (超市报表) --------------------------------------------------------------------------------------


def report(request):
    village = _chosen_village(request)
    if village is None:
        return _village_picker(request, _("超市报表"), "points_store_report")
    context = {"page_title": _("超市报表"), "village": village, **store_report(village)}
    return TemplateResponse(request, TEMPLATES + "report.html", context)
