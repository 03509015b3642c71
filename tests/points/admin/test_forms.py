"""The one idempotent form and the one way a refusal reaches a form (``points.admin.forms``); each form that
uses them is tested with its page (a resubmit gives the first result, a malformed key is refused in Chinese)."""

import uuid

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.template import Context, Template

from points.admin.forms import STALE_FORM, IdempotentForm, show_refusal
from points.exceptions import IdempotencyConflict, InsufficientPoints


class NoteForm(IdempotentForm):
    note = forms.CharField(required=False)


def test_each_form_rendered_gets_its_own_key_and_a_bound_one_keeps_what_was_posted():
    first, second = NoteForm()["idempotency_key"].value(), NoteForm()["idempotency_key"].value()
    assert first != second and uuid.UUID(first).version == 4
    assert NoteForm({"idempotency_key": first})["idempotency_key"].value() == first


def test_the_key_is_read_as_a_uuid_in_one_spelling():
    key = uuid.uuid4()
    form = NoteForm({"idempotency_key": key.hex.upper()})
    assert form.is_valid() and form.key == str(key)


def test_a_missing_or_malformed_key_is_said_above_the_form():
    for bad in ("", "not-a-uuid", "1" * 500):
        form = NoteForm({"idempotency_key": bad})
        assert not form.is_valid()
        assert form.errors == {NON_FIELD_ERRORS: [str(STALE_FORM)]}


def test_a_page_may_word_the_stale_key_for_its_readers():
    class ResidentForm(IdempotentForm):
        stale_message = "页面已过期"

    assert ResidentForm({}).non_field_errors() == ["页面已过期"]


def bound() -> NoteForm:
    form = NoteForm({"idempotency_key": str(uuid.uuid4()), "note": "x"})
    assert form.is_valid()
    return form


def test_a_domain_refusal_goes_above_the_form_and_keeps_the_key():
    form = bound()
    key = form["idempotency_key"].value()
    show_refusal(form, InsufficientPoints())
    assert form.non_field_errors() == ["积分不足"]
    assert form["idempotency_key"].value() == key  # nothing was stored under it: a corrected resubmit may use it


def test_a_key_taken_by_another_request_is_renewed():
    form = bound()
    key = form["idempotency_key"].value()
    show_refusal(form, IdempotencyConflict())
    assert form.non_field_errors() == [str(IdempotencyConflict.default_message)]
    assert form["idempotency_key"].value() not in ("", key)


def test_a_validation_error_goes_next_to_its_field_and_the_rest_above():
    form = bound()
    show_refusal(form, ValidationError({"note": "太长", "household": "不在本村"}))
    assert form.errors["note"] == ["太长"]
    assert form.non_field_errors() == ["不在本村"]
    form = bound()
    show_refusal(form, ValidationError(["一", "二"]))
    assert form.non_field_errors() == ["一", "二"]


def errors_above(form, **options) -> str:
    template = Template('{% include "points/admin/_errors.html" %}')
    return template.render(Context({"form": form, **options}))


class PickerForm(forms.Form):
    households = forms.CharField(widget=forms.HiddenInput)
    village = forms.IntegerField(widget=forms.HiddenInput)
    memo = forms.CharField(max_length=2)


def test_the_shared_errors_box_lists_what_has_no_place_of_its_own():
    form = PickerForm({"households": "", "village": "x", "memo": "太长了"})
    form.is_valid()
    form.add_error(None, "被拒绝")
    html = errors_above(form)
    assert 'data-testid="form-errors"' in html and "被拒绝" in html
    assert html.count("<li>") == 3  # the refusal and both hidden fields; the memo's error is shown beside it
    assert errors_above(form, skip="households").count("<li>") == 2
    assert errors_above(form, all_fields=True).count("<li>") == 4
    valid = PickerForm({"households": "1", "village": "1", "memo": "好"})
    assert valid.is_valid() and errors_above(valid).strip() == ""
