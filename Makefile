# `make dev` serves the app on an embedded local AWS; `make test` passes every test.
# Both create the virtualenv and install what they need on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
SCAN_VENV := .venv-scan

.PHONY: dev test test-fast lint bench package deploy destroy destroy-data clean

$(INSTALLED): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# checkov, the template security scan, needs versions of its own.
$(SCAN_VENV)/.installed: requirements-scan.txt
	test -x $(SCAN_VENV)/bin/python || $(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-scan.txt
	touch $@

dev: $(INSTALLED)
	$(BIN)/python -m devstack.localstack

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every tier: unit, integration (the local stack), browser (Chromium).
test: lint $(SCAN_VENV)/.installed
	$(BIN)/pytest

# The unit tier alone: no server, a few seconds.
test-fast: $(INSTALLED)
	$(BIN)/pytest -m unit

# The deployable artifacts: chalice's SAM template merged with infra/, the app's zip (with the
# templates) and its dependency layer, both with bytecode; linted. See README.
STAGE ?= prod
package: $(INSTALLED)
	rm -rf out
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-$${AWS_REGION:-us-east-1}} \
		$(BIN)/chalice package --stage $(STAGE) --merge-template infra/resources.json out
	$(BIN)/python infra/precompile.py out/deployment.zip out/layer-deployment.zip
	$(BIN)/cfn-lint out/sam.json

# Deploy to your AWS account with boto3 (no AWS CLI); settings are asked once into .deploy/.
deploy: $(INSTALLED)
	$(BIN)/python -m deploy up

# Remove the stack, keeping the data; destroy-data deletes that too, after a typed confirmation.
destroy: $(INSTALLED)
	$(BIN)/python -m deploy down

destroy-data: $(INSTALLED)
	$(BIN)/python -m deploy delete-data

bench: $(INSTALLED)
	$(BIN)/python tests/bench.py

clean:
	rm -rf $(VENV) $(SCAN_VENV) .local build out
