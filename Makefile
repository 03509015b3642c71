# Two commands do all set-up on a fresh machine with Python 3.11: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test test-postgres install install-test serve lint bench messages

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PIP) install -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements-test.txt $(VENV)/.installed
	$(PIP) install -r requirements-test.txt
	touch $@

# Browser tests drive the system Chromium through Playwright (never `playwright install`).
/usr/bin/chromium:
	@if [ "$$(id -u)" = "0" ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		|| echo "could not install chromium: browser tests will fail"; \
	else echo "chromium missing and not root: install it with 'apt-get install -y chromium'"; fi

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test /usr/bin/chromium

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_pages
	$(PY) manage.py demo_logins
	$(PY) manage.py runserver 127.0.0.1:8000

serve: install
	$(PY) manage.py runserver 127.0.0.1:8000

test: install-test
	$(PY) manage.py makemigrations --check --dry-run --settings=portal.settings.test
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

# The same suite against PostgreSQL; .ci/run sets TEST_DATABASE_URL.
test-postgres: install-test
	@test -n "$(TEST_DATABASE_URL)" || (echo "TEST_DATABASE_URL is not set" && exit 2)
	$(PY) -m pytest

messages: install
	$(PY) manage.py makemessages -l en --ignore=.venv
	$(PY) manage.py compilemessages --ignore=.venv

# Benchmarks (not tests): each prints ratios against a baseline measured in the same run. --quick: smoke runs.
bench: install-test
	rc=0; for b in ledger store campaigns portal; do $(PY) bench/$$b.py --quick || rc=$$?; done; exit $$rc
