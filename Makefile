# Two commands for a newcomer:  `make run` (the whole system) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi

.PHONY: install run test demo audit bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

install: $(VENV)/.installed

## make run: migrate, seed demo data, start sandbox + web + worker + scheduler (Ctrl-C stops all)
run: install
	$(FLASK) up

## make test: the whole suite on real Redis and a real database (ARGS='-k ...' to pick)
test: install
	$(PY) -m pytest $(ARGS)

## make demo: walk a group to success and another to refund over HTTP against `make run`
demo: install
	$(PY) -m tools.walkthrough

## make audit: the money invariants on the local data
audit: install
	$(FLASK) audit

## make bench: the six benchmarks (each starts its own system; about 12 minutes)
bench: install
	$(PY) bench/join_wrk.py
	$(PY) bench/join_contention.py
	$(PY) bench/deadline_lag.py
	$(PY) bench/fanout.py
	$(PY) bench/room_fanout.py
	$(PY) bench/risk_cost.py

clean:
	rm -rf $(VENV) instance .pytest_cache miniprogram/test/node_modules
