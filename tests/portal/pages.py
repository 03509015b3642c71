"""Reading the resident pages in tests: every page read through ``page_of`` is checked for the phone number."""

PHONE = "13800138001"  # the cast's resident household head's phone: must never appear on these pages


def page_of(response) -> str:
    """The page's HTML, after checking it shows no phone number (the privacy rule every resident page keeps)."""
    content = response.content.decode()
    assert PHONE not in content
    return content
