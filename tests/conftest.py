import os

import pytest
from django.db import connection

from .factories import build_cast


class Cast(dict):
    """The cast as attributes: ``cast.committee_a``. Refreshed per test from the shared database rows."""

    __getattr__ = dict.__getitem__


@pytest.fixture
def cast(db):
    """Built per test (small: four households, eight users) so that transactional tests can flush freely."""
    return Cast(build_cast())


@pytest.fixture
def client_for(client, cast):
    """A test client signed in as one of the cast (``None`` for anonymous)."""

    def sign_in(role):
        client.logout()
        if role is not None:
            client.force_login(cast[role])
        return client

    return sign_in


def pytest_collection_modifyitems(config, items):
    on_postgres = bool(os.environ.get("TEST_DATABASE_URL", "").startswith(("postgres", "postgresql")))
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL (CI's second run does)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"
