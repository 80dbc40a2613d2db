# One command each: `make test` runs every test tier, `make demo` runs the demo on real Airflow.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install system-packages test lint unit integration e2e e2e-under-load demo demo-stop bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Debian packages (system-packages.txt) that some tiers and the demo need; installs only the missing ones.
system-packages:
	bash scripts/system-packages.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/pytest -q tests/integration

e2e: $(STAMP) system-packages
	$(BIN)/pytest -q tests/e2e

# The e2e tier three times in a row while two busy loops keep both cores loaded.
e2e-under-load: $(STAMP) system-packages
	bash scripts/e2e-under-load.sh

# The e2e tier runs beside the unit and integration tiers (scripts/test-tiers.sh says why).
test: system-packages lint
	BIN=$(BIN) bash scripts/test-tiers.sh

# make demo DEMO_ARGS=--keep leaves the stack running (UI and API); make demo-stop stops it.
# make demo DEMO_ARGS="--executor celery" runs it on the CeleryExecutor (Redis, two workers, two triggerers).
demo: $(STAMP) system-packages
	$(BIN)/python -m demo.run $(DEMO_ARGS)

demo-stop:
	$(BIN)/python -m demo.run --stop

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	-test -x $(BIN)/python && $(BIN)/python -m demo.run --stop
	rm -rf $(VENV) .demo .bench .pytest_cache .mypy_cache .ruff_cache
