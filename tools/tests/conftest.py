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


@pytest.fixture
def checkout(tmp_path):
    """A copy of the fork's build inputs, as a clean clone would have them."""
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
