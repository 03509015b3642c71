"""Uploaded photos: checked by Pillow, then re-encoded, renamed and kept where only a scoped view hands them out.

A photo (a claim's evidence, a nomination's, a family motto's) is never stored as it came. ``photo_clean`` decodes
it with Pillow (type, size and pixel count checked first; a decompression bomb is refused, never decoded), turns
it upright, shrinks it to ``MAX_SIDE`` on its longest side (a phone's 3–8 MB photo is normal and is shrunk, not
refused) and encodes it afresh without any metadata: no EXIF (no GPS position of a resident's home), no text
chunks, nothing of the uploader's bytes survives. It is stored under a random name with the extension of the
format written, so a "photo" named ``evidence.html`` that carried ``<script>`` in a PNG text chunk becomes
``3f9c….png`` holding only pixels.

Claim and nomination photos are restricted (design.md, privacy tier 3): they live in ``PrivateStorage``
(``PRIVATE_MEDIA_ROOT``, outside ``MEDIA_ROOT``, with no URL of its own) and are handed out only by views that ask
``points.scope`` first, through ``photo_response`` (the right type, ``nosniff``, a fixed file name, no caching
by shared caches, and a sandboxing CSP in case a browser is ever talked into rendering one as a document).
"""

import io
import uuid
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages
from django.http import FileResponse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

# What a phone sends is accepted up to this (and shrunk); beyond it the upload is refused before decoding.
MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo is the largest we expect
MAX_SIDE = 2048  # stored photos are at most this many pixels on their longest side
FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
# The format a photo is written in, by the format Pillow read, with the stored file's extension.
WRITTEN = {"JPEG": ("JPEG", "jpg"), "PNG": ("PNG", "png"), "WEBP": ("WEBP", "webp"), "GIF": ("PNG", "png")}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def validate_photo(upload) -> None:
    """Raise ValidationError (in the user's language) unless ``upload`` is a sane photo. Never decodes a bomb."""
    with _opened(upload):
        pass


class _opened:
    """``Image.open`` of an upload after the checks every photo passes (size, pixels, type, integrity).

    Pillow works on a copy of the bytes (at most ``MAX_BYTES``), so closing its image never closes the upload,
    which a form's check and the service's clean both read."""

    def __init__(self, upload):
        self.upload = upload
        self.name = getattr(upload, "name", "") or _("照片")
        self.image = None

    def __enter__(self) -> Image.Image:
        name, upload = self.name, self.upload
        if upload.size > MAX_BYTES:
            raise ValidationError(_("%(name)s 超过 20 MB") % {"name": name})
        try:
            upload.seek(0)
            data = upload.read()
        finally:
            upload.seek(0)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data)) as probe:
                    width, height = probe.size
                    if width * height > MAX_PIXELS:
                        raise ValidationError(_("%(name)s 像素过大，已拒绝") % {"name": name})
                    if probe.format not in FORMATS:
                        raise ValidationError(_("%(name)s 不是 JPEG、PNG 或 WebP 图片") % {"name": name})
                    probe.verify()
                self.image = Image.open(io.BytesIO(data))
                self.image.load()
        except ValidationError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ValidationError(_("%(name)s 像素过大，已拒绝") % {"name": name}) from exc
        except Exception as exc:  # Pillow raises many types for a damaged or non-image file
            raise ValidationError(_("%(name)s 不是有效的图片") % {"name": name}) from exc
        return self.image

    def __exit__(self, *exc_info):
        if self.image is not None:
            self.image.close()


def photo_clean(upload) -> ContentFile:
    """The photo to store for ``upload``: re-encoded from its pixels alone, shrunk, under a random name.

    Raises ValidationError (which photo, why) for anything that is not a sane JPEG, PNG, WebP or GIF."""
    with _opened(upload) as image:
        written, extension = WRITTEN[image.format]
        picture = ImageOps.exif_transpose(image)  # upright, as the phone showed it; EXIF itself is not kept
        picture.thumbnail((MAX_SIDE, MAX_SIDE))
        if written == "JPEG":
            picture = picture.convert("RGB")
            options = {"quality": 85, "optimize": True}
        elif written == "WEBP":
            picture = picture.convert("RGBA" if "A" in picture.getbands() else "RGB")
            options = {"quality": 85}
        else:
            picture = picture.convert("RGBA" if "A" in picture.getbands() or image.mode == "P" else "RGB")
            options = {"optimize": True}
        out = io.BytesIO()
        picture.save(out, format=written, **options)  # no exif=, icc_profile= or pnginfo=: nothing else is written
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.{extension}")


class PrivateStorage(FileSystemStorage):
    """Restricted uploads (claim and nomination photos): kept under ``PRIVATE_MEDIA_ROOT``, which no URL serves.
    In production the same rule holds on object storage: a private bucket, handed out by the scoped view."""

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    def url(self, name):
        raise ValueError("a private file has no URL: serve it through a view that asks points.scope")


def private_storage():
    """The storage of restricted uploads (a callable, so migrations do not freeze a path)."""
    return storages["private"]


def photo_response(field_file) -> FileResponse:
    """Hand out a stored photo to someone the caller has already checked against ``points.scope``."""
    extension = field_file.name.rsplit(".", 1)[-1].lower()
    content_type = CONTENT_TYPES.get(extension)
    if content_type is None:  # only files photo_clean wrote are ever served
        raise ValueError(f"not a cleaned photo: {field_file.name}")
    response = FileResponse(field_file.open("rb"), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="photo.{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response
