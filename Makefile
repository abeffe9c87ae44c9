# graphkit: two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test test-fast venv browser bench bench-store bench-spark clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## the main job on the bundled demo data
demo: venv
	$(BIN)/graphkit demo

## headless Chromium for the browser tests (Debian's package; never a downloaded browser)
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

# two pytest workers (pytest-xdist), each running whole test modules, so that a module's fixtures (the Spark
# session, a report of the demo) are made once; TEST_WORKERS=0 runs the suite in one process
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

## the import-layer contract (pyproject.toml), then the whole test suite, browser and notebook tests included
test: venv browser
	$(BIN)/lint-imports
	$(PYTEST)

## the suite without the browser, notebook and Spark tests
test-fast: venv
	$(BIN)/lint-imports
	$(PYTEST) -m "not browser and not notebook and not spark"

## speed, memory and quality at scale (benchmarks/RESULTS.md)
bench: venv
	$(BIN)/python -m benchmarks

## investigation questions at 10^6 gifts: window report, expand/path/show from the store (benchmarks/store-results.json)
bench-store: venv
	$(BIN)/python -m benchmarks store --gifts 1e6

## the Spark engine on a standalone cluster on 127.0.0.1 (needs the spark extra and Java 17)
bench-spark: venv
	$(BIN)/python -m benchmarks spark --gifts 1e6,3e6,1e7

clean:
	rm -rf $(VENV) graphkit-demo .pytest_cache .hypothesis
