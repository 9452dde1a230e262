# SPDX-License-Identifier: Apache-2.0
# The interface of the fork. See README.md (users) and CONTRIBUTING.md (developers).
#
#   make demo     .venv + the fork with its extras, then examples/tour.py
#   make test     .venv + the fork and test deps, then every test of the series (CI)
#   make test-upstream   upstream's whole suite, pristine 0.22.0 and the fork side by side
#   make test-prefixes   every prefix of the series builds and passes its tests
#   make test-upstream-full, make audit   the slow upstream file whole, the full 0003 audit
#   make test-truncated-full, test-icdf-full, test-nested-full   slow grids of 0001, 0007, 0008
#   make tree     materialize tree/ (upstream sdist + patches/, one commit per patch)
#   make patches  export tree/ back to patches/
#   make status   fail when tree/ and patches/ disagree
#   make lint     NumPyro's own ruff configuration over the patched files and ours

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
FORK := $(PYTHON) tools/fork.py
PYTEST_ARGS ?=
# pytest workers; CI machines have 2 cores
JOBS ?= 2

# `make test` is what CI runs (.ci/run); it must stay under 30 minutes on 2 idle
# cores. It is one pytest session (workers steal each other's queued tests, so
# none idles while another has work) over:
#   tools/tests     the machinery;
#   PATCH_TESTS     every test file the series adds or changes, upstream's
#                   included (a patch that updates test/infer/test_reparam.py
#                   brings that file in);
#   UPSTREAM_TESTS  upstream test files of the modules the series touches, whole;
#   DIST_TESTS      narrowed to DIST_SUBSET (--subset, see conftest.py).
# Each run's log ends with the time spent per file (conftest.py) and the skip
# reasons (-rs). Everything else of upstream's suite runs in `make
# test-upstream` (side by side with 0.22.0), the full audit of 0003 in `make
# audit`, all of test_distributions.py in `make test-upstream-full`.
#
# test_pickle.py: 0003 changes what lazy_property leaves in a distribution's
# __dict__, which pickling sees (~75 CPU s).
UPSTREAM_TESTS := \
	test/test_distributions_mixture.py \
	test/test_distributions_util.py \
	test/test_constraints.py \
	test/test_transforms.py \
	test/test_handlers.py \
	test/test_pickle.py
# test/test_distributions.py holds 15539 tests (about 45 minutes on 2 cores): `make
# test` runs those of the families the series changes (truncated, power laws,
# mixtures; pytest -k is case-insensitive), without the shape-combinatorics tests
# (test_expand, test_dist_shape, test_output_is_array), without TruncatedGamma, a
# class the series leaves alone whose upstream tests take minutes each (its
# generic tests and its own test_*truncated_gamma* functions), and without
# test_sample_gradient of the truncated families (about a fifth of the subset's
# time; their pathwise gradient is the icdf's, which test_truncated_icdf.py checks
# against finite differences; 0006's un-skipped power-law cases stay). The audit
# of 0003 (test/test_tracer_leaks.py) covers every other class under the
# transforms. test_cdf_and_icdf runs for every family: 0001 changes the cdf and
# icdf of the truncation's base families, 0007 adds icdfs (and updates that test
# for discrete ones). `make test-upstream-full` and `make test-upstream` run the
# whole file.
DIST_TESTS := test/test_distributions.py
DIST_SUBSET := ((Truncated or PowerLaw or Mixture) \
	and not test_expand and not test_dist_shape and not test_output_is_array \
	and not (test_sample_gradient and not PowerLaw) \
	or test_cdf_and_icdf) \
	and not TruncatedGamma and not truncated_gamma
# test files the series adds or changes (computed from tree/); PATCH_TESTS
# without test_distributions.py, which runs narrowed (0006 changes it)
CHANGED_TESTS = $(shell git -C tree diff --name-only --diff-filter=AM upstream HEAD -- 'test/*.py' 2>/dev/null)
PATCH_TESTS = $(filter-out $(DIST_TESTS),$(CHANGED_TESTS))
# the slowest tests of the series' files, which `make test` leaves to `make
# test-slow`: upstream's test_dense_mass (also in `make test-upstream`) and the
# correlated Gaussian evidence check of 0008 (the joint prior's stays), the NUTS
# runs of 0004 with condition outside of reparam (inside stays), 0001's float32
# Student's t with df = 100 (float64 stays)
SLOW_NESTED := test_dense_mass or correlated_gaussian
SLOW_REPARAM := test_latent_mcmc and outside
SLOW_TRUNCATED := test_icdf_cdf_log_prob and StudentT and 100.0 and float32
SUBSET := --subset "$(DIST_TESTS)=$(DIST_SUBSET)" \
	--subset "test/contrib/test_nested_sampling.py=not ($(SLOW_NESTED))" \
	--subset "test/test_reparam_observed.py=not ($(SLOW_REPARAM))" \
	--subset "test/test_truncated_icdf.py=not ($(SLOW_TRUNCATED))"

.PHONY: rebase demo test test-slow test-upstream test-upstream-status test-prefixes test-upstream-full audit test-truncated-full test-icdf-full test-nested-full test-fork test-series tree ensure-tree patches status lint venv bench clean

tree:
	@$(FORK) tree $(if $(FORCE),--force)

patches:
	@$(FORK) patches

