"""Checks of register values, shared by the admin forms and the file import so both say the same thing."""

import re

from django.utils.translation import gettext_lazy as _

from points import clock

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
ID_RE = re.compile(r"^\d{17}[\dX]$")
HOUSEHOLD_NUMBER_RE = re.compile(r"^[0-9A-Za-z]{1,20}$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

MSG_PHONE = _("手机号应为 11 位数字，以 1 开头")
MSG_ID = _("身份证号应为 18 位且校验位正确")
MSG_BIRTH_YEAR = _("出生年份应为 1900 到今年之间的四位数字")
MSG_NUMBER = _("户号只能由字母和数字组成，最长 20 位")


def phone_error(phone: str):
    if phone and not PHONE_RE.match(phone):
        return MSG_PHONE
    return None


def id_number_error(id_number: str):
    if not id_number:
        return None
    id_number = id_number.upper()
    if not ID_RE.match(id_number):
        return MSG_ID
    total = sum(int(d) * w for d, w in zip(id_number[:17], ID_WEIGHTS, strict=True))
    if ID_CHECK[total % 11] != id_number[17]:
        return MSG_ID
    return None


def birth_year_error(year: int | None):
    if year is None:
        return None
    if not 1900 <= year <= clock.localdate().year:  # the points clock: the demo and the tests set it
        return MSG_BIRTH_YEAR
    return None


def household_number_error(number: str):
    if not HOUSEHOLD_NUMBER_RE.match(number or ""):
        return MSG_NUMBER
    return None


def make_id_number(first17: str) -> str:
    """Complete 17 digits with the right check character (used by the demo and tests)."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return first17 + ID_CHECK[total % 11]
