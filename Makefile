# The two commands: `make run` and `make test`. Every setup step is a file target
# (a stamp) so it is skipped when its inputs have not changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .stamps
VENDOR := src/maintenance/static/vendor
I18N := src/maintenance/i18n
PO_FILES := $(wildcard $(I18N)/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
HOST ?= 127.0.0.1
PORT ?= 8000
# Both cores: each xdist worker has its own SQLite file (or PostgreSQL database) and live server.
PYTEST_ARGS ?= -n 2

.PHONY: run test test-dates setup db seed lint unit e2e bench lock i18n-extract i18n-update browser-deps mqtt-deps clean

run: setup db seed
	$(BIN)/maintenance serve --host $(HOST) --port $(PORT)

test: setup db seed browser-deps mqtt-deps lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(STAMPS)/python $(STAMPS)/vendor $(MO_FILES)

$(STAMPS)/python: pyproject.toml requirements.lock
	@mkdir -p $(STAMPS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@touch $@

$(STAMPS)/npm: package.json package-lock.json
	@mkdir -p $(STAMPS)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Only what the pages load is copied; node_modules itself is never served.
$(STAMPS)/vendor: $(STAMPS)/npm
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/htmx $(VENDOR)/bootstrap $(VENDOR)/bootstrap-icons $(VENDOR)/echarts $(VENDOR)/swagger-ui
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/js/bootstrap.bundle.min.js $(VENDOR)/bootstrap/
	cp -r node_modules/bootstrap-icons/font/bootstrap-icons.min.css node_modules/bootstrap-icons/font/fonts $(VENDOR)/bootstrap-icons/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts/
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css $(VENDOR)/swagger-ui/
	@touch $@

%.mo: %.po $(STAMPS)/python
	$(BIN)/pybabel compile --domain=messages -i $< -o $@

db: setup
	$(BIN)/maintenance db upgrade

seed: db
	$(BIN)/maintenance seed --demo

lint: $(STAMPS)/python
	$(BIN)/ruff check src tests migrations bench
	$(BIN)/ruff format --check src tests migrations bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# The date-sensitive tests again with the clock started on days where date arithmetic breaks
# (design.md §2): a year end at 23:30 plant time, the first minutes of a year, a leap day.
# The day the suite really runs is `make test`. CI runs both.
CLOCK_STARTS ?= 2026-12-31T23:30:00+08:00 2027-01-01T00:10:00+08:00 2028-02-29T09:00:00+08:00
DATE_SENSITIVE_TESTS := tests/test_clock.py tests/demo/test_assets.py tests/demo/test_orders.py tests/demo/test_monitoring.py \
	tests/demo/test_inspections.py tests/demo/test_special.py tests/demo/test_leakfree.py tests/demo/test_budget.py tests/orders/pm/test_scheduler.py tests/orders/pm/test_scheduler_cli.py \
	tests/orders/kpis/test_kpis.py tests/orders/test_list.py tests/orders/pm/test_pm_pages.py tests/orders/test_numbering.py \
	tests/inspections/test_rounds.py tests/inspections/test_round_pages.py tests/inspections/test_campaigns.py \
	tests/monitoring/thickness/test_assessment.py tests/assets/test_exports.py tests/assets/test_depreciation.py \
	tests/assets/stocktake/test_stocktake.py tests/demo/test_scorecard_projects.py tests/demo/test_scorecard_operating.py \
	tests/demo/test_scorecard_accidents.py tests/demo/test_scorecard_savings.py tests/scorecard/accidents/test_list.py \
	tests/scorecard/accidents/test_recording.py tests/scorecard/accidents/test_actions.py
test-dates: setup
	@for start in $(CLOCK_STARTS); do \
		echo "== the date-sensitive tests with the clock started at $$start"; \
		MAINTENANCE_CLOCK_START=$$start $(BIN)/python -m pytest $(PYTEST_ARGS) -q -p no:cacheprovider $(DATE_SENSITIVE_TESTS) || exit 1; \
	done

unit: setup
	$(BIN)/python -m pytest --ignore=tests/e2e $(PYTEST_ARGS)

e2e: setup browser-deps
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

# Every benchmark, one table, kept in bench/README.md (bench/run_all.py): quick by default (about
# ten minutes on two cores), BENCH_SCALE=full for the large plant (hours). Not part of `make test`.
BENCH_SCALE ?= quick
bench: setup mqtt-deps
	BENCH_SCALE=$(BENCH_SCALE) $(BIN)/python bench/run_all.py

# Debian's Chromium and a CJK font for the browser tests (Playwright cannot download browsers here).
# fontconfig provides the fc-list used by the check; the font package only recommends it.
browser-deps:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi 'wqy'; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "!!! Browser tests need Debian's chromium and fonts-wqy-microhei." >&2; \
		echo "!!! Run as root: apt-get update && apt-get install -y chromium fonts-wqy-microhei fontconfig" >&2; \
		exit 1; \
	fi; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei fontconfig >/dev/null

# Debian's Mosquitto broker for the MQTT ingest tests (each test starts its own on a free port).
mqtt-deps:
	@if [ -x /usr/sbin/mosquitto ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "!!! MQTT ingest tests need Debian's mosquitto." >&2; \
		echo "!!! Run as root: apt-get update && apt-get install -y mosquitto" >&2; \
		exit 1; \
	fi; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null

lock:
	$(BIN)/python -m pip freeze --exclude-editable | { echo "# Exact versions of every Python package (direct and transitive), used as pip constraints."; echo "# Regenerate with \`make lock\` after changing pyproject.toml."; cat; } > requirements.lock

i18n-extract: $(STAMPS)/python
	$(BIN)/pybabel extract --ignore-dirs='.*' --no-location --sort-by-file -F $(I18N)/babel.cfg -k _ -k N_ -k gettext -k ngettext:1,2 -k NP_:1c,2 -o $(I18N)/messages.pot --project=maintenance --version=1 src templates

i18n-update: i18n-extract
	$(BIN)/pybabel update --no-fuzzy-matching -i $(I18N)/messages.pot -d $(I18N) -D messages

clean:
	rm -rf $(VENV) $(STAMPS) node_modules $(VENDOR) $(MO_FILES)
