# A user needs two commands: `make demo` and `make test`. Both set up what they need first:
# a virtualenv with the project, and the PostgreSQL and RabbitMQ programs the tests start
# private instances of, and Chromium for the explorer's browser tests (installed with apt-get
# when missing).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: test lint unit demo demo-down simulate setup services protos bench bench-full clean \
	multihost multihost-demo

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

# The production shape on network namespaces (needs root; see docs/DEPLOYMENT.md): the operator
# and four organisations, each with its own broker, node, PostgreSQL and notary replica.
# `make test` runs the fast multi-host tests; these bring up the whole network (minutes).
multihost: setup services
	DLT_MULTIHOST=1 $(BIN)/pytest -q tests/multihost $(PYTEST_ARGS)

multihost-demo: setup services
	$(BIN)/python -m deploy.multihost

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
