# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# `make demo` ends with `vc verify` (report in build/verification/).
# Each creates .venv, installs the package with its dev extras and runs `npm ci`;
# `make test` also creates .venv-slither (Slither, apart: it needs web3<8); stamp files make the
# second run instant.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY_STAMP  := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
SLITHER_VENV  := .venv-slither
SLITHER_STAMP := $(SLITHER_VENV)/.installed

.PHONY: demo test bench setup slither clean

demo: setup
	$(BIN)/vc demo
	# --allow-unvalidated: the contracts without a translation-validation specification yet
	# (all but Commune) are listed as not validated; the report says how many and that it is incomplete.
	$(BIN)/vc verify --allow-unvalidated --out build/verification

test: setup $(SLITHER_STAMP)
	$(BIN)/python -m pytest -q -n 2

# Slither's report on contracts/ (mocks excluded) and the verdict of the slither-triage.toml gate.
slither: setup $(SLITHER_STAMP)
	$(BIN)/python tools/slither/gate.py

# Gas against the EVM floor and population, throughput per chain: bench-results/ (about 4 minutes).
bench: setup
	$(BIN)/python scripts/bench.py --out bench-results

setup: $(PY_STAMP) $(NPM_STAMP)

$(PY_STAMP): pyproject.toml constraints.txt verification/bytecode/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r verification/bytecode/requirements.txt
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(SLITHER_STAMP): tools/slither/requirements.txt
	$(PYTHON) -m venv $(SLITHER_VENV)
	$(SLITHER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tools/slither/requirements.txt
	touch $@

clean:
	rm -rf $(VENV) $(SLITHER_VENV) node_modules build .pytest_cache .hypothesis
