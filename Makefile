# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: run test test-sqlite test-postgres install install-test system-test-deps migrate demo clean bench train

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PIP) install -e '.[test]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	$(PIP) install -e '.[test,bench]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Debian packages the integration and browser tests use for real (we are root on CI).
system-test-deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

migrate: install
	DEBUG=1 $(PY) manage.py migrate --noinput

demo: migrate
	DEBUG=1 $(PY) manage.py load_demo

run: demo
	@echo "Serving http://127.0.0.1:8000 (embedded: SQLite + in-memory channel layer). Ctrl-C stops."
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" DEBUG=1 BIND=127.0.0.1 honcho start -p 8000

# The whole suite on SQLite (the embedded default), then again on a throwaway PostgreSQL server
# without the browser tests: they drive the pages' JavaScript, which no database changes, and with
# them the two passes took 14 min 20 s of the 15-minute budget.
test: test-sqlite test-postgres

test-sqlite: install-test system-test-deps
	$(PY) -m pytest $(PYTEST_ARGS)

test-postgres: install-test system-test-deps
	@url=$$($(PY) -m tests.pgserver start) || exit 1; \
	echo "PostgreSQL run: DATABASE_URL=$$url"; \
	DATABASE_URL=$$url $(PY) -m pytest --ignore-glob='tests/e2e/test_browser_*' $(PYTEST_ARGS); status=$$?; \
	$(PY) -m tests.pgserver stop; exit $$status

# Rebuild the second reader's head (escalation/detection/head.npz) from the labelled batches.
train: $(VENV)/.installed-test
	$(PY) -m escalation.detection.train

# Benchmarks print numbers (docs/benchmarks.md); they are not tests.
bench: $(VENV)/.installed-bench system-test-deps
	$(PY) -m bench.detection
	$(PY) -m bench.reader --public ../shared/eval/suicide_ideation_twitter.csv
	$(PY) -m bench.alerts
	$(PY) -m bench.alerts --second-reader
	$(PY) -m bench.alerts --second-reader --redis
	$(PY) -m bench.screening
	$(PY) -m bench.rooms
	$(PY) -m bench.idle
	$(PY) -m bench.storm
	$(PY) -m bench.earlier
	$(PY) -m bench.chaos --seconds 120 --people 8

clean:
	rm -rf $(VENV) db.sqlite3* staticfiles test-artifacts
