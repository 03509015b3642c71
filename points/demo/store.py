"""The village store's demo: a catalogue with drawn product photos and a year of counter life in every village.

Each village gets 20-odd products (``demo_data.STORE_PRODUCTS`` and its own extras), each with a photo drawn here
with Pillow and saved as a Wagtail image in the collection 积分超市. Its year is planned into the village's ledger
year (``demo_ledger.seed_history(extensions=...)``), so every step runs through the store services at its own
moment under ``clock.frozen_at``, between the awards that funded it and before its month is closed: the opening
stock and the restocking on the 1st and 16th, donations from local businesses and 乡贤 (most consent to be
listed), counter days on the 6th, 16th and 26th where households spend part of what they have (never more: the
basket is chosen from the balance at that moment), a few write-offs, one quarterly stock-take with small
variances, and reservations: one fulfilled, one cancelled and a few still open, reserved within the pickup window.

A village whose history was written before this existed gets a smaller catch-up instead (``catch_up``): the
catalogue, its stock and a few redemptions and open reservations at the current time. A village that already has
products is left alone, so running the seeder again adds nothing.
"""

import datetime
import functools
import hashlib
import io
import itertools
import math
import os
import random
from collections import Counter

from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from points.demo import data as demo_data
from points.models import Account, Household, Product, Redemption, ResidentAccount, StaffRole, Village
from points.store.services import (
    redemption_create,
    reservation_cancel,
    reservation_fulfil,
    stock_receive,
    stock_write_off,
    stocktake_record,
)

PRODUCT_COLLECTION = "积分超市"
COUNTER_DAYS = (6, 16, 26)
RESTOCK_DAYS = (1, 16)
VISIT_SHARE = 0.15  # of the households come to each counter day
MIN_VISIT_BALANCE = 8  # below this a household does not bother to come
OPEN_RESERVATIONS = 3


# --- drawing ------------------------------------------------------------------------------------------------------

SIZE = 800  # drawn at twice the saved size, then scaled down: smooth edges without anti-aliased primitives
SAVED = 400
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
FONT_HINTS = (
    "wqymicrohei",
    "wqyzenhei",
    "notosanscjk",
    "notoserifcjk",
    "sourcehansans",
    "droidsansfallback",
    "simhei",
    "msyh",
    "pingfang",
)
FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.fonts",
    "~/.local/share/fonts",
    "/System/Library/Fonts",
    "/Library/Fonts",
)


def rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def mix(a, b, t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=False))


def light(colour, t: float):
    return mix(colour, WHITE, t)


def dark(colour, t: float):
    return mix(colour, BLACK, t)


@functools.cache
def cjk_font_path() -> str | None:
    """A font on this machine that has Chinese glyphs (WenQuanYi, Noto Sans CJK, …), or None: then the pictures
    are drawn without text. Nothing is ever downloaded."""
    found: dict[int, str] = {}
    for root in FONT_DIRS:
        root = os.path.expanduser(root)
        if not os.path.isdir(root):
            continue
        for dirpath, _dirs, files in os.walk(root):
            for filename in files:
                key = filename.lower().replace(" ", "").replace("-", "").replace("_", "")
                if not key.endswith((".ttf", ".ttc", ".otf")):
                    continue
                for rank, hint in enumerate(FONT_HINTS):
                    if hint in key:
                        found.setdefault(rank, os.path.join(dirpath, filename))
    for rank in sorted(found):
        try:
            ImageFont.truetype(found[rank], 20)
        except OSError:
            continue
        return found[rank]
    return None


def cjk_font(size: int):
    path = cjk_font_path()
    return ImageFont.truetype(path, size) if path else None


def soft_background(colour, size: tuple[int, int]) -> Image.Image:
    """A pale vertical gradient in the product's colour."""
    top, bottom = Image.new("RGBA", size, light(colour, 0.93) + (255,)), Image.new("RGBA", size, light(colour, 0.8))
    ramp = Image.linear_gradient("L").resize(size, Image.BILINEAR)
    return Image.composite(bottom, top, ramp)


