# OneWindow (一窗). `make run` serves the platform with demo data; `make test` runs the suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
CHROMIUM ?= /usr/bin/chromium
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
export FLASK_APP := wsgi
# Playwright drives Debian's Chromium; it must never download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run test bench lint install assets browser pdf secret fuzz

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# The pages' front-end packages (htmx, bpmn-js), exactly as package-lock.json pins them; served from node_modules.
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || (apt-get update && apt-get install -y --no-install-recommends npm)
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

assets: node_modules/.package-lock.json

# What the browser tests need on a fresh Debian machine (as root): Chromium and CJK fonts from Debian.
browser:
	@if [ ! -x $(CHROMIUM) ] || [ ! -f $(CJK_FONT) ]; then \
		apt-get update && apt-get install -y --no-install-recommends chromium fonts-noto-cjk; \
	fi

# What documents need on a fresh Debian machine (as root): WeasyPrint's Pango, the Noto CJK fonts the
# documents are set in, and poppler-utils (pdftoppm/pdftotext, to look at a rendered PDF).
PANGO := /usr/lib/$(shell uname -m)-linux-gnu/libpango-1.0.so.0
pdf:
	@if [ ! -f $(PANGO) ] || [ ! -f $(CJK_FONT) ] || ! command -v pdftoppm >/dev/null; then \
		apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk poppler-utils; \
	fi

# The session-signing key: SECRET_KEY from the environment, else instance/secret_key (made once, here).
secret:
	@if [ -z "$$SECRET_KEY" ] && [ ! -s instance/secret_key ]; then \
		mkdir -p instance && umask 077 && $(PY) -c 'import secrets; print(secrets.token_hex(32))' > instance/secret_key; \
		echo "generated instance/secret_key"; \
	fi

# gunicorn touches each worker's heartbeat file at every turn of its loop: in memory, not on disk.
WORKER_TMP_DIR := $(if $(wildcard /dev/shm),--worker-tmp-dir /dev/shm)

run: install assets pdf secret
	$(BIN)/flask db upgrade
	$(BIN)/flask calendar seed
	$(BIN)/flask demo seed
	$(BIN)/flask processes sync
	SCHEDULER_ENABLED=$${SCHEDULER_ENABLED:-1} $(BIN)/gunicorn --bind $(HOST):$(PORT) --workers 2 --threads 4 \
		$(WORKER_TMP_DIR) --access-logfile - wsgi:app

# The whole suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set.
test: install assets browser pdf
	$(BIN)/ruff check app tests benchmarks config.py wsgi.py
	$(BIN)/ruff format --check app tests benchmarks config.py wsgi.py
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest -q -p no:cacheprovider
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== PostgreSQL: $$TEST_DATABASE_URL"; \
		$(BIN)/python -m pytest -q -p no:cacheprovider; \
	fi

# N cases of the serial matter through a real HTTP server (PostgreSQL when DATABASE_URL is set).
bench: install
	$(BIN)/python -m benchmarks.serial $(BENCH_ARGS)

# schemathesis (--checks all) against a real gunicorn server on a fresh database (tests/test_fuzz.py);
# `make test` runs the same bounded to a minute, this runs longer. FUZZ_MAX_EXAMPLES / FUZZ_MAX_TIME.
fuzz: install
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-200} FUZZ_MAX_TIME=$${FUZZ_MAX_TIME:-600} \
		$(BIN)/python -m pytest -q -s -p no:cacheprovider tests/test_fuzz.py
