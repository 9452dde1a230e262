# SPDX-License-Identifier: Apache-2.0
"""`make lint`: NumPyro's own ruff configuration (tree/pyproject.toml, from the
sdist) over the files the series adds or changes, and over the fork's own Python
files (setup.py, conftest.py, tools/, examples/, benchmarks/).

``--trailers`` (`make lint` passes it) also checks that every patch message ends
with the fork's per-patch metadata (CONTRIBUTING.md, "Patch metadata")."""

import argparse
import os
import re
import subprocess
import sys

import fork

OURS = ["setup.py", "conftest.py", "tools", "examples", "benchmarks"]


# the trailers every patch message ends with, and what each value must look like
ISSUE = r"[\w.-]+/[\w.-]+#\d+"
TRAILERS = {
    "Upstream-Issue": re.compile(r"(?:{0})(?:, {0})*|none".format(ISSUE)),
    "Upstream-PR": re.compile(r"(?:{0})(?:, {0})*|not yet forwarded".format(ISSUE)),
    "Upstream-Status": re.compile(r"\S.*"),
    "Depends-on": re.compile(r"\S.*"),
}


def patch_message(path):
    """(subject, body) of a ``git format-patch`` file."""
    with open(path, encoding="utf-8") as f:
        text = f.read().split("\n---\n", 1)[0]
    headers, _, body = text.partition("\n\n")
    m = re.search(r"^Subject: (?:\[PATCH[^\]]*\] )?(.+(?:\n .+)*)", headers, re.M)
    subject = re.sub(r"\n ", " ", m.group(1)).strip() if m else ""
    return subject, body


def trailers(body):
    """[(key, value)] of the message's trailer block (git interpret-trailers)."""
    proc = subprocess.run(
        ["git", "interpret-trailers", "--parse", "--no-divider"],
        input=body,
        capture_output=True,
        text=True,
        check=True,
    )
    out = []
    for line in proc.stdout.splitlines():
        key, _, value = line.partition(":")
        out.append((key.strip(), value.strip()))
    return out


def check_trailers(patches_dir=fork.PATCHES):
    """Problems with the patches' metadata trailers, one message each."""
    problems = []
    names = fork.read_series(patches_dir)
    subjects = {}
    for name in names:
        subject, body = patch_message(os.path.join(patches_dir, name))
        found = trailers(body)
        keys = [k for k, _ in found]
        for key, pattern in TRAILERS.items():
            values = [v for k, v in found if k.lower() == key.lower()]
            if not values:
                problems.append("{}: no {}: trailer".format(name, key))
            for value in values:
                if not pattern.fullmatch(value):
                    problems.append(
                        "{}: {}: {!r} is not of the form the fork uses".format(
                            name, key, value
                        )
                    )
        for value in [v for k, v in found if k.lower() == "depends-on"]:
            if value != "none" and value not in subjects.values():
                problems.append(
                    "{}: Depends-on: {!r} is not the subject of an earlier patch "
                    "(patches are named by subject, not number)".format(name, value)
                )
        if len(set(k.lower() for k in keys if k.lower() != "depends-on")) != len(
            [k for k in keys if k.lower() != "depends-on"]
        ):
            problems.append(
                "{}: a trailer other than Depends-on is repeated".format(name)
            )
        subjects[name] = subject
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--trailers", action="store_true", help="check the patches' metadata too"
    )
    args = parser.parse_args(argv)
    rc = 0
    if args.trailers:
        problems = check_trailers()
        n = len(fork.read_series())
        print("$ patch metadata trailers ({} patches)".format(n), flush=True)
        for p in problems:
            print(p)
        rc |= bool(problems)
    return rc | ruff()


def ruff():
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
