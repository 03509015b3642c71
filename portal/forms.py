import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from points.admin.forms import IdempotentForm
from points.images import validate_photo
from points.ledger.claims import MAX_PHOTOS
from points.store.services import MAX_QUANTITY as MAX_RESERVE_QUANTITY


class ResidentLoginForm(AuthenticationForm):
    """户号或手机号 + 密码. The error never says which half was wrong."""

    username = forms.CharField(
        label=_("户号或手机号"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "username", "inputmode": "text", "autofocus": True}),
        help_text=_("户号形如 QS01-023（村代码-户号），请向村委索取"),
    )
    password = forms.CharField(
        label=_("密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    error_messages = {
        "invalid_login": _("户号/手机号或密码不正确。忘记密码请找村委重置。"),
        "inactive": _("该账号已停用，请联系村委。"),
    }


# --- the resident's pages ------------------------------------------------------------------------------------

MSG_PICK_ITEM = _("请选择要申报的事项")
MSG_ITEM_NOT_HERE = _("只能申报本村启用的加分细则，请从列表中选择")
MSG_MEMBER_NOT_HERE = _("所选成员不属于您家，请从列表中选择")
MSG_CLAIM_TEXT = _("请写明做了什么好事")
MSG_OBJECTION_TEXT = _("请写明异议的理由")
MSG_STALE_FORM = _("页面已过期，请返回重新选择后再提交")


class KeyedForm(IdempotentForm):
    """A resident's form that writes: a double tap or a reload sends the same key and the service answers with the
    first result instead of writing twice (``points.admin.forms.IdempotentForm``), in the resident's words."""

    stale_message = MSG_STALE_FORM


class PhotoInputs(forms.FileInput):
    """Reads every file posted under the field's name; the template renders one picker per photo.

    Three single pickers rather than one ``multiple`` picker: on cheap phones a single picker offers the camera,
    and an elderly user adds photos one at a time.
    """

    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """A list of uploaded files. ``ClaimForm`` checks them early (so every error shows at once); the claim
    service checks them again, with the same messages, before anything is stored."""

    widget = PhotoInputs

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(PhotosField, self).clean(f, initial) for f in files if f]