# move the series onto another upstream release (three-way merges; stops at a
# conflict with tree/ kept): make rebase VERSION=0.23.0 SHA256=<of its sdist>
# [SDIST=path/to/numpyro-0.23.0.tar.gz] [DRY_RUN=1: only say what applies]
rebase:
	@$(FORK) rebase --version "$(VERSION)" --sha256 "$(SHA256)" \
		$(if $(SDIST),--sdist "$(SDIST)") $(if $(DRY_RUN),--dry-run)

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
# and ./conftest.py (per-test seeding, as in NumPyro's repository)
PYTEST := $(PY) -m pytest -c tree/pyproject.toml --rootdir=. --confcutdir=. -q

test: venv
	$(PYTEST) -n $(JOBS) --dist worksteal -rs --durations=30 $(SUBSET) \
		$(sort tools/tests $(PATCH_TESTS) $(UPSTREAM_TESTS) $(DIST_TESTS)) $(PYTEST_ARGS)

# every upstream test of test/test_distributions.py (slow)
test-upstream-full: venv
	$(PYTEST) -n $(JOBS) $(DIST_TESTS) $(PYTEST_ARGS)

# what `make test` leaves out of the series' own files for time (SLOW_* above)
test-slow: venv
	$(PYTEST) -n $(JOBS) --dist worksteal -rs \
		--subset "test/contrib/test_nested_sampling.py=$(SLOW_NESTED)" \
		--subset "test/test_reparam_observed.py=$(SLOW_REPARAM)" \
		--subset "test/test_truncated_icdf.py=$(SLOW_TRUNCATED)" \
		test/contrib/test_nested_sampling.py test/test_reparam_observed.py \
		test/test_truncated_icdf.py $(PYTEST_ARGS)

# patch 0001's accuracy grid with every Student's t df (slow mpmath references)
test-truncated-full: venv
	NUMPYRO_FULL_GRID=1 $(PYTEST) -n $(JOBS) test/test_truncated_icdf.py $(PYTEST_ARGS)

# patch 0007's slow grids (a 400-pair Beta grid, the log incomplete beta)
test-icdf-full: venv
	NUMPYRO_ICDF_FULL=1 $(PYTEST) -n $(JOBS) test/test_icdf.py $(PYTEST_ARGS)

# patch 0008 with 3000 live points: log Z also within 0.1 of the exact value,
# evidence_uncert and the max_samples warning
test-nested-full: venv
	NUMPYRO_NESTED_FULL=1 $(PYTEST) -n $(JOBS) test/contrib/test_nested_sampling.py $(PYTEST_ARGS)

# the full tracer-leak audit of patch 0003: every class under every transform,
# including MCMC with parallel chains on two host devices
audit: venv
	NUMPYRO_FULL_AUDIT=1 $(PYTEST) -n $(JOBS) test/test_tracer_leaks.py $(PYTEST_ARGS)

# upstream's whole suite (the sdist's test/*.py, upstream's test/infer and
# test/contrib), pristine 0.22.0 and the fork in two venvs, one file at a time;
# writes benchmarks/UPSTREAM-TESTS.md. Hours on 2 cores; resumable (valid
# results are kept): FILES="test/infer test/test_pickle.py" runs a part,
# RERUN=1 runs again, TIMEOUT is per file, TEST_TIMEOUT per test (seconds).
FILES ?=
TIMEOUT ?= 3600
TEST_TIMEOUT ?= 900
UPSTREAM := $(PYTHON) tools/upstream_tests.py
UPSTREAM_CMD = make test-upstream$(if $(FILES), FILES='$(FILES)')$(if $(filter-out 2,$(JOBS)), JOBS=$(JOBS))
test-upstream: ensure-tree
	$(UPSTREAM) run --jobs $(JOBS) --timeout $(TIMEOUT) --test-timeout $(TEST_TIMEOUT) \
		$(if $(RERUN),--force) --command "$(UPSTREAM_CMD)" $(FILES)
	$(UPSTREAM) report --command "make test-upstream"

# every prefix of the series builds (pip wheel) and passes the tests of its
# patches, and each patch's message names the patches it needs to apply; slow,
# not part of `make test`. NEW_ONLY=1: at prefix k, only patch k's test files;
# PREFIXES="3 5": prefixes 3 to 5 only.
test-prefixes: venv
	$(PY) tools/prefixes.py --jobs $(JOBS) $(SUBSET) \
		$(if $(NEW_ONLY),--new-only) $(if $(PREFIXES),--from $(firstword $(PREFIXES)) --to $(lastword $(PREFIXES))) \
		-- $(PYTEST_ARGS)

# which upstream test files have valid results on each side
test-upstream-status: ensure-tree
	@$(UPSTREAM) status $(FILES)

# only the fork machinery's own tests (fast)
test-fork: venv
	$(PYTEST) tools/tests $(PYTEST_ARGS)

# only the tests the series adds or changes (test_distributions.py narrowed)
test-series: venv
	$(PYTEST) -n $(JOBS) --dist worksteal $(SUBSET) $(CHANGED_TESTS) $(PYTEST_ARGS)

# ruff, and each patch's metadata trailers (CONTRIBUTING.md)
lint: venv
	$(PY) tools/lint.py --trailers

bench: venv
	cd benchmarks && ../$(PY) run_all.py

clean:
	rm -rf .fork-build build dist *.egg-info
