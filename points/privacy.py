"""What the public may see of a person: the one place that masks names (张三丰 → 张*丰) and the phone and ID
numbers people type into free text (a nominee's story, a citation, a motto, a memo, an objection). Every page,
API answer, export and search index that shows such text to someone outside the register's staff goes through
``mask_numbers``; logs go through it too. Nothing else may carry its own phone or ID pattern.
"""

import re


def mask_name(name: str) -> str:
    """张三丰 → 张*丰, 李四 → 李*, 欧阳小锋 → 欧**锋: enough for neighbours to recognise, not to identify."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


MASK = "***"

# Phones and input methods type full-width digits, plus signs and letters (１３８００１３８０００, ＋８６, Ｘ).
# They are matched on a copy mapped one character to one character, so the positions found are the original's.
_HALF_WIDTH = str.maketrans(
    {**{chr(0xFF10 + d): str(d) for d in range(10)}, "＋": "+", "Ｘ": "X", "ｘ": "x", "\u2212": "-"}
)

# What people put between groups of digits: spaces (also full-width and no-break), hyphens and dashes of every
# width, dots; at most three in a row ("138 - 0013"). A comma, a slash, a colon or a word ends the number.
_SEP_CHAR = "[ \t\u00a0\u3000.\uff0e\\-\u2010\u2011\u2012\u2013\u2014\u2015\uff0d]"
_SEP = _SEP_CHAR + "{0,3}"

# 13800138000, 138 0013 8000, 138-0013-8000, +86 138 0013 8000, +8613800138000, 0086 13800138000. Tried first,
# so that in "13800138000 2026-03-07" the phone is masked and the date is not swallowed as a 15-digit ID number.
_MOBILE = f"(?:(?:\\+|00){_SEP})?(?:8{_SEP}6{_SEP})?1{_SEP}[3-9](?:{_SEP}[0-9]){{9}}"
# 18 characters (the last a digit or X) or the old 15 digits: 110101 19900307 123X, 110101-1990-0307-123x.
_ID_18 = f"[0-9](?:{_SEP}[0-9]){{16}}{_SEP}[0-9Xx]"
_ID_15 = f"[0-9](?:{_SEP}[0-9]){{14}}"
# A landline with its area code: 0571-88881234, 010 6512 3456, 02188881234. The area code is written in one
# piece (3 or 4 digits), which is what tells it from the month and day of a date ("2026-03-07 2026-03-08").
_LANDLINE = f"0[1-9][0-9]{{1,2}}{_SEP}[1-9](?:{_SEP}[0-9]){{6,7}}"

# Each one whole, never a piece of a longer run of digits: a 20-digit order number is none of them.
_PRIVATE_NUMBER = re.compile(f"(?<![0-9])(?:{_MOBILE}|{_ID_18}|{_ID_15}|{_LANDLINE})(?![0-9])")


def mask_numbers(text: str | None) -> str:
    """``text`` with every phone number (a mobile, with or without +86 or 0086, or a landline with its area code)
    and every ID number (18 characters ending in a digit or X, or the old 15 digits) replaced by ``***``, however
    it was typed: spaces or dashes inside, full-width digits. Years, dates, household and receipt numbers and
    amounts stay as they are."""
    text = text or ""
    found = list(_PRIVATE_NUMBER.finditer(text.translate(_HALF_WIDTH)))
    if not found:
        return text
    parts, last = [], 0
    for match in found:
        parts += [text[last : match.start()], MASK]
        last = match.end()
    parts.append(text[last:])
    return "".join(parts)
