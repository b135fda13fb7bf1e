# A user needs two commands: `make demo` and `make test`. Both set up what they need first:
# a virtualenv with the project, and the PostgreSQL and RabbitMQ programs the tests start
# private instances of, and Chromium for the explorer's browser tests (installed with apt-get
# when missing).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: test lint unit demo demo-down simulate setup services protos bench bench-full attacks attacks-full clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

setup: $(STAMP)

services:
	bash deploy/ensure-postgres.sh
	bash deploy/ensure-rabbitmq.sh
	bash deploy/ensure-chromium.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: setup services
	$(BIN)/pytest -q $(PYTEST_ARGS)

test: lint unit

# Regenerate dlt/rpc/generated from protos/*.proto; commit the result (a test checks it is fresh).
protos: setup
	$(BIN)/python protos/generate.py

demo: setup
	bash deploy/ensure-rabbitmq.sh
	bash deploy/demo.sh

demo-down: setup
	$(BIN)/dlt localnet down

simulate: setup
	$(BIN)/python -m cordapp_energy.simulator --days 1

# Benchmarks on real local networks; reports go to benchmarks/results/<timestamp>/ (and
# benchmarks/results/latest). BENCH_ARGS passes options, e.g. BENCH_ARGS="--replicas 1".
BENCH_ARGS ?=
bench: setup services
	$(BIN)/python -m benchmarks --plan bench $(BENCH_ARGS)

bench-full: setup services
	$(BIN)/python -m benchmarks --plan bench-full $(BENCH_ARGS)

# The attack suite on a real local network it starts (and takes down) itself; the report goes
# to attacks/report.md and attacks/report.json. ATTACK_ARGS passes options, e.g.
# ATTACK_ARGS="--seed 7" or "--count 50"; `dlt attack run NAME` runs one scenario.
ATTACK_ARGS ?=
attacks: setup services
	$(BIN)/dlt attack run all --allow-unsafe $(ATTACK_ARGS)

attacks-full: setup services
	$(BIN)/dlt attack run all --full --allow-unsafe $(ATTACK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
