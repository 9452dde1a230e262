# SPDX-License-Identifier: Apache-2.0
"""`make test-upstream`'s runner: outcomes per test survive a hanging or crashing
file, and the report lists every test whose outcome differs."""

import gc
import json
import os
import shutil
import signal
import sys
import time
import warnings

import pytest
import upstream_tests

OUTCOMES = """\
import pytest


@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")


def test_pass():
    pass


def test_fail():
    assert 1 == 2, "one is not two"


def test_skip():
    pytest.skip("no scipy counterpart")


@pytest.mark.skipif(True, reason="marked away")
def test_marked():
    pass


@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False


@pytest.mark.xfail(reason="known", strict=False)
def test_xpass():
    pass


def test_error(broken):
    pass


@pytest.mark.parametrize("x", [1, 2])
def test_param(x):
    assert x == 1
"""

EXPECTED = {
    "test_outcomes.py::test_pass": "passed",
    "test_outcomes.py::test_fail": "failed",
    "test_outcomes.py::test_skip": "skipped",
    "test_outcomes.py::test_marked": "skipped",
    "test_outcomes.py::test_xfail": "xfailed",
    "test_outcomes.py::test_xpass": "xpassed",
    "test_outcomes.py::test_error": "error",
    "test_outcomes.py::test_param[1]": "passed",
    "test_outcomes.py::test_param[2]": "failed",
}


@pytest.fixture(autouse=True)
def archive(tmp_path, monkeypatch):
    """Results are archived under the test's tmp_path, never in benchmarks/."""
    path = tmp_path / "archive"
    monkeypatch.setattr(upstream_tests, "ARCHIVE", str(path))
    return path


