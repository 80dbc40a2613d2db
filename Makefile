# One command each: `make test` runs every test tier, `make demo` runs the demo on real Airflow.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Two levels of install in one venv: the demo's (the package with the extras the demo runs) and the
# developer's (the dev extra: the demo's plus the test, lint and build tools). The developer's includes
# the demo's, so it stamps both.
DEMO_STAMP := $(VENV)/.installed-demo
STAMP := $(VENV)/.installed
# Where the demo's stack lives (its processes, logs, database, env.sh).
DEMO_HOME ?= .demo

.PHONY: install install-demo system-packages system-packages-demo test lint unit integration e2e \
	e2e-under-load demo demo-stop bench dist clean

$(DEMO_STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[demo]"
	touch $(DEMO_STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP) $(DEMO_STAMP)

install: $(STAMP)

install-demo: $(DEMO_STAMP)

# Debian packages that are missing, through apt-get: the demo's (system-packages-demo.txt: PostgreSQL,
# Redis) and, for the test tiers, also system-packages.txt (chromium for the browser tests).
system-packages-demo:
	bash scripts/system-packages.sh system-packages-demo.txt

system-packages:
	bash scripts/system-packages.sh system-packages-demo.txt system-packages.txt

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
demo: $(DEMO_STAMP) system-packages-demo
	$(BIN)/python -m demo.run --home $(DEMO_HOME) $(DEMO_ARGS)

# Stops the processes the demo recorded in $(DEMO_HOME)/pids.json, and nothing else.
demo-stop:
	$(BIN)/python -m demo.run --home $(DEMO_HOME) --stop

# A quick pass of every benchmark (benchmarks/run_all.py --full: the sizes benchmarks/README.md reports).
bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

# The wheel and the sdist in dist/. A build/ folder left by a `pip install .` would pass for the
# `build` package itself: it goes first.
dist: $(STAMP)
	rm -rf dist build
	$(BIN)/python -m build --outdir dist .

clean:
	-test -x $(BIN)/python && $(BIN)/python -m demo.run --home $(DEMO_HOME) --stop
	rm -rf $(VENV) $(DEMO_HOME) .bench .pytest_cache .mypy_cache .ruff_cache dist build *.egg-info
