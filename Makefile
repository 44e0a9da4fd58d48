# assistant-app developer commands. Everything runs from ./.venv, created on first use.
#   make run                  start the app (needs a display)
#   make test [ARGS="..."]    set up a fresh machine if needed, lint, run pytest with real components
#   make lint                 ruff check
#   make bench                run bench/bench_*.py, collect their JSON into artifacts/bench.json
SHELL := /bin/bash
ARGS ?=

.PHONY: run test lint bench venv clean

run:
	@scripts/run.sh $(ARGS)

test:
	@scripts/test.sh $(ARGS)

lint: venv
	.venv/bin/ruff check assistant_app tests bench

bench:
	@scripts/ensure-venv.sh
	.venv/bin/python scripts/run_bench.py $(ARGS)

venv:
	@scripts/ensure-venv.sh test

clean:
	rm -rf .venv artifacts .pytest_cache .ruff_cache build dist *.egg-info
