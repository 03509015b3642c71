"""The time as the points app sees it. Normally the real time; the demo seeder sets it to write history.

Services ask ``clock.now()`` / ``clock.localdate()`` instead of ``django.utils.timezone`` so that a year of
realistic history can be written in order, through the same services and the same hash chain, without any
service taking a "when" argument that a caller could abuse to back-date a transfer.
"""

import contextlib
import contextvars
import datetime

from django.utils import timezone

_fixed: contextvars.ContextVar[datetime.datetime | None] = contextvars.ContextVar("hehe_clock", default=None)
# Process-wide, unlike ``_fixed`` (a context variable, which a thread does not inherit): the test suite sets the day
# it runs on, and a live server's or a race's threads must see the same day as the test that started them.
_offset = datetime.timedelta(0)


def now() -> datetime.datetime:
    return _fixed.get() or timezone.now() + _offset


def localdate() -> datetime.date:
    return timezone.localtime(now()).date()


@contextlib.contextmanager
def frozen_at(moment: datetime.datetime):
    """Run the block as if it were ``moment`` (an aware datetime). For the demo seeder and tests only."""
    if timezone.is_naive(moment):
        raise ValueError("frozen_at needs an aware datetime")
    token = _fixed.set(moment)
    try:
        yield
    finally:
        _fixed.reset(token)


@contextlib.contextmanager
def travelled_to(moment: datetime.datetime):
    """Run the block as if the wall clock had been set to ``moment`` and kept ticking from there, in every thread.
    For the test suite only (its outcome must not depend on the day it runs): ``frozen_at`` still wins inside."""
    global _offset
    if timezone.is_naive(moment):
        raise ValueError("travelled_to needs an aware datetime")
    previous = _offset
    _offset = moment - timezone.now()
    try:
        yield
    finally:
        _offset = previous
