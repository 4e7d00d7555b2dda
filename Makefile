# ClientPulse — the two commands for a fresh machine are `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
PYTHON     ?= python3
VENV       := .venv
PY         := $(VENV)/bin/python
UV         := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
OUT        ?= out
export GX_ANALYTICS_ENABLED := false
export UV_PYTHON := 3.11

.PHONY: help setup dovecot demo test test-fast test-pure-mail smoke bench backfill calibrate backtest alerts-replay lineage run lint clean

help:
	@echo "make demo   set up, start the sandbox, run every DAG once through Airflow, print the outputs"
	@echo "make test   set up and run the test suite"
	@echo "make test-fast  the inner loop: every test that starts neither Airflow nor Dovecot"
	@echo "make smoke  the docker-compose topology started natively (PostgreSQL, Redis, Celery), driven over REST"
	@echo "make bench  run the benchmarks in benchmarks/"
	@echo "make run    run the pipeline once through Airflow on \$$CLIENTPULSE_CONFIG (no sandbox)"
	@echo "make backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD  weekly risk history on the data already ingested"
	@echo "make calibrate the alarm budget's trade-off on the agency's own risk history"
	@echo "make backtest  replay the demo agency's history and judge the risk score against its truth"
	@echo "make alerts-replay  after make demo: alerts per account manager over the last 8 weeks"
	@echo "make lineage MODEL=marts.client_risk_weekly  what a model is built from and what reads it"
	@echo "make lint   ruff"

# uv from PyPI when it is not on the machine yet; then the venv from the committed lock
# (which compiles connectors/mailboxes/_mailscan.c through hatch_build.py).
$(UV):
	$(PYTHON) -m pip install --quiet --user "uv==$(UV_VERSION)"

$(VENV)/.synced: uv.lock pyproject.toml connectors/mailboxes/_mailscan.c hatch_build.py | $(UV)
	$(UV) sync --frozen --extra deploy --extra sandbox
	@$(VENV)/bin/python -c "from connectors.mailboxes import native; \
	  print('mail scanner:', native.PATH, '' if native.scanner else '(no C compiler: slower, same rows)')"
	touch $@

setup: $(VENV)/.synced

demo: setup
	$(PY) -m tooling.demo --out $(OUT)/demo

# The IMAP tests run against a real Dovecot: installed from Debian packages when missing.
dovecot:
	@command -v dovecot >/dev/null || test -x /usr/sbin/dovecot || { \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq --no-install-recommends dovecot-imapd \
	  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends dovecot-imapd; }; }

# Two workers, a test file each at a time (a module's fixtures stay in one process):
# the Airflow and demo tests wait on subprocesses long enough to share the 2 cores.
TEST_WORKERS ?= 2
test: setup dovecot
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# Everything but Airflow and the real servers; the full suite still runs in `make test`.
test-fast: setup
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not airflow and not server and not e2e"

# The mail tests again on the pure-Python path, as an install without a C compiler runs them.
test-pure-mail: setup dovecot
	CLIENTPULSE_PURE_MAIL=1 $(PY) -m pytest tests/test_mail_build.py tests/test_mbox.py \
	  tests/test_closing.py tests/test_imap.py tests/test_ingest_mailboxes.py

smoke: setup
	$(PY) -m tooling.smoke --out $(OUT)/smoke

bench: setup
	$(PY) -m benchmarks

backfill: setup
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "usage: make backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD"; exit 2; }
	$(PY) -m tooling.backfill --from $(FROM) --to $(TO)

calibrate: setup
	$(PY) -m tooling.calibrate

backtest: setup
	$(PY) -m benchmarks.bench_risk_backtest --agency demo

# After `make demo`: the alerts each account manager would have had over the last 8 weeks.
alerts-replay: setup
	$(PY) -m benchmarks.alerts_replay --weeks 8

# What a model is built from (models, raw tables, config keys) and what reads it.
lineage: setup
	@test -n "$(MODEL)" || { echo "usage: make lineage MODEL=layer.model"; exit 2; }
	$(PY) -m tooling.lineage $(MODEL)

run: setup
	$(PY) -m tooling.local_airflow --airflow-home $(OUT)/airflow

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(OUT)
