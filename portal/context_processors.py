"""Template context for every page."""

from portal.cache import care_mode as _care_mode


def care_mode(request):
    """关怀模式: ``<html class="care">`` (larger text, bigger tap targets) when the visitor switched it on."""
    return {"care_mode": _care_mode(request)}
