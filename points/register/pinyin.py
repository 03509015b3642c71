"""Pinyin initials for finding people by typing ``zsf`` for 张三丰.

Polyphonic characters (曾 zeng/ceng, 单 shan/dan) give several readings; we keep every combination, up to a
few, space-separated, so a search for either reading finds the person.
"""

import itertools

from pypinyin import Style, pinyin

MAX_VARIANTS = 8


def initials(name: str) -> str:
    """All initials variants of ``name``, lower case, space-separated; non-Chinese letters kept as they are."""
    name = (name or "").strip()
    if not name:
        return ""
    readings = pinyin(name, style=Style.FIRST_LETTER, heteronym=True, errors=lambda chars: list(chars))
    options = []
    for reading in readings:
        letters = []
        for item in reading:
            letter = item[:1].lower()
            if letter.isalnum() and letter not in letters:
                letters.append(letter)
        options.append(letters or [""])
    variants = []
    for combo in itertools.islice(itertools.product(*options), MAX_VARIANTS):
        variant = "".join(combo)
        if variant and variant not in variants:
            variants.append(variant)
    return " ".join(variants)
