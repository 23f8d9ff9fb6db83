# Two entry points for a fresh clone with only Python 3.11 and pip: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-slow lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/ckdmbd run peterson-riggs-2010 --out out/peterson-riggs-2010

test: $(STAMP)
	$(PY) -m pytest -n 2 -m "not slow" -q

test-slow: $(STAMP)
	$(PY) -m pytest -n 2 -m slow -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/bench_core.py

clean:
	rm -rf $(VENV) out
