# The two commands of the README are `make run` and `make test`; the rest are their parts.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := portal
# Test processes (pytest-xdist); each has its own databases. PYTEST_WORKERS=0 runs everything in one process.
PYTEST_WORKERS ?= 2

.PHONY: run test install install-test browser db seed lint unit unit-postgres load-short e2e bench throughput clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

db: install
	$(BIN)/flask db upgrade

seed: db
	$(BIN)/flask seed-demo --if-empty

# The web server and the queue's worker together; Ctrl-C stops both.
run: seed
	@echo "Serving the portal on http://$(HOST):$(PORT)/ with its job queue (Ctrl-C stops both)"
	@$(BIN)/huey_consumer portal.queue.huey --workers 2 --max-delay 1 --quiet & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' INT TERM EXIT; \
	$(BIN)/flask run --host $(HOST) --port $(PORT)

browser:
	@scripts/ensure-chromium.sh

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: install-test
	env -u TEST_DATABASE_URL $(BIN)/pytest tests -n $(PYTEST_WORKERS)

unit-postgres: install-test
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "Unit and route tests again on $$TEST_DATABASE_URL"; \
		$(BIN)/pytest tests -n $(PYTEST_WORKERS); \
	else echo "TEST_DATABASE_URL is not set: the PostgreSQL run is skipped."; fi

# 20 seconds of a crowd against gunicorn: fails on any 5xx, lost write or "database is locked".
load-short: install-test
	$(BIN)/python benchmarks/load.py --users 20 --duration 20 --check
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		$(BIN)/python benchmarks/load.py --users 20 --duration 20 --check --database-url "$$TEST_DATABASE_URL" \
			$${TEST_REDIS_URL:+--redis-url "$$TEST_REDIS_URL"}; \
	else echo "TEST_DATABASE_URL is not set: the PostgreSQL load run is skipped."; fi

e2e: install-test browser
	$(BIN)/pytest e2e -n $(PYTEST_WORKERS) --dist loadfile

test: lint unit unit-postgres load-short e2e

bench: install-test
	$(BIN)/python benchmarks/pages.py
	$(BIN)/python benchmarks/matching.py
	$(BIN)/python benchmarks/load.py
	@if [ -n "$$LOAD_DATABASE_URL" ]; then $(BIN)/python benchmarks/load.py --database-url "$$LOAD_DATABASE_URL"; fi
	$(MAKE) throughput

# Pages under load: gunicorn -w 2 and wrk, each page as a ratio to "hello" (THROUGHPUT_ARGS="--duration 5" is quick).
throughput: install-test
	@scripts/ensure-wrk.sh
	$(BIN)/python benchmarks/throughput.py $(THROUGHPUT_ARGS)

clean:
	rm -rf $(VENV) instance *.egg-info
