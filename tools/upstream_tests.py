# SPDX-License-Identifier: Apache-2.0
"""`make test-upstream`: upstream's whole test suite on pristine 0.22.0 and on the fork.

Every upstream test file (the sdist's ``test/*.py`` and upstream's ``test/infer``,
``test/contrib`` in the base commit of tree/) runs twice, one file at a time:

* pristine: NumPyro 0.22.0 installed from the verified sdist in its own venv,
  running the tests of the base commit (tag ``upstream`` of tree/);
* fork: the fork installed (editable, tree/) in a second venv, running the tests
  of tree/ (a patch may update an upstream test, as its pull request would).

Both venvs hold the same packages at the same versions (the pristine one is
installed from ``pip freeze`` of the fork one), with what upstream's tests import
(the ``[upstream]`` extra). Each file runs under a per-file timeout (and a per-test
one, pytest-timeout), its outcomes streamed to disk test by test, so a file that
hangs or crashes costs only itself. Results are kept per file and side in
``.test-upstream/results`` with a key of what they ran on (the packages and, for
the fork, tree/ but the series' own test files, which this suite never runs): a
new run skips what is still valid (FILES= splits the work), ``--force`` runs
again. A file that timed out or was stopped (SIGTERM or Ctrl-C to this runner, which ends pytest and its
workers) is resumed by the next run, also in another checkout (from its result
archived in benchmarks/upstream-results): its tests with an outcome are not run
again, so test_distributions.py (hours) can be done in several runs.

    python tools/upstream_tests.py venvs
    python tools/upstream_tests.py run [--sides pristine,fork] [--jobs 2]
        [--timeout 3600] [--test-timeout 900] [--force] [FILE or DIR ...]
    python tools/upstream_tests.py status [FILE or DIR ...]
    python tools/upstream_tests.py report [--out benchmarks/UPSTREAM-TESTS.md]
"""

import argparse
import collections
import datetime
import gzip
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time

import fork

WORK = os.path.join(fork.ROOT, ".test-upstream")
RESULTS = os.path.join(WORK, "results")
LOGS = os.path.join(WORK, "logs")
# results, committed: a new checkout (a later session, another machine) with the
# same packages keeps them instead of running for hours again, and resumes a run
# that was stopped. A result counts only where its key is the current one, so an
# outdated file does no harm.
ARCHIVE = os.path.join(fork.ROOT, "benchmarks", "upstream-results")
PRISTINE_SRC = os.path.join(WORK, "pristine-src")
VENVS = {
    "fork": os.path.join(WORK, "venv-fork"),
    "pristine": os.path.join(WORK, "venv-pristine"),
}
SIDES = ("pristine", "fork")
CONSTRAINTS = os.path.join(fork.ROOT, "requirements", "constraints.txt")
REPORT = os.path.join(fork.ROOT, "benchmarks", "UPSTREAM-TESTS.md")
# the report keeps what is written below this line in the existing file
NOTES_MARK = "<!-- notes below are kept by `tools/upstream_tests.py report` -->"
# what the fork venv is built from: a change to one of these rebuilds both venvs
VENV_INPUTS = (
    "requirements/constraints.txt",
    "setup.py",
    "pyproject.toml",
    "fork.toml",
)
# statuses of a file's result that the next run resumes
RESUMABLE = ("timeout", "interrupted")
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


def _log(msg):
    print(msg, flush=True)


