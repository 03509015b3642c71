from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


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
