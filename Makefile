# SPDX-License-Identifier: Apache-2.0
# The interface of the fork. See README.md (users) and CONTRIBUTING.md (developers).
#
#   make demo     .venv + the fork with its extras, then examples/tour.py
#   make test     .venv + the fork and test deps, then every test of the series
#   make tree     materialize tree/ (upstream sdist + patches/, one commit per patch)
#   make patches  export tree/ back to patches/
#   make status   fail when tree/ and patches/ disagree
#   make lint     NumPyro's own ruff configuration over the patched files and ours

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
FORK := python3 tools/fork.py
PYTEST_ARGS ?=
# pytest workers; CI machines have 2 cores
JOBS ?= 2

# upstream test files covering the modules the series touches
UPSTREAM_TESTS := \
	test/test_distributions.py \
	test/test_distributions_mixture.py \
	test/test_distributions_util.py \
	test/test_constraints.py \
	test/test_transforms.py \
	test/test_handlers.py
# test files the series adds or changes (computed from tree/)
PATCH_TESTS = $(shell git -C tree diff --name-only --diff-filter=AM upstream HEAD -- 'test/*.py' 2>/dev/null)

.PHONY: demo test test-fork test-series tree ensure-tree patches status lint venv bench clean

tree:
	@$(FORK) tree $(if $(FORCE),--force)

patches:
	@$(FORK) patches

status:
	@$(FORK) status

# The venv is rebuilt when the pinned requirements or the build change; the fork
# is installed in editable mode from tree/, so it follows `make tree`.
# tree/ for test/demo: materialized when absent, brought up to date when behind
# patches/, left alone (with a warning) when it holds work being edited
ensure-tree:
	@$(FORK) tree --keep

$(VENV)/.installed: requirements/constraints.txt setup.py pyproject.toml fork.toml patches/series $(wildcard patches/*.patch)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt pip setuptools
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -e ".[dev]"
	@touch $@

venv: ensure-tree $(VENV)/.installed

demo: venv
	cd examples && ../$(PY) tour.py

# upstream's pytest configuration (tree/pyproject.toml: warnings are errors)
PYTEST := $(PY) -m pytest -c tree/pyproject.toml --rootdir=. -q

test: venv
	$(PYTEST) -n $(JOBS) tools/tests $(PATCH_TESTS) $(UPSTREAM_TESTS) $(PYTEST_ARGS)

# only the fork machinery's own tests (fast)
test-fork: venv
	$(PYTEST) tools/tests $(PYTEST_ARGS)

# only the tests the series adds or changes
test-series: venv
	$(PYTEST) -n $(JOBS) $(PATCH_TESTS) $(PYTEST_ARGS)

lint: venv
	$(PY) tools/lint.py

bench: venv
	cd benchmarks && ../$(PY) run_all.py

clean:
	rm -rf .fork-build build dist *.egg-info
