# The two commands in the README: `make run` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test check bench compose-smoke clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# The demo pool in .simctl/ gets a fixed passphrase unless you bring your own.
run: export SIMCTL_WALLET_PASSPHRASE ?= simctl-demo
run: $(STAMP)
	$(BIN)/simctl status
	$(BIN)/simctl otto fiber --type TicTacToe --outcome win
	id=$$($(BIN)/simctl start-campaign --wait) && $(BIN)/simctl report $$id --out reports/$$id
	id=$$($(BIN)/simctl otto evolve --population 10 --generations 5 --wait) && \
	  $(BIN)/simctl otto report $$id --out reports/$$id
	@if command -v monerod >/dev/null && command -v monero-wallet-rpc >/dev/null; then \
	  $(BIN)/simctl monero run --config examples/monero/config.yaml --wait; \
	else echo "monerod not found: the monero run is left out (Debian package monero; make monero installs it)"; fi

test: $(STAMP) monero
	$(BIN)/python -m pytest

# monerod and monero-wallet-rpc are a Debian package, not a Python one: installed where this machine lets us
# (root with apt-get), else the monero tests skip (CI=true makes them fail instead).
monero:
	@if ! command -v monerod >/dev/null || ! command -v monero-wallet-rpc >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing the Debian package monero (monerod, monero-wallet-rpc)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq monero; \
	  else \
	    echo "monerod not found: install the Debian package monero (apt-get install monero)"; \
	  fi; \
	fi

# The architecture as checks: formatting and lint, types, and the layer contracts in pyproject.toml.
check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m bench.temporal_baseline
	$(BIN)/python -m bench.otto_lifecycles
	$(BIN)/python -m bench.ads_study

# docker-compose.yml for real (needs a Docker daemon): the stack up, a study and an otto fiber, then down.
compose-smoke:
	bash deploy/compose-smoke.sh

clean:
	rm -rf $(VENV) .simctl reports .pytest_cache .hypothesis
