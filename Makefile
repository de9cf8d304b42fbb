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

.PHONY: help venv engine tools cache image-bookworm images demo demo-clean test lint unit sanity molecule clean docs changelog

help:
	@echo "make demo        deploy the example app to a local Debian 12 container, on http://127.0.0.1:8080"
	@echo "make demo-clean  remove the demo container"
	@echo "make test        lint, unit tests and every Molecule scenario ($(SCENARIOS))"
	@echo "make lint | unit | sanity | molecule [SCENARIOS=default] [MOLECULE_JOBS=2]"
	@echo "make docs        rewrite the variable tables in roles/*/README.md from meta/argument_specs.yml"
	@echo "make changelog   render CHANGELOG.md from changelogs/ (fragments included, nothing released)"
	@echo "make bench       benchmark one local container (flaskops-bench): table in benchmarks/latest.md"

venv:
	@scripts/venv.sh

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

test: lint unit sanity molecule

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

# Scenarios run MOLECULE_JOBS (default 2) at a time; each logs to .molecule-logs/.
molecule: venv images tools cache
	@scripts/molecule.sh $(SCENARIOS)

clean: demo-clean
	rm -rf $(VENV) .ansible .pytest_cache .ruff_cache

# One benchmark run on a local container; prints the table and writes benchmarks/.
.PHONY: bench
bench: venv engine tools
	@scripts/image.sh bookworm $(FLASKOPS_IMAGE_BOOKWORM)
	@scripts/bench.sh
