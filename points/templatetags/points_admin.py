"""Template helpers of the admin pages of points and campaigns."""

from django import template

register = template.Library()


@register.simple_tag
def errors_above(form, all_fields=False, skip=""):
    """The messages a form shows above itself: its non-field errors (a refusal, a stale form) and the errors of
    its hidden fields, which have no place of their own on the page, except ``skip`` (one the page shows beside
    its picker). ``all_fields``: every field's, for a page that draws its inputs by hand."""
    if form is None or not form.errors:
        return []
    messages = list(form.non_field_errors())
    for field in form:
        if (all_fields or field.is_hidden) and field.name != skip:
            messages.extend(field.errors)
    return messages