@pytest.fixture
def suite(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_outcomes.py").write_text(OUTCOMES)
    (tmp_path / "test_hang.py").write_text(
        "import time\n\ndef test_first():\n    pass\n\n"
        "def test_hangs():\n    time.sleep(600)\n\ndef test_never():\n    pass\n"
    )
    (tmp_path / "test_crash.py").write_text(
        "import os\n\ndef test_first():\n    pass\n\n"
        "def test_crashes():\n    os.abort()\n\ndef test_never():\n    pass\n"
    )
    return tmp_path


def run(suite, name, jobs=0, timeout=120, key=None):
    return upstream_tests.run_pytest(
        sys.executable,
        str(suite),
        str(suite / "pytest.ini"),
        name,
        jobs,
        timeout,
        None,
        str(suite / name.replace(".py", "")),
        key=key,
    )


@pytest.mark.parametrize("jobs", [0, 1])
def test_outcomes_of_every_kind(suite, jobs):
    res = run(suite, "test_outcomes.py", jobs)
    assert res["status"] == "complete" and res["rc"] == 1
    assert {k: v[0] for k, v in res["tests"].items()} == EXPECTED
    assert "one is not two" in res["tests"]["test_outcomes.py::test_fail"][1]
    assert res["tests"]["test_outcomes.py::test_skip"][1] == "no scipy counterpart"
    assert res["tests"]["test_outcomes.py::test_marked"][1] == "marked away"
    assert "fixture broke" in res["tests"]["test_outcomes.py::test_error"][1]
    assert res["cpu_seconds"] > 0
    assert set(res["durations"]) >= {"test_outcomes.py::test_pass"}
    # what a run resumed from this result (in another checkout) starts from
    tests = upstream_tests.combine(upstream_tests.resume_records(res))
    assert tests == res["tests"]


def test_stopped_run_of_another_checkout_is_resumed(suite, tmp_path, monkeypatch):
    # the archived result of a run that timed out (json, as archived): another
    # checkout, without its records, runs only the tests that have no outcome
    (suite / "test_resume.py").write_text(RESUME)
    (suite / "hang").write_text("")
    res = run(suite, "test_resume.py", 0, timeout=10, key="k1")
    assert res["status"] == "timeout"
    archived = json.loads(json.dumps(res))
    stem = str(suite / "test_resume")
    for ext in (".jsonl.part", ".part-key"):
        os.remove(stem + ext)
    assert not upstream_tests._has_part(stem, "k1")
    upstream_tests._seed_part(stem, "k1", upstream_tests.resume_records(archived))
    assert upstream_tests._has_part(stem, "k1")
    assert not upstream_tests._has_part(stem, "k2")
    (suite / "hang").unlink()
    (suite / "ran.txt").write_text("")
    res = run(suite, "test_resume.py", 0, key="k1")
    assert res["status"] == "complete" and res["resumed"] == 1
    assert (suite / "ran.txt").read_text().split() == ["second", "third"]
    assert len(res["tests"]) == 3


def test_hanging_file_keeps_what_ran(suite):
    start = time.monotonic()
    res = run(suite, "test_hang.py", timeout=15)
    assert time.monotonic() - start < 60
    assert res["status"] == "timeout" and res["rc"] is None
    assert res["tests"] == {"test_hang.py::test_first": ("passed", "")}


def test_crashing_file_keeps_what_ran(suite):
    res = run(suite, "test_crash.py")
    assert res["status"] == "crashed" and res["rc"] < 0
    assert res["tests"] == {"test_crash.py::test_first": ("passed", "")}
    # under pytest-xdist the crash is the test's failure, the file goes on
    res = run(suite, "test_crash.py", jobs=1)
    crashed = res["tests"]["test_crash.py::test_crashes"]
    assert crashed[0] == "error" and "crashed" in crashed[1]
    assert res["tests"]["test_crash.py::test_never"] == ("passed", "")


def write_result(side, path, tests, **fields):
    """A result file of ``path`` on ``side`` under upstream_tests.RESULTS."""
    res = {
        "file": path,
        "status": "complete",
        "seconds": 1.0,
        "tests": tests,
        "numpyro": ["0.22.0", "/x/numpyro/__init__.py"],
        "finished": "2026-12-01T00:00:00+00:00",
        **fields,
    }
    result = upstream_tests._result_path(side, path)
    os.makedirs(os.path.dirname(result), exist_ok=True)
    with open(result, "w") as f:
        json.dump(res, f)


def test_report_lists_differences(tmp_path, monkeypatch):
    results = tmp_path / "results"
    monkeypatch.setattr(upstream_tests, "RESULTS", str(results))
    files = ["test/test_a.py", "test/infer/test_b.py"]
    monkeypatch.setattr(upstream_tests, "upstream_files", lambda: files)
    sides = {
        "pristine": {
            "test/test_a.py": {"test/test_a.py::t1": ["passed", ""]},
            "test/infer/test_b.py": {
                "test/infer/test_b.py::t[1]": ["passed", ""],
                "test/infer/test_b.py::t[2]": ["skipped", "no funsor"],
                "test/infer/test_b.py::gone": ["passed", ""],
            },
        },
        "fork": {
            "test/test_a.py": {"test/test_a.py::t1": ["passed", ""]},
            "test/infer/test_b.py": {
                "test/infer/test_b.py::t[1]": ["failed", "ValueError: | pipe"],
                "test/infer/test_b.py::t[2]": ["skipped", "no funsor"],
                "test/infer/test_b.py::new": ["passed", ""],
            },
        },
    }
    for side, byfile in sides.items():
        for path, tests in byfile.items():
            write_result(
                side,
                path,
                tests,
                cpu_seconds=2.0,
                key="k-" + side if path != "test/test_a.py" else "old",
                command="make test-upstream FILES=" + path,
            )
    keys = {"pristine": "k-pristine", "fork": "k-fork"}
    text = upstream_tests.build_report(files, "make test-upstream", keys)
    assert "3 tests whose outcome differs, in 1 files" in text
    assert "| `t[1]` | passed | failed | ValueError: \\| pipe |" in text
    assert "| `gone` | passed | absent |" in text
    assert "| `new` | absent | passed |" in text
    assert "| no funsor | 1 | 1 |" in text
    assert "| `test/test_a.py` | 1/0/0 (stale) | 1/0/0 (stale) | 0 |" in text
    assert "Stale results" in text and "test/test_a.py (fork)" in text
    assert "make test-upstream FILES=test/infer/test_b.py" in text
    # hand-written notes below the mark survive a new report
    out = tmp_path / "REPORT.md"
    out.write_text("old\n" + upstream_tests.NOTES_MARK + "\nkept notes\n")
    upstream_tests.cmd_report(files, "make test-upstream", str(out), keys)
    new = out.read_text()
    assert new.endswith(upstream_tests.NOTES_MARK + "\nkept notes\n")
    assert "old" not in new.split(upstream_tests.NOTES_MARK)[0]


def test_report_skips_tests_an_incomplete_run_did_not_reach(tmp_path, monkeypatch):
    results = tmp_path / "results"
    monkeypatch.setattr(upstream_tests, "RESULTS", str(results))
    path = "test/test_a.py"
    monkeypatch.setattr(upstream_tests, "upstream_files", lambda: [path])
    tests = {
        "pristine": {path + "::t1": ["passed", ""], path + "::t2": ["passed", ""]},
        "fork": {path + "::t1": ["failed", "boom"]},
    }
    for side in upstream_tests.SIDES:
        status = "complete" if side == "pristine" else "interrupted"
        write_result(side, path, tests[side], status=status, key="k-" + side)
    keys = {"pristine": "k-pristine", "fork": "k-fork"}
    text = upstream_tests.build_report([path], "make test-upstream", keys)
    # t2, not reached by the interrupted fork run, is no difference; t1 is
    assert "1 tests whose outcome differs, in 1 files" in text
    assert "| `t1` | passed | failed | boom |" in text
    assert "`t2`" not in text
    assert "test/test_a.py (fork: interrupted)" in text


def test_finished_results_are_archived_and_read_back(tmp_path, monkeypatch, archive):
    results = tmp_path / "results"
    monkeypatch.setattr(upstream_tests, "RESULTS", str(results))
    paths = ["test/test_a.py", "test/test_b.py"]
    monkeypatch.setattr(upstream_tests, "upstream_files", lambda: paths)
    tests = {paths[0] + "::t1": ["passed", ""]}
    for side in upstream_tests.SIDES:
        write_result(side, paths[0], tests, key="k-" + side)
        status = "interrupted" if side == "fork" else "complete"
        write_result(side, paths[1], tests, key="k-" + side, status=status)
    keys = {"pristine": "k-pristine", "fork": "old"}
    out = str(tmp_path / "REPORT.md")
    upstream_tests.cmd_report(paths, "make test-upstream", out, keys)
    # the current results only, not the stale fork side
    assert sorted(p.name for p in archive.rglob("*.gz")) == [
        "test__test_a.py.json.gz",
        "test__test_b.py.json.gz",
    ]
    assert {p.parent.name for p in archive.rglob("*.gz")} == {"pristine"}
    keys["fork"] = "k-fork"
    upstream_tests.cmd_report(paths, "make test-upstream", out, keys)
    saved = {p: p.read_bytes() for p in archive.rglob("*.gz")}
    assert len(saved) == 4  # test_b's interrupted fork run too: it is resumed
    upstream_tests.cmd_report(paths, "make test-upstream", out, keys)
    assert {p: p.read_bytes() for p in archive.rglob("*.gz")} == saved
    # a new checkout has no results of its own: it reads the archived ones
    local = upstream_tests.load_result("pristine", paths[0])
    shutil.rmtree(results)
    assert upstream_tests.load_result("pristine", paths[0]) == local
    assert upstream_tests.load_result("fork", paths[1])["status"] == "interrupted"
    text = upstream_tests.build_report(paths, "make test-upstream", keys)
    assert "| `test/test_a.py` | 1/0/0 | 1/0/0 | 0 |" in text
    # of a local and an archived result, the one that finished last counts
    for finished, expected in (("2026-12-02", "failed"), ("2026-11-30", "passed")):
        write_result(
            "pristine",
            paths[0],
            {paths[0] + "::t1": ["failed", "boom"]},
            key="k-pristine",
            finished=finished + "T00:00:00+00:00",
        )
        res = upstream_tests.load_result("pristine", paths[0])
        assert res["tests"][paths[0] + "::t1"][0] == expected


def test_each_outcome_written_once_under_xdist(suite):
    res = run(suite, "test_outcomes.py", 2)
    part = suite / "test_outcomes.jsonl.part"
    assert not part.exists()  # read and removed
    # 9 tests: 6 calls, 2 skips at call or setup, 1 setup error; once each
    assert res["records"] == 9


RESUME = """
import os
import time
import warnings


def _ran(name):
    with open(os.path.join(os.path.dirname(__file__), "ran.txt"), "a") as f:
        f.write(name + "\\n")


def test_first():
    _ran("first")


def test_second():
    _ran("second")
    with open(os.path.join(os.path.dirname(__file__), "pid"), "w") as f:
        f.write(str(os.getpid()))
    if os.path.exists(os.path.join(os.path.dirname(__file__), "hang")):
        time.sleep(600)


def test_third():
    _ran("third")
    assert False, "third fails"
"""


@pytest.mark.parametrize("jobs", [0, 1])
def test_timed_out_file_is_resumed(suite, jobs):
    (suite / "test_resume.py").write_text(RESUME)
    (suite / "hang").write_text("")
    ran = suite / "ran.txt"
    res = run(suite, "test_resume.py", jobs, timeout=10, key="k1")
    assert res["status"] == "timeout" and res["resumed"] == 0
    assert res["tests"] == {"test_resume.py::test_first": ("passed", "")}
    assert (suite / "test_resume.jsonl.part").exists()
    # the same key: the tests with an outcome are not run again
    (suite / "hang").unlink()
    ran.write_text("")
    res = run(suite, "test_resume.py", jobs, key="k1")
    assert res["status"] == "complete" and res["resumed"] == 1
    assert ran.read_text().split() == ["second", "third"]
    assert {k: v[0] for k, v in res["tests"].items()} == {
        "test_resume.py::test_first": "passed",
        "test_resume.py::test_second": "passed",
        "test_resume.py::test_third": "failed",
    }
    assert "third fails" in res["tests"]["test_resume.py::test_third"][1]
    assert not (suite / "test_resume.jsonl.part").exists()  # complete: nothing kept
    # a complete file resumed with nothing left to run is complete (pytest exits 5)
    (suite / "hang").write_text("")
    res = run(suite, "test_resume.py", jobs, timeout=10, key="k2")
    assert res["status"] == "timeout"
    ran.write_text("")
    (suite / "hang").unlink()
    res = run(suite, "test_resume.py", jobs, key="k3")  # another key: from the start
    assert res["status"] == "complete" and res["resumed"] == 0
    assert ran.read_text().split() == ["first", "second", "third"]


def _alive(pid):
    for _ in range(50):
        try:
            with open("/proc/{}/stat".format(pid)) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        if state in "ZX":  # ended, not yet reaped by its new parent
            return False
        time.sleep(0.1)
    return True


def test_stopped_run_ends_pytest_and_is_resumed(suite, monkeypatch):
    # what SIGTERM to `upstream_tests.py run` does: the pytest group ends, the
    # outcomes so far are kept for the next run
    (suite / "test_resume.py").write_text(RESUME)
    (suite / "hang").write_text("")
    old = signal.signal(signal.SIGALRM, upstream_tests._stop)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            signal.alarm(8)
            res = run(suite, "test_resume.py", jobs=1, key="k")
            gc.collect()  # pytest's Popen, kept alive by the traceback's cycle
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    # pytest was reaped: no "subprocess ... is still running" ResourceWarning
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert res["status"] == "interrupted" and "SIGALRM" in res["interrupted"]
    assert res["tests"] == {"test_resume.py::test_first": ("passed", "")}
    assert not _alive(int((suite / "pid").read_text()))  # the xdist worker too
    (suite / "hang").unlink()
    res = run(suite, "test_resume.py", key="k")
    assert res["status"] == "complete" and res["resumed"] == 1
    assert len(res["tests"]) == 3


def test_resumed_run_with_nothing_left_is_complete(suite):
    (suite / "test_resume.py").write_text(RESUME)
    part = suite / "test_resume.jsonl.part"
    ids = ["test_first", "test_second", "test_third"]
    part.write_text(
        "".join(
            json.dumps(
                {"id": "test_resume.py::" + t, "when": "call", "outcome": "passed"}
            )
            + "\n"
            for t in ids
        )
        + '{"id": "cut by a ki'
    )
    (suite / "test_resume.part-key").write_text("k\n")
    res = run(suite, "test_resume.py", key="k")
    assert res["status"] == "complete" and res["rc"] == 5 and res["resumed"] == 3
    assert not (suite / "ran.txt").exists()
    assert len(res["tests"]) == 3


def test_fork_key_ignores_only_the_series_own_tests(tmp_path, monkeypatch):
    tree = tmp_path / "tree"
    monkeypatch.setattr(upstream_tests.fork, "TREE", str(tree))

    def git(*args):
        upstream_tests.fork.git(str(tree), *args)

    def commit(path, text):
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_text(text)
        git("add", path)
        git("commit", "-q", "-m", path)

    tree.mkdir()
    git("init", "-q")
    git("config", "user.email", "t@t")
    git("config", "user.name", "t")
    commit("numpyro/lib.py", "x = 1\n")
    commit("test/test_upstream.py", "def test_a():\n    pass\n")
    git("tag", upstream_tests.fork.BASE_TAG)
    commit("test/test_series.py", "def test_b():\n    pass\n")
    key = upstream_tests.fork_source_key()
    # a patch's own test changes (committed or not): the results stay valid
    (tree / "test/test_series.py").write_text("def test_b():\n    assert 1\n")
    assert upstream_tests.fork_source_key() == key
    commit("test/test_series.py", "def test_b():\n    assert 1\n")
    assert upstream_tests.fork_source_key() == key
    commit("test/test_new_series.py", "def test_c():\n    pass\n")
    assert upstream_tests.fork_source_key() == key
    # the library, an upstream test or a helper that tests import: they do not
    for path in ("numpyro/lib.py", "test/test_upstream.py", "test/helpers.py"):
        (tree / path).write_text("changed = 1\n")
        assert upstream_tests.fork_source_key() != key, path
        git("add", path)
        git("commit", "-q", "-m", path)
        assert upstream_tests.fork_source_key() != key, path
        assert (
            upstream_tests.fork_source_key("HEAD~1") != upstream_tests.fork_source_key()
        )
        key = upstream_tests.fork_source_key()
