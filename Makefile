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
# __dict__, which pickling sees. test_transforms.py is left to `make
# test-upstream`: no patch changes transforms.py (test_constraints.py covers
# 0002's constraints).
UPSTREAM_TESTS := \
	test/test_distributions_mixture.py \
	test/test_distributions_util.py \
	test/test_constraints.py \
	test/test_handlers.py \
	test/test_pickle.py
# test/test_distributions.py holds 15539 tests (about 45 minutes on 2 cores): `make
# test` runs those of the families the series changes (truncated, power laws,
# mixtures; pytest -k is case-insensitive), without the shape-combinatorics tests
# (test_expand, test_dist_shape, test_output_is_array, test_log_prob's prepended
# sample shapes but the first), without TruncatedGamma, a class the series leaves
# alone whose upstream tests take minutes each (its generic tests and its own
# test_*truncated_gamma* functions), and without test_sample_gradient of the
# truncated families (about a fifth of the subset's time; their pathwise gradient
# is the icdf's, which test_truncated_icdf.py checks against finite differences;
# 0006's un-skipped power-law cases stay). The audit of 0003
# (test/test_tracer_leaks.py) covers every other class under the transforms.
# test_cdf_and_icdf runs for the families whose cdf or icdf the series changes
# (DIST_CDF_FAMILIES: 0001's base families, 0006's power laws, 0007's new icdfs;
# substrings, so that the classes no patch changes whose names contain one are
# named to leave them out), but for the truncations and mixtures, whose cdf and
# icdf test_truncated_icdf.py, test_icdf.py and test_mixture_support.py check
# against mpmath, and with one parametrization fewer for Beta (params6, the
# scalar one: the batched ones stay), StudentT (params129 and 131: 130 stays) and
# Poisson (params209: 208 stays), whose icdf test_icdf.py and
# test_truncated_icdf.py check against SciPy and mpmath. The truncated-cdf tests
# of the Student's t base run for (-1, 1) only (0001's test_truncated_icdf.py
# covers its left, right and two-sided truncations).
# `make test-upstream-full` and `make test-upstream` run the whole file.
DIST_TESTS := test/test_distributions.py
DIST_CDF_FAMILIES := PowerLaw or StudentT or Cauchy \
	or Laplace or Logistic or Beta or Kumaraswamy or Weibull or VonMises \
	or Poisson or Binomial or Geometric or Bernoulli or Categorical \
	or DiscreteUniform or NegativeBinomial
DIST_SUBSET := ((Truncated or PowerLaw or Mixture) \
	and not test_expand and not test_dist_shape and not test_output_is_array \
	and not (test_sample_gradient and not PowerLaw) \
	and not (test_log_prob and (prepend_shape1 or prepend_shape2)) \
	and not (test_cdf_and_icdf and not PowerLaw) \
	and not (truncated_cdf and StudentT and not [-1.0-1.0-) \
	or test_cdf_and_icdf and ($(DIST_CDF_FAMILIES)) \
	and not (Truncated or Censored or Relaxed or SoftLaplace or Multivariate \
	or AsymmetricLaplace or HalfCauchy or GaussianCopulaBeta) \
	and not (params6] or params129] or params131] or params209])) \
	and not TruncatedGamma and not truncated_gamma
# test files the series adds or changes (computed from tree/); PATCH_TESTS
# without test_distributions.py, which runs narrowed (0006 changes it)
CHANGED_TESTS = $(shell git -C tree diff --name-only --diff-filter=AM upstream HEAD -- 'test/*.py' 2>/dev/null)
PATCH_TESTS = $(filter-out $(DIST_TESTS),$(CHANGED_TESTS))
# The slowest tests of the files `make test` runs, which it leaves to `make
# test-slow` (SLOW: file=-k expression, one per file; `make test` runs each file
# without them, `make test-slow` only them). What stays in `make test` checks the
# same code: a representative of each mechanism, the other dtype or shape.
#   nested sampling (0008): upstream's test_dense_mass (also in `make
#     test-upstream`), the evidence runs of the correlated Gaussian and of the
#     joint prior (the uniform box run of the subprocess test checks the
#     evidence against the exact value and dynesty's), the x64 run of that
#     test (x64 off, where jaxns would turn it on, stays), upstream's
#     test_log_normal with the (2, 3) shapes, the expand/to_event prior
#     transforms of all but Beta (plain stays for each);
#   0004: the NUTS runs with condition outside of reparam, and inside but for
#     CircularReparam and ExplicitReparam (test_latent_svi keeps every reparam);
#     upstream's test/infer/test_reparam.py smoke runs (Neal's funnel, the time
#     reparam under NUTS), test_circular's and test_loc_scale's batched shapes,
#     the time reparam with event_dim 2, test_reparam_log_joint of Neal's funnel
#     (test_loc_scale checks LocScaleReparam), two of the four
#     test_time_reparam_positive_support (one Haar, one DCT stay);
#   0007: the float32 q with x64 for three of the seven families, VonMises'
#     edge cases and flat-cdf test (its accuracy, cdf and gradient tests
#     stay), test_discrete_icdf_of_own_cdf of Binomial(1000), Poisson(250) and
#     NegativeBinomial2 (the other 15 families and parameters stay);
#   0001: the Student's t of the mpmath grid in float32 and with df = 1/2 and
#     100 (df = 3 in float64 stays; float32 Student's t is in
#     test_icdf_monotone_dense and the base log_cdf tests, large df in
#     test_studentt_large_df), Student's t of test_gradients far in the tail
#     (the central one stays), the one-sided float32 gradients (the two-sided
#     stay), test_log_prob_never_positive_infinite with x64 (float32 stays);
#   0003: the vectorized-chains MCMC audit (parallel chains and the issue 1836
#     repro stay); 0005: NUTS with named marginals and Predictive, SVI with
#     autoguides (NUTS against SciPy stays), test_vmap_over with named
#     marginals (unnamed stays); 0002: two NUTS runs (the mass spectrum stays);
#   upstream files the series does not change: test_mixture_same_batch_shape with
#     batch shapes (1,) and (7,), test_pickle_hmc_enumeration but NUTS, the tests
#     of test_distributions_util.py but lazy_property's (the only function of
#     util.py that existed and changes);
#   the machinery: the timed-out resume test with one xdist worker (without
#     xdist stays).
SLOW_NAMES := NESTED OBSERVED REPARAM TRUNCATED TRACER JOINT SUPPORT MIXTURE \
	PICKLE UTIL TOOLS ICDF