class ClaimForm(KeyedForm):
    """积分申报 by a resident for their own household. Choices are limited to what the village allows; a double tap
    or a resent form makes one claim."""

    rubric_item = forms.ModelChoiceField(
        label=_("申报事项"),
        queryset=None,
        empty_label=_("请选择"),
        error_messages={"required": MSG_PICK_ITEM, "invalid_choice": MSG_ITEM_NOT_HERE},
    )
    member = forms.ModelChoiceField(
        label=_("谁做的"),
        queryset=None,
        required=False,
        empty_label=_("全家 / 不指定"),
        error_messages={"invalid_choice": MSG_MEMBER_NOT_HERE},
    )
    text = forms.CharField(
        label=_("做了什么"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("写清时间、地点和经过，最多 1000 字"),
        error_messages={"required": MSG_CLAIM_TEXT, "max_length": _("说明最多 1000 字")},
    )
    photos = PhotosField(
        label=_("照片（可选，最多 3 张）"),
        required=False,
        help_text=_("JPEG、PNG 或 WebP 图片，每张不超过 20 MB；手机照片会自动缩小"),
    )

    def __init__(self, *args, items, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rubric_item"].queryset = items
        self.fields["rubric_item"].label_from_instance = lambda item: f"{item.category.name} · {item}"
        self.fields["member"].queryset = members
        self.fields["member"].label_from_instance = lambda member: member.name

    def clean_photos(self):
        photos = self.cleaned_data["photos"]
        if len(photos) > MAX_PHOTOS:
            raise ValidationError(_("最多上传 %(max)s 张照片") % {"max": MAX_PHOTOS})
        errors = []
        for photo in photos:
            try:
                validate_photo(photo)  # Pillow: type, size, pixel count; never decodes a bomb
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return photos


class ObjectionForm(forms.Form):
    text = forms.CharField(
        label=_("异议理由"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("写清您认为哪里不对，最多 1000 字。村委会公开答复。"),
        error_messages={"required": MSG_OBJECTION_TEXT, "max_length": _("异议最多 1000 字")},
    )


# --- the store and campaigns (resident pages) ---------------------------------------------------------------------

MSG_PICK_GOODS = _("请至少选择一件商品，填写要兑换的数量")
MSG_GOODS_GONE = _("有商品已下架或不属于本村超市，请回到积分超市重新选择")
MSG_QUANTITY = _("%(product)s 的数量应为 0 到 %(max)s 之间的整数")
MSG_BAD_NOMINEE = _("候选编号无效：%(value)s")
MSG_PICK_TARGET = _("请选择提名本户还是其他户")
MSG_PICK_MEMBER = _("请选择本户的被提名人")
MSG_NEED_NUMBER = _("请填写被提名户的户号")
MSG_NEED_NAME = _("请填写被提名人的姓名")
MSG_NOMINEE_NOT_FOUND = _("没有找到这一户或这位家庭成员，请核对户号和姓名（户号形如 QS01-023）")
MSG_NOMINATION_STORY = _("请写下候选的事迹")
MSG_RECEIPT_NEEDED = _("请输入选票编号")
NOMINATION_STORY_MAX = 3000
_QUANTITY_KEY = re.compile(r"^qty_[0-9]+$")


def quantity_field_name(product) -> str:
    return f"qty_{product.pk}"


class ReserveForm(forms.Form):
    """预约兑换, step one: how many of each product of the village's catalogue (one ``qty_<id>`` box each).

    A quantity posted for a product that is not in the catalogue (taken off the shelf since the page was shown,
    or another village's) is refused rather than silently dropped: the resident must see what they reserve.
    """

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.products = list(products)
        self.lines = []
        for product in self.products:
            message = MSG_QUANTITY % {"product": product.name, "max": MAX_RESERVE_QUANTITY}
            self.fields[quantity_field_name(product)] = forms.IntegerField(
                label=product.name,
                required=False,
                min_value=0,
                max_value=MAX_RESERVE_QUANTITY,
                widget=forms.NumberInput(
                    attrs={"inputmode": "numeric", "min": 0, "max": min(product.stock, MAX_RESERVE_QUANTITY)}
                ),
                error_messages={"invalid": message, "min_value": message, "max_value": message},
            )

    def clean(self):
        cleaned = super().clean()
        for name in self.data:
            unknown = _QUANTITY_KEY.match(name) and name not in self.fields
            if unknown and str(self.data.get(name)).strip() not in ("", "0"):
                raise ValidationError(MSG_GOODS_GONE)
        self.lines = [
            (product, cleaned[quantity_field_name(product)])
            for product in self.products
            if cleaned.get(quantity_field_name(product))
        ]
        if not self.lines and not self.errors:
            raise ValidationError(MSG_PICK_GOODS)
        return cleaned


class ReserveConfirmForm(KeyedForm, ReserveForm):
    """预约兑换, step two: the same quantities (hidden) and the key made when the confirm page was shown."""


class NomineeIdsField(forms.Field):
    """Ticked nominees as a list of ids. Whether they are this campaign's approved nominees, how many and whether
    any is left to ``ballot_cast``, which refuses in its own words and writes nothing."""

    def to_python(self, value):
        ids = []
        for raw in value or []:
            token = str(raw).strip()
            if not re.fullmatch(r"[0-9]{1,18}", token) or int(token) < 1:
                raise ValidationError(MSG_BAD_NOMINEE % {"value": token[:20]}, code="invalid")
            ids.append(int(token))
        return ids


class NomineeCheckboxes(forms.Widget):
    """Repeated ``nominees=<id>`` values; the template draws one checkbox on each nominee's card."""

    def value_from_datadict(self, data, files, name):
        if hasattr(data, "getlist"):
            return data.getlist(name)
        value = data.get(name)
        return list(value) if isinstance(value, list | tuple) else [] if value is None else [value]


class BallotForm(KeyedForm):
    """选票: the ticked nominees and the key made when the page was shown (a double tap casts once)."""

    nominees = NomineeIdsField(required=False, widget=NomineeCheckboxes)

    def chosen(self) -> set[str]:
        """The ids ticked as sent, to tick them again when the form comes back with a refusal."""
        if not self.is_bound:
            return set()
        return {str(v) for v in self.fields["nominees"].widget.value_from_datadict(self.data, None, "nominees")}


class NominationForm(forms.Form):
    """A resident nominates their own household (or one of its members) or another household by its number.

    Another household's members are never listed: the resident types the name they know, and a number or name
    that does not match reads the same either way. Eligibility is the service's to decide.
    """

    OWN = "own"
    OTHER = "other"

    target = forms.ChoiceField(
        label=_("提名谁"),
        choices=[(OWN, _("本户")), (OTHER, _("其他户"))],
        initial=OWN,
        widget=forms.RadioSelect,
        error_messages={"required": MSG_PICK_TARGET, "invalid_choice": MSG_PICK_TARGET},
    )
    member = forms.ModelChoiceField(
        label=_("本户的被提名人"),
        queryset=None,
        required=False,
        empty_label=_("请选择家庭成员"),
        error_messages={"invalid_choice": MSG_MEMBER_NOT_HERE},
    )
    login_number = forms.CharField(
        label=_("被提名户的户号"),
        max_length=40,
        required=False,
        help_text=_("形如 QS01-023，印在该户的积分卡上"),
    )
    member_name = forms.CharField(label=_("被提名人姓名"), max_length=50, required=False)
    story = forms.CharField(
        label=_("事迹"),
        max_length=NOMINATION_STORY_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("写清做了哪些好事，最多 3000 字。审核通过后会在投票页公开。"),
        error_messages={"required": MSG_NOMINATION_STORY, "max_length": _("事迹最多 3000 字")},
    )
    photos = PhotosField(
        label=_("照片（可选，最多 3 张）"),
        required=False,
        help_text=_("JPEG、PNG 或 WebP 图片，每张不超过 20 MB；手机照片会自动缩小"),
    )

    clean_photos = ClaimForm.clean_photos  # the same checks and messages as a claim's photos

    def __init__(self, *args, household, person: bool, find_household, **kwargs):
        super().__init__(*args, **kwargs)
        self.household = household
        self.person = person
        self.find_household = find_household
        self.nominee_household = None
        self.nominee_member = None
        if person:
            self.fields["member"].queryset = household.members.all()
            self.fields["member"].label_from_instance = lambda member: member.name
        else:
            del self.fields["member"]
            del self.fields["member_name"]

    def clean(self):
        cleaned = super().clean()
        target = cleaned.get("target")
        if target == self.OWN:
            self.nominee_household = self.household
            if self.person:
                self.nominee_member = cleaned.get("member")
                if self.nominee_member is None and "member" not in self.errors:
                    self.add_error("member", MSG_PICK_MEMBER)
        elif target == self.OTHER:
            number = (cleaned.get("login_number") or "").strip()
            name = (cleaned.get("member_name") or "").strip()
            if not number:
                self.add_error("login_number", MSG_NEED_NUMBER)
            if self.person and not name:
                self.add_error("member_name", MSG_NEED_NAME)
            if number and (name or not self.person):
                household = self.find_household(number)
                member = household.members.filter(name=name).first() if household and self.person else None
                if household is None or (self.person and member is None):
                    self.add_error("login_number", MSG_NOMINEE_NOT_FOUND)
                else:
                    self.nominee_household, self.nominee_member = household, member
        return cleaned


class ReceiptLookupForm(forms.Form):
    receipt = forms.CharField(
        label=_("选票编号"),
        max_length=20,
        help_text=_("投票成功时显示的 10 位字母和数字"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
        error_messages={"required": MSG_RECEIPT_NEEDED, "max_length": _("选票编号是 10 位字母和数字")},
    )

    def clean_receipt(self):
        return self.cleaned_data["receipt"].replace(" ", "").upper()


class MottoForm(forms.Form):
    motto = forms.CharField(label=_("家风家训"), max_length=200, help_text=_("一两句话，如「勤俭持家，与人为善」"))
    story = forms.CharField(
        label=_("家风故事"), max_length=3000, required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    photo = forms.FileField(
        label=_("照片"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def clean_photo(self):
        from points.images import validate_photo

        photo = self.cleaned_data.get("photo")
        if photo:
            validate_photo(photo)  # size-limited, checked by Pillow; a decompression bomb is refused
        return photo
