# Parsl monorepo. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
PACKAGES := packages/parsl-core packages/parsl-executors packages/libsubmit packages/parsl-data packages/parsl-containers packages/parsl-monitoring
# every package with the extras its tests use
EDITABLE := -e packages/parsl-core -e 'packages/parsl-executors[ipp,mpi,htex]' -e 'packages/libsubmit[ssh,aws,google,azure,openstack]' -e 'packages/parsl-data[globus,test]' -e packages/parsl-containers -e packages/parsl-monitoring
PYTEST_ARGS ?=

.PHONY: help venv run test test-unit test-integration services services-stop lint types docs bench bench-check mutation build check-versions bump clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(VENV)/.core-stamp: packages/parsl-core/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: install python3-venv (apt-get install python3-venv)"; exit 1; }
	$(PIP) install -e packages/parsl-core
	@touch $@

$(VENV)/.stamp: $(VENV)/.core-stamp $(foreach p,$(PACKAGES),$(p)/pyproject.toml) requirements-dev.txt
	$(PIP) install $(EDITABLE) -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.stamp ## create .venv with every package (editable) and the dev tools

run: $(VENV)/.core-stamp ## set up parsl-core alone and run the tutorial workflow on local threads
	cd examples && ../$(PY) tutorial_workflow.py

services: ## install and start the real services integration tests use (root; loopback only)
	bash tests-integration/services/start-all.sh

services-stop: ## stop every integration service
	bash tests-integration/services/stop-all.sh

test: venv services ## set up everything and run all tests (unit and integration)
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: venv ## unit tests only
	$(PY) -m pytest packages $(PYTEST_ARGS)

test-integration: venv services ## integration tests only
	$(PY) -m pytest tests-integration $(PYTEST_ARGS)

lint: venv ## ruff
	$(VENV)/bin/ruff check conftest.py packages tests-integration bench examples scripts docs

types: venv ## mypy over every package
	$(VENV)/bin/mypy

docs: venv ## build the docs site (docs/_build/html) with warnings as errors; its code blocks run in the tests (docs/examples.py)
	$(PY) docs/notebook.py --check
	rm -rf docs/_build
	$(VENV)/bin/sphinx-build -q -W --keep-going -b html docs docs/_build/html

bench: venv ## run the benchmarks, print figures against baselines from the same run, write bench/RESULTS.md
	@command -v curl >/dev/null || apt-get install -y -qq curl || echo "bench: install curl for the staging row (apt-get install curl)"
	$(PY) bench/run.py --table bench/RESULTS.md $(BENCH_ARGS)

mutation: venv ## mutation testing of the core's decision modules (~25 min on 2 cores): make mutation MUTATION_ARGS="--only states"
	$(PY) scripts/mutation.py $(MUTATION_ARGS)

bench-check: venv ## the same, failing when a figure misses its target
	$(PY) bench/run.py --check --table bench/RESULTS.md $(BENCH_ARGS)

build: venv ## build every wheel with poetry-core and check their metadata
	rm -rf dist && mkdir -p dist
	for p in $(PACKAGES); do $(PIP) wheel --no-deps -w dist ./$$p || exit 1; done
	$(PY) scripts/check_wheels.py dist

check-versions: ## every sibling requirement is satisfied by the sibling in the checkout
	$(PYTHON) scripts/check_versions.py

bump: venv ## bump one package's version with poetry: make bump PKG=libsubmit PART=minor (then write its CHANGELOG entry)
	@test -n "$(PKG)" && test -d packages/$(PKG) || { echo "usage: make bump PKG=<one of: $(notdir $(PACKAGES))> PART=patch|minor|major"; exit 2; }
	@$(VENV)/bin/poetry --version >/dev/null 2>&1 || $(PIP) install poetry
	cd packages/$(PKG) && ../../$(VENV)/bin/poetry version $(or $(PART),patch)
	$(PY) scripts/check_versions.py || echo "siblings' version ranges no longer admit the new $(PKG) version: update them"
	@echo "now add a '## <new version>' entry to packages/$(PKG)/CHANGELOG.md"

clean: ## remove the venv, builds and run directories
	rm -rf $(VENV) dist runinfo examples/runinfo
