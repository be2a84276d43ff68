# Two commands a newcomer needs: `make run` and `make test`. Both create and reuse .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= data
DB ?= $(DATA)/creditgraph.sqlite
FIRMS ?= 2000

.PHONY: run test install lint bench clean demo

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Fresh machine: install, generate demo data, ingest it, serve on http://127.0.0.1:8000
run: $(STAMP)
	$(BIN)/creditgraph demo --firms $(FIRMS) --out $(DATA)/demo
	$(BIN)/creditgraph ingest --db $(DB) $(DATA)/demo
	$(BIN)/creditgraph serve --db $(DB)

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(DATA) .pytest_cache build *.egg-info