def shadow(base: Image.Image, box, strength: int = 90) -> None:
    """A soft shadow under the object (blurred small, then scaled up: cheap)."""
    small = (base.width // 4, base.height // 4)
    mask = Image.new("L", small, 0)
    ImageDraw.Draw(mask).ellipse([v / 4 for v in box], fill=strength)
    mask = mask.filter(ImageFilter.GaussianBlur(3.5)).resize(base.size, Image.BILINEAR)
    base.paste(Image.new("RGBA", base.size, (60, 50, 40, 255)), (0, 0), mask)


def label(draw, box, text: str, colour, font_size: int | None = None, *, plate=True, ink=None) -> None:
    """A white label with the product's first character, or (no Chinese font) a few lines that suggest text."""
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    if plate:
        draw.rounded_rectangle(box, radius=min(width, height) // 6, fill=WHITE)
    ink = ink or colour
    font = cjk_font(font_size or int(min(width, height) * 0.72)) if text else None
    if font is not None:
        draw.text(((x0 + x1) / 2, (y0 + y1) / 2), text, font=font, fill=ink, anchor="mm")
        return
    bar = max(height // 9, 6)
    for row, share in enumerate((0.62, 0.44, 0.28)):
        half = width * share / 2
        top = y0 + height * (0.3 + row * 0.17)
        draw.rounded_rectangle(((x0 + x1) / 2 - half, top, (x0 + x1) / 2 + half, top + bar), bar // 2, fill=ink)


def rotated(layer: Image.Image, degrees: float, paint) -> None:
    sub = Image.new("RGBA", layer.size, (0, 0, 0, 0))
    paint(ImageDraw.Draw(sub))
    layer.alpha_composite(sub.rotate(degrees, resample=Image.BICUBIC, center=(SIZE / 2, SIZE / 2)))


def _bag(layer, d, c, ch):
    d.rounded_rectangle((240, 200, 560, 680), 36, fill=c)
    teeth = [(240, 240), (240, 200)]
    for x in range(240, 560, 20):
        teeth += [(x + 10, 178), (x + 20, 200)]
    d.polygon(teeth + [(560, 240)], fill=dark(c, 0.22))
    d.rounded_rectangle((262, 262, 286, 650), 12, fill=light(c, 0.35))
    d.rectangle((240, 610, 560, 628), fill=light(c, 0.3))
    label(d, (300, 320, 510, 560), ch, c)


def _sack(layer, d, c, ch):
    d.polygon([(300, 140), (500, 140), (468, 215), (332, 215)], fill=light(c, 0.2))
    d.polygon([(335, 230), (465, 230), (565, 330), (235, 330)], fill=c)
    d.rounded_rectangle((210, 300, 590, 690), 90, fill=c)
    d.rounded_rectangle((325, 205, 475, 238), 14, fill=dark(c, 0.4))
    for x in range(250, 560, 34):
        d.rectangle((x, 650, x + 18, 656), fill=light(c, 0.45))
    label(d, (290, 380, 510, 600), ch, c)


def _bottle(layer, d, c, ch):
    d.rectangle((362, 160, 438, 272), fill=c)
    d.rounded_rectangle((345, 105, 455, 170), 14, fill=(214, 64, 52))
    d.polygon([(362, 262), (438, 262), (520, 352), (280, 352)], fill=c)
    d.rounded_rectangle((280, 340, 520, 690), 36, fill=c)
    d.rounded_rectangle((298, 364, 320, 660), 10, fill=light(c, 0.35))
    label(d, (315, 430, 505, 600), ch, c)


def _squeeze(layer, d, c, ch):
    d.rounded_rectangle((366, 118, 434, 180), 12, fill=light(c, 0.5))
    d.rounded_rectangle((320, 165, 480, 268), 26, fill=light(c, 0.72))
    d.rounded_rectangle((270, 240, 530, 690), 80, fill=c)
    d.rounded_rectangle((292, 300, 316, 640), 12, fill=light(c, 0.35))
    label(d, (318, 380, 500, 590), ch, c)


def _jug(layer, d, c, ch):
    d.rounded_rectangle((420, 150, 578, 330), 52, outline=dark(c, 0.25), width=34)
    d.rectangle((285, 215, 335, 262), fill=dark(c, 0.15))
    d.rounded_rectangle((268, 160, 352, 230), 12, fill=(214, 64, 52))
    d.rounded_rectangle((225, 240, 575, 690), 56, fill=c)
    d.rounded_rectangle((250, 268, 550, 664), 44, fill=light(c, 0.18))
    label(d, (280, 385, 520, 600), ch, c)


def _bar(layer, d, c, ch):
    for x, y, r in ((300, 190, 42), (385, 128, 28), (465, 185, 34), (530, 245, 18)):
        d.ellipse((x - r, y - r, x + r, y + r), outline=WHITE, width=7)
    d.polygon([(200, 400), (560, 400), (625, 320), (265, 320)], fill=light(c, 0.35))
    d.polygon([(560, 400), (625, 320), (625, 540), (560, 620)], fill=dark(c, 0.2))
    d.rounded_rectangle((200, 396, 562, 620), 26, fill=c)
    label(d, (250, 430, 510, 590), ch, c, plate=False, ink=dark(c, 0.28))


def _tube(layer, d, c, ch):
    d.rectangle((150, 320, 215, 500), fill=dark(c, 0.15))
    for x in (165, 182, 199):
        d.line((x, 322, x, 498), fill=light(c, 0.3), width=5)
    d.polygon([(210, 320), (560, 342), (560, 478), (210, 500)], fill=c)
    d.polygon([(558, 342), (610, 382), (610, 438), (558, 478)], fill=light(c, 0.2))
    d.rounded_rectangle((605, 370, 682, 450), 14, fill=WHITE)
    for y in (385, 405, 425):
        d.line((612, y, 676, y), fill=(220, 220, 220), width=4)
    d.ellipse((285, 340, 485, 480), fill=WHITE)
    label(d, (320, 350, 450, 470), ch, c, plate=False)


def _toothbrush(layer, d, c, ch):
    def paint(s):
        s.rounded_rectangle((110, 385, 540, 437), 26, fill=c)
        s.rounded_rectangle((150, 396, 330, 426), 15, fill=light(c, 0.5))
        s.rounded_rectangle((520, 394, 600, 428), 14, fill=c)
        s.rounded_rectangle((580, 380, 710, 440), 24, fill=c)
        for i, x in enumerate(range(592, 700, 18)):
            s.rounded_rectangle((x, 300, x + 12, 386), 6, fill=WHITE if i % 2 else (170, 220, 245))

    rotated(layer, 22, paint)


def _towel(layer, d, c, ch):
    d.rounded_rectangle((250, 300, 600, 540), 30, fill=dark(c, 0.12))
    d.rounded_rectangle((200, 360, 560, 622), 30, fill=c)
    d.line((200, 425, 560, 425), fill=light(c, 0.25), width=6)
    for y, h in ((540, 18), (574, 10)):
        d.rectangle((200, y, 560, y + h), fill=light(c, 0.6))
    for x in range(214, 552, 18):
        d.line((x, 620, x, 652), fill=dark(c, 0.08), width=6)
    label(d, (300, 430, 460, 540), ch, c, plate=False, ink=WHITE)


def _roll(layer, d, c, ch):
    paper, edge = (250, 250, 247), (222, 222, 218)
    for x in (180, 320, 460):
        d.ellipse((x, 590, x + 160, 650), fill=paper, outline=edge, width=4)
        d.rectangle((x, 300, x + 160, 620), fill=paper)
        d.rectangle((x + 122, 300, x + 160, 620), fill=(236, 236, 232))
        d.line((x, 300, x, 620), fill=edge, width=4)
        d.ellipse((x, 270, x + 160, 330), fill=WHITE, outline=edge, width=4)
        d.ellipse((x + 56, 289, x + 104, 311), fill=(205, 205, 200))
    d.rounded_rectangle((160, 400, 640, 540), 24, fill=c)
    label(d, (330, 405, 470, 535), ch, c, plate=False, ink=WHITE)


def _book(layer, d, c, ch):
    d.rounded_rectangle((290, 160, 600, 640), 16, fill=light(c, 0.45))
    d.rectangle((548, 198, 568, 664), fill=WHITE)
    d.rounded_rectangle((230, 190, 552, 680), 16, fill=c)
    d.rounded_rectangle((230, 190, 276, 680), 12, fill=dark(c, 0.22))
    d.rectangle((310, 260, 500, 400), fill=WHITE)
    label(d, (320, 265, 490, 395), ch, c, plate=False)
    for y in range(450, 640, 34):
        d.line((310, y, 500, y), fill=light(c, 0.4), width=5)


def _pencil(layer, d, c, ch):
    def paint(s):
        s.rounded_rectangle((110, 360, 175, 440), 16, fill=(240, 138, 160))
        s.rectangle((160, 355, 206, 445), fill=(201, 204, 209))
        for x in (172, 190):
            s.line((x, 355, x, 445), fill=(170, 174, 180), width=4)
        s.rectangle((204, 360, 560, 440), fill=c)
        s.rectangle((204, 360, 560, 382), fill=light(c, 0.3))
        s.rectangle((204, 418, 560, 440), fill=dark(c, 0.15))
        s.polygon([(560, 360), (690, 400), (560, 440)], fill=(241, 211, 161))
        s.polygon([(650, 388), (690, 400), (650, 412)], fill=(59, 59, 59))

    rotated(layer, 30, paint)


def _umbrella(layer, d, c, ch):
    cx, cy, r, parts = 400, 410, 250, 4
    points = [(cx + r * math.cos(math.radians(a)), cy + r * math.sin(math.radians(a))) for a in range(180, 361, 4)]
    width = 2 * r / parts
    for i in reversed(range(parts)):
        centre = cx - r + width * (i + 0.5)
        points += [
            (centre + width / 2 * math.cos(math.radians(t)), cy - width / 2 * math.sin(math.radians(t)) * 0.45)
            for t in range(0, 181, 10)
        ]
    d.line((cx, cy - r - 34, cx, cy - r + 4), fill=(90, 74, 58), width=12)
    d.polygon(points, fill=c)
    for i in range(1, parts):
        d.line((cx, cy - r, cx - r + width * i, cy), fill=dark(c, 0.2), width=6)
    d.line((cx, cy - 10, cx, 640), fill=(90, 74, 58), width=16)
    d.arc((cx - 76, 600, cx + 4, 680), 0, 180, fill=(90, 74, 58), width=16)
    label(d, (cx - 60 - width / 2, cy - 140, cx + 60 - width / 2, cy - 20), ch, c, plate=False, ink=WHITE)


def _star(d, cx, cy, r, fill):
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.4
        angle = math.radians(-90 + i * 36)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    d.polygon(points, fill=fill)


def _cup(layer, d, c, ch):
    cream = (251, 246, 236)
    d.rounded_rectangle((462, 330, 612, 545), 64, outline=dark(cream, 0.08), width=38)
    d.ellipse((230, 612, 500, 666), fill=c)
    d.rectangle((230, 272, 500, 640), fill=cream)
    d.rectangle((455, 300, 500, 610), fill=dark(cream, 0.05))
    d.rectangle((230, 600, 500, 640), fill=c)
    d.rectangle((230, 272, 500, 300), fill=c)
    d.ellipse((230, 246, 500, 300), fill=c)
    d.ellipse((244, 254, 486, 292), fill=dark(cream, 0.12))
    if cjk_font_path():
        label(d, (290, 380, 440, 530), ch, c, plate=False)
    else:
        _star(d, 365, 455, 80, c)


def _box(layer, d, c, ch):
    d.polygon([(220, 340), (520, 340), (600, 270), (300, 270)], fill=light(c, 0.3))
    d.polygon([(520, 340), (600, 270), (600, 580), (520, 650)], fill=dark(c, 0.2))
    d.rectangle((220, 340, 520, 650), fill=c)
    label(d, (262, 400, 478, 600), ch, c)


def _eggs(layer, d, c, ch):
    egg = (252, 238, 220)
    for x in (250, 360, 470):
        d.ellipse((x, 300, x + 100, 440), fill=egg)
    d.rounded_rectangle((200, 400, 600, 470), 20, fill=dark(c, 0.12))
    for x in (222, 347, 472):
        d.ellipse((x, 330, x + 110, 490), fill=egg)
        d.ellipse((x + 22, 352, x + 44, 392), fill=WHITE)
    for x in (215, 340, 465):
        d.chord((x, 430, x + 124, 530), 0, 180, fill=c)
    d.rounded_rectangle((180, 470, 620, 620), 30, fill=c)
    label(d, (340, 485, 460, 605), ch, c, plate=False, ink=WHITE)


def _thermos(layer, d, c, ch):
    d.rounded_rectangle((470, 300, 578, 520), 42, outline=dark(c, 0.35), width=22)
    d.rounded_rectangle((280, 250, 520, 690), 70, fill=c)
    d.rounded_rectangle((320, 198, 480, 272), 30, fill=dark(c, 0.25))
    d.rounded_rectangle((345, 140, 455, 214), 20, fill=dark(c, 0.45))
    for y in (300, 620):
        d.rectangle((280, y, 520, y + 18), fill=light(c, 0.5))
    d.ellipse((320, 380, 480, 540), fill=WHITE)
    label(d, (330, 390, 470, 530), ch, c, plate=False)


def _glasses(layer, d, c, ch):
    d.rounded_rectangle((190, 520, 610, 640), 60, fill=light(c, 0.55))
    lens = (222, 236, 246)
    d.line((190, 380, 130, 340), fill=c, width=16)
    d.line((610, 380, 670, 340), fill=c, width=16)
    d.ellipse((190, 290, 390, 470), fill=lens, outline=c, width=20)
    d.ellipse((410, 290, 610, 470), fill=lens, outline=c, width=20)
    d.arc((355, 320, 445, 400), 200, 340, fill=c, width=16)
    for x in (240, 460):
        d.line((x, 340, x + 44, 318), fill=WHITE, width=10)
    label(d, (340, 530, 460, 630), ch, c, plate=False, ink=WHITE)


def _mop(layer, d, c, ch):
    d.rounded_rectangle((388, 110, 412, 520), 12, fill=(176, 122, 74))
    d.rounded_rectangle((290, 500, 510, 548), 14, fill=dark(c, 0.3))
    for i, x in enumerate(range(298, 506, 14)):
        d.line((x, 546, 400 + (x - 400) * 1.4, 690), fill=c if i % 2 else light(c, 0.3), width=14)


def _torch(layer, d, c, ch):
    def paint(s):
        s.polygon([(640, 330), (790, 250), (790, 550), (640, 470)], fill=(255, 236, 140, 110))
        s.rounded_rectangle((170, 350, 522, 450), 30, fill=c)
        for x in range(206, 330, 24):
            s.rectangle((x, 350, x + 10, 450), fill=dark(c, 0.25))
        s.rounded_rectangle((390, 334, 440, 356), 8, fill=(229, 85, 85))
        s.polygon([(510, 340), (632, 300), (632, 500), (510, 460)], fill=dark(c, 0.15))
        s.ellipse((612, 300, 652, 500), fill=(255, 246, 190))

    rotated(layer, -12, paint)


ICONS = {
    "bag": _bag,
    "sack": _sack,
    "bottle": _bottle,
    "squeeze": _squeeze,
    "jug": _jug,
    "bar": _bar,
    "tube": _tube,
    "toothbrush": _toothbrush,
    "towel": _towel,
    "roll": _roll,
    "book": _book,
    "pencil": _pencil,
    "umbrella": _umbrella,
    "cup": _cup,
    "box": _box,
    "eggs": _eggs,
    "thermos": _thermos,
    "glasses": _glasses,
    "mop": _mop,
    "torch": _torch,
}


def png_bytes(image: Image.Image, size: tuple[int, int]) -> bytes:
    image = image.convert("RGB")
    if image.size != size:
        factor = image.width // size[0]
        if factor > 1 and image.size == (size[0] * factor, size[1] * factor):
            image = image.reduce(factor)  # a box filter: fast, and smooth for a whole factor
        else:
            image = image.resize(size, Image.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def product_photo(name: str, icon: str, colour: str) -> bytes:
    """A square product illustration (PNG): the product drawn simply in its colour on a soft background, its
    first character on the label and its name underneath when a Chinese font is installed."""
    c = rgb(colour)
    base = soft_background(c, (SIZE, SIZE))
    draw = ImageDraw.Draw(base)
    draw.ellipse((130, 100, 670, 640), fill=light(c, 0.7))
    for x, y, r in ((120, 150, 14), (680, 120, 10), (700, 520, 16), (95, 560, 9), (610, 80, 7)):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=light(c, 0.55))
    shadow(base, (215, 662, 585, 716))
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    ICONS.get(icon, _box)(layer, ImageDraw.Draw(layer), c, name[:1])
    base.alpha_composite(layer)
    font = cjk_font(56)
    if font is not None:
        ImageDraw.Draw(base).text((SIZE / 2, 756), name, font=font, fill=dark(c, 0.45), anchor="mm")
    return png_bytes(base, (SAVED, SAVED))


# --- Wagtail images --------------------------------------------------------------------------------------------


def collection(name: str):
    """The Wagtail collection ``name`` under the root, created if missing."""
    from wagtail.models import Collection

    root = Collection.get_first_root_node()
    found = root.get_children().filter(name=name).first()
    return found or root.add_child(name=name)


def save_image(*, title: str, data: bytes, collection_name: str, prefix: str):
    """Store ``data`` (PNG) as a Wagtail image titled ``title`` in the named collection."""
    from wagtail.images import get_image_model

    Image_ = get_image_model()
    digest = hashlib.sha1(data).hexdigest()  # what Wagtail's own upload records (duplicate detection)
    image = Image_(
        title=title,
        collection=collection(collection_name),
        file=ContentFile(data, name=f"{prefix}-{digest[:10]}.png"),
        file_size=len(data),
        file_hash=digest,
    )
    image.save()
    return image


def product_image(name: str, icon: str, colour: str):
    """The catalogue photo of ``name``; villages stocking the same product share one image."""
    from wagtail.images import get_image_model

    existing = get_image_model().objects.filter(title=name, collection__name=PRODUCT_COLLECTION).first()
    if existing is not None:
        return existing
    return save_image(
        title=name, data=product_photo(name, icon, colour), collection_name=PRODUCT_COLLECTION, prefix="product"
    )


# --- the catalogue ----------------------------------------------------------------------------------------------


def product_specs(village: Village) -> list[tuple]:
    return list(demo_data.STORE_PRODUCTS) + list(demo_data.STORE_EXTRAS.get(village.code, []))


def store_operator(village: Village):
    """Who works the counter: the village's storekeeper, else its committee (small villages have no storekeeper)."""
    for role in (StaffRole.Role.STOREKEEPER, StaffRole.Role.COMMITTEE):
        staff = StaffRole.objects.filter(village=village, role=role).select_related("user").order_by("id").first()
        if staff:
            return staff.user
    return None


class Stock:
    """One village's store and its plan: the catalogue (created when planned) and the steps of its life."""

    def __init__(self, *, village: Village, households: list[Household], operator):
        self.village = village
        self.households = households
        self.operator = operator
        self.rng = random.Random(f"hehe-store-{village.code}")
        self.scale = max(len(households), 1) / demo_data.HOUSEHOLDS_PER_VILLAGE
        self.keys = itertools.count(1)
        self.counts: Counter = Counter()
        self.products: list[Product] = []
        self.par: dict[int, int] = {}
        self.pack: dict[int, int] = {}
        self.weight: dict[int, int] = {}
        self.by_name: dict[str, Product] = {}
        self.reserved: dict[str, tuple[Redemption, object]] = {}

    def key(self) -> str:
        return f"demo-store-{self.village.code}-{next(self.keys)}"

    def scaled(self, quantity: int) -> int:
        return max(1, round(quantity * self.scale))

    def open_catalogue(self) -> None:
        for order, (name, category, unit, price, par, pack, weight, icon, colour) in enumerate(
            product_specs(self.village), start=1
        ):
            par = max(3, self.scaled(par))
            product = Product(
                village=self.village,
                name=name,
                category=category,
                unit=unit,
                price=price,
                low_stock_threshold=max(1, par // 4),
                order=order,
                photo=product_image(name, icon, colour),
            )
            product.full_clean()
            product.save()
            self.products.append(product)
            self.par[product.pk], self.pack[product.pk], self.weight[product.pk] = par, self.scaled(pack), weight
            self.by_name[name] = product

    # -- what the store knows at a moment ---------------------------------------------------------------------

    def stock(self) -> dict[int, int]:
        return dict(Product.objects.filter(village=self.village).values_list("pk", "stock"))

    @staticmethod
    def balance(household: Household) -> int:
        return Account.objects.filter(household=household).values_list("balance", flat=True).first() or 0

    def basket(self, budget: int, *, max_lines: int = 4) -> list[tuple[int, int]]:
        """What a household picks for at most ``budget`` points from what is on the shelf."""
        stock, lines, spent = self.stock(), {}, 0
        for _ in range(6):
            options = [
                p
                for p in self.products
                if p.price <= budget - spent
                and stock[p.pk] - lines.get(p.pk, 0) > 0
                and (p.pk in lines or len(lines) < max_lines)
            ]
            if not options:
                break
            product = self.rng.choices(options, weights=[self.weight[p.pk] for p in options])[0]
            room = min((budget - spent) // product.price, stock[product.pk] - lines.get(product.pk, 0))
            quantity = min(room, self.rng.randint(1, 3) if product.price <= 4 else 1)
            lines[product.pk] = lines.get(product.pk, 0) + quantity
            spent += product.price * quantity
            if spent >= budget * 0.7 and self.rng.random() < 0.6:
                break
        return sorted(lines.items())

    # -- steps (each one or a few service calls, run at their moment) -----------------------------------------

    def restock(self, *, opening: bool = False):
        def run():
            stock = self.stock()
            for product in self.products:
                if not opening and stock[product.pk] > product.low_stock_threshold:
                    continue
                want = self.par[product.pk] - stock[product.pk]
                pack = self.pack[product.pk]
                quantity = max(pack, math.ceil(want / pack) * pack)
                stock_receive(actor=self.operator, product=product, quantity=quantity, idempotency_key=self.key())
                self.counts["receipts"] += 1

        return run

    def donate(self, product: Product, quantity: int, donor: str, public: bool):
        def run():
            stock_receive(
                actor=self.operator,
                product=product,
                quantity=self.scaled(quantity),
                donor_name=donor,
                donor_public=public,
                idempotency_key=self.key(),
            )
            self.counts["donations"] += 1

        return run

    def visit(self, household: Household):
        """A household at the counter: it spends part of its balance, never more than it has."""

        def run():
            balance = self.balance(household)
            if balance < MIN_VISIT_BALANCE:
                return
            lines = self.basket(int(balance * self.rng.uniform(0.45, 0.95)))
            if lines:
                redemption_create(actor=self.operator, household=household, lines=lines, idempotency_key=self.key())
                self.counts["redemptions"] += 1

        return run

    def write_off(self, product: Product, quantity: int, reason: str):
        def run():
            quantity_ = min(self.scaled(quantity), quantity)
            if Product.objects.get(pk=product.pk).stock >= quantity_:
                stock_write_off(
                    actor=self.operator, product=product, quantity=quantity_, reason=reason, idempotency_key=self.key()
                )
                self.counts["write_offs"] += 1

        return run

    def stocktake(self, quarter: int):
        """The quarterly count: the books are right but for a few small differences."""

        def run():
            counts = self.stock()
            for pk, change in zip(self.rng.sample(sorted(counts), k=min(3, len(counts))), (-1, -2, 1), strict=False):
                counts[pk] = max(0, counts[pk] + change)
            stocktake_record(
                actor=self.operator,
                village=self.village,
                counts=counts,
                note=demo_data.STOCKTAKE_NOTE.format(quarter=quarter),
                idempotency_key=self.key(),
            )
            self.counts["stocktakes"] += 1

        return run

    def reservers(self) -> list[tuple[Household, object]]:
        """Residents with a sign-in reserve from their phones (in household order); then households that phone
        the storekeeper, who reserves for them."""
        accounts = ResidentAccount.objects.filter(village=self.village, household__status=Household.Status.ACTIVE)
        accounts = accounts.select_related("household", "user").order_by("household__number")
        residents = [(a.household, a.user) for a in accounts]
        signed_in = {household.id for household, _user in residents}
        return residents + [(h, self.operator) for h in self.households if h.id not in signed_in]

    def reserve(self, ref: str, who: int):
        """A reservation by the ``who``-th of ``reservers`` who can afford something. Remembered as ``ref`` for a
        later fulfil or cancel."""

        def pick():
            reservers = self.reservers()
            start = who % len(reservers) if reservers else 0
            for household, actor in reservers[start:] + reservers[:start]:
                balance = self.balance(household)
                lines = self.basket(int(balance * 0.6), max_lines=2) if balance >= MIN_VISIT_BALANCE else []
                if lines:
                    return household, actor, lines
            return None

        def run():
            picked = pick()
            if picked is None:
                return
            household, actor, lines = picked
            redemption = redemption_create(
                actor=actor, household=household, lines=lines, reserve=True, idempotency_key=self.key()
            )
            self.reserved[ref] = (redemption, actor)
            self.counts["reserved"] += 1

        return run

    def close_reservation(self, ref: str, how: str):
        def run():
            if ref not in self.reserved:
                return
            redemption, resident = self.reserved[ref]
            if how == "fulfil":
                reservation_fulfil(actor=self.operator, redemption=redemption)
            else:
                reservation_cancel(actor=resident, redemption=redemption)

        return run

    # -- the year ----------------------------------------------------------------------------------------------

    def plan(self, year) -> None:
        """Add the store's steps to ``year`` (a ``demo_ledger.VillageYear``)."""
        months = year.months()
        rng = self.rng
        year.at(year.moment(months[0], 1, 9), self.restock(opening=True))
        for index, month in enumerate(months):
            for day in RESTOCK_DAYS:
                if index or day != 1:
                    year.at(year.moment(month, day, 9), self.restock())
            for day in COUNTER_DAYS:
                minute = 30
                for household in self.households:
                    if rng.random() < VISIT_SHARE:
                        year.at(year.moment(month, day, 9 + minute // 60, minute % 60), self.visit(household))
                        minute = min(minute + rng.randint(3, 9), 8 * 60 + 59)
        by_number = {month.month: month for month in months}
        for number, name, quantity, donor, public in demo_data.STORE_DONATIONS.get(self.village.code, []):
            if name in self.by_name and number in by_number:
                moment = year.moment(by_number[number], rng.randint(8, 14), 15, rng.randint(0, 59))
                # A donation due later in the current month is given early, before the demo's moment: left out,
                # it took the village's only private donor with it on some days of the year (1 December did).
                moment = min(moment, year.now - datetime.timedelta(hours=2))
                year.at(moment, self.donate(self.by_name[name], quantity, donor, public))
        write_offs = [w for w in demo_data.STORE_WRITE_OFFS if w[0] in self.by_name]
        for name, quantity, reason in rng.sample(write_offs, k=min(3, len(write_offs))):
            month = rng.choice(months[2:-1] or months)
            year.at(year.moment(month, rng.randint(10, 24), 17), self.write_off(self.by_name[name], quantity, reason))
        quarter_ends = [m for m in months[:-1] if m.month in (3, 6, 9, 12)]
        if quarter_ends:
            last = quarter_ends[-1]
            year.at(year.moment(last, 31, 17, 30), self.stocktake(last.month // 3))
        self.plan_reservations(year)

    def plan_reservations(self, year) -> None:
        """One fulfilled and one cancelled a few weeks back; a few open ones within the pickup window now."""
        minute = datetime.timedelta(minutes=1)
        now = year.now.replace(second=0, microsecond=0)
        fulfilled_at = now - datetime.timedelta(days=19, hours=2)
        year.at(fulfilled_at, self.reserve("fulfilled", 1))
        year.at(fulfilled_at + datetime.timedelta(hours=15), self.close_reservation("fulfilled", "fulfil"))
        cancelled_at = now - datetime.timedelta(days=9, hours=3)
        year.at(cancelled_at, self.reserve("cancelled", 2))
        year.at(cancelled_at + datetime.timedelta(hours=12), self.close_reservation("cancelled", "cancel"))
        # Open ones: the first (the demo resident, household 001) and two more, all still within the pickup window.
        window = datetime.timedelta(days=self.village.pickup_days)
        for who, ago in enumerate((window * 0.6, window * 0.3, datetime.timedelta(hours=3))):
            year.at(now - ago - minute * (7 * who), self.reserve(f"open-{who}", who))

    def report(self) -> str:
        reservations = Redemption.objects.filter(village=self.village)
        open_ = reservations.filter(status=Redemption.Status.RESERVED).count()
        return (
            f"积分超市：{len(self.products)} 种商品，{self.counts['redemptions']} 笔柜台兑换，"
            f"{self.counts['reserved']} 笔预约（{open_} 笔待领取），{self.counts['receipts']} 次入库，"
            f"{self.counts['donations']} 次捐赠，{self.counts['write_offs']} 次报损，{self.counts['stocktakes']} 次盘点"
        )


class StoreDemo:
    """The store's part of the demo (see ``demo_ledger.register`` for the protocol)."""

    name = "store"

    def plan(self, year):
        if Product.objects.filter(village=year.village).exists():
            return None
        operator = store_operator(year.village)
        if operator is None:
            return None
        store = Stock(village=year.village, households=year.households, operator=operator)
        store.open_catalogue()
        store.plan(year)
        return store.report

    def catch_up(self, village: Village) -> str | None:
        """A village seeded before the store existed: the catalogue, its stock and a little trade, all now."""
        if Product.objects.filter(village=village).exists():
            return None
        operator = store_operator(village)
        if operator is None:
            return None
        households = list(Household.objects.filter(village=village, status=Household.Status.ACTIVE).order_by("number"))
        with transaction.atomic():
            store = Stock(village=village, households=households, operator=operator)
            store.open_catalogue()
            store.restock(opening=True)()
            for _number, name, quantity, donor, public in demo_data.STORE_DONATIONS.get(village.code, [])[:2]:
                if name in store.by_name:
                    store.donate(store.by_name[name], quantity, donor, public)()
            richest = sorted(households, key=store.balance, reverse=True)
            for household in richest[OPEN_RESERVATIONS : OPEN_RESERVATIONS + 10]:
                store.visit(household)()
            for who in range(OPEN_RESERVATIONS):
                store.reserve(f"open-{who}", who)()
            return store.report()

    def finish(self, villages) -> list[str]:
        return []
