"""How a household is named by what people type or scan: its login number (``QS01-023``, printed on its card as
text and QR code) and a member's mobile number. The one parser of both: the resident sign-in (pages and the API's
token), the store counter's search box, the paper-ballot screen, a resident's nomination and the register's
household search all read input through it, so each accepts exactly what the others do.

Tolerant on purpose: surrounding and inner spaces, a lower-case village code, full-width letters, digits and
dashes (a phone's Chinese input method, or a USB scanner typing into one), any dash people type (－ — – ‐), and
the trailing Enter or tab a scanner sends.
"""

import re
import unicodedata

from points.register.validators import PHONE_RE

# NFKC folds full-width letters, digits, spaces and the full-width hyphen; these dashes it leaves alone.
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−", "-"))
_LOGIN_NUMBER = re.compile(r"^(?:([A-Za-z0-9]+)-)?([A-Za-z0-9]+)$")
_PHONE_SEPARATORS = re.compile(r"[\s\-.()]")
_COUNTRY_CODE = re.compile(r"^(?:\+|00)?86(?=1\d{10}$)")


def _folded(text: str | None) -> str:
    """NFKC, one kind of dash, no white space anywhere (a scanner's CR/LF or tab included)."""
    text = unicodedata.normalize("NFKC", text or "").translate(_DASHES)
    return "".join(text.split())


def parse_login_number(text: str | None) -> tuple[str | None, str] | None:
    """``(village_code, household_number)`` for ``QS01-023``, ``(None, "023")`` for a bare household number,
    None for anything else (a name, an empty box). The village code comes back upper-case; callers match both
    parts case-insensitively."""
    match = _LOGIN_NUMBER.match(_folded(text))
    if match is None:
        return None
    code, number = match.groups()
    return (code.upper() if code else None), number


def parse_phone(text: str | None) -> str | None:
    """The 11-digit mobile number in ``138 0013 8001``, ``+86 138-0013-8001`` or full-width digits, or None."""
    digits = _COUNTRY_CODE.sub("", _PHONE_SEPARATORS.sub("", _folded(text)))
    return digits if PHONE_RE.match(digits) else None


def sign_in_key(text: str | None) -> str:
    """One spelling for every way of typing the same identifier (``qs01－023 `` and ``QS01-023``; ``+86 138 0013
    8001`` and ``13800138001``), so that django-axes counts their failed sign-ins together. A staff username is
    only trimmed: Django's usernames are case-sensitive."""
    phone = parse_phone(text)
    if phone is not None:
        return phone
    parsed = parse_login_number(text)
    if parsed is not None and parsed[0] is not None:
        return f"{parsed[0]}-{parsed[1].upper()}"
    return (text or "").strip()
