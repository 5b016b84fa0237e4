# The verbs people type. Every target installs what it needs into .venv (and .venv-tools/ for the
# tools whose pins clash with ours) on first use, so a fresh clone needs only python3.13 and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

# The Lambda runtime is python3.13; sam build needs that interpreter first on PATH.
PY313 ?= $(shell for p in "$$(pyenv prefix 3.13 2>/dev/null | head -n1)/bin/python3.13" "$$(command -v python3.13)"; do \
	[ -x "$$p" ] && "$$p" -V >/dev/null 2>&1 && { echo "$$p"; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .venv-tools
SAM := $(TOOLS)/sam/bin/sam
# checkov through scripts/run_checkov.py: the same checks, with JSONPath's parser built once (see there).
CHECKOV := $(TOOLS)/checkov/bin/python scripts/run_checkov.py
PARLIAMENT := $(TOOLS)/parliament/bin/python
TEMPLATES := template.yaml org/management.yaml org/member-role.yaml servicecatalog/portfolio.yaml
# The templates with SAM's transform, for `make validate`.
SAM_TEMPLATES := template.yaml org/management.yaml
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Python keeps our modules' bytecode in __pycache__/ (ignored by git). With PYTHONDONTWRITEBYTECODE set,
# every process compiles our sources again and pytest rewrites every test module again: each pytest
# worker, and each command the first-hour test runs, paid about 5 s for it.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help install lint cfn-lint validate checkov iam-analysis pytest test test-no-speedups test-newest-moto build bench demo org servicecatalog package clean lock asl

help: ## list the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements/dev.txt pyproject.toml
	@[ -n "$(PY313)" ] || { echo "python3.13 not found: install it (pyenv install 3.13) or pass PY313=/path/to/python3.13" >&2; exit 1; }
	@echo "First run: installing the Python dependencies into $(VENV)/ (about a minute; only once)."
	$(PY313) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements/dev.txt
	$(BIN)/pip install -q --no-deps -e .
	@touch $@

$(TOOLS)/%/.installed: requirements/%.txt
	@[ -n "$(PY313)" ] || { echo "python3.13 not found: install it (pyenv install 3.13) or pass PY313=/path/to/python3.13" >&2; exit 1; }
	@echo "First run: installing $* into $(TOOLS)/$*/ (under a minute; only once)."
	$(PY313) -m venv $(TOOLS)/$*
	$(TOOLS)/$*/bin/pip install -q -r requirements/$*.txt
	@touch $@

install: $(BIN)/.installed $(TOOLS)/sam/.installed $(TOOLS)/checkov/.installed $(TOOLS)/parliament/.installed ## create .venv and the tool venvs

lint: $(BIN)/.installed ## ruff (lint + format check) and mypy
	$(STATIC) $(BIN)/ruff check .
	$(STATIC) $(BIN)/ruff format --check .
	$(STATIC) $(BIN)/mypy

cfn-lint: $(BIN)/.installed ## cfn-lint every template, warnings included (it expands SAM's transform itself)
	$(STATIC) $(BIN)/cfn-lint $(TEMPLATES)

# `sam validate --lint` is this same cfn-lint (pinned to the same version in requirements/sam.txt), run through
# SAM CLI, which adds two seconds of its own start per template: make test lints with `make cfn-lint` only.
validate: $(TOOLS)/sam/.installed ## sam validate --lint (cfn-lint through SAM CLI) on the SAM templates
	$(foreach template,$(SAM_TEMPLATES),$(STATIC) $(SAM) validate --lint --template $(template) &&) true

checkov: $(TOOLS)/checkov/.installed ## checkov on every template: no failed checks allowed
	$(STATIC) $(CHECKOV) --config-file .checkov.yaml $(addprefix -f ,$(TEMPLATES))

iam-analysis: $(TOOLS)/parliament/.installed ## parliament on every IAM policy of every template; findings fixed or justified
	$(STATIC) $(PARLIAMENT) scripts/iam_analysis.py

# pytest-xdist: one worker per core; each test file stays on one worker, so a module's deployed local
# AWS is made once and its tests keep their order.
PYTEST_WORKERS ?= 2
pytest: $(BIN)/.installed $(TOOLS)/sam/.installed $(TOOLS)/checkov/.installed ## the test suite (the build test needs sam, the checkov runner's test checkov)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

# make test: pytest is the long pole, so the static checks run at a lower CPU priority (STATIC), in the
# time pytest's workers wait (on a poll, a command's process, the local server), instead of slowing it.
STATIC ?=
CHECKS := lint cfn-lint checkov iam-analysis pytest
test: install ## every check CI runs, side by side; each check's output is printed whole when it ends
	@$(MAKE) --no-print-directory --jobs=$(words $(CHECKS)) --output-sync=target --keep-going $(CHECKS) STATIC="nice -n 19"

build: $(TOOLS)/sam/.installed ## sam build into .aws-sam/build
	PATH="$(dir $(PY313)):$$PATH" $(SAM) build --template template.yaml

test-no-speedups: $(BIN)/.installed $(TOOLS)/sam/.installed $(TOOLS)/checkov/.installed ## the test suite with every speedup of the local AWS off: only slower
	LOCALAWS_SPEEDUPS=off $(MAKE) --no-print-directory pytest

test-newest-moto: $(TOOLS)/sam/.installed $(TOOLS)/checkov/.installed ## the test suite on the newest moto release, in a scratch venv (/tmp/expel-newest-moto)
	rm -rf /tmp/expel-newest-moto && $(PY313) -m venv /tmp/expel-newest-moto
	/tmp/expel-newest-moto/bin/pip install -q -r requirements/dev.txt && /tmp/expel-newest-moto/bin/pip install -q --no-deps -e .
	/tmp/expel-newest-moto/bin/pip install -q --upgrade --no-deps moto
	/tmp/expel-newest-moto/bin/pip show moto | sed -n 2p
	/tmp/expel-newest-moto/bin/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder -p no:cacheprovider

asl: $(BIN)/.installed ## write statemachine/onboarding.asl.json from its source, scripts/state_machine.py
	$(BIN)/python -m scripts.state_machine

bench: $(BIN)/.installed $(TOOLS)/sam/.installed ## calls and writes per mode, run times, import times, artifact sizes
	POWERTOOLS_LOG_LEVEL=WARNING POWERTOOLS_METRICS_DISABLED=true $(BIN)/python -W ignore -m scripts.bench

org: $(BIN)/.installed ## copy org/member-role.yaml into the StackSet of org/management.yaml
	$(BIN)/python scripts/org_template.py

servicecatalog: $(BIN)/.installed ## recompute the launch role's actions in servicecatalog/portfolio.yaml
	$(BIN)/python -m scripts.launch_role

package: ## BUCKET=<s3 bucket>: upload the code and the expanded product template for Service Catalog
	@[ -n "$(BUCKET)" ] || { echo "usage: make package BUCKET=<an S3 bucket in the deploy region>" >&2; exit 1; }
	$(MAKE) --no-print-directory build
	$(SAM) package --s3-bucket $(BUCKET) --s3-prefix expel-onboarding --output-template-file .aws-sam/packaged.yaml
	$(BIN)/python -m scripts.product_template .aws-sam/packaged.yaml .aws-sam/product.template.json $(AWS_DEFAULT_REGION)
	$(BIN)/python -m scripts.upload .aws-sam/product.template.json $(BUCKET) expel-onboarding/product-$$(git rev-parse --short HEAD).template.json

demo: $(BIN)/.installed $(TOOLS)/sam/.installed ## the whole onboarding on local emulated Control Tower landing zones 3.x and 4.0
	POWERTOOLS_LOG_LEVEL=WARNING POWERTOOLS_METRICS_DISABLED=true $(BIN)/python -m localaws demo

lock: $(BIN)/.installed ## re-pin requirements/dev.txt from requirements/dev.in
	$(PY313) -m venv /tmp/expel-lock && /tmp/expel-lock/bin/pip install -q -r requirements/dev.in
	{ sed -n '1,2p' requirements/dev.txt; /tmp/expel-lock/bin/pip freeze; } > requirements/dev.txt.new
	mv requirements/dev.txt.new requirements/dev.txt && rm -rf /tmp/expel-lock

clean: ## remove build output and the venvs
	rm -rf .aws-sam $(VENV) $(TOOLS) .mypy_cache .pytest_cache .ruff_cache .hypothesis
