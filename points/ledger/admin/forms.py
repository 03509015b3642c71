"""Forms of the ledger's admin screens: awards, reviews, reversals, notices and the rubric.

They turn raw input into objects of the user's scope (an id outside it reads as "not found", never as "exists
elsewhere") and leave every rule to the services, which check everything again. Forms that move points are
``points.admin.forms.IdempotentForm``s, so a double click or a resubmit replays the first result instead of writing
twice.
"""

import datetime
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.images import get_image_model
from wagtail.permissions import policy_registry

from points.admin.forms import IdempotentForm, villages_for
from points.ledger.awards import MAX_BATCH, households_in_group, households_in_village, rubric_for_village
from points.ledger.rubric import scope_district_ids
from points.models import District, Member, RubricItem, Village
from points.scope import Capability, scope_for

ID_MAX = 2**63 - 1  # the largest id the database can hold; anything bigger is refused before any query
MEMO_MAX = 200
REASON_MAX = 200
ANSWER_MAX = 500

INVALID_ID = _("编号无效")
UNKNOWN_ITEM = _("所选细则不存在或不适用于本村")
UNKNOWN_GROUP = _("所选的组不存在或不属于本村")
UNKNOWN_MEMBER = _("所选成员不属于该户")
NO_HOUSEHOLD = _("请至少选择一户")
MEMBER_NEEDS_ONE = _("只有给一户记分时才能选择成员")
UNKNOWN_PHOTO = _("所选照片不存在或您无权使用")
BAD_MONTH = _("月份格式应为 2025-03 这样的年-月")


def unknown_households_message(ids) -> str:
    shown = "、".join(str(i) for i in ids[:5]) + ("…" if len(ids) > 5 else "")
    return _("所选的户不存在或不属于本村（编号 %(ids)s）") % {"ids": shown}


def household_choice(household) -> dict:
    """What the household picker shows and sends back: never a phone or an ID number."""
    return {
        "id": household.id,
        "number": household.number,
        "head": household.head_name,
        "group": household.group.name if household.group_id else "",
        "archived": household.is_archived,
        "members": [{"id": m.id, "name": m.name} for m in household.members.all()],
    }


class ObjectIdField(forms.IntegerField):
    """A positive database id; zero, negative, non-numeric and oversized input are refused before any query."""

    default_error_messages = {"invalid": INVALID_ID, "min_value": INVALID_ID, "max_value": INVALID_ID}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.HiddenInput)
        super().__init__(min_value=1, max_value=ID_MAX, **kwargs)


class CommaSeparatedHiddenInput(forms.HiddenInput):
    """One hidden field of comma-separated ids; repeated fields (``households=1&households=2``) also work."""

    def value_from_datadict(self, data, files, name):
        if hasattr(data, "getlist"):
            values = data.getlist(name)
        else:
            value = data.get(name)
            values = value if isinstance(value, list | tuple) else [value] if value is not None else []
        return ",".join(str(v) for v in values if v is not None)

    def format_value(self, value):
        if isinstance(value, list | tuple):
            return ",".join(str(v) for v in value)
        return super().format_value(value)


class HouseholdIdsField(forms.Field):
    """A list of household ids, in the order given, without duplicates."""

    widget = CommaSeparatedHiddenInput

    def to_python(self, value):
        tokens = [t for t in re.split(r"[,\s]+", value or "") if t]
        ids = []
        for token in tokens:
            if not token.isdigit() or not 1 <= int(token) <= ID_MAX:
                raise ValidationError(_("户的编号无效：%(value)s") % {"value": token[:20]}, code="invalid")
            number = int(token)
            if number not in ids:
                ids.append(number)
        if len(ids) > MAX_BATCH:
            raise ValidationError(_("一次最多 %(max)s 户") % {"max": MAX_BATCH}, code="too_many")
        return ids


def rubric_choices(items) -> list:
    """Active items grouped by category, each labelled with its signed points: ``照顾老人（+10）``."""
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(item.category.name, []).append((item.pk, str(item)))
    return [("", _("请选择细则"))] + list(groups.items())


