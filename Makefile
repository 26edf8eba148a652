# Everything installs from nothing: a Python venv with pinned packages, the pinned npm toolchain,
# and (for the browser test) Debian's chromium.
SHELL := /bin/bash
# Lambda runs Python 3.12: where this machine has it (deploy/lambda_python.py finds it), the venv uses
# it too (the same interpreter, the same bytecode as the runtime); elsewhere python3.
PYTHON ?= $(or $(shell python3 deploy/lambda_python.py 3.12 2>/dev/null),python3)
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
VENV := .venv
# The stamp names the interpreter's version: another version rebuilds the venv from nothing.
VENV_STAMP := $(VENV)/.installed-python$(PYTHON_VERSION)
PY := $(VENV)/bin/python
STAGE ?= dev
REGION ?= us-east-1
export SLS_TELEMETRY_DISABLED := 1
export SLS_NOTIFICATIONS_MODE := off

.PHONY: help install local test package preflight preflight-remove deploy remove bench clean

help:
	@echo "make local    run the whole workflow on this machine (no AWS account needed)"
	@echo "make test     install everything and run every test"
	@echo "make package  npx serverless package --stage \$$STAGE: the CloudFormation template and zips, offline"
	@echo "make deploy   preflight, then npx serverless deploy --stage \$$STAGE --region \$$REGION (dev, us-east-1)"
	@echo "make remove   npx serverless remove --stage \$$STAGE --region \$$REGION"

$(VENV_STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv --clear $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# checkov pins its own dependency tree: it gets a virtualenv of its own.
.venv-checkov/.installed: requirements-checkov.txt
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The local console's one front-end dependency (the graph layout), pinned by its own lock file:
# apart from the deploy toolchain, so that `make local` installs it in about a second.
CONSOLE := local/console
$(CONSOLE)/node_modules/.installed: $(CONSOLE)/package.json $(CONSOLE)/package-lock.json
	npm ci --prefix $(CONSOLE) --no-audit --no-fund --loglevel=error
	touch $@

# The local IAM check's evaluator (@cloud-copilot/iam-simulate), pinned by its own lock file.
IAM := local/iam
$(IAM)/node_modules/.installed: $(IAM)/package.json $(IAM)/package-lock.json
	npm ci --prefix $(IAM) --no-audit --no-fund --loglevel=error
	touch $@

chromium:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser test"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

LOCAL_DEPENDENCIES := $(VENV_STAMP) node_modules/.installed $(CONSOLE)/node_modules/.installed $(IAM)/node_modules/.installed

install: $(LOCAL_DEPENDENCIES) .venv-checkov/.installed

# The deploy toolchain too: local mode checks every AWS call against the roles `serverless
# package` compiles (local/template.py).
local: $(LOCAL_DEPENDENCIES)
	$(PY) -m local

test: $(LOCAL_DEPENDENCIES) .venv-checkov/.installed chromium
	$(PY) -m pytest

package: node_modules/.installed
	npx serverless package --stage $(STAGE)

# The preflight needs only boto3: it answers in seconds, before the rest of the venv, npm and
# packaging (prerequisites run left to right). SKIP_PREFLIGHT=1 skips it.
$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

preflight: | $(VENV)/bin/python
	@[ "$$SKIP_PREFLIGHT" = 1 ] && echo "preflight skipped (SKIP_PREFLIGHT=1)" || { \
	  $(PY) -c 'import boto3' 2>/dev/null || $(VENV)/bin/pip install --quiet --disable-pip-version-check \
	    $$(grep -E '^(boto3|botocore)==' requirements-dev.txt); \
	  $(PY) -m deploy.preflight --stage $(STAGE) --region $(REGION) $(PREFLIGHT_ARGS); }

preflight-remove: PREFLIGHT_ARGS := --remove
preflight-remove: preflight

deploy: preflight node_modules/.installed
	npx serverless deploy --stage $(STAGE) --region $(REGION)

remove: preflight-remove node_modules/.installed
	npx serverless remove --stage $(STAGE) --region $(REGION)

bench: $(LOCAL_DEPENDENCIES)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .venv-checkov node_modules $(CONSOLE)/node_modules $(IAM)/node_modules .serverless .local test-artifacts