def _run(cmd, **kw):
    _log("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True, **kw)


def _digest(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()


def _py(side):
    return os.path.join(VENVS[side], "bin", "python")


# --------------------------------------------------------------------------- venvs


def _venv_inputs_digest():
    data = []
    for rel in VENV_INPUTS:
        with open(os.path.join(fork.ROOT, rel), "rb") as f:
            data.append(f.read())
    return _digest(*data)


def _stamp(side, name=".installed"):
    path = os.path.join(VENVS[side], name)
    if os.path.isfile(path):
        with open(path) as f:
            return f.read().strip()
    return None


def _write_stamp(side, value):
    with open(os.path.join(VENVS[side], ".installed"), "w") as f:
        f.write(value + "\n")


def _new_venv(side):
    if os.path.isdir(VENVS[side]):
        shutil.rmtree(VENVS[side])
    _run([sys.executable, "-m", "venv", VENVS[side]])
    pip = [_py(side), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    _run(pip + ["-c", CONSTRAINTS, "pip", "setuptools"])
    return pip


def ensure_venvs():
    """Both venvs, same packages; rebuilt when their inputs changed."""
    os.makedirs(WORK, exist_ok=True)
    want = _venv_inputs_digest()
    if _stamp("fork") != want:
        # brought up to date in place (a new venv only when there is none): the
        # pristine venv then copies whatever it holds
        if os.path.isfile(_py("fork")):
            pip = [_py("fork"), "-m", "pip", "install", "-q"]
            pip += ["--disable-pip-version-check"]
        else:
            pip = _new_venv("fork")
        _run(pip + ["-c", CONSTRAINTS, "-e", ".[dev,upstream]"], cwd=fork.ROOT)
        _write_stamp("fork", want)
    frozen = subprocess.run(
        [_py("fork"), "-m", "pip", "freeze", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    frozen = "".join(
        line + "\n"
        for line in frozen.splitlines()
        if line.strip() and not line.lower().startswith("numpyro")
    )
    sdist = fork.upstream_sdist()
    want_pristine = _digest(frozen, fork.config()["sdist_sha256"])
    if _stamp("pristine") != want_pristine:
        pip = _new_venv("pristine")
        req = os.path.join(VENVS["pristine"], "frozen-from-fork.txt")
        with open(req, "w") as f:
            f.write(frozen)
        _run(pip + ["--no-deps", "-r", req])
        _run(pip + ["--no-deps", "--no-build-isolation", sdist])
        _write_stamp("pristine", want_pristine)
    # what the results depend on: the packages installed, not how they were chosen
    with open(os.path.join(VENVS["fork"], ".packages"), "w") as f:
        f.write(_digest(frozen) + "\n")
    with open(os.path.join(VENVS["pristine"], ".packages"), "w") as f:
        f.write(_digest(frozen, fork.config()["sdist_sha256"]) + "\n")
    for side in SIDES:
        _log("{}: {}".format(side, " ".join(_numpyro_of(side))))


def _numpyro_of(side):
    """(version, path) of the numpyro that a side's tests import."""
    cwd = fork.ROOT if side == "fork" else PRISTINE_SRC
    if not os.path.isdir(cwd):
        cwd = WORK
    out = subprocess.run(
        [
            _py(side),
            "-c",
            "import numpyro; print(numpyro.__version__); print(numpyro.__file__)",
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        return ("?", out.stderr.strip().splitlines()[-1] if out.stderr else "?")
    return tuple(out.stdout.split("\n")[:2])


# --------------------------------------------------------------------------- sources


def _tree_git(*args):
    return fork.git(fork.TREE, *args).stdout


def upstream_files():
    """Upstream's test files: those of the base commit of tree/."""
    names = _tree_git("ls-tree", "-r", "--name-only", fork.BASE_TAG, "test/").split()
    return sorted(n for n in names if _is_test_file(n))


def _is_test_file(name):
    return re.fullmatch(r"(.*/)?test_[^/]*\.py", name) is not None


def select(args):
    """FILE or DIR arguments -> upstream test files (all when none)."""
    files = upstream_files()
    if not args:
        return files
    out = []
    for a in args:
        a = a.rstrip("/")
        hit = [f for f in files if f == a or f.startswith(a + "/")]
        if not hit:
            raise fork.ForkError(
                "{} is no upstream test file or directory (see `{} status`)".format(
                    a, os.path.relpath(__file__, fork.ROOT)
                )
            )
        out += [f for f in hit if f not in out]
    return out


def ensure_pristine_src():
    """The tests of the base commit (pristine sdist + upstream's test/infer,
    test/contrib) and our conftest.py, outside tree/ and without numpyro/."""
    base = _tree_git("rev-parse", fork.BASE_TAG).strip()
    with open(os.path.join(fork.ROOT, "conftest.py"), "rb") as f:
        conftest = f.read()
    key = _digest(base, conftest)
    marker = os.path.join(PRISTINE_SRC, ".source")
    if os.path.isfile(marker) and open(marker).read().strip() == key:
        return
    if os.path.isdir(PRISTINE_SRC):
        shutil.rmtree(PRISTINE_SRC)
    os.makedirs(PRISTINE_SRC)
    archive = os.path.join(WORK, "pristine-src.tar")
    fork.git(fork.TREE, "archive", "-o", archive, base, "test", "pyproject.toml")
    with tarfile.open(archive) as tar:
        tar.extractall(PRISTINE_SRC, filter="data")
    os.remove(archive)
    with open(os.path.join(PRISTINE_SRC, "conftest.py"), "wb") as f:
        f.write(conftest)
    with open(marker, "w") as f:
        f.write(key + "\n")


def _series_tests(rev):
    """The test files that the series adds: upstream's suite never runs them."""
    upstream = set(upstream_files())
    names = _tree_git("ls-tree", "-r", "-z", "--name-only", rev, "test/").split("\0")
    return [n for n in names if _is_test_file(n) and n not in upstream]


def fork_source_key(rev="HEAD"):
    """The fork's sources at ``rev`` of tree/ (for HEAD with the work tree's
    changes and new files), all but the series' own test files: a change to a
    patch's tests keeps the results, a change to numpyro/ or to an upstream test
    does not."""
    own = set(_series_tests(rev))
    listing = _tree_git("ls-tree", "-r", "-z", rev).split("\0")
    kept = [e for e in listing if e and e.split("\t", 1)[1] not in own]
    dirty = []
    if rev == "HEAD":
        spec = [":(exclude){}".format(n) for n in sorted(own)]
        diff = _tree_git("diff", "HEAD", "--binary", "--", ".", *spec)
        dirty += [diff] if diff else []
        new = _tree_git("ls-files", "-z", "--others", "--exclude-standard")
        for name in sorted(new.split("\0")):
            if name and not (_is_test_file(name) and name.startswith("test/")):
                with open(os.path.join(fork.TREE, name), "rb") as f:
                    dirty += [name, f.read()]
    return _digest("\n".join(kept), *dirty)


def side_key(side):
    """What a side's results depend on, besides the test file itself."""
    if side == "pristine":
        base = _tree_git("rev-parse", fork.BASE_TAG).strip()
        return _digest(side, base, _stamp(side, ".packages"))
    return _digest(side, fork_source_key(), _stamp(side, ".packages"))


# --------------------------------------------------------------------------- run


def _flat(path):
    """A test file's path as one file name (its results and logs)."""
    return path.replace("/", "__")


def _result_path(side, path):
    return os.path.join(RESULTS, side, _flat(path) + ".json")


def _log_stem(side, path):
    """Where a run of ``path`` on ``side`` keeps its log and its outcomes so far."""
    return os.path.join(LOGS, side, _flat(path))


def _archive_path(side, path):
    return os.path.join(ARCHIVE, side, _flat(path) + ".json.gz")


def load_result(side, path):
    """The newest result of ``path`` on ``side``: this checkout's own, or the
    committed one (``ARCHIVE``)."""
    found = []
    for name, opener in (
        (_result_path(side, path), open),
        (_archive_path(side, path), gzip.open),
    ):
        try:
            with opener(name, "rt") as f:
                found.append(json.load(f))
        except (OSError, ValueError, EOFError):
            pass
    return max(found, key=lambda r: r.get("finished", ""), default=None)


def archive_result(side, path, result):
    """Keep a result in ``ARCHIVE`` (byte-identical for the same result, so that
    rewriting it changes nothing in git), also that of a run that timed out or
    was stopped: a later checkout resumes it (see ``resume_records``)."""
    name = _archive_path(side, path)
    os.makedirs(os.path.dirname(name), exist_ok=True)
    data = json.dumps(result, indent=0, sort_keys=True).encode()
    with open(name, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
            f.write(data)


def combine(records):
    """Phase records of one file -> {test id: (outcome, message)}."""
    tests = {}
    for r in records:
        tid, when, outcome = r["id"], r["when"], r["outcome"]
        prev = tests.get(tid)
        if when == "collect":
            tests[tid] = ("error", r.get("message", ""))
        elif outcome == "failed":
            if when == "call":
                new = ("xpassed" if r.get("xfail") else "failed", r.get("message", ""))
            else:
                new = ("error", "{}: {}".format(when, r.get("message", "")))
            if prev is None or prev[0] not in ("failed", "error"):
                tests[tid] = new
        elif outcome == "skipped":
            if prev is None:
                kind = "xfailed" if r.get("xfail") else "skipped"
                tests[tid] = (kind, r.get("message", ""))
        elif when == "call" and prev is None:
            tests[tid] = ("xpassed" if r.get("xfail") else "passed", "")
    return tests


def resume_records(result):
    """Phase records whose ``combine`` is the outcomes of ``result``: what a
    resumed run starts from where the run it resumes left no records (another
    checkout, which has only its archived result). Collection errors are left
    out: they are collected again."""
    records = []
    durations = result.get("durations", {})
    for tid, (outcome, message) in sorted(result["tests"].items()):
        if "::" not in tid:
            continue
        r = {"id": tid, "when": "call", "outcome": outcome}
        if outcome == "passed":
            r["seconds"] = durations.get(tid, 0.0)
        elif outcome == "failed":
            r["message"] = message
        elif outcome == "error":
            when, _, text = message.partition(": ")
            r.update(when=when, outcome="failed", message=text)
        elif outcome == "skipped":
            r.update(when="setup", message=message)
        elif outcome == "xfailed":
            r.update(outcome="skipped", xfail=True, message=message)
        elif outcome == "xpassed":
            r.update(outcome="failed" if message else "passed", xfail=True)
            if message:
                r["message"] = message
        records.append(r)
    return records


class Interrupted(Exception):
    """The runner was asked to stop (SIGTERM or Ctrl-C)."""


def _stop(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def _end(proc):
    """End a pytest run's whole process group (pytest and its xdist workers)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(30)  # reaps pytest and sets its returncode
            break
        except subprocess.TimeoutExpired:
            pass
    try:  # workers that outlived their controller
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _wait(proc, timeout):
    """(exit code or None on timeout, CPU seconds of the run and its workers).
    On timeout the whole process group (pytest and its xdist workers) is ended;
    on ``Interrupted`` too, before it is raised again."""
    deadline = time.monotonic() + timeout
    sig = None
    try:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                cpu = round(usage.ru_utime + usage.ru_stime, 1)
                return (None if sig else proc.returncode), cpu
            if time.monotonic() > deadline and sig != signal.SIGKILL:
                sig = signal.SIGKILL if sig else signal.SIGTERM
                deadline = time.monotonic() + 30
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)
    except (Interrupted, KeyboardInterrupt):
        _end(proc)
        raise


def _read_records(path):
    records = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                try:
                    records.append(json.loads(line))
                except ValueError:
                    pass  # a line cut by a kill
    return records


def run_pytest(
    python, cwd, cfg, path, jobs, timeout, test_timeout, stem, extra=(), key=None
):
    """Run pytest on one file, ``timeout`` seconds at most, outcomes streamed to
    ``stem.jsonl.part`` and output to ``stem.log``. Returns a dict: status
    (complete, no tests, timeout, interrupted, crashed, pytest error), rc, seconds
    (wall), cpu_seconds (pytest and its workers), tests {id: (outcome, message)},
    durations {id: seconds of the call}, and resumed (tests kept from before).

    With a ``key``, a run that timed out or was interrupted leaves its outcomes in
    ``stem.jsonl.part`` (with the key in ``stem.part-key``): the next run with the
    same key keeps them and runs only the tests that have none (deselected by the
    plugin), so a file of hours is done in several runs."""
    part, log, keyfile = stem + ".jsonl.part", stem + ".log", stem + ".part-key"
    done_file = stem + ".done.json"
    previous = _read_records(part) if key is not None and _has_part(stem, key) else []
    if previous:
        with open(part, "rb+") as f:  # a line cut by a kill ends where it was cut
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                f.write(b"\n")
    else:
        for p in (part, keyfile):
            if os.path.exists(p):
                os.remove(p)
        if key is not None:
            with open(keyfile, "w") as f:
                f.write(key + "\n")
    # a test is done once it has an outcome; collection errors are collected again
    done = sorted(tid for tid, (o, _) in combine(previous).items() if "::" in tid)
    cmd = [python, "-m", "pytest", "-c", cfg, "--rootdir=" + cwd]
    cmd += ["--confcutdir=" + cwd, "-p", "pytest_outcomes", "-p", "no:cacheprovider"]
    cmd += ["-q", "--color=no", "-rfE"]
    if test_timeout:
        cmd.append("--timeout={:g}".format(test_timeout))  # pytest-timeout
    if jobs > 0:
        cmd += ["-n", str(jobs)]
    cmd += [*extra, path]
    env = dict(os.environ)
    env["FORK_OUTCOMES"] = part
    env["PYTHONPATH"] = os.path.dirname(os.path.abspath(__file__))
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("FORK_DONE", None)
    if done:
        with open(done_file, "w") as f:
            json.dump(done, f)
        env["FORK_DONE"] = done_file
    start = time.monotonic()
    interrupted = None
    with open(log, "a" if done else "w") as out:
        if done:
            out.write(
                "\n# resumed: {} tests already have an outcome\n".format(len(done))
            )
        out.write("$ (cd {}; {})\n".format(cwd, " ".join(cmd)))
        out.flush()
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            rc, cpu = _wait(proc, timeout)
        except (Interrupted, KeyboardInterrupt) as e:
            interrupted, rc, cpu = e, None, None
    if interrupted is not None:
        status = "interrupted"
    elif rc is None:
        status = "timeout"
    elif rc < 0:
        status = "crashed"
    elif rc == 5 and done:
        status = "complete"  # every test had its outcome already
    else:
        status = {0: "complete", 1: "complete", 5: "no tests"}.get(rc, "pytest error")
    records = _read_records(part)
    if os.path.exists(done_file):
        os.remove(done_file)
    if key is None or status not in ("timeout", "interrupted"):
        for p in (part, keyfile):
            if os.path.exists(p):
                os.remove(p)
    result = {
        "status": status,
        "records": len(records),
        "resumed": len(done),
        "rc": rc,
        "seconds": round(time.monotonic() - start, 1),
        "cpu_seconds": cpu,
        "tests": combine(records),
        "durations": {
            r["id"]: r["seconds"]
            for r in records
            if r.get("when") == "call" and "seconds" in r
        },
    }
    if interrupted is not None:
        result["interrupted"] = str(interrupted)
    return result


def run_file(side, path, jobs, timeout, test_timeout, key, command=""):
    """Run one upstream test file on one side; write its result file."""
    os.makedirs(os.path.join(RESULTS, side), exist_ok=True)
    os.makedirs(os.path.join(LOGS, side), exist_ok=True)
    if side == "fork":
        cwd, cfg = fork.ROOT, os.path.join(fork.TREE, "pyproject.toml")
    else:
        cwd, cfg = PRISTINE_SRC, os.path.join(PRISTINE_SRC, "pyproject.toml")
    stem = _log_stem(side, path)
    before = load_result(side, path)
    result = run_pytest(
        _py(side), cwd, cfg, path, jobs, timeout, test_timeout, stem, key=key
    )
    if result["resumed"] and before and before.get("key") == key:
        # the time of the runs it resumes
        for k in ("seconds", "cpu_seconds"):
            result[k] = round((result[k] or 0) + (before.get(k) or 0), 1)
        result["runs"] = before.get("runs", 1) + 1
    result.update(
        file=path,
        side=side,
        key=key,
        command=command,
        jobs=jobs,
        timeout=timeout,
        test_timeout=test_timeout,
        finished=datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        numpyro=list(_numpyro_of(side)),
    )
    with open(_result_path(side, path), "w") as f:
        json.dump(result, f, indent=0, sort_keys=True)
    archive_result(side, path, result)
    return result


def counts(tests):
    c = collections.Counter(o for o, _ in tests.values())
    return {k: c.get(k, 0) for k in OUTCOMES}


def _summary(result):
    c = counts(result["tests"])
    parts = ["{} {}".format(c[k], k) for k in OUTCOMES if c[k]]
    return "{} ({}, {:.0f} s)".format(
        ", ".join(parts) or "no tests", result["status"], result["seconds"]
    )


def _has_part(stem, key):
    """Whether ``stem`` has the outcomes of a stopped run with ``key``."""
    try:
        with open(stem + ".part-key") as f:
            return f.read().strip() == key
    except OSError:
        return False


def _seed_part(stem, key, records):
    os.makedirs(os.path.dirname(stem), exist_ok=True)
    with open(stem + ".jsonl.part", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
    with open(stem + ".part-key", "w") as f:
        f.write(key + "\n")


def cmd_run(files, sides, jobs, timeout, test_timeout, force, command=""):
    ensure_venvs()
    ensure_pristine_src()
    keys = {side: side_key(side) for side in sides}
    for path in files:
        for side in sides:
            old = load_result(side, path)
            valid = old and old.get("key") == keys[side]
            if valid and not force and old["status"] not in RESUMABLE:
                _log("{:8} {}: kept, {}".format(side, path, _summary(old)))
                continue
            stem = _log_stem(side, path)
            if force:  # from the start, not from an earlier run's outcomes
                if os.path.exists(stem + ".part-key"):
                    os.remove(stem + ".part-key")
            elif valid and not _has_part(stem, keys[side]):
                # a stopped run of another checkout (its archived result)
                _seed_part(stem, keys[side], resume_records(old))
            _log("{:8} {}: running ...".format(side, path))
            res = run_file(side, path, jobs, timeout, test_timeout, keys[side], command)
            _log("{:8} {}: {}".format(side, path, _summary(res)))
            if res["status"] == "interrupted":
                raise Interrupted(
                    "interrupted; `make test-upstream` again resumes {} ({} tests "
                    "kept)".format(path, len(res["tests"]))
                )


def cmd_status(files):
    keys = {}
    for side in SIDES:
        keys[side] = side_key(side) if _stamp(side) else None
    for path in files:
        row = []
        for side in SIDES:
            res = load_result(side, path)
            if res is None:
                row.append("{}: not run".format(side))
            else:
                stale = "" if res.get("key") == keys[side] else " [stale]"
                row.append("{}: {}{}".format(side, _summary(res), stale))
        _log("{}\n    {}".format(path, "\n    ".join(row)))


# --------------------------------------------------------------------------- report


def _cell(c):
    s = "{}/{}/{}".format(c["passed"], c["failed"] + c["error"], c["skipped"])
    x = c["xfailed"] + c["xpassed"]
    return s + (" (+{} x)".format(x) if x else "")


def _md(text):
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _short(text, n=160):
    text = _md(text)
    return text if len(text) <= n else text[: n - 3] + "..."


def _current_keys():
    """{side: key of its current state}, None where the venv is not there."""
    keys = {}
    for side in SIDES:
        try:
            keys[side] = side_key(side) if _stamp(side, ".packages") else None
        except fork.ForkError:
            keys[side] = None
    return keys


def build_report(files, command, keys=None):
    """The report's text. ``keys``: {side: current key}; results made with another
    key are marked stale (default: computed from tree/ and the venvs)."""
    keys = _current_keys() if keys is None else keys
    rows, diffs, incomplete, stale = [], {}, [], []
    commands = []
    total = {s: collections.Counter() for s in SIDES}
    skips = {s: collections.Counter() for s in SIDES}
    numpyro = {}
    versions = {s: collections.Counter() for s in SIDES}
    seconds = {s: 0.0 for s in SIDES}
    cpu = {s: 0.0 for s in SIDES}
    settings = collections.Counter()
    finished = []
    for path in files:
        res = {s: load_result(s, path) for s in SIDES}
        cells, states = [], []
        for s in SIDES:
            r = res[s]
            if r is None:
                cells.append("not run")
                continue
            numpyro.setdefault(s, r.get("numpyro"))
            versions[s][(r.get("numpyro") or ["?"])[0]] += 1
            if r.get("command") and r["command"] not in commands:
                commands.append(r["command"])
            finished.append(r.get("finished", ""))
            c = counts(r["tests"])
            total[s].update(c)
            seconds[s] += r["seconds"]
            cpu[s] += r.get("cpu_seconds") or 0.0
            settings[(r.get("jobs"), r.get("timeout"), r.get("test_timeout"))] += 1
            for o, msg in r["tests"].values():
                if o == "skipped":
                    skips[s][_short(msg, 120)] += 1
            cell = _cell(c)
            if r.get("key") != keys.get(s):
                cell += " (stale)"
                stale.append("{} ({})".format(path, s))
            if r["status"] != "complete":
                cell += " **{}**".format(r["status"])
                incomplete.append("{} ({}: {})".format(path, s, r["status"]))
            cells.append(cell)
            states.append("{:.0f}".format(r["seconds"]))
        differ = []
        if all(res[s] is not None for s in SIDES):
            p, f = res["pristine"]["tests"], res["fork"]["tests"]
            # a run that did not complete has not reached its absent tests
            reached = {s: res[s]["status"] == "complete" for s in SIDES}
            for tid in sorted(set(p) | set(f)):
                a = p.get(tid, ("absent", ""))
                b = f.get(tid, ("absent", ""))
                if (tid not in p and not reached["pristine"]) or (
                    tid not in f and not reached["fork"]
                ):
                    continue
                if a[0] != b[0]:
                    differ.append((tid, a, b))
            if differ:
                diffs[path] = differ
        rows.append(
            "| `{}` | {} | {} | {} | {} |".format(
                path,
                cells[0],
                cells[1] if len(cells) > 1 else "",
                len(differ) if all(res[s] is not None for s in SIDES) else "",
                " / ".join(states),
            )
        )
    date = max(finished) if finished else "never"
    out = [
        "# Upstream's tests on pristine NumPyro 0.22.0 and on the fork",
        "",
        "Generated by `tools/upstream_tests.py report` (do not edit above the notes "
        "mark) with `{}`, from the results of:".format(command),
        "",
        "```sh",
        *(commands or ["(no run)"]),
        "```",
        "",
        "Last result: {} (UTC). Machine: {} cores, Python {}, {}.".format(
            date[:19], os.cpu_count(), platform.python_version(), platform.platform()
        ),
        "Each side in its own venv with the same packages "
        "(`requirements/constraints.txt`, extras `[dev,upstream]`):",
        "",
    ]
    for s in SIDES:
        v = numpyro.get(s) or ["?", "?"]
        where = v[1]
        if where.startswith(fork.ROOT + os.sep):
            where = os.path.relpath(where, fork.ROOT)
        out.append("* {}: numpyro {} imported from `{}`".format(s, v[0], where))
        if len(versions[s]) > 1:
            out.append(
                "  **results of several versions mixed:** "
                + ", ".join(
                    "{} ({} files)".format(k, n) for k, n in versions[s].items()
                )
                + "; `make test-upstream` reruns what is stale"
            )
    tests_from = _tree_git("show", "-s", "--format=%b", fork.BASE_TAG).strip()
    out += [
        "",
        "Upstream test files: the sdist's `test/*.py`{}. The fork side runs them as "
        "the series leaves them (a patch may update an upstream test).".format(
            ", and " + tests_from.replace("with ", "", 1)
            if tests_from
            else " (upstream's test/infer and test/contrib were not found)"
        ),
        "",
        "## Summary",
        "",
        "| side | passed | failed or error | skipped | xfailed | xpassed "
        "| wall (s) | CPU (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in SIDES:
        t = total[s]
        out.append(
            "| {} | {} | {} | {} | {} | {} | {:.0f} | {:.0f} |".format(
                s,
                t["passed"],
                t["failed"] + t["error"],
                t["skipped"],
                t["xfailed"],
                t["xpassed"],
                seconds[s],
                cpu[s],
            )
        )
    ndiff = sum(len(v) for v in diffs.values())
    out += [
        "",
        "Runs of a file on a side (pytest-xdist workers, timeout per file, per "
        "test, in seconds): "
        + "; ".join(
            "{} runs with -n {}, {:g}, {:g}".format(n, j, t or 0, tt or 0)
            for (j, t, tt), n in sorted(settings.items(), key=str)
        )
        + ".",
        "{} upstream test files; {} tests whose outcome differs, in {} files.".format(
            len(files), ndiff, len(diffs)
        ),
    ]
    if stale:
        out += [
            "Stale results (made on another state of the fork or other packages; "
            "`make test-upstream` runs them again): " + "; ".join(stale) + "."
        ]
    if incomplete:
        out += [
            "Incomplete runs (timeout, crash or pytest error: tests not reached are "
            "not counted): " + "; ".join(incomplete) + "."
        ]
    out += [
        "",
        "## Per file",
        "",
        "passed/failed (or error)/skipped, (+xfailed and xpassed); time in seconds "
        "(pristine / fork).",
        "",
        "| file | pristine | fork | differ | time (s) |",
        "|---|---|---|---|---|",
    ] + rows
    out += ["", "## Tests whose outcome differs", ""]
    if not diffs:
        out.append("None.")
    for path, differ in diffs.items():
        out += [
            "### `{}`".format(path),
            "",
            "| test | pristine | fork | message (fork, or pristine) |",
            "|---|---|---|---|",
        ]
        for tid, a, b in differ:
            msg = b[1] or a[1]
            out.append(
                "| `{}` | {} | {} | {} |".format(
                    _md(tid.split("::", 1)[-1]), a[0], b[0], _short(msg)
                )
            )
        out.append("")
    out += [
        "",
        "## Skip reasons",
        "",
        "| reason | pristine | fork |",
        "|---|---|---|",
    ]
    reasons = set(skips["pristine"]) | set(skips["fork"])
    for reason in sorted(
        reasons, key=lambda r: -(skips["pristine"][r] + skips["fork"][r])
    ):
        out.append(
            "| {} | {} | {} |".format(
                reason or "(no reason given)",
                skips["pristine"][reason],
                skips["fork"][reason],
            )
        )
    return "\n".join(out) + "\n"


def cmd_report(files, command, path, keys=None):
    keys = _current_keys() if keys is None else keys
    for f in files:  # results of an earlier run that is still current
        for side in SIDES:
            res = load_result(side, f)
            if res and keys.get(side) and res.get("key") == keys[side]:
                archive_result(side, f, res)
    text = build_report(files, command, keys)
    notes = NOTES_MARK + "\n"
    if os.path.isfile(path):
        with open(path) as f:
            old = f.read()
        if NOTES_MARK in old:
            notes = NOTES_MARK + old.split(NOTES_MARK, 1)[1]
    with open(path, "w") as f:
        f.write(text + "\n" + notes)
    _log("wrote {}".format(os.path.relpath(path, fork.ROOT)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("venvs", help="make or refresh the two venvs")
    p = sub.add_parser("run", help="run upstream test files on both sides")
    p.add_argument("files", nargs="*", help="test files or directories (default all)")
    p.add_argument("--sides", default=",".join(SIDES))
    p.add_argument("--jobs", type=int, default=2, help="pytest-xdist workers")
    p.add_argument("--timeout", type=float, default=3600, help="per file, seconds")
    p.add_argument("--test-timeout", type=float, default=900, help="per test, s")
    p.add_argument("--force", action="store_true", help="rerun valid results too")
    p.add_argument(
        "--command",
        default="python3 tools/upstream_tests.py run",
        help="how this run was asked for, recorded with its results",
    )
    p = sub.add_parser("status", help="which files have valid results")
    p.add_argument("files", nargs="*")
    p = sub.add_parser("report", help="write the side-by-side report")
    p.add_argument("files", nargs="*")
    p.add_argument("--out", default=REPORT)
    p.add_argument("--command", default="make test-upstream")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "venvs":
            ensure_venvs()
        elif args.cmd == "run":
            signal.signal(signal.SIGTERM, _stop)
            sides = [s for s in args.sides.split(",") if s]
            bad = [s for s in sides if s not in SIDES]
            if bad:
                parser.error("unknown side(s): " + ", ".join(bad))
            cmd_run(
                select(args.files),
                sides,
                args.jobs,
                args.timeout,
                args.test_timeout,
                args.force,
                args.command,
            )
        elif args.cmd == "status":
            cmd_status(select(args.files))
        elif args.cmd == "report":
            cmd_report(select(args.files), args.command, args.out)
    except (fork.ForkError, subprocess.CalledProcessError) as e:
        print("error: {}".format(e), file=sys.stderr)
        return 2
    except (Interrupted, KeyboardInterrupt) as e:
        print("stopped: {}".format(e), file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