class AwardForm(IdempotentForm):
    """加分/扣分: one rubric item to one or more households, a whole group or the whole village."""

    TARGET_HOUSEHOLDS = "households"
    TARGET_GROUP = "group"
    TARGET_VILLAGE = "village"

    rubric_item = ObjectIdField(label=_("细则"), widget=forms.Select, error_messages={"required": _("请选择细则")})
    target = forms.ChoiceField(
        label=_("对象"),
        choices=[(TARGET_HOUSEHOLDS, _("选定的户")), (TARGET_GROUP, _("整组")), (TARGET_VILLAGE, _("全村"))],
        initial=TARGET_HOUSEHOLDS,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("请选择记分对象：选定的户、整组或全村")},
    )
    households = HouseholdIdsField(label=_("户"), required=False)
    group = ObjectIdField(label=_("组"), required=False, widget=forms.Select)
    member = ObjectIdField(
        label=_("成员（谁做的）"), required=False, widget=forms.Select, help_text=_("可选；只给一户记分时可选")
    )
    memo = forms.CharField(label=_("备注"), max_length=MEMO_MAX, required=False)
    photo = forms.ModelChoiceField(
        label=_("照片"),
        queryset=get_image_model().objects.none(),
        required=False,
        error_messages={"invalid_choice": UNKNOWN_PHOTO},
    )

    def __init__(self, *args, user, village: Village, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.village = village
        self.scope = scope_for(user)
        self.items = list(rubric_for_village(village))
        self.fields["rubric_item"].widget.choices = rubric_choices(self.items)
        self.groups = list(village.groups.all())
        self.fields["group"].widget.choices = [("", _("请选择组"))] + [(g.pk, g.name) for g in self.groups]
        self.fields["member"].widget.choices = [("", _("不指定"))]
        if self.is_bound:
            # The member list is filled by the picker; it re-selects this one after an error.
            self.fields["member"].widget.attrs["data-initial"] = str(self.data.get(self.add_prefix("member"), ""))[:20]
        images = self._usable_images()
        if images is None:
            del self.fields["photo"]
        else:
            from wagtail.images.widgets import AdminImageChooser

            self.fields["photo"].queryset = images
            self.fields["photo"].widget = AdminImageChooser()

    def _usable_images(self):
        """Images the user may choose (Wagtail's collection permissions), or None to leave the field out."""
        policy = policy_registry.get_by_type(get_image_model())
        if not policy.user_has_any_permission(self.user, ["choose", "add"]):
            return None
        return policy.instances_user_has_any_permission_for(self.user, ["choose"])

    def selected_households(self) -> list[dict]:
        """The households already picked in a bound form, for the picker to show again after an error."""
        if not self.is_bound:
            return []
        field = self.fields["households"]
        try:
            raw = field.widget.value_from_datadict(self.data, self.files, self.add_prefix("households"))
            ids = field.to_python(raw)
        except ValidationError:
            return []
        found = {
            h.id: h
            for h in self.scope.households().filter(village=self.village, id__in=ids[:200]).prefetch_related("members")
        }
        return [household_choice(found[i]) for i in ids if i in found]

    def clean(self):
        cleaned = super().clean()
        item_id = cleaned.get("rubric_item")
        if item_id is not None:
            item = rubric_for_village(self.village, include_inactive=True).filter(pk=item_id).first()
            if item is None:
                self.add_error("rubric_item", UNKNOWN_ITEM)
            cleaned["rubric_item_obj"] = item
        target = cleaned.get("target")
        households = None
        if target == self.TARGET_HOUSEHOLDS and "households" in cleaned:
            ids = cleaned["households"]
            if not ids:
                self.add_error("households", NO_HOUSEHOLD)
            else:
                found = {h.id: h for h in self.scope.households().filter(village=self.village, id__in=ids)}
                missing = [i for i in ids if i not in found]
                if missing:
                    self.add_error("households", unknown_households_message(missing))
                else:
                    households = [found[i] for i in ids]
        elif target == self.TARGET_GROUP and "group" in cleaned:
            group_id = cleaned["group"]
            if group_id is None:
                self.add_error("group", _("请选择组"))
            elif group_id not in {g.pk for g in self.groups}:
                self.add_error("group", UNKNOWN_GROUP)
            else:
                households = list(households_in_group(self.village, group_id))
                if not households:
                    self.add_error("group", _("该组没有在册的户"))
        elif target == self.TARGET_VILLAGE:
            households = list(households_in_village(self.village))
            if not households:
                self.add_error("target", _("本村没有在册的户"))
        cleaned["household_list"] = households
        member_id = cleaned.get("member")
        cleaned["member_obj"] = None
        if member_id is not None and households is not None:
            if len(households) != 1:
                self.add_error("member", MEMBER_NEEDS_ONE)
            else:
                member = Member.objects.filter(pk=member_id, household=households[0]).first()
                if member is None:
                    self.add_error("member", UNKNOWN_MEMBER)
                cleaned["member_obj"] = member
        return cleaned


class ReverseForm(IdempotentForm):
    reason = forms.CharField(
        label=_("冲正原因"),
        max_length=REASON_MAX,
        help_text=_("会显示在该户的明细和积分公示中，如：重复录入、记错了户"),
        error_messages={"required": _("请填写冲正原因")},
    )


class ApproveClaimForm(forms.Form):
    memo = forms.CharField(label=_("备注"), max_length=MEMO_MAX, required=False)


class RejectClaimForm(forms.Form):
    reason = forms.CharField(
        label=_("未通过原因"),
        max_length=REASON_MAX,
        help_text=_("会告知申报的居民"),
        error_messages={"required": _("请填写未通过的原因")},
    )


class ObjectionAnswerForm(forms.Form):
    UPHELD = "upheld"
    DISMISSED = "dismissed"

    decision = forms.ChoiceField(
        label=_("结论"),
        choices=[(UPHELD, _("异议成立（冲正该记录）")), (DISMISSED, _("异议不成立"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择异议是否成立"), "invalid_choice": _("请选择异议是否成立")},
    )
    answer = forms.CharField(
        label=_("公开答复"),
        max_length=ANSWER_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("答复会在积分公示中公开"),
        error_messages={"required": _("请填写答复")},
    )


def parse_month(value: str) -> datetime.date:
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", value or "")
    if not match:
        raise ValidationError(BAD_MONTH)
    year, month = int(match[1]), int(match[2])
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise ValidationError(BAD_MONTH)
    return datetime.date(year, month, 1)


class MonthForm(forms.Form):
    """A month of the village in the URL, written ``2025-03``."""

    period = forms.CharField(label=_("月份"), max_length=7, error_messages={"required": BAD_MONTH})

    def clean_period(self):
        return parse_month(self.cleaned_data["period"])


class RubricItemForm(WagtailAdminModelForm):
    """A village item (committee) or a district item (district admin); overrides only the district's items."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        scope = scope_for(user)
        villages = villages_for(user, Capability.MANAGE_POINTS)
        districts = scope_district_ids(user)
        self.may_edit_district = Capability.MANAGE_STAFF in scope.capabilities
        if "village" in self.fields:
            self.fields["village"].queryset = villages
            self.fields["village"].help_text = _("本村自己的细则选村；全区细则留空并选区")
            self.fields["village"].error_messages["invalid_choice"] = _("所选的村不存在或不在您的管辖范围内")
            if villages.count() == 1 and not self.instance.pk and not self.may_edit_district:
                self.fields["village"].initial = villages.first()
        if "district" in self.fields:
            if self.may_edit_district:
                qs = District.objects.all()
                self.fields["district"].queryset = qs if districts is None else qs.filter(id__in=districts)
            else:
                del self.fields["district"]
        if "overrides" in self.fields:
            qs = RubricItem.objects.filter(village__isnull=True).select_related("category")
            if districts is not None:
                qs = qs.filter(district_id__in=districts)
            if self.instance.pk:
                qs = qs.exclude(pk=self.instance.pk)
            self.fields["overrides"].queryset = qs
            self.fields["overrides"].error_messages["invalid_choice"] = _("只能替代本区的全区细则")
            self.fields["overrides"].help_text = _("本村用这条细则代替所选的全区细则（如调整分值，或设为停用）")

    def clean(self):
        cleaned = super().clean()
        village = cleaned.get("village")
        district = cleaned.get("district") if "district" in self.fields else None
        if "district" not in self.fields:
            # Without MANAGE_STAFF the item is a village item: keep the district of an existing one out.
            self.instance.district = None
        if village is None and district is None:
            self.add_error("village" if "district" not in self.fields else None, _("细则须属于一个村或一个区"))
        elif village is not None and district is not None:
            self.add_error(None, _("细则须属于一个区或一个村，不能两者都选"))
        cap_period, cap_points = cleaned.get("cap_period"), cleaned.get("cap_points")
        if cap_period and cap_period != RubricItem.CapPeriod.NONE and not cap_points:
            self.add_error("cap_points", _("设了上限周期就要填每户上限"))
        elif cap_period == RubricItem.CapPeriod.NONE and cap_points:
            self.add_error("cap_period", _("填了每户上限就要选上限周期"))
        overrides = cleaned.get("overrides")
        if overrides is not None:
            if village is None:
                self.add_error("overrides", _("只有村的细则才能替代全区细则"))
            elif overrides.village_id is not None or overrides.district_id != village.township.district_id:
                self.add_error("overrides", _("只能替代本区的全区细则"))
            elif RubricItem.objects.filter(village=village, overrides=overrides).exclude(pk=self.instance.pk).exists():
                self.add_error("overrides", _("本村已经替代过这条全区细则，请编辑原来的那条"))
        return cleaned
