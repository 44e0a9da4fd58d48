# assistant-app developer commands. Everything runs from ./.venv, created on first use.
#   make run                  start the app (needs a display)
#   make test [ARGS="..."]    set up a fresh machine if needed, lint, run pytest with real components
#   make lint                 ruff check
#   make bench                run bench/bench_*.py, collect their JSON into artifacts/bench.json
#   make dist                 build this OS's installer into dist/ (Linux: .deb + .tar.gz; macOS: .dmg;
#                             Windows: Inno Setup .exe) from a clean venv (build/venv-dist)
SHELL := /bin/bash
ARGS ?=

.PHONY: run test lint bench venv clean dist

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

dist:
	@case "$$(uname -s)" in \
	  Linux) packaging/build-linux.sh ;; \
	  Darwin) packaging/macos/build-macos.sh ;; \
	  MINGW*|MSYS*|CYGWIN*) pwsh -NoProfile -File packaging/windows/build-windows.ps1 -Out dist ;; \
	  *) echo "make dist: unsupported system $$(uname -s)" >&2; exit 1 ;; \
	esac

clean:
	rm -rf .venv artifacts .pytest_cache .ruff_cache build dist *.egg-info
