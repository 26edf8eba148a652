# Everything installs from nothing: a Python venv with pinned packages, the pinned npm toolchain,
# and (for the browser test) Debian's chromium.
SHELL := /bin/bash
# Lambda runs Python 3.12: where pyenv has it, the venv uses it too (the same interpreter, the same
# bytecode as the runtime); elsewhere python3.
PYTHON ?= $(or $(lastword $(sort $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.12.*/bin/python3))),python3)
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
VENV := .venv
# The stamp names the interpreter's version: another version rebuilds the venv from nothing.
VENV_STAMP := $(VENV)/.installed-python$(PYTHON_VERSION)
PY := $(VENV)/bin/python
STAGE ?= dev
export SLS_TELEMETRY_DISABLED := 1
export SLS_NOTIFICATIONS_MODE := off

.PHONY: help install local test test-fast package deploy remove bench clean

help:
	@echo "make local    run the whole workflow on this machine (no AWS account needed)"
	@echo "make test     install everything and run every test"
	@echo "make deploy   npx serverless deploy --stage \$$STAGE (default dev)"
	@echo "make remove   npx serverless remove --stage \$$STAGE"

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

chromium:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser test"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

install: $(VENV_STAMP) node_modules/.installed .venv-checkov/.installed

local: $(VENV_STAMP)
	$(PY) -m local

test: $(VENV_STAMP) node_modules/.installed .venv-checkov/.installed chromium
	$(PY) -m pytest

package: node_modules/.installed
	npx serverless package --stage $(STAGE)

deploy: node_modules/.installed
	npx serverless deploy --stage $(STAGE)

remove: node_modules/.installed
	npx serverless remove --stage $(STAGE)

bench: $(VENV_STAMP) node_modules/.installed
	$(PY) -m bench

clean:
	rm -rf $(VENV) .venv-checkov node_modules .serverless .local test-artifacts
