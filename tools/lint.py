# SPDX-License-Identifier: Apache-2.0
"""`make lint`: NumPyro's own ruff configuration (tree/pyproject.toml, from the
sdist) over the files the series adds or changes, and over the fork's own Python
files (setup.py, conftest.py, tools/, examples/, benchmarks/)."""

import os
import subprocess
import sys

import fork

OURS = ["setup.py", "conftest.py", "tools", "examples", "benchmarks"]


def main():
    if not os.path.isdir(os.path.join(fork.TREE, ".git")):
        print("error: no tree/; run `make tree` first", file=sys.stderr)
        return 2
    changed = fork.git(
        fork.TREE,
        "diff",
        "--name-only",
        "--diff-filter=AM",
        fork.BASE_TAG,
        "--",
        "*.py",
    ).stdout.split()
    # our files one by one (not directories), so that the count printed is what
    # ruff checks; what git ignores (venvs, build copies) is no file of ours
    ours = fork.git(
        fork.ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "--", *OURS
    ).stdout.split()
    ours = [
        os.path.join(fork.ROOT, p)
        for p in ours
        if p.endswith(".py") and os.path.isfile(os.path.join(fork.ROOT, p))
    ]
    files = changed + [os.path.relpath(p, fork.TREE) for p in ours]
    # ruff resolves the per-file rules of upstream's configuration relative to the
    # directory it runs in, so it runs inside tree/
    ruff = [sys.executable, "-m", "ruff"]
    rc = 0
    for args in (["check"], ["format", "--check"]):
        cmd = ruff + args + ["--config", "pyproject.toml"] + files
        print("$ ruff " + " ".join(args) + " ({} files)".format(len(files)), flush=True)
        rc |= subprocess.call(cmd, cwd=fork.TREE)
    return rc


if __name__ == "__main__":
    sys.exit(main())
