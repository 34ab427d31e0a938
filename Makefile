# Threadline developer commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION  ?= 0.13.8
CACHE_DIR   ?= $(HOME)/.cache/threadline
TOOLS       := $(CACHE_DIR)/tools
UV          := $(TOOLS)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
PY          := .venv/bin/python
SYNCED      := .venv/.synced

.PHONY: help venv lint fmt models infra infra-down up down demo test drills test-unit test-integration bench clean chart-tools images image-test cluster-test

help: ## list the commands
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV):
	@python3 -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# Bytecode compiled once here, as the images have it: every test, demo and bench process would
# otherwise compile its libraries again at each start where PYTHONDONTWRITEBYTECODE is set
# (the router's imports: 2.3 CPU seconds without, 1.1 with).
$(SYNCED): $(UV) uv.lock pyproject.toml $(wildcard */pyproject.toml */*/pyproject.toml)
	$(UV) sync --frozen --all-packages --compile-bytecode
	$(PY) -m compileall -q libs services sandboxes devstack tests > /dev/null
	@touch $@

venv: $(SYNCED) ## create .venv from the lock file (uv workspace)

# Each workspace member declares what it imports and imports what it declares (deptry reads the
# member's own pyproject.toml, [tool.deptry] there for its exceptions).
MEMBERS     := libs/common services/ingest services/router services/zendesk-sync services/reporter sandboxes devstack

lint: $(SYNCED) ## ruff, mypy and deptry
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy libs/common/src services/*/src sandboxes/src devstack/src
	$(foreach m,$(MEMBERS),(cd $(m) && $(CURDIR)/.venv/bin/deptry --no-ansi src) &&) true

fmt: $(SYNCED) ## format and autofix
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

models: $(SYNCED) ## regenerate the Python models from schemas/
	$(PY) -m threadline_devstack.codegen

infra: $(SYNCED) ## fetch (cached) and start real Kafka and Elasticsearch on 127.0.0.1, create the topics
	$(PY) -m threadline_devstack.infra up

infra-down: $(SYNCED) ## stop Kafka and Elasticsearch started by `make infra`
	$(PY) -m threadline_devstack.infra down

up: $(SYNCED) ## start the whole local stack (infra, Slack and Zendesk sandboxes, services) in the background
	$(PY) -m threadline_devstack.stack up

down: $(SYNCED) ## stop everything `make up` or `make infra` started
	$(PY) -m threadline_devstack.stack down

demo: $(SYNCED) ## start the stack, play scripted support conversations, show both sides, stop
	$(PY) -m threadline_devstack.demo

chart-tools: $(SYNCED) ## fetch (cached) the pinned helm, kubernetes-validate, checkov, hadolint and CRD validators
	$(PY) -m threadline_devstack.tools install

test: $(SYNCED) lint chart-tools ## lint, then the whole suite (unit + integration against real Kafka and Elasticsearch) but the fault drills
	$(PY) -m threadline_devstack.run_pytest -m "not images and not slow"

# The fault drills (marker `slow`: a broker restarted, Elasticsearch cut, SaaS errors, SIGKILL under
# load) take about as long as the rest of the suite together, so they run beside it in CI, not in it.
drills: $(SYNCED) ## the fault drills: broker restart, Elasticsearch outage, SaaS faults, SIGKILL, bad records (~6 min)
	$(PY) -m threadline_devstack.run_pytest -m "slow and not images"

test-unit: $(SYNCED) ## only the unit tests (no servers)
	$(PY) -m threadline_devstack.run_pytest -m unit

bench: $(SYNCED) ## benchmarks against side-by-side baselines; writes bench/results/latest.json
	$(PY) -m threadline_devstack.bench

images: $(SYNCED) ## build the four service images with podman (installed when missing) or Docker; prints their sizes
	$(PY) -m threadline_devstack.images build

image-test: images ## the images as containers: health, readiness and one conversation through all four
	$(PY) -m threadline_devstack.run_pytest -m images tests/images

cluster-test: $(SYNCED) chart-tools ## the chart on a local kube-apiserver with kwok nodes: install, upgrade, rollback, helm test (first build ~10-25 min, cached)
	$(PY) -m threadline_devstack.cluster

clean: ## remove the virtualenv and run state (not the download cache)
	rm -rf .venv .run .mypy_cache .ruff_cache .pytest_cache
