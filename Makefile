# One command to set up and run the demo (`make run`), one to set up and run the tests (`make test`).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: install run test bench clean

install: $(STAMP)

# torch is pinned and installed first: on these machines `torch==2.13.0` is a local CPU build,
# while an unpinned torch would pull several GB of CUDA packages.
$(STAMP): setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[test,bench,search]"
	touch $(STAMP)

run: install
	$(PY) run_lab.py

test: install
	$(PY) -m pytest -q --durations=10 test

bench: install
	$(PY) bench/loop_overhead.py

clean:
	rm -rf $(VENV) build *.egg-info
