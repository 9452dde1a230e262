# SPDX-License-Identifier: Apache-2.0
import os
import shutil
import subprocess
import sys

import pytest

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TOOLS)

import fork  # noqa: E402

# what a clean checkout of the fork holds (everything else is materialized)
COMMITTED = [
    "fork.toml",
    "setup.py",
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "MANIFEST.in",
]


def committed_files():
    """The files of this checkout that git tracks (or would, for a new file)."""
    out = subprocess.run(
        [
            "git",
            "-C",
            fork.ROOT,
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return sorted(p for p in out if os.path.isfile(os.path.join(fork.ROOT, p)))


@pytest.fixture(scope="session")
def sdist():
    """The verified upstream sdist (downloaded once by `make tree`)."""
    return fork.upstream_sdist()


def series_upstream_tests():
    """(upstream's test/ directory of this checkout or None, whether a patch of the
    series changes one of upstream's tests)."""
    patches = os.path.join(fork.ROOT, "patches")
    touches = any(
        fork._is_upstream_test(p)
        for name in fork.read_series(patches)
        for p in fork.patch_paths(os.path.join(patches, name))
    )
    try:
        real = fork.upstream_tests_dir()
    except fork.ForkError:
        real = None
    return real, touches


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A copy of the fork's build inputs, as a clean clone would have them. Where
    the series changes upstream's tests, the copy finds the checkout's own
    upstream tests (a test may point elsewhere); without them it cannot rebuild
    and export the series, and the test is skipped."""
    real, touches = series_upstream_tests()
    if touches:
        if real is None:
            pytest.skip(
                "the series changes upstream's test/infer or test/contrib, which "
                "are not here (" + fork.UPSTREAM_TESTS_ENV + ")"
            )
        monkeypatch.setenv(fork.UPSTREAM_TESTS_ENV, real)
    dest = tmp_path / "fork"
    dest.mkdir()
    for name in COMMITTED:
        shutil.copy2(os.path.join(fork.ROOT, name), dest / name)
    for name in ["tools", "patches"]:
        shutil.copytree(
            os.path.join(fork.ROOT, name),
            dest / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
    return dest
