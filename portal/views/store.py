"""The resident's store pages: the village catalogue (with the public donor list), reserving goods, and the
household's reservations.

The household always comes from the scope (``resident_only``); a reservation id in an address is looked up among
the household's own reservations only, so another household's reads as 404. Each write is one service call:
``redemption_create(reserve=True)`` behind a confirm page whose hidden key makes a double tap reserve once, and
``reservation_cancel``. Overdue reservations are expired lazily (``reservations_expire``) whenever the resident
opens these pages, so the balance and the list they see are already right.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from points.exceptions import HeheError, IdempotencyConflict
from points.ledger.selectors import household_balance
from points.models import Redemption
from points.privacy import mask_numbers
from points.store.selectors import catalogue, household_reservations, public_donors
from points.store.services import redemption_create, reservation_cancel, reservations_expire
from portal.forms import MAX_RESERVE_QUANTITY, MSG_STALE_FORM, ReserveConfirmForm, ReserveForm, quantity_field_name
from portal.views.common import resident_only

RESERVATIONS_SHOWN = 50
MSG_RESERVED = gettext_noop("预约成功，单号 %(number)s。请在 %(month)s 月 %(day)s 日前到超市领取。")
MSG_CANCELLED = gettext_noop("已取消预约 %(number)s，%(points)s 分已退还。")
MSG_EXPIRED = gettext_noop("预约 %(number)s 已过领取期限，已自动取消并退还积分。")
MSG_NOT_CANCELLABLE = gettext_noop("该预约当前状态为「%(status)s」，不能取消")

# What each product's card says, in words (never colour alone).
CAN_RESERVE = "ok"
NO_STOCK = "no_stock"
NO_POINTS = "no_points"


def _hint(product, balance: int) -> str:
    if product.stock < 1:
        return NO_STOCK
    if product.price > balance:
        return NO_POINTS
    return CAN_RESERVE


def _store_page(request, household, form, *, refusal: str = ""):
    """The catalogue, with the form as given (blank, pre-filled from "返回修改", or sent back with its errors)."""
    balance = household_balance(household)
    products = form.products
    for product in products:
        product.field = form[quantity_field_name(product)]
        product.hint = _hint(product, balance)
    donors = public_donors(household.village)
    for donor in donors:
        donor["public_name"] = mask_numbers(donor["donor_name"])
    context = {
        "household": household,
        "village": household.village,
        "balance": balance,
        "products": products,
        "form": form,
        "refusal": refusal,
        "donors": donors,
    }
    return render(request, "portal/store.html", context)


def _quantities_from(query) -> dict[str, int]:
    """``qty_<id>`` values of a "返回修改" link, as initial values (anything odd is simply left out)."""
    initial = {}
    for name, value in query.items():
        if name.startswith("qty_") and name[4:].isdigit() and value.isdigit() and len(value) <= 3:
            initial[name] = min(int(value), MAX_RESERVE_QUANTITY)
    return initial


@resident_only
def store(request, household):
    """积分超市: the balance on top, each product with its photo, price, stock and whether it can be reserved."""
    reservations_expire(household=household)
    form = ReserveForm(products=catalogue(household.village), initial=_quantities_from(request.GET))
    return _store_page(request, household, form)


@resident_only
def reserve(request, household):
    """GET: the confirm page (total and balance after) for the quantities chosen; POST: reserve them, once."""
    products = list(catalogue(household.village))
    if request.method == "POST":
        form = ReserveConfirmForm(request.POST, products=products)
        refusal = ""
        if form.is_valid():
            try:
                redemption = redemption_create(
                    actor=request.user,
                    household=household,
                    lines=[(product.pk, quantity) for product, quantity in form.lines],
                    idempotency_key=form.key,
                    reserve=True,
                )
            except IdempotencyConflict:  # the key of a confirm page already used for other quantities
                refusal = str(MSG_STALE_FORM)
            except HeheError as exc:  # out of stock (naming the product), not enough points (saying how many)...
                refusal = str(exc.message)
            else:
                deadline = timezone.localtime(redemption.pickup_deadline)
                messages.success(
                    request,
                    _(MSG_RESERVED)
                    % {"number": redemption.receipt_number, "month": deadline.month, "day": deadline.day},
                )
                return redirect("portal:reservations")
        return _store_page(request, household, form, refusal=refusal)

    form = ReserveForm(request.GET, products=products)
    if not form.is_valid():
        return _store_page(request, household, form)
    balance = household_balance(household)
    lines = [{"product": p, "quantity": q, "points": p.price * q, "short": q > p.stock} for p, q in form.lines]
    total = sum(line["points"] for line in lines)
    context = {
        "household": household,
        "village": household.village,
        "lines": lines,
        "total": total,
        "balance": balance,
        "balance_after": balance - total,
        "points_short": total - balance if total > balance else 0,
        "stock_short": [line for line in lines if line["short"]],
        "form": ReserveConfirmForm(products=products),  # a fresh key for this confirm page
        "back_query": urlencode({quantity_field_name(p): q for p, q in form.lines}),
    }
    return render(request, "portal/store_confirm.html", context)


@resident_only
def reservations(request, household):
    """我的预约: newest first, with status, pickup deadline, lines and a cancel button while still reserved."""
    reservations_expire(household=household)
    rows = [r for r in household_reservations(household)[:RESERVATIONS_SHOWN] if r.pickup_deadline is not None]
    context = {"household": household, "reservations": rows, "balance": household_balance(household)}
    return render(request, "portal/reservations.html", context)


@resident_only
def cancel_reservation(request, household, redemption_id):
    """GET: "确定取消吗？" (no JavaScript dialog needed); POST: ``reservation_cancel``, refund and restock."""
    redemption = household_reservations(household).filter(pk=redemption_id).first()
    if redemption is None or redemption.pickup_deadline is None:
        raise Http404
    if request.method == "POST":
        number = redemption.receipt_number
        try:
            result = reservation_cancel(actor=request.user, redemption=redemption)
        except HeheError as exc:
            messages.error(request, str(exc.message))
        else:
            if result.status == Redemption.Status.EXPIRED:
                messages.info(request, _(MSG_EXPIRED) % {"number": number})
            else:
                messages.success(request, _(MSG_CANCELLED) % {"number": number, "points": result.total_points})
        return redirect("portal:reservations")
    refusal = ""
    if redemption.status != Redemption.Status.RESERVED:
        refusal = _(MSG_NOT_CANCELLABLE) % {"status": redemption.get_status_display()}
    context = {"household": household, "reservation": redemption, "refusal": refusal}
    return render(request, "portal/reservation_cancel.html", context)


# Included by ``portal.urls.portal_patterns``, so these names read ``portal:store`` and so on.
urlpatterns = [
    path("store/", store, name="store"),
    path("store/reserve/", reserve, name="store_reserve"),
    path("me/reservations/", reservations, name="reservations"),
    path("me/reservations/<int:redemption_id>/cancel/", cancel_reservation, name="reservation_cancel"),
]
