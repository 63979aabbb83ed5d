# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: run test test-postgres lint bench-intake clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Run the service with demo data on the embedded default (SQLite under instance/).
run: $(STAMP)
	$(BIN)/postal-svc db upgrade
	$(BIN)/postal-svc demo load
	$(BIN)/postal-svc serve

## Run the tests (SQLite by default; POSTAL_TEST_DATABASE_URL=postgresql+psycopg://... for PostgreSQL).
test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: $(STAMP)
	POSTAL_TEST_DATABASE_URL=$${POSTAL_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres} \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

bench-intake: $(STAMP)
	$(BIN)/python bench/intake.py

clean:
	rm -rf $(VENV) instance .pytest_cache
