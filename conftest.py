# SPDX-License-Identifier: Apache-2.0
"""pytest setup of the fork's test runs (``make test``).

NumPyro's sdist ships ``test/`` without the ``conftest.py`` of its repository,
which seeds NumPy's global random state before every test. Many upstream tests
draw their inputs from ``np.random`` unseeded, so without it their inputs depend
on which tests ran earlier in the same pytest-xdist worker, and tolerance checks
fail at random. This file restores the same per-test setup, so that a run of
the series is reproducible whatever the number of workers.

It also empties JAX's compilation caches every ``CLEAR_CACHES_EVERY`` tests: a
worker running a thousand tests of test_distributions.py otherwise grows past 5 GB
(every test compiles new programs and none is freed), enough to get a worker of a
small CI machine killed.

``--subset FILE=KEXPR`` (repeatable) runs only the tests of FILE that ``-k KEXPR``
selects, and the other files whole, in one pytest session: `make test` runs a
part of an upstream file that is too slow for CI whole beside everything else,
so that its workers stay busy to the end.

At the end of a run it prints the time spent per test file (setup, call and
teardown summed over the tests, in whichever worker ran them): what `make test`
costs file by file, in every CI log, for keeping it within CI's time.
"""

import collections
import gc
import os

import numpy as np
import pytest

CLEAR_CACHES_EVERY = 50
_tests_run = 0
_file_seconds = collections.Counter()
_file_tests = collections.Counter()


def pytest_addoption(parser):
    parser.addoption(
        "--subset",
        action="append",
        default=[],
        metavar="FILE=KEXPR",
        help="of FILE, run only the tests that -k KEXPR selects (repeatable)",
    )


def pytest_collection_modifyitems(config, items):
    rules = []
    for spec in config.getoption("subset"):
        path, sep, expr = spec.partition("=")
        if not sep or not expr.strip():
            raise pytest.UsageError("--subset wants FILE=KEXPR, got {!r}".format(spec))
        # pytest's own -k matching (pytest is pinned in requirements/constraints.txt)
        from _pytest.mark import KeywordMatcher
        from _pytest.mark.expression import Expression

        rules.append((os.path.normpath(path), Expression.compile(expr), KeywordMatcher))
    if not rules:
        return
    keep, drop = [], []
    for item in items:
        path = os.path.normpath(item.nodeid.split("::", 1)[0])
        if any(path == p and not e.evaluate(m.from_item(item)) for p, e, m in rules):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_runtest_setup(item):
    if "JAX_ENABLE_X64" in os.environ:
        import jax

        jax.config.update("jax_enable_x64", True)
    np.random.seed(0)


def pytest_runtest_teardown(item, nextitem):
    global _tests_run
    _tests_run += 1
    if _tests_run % CLEAR_CACHES_EVERY == 0:
        import jax

        jax.clear_caches()
        gc.collect()


def pytest_runtest_logreport(report):
    # on the controller under pytest-xdist: every worker's reports arrive here
    path = report.nodeid.split("::", 1)[0]
    _file_seconds[path] += report.duration
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _file_tests[path] += 1


def pytest_terminal_summary(terminalreporter):
    if not _file_seconds:
        return
    total = sum(_file_seconds.values())
    tr = terminalreporter
    tr.section("time per test file (summed over workers)")
    for path, seconds in _file_seconds.most_common():
        tr.write_line(
            "{:8.1f}s {:5.1f}% {:6d} tests  {}".format(
                seconds, 100 * seconds / total, _file_tests[path], path
            )
        )
    tr.write_line("{:8.1f}s total".format(total))
