# leadbot: `make test`, `make run`. See DESIGN.md §7.
#
# Without DATABASE_URL the targets use the embedded PostgreSQL under .data/pg (scripts/devdb.py),
# started on demand and left running; `make db-stop` stops it.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUFF := $(VENV)/bin/ruff
PYTEST_ARGS ?= -n 2

# Shell prefix for a recipe line: DATABASE_URL from the environment, else the embedded server's
# (only evaluated when the line runs, i.e. after the venv exists; a failing start stops make).
WITH_DB = url="$${DATABASE_URL:-}"; \
	if [ -z "$$url" ]; then url="$$($(PY) scripts/devdb.py url)" || exit 1; fi; \
	export DATABASE_URL="$$url";

.PHONY: venv test browser-deps run lint format bench drill db db-status db-stop

venv: $(VENV)/.installed

# Reinstall only when requirements.txt is newer than the stamp.
$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $@

# Lint first (style, the layers of pyproject.toml's [tool.importlinter], types), then the suite.
test: lint browser-deps
	@$(WITH_DB) $(VENV)/bin/pytest $(PYTEST_ARGS)

# The browser test (conversations/tests/test_browser.py) drives Debian's Chromium through
# playwright, with an emoji font for the screenshots. As root with apt, install them when
# missing; otherwise (or if apt fails) the test skips and says why.
BROWSER_PACKAGES := chromium fonts-noto-color-emoji
browser-deps:
	@if dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "chromium not installed and not root with apt: the browser test will skip"; exit 0; \
	fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y -q --no-install-recommends $(BROWSER_PACKAGES) >/dev/null \
		|| { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends \
			$(BROWSER_PACKAGES) >/dev/null; } \
		|| echo "could not install $(BROWSER_PACKAGES): the browser test will skip"

# Migrate, ensure an admin user, then gunicorn on 127.0.0.1:8000 plus `manage.py db_worker`.
# DJANGO_DEBUG=1 unless set. Ctrl-C stops both (scripts/run.sh).
run: venv
	@scripts/run.sh

lint: venv
	$(RUFF) check .
	$(RUFF) format --check .
	$(VENV)/bin/lint-imports --no-logo
	$(VENV)/bin/mypy

format: venv
	$(RUFF) check --fix .
	$(RUFF) format .

bench: venv
	@if [ -f bench/webhook_load.py ]; then \
		$(WITH_DB) $(PY) bench/webhook_load.py; \
	else \
		echo "bench/webhook_load.py does not exist yet"; \
	fi

# The fault drill of bench/drill.py (a few minutes; not part of `make test`). Exits 1 on a loss.
drill: venv
	@$(WITH_DB) $(PY) bench/drill.py

db: venv
	@$(PY) scripts/devdb.py url

db-status: venv
	@$(PY) scripts/devdb.py status

db-stop: venv
	@$(PY) scripts/devdb.py stop
