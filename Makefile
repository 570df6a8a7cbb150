# One target for each thing a person does. Every target sets itself up first: it creates
# .venv (or reuses it), installs the project into it and compiles the engine's hot modules.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Modules compiled to C extensions with mypyc (docs/adr/0002-compile-the-engine-with-mypyc.md).
# The .py files stay the source; the build is redone whenever one of them changes.
NATIVE_SRC   := matching/record.py matching/commands.py matching/events.py matching/book.py \
                matching/engine.py settlement/cash.py settlement/outcome.py settlement/clearing.py \
                settlement/market.py settlement/day.py settlement/accounts.py \
                settlement/snapshot.py exchange/rows.py exchange/codec.py
NATIVE_STAMP := $(VENV)/.native

export CARBONX_REQUIRE_NATIVE := 1

# The web UI (ui/): npm installs its JavaScript dependencies from ui/package-lock.json and vite
# builds it into ui/dist, which the gateway serves at /ui/ (exchange/api/ui.py). Rebuilt when a
# source changes; nothing is fetched at run time.
UI_SRC   := $(shell find ui/src -type f 2>/dev/null) ui/index.html ui/vite.config.ts ui/tsconfig.json
UI_DEPS  := ui/node_modules/.installed
UI_BUILD := ui/dist/index.html

.PHONY: setup native ui chromium run postgres test lint bench load soak clean

setup: $(STAMP) $(NATIVE_STAMP) $(UI_BUILD)

$(BIN)/python:
	$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || scripts/apt-install python3-venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=77" wheel

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,load,sweep]'
	@# The project root on sys.path: mypyc's shared library of the compiled modules lives there.
	$(BIN)/python -c "import site; open(site.getsitepackages()[0] + '/carbonx-root.pth', 'w').write('$(CURDIR)\n')"
	touch $(STAMP)

native: $(NATIVE_STAMP)

$(NATIVE_STAMP): $(STAMP) $(NATIVE_SRC) pyproject.toml
	scripts/ensure-build-tools $(BIN)/python
	$(BIN)/mypyc $(NATIVE_SRC) > $(VENV)/native-build.log 2>&1 \
		|| { tail -n 40 $(VENV)/native-build.log; exit 1; }
	$(BIN)/python -m tests.native_build record
	touch $(NATIVE_STAMP)

ui: $(UI_BUILD)

$(UI_DEPS): ui/package.json ui/package-lock.json
	command -v npm >/dev/null || scripts/apt-install nodejs npm
	cd ui && npm ci --no-audit --no-fund
	touch $(UI_DEPS)

$(UI_BUILD): $(UI_DEPS) $(UI_SRC)
	cd ui && npm run build

# The browser tests (tests/ui) drive Debian's chromium; Playwright never downloads one.
chromium:
	scripts/ensure-chromium

# The demo market on an embedded SQLite file (./carbonx-demo.db); prints the URL, keys and a curl.
run: setup
	$(BIN)/carbonx demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Integration tests run against PostgreSQL as well as SQLite (under CI they must not skip).
postgres:
	scripts/ensure-postgres

# The set-up steps and the lint run two at a time (`-j2`: the machines have two cores; pip and
# npm mostly wait on the network, mypy, mypyc and vite on the CPU), each one's output kept
# together; then the tests in two workers (pytest-xdist). `--dist loadfile` keeps a file's tests
# in one worker, so its module-scoped server and browser start once. Tests that run side by side
# share nothing but the machine: each server has its own port and database file, each
# PostgreSQL test its own schema or database, each worker its own Chromium and temporary files.
test:
	$(MAKE) --no-print-directory -j2 --output-sync=target lint native postgres ui chromium
	$(BIN)/pytest -n 2 --dist loadfile

bench: setup postgres
	$(BIN)/python -m loadtests.bench_engine --json
	$(BIN)/python -m loadtests.bench_journal --json

# The system load test through the network API (docs/BENCHMARKS.md): a fresh PostgreSQL
# database, `carbonx serve` on loopback, about two minutes (at most five); JSON to
# loadtests/results/.
load: setup postgres
	timeout 300 $(BIN)/python -m loadtests.load --json

soak: setup postgres
	$(BIN)/pytest -m soak tests

clean:
	rm -rf $(VENV) build .mypy_cache .pytest_cache .ruff_cache
	find matching -name '*.so' -delete
	rm -f *__mypyc*.so
	rm -rf ui/node_modules ui/dist tests/ui/artifacts
