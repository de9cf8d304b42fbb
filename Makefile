# flaskops.deploy: the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_INJECT_FACT_VARS := false

# Base images; pass a registry image instead where one can be pulled.
export FLASKOPS_IMAGE_BOOKWORM ?= flaskops/debian:bookworm
export FLASKOPS_IMAGE_TRIXIE ?= flaskops/debian:trixie
# The test bed's download cache (scripts/cache.sh): apt-cacher-ng on this machine
# and a wheelhouse shared by every test container. FLASKOPS_APT_PROXY=URL uses
# a cache of your own instead, FLASKOPS_APT_PROXY=none none.
export FLASKOPS_CACHE_DIR ?= /var/cache/flaskops-test
ALL_SCENARIOS := $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))
# Longest first, so that two at a time (MOLECULE_JOBS) finish close together.
LONGEST_FIRST := default cluster gunicorn acme release processes
SCENARIOS ?= $(filter $(ALL_SCENARIOS),$(LONGEST_FIRST)) $(filter-out $(LONGEST_FIRST),$(ALL_SCENARIOS))
# The lowest ansible-core the collection supports (requirements-lowest.txt) gets its own venv; `make lowest`
# runs ansible-lint, the unit tests and sanity on it, and these scenarios run on it (the others on .venv's core).
LOWEST_VENV := $(CURDIR)/.venv-lowest
export LOWEST_SCENARIOS ?= acme

.PHONY: help venv venv-lowest engine tools cache image-bookworm images demo demo-clean test lint unit sanity lowest \
	molecule clean docs changelog

help:
	@echo "make demo        deploy the example app to a local Debian 12 container, on http://127.0.0.1:8080"
	@echo "make demo-clean  remove the demo container"
	@echo "make test        lint, unit tests, sanity, the same on the lowest ansible-core, every Molecule scenario"
	@echo "make lint | unit | sanity | molecule [SCENARIOS=default] [MOLECULE_JOBS=2]"
	@echo "make lowest      ansible-lint, unit tests and sanity on the lowest supported ansible-core"
	@echo "make docs        rewrite the variable tables in roles/*/README.md from meta/argument_specs.yml"
	@echo "make changelog   render CHANGELOG.md from changelogs/ (fragments included, nothing released)"
	@echo "make bench       benchmark one local container (flaskops-bench): table in benchmarks/latest.md"

venv:
	@scripts/venv.sh

venv-lowest:
	@LOWEST=1 scripts/venv.sh

engine:
	@scripts/docker.sh

tools:
	@scripts/host_tools.sh

cache:
	@scripts/cache.sh

image-bookworm: engine
	@scripts/image.sh bookworm $(FLASKOPS_IMAGE_BOOKWORM)

images: image-bookworm
	@scripts/image.sh trixie $(FLASKOPS_IMAGE_TRIXIE)

demo: venv image-bookworm
	@scripts/demo.sh

demo-clean: engine
	@scripts/demo.sh --clean

# Two things at a time where they do not wait for each other: first whatever installs packages on this machine
# (apt and pip, one at a time); then the checks beside the debootstrap of the images; then the checks on the
# lowest core beside the scenarios (a job more for a few minutes, while the first two create and converge).
test: venv venv-lowest engine tools cache
	@$(MAKE) --no-print-directory -j2 --output-sync=target lint unit sanity images
	@$(MAKE) --no-print-directory -j2 lowest molecule

lint: venv tools
	yamllint --strict .
	ansible-lint --profile production
	ruff check .
	antsibull-changelog lint
	scripts/alert_rules.sh

unit: venv
	pytest tests/unit

# The roles' README variable tables come from meta/argument_specs.yml; tests/unit/test_docs.py fails on drift.
docs: venv
	python scripts/role_docs.py

# CHANGELOG.md from changelogs/ (fragments included, marked unreleased); see scripts/changelog.sh.
changelog: venv
	scripts/changelog.sh

# ansible-test sanity on the collection as it ships (see the script for why it runs on a copy).
sanity: venv
	scripts/sanity.sh

# The same checks on the lowest supported ansible-core (meta/runtime.yml); yamllint and ruff do not depend on it.
lowest: venv-lowest
	PATH=$(LOWEST_VENV)/bin:$$PATH ansible-lint --profile production
	PATH=$(LOWEST_VENV)/bin:$$PATH pytest -q tests/unit
	PATH=$(LOWEST_VENV)/bin:$$PATH scripts/sanity.sh

# Scenarios run MOLECULE_JOBS (default 2) at a time; each logs to .molecule-logs/.
molecule: venv $(if $(strip $(LOWEST_SCENARIOS)),venv-lowest) images tools cache
	@scripts/molecule.sh $(SCENARIOS)

clean: demo-clean
	rm -rf $(VENV) .venv-lowest .ansible .pytest_cache .ruff_cache

# One benchmark run on a local container; prints the table and writes benchmarks/.
.PHONY: bench
bench: venv engine tools
	@scripts/image.sh bookworm $(FLASKOPS_IMAGE_BOOKWORM)
	@scripts/bench.sh
