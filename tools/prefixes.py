# SPDX-License-Identifier: Apache-2.0
"""`make test-prefixes`: every prefix of the series builds and passes its tests.

A maintainer cherry-picks one patch at a time, so for k = 1..N the first k patches
of ``patches/series`` must

* build: ``pip wheel`` of this checkout with ``patches/series`` cut after patch k
  (the path users take: pinned sdist, the series' ``numpyro/`` hunks);
* pass the tests of their patches: every test file the first k patches add or
  change, as they stand after patch k, run against the library after patch k
  (one pytest session; ``--subset FILE=KEXPR`` narrows a slow upstream file, as
  in `make test`).

It also finds which earlier patches each patch needs in order to apply (a patch
that does not apply without another one depends on it) and checks that the
patch's message names them (by number, file-name slug or subject).

    python tools/prefixes.py [--jobs 2] [--from K] [--to K] [--new-only]
        [--no-tests] [--subset FILE=KEXPR ...] [--python PY]

Exit status 1 when a prefix does not build, a test fails or a dependency is not
declared; the table printed at the end says which.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import fork

# what a clean checkout holds that the build reads
BUILD_INPUTS = ["fork.toml", "setup.py", "pyproject.toml", "README.md", "LICENSE"]


def _log(msg):
    print(msg, flush=True)


# --------------------------------------------------------------------------- deps


def _apply(repo, paths, limits=()):
    """Reset ``repo`` to the base and ``git am`` the patch files (with ``limits``,
    e.g. ``--exclude=...``); True if all apply."""
    fork.git(repo, "am", "--abort", check=False)
    fork.git(repo, "reset", "-q", "--hard", fork.BASE_TAG)
    fork.git(repo, "clean", "-q", "-fdx")
    for path in paths:
        proc = fork.git(repo, "am", "-q", "--keep-cr", *limits, path, check=False)
        if proc.returncode != 0:
            fork.git(repo, "am", "--abort", check=False)
            return False
    return True


def dependencies(repo, names, patches_dir=fork.PATCHES, limits=()):
    """{patch: [earlier patches it does not apply without]}, directly needed.

    Patch k needs patch j < k when k does not apply on top of every earlier patch
    except j and those that (transitively) need j, and j is not already needed
    through another patch k needs."""
    paths = [os.path.join(patches_dir, n) for n in names]
    needs, closure = {}, {}
    for k, name in enumerate(names):
        needs[name] = []
        if not _apply(repo, paths[: k + 1], limits):
            raise fork.ForkError("the series does not apply up to " + name)
        if k and not _apply(repo, [paths[k]], limits):
            for j in range(k):
                keep = [
                    i for i in range(k) if i != j and names[j] not in closure[names[i]]
                ]
                if not _apply(repo, [paths[i] for i in keep] + [paths[k]], limits):
                    needs[name].append(names[j])
        # direct needs only: 0004 needs 0003 which needs 0001 -> 0004 needs 0003
        needs[name] = [
            j for j in needs[name] if not any(j in closure[d] for d in needs[name])
        ]
        closure[name] = set(needs[name])
        for dep in needs[name]:
            closure[name] |= closure[dep]
    return needs


def _message(path):
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n---\n", 1)[0]


def declared(message, dep, patches_dir=fork.PATCHES):
    """Does a patch message name ``dep`` (its number, slug or subject)?"""
    number = dep.split("-", 1)[0]
    subject = re.search(
        r"^Subject: (?:\[PATCH[^\]]*\] )?(.+)$",
        _message(os.path.join(patches_dir, dep)),
        re.M,
    )
    keys = [number, fork._patch_slug(dep)]
    if subject:
        keys.append(subject.group(1).strip())
    return any(
        re.search(r"(?<![0-9A-Za-z])" + re.escape(k) + r"(?![0-9A-Za-z])", message)
        for k in keys
    )


# --------------------------------------------------------------------------- build


def build_prefix(k, names, sdist, work):
    """``pip wheel`` of a checkout whose series stops after patch k."""
    src = os.path.join(work, "checkout")
    if os.path.isdir(src):
        shutil.rmtree(src)
    os.makedirs(src)
    for name in BUILD_INPUTS:
        shutil.copy2(os.path.join(fork.ROOT, name), os.path.join(src, name))
    shutil.copytree(
        os.path.join(fork.ROOT, "tools"),
        os.path.join(src, "tools"),
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "tests"),
    )
    os.makedirs(os.path.join(src, "patches"))
    for name in names[:k]:
        shutil.copy2(
            os.path.join(fork.PATCHES, name), os.path.join(src, "patches", name)
        )
    with open(os.path.join(src, "patches", "series"), "w") as f:
        f.write("".join(n + "\n" for n in names[:k]))
    out = os.path.join(work, "wheel")
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, NUMPYRO_FORK_SDIST=sdist, NUMPYRO_FORK_CACHE=work)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    cmd += ["-q", "--disable-pip-version-check", "-w", out, src]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wheels = os.listdir(out) if os.path.isdir(out) else []
    ok = proc.returncode == 0 and len(wheels) == 1
    return ok, (wheels[0] if ok else (proc.stdout + proc.stderr).strip()[-2000:])


# --------------------------------------------------------------------------- tests


def test_files(repo, rev, base=fork.BASE_TAG):
    """Test files added or changed between ``base`` and ``rev``."""
    out = fork.git(
        repo, "diff", "--name-only", "--diff-filter=AM", base, rev, "--", "test/"
    ).stdout.split()
    return [p for p in out if re.fullmatch(r"(.*/)?test_[^/]*\.py", p)]


def run_tests(python, repo, files, subsets, jobs, extra):
    """pytest over ``files`` in ``repo`` (its numpyro/ first on sys.path), the
    files of ``subsets`` narrowed by their -k expression (conftest.py's
    --subset). Returns (exit code, summary line)."""
    env = dict(os.environ, PYTHONPATH=repo)
    env.pop("PYTEST_ADDOPTS", None)
    where = subprocess.run(
        [python, "-c", "import numpyro; print(numpyro.__file__)"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not where.startswith(os.path.join(repo, "numpyro") + os.sep):
        raise fork.ForkError(
            "the tests would import numpyro from {}, not from {}".format(where, repo)
        )
    cmd = [python, "-m", "pytest", "-c", os.path.join(repo, "pyproject.toml")]
    cmd += ["--rootdir=" + repo, "--confcutdir=" + repo, "-p", "no:cacheprovider"]
    cmd += ["-q", "--color=no", "-rfE"]
    if jobs:
        cmd += ["-n", str(jobs), "--dist", "worksteal"]
    for f in files:
        if f in subsets:
            cmd += ["--subset", "{}={}".format(f, subsets[f])]
    _log("    $ pytest " + " ".join(files))
    proc = subprocess.run(
        cmd + files + extra, cwd=repo, env=env, capture_output=True, text=True
    )
    lines = [ln for ln in proc.stdout.strip().splitlines() if ln.strip()]
    summary = lines[-1].strip("= ") if lines else "(no output)"
    if proc.returncode not in (0, 5):
        for ln in [ln for ln in lines if ln.startswith(("FAILED", "ERROR"))][:20]:
            _log("      " + ln)
    _log("      " + summary)
    return proc.returncode, summary


# --------------------------------------------------------------------------- main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="pytest-xdist workers")
    parser.add_argument("--from", dest="first", type=int, default=1)
    parser.add_argument("--to", dest="last", type=int, default=None)
    parser.add_argument(
        "--new-only",
        action="store_true",
        help="at prefix k, only the test files patch k itself adds or changes",
    )
    parser.add_argument("--no-tests", action="store_true", help="build only")
    parser.add_argument(
        "--subset",
        action="append",
        default=[],
        metavar="FILE=KEXPR",
        help="run FILE with -k KEXPR (e.g. a slow upstream file a patch changes)",
    )
    parser.add_argument("--python", default=sys.executable, help="the test venv")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments")
    args = parser.parse_args(argv)
    subsets = dict(s.split("=", 1) for s in args.subset)
    try:
        names = fork.read_series()
        last = args.last or len(names)
        sdist = fork.upstream_sdist()
        tests = fork.upstream_tests_dir()
        rows, bad = [], 0
        with tempfile.TemporaryDirectory(prefix=".prefixes-", dir=fork.ROOT) as work:
            repo = os.path.join(work, "tree")
            fork._materialize(repo, tests=tests)
            if tests is None:
                _log(
                    "note: upstream's test/infer and test/contrib not found ({}); "
                    "the patches' hunks to them are left out".format(
                        fork.UPSTREAM_TESTS_ENV
                    )
                )
            commits = fork.git(
                repo, "rev-list", "--reverse", fork.BASE_TAG + "..HEAD"
            ).stdout.split()
            scratch = os.path.join(work, "scratch")
            shutil.copytree(repo, scratch, symlinks=True)
            needs = dependencies(scratch, names, limits=fork.test_excludes(tests))
            shutil.rmtree(scratch)
            shutil.copy2(os.path.join(fork.ROOT, "conftest.py"), repo)
            for k in range(args.first, last + 1):
                name = names[k - 1]
                start = time.monotonic()
                _log("prefix {} ({} patches, up to {})".format(k, k, name))
                ok, detail = build_prefix(k, names, sdist, work)
                _log("    build: " + ("ok, " + detail if ok else "FAILED\n" + detail))
                undeclared = [
                    d
                    for d in needs[name]
                    if not declared(_message(os.path.join(fork.PATCHES, name)), d)
                ]
                if needs[name]:
                    _log(
                        "    needs {} to apply{}".format(
                            ", ".join(needs[name]),
                            "; NOT named in its message: " + ", ".join(undeclared)
                            if undeclared
                            else " (named in its message)",
                        )
                    )
                result = None
                if not args.no_tests:
                    rev = commits[k - 1]
                    fork.git(repo, "checkout", "-q", "--detach", rev)
                    base = commits[k - 2] if args.new_only and k > 1 else fork.BASE_TAG
                    files = test_files(repo, rev, base)
                    if files:
                        result = run_tests(
                            args.python,
                            repo,
                            files,
                            subsets,
                            args.jobs,
                            args.pytest_args,
                        )
                failed = result is not None and result[0] not in (0, 5)
                bad += (not ok) + failed + len(undeclared)
                rows.append(
                    (
                        k,
                        name,
                        "ok" if ok else "FAILED",
                        result[1] if result else "-",
                        ", ".join(needs[name]) or "-",
                        ", ".join(undeclared) or "-",
                        time.monotonic() - start,
                    )
                )
        _log("\nprefix | last patch | build | tests | needs | not declared | s")
        for row in rows:
            _log("{} | {} | {} | {} | {} | {} | {:.0f}".format(*row))
        return 1 if bad else 0
    except fork.ForkError as e:
        print("error: {}".format(e), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
