"""Card photos (winners, products, mottos) in WebP at two widths, with their renditions prefetched in one query."""

from django.db.models import Prefetch, prefetch_related_objects
from wagtail.images import get_image_model

# Card photos (winners, products, mottos) in WebP at two widths: the templates' ``{% srcset_image … %}`` asks
# for exactly these, so prefetching them makes the photos cost no query per row.
CARD_PHOTO_SPECS = ["fill-320x240|format-webp", "fill-640x480|format-webp"]


def with_renditions(rows, photo_path: str, specs=CARD_PHOTO_SPECS):
    """Prefetch the renditions of each row's photo in one query, so ``{% srcset_image %}`` costs nothing per row."""
    rows = list(rows)
    Rendition = get_image_model().get_rendition_model()
    prefetch_related_objects(
        rows, Prefetch(f"{photo_path}__renditions", queryset=Rendition.objects.filter(filter_spec__in=specs))
    )
    return rows
