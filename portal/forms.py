from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from points.claims import MAX_PHOTOS
from points.images import validate_photo


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


class ClaimForm(forms.Form):
    """积分申报 by a resident for their own household. Choices are limited to what the village allows."""

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
        help_text=_("JPEG、PNG 或 WebP 图片，每张不超过 5 MB"),
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
