# The two commands of the quick start are `make run` and `make test`; both set up
# everything they need (Python venv, npm toolchain) and are fast the second time.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
COMPILE_STAMP := $(VENV)/.compiled
SOURCES := $(shell find contracts/src -name '*.sol') package-lock.json
FORGE := node_modules/.bin/forge

.PHONY: setup system-deps compile run test test-contracts test-python test-plain-clone test-network lint format bench bench-quick bench-network clean

setup: $(PY_STAMP) $(NPM_STAMP)

$(PY_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

$(NPM_STAMP): package.json package-lock.json scripts/fetch-epcis-schema
	npm ci --no-audit --no-fund --loglevel=error
	scripts/fetch-epcis-schema
	touch $@

# PostgreSQL and Chromium for the PostgreSQL index and browser tests (apt-get when root).
system-deps:
	scripts/system-deps

# The committed artifacts are rebuilt (byte-identical when the sources are unchanged) once per
# change of the sources, not on every run.
compile: setup $(COMPILE_STAMP)

$(COMPILE_STAMP): $(SOURCES) $(PY_STAMP) $(NPM_STAMP)
	$(BIN)/ledger compile
	touch $@

run: compile
	$(BIN)/ledger up

test: setup system-deps test-contracts test-python

# In CI (CI=true) the forge `ci` profile: 10,000 runs per fuzz test, longer invariant campaigns.
# Then the committed gas snapshot (default profile, fixed seed) must match: a gas regression
# fails the run and shows in the diff of snapshots/gas.snap. One thread (-j 1): run in
# parallel, the fuzz tests' mean and median gas differ from run to run with the same seed.
test-contracts: setup
	cd contracts && FOUNDRY_PROFILE=$(if $(CI),ci,default) ../$(FORGE) test $(if $(CI),--summary,)
	cd contracts && FOUNDRY_PROFILE=default ../$(FORGE) snapshot -j 1 --snap snapshots/gas.snap --check

test-python: setup
	$(BIN)/pytest

# A user's clone has no ../shared: the whole suite must still collect, and the modules that
# read the shared data must pass, skipping only what needs it, each skip with its reason.
# CUSTOMS_LEDGER_TEST_DATA (tests/data_paths.py) points at a folder that does not exist.
# Collection plus those modules only (about a minute), so CI can afford it after `make test`.
PLAIN_CLONE_DATA := $(CURDIR)/.data/no-shared-data
PLAIN_CLONE_MODULES := tests/ledger/records/test_values.py tests/ledger/records/test_typed_data.py \
	tests/ledger/records/test_packaged_lists.py \
	tests/ledger/epcis/test_epcis_vectors.py tests/ledger/risk/test_risk_evaluate.py
test-plain-clone: setup
	@out=$$(CUSTOMS_LEDGER_TEST_DATA=$(PLAIN_CLONE_DATA) $(BIN)/pytest --collect-only -q \
		-p no:cacheprovider 2>&1) || { echo "$$out" | tail -n 40; exit 1; }; echo "$$out" | tail -n 1
	CUSTOMS_LEDGER_TEST_DATA=$(PLAIN_CLONE_DATA) $(BIN)/pytest -q -p no:cacheprovider $(PLAIN_CLONE_MODULES)

# A real four-node geth Clique network (README "Network"): builds geth v1.13.15 into the user
# cache the first time (about 3.5 minutes), then about 6 minutes of tests (the network, then
# the consortium on it: deployment, two members' gateways, kill -9 and partition under load).
test-network: setup
	$(BIN)/pytest -m network tests/network

lint: setup
	$(BIN)/ruff check ledger gateway tests scripts bench
	$(BIN)/ruff format --check ledger gateway tests scripts bench
	$(BIN)/mypy ledger gateway bench
	cd contracts && ../$(FORGE) fmt --check

format: setup
	$(BIN)/ruff format ledger gateway tests scripts bench
	$(BIN)/ruff check --fix ledger gateway tests scripts bench
	cd contracts && ../$(FORGE) fmt

bench: setup
	$(BIN)/python -m bench.run

bench-quick: setup
	$(BIN)/python -m bench.run --quick

# The consortium on the four-node geth Clique network, then the same on anvil (ratios):
# bench/network.py, results in bench/network-results.json. About 5 minutes.
bench-network: setup
	$(BIN)/python -m bench.network

clean:
	rm -rf contracts/out contracts/cache .pytest_cache .mypy_cache .ruff_cache
