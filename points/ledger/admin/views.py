"""The ledger in the Wagtail admin: awards, the claims and objections queues, reversals, statements, notices.

Each view validates input with a form, calls one service or selector and renders. Every object is looked up
through ``points.scope``: another village's object answers 404. A refusal of a service (``HeheError`` or a
``ValidationError``) is shown on the form and, because each service is one transaction, changes nothing.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from wagtail.admin import messages

from points import clock
from points.admin.forms import show_refusal
from points.exceptions import HeheError
from points.images import photo_response
from points.ledger import books
from points.ledger.admin.forms import (
    ApproveClaimForm,
    AwardForm,
    MonthForm,
    ObjectionAnswerForm,
    RejectClaimForm,
    ReverseForm,
    household_choice,
)
from points.ledger.admin.policy import RubricItemPermissionPolicy
from points.ledger.awards import REVERSIBLE, households_in_village, points_award, transfer_reverse
from points.ledger.claims import claim_approve, claim_reject
from points.ledger.notices import month_close, notice_period_over, notice_publish, objection_answer
from points.ledger.selectors import (
    conduct_score,
    household_balance,
    household_statement,
    open_objections,
    pending_claims,
    period_range,
    stars_for,
)
from points.models import Claim, MonthlyNotice, Objection, RubricItem, Transfer, Village
from points.register.selectors import household_detail, household_search
from points.scope import Capability, Scope, scope_for

SEARCH_LIMIT = 20
QUEUE_LIMIT = 100
RECENT_LIMIT = 20
MONTHS_SHOWN = 12


# --- lookups through the scope ------------------------------------------------------------------------------


def _require(request, capability: Capability) -> Scope:
    scope = scope_for(request.user)
    if not scope.can(capability):
        raise Http404
    return scope


def _village_or_404(request, village_id: int, capability: Capability) -> Village:
    scope = scope_for(request.user)
    village = scope.villages().filter(pk=village_id).first()
    if village is None or not scope.can(capability, village.id):
        raise Http404
    return village


def _in_scope(queryset, scope: Scope):
    return queryset if scope.village_ids is None else queryset.filter(village_id__in=scope.village_ids)


def _claim_or_404(request, pk: int) -> Claim:
    scope = _require(request, Capability.MANAGE_POINTS)
    claim = (
        _in_scope(Claim.objects.all(), scope)
        .select_related("household", "household__village", "rubric_item", "member", "transfer")
        .prefetch_related("photos")
        .filter(pk=pk)
        .first()
    )
    if claim is None or not scope.can(Capability.MANAGE_POINTS, claim.village_id):
        raise Http404
    return claim


def _objection_or_404(request, pk: int) -> Objection:
    scope = _require(request, Capability.MANAGE_POINTS)
    objection = (
        _in_scope(Objection.objects.all(), scope)
        .select_related("transfer", "transfer__household", "transfer__reverses", "household", "notice", "reversal")
        .filter(pk=pk)
        .first()
    )
    if objection is None or not scope.can(Capability.MANAGE_POINTS, objection.village_id):
        raise Http404
    return objection


def _transfer_or_404(request, pk: int) -> Transfer:
    scope = _require(request, Capability.MANAGE_POINTS)
    transfer = (
        _in_scope(Transfer.objects.all(), scope)
        .select_related("household", "village", "reverses", "member", "actor")
        .filter(pk=pk)
        .first()
    )
    if transfer is None or not scope.can(Capability.MANAGE_POINTS, transfer.village_id):
        raise Http404
    return transfer


# --- reads the selectors do not have yet (candidates for points/selectors.py) ----------------------------------


def _recent_claims(scope: Scope):
    return (
        _in_scope(Claim.objects.exclude(status=Claim.Status.PENDING), scope)
        .select_related("household", "rubric_item", "member", "reviewed_by")
        .prefetch_related("photos")
        .order_by("-reviewed_at", "-id")[:RECENT_LIMIT]
    )


def _recent_objections(scope: Scope):
    return (
        _in_scope(Objection.objects.exclude(status=Objection.Status.OPEN), scope)
        .select_related("transfer", "household", "notice", "answered_by")
        .order_by("-answered_at", "-id")[:RECENT_LIMIT]
    )


def _reversed_ids(transfer_ids) -> set[int]:
    return set(Transfer.objects.filter(reverses_id__in=list(transfer_ids)).values_list("reverses_id", flat=True))


def _group_sizes(village: Village) -> dict[int, int]:
    return dict(households_in_village(village).values("group_id").annotate(n=Count("id")).values_list("group_id", "n"))


def _months(village: Village) -> list[dict]:
    """The village's recent months (and any older one still open), newest first, with their notice state."""
    current = books.month_of()
    periods = []
    month = current
    for _i in range(MONTHS_SHOWN):
        periods.append(month)
        month = (month - datetime.timedelta(days=1)).replace(day=1)
    notices = {
        n.period: n
        for n in MonthlyNotice.objects.filter(village=village)
        .filter(Q(period__gte=periods[-1]) | Q(closed_at__isnull=True))
        .annotate(open_count=Count("objections", filter=Q(objections__status=Objection.Status.OPEN)))
        .select_related("published_by", "closed_by")
    }
    counts = dict(
        Transfer.objects.filter(
            village=village,
            period__gte=min([periods[-1], *notices]),
            code__in=(Transfer.Code.AWARD, Transfer.Code.DEDUCTION, Transfer.Code.REVERSAL),
        )
        .values("period")
        .annotate(n=Count("id"))
        .values_list("period", "n")
    )
    rows = []
    for period in sorted(set(periods) | set(notices), reverse=True):
        notice = notices.get(period)
        rows.append(
            {
                "period": period,
                "label": f"{period:%Y-%m}",
                "is_current": period == current,
                "transfers": counts.get(period, 0),
                "notice": notice,
                "open_count": getattr(notice, "open_count", 0),
                "deadline_passed": notice is not None and notice_period_over(notice),
            }
        )
    return rows


