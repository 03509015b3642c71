"""Tests: SQLite (in memory, fast) unless TEST_DATABASE_URL points at PostgreSQL."""

import os
import tempfile

from portal.settings.base import *
from portal.settings.env import env_database

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "hehe-test"}}
if os.environ.get("TEST_DATABASE_URL"):
    DATABASES = {"default": env_database("TEST_DATABASE_URL", "")}
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# Claim and nomination photos written by tests go to a scratch folder, never into the checkout's private_media/.
PRIVATE_MEDIA_ROOT = tempfile.mkdtemp(prefix="hehe-private-test-")
AXES_ENABLED = True
