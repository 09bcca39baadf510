# Checkoff: `make run` brings the whole system up; `make test` runs every test.
# They (and `make bench`) ask for private PostgreSQL and Redis under .data/ (EMBEDDED_SERVICES=1),
# which start for whichever of DATABASE_URL / REDIS_URL is unset. Nothing else starts them.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTHON ?= $(shell for candidate in python3.13 python3.12 python3.11 python3; do \
	if command -v $$candidate >/dev/null 2>&1 && $$candidate -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
	echo $$candidate; break; fi; done)

.PHONY: install run test lint bench messages services-stop clean

# Development installs requirements-dev.lock: requirements.lock (what a server installs) plus the tools.
$(VENV)/.installed: requirements-dev.lock requirements.lock pyproject.toml
	@test -n "$(PYTHON)" || { echo "Checkoff needs Python 3.11 or newer on PATH." >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed

# Development: DEBUG on (the demo program, mail kept in the demo mailbox), private servers when unset.
run: install
	DEBUG=1 EMBEDDED_SERVICES=1 PORT=$(PORT) $(PY) scripts/run.py

# The suite also drives Chromium, gettext, nginx, openssl and xmlsec1: installed first when missing (as
# root). The single sign-on tests' OpenID Connect provider needs its npm packages (scripts/sso-providers).
test: install
	scripts/system-packages
	scripts/sso-providers
	EMBEDDED_SERVICES=1 $(PY) scripts/test.py $(ARGS)

# Lint needs settings, not servers: with no DATABASE_URL / REDIS_URL it names unused addresses
# rather than start the private ones (makemigrations then skips its history check), and a key of its own.
LINT_ENV := DATABASE_URL=$${DATABASE_URL:-postgresql://lint@127.0.0.1:9/lint} REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:9/0} \
	SECRET_KEY=$${SECRET_KEY:-lint-only-key-never-serves-a-request}

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(LINT_ENV) $(VENV)/bin/mypy .
	$(LINT_ENV) PYTHONWARNINGS=ignore::RuntimeWarning $(PY) manage.py makemigrations --check --dry-run

bench: install
	scripts/system-packages
	EMBEDDED_SERVICES=1 $(PY) -m bench $(ARGS)

# Regenerate the Spanish catalogue after changing strings (needs GNU gettext).
messages: install
	$(PY) manage.py makemessages --locale es --ignore '.venv/*' --ignore '.data/*' --ignore 'tests/*' --ignore 'bench/*' --no-location
	$(PY) manage.py compilemessages --locale es --ignore '.venv/*'

# Write requirements.lock and requirements-dev.lock after changing dependencies in pyproject.toml;
# pins already in them are kept (scripts/lock.py). ARGS="--upgrade-package NAME" upgrades one.
lock: install
	$(VENV)/bin/pip install --quiet pip-tools
	$(PY) scripts/lock.py $(ARGS)

services-stop: install
	$(PY) -c 'from config import embedded; embedded.stop()'

clean: services-stop
	rm -rf .data
