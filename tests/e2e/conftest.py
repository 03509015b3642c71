"""Shared by the browser tests: the system Chromium, and live servers that never keep a database connection open.

A live server (pytest-django's ``live_server``, or the module-wide one in ``test_portal_pages.py``) answers each
browser connection in a thread of its own, and a browser keeps its connections alive between requests. With the
project's ``CONN_MAX_AGE=60`` (``portal.settings.env``) such a thread kept its PostgreSQL connection until the
socket closed, which at the end of a run could be after pytest-django tried to drop the test database ("database
is being accessed by other users"). ``CONN_MAX_AGE=0`` while a browser test runs makes Django close the
connection when each request finishes (``close_old_connections`` on ``request_finished``). The test client and
the tests' own code are not affected: the test client never runs ``close_old_connections``.
"""

import pytest

from .browser import short_lived_connections


@pytest.fixture(autouse=True)
def _live_server_threads_close_connections():
    with short_lived_connections():
        yield
