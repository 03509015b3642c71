"""``{{ text|mask_numbers }}`` in templates: ``points.privacy.mask_numbers`` for free text a page shows as it is
stored (a winner's citation, a family motto and its story), so that templates call the same rule as views."""

from django import template

from points.privacy import mask_numbers as _mask_numbers

register = template.Library()


@register.filter(is_safe=False)
def mask_numbers(text):
    return _mask_numbers(str(text) if text is not None else "")
