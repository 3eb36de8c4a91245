# The two commands a new user runs: `make demo` (the whole pipeline on the embedded default) and `make test`.
VENV ?= .venv
PYTEST_ARGS ?= -n 2 --timeout 900 --durations=15

.PHONY: setup setup-dev demo test test-fast bench mutation
setup:
	bash scripts/setup.sh
setup-dev:
	bash scripts/setup.sh --dev
demo: setup
	$(VENV)/bin/darl demo
test: setup-dev
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)
test-fast:  # the developer's tier: every test not marked slow (no set-up step; run `make setup-dev` once)
	$(VENV)/bin/python -m pytest -n 2 -m "not slow" --timeout 900 --durations=10
mutation: setup-dev  # mutation score of the pure core, module by module (minutes; docs/testing.md)
	nice -n 10 $(VENV)/bin/python scripts/mutation.py
