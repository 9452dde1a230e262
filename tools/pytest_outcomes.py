# SPDX-License-Identifier: Apache-2.0
"""pytest plugin of ``tools/upstream_tests.py``: one JSON line per test phase.

Loaded with ``-p pytest_outcomes`` (``tools/`` on ``PYTHONPATH``); writes to the
file named by ``$FORK_OUTCOMES``, flushing after every line, so that the outcomes of
a run that times out or crashes are kept up to the test that stopped it. Works
under pytest-xdist (the controller receives every worker's reports). With
``$FORK_DONE`` (a JSON list of test ids), those tests are deselected: a resumed
run does not run again what has an outcome already.
"""

import json
import os

_file = None
_worker = False


def pytest_configure(config):
    # under pytest-xdist the controller receives every worker's reports: only it
    # writes (a worker would write each line a second time)
    global _worker
    _worker = hasattr(config, "workerinput")


def _out():
    global _file
    if _worker:
        return None
    if _file is None:
        path = os.environ.get("FORK_OUTCOMES")
        if not path:
            return None
        _file = open(path, "a", encoding="utf-8")  # noqa: SIM115
    return _file


def _message(report):
    if report.skipped:
        longrepr = report.longrepr
        if isinstance(longrepr, tuple) and len(longrepr) == 3:
            longrepr = longrepr[2]
        text = str(longrepr)
        return text[len("Skipped: ") :] if text.startswith("Skipped: ") else text
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr or "")
    return text.strip().splitlines()[0][:300] if text.strip() else ""


def _write(record):
    out = _out()
    if out is not None:
        out.write(json.dumps(record) + "\n")
        out.flush()


def pytest_runtest_logreport(report):
    if report.passed and report.when != "call" and not hasattr(report, "wasxfail"):
        return  # a passing setup or teardown says nothing
    record = {"id": report.nodeid, "when": report.when, "outcome": report.outcome}
    if hasattr(report, "wasxfail"):
        record["xfail"] = True
    if not report.passed:
        record["message"] = _message(report)
    if report.when == "call":
        record["seconds"] = round(report.duration, 3)
    _write(record)


def pytest_collectreport(report):
    if report.failed:
        _write(
            {
                "id": report.nodeid,
                "when": "collect",
                "outcome": "failed",
                "message": _message(report),
            }
        )


def pytest_collection_modifyitems(config, items):
    path = os.environ.get("FORK_DONE")
    if not path:
        return
    with open(path, encoding="utf-8") as f:
        done = set(json.load(f))
    deselected = [item for item in items if item.nodeid in done]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item.nodeid not in done]
