"""Forms of the campaigns' admin screens.

They turn raw input into objects of the user's scope (an id outside it reads as "not in this campaign", never as
"exists elsewhere") and leave every rule of the campaign to ``campaigns.services``, which checks everything again
and whose refusals the views show on these forms (``points.admin.forms.show_refusal``). The paper ballot form is
an ``IdempotentForm``, so a double submit or a reload records the ballot once.
"""

import datetime
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.images import get_image_model
from wagtail.permissions import policy_registry

from campaigns.admin.policy import manageable_districts, manageable_townships
from campaigns.models import Campaign
from points import clock
from points.admin.forms import IdempotentForm, villages_for
from points.ledger.admin.forms import ID_MAX, ObjectIdField
from points.models import Member
from points.scope import Capability

STORY_MAX = 3000
NOTE_MAX = 200
CITATION_MAX = 1000
TIE_NOTE_MAX = 300
ANSWER_MAX = 500

UNKNOWN_SCOPE = _("所选范围不存在，或您无权在该范围发起评选")
UNKNOWN_HOUSEHOLD = _("所选的户不在本次评选的范围内，或您无权提名该户")
UNKNOWN_MEMBER = _("所选成员不属于该户")
NO_HOUSEHOLD = _("请先搜索并选择被提名的户")
BAD_NOMINEE = _("候选编号无效：%(value)s")
NEED_CITATION = _("请填写颁奖词")
CHOICES_RANGE = _("每票可选人数须在 1 到 20 之间")
WINNERS_MIN = _("评出名额至少为 1")
STARS_RANGE = _("星级要求须在 0 到 5 之间")

SCOPE_SEPARATOR = ":"


# --- the campaign itself ----------------------------------------------------------------------------------------


def scope_choices(user) -> list:
    """The levels and places the user may start a campaign in, grouped: villages, townships, the district."""
    villages = villages_for(user, Capability.MANAGE_POINTS).order_by("township__code", "code")
    groups = [
        (_("村级"), [(f"village:{v.pk}", f"{v.township.name} · {v.name}") for v in villages]),
        (_("乡镇级"), [(f"township:{t.pk}", t.name) for t in manageable_townships(user).order_by("code")]),
        (_("区级"), [(f"district:{d.pk}", d.name) for d in manageable_districts(user).order_by("code")]),
    ]
    return [(label, options) for label, options in groups if options]


