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

test: $(STAMP)
	$(BIN)/python -m pytest

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
