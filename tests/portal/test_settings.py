"""Settings: bad environment values fail loudly, production is deploy-clean, SQLite runs WAL + IMMEDIATE."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction

from portal.settings import env

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "k" * 10 + "3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4"


def run_manage(*args, extra_env=None, settings_module="portal.settings.production"):
    environment = {
        k: v
        for k, v in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests in this process; a deployment never has it.
        if k not in {"DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    environment["DJANGO_SETTINGS_MODULE"] = settings_module
    environment.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/hehe"),
        ("DATABASE_URL", "not a url at all"),
        ("REDIS_URL", "http://localhost:6379"),
        ("DEBUG", "maybe"),
        ("ALLOWED_HOSTS", " , "),
        ("HEHE_PAGE_CACHE_SECONDS", "five"),
        ("HEHE_PAGE_CACHE_SECONDS", "-1"),
    ],
)
def test_a_bad_environment_value_fails_naming_the_variable(name, value):
    result = run_manage("check", extra_env={name: value}, settings_module="portal.settings.dev")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_production_refuses_to_start_without_secret_key():
    result = run_manage("check", extra_env={"ALLOWED_HOSTS": "hehe.example.cn"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_a_short_secret_key():
    result = run_manage("check", extra_env={"ALLOWED_HOSTS": "hehe.example.cn", "SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        extra_env={
            "SECRET_KEY": GOOD_SECRET,
            "ALLOWED_HOSTS": "hehe.example.cn",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
            "REDIS_URL": "redis://127.0.0.1:6379/1",
        },
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_env_helpers_parse_good_values(monkeypatch):
    monkeypatch.setenv("X_LIST", "a.cn, b.cn")
    monkeypatch.setenv("X_BOOL", "yes")
    assert env.env_list("X_LIST", []) == ["a.cn", "b.cn"]
    assert env.env_bool("X_BOOL", False) is True
    monkeypatch.setenv("X_DB", "postgres://u@h:5432/hehe")
    assert env.env_database("X_DB", "")["ENGINE"].endswith("postgresql")
    monkeypatch.setenv("X_INT", " 0 ")
    assert env.env_int("X_INT", 300) == 0
    monkeypatch.delenv("X_INT")
    assert env.env_int("X_INT", 300) == 300
    monkeypatch.setenv("X_CACHE", "ftp://nope")
    with pytest.raises(ImproperlyConfigured, match="X_CACHE"):
        env.env_cache("X_CACHE")


def test_production_cookies_are_secure_the_language_one_too(tmp_path):
    names = ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "LANGUAGE_COOKIE_SECURE")
    code = "from django.conf import settings; print(" + ", ".join(f"settings.{n}" for n in names) + ")"
    result = run_manage(
        "shell",
        "-c",
        code,
        extra_env={
            "SECRET_KEY": GOOD_SECRET,
            "ALLOWED_HOSTS": "hehe.example.cn",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["True", "True", "True"]


def test_language_and_time_zone():
    assert settings.LANGUAGE_CODE == "zh-hans"
    # Each language is named in itself, so a reader can find theirs whatever the page is in.
    assert [(code, str(name)) for code, name in settings.LANGUAGES] == [("zh-hans", "简体中文"), ("en", "English")]
    assert settings.TIME_ZONE == "Asia/Shanghai"


def test_sqlite_default_runs_wal_and_immediate_transactions(tmp_path, monkeypatch, django_db_blocker):
    """Open a real connection from the default settings dict: a misplaced OPTIONS would silently do nothing."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    path = tmp_path / "wal.sqlite3"
    config = env.env_database("DATABASE_URL", str(path))
    alias = "waltest"
    configured = connections.configure_settings({"default": config, alias: dict(config)})
    connections.settings[alias] = configured[alias]
    try:
        django_db_blocker.unblock()
        with connections[alias].cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            # Statement journals (every INSERT ... RETURNING) in memory, not a temp file each: 2 = MEMORY.
            cursor.execute("PRAGMA temp_store")
            assert cursor.fetchone()[0] == 2
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 1  # NORMAL
            cursor.execute("CREATE TABLE t (x integer)")
        # IMMEDIATE: atomic() takes the write lock at BEGIN, before any statement, so a second writer waits.
        with transaction.atomic(using=alias):
            other = sqlite3.connect(path, timeout=0)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
    finally:
        django_db_blocker.restore()
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]