class CampaignForm(WagtailAdminModelForm):
    """Create a campaign (all fields) or edit a draft (its dates and rules: the scope and nominee type stay).

    The scope is one choice (``village:3``, ``township:1``, ``district:1``) so that a level and a place that do not
    belong together cannot be sent; only places the user may run a campaign in are offered or accepted.
    """

    scope = forms.ChoiceField(
        label=_("范围"),
        help_text=_("村级评选由本村各户投票；乡镇级、区级由辖区内所有村的户投票"),
        error_messages={"required": _("请选择评选范围"), "invalid_choice": UNKNOWN_SCOPE},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Fixed once created: who votes, and whether persons or households are nominated.
            for name in ("scope", "nominee_type"):
                self.fields.pop(name, None)
            return
        if "scope" in self.fields:
            groups = scope_choices(self.for_user)
            options = [value for _label, group in groups for value, _text in group]
            self.fields["scope"].choices = [("", _("请选择"))] + groups
            if len(options) == 1:
                self.fields["scope"].initial = options[0]
        start = timezone.localtime(clock.now()).replace(minute=0, second=0, microsecond=0) + datetime.timedelta(hours=1)
        for name, days in (("nominating_starts", 0), ("voting_starts", 7), ("voting_ends", 14)):
            if name in self.fields and not self.initial.get(name):
                self.initial[name] = start + datetime.timedelta(days=days)

    def clean_scope(self):
        value = self.cleaned_data["scope"]
        level, _sep, raw_id = value.partition(SCOPE_SEPARATOR)
        if not raw_id.isdigit() or int(raw_id) > ID_MAX:
            raise ValidationError(UNKNOWN_SCOPE)
        pk = int(raw_id)
        instance = self.instance
        if level == Campaign.Level.VILLAGE:
            village = villages_for(self.for_user, Capability.MANAGE_POINTS).filter(pk=pk).first()
            if village is None:
                raise ValidationError(UNKNOWN_SCOPE)
            instance.village, instance.township = village, village.township
            instance.district_id = village.township.district_id
        elif level == Campaign.Level.TOWNSHIP:
            township = manageable_townships(self.for_user).filter(pk=pk).first()
            if township is None:
                raise ValidationError(UNKNOWN_SCOPE)
            instance.village, instance.township, instance.district_id = None, township, township.district_id
        elif level == Campaign.Level.DISTRICT:
            district = manageable_districts(self.for_user).filter(pk=pk).first()
            if district is None:
                raise ValidationError(UNKNOWN_SCOPE)
            instance.village, instance.township, instance.district = None, None, district
        else:
            raise ValidationError(UNKNOWN_SCOPE)
        instance.level = level
        return value

    def clean_choices_per_ballot(self):
        value = self.cleaned_data["choices_per_ballot"]
        if value is not None and not 1 <= value <= 20:
            raise ValidationError(CHOICES_RANGE)
        return value

    def clean_winners_count(self):
        value = self.cleaned_data["winners_count"]
        if value is not None and value < 1:
            raise ValidationError(WINNERS_MIN)
        return value

    def clean_rule_min_stars(self):
        value = self.cleaned_data["rule_min_stars"]
        if value is not None and value > 5:
            raise ValidationError(STARS_RANGE)
        return value


class AdvanceForm(forms.Form):
    to = forms.ChoiceField(
        choices=Campaign.Phase.choices,
        widget=forms.HiddenInput,
        error_messages={"required": _("请选择下一阶段"), "invalid_choice": _("请选择下一阶段")},
    )
    note = forms.CharField(label=_("备注"), max_length=NOTE_MAX, required=False)


# --- nominations ------------------------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the list (possibly empty) goes to the service, which checks each photo."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)]


class HouseholdSearchForm(forms.Form):
    q = forms.CharField(label=_("查找户"), max_length=50, required=False)


class NominateForm(forms.Form):
    """The committee nominates one household (or one of its members, for a person campaign)."""

    household = ObjectIdField(error_messages={"required": NO_HOUSEHOLD})
    member = ObjectIdField(label=_("被提名人"), required=False, widget=forms.Select)
    story = forms.CharField(
        label=_("事迹"),
        max_length=STORY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("最多 3000 字，会在投票页和光荣榜上公开"),
    )
    photos = MultipleFileField(
        label=_("照片"),
        required=False,
        help_text=_("可选，最多 3 张，每张不超过 20 MB（JPEG、PNG 或 WebP），照片会自动缩小"),
    )

    def __init__(self, *args, campaign: Campaign, households, household=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.households = households
        self.household = household
        if self.is_bound and household is None:
            self.household = self._household_from(self.data.get("household"))
        if campaign.nominee_type == Campaign.NomineeType.PERSON:
            members = list(self.household.members.all()) if self.household else []
            self.fields["member"].widget.choices = [("", _("请选择家庭成员"))] + [(m.pk, m.name) for m in members]
        else:
            del self.fields["member"]
        if self.household is not None and not self.is_bound:
            self.initial["household"] = self.household.pk

    def _household_from(self, raw):
        raw = str(raw or "").strip()
        if not raw.isdigit() or int(raw) > ID_MAX:
            return None
        return self.households.filter(pk=int(raw)).prefetch_related("members").first()

    def clean(self):
        cleaned = super().clean()
        if "household" in cleaned and self.household is None:
            self.add_error("household", UNKNOWN_HOUSEHOLD)
        cleaned["member_obj"] = None
        member_id = cleaned.get("member")
        if member_id is not None and self.household is not None:
            member = Member.objects.filter(pk=member_id, household=self.household).first()
            if member is None:
                self.add_error("member", UNKNOWN_MEMBER)
            cleaned["member_obj"] = member
        return cleaned


class ReviewForm(forms.Form):
    APPROVE = "approve"
    REJECT = "reject"

    decision = forms.ChoiceField(
        choices=[(APPROVE, _("通过")), (REJECT, _("不通过"))],
        error_messages={"required": _("请选择通过或不通过"), "invalid_choice": _("请选择通过或不通过")},
    )
    reason = forms.CharField(label=_("未通过原因"), max_length=NOTE_MAX, required=False)


# --- paper ballots ----------------------------------------------------------------------------------------------


class CheckboxIds(forms.Widget):
    """Repeated ``nominees=<id>`` values; the template draws the checkboxes."""

    def value_from_datadict(self, data, files, name):
        if hasattr(data, "getlist"):
            return data.getlist(name)
        value = data.get(name)
        return list(value) if isinstance(value, list | tuple) else [] if value is None else [value]


class NomineeIdsField(forms.Field):
    """The chosen nominees as a list of ids, in the order sent, duplicates kept: the service refuses them with
    its own words, as it does a choice that is not an approved nominee of the campaign."""

    widget = CheckboxIds

    def to_python(self, value):
        ids = []
        for raw in value or []:
            token = str(raw).strip()
            if not re.fullmatch(r"[0-9]{1,19}", token) or not 1 <= int(token) <= ID_MAX:
                raise ValidationError(BAD_NOMINEE % {"value": token[:20]}, code="invalid")
            ids.append(int(token))
        return ids


class BallotForm(IdempotentForm):
    """One paper ballot: the household (by its number, confirmed by the head's name) and the ticked nominees."""

    village = ObjectIdField(label=_("村"), required=False, widget=forms.Select)
    number = forms.CharField(
        label=_("户号"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "enterkeyhint": "next", "data-ballot-number": ""}),
    )
    household = ObjectIdField(required=False)
    nominees = NomineeIdsField(required=False)

    def __init__(self, *args, villages, **kwargs):
        super().__init__(*args, **kwargs)
        self.villages = list(villages)
        if len(self.villages) > 1:
            self.fields["village"].widget.choices = [(v.pk, f"{v.township.name} · {v.name}") for v in self.villages]
            self.fields["village"].widget.attrs["data-ballot-village"] = ""
        else:
            self.fields["village"].widget = forms.HiddenInput(attrs={"data-ballot-village": ""})
            if self.villages and not self.is_bound:
                self.initial["village"] = self.villages[0].pk
        self.fields["household"].widget.attrs["data-ballot-household"] = ""

    def confirm(self, household) -> None:
        """Show the form again for ``household`` (its number now confirmed by the name on the page)."""
        data = self.data.copy()
        data["household"] = str(household.pk)
        data["village"] = str(household.village_id)
        self.data = data

    def chosen(self) -> set[str]:
        """The ticked ids as sent, to tick them again when the form comes back with an error."""
        return {str(v) for v in self.fields["nominees"].widget.value_from_datadict(self.data, None, "nominees")}


# --- results ----------------------------------------------------------------------------------------------------


def usable_images(user):
    """Images the user may choose (Wagtail's collection permissions), or None when they may choose none."""
    policy = policy_registry.get_by_type(get_image_model())
    if not policy.user_has_any_permission(user, ["choose", "add"]):
        return None
    return policy.instances_user_has_any_permission_for(user, ["choose"])


class WinnersForm(forms.Form):
    """Pick the winners from the tally: a citation each, an optional photo, and the committee's decision wherever
    the votes tie at the last place (the service refuses a tied pick without it and names the nominee)."""

    def __init__(self, *args, rows, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        images = usable_images(user)
        for row in rows:
            pk = row["nomination"].pk
            self.fields[f"pick_{pk}"] = forms.BooleanField(label=_("获奖"), required=False)
            self.fields[f"citation_{pk}"] = forms.CharField(
                label=_("颁奖词"), max_length=CITATION_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2})
            )
            if row["tied_at_cut"]:
                self.fields[f"tie_note_{pk}"] = forms.CharField(
                    label=_("并列票数的处理"),
                    max_length=TIE_NOTE_MAX,
                    required=False,
                    help_text=_("票数与他人并列：请写明村委如何决定，如「村民代表会议表决 12:7」"),
                )
            if images is not None:
                from wagtail.images.widgets import AdminImageChooser

                self.fields[f"photo_{pk}"] = forms.ModelChoiceField(
                    label=_("照片"),
                    queryset=images,
                    required=False,
                    widget=AdminImageChooser(),
                    error_messages={"invalid_choice": _("所选照片不存在或您无权使用")},
                )

    def bound_rows(self):
        """Each tally row with its own fields, for the template."""
        for row in self.rows:
            pk = row["nomination"].pk
            yield {
                **row,
                "pick": self[f"pick_{pk}"],
                "citation": self[f"citation_{pk}"],
                "tie_note": self[f"tie_note_{pk}"] if f"tie_note_{pk}" in self.fields else None,
                "photo": self[f"photo_{pk}"] if f"photo_{pk}" in self.fields else None,
            }

    def clean(self):
        cleaned = super().clean()
        for row in self.rows:
            pk = row["nomination"].pk
            if cleaned.get(f"pick_{pk}") and not (cleaned.get(f"citation_{pk}") or "").strip():
                self.add_error(f"citation_{pk}", NEED_CITATION)
        return cleaned

    def picks(self) -> list[dict]:
        picks = []
        for row in self.rows:
            pk = row["nomination"].pk
            if not self.cleaned_data.get(f"pick_{pk}"):
                continue
            photo = self.cleaned_data.get(f"photo_{pk}")
            pick = {"nomination": pk, "citation": self.cleaned_data.get(f"citation_{pk}", "")}
            if photo is not None:
                pick["photo_id"] = photo.pk
            if self.cleaned_data.get(f"tie_note_{pk}"):
                pick["tie_note"] = self.cleaned_data[f"tie_note_{pk}"]
            picks.append(pick)
        return picks


class ObjectionAnswerForm(forms.Form):
    UPHELD = "upheld"
    DISMISSED = "dismissed"

    decision = forms.ChoiceField(
        label=_("结论"),
        choices=[(UPHELD, _("异议成立")), (DISMISSED, _("异议不成立"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择异议是否成立"), "invalid_choice": _("请选择异议是否成立")},
    )
    answer = forms.CharField(
        label=_("公开答复"),
        max_length=ANSWER_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("答复会与评选结果一同公开"),
    )
