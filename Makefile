# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out/gaza-2023-11-truce

.PHONY: demo test lint typecheck venv lock clean bench browser serve

venv: $(STAMP)

# The virtual environment is built from the lock file only (hashes checked),
# then the package itself is installed in editable mode without dependencies.
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@# Byte-code for the package's own modules, as pip writes it for the installed ones:
	@# where PYTHONDONTWRITEBYTECODE is set, every command would compile them again.
	$(BIN)/python -m compileall -q src
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ceasefire run scenarios/gaza-2023-11-truce.yaml --seed 0 --out $(OUT)
	@echo "Report: $(OUT)/report.html"

test: $(STAMP) browser
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m ceasefire.monitor.pgtest $(BIN)/python -m pytest -q

# Chromium for the web app's end-to-end tests (tests/test_web_e2e.py drive it with
# Playwright): Debian's package, installed where it is missing (as root, or with sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y chromium; }

# The local web app on http://127.0.0.1:8000/ (Ctrl-C stops it).
serve: $(STAMP)
	$(BIN)/ceasefire serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests

typecheck: $(STAMP)
	$(BIN)/mypy

# Episodes per second, ensemble engine vs reference engine (not part of `make test`).
# BENCH_ARGS="--n 100000" for a shorter run.
# Then peak memory, start-up of `ceasefire --help` and `ceasefire check` (0.3 s at most),
# and negotiation steps per second: ensemble engine vs NegMAS vs the NumPy lock-step
# bound (../shared/peers). NegMAS (AGPL) is a development tool only: it goes into its own
# .bench-venv, never into the package's dependencies. NEG_BENCH_ARGS="--no-negmas" skips it.
BENCH_ARGS ?=
NEG_BENCH_ARGS ?=
BENCH_VENV := .bench-venv
bench: $(STAMP)
	$(BIN)/python bench/bench_ensemble.py $(BENCH_ARGS)
	$(BIN)/python bench/bench_memory.py
	$(BIN)/python bench/bench_cli.py
	@$(BENCH_VENV)/bin/python -c "import negmas" 2>/dev/null || { \
	  $(PYTHON) -m venv $(BENCH_VENV) && \
	  $(BENCH_VENV)/bin/pip install --quiet negmas==0.16.0 numpy; } || \
	  echo "NegMAS could not be installed into $(BENCH_VENV); its figure will be skipped"
	$(BIN)/python bench/bench_negotiation.py --negmas-python $(BENCH_VENV)/bin/python $(NEG_BENCH_ARGS)

# Re-resolve the lock file (needs `uv`; run only when changing dependencies).
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache

# The monitoring ledger on the November 2023 record: init, import, compliance report.
MONITOR_OUT ?= out/monitor-nov2023
.PHONY: monitor-demo
monitor-demo: $(STAMP)
	rm -rf $(MONITOR_OUT) && mkdir -p $(MONITOR_OUT)
	$(BIN)/ceasefire monitor init --db $(MONITOR_OUT)/ledger.sqlite \
	  --scenario scenarios/gaza-2023-11-truce.yaml --vocabulary examples/nov2023/vocabulary.yaml
	$(BIN)/ceasefire monitor import --db $(MONITOR_OUT)/ledger.sqlite examples/nov2023/nov2023-truce.csv
	$(BIN)/ceasefire monitor compliance --db $(MONITOR_OUT)/ledger.sqlite \
	  scenarios/gaza-2023-11-truce.yaml --out $(MONITOR_OUT)/compliance.html
	@echo "Report: $(MONITOR_OUT)/compliance.html"
