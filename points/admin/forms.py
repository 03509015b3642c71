"""What every form that writes shares: the villages a user may pick for a capability, the one idempotent form
(admin forms that move points, stock or votes, and the resident's forms that write) and the one way a refusal is
shown on a form."""

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from points.exceptions import HeheError, IdempotencyConflict
from points.scope import Capability, scope_for

STALE_FORM = _("表单已失效，请刷新页面后重新填写")


def villages_for(user, capability: Capability):
    scope = scope_for(user)
    if capability not in scope.capabilities:
        return scope.villages().none()
    return scope.villages()


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


class IdempotencyKeyField(forms.UUIDField):
    """A hidden uuid; a missing or malformed one is a stale or tampered form, answered in words, never a 500."""

    widget = forms.HiddenInput
    default_error_messages = {"required": STALE_FORM, "invalid": STALE_FORM}


class IdempotentForm(forms.Form):
    """A form that moves points, stock or votes: a double click or a resubmit writes once.

    Its hidden key is a fresh uuid4 each time the form is rendered unbound, and the one posted when it is shown
    again with errors; the service stores the key with its answer and replays that answer for the same key.
    ``stale_message`` words the error of a missing or malformed key for the page's audience.
    """

    stale_message = STALE_FORM

    idempotency_key = IdempotencyKeyField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["idempotency_key"]
        field.error_messages = {**field.error_messages, "required": self.stale_message, "invalid": self.stale_message}
        if not self.is_bound:
            self.initial = {**self.initial, "idempotency_key": new_idempotency_key()}

    def full_clean(self):
        super().full_clean()
        # A hidden field has no place of its own on the page: its error is said above the form, on every page.
        stale = self.errors.pop("idempotency_key", None) if self.is_bound else None
        if stale:
            self.add_error(None, stale.as_data())

    @property
    def key(self) -> str:
        return str(self.cleaned_data["idempotency_key"])

    def renew_key(self) -> None:
        """Give the form shown again a new key (see ``show_refusal``)."""
        data = self.data.copy()
        data[self.add_prefix("idempotency_key")] = new_idempotency_key()
        self.data = data


def show_refusal(form, refusal: HeheError | ValidationError) -> None:
    """Put a service's refusal on the form: a ValidationError's field errors next to their fields (above the form
    where the form has no such field), everything else above the form.

    A refused request stored nothing under its key, so the form shown again keeps it (a double click on the
    corrected form still writes once), unless the key was already taken by a different request
    (``IdempotencyConflict``): then the form gets a fresh one, or the corrected resubmit would be refused again.
    """
    if isinstance(refusal, IdempotencyConflict) and isinstance(form, IdempotentForm):
        form.renew_key()
    if isinstance(refusal, HeheError):
        form.add_error(None, str(refusal.message))
    elif hasattr(refusal, "error_dict"):
        for field, errors in refusal.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, refusal)
