# A user needs two commands: `make demo` and `make test`. Both set up what they need first:
# a virtualenv with the project, and the PostgreSQL and RabbitMQ programs the tests start
# private instances of, and Chromium for the explorer's browser tests (installed with apt-get
# when missing).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: test lint unit demo demo-down simulate simulate-month simulate-network setup services \
	protos bench bench-full bench-ab attacks attacks-full clean multihost multihost-demo

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

# The multi-host network (network namespaces, about 2.5 minutes) runs as part of the suite;
# `make test MULTIHOST=0` leaves it out, and the consortium network runs in `make multihost`
# only. Without root those tests skip with a one-line reason.
MULTIHOST ?= 1
unit: setup services
	DLT_MULTIHOST=$(MULTIHOST) $(BIN)/pytest -q --durations=25 $(PYTEST_ARGS)

test: lint unit

# Regenerate dlt/rpc/generated from protos/*.proto; commit the result (a test checks it is fresh).
protos: setup
	$(BIN)/python protos/generate.py

demo: setup
	bash deploy/ensure-rabbitmq.sh
	bash deploy/demo.sh

demo-down: setup
	$(BIN)/dlt localnet down

# The community simulator; results (report.txt, bills.csv, run.png, journal.jsonl) go to
# sim-results/. `make simulate` runs a day of 4 prosumers and 4 consumers on the ledger in
# process; `make simulate-month` clears the reference community's month (12 prosumers, 68
# consumers, 30 days) under every mechanism on the market engine and compares them;
# `make simulate-network` starts a local network of SIM_PRODUCERS + SIM_CONSUMERS node
# processes, runs SIM_DAYS of the community through RPC, and takes the network down.
simulate: setup
	$(BIN)/python -m cordapp_energy.simulator --days 1 --out sim-results/day

simulate-month: setup
	$(BIN)/python -m cordapp_energy.simulator --community reference --days 30 --compare \
		--out sim-results/month

SIM_PRODUCERS ?= 12
SIM_CONSUMERS ?= 68
SIM_DAYS ?= 1
SIM_ARGS ?=
SIM_NET_HOME ?= sim-results/network-localnet
simulate-network: setup
	bash deploy/ensure-rabbitmq.sh
	$(BIN)/dlt localnet up --home $(SIM_NET_HOME) --producers $(SIM_PRODUCERS) \
		--consumers $(SIM_CONSUMERS) --timeout 900 \
		|| { $(BIN)/dlt localnet down --home $(SIM_NET_HOME); exit 1; }
	$(BIN)/python -m cordapp_energy.simulator --network $(SIM_NET_HOME) --days $(SIM_DAYS) \
		--prosumers $(SIM_PRODUCERS) --consumers $(SIM_CONSUMERS) --out sim-results/network \
		$(SIM_ARGS); status=$$?; $(BIN)/dlt localnet down --home $(SIM_NET_HOME); exit $$status

# Benchmarks on real local networks; reports go to benchmarks/results/<timestamp>/ (and
# benchmarks/results/latest). BENCH_ARGS passes options, e.g. BENCH_ARGS="--replicas 1".
BENCH_ARGS ?=
bench: setup services
	$(BIN)/python -m benchmarks --plan bench $(BENCH_ARGS)

bench-full: setup services
	$(BIN)/python -m benchmarks --plan bench-full $(BENCH_ARGS)

# The benchmark alternately on BASE and on this checkout (see README, Benchmarks).
PAIRS ?= 3
bench-ab: setup services
	@test -n "$(BASE)" || { echo "make bench-ab needs BASE=<revision>"; exit 2; }
	$(BIN)/python -m benchmarks.ab $(BASE) --pairs $(PAIRS) -- $(BENCH_ARGS)

# The production shape on network namespaces (needs root; see docs/DEPLOYMENT.md): the operator
# and four organisations, each with its own broker, node, PostgreSQL and notary replica.
# `make test` runs these but the consortium network (a broker cluster across three hosts, a
# member killed mid-trade), which only this target brings up (about 4.5 minutes in all).
multihost: setup services
	DLT_MULTIHOST=all $(BIN)/pytest -q tests/multihost $(PYTEST_ARGS)

multihost-demo: setup services
	$(BIN)/python -m deploy.multihost

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