# --- helpers -------------------------------------------------------------------------------------------------


def _render(request, template, context, *, title, icon="table"):
    return TemplateResponse(
        request, f"points/admin/ledger/{template}", {"page_title": title, "header_icon": icon, **context}
    )


def _choose_village(request, capability: Capability, url_name: str, title: str, icon: str):
    """One village: go straight to it. Several (township, district): let the user pick."""
    scope = _require(request, capability)
    villages = list(scope.villages().order_by("township__code", "code"))
    if len(villages) == 1:
        return redirect(url_name, village_id=villages[0].pk)
    links = [(v, reverse(url_name, kwargs={"village_id": v.pk})) for v in villages]
    return _render(request, "choose_village.html", {"links": links}, title=title, icon=icon)


def statement_url(household_id: int) -> str:
    return reverse("points_ledger_statement", args=[household_id])


# --- 加分/扣分 --------------------------------------------------------------------------------------------------


def award_start(request):
    return _choose_village(request, Capability.MANAGE_POINTS, "points_ledger_award", _("加分扣分"), "plus")


def award(request, village_id: int):
    village = _village_or_404(request, village_id, Capability.MANAGE_POINTS)
    user = request.user
    initial = {}
    if request.method == "GET" and (request.GET.get("item") or "").isdigit():
        initial["rubric_item"] = int(request.GET["item"])
    posted = request.POST if request.method == "POST" else None
    form = AwardForm(posted, user=user, village=village, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        item: RubricItem = data["rubric_item_obj"]
        photo = data.get("photo")
        try:
            transfers = points_award(
                actor=user,
                village=village,
                rubric_item=item,
                households=data["household_list"],
                member=data["member_obj"],
                memo=data["memo"],
                photo_id=photo.pk if photo else None,
                idempotency_key=form.key,
            )
        except (HeheError, ValidationError) as exc:
            show_refusal(form, exc)
        else:
            _award_message(request, item, transfers)
            return redirect(reverse("points_ledger_award", args=[village.pk]) + "?" + urlencode({"item": item.pk}))
    items = form.items
    context = {
        "form": form,
        "village": village,
        "item_points": {item.pk: item.signed_points for item in items},
        "group_sizes": {str(k): v for k, v in _group_sizes(village).items()},
        "selected_households": form.selected_households(),
        "search_url": reverse("points_ledger_household_search", args=[village.pk]),
        "js_strings": _award_strings(),
    }
    context["village_size"] = sum(context["group_sizes"].values())
    title = _("加分扣分 · %(village)s") % {"village": village}
    return _render(request, "award.html", context, title=title, icon="plus")


def _award_strings() -> dict:
    """The picker's texts, translated here so that the static script needs no catalogue."""
    return {
        "award": _("将为 %(count)s 户各加 %(points)s 分，合计 %(total)s 分"),
        "deduct": _("将为 %(count)s 户各扣 %(points)s 分，合计 %(total)s 分"),
        "incomplete": _("请选择细则和记分对象"),
        "confirm": _("确认记分吗？"),
        "none": _("没有找到，换个户号、姓名或拼音首字母试试"),
        "failed": _("搜索失败，请检查网络后重试"),
        "archived": _("已归档"),
        "chosen": _("已选"),
        "remove": _("移除"),
        "sending": _("正在提交…"),
    }


def _award_message(request, item: RubricItem, transfers: list[Transfer]) -> None:
    count = len(transfers)
    total = sum(t.amount for t in transfers)
    values = {"count": count, "item": item.name, "points": item.points, "total": total}
    if item.kind == RubricItem.Kind.AWARD:
        text = _("已为 %(count)s 户加分「%(item)s」，每户 %(points)s 分，共 %(total)s 分") % values
    else:
        text = _("已为 %(count)s 户扣分「%(item)s」，每户 %(points)s 分，共 %(total)s 分") % values
    buttons = []
    for transfer in transfers[:3]:
        label = _("查看明细") if count == 1 else _("%(household)s 的明细") % {"household": transfer.household}
        buttons.append(messages.button(statement_url(transfer.household_id), label))
    messages.success(request, text, buttons=buttons)


@require_GET
def household_search_json(request, village_id: int):
    """The award form's household picker: at most 20 households of the village matching ``q`` (number, head's or
    a member's name, pinyin initials). Names and numbers only: never a phone or an ID number."""
    village = _village_or_404(request, village_id, Capability.MANAGE_POINTS)
    query = (request.GET.get("q") or "").strip()[:50]
    if not query:
        return JsonResponse({"results": []})
    found = household_search(scope=scope_for(request.user), query=query, village_id=village.pk)
    households = found.order_by("number").prefetch_related("members")[:SEARCH_LIMIT]
    return JsonResponse({"results": [household_choice(h) for h in households]})


# --- 积分明细 --------------------------------------------------------------------------------------------------


def statement(request, pk: int):
    scope = _require(request, Capability.VIEW_LEDGER)
    household = household_detail(scope=scope, household_id=pk)
    if household is None or not scope.can(Capability.VIEW_LEDGER, household.village_id):
        raise Http404
    page = household_statement(household, page=request.GET.get("p") or 1)
    today = clock.localdate()
    year_score = conduct_score(household, *period_range("year", today.year))
    can_reverse = scope.can(Capability.MANAGE_POINTS, household.village_id)
    reversed_ids = _reversed_ids(t.id for t in page.object_list) if can_reverse else set()
    for transfer in page.object_list:
        transfer.can_reverse = can_reverse and transfer.code in REVERSIBLE and transfer.id not in reversed_ids
        transfer.is_reversed = transfer.id in reversed_ids
    context = {
        "household": household,
        "balance": household_balance(household),
        "month_score": conduct_score(household, *period_range("month", today.year, today.month)),
        "year_score": year_score,
        "stars": (stars := stars_for(year_score, household.village.star_thresholds)),
        "stars_text": "★" * stars + "☆" * (5 - stars),
        "year": today.year,
        "page": page,
        "can_reverse": can_reverse,
    }
    title = _("积分明细 · %(household)s") % {"household": household}
    return _render(request, "statement.html", context, title=title, icon="list-ul")


# --- 冲正 -------------------------------------------------------------------------------------------------------


def reverse_transfer(request, pk: int):
    original = _transfer_or_404(request, pk)
    form = ReverseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            transfer_reverse(
                actor=request.user,
                transfer=original,
                reason=form.cleaned_data["reason"],
                idempotency_key=form.key,
            )
        except (HeheError, ValidationError) as exc:
            show_refusal(form, exc)
        else:
            values = {
                "seq": original.seq,
                "item": original.item_name or original.get_code_display(),
                "amount": original.amount,
            }
            messages.success(request, _("已冲正第 %(seq)s 号记录（%(item)s %(amount)s 分）") % values)
            if original.household_id:
                return redirect(statement_url(original.household_id))
            return redirect("points_ledger_award_start")
    context = {"form": form, "transfer": original, "already_reversed": bool(_reversed_ids([original.id]))}
    return _render(request, "reverse.html", context, title=_("冲正"), icon="undo")


# --- 积分申报审核 ------------------------------------------------------------------------------------------------


def claims(request):
    scope = _require(request, Capability.MANAGE_POINTS)
    pending = pending_claims(scope=scope)
    context = {
        "pending": pending[:QUEUE_LIMIT],
        "pending_count": pending.count(),
        "recent": _recent_claims(scope),
        "approve_form": ApproveClaimForm(),
        "reject_form": RejectClaimForm(),
    }
    return _render(request, "claims.html", context, title=_("积分申报审核"), icon="tasks")


def claim_photo(request, pk: int, photo_id: int):
    """One of a claim's photos, for those who review the claim (the private storage has no URL of its own)."""
    claim = _claim_or_404(request, pk)
    photo = next((p for p in claim.photos.all() if p.pk == photo_id), None)
    if photo is None:
        raise Http404
    return photo_response(photo.image)


def claim_detail(request, pk: int):
    claim = _claim_or_404(request, pk)
    return _claim_page(request, claim, ApproveClaimForm(), RejectClaimForm())


def _claim_page(request, claim, approve_form, reject_form):
    context = {"claim": claim, "approve_form": approve_form, "reject_form": reject_form}
    return _render(request, "claim.html", context, title=_("审核申报"), icon="tasks")


@require_POST
def claim_approve_view(request, pk: int):
    claim = _claim_or_404(request, pk)
    form = ApproveClaimForm(request.POST)
    if form.is_valid():
        try:
            claim_approve(actor=request.user, claim=claim, memo=form.cleaned_data["memo"])
        except (HeheError, ValidationError) as exc:
            show_refusal(form, exc)
        else:
            messages.success(
                request,
                _("已通过：%(household)s「%(item)s」，已加 %(points)s 分")
                % {"household": claim.household, "item": claim.rubric_item.name, "points": claim.rubric_item.points},
                buttons=[messages.button(statement_url(claim.household_id), _("查看明细"))],
            )
            return redirect("points_ledger_claims")
    claim.refresh_from_db()
    return _claim_page(request, claim, form, RejectClaimForm())


@require_POST
def claim_reject_view(request, pk: int):
    claim = _claim_or_404(request, pk)
    form = RejectClaimForm(request.POST)
    if form.is_valid():
        try:
            claim_reject(actor=request.user, claim=claim, reason=form.cleaned_data["reason"])
        except (HeheError, ValidationError) as exc:
            show_refusal(form, exc)
        else:
            messages.success(
                request,
                _("已退回：%(household)s「%(item)s」") % {"household": claim.household, "item": claim.rubric_item.name},
            )
            return redirect("points_ledger_claims")
    claim.refresh_from_db()
    return _claim_page(request, claim, ApproveClaimForm(), form)


# --- 异议答复 ---------------------------------------------------------------------------------------------------


def objections(request):
    scope = _require(request, Capability.MANAGE_POINTS)
    open_ = open_objections(scope=scope)
    context = {
        "open": open_[:QUEUE_LIMIT],
        "open_count": open_.count(),
        "recent": _recent_objections(scope),
        "form": ObjectionAnswerForm(),
    }
    return _render(request, "objections.html", context, title=_("异议答复"), icon="help")


def objection_detail(request, pk: int):
    objection = _objection_or_404(request, pk)
    return _objection_page(request, objection, ObjectionAnswerForm())


def _objection_page(request, objection, form):
    context = {"objection": objection, "form": form}
    return _render(request, "objection.html", context, title=_("答复异议"), icon="help")


@require_POST
def objection_answer_view(request, pk: int):
    objection = _objection_or_404(request, pk)
    form = ObjectionAnswerForm(request.POST)
    if form.is_valid():
        upheld = form.cleaned_data["decision"] == ObjectionAnswerForm.UPHELD
        try:
            objection_answer(actor=request.user, objection=objection, upheld=upheld, answer=form.cleaned_data["answer"])
        except (HeheError, ValidationError) as exc:
            show_refusal(form, exc)
        else:
            if upheld:
                text = _("异议成立，已冲正第 %(seq)s 号记录") % {"seq": objection.transfer.seq}
            else:
                text = _("已答复：异议不成立")
            messages.success(request, text)
            return redirect("points_ledger_objections")
    objection.refresh_from_db()
    return _objection_page(request, objection, form)


# --- 积分公示与结账 ---------------------------------------------------------------------------------------------


def notices_start(request):
    return _choose_village(request, Capability.MANAGE_POINTS, "points_ledger_notices", _("积分公示与结账"), "calendar")


def notices(request, village_id: int):
    village = _village_or_404(request, village_id, Capability.MANAGE_POINTS)
    return _notices_page(request, village)


def _notices_page(request, village, status=200):
    context = {"village": village, "months": _months(village), "today": clock.localdate()}
    title = _("积分公示与结账 · %(village)s") % {"village": village}
    response = _render(request, "notices.html", context, title=title, icon="calendar")
    response.status_code = status
    return response


def _month_action(request, village_id: int, service, success_text: str):
    village = _village_or_404(request, village_id, Capability.MANAGE_POINTS)
    form = MonthForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return _notices_page(request, village)
    period = form.cleaned_data["period"]
    try:
        service(actor=request.user, village=village, period=period)
    except (HeheError, ValidationError) as exc:
        messages.error(request, str(getattr(exc, "message", None) or " ".join(exc.messages)))
        return _notices_page(request, village)
    messages.success(request, success_text % {"month": f"{period:%Y-%m}"})
    return redirect("points_ledger_notices", village_id=village.pk)


@require_POST
def notice_publish_view(request, village_id: int):
    return _month_action(request, village_id, notice_publish, _("已公示 %(month)s 的积分，居民可在公示期内提出异议"))


@require_POST
def month_close_view(request, village_id: int):
    return _month_action(request, village_id, month_close, _("%(month)s 已结账"))


# --- 积分细则: the snippet viewsets' policy (they save through ``rubric.rubric_item_save``) ---------------------

RUBRIC_POLICY = RubricItemPermissionPolicy()
