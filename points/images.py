"""Checking uploaded photos with Pillow before they are stored: type, size, and no decompression bombs."""

import warnings

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo is the largest we expect
FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


def validate_photo(upload) -> None:
    """Raise ValidationError (in the user's language) unless ``upload`` is a sane photo. Never decodes a bomb."""
    name = getattr(upload, "name", "") or _("照片")
    if upload.size > MAX_BYTES:
        raise ValidationError(_("%(name)s 超过 5 MB") % {"name": name})
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise ValidationError(_("%(name)s 像素过大，已拒绝") % {"name": name})
                if image.format not in FORMATS:
                    raise ValidationError(_("%(name)s 不是 JPEG、PNG 或 WebP 图片") % {"name": name})
                image.verify()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationError(_("%(name)s 像素过大，已拒绝") % {"name": name}) from exc
    except Exception as exc:  # Pillow raises many types for a damaged or non-image file
        raise ValidationError(_("%(name)s 不是有效的图片") % {"name": name}) from exc
    finally:
        upload.seek(0)