SLOW_FILE_NESTED := test/contrib/test_nested_sampling.py
SLOW_NESTED := test_dense_mass or test_evidence_and_posterior or keeps_x64 and True \
	or test_log_normal and 2 \
	or test_univariate_prior_transform and (expand or to_event) and not Beta
SLOW_FILE_OBSERVED := test/test_reparam_observed.py
SLOW_OBSERVED := test_latent_mcmc \
	and (outside or not (CircularReparam or ExplicitReparam))
SLOW_FILE_REPARAM := test/infer/test_reparam.py
SLOW_REPARAM := neals_funnel_smoke or time_reparam_nuts_smoke \
	or (test_circular or test_loc_scale and not invalid) and (4 or 3) \
	or test_time_reparam_event_dim_2 or test_reparam_log_joint and neals_funnel \
	or test_time_reparam_positive_support and (kwargs0 or kwargs3)
SLOW_FILE_TRUNCATED := test/test_truncated_icdf.py
SLOW_TRUNCATED := test_icdf_cdf_log_prob and StudentT \
	and (float32 or 0.5 and not 0.5001 or 100.0) \
	or test_gradients and params8 or test_log_prob_never_positive_infinite and True \
	or test_gradients_float32 and (12.0-None or None--20.0)
SLOW_FILE_TRACER := test/test_tracer_leaks.py
SLOW_TRACER := test_module_level_instances_in_vectorized_chains
SLOW_FILE_JOINT := test/test_joint_distribution.py
SLOW_JOINT := test_named_marginals_nuts_predictive \
	or test_named_marginals_svi_autoguides or test_vmap_over and True
SLOW_FILE_SUPPORT := test/test_mixture_support.py
SLOW_SUPPORT := test_nuts_support_of_parameter_dependent_bounds \
	or test_nuts_latent_mixture
SLOW_FILE_MIXTURE := test/test_distributions_mixture.py
SLOW_MIXTURE := test_mixture_same_batch_shape and (batch_shape1 or batch_shape2)
SLOW_FILE_PICKLE := test/test_pickle.py
SLOW_PICKLE := test_pickle_hmc_enumeration and not NUTS
SLOW_FILE_UTIL := test/test_distributions_util.py
SLOW_UTIL := not lazy_property
SLOW_FILE_ICDF := test/test_icdf.py
SLOW_ICDF := test_icdf_of_float32_q_with_x64 \
	and (NegativeBinomial2 or Poisson and not GammaPoisson or BetaBinomial) \
	or test_von_mises_edge_cases or test_von_mises_icdf_flat_cdf_and_inverse \
	or test_discrete_icdf_of_own_cdf and (1000 or 250 or NegativeBinomial2)
SLOW_FILE_TOOLS := tools/tests/test_upstream_tests.py
SLOW_TOOLS := test_timed_out_file_is_resumed and 1
SLOW_FILES := $(foreach n,$(SLOW_NAMES),$(SLOW_FILE_$(n)))
SUBSET := --subset "$(DIST_TESTS)=$(DIST_SUBSET)" \
	$(foreach n,$(SLOW_NAMES),--subset "$(SLOW_FILE_$(n))=not ($(SLOW_$(n)))")

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

# what `make test` leaves out of its files for time (SLOW_* above)
test-slow: venv
	$(PYTEST) -n $(JOBS) --dist worksteal -rs \
		$(foreach n,$(SLOW_NAMES),--subset "$(SLOW_FILE_$(n))=$(SLOW_$(n))") \
		$(SLOW_FILES) $(PYTEST_ARGS)

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
