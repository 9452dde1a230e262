# SPDX-License-Identifier: Apache-2.0
"""Shared harness of the benchmarks: the same worker code is run side by side in
two processes, one importing the installed fork, one importing the unpatched
upstream release (extracted from the pinned sdist), and the timings are compared.

A benchmark script calls :func:`main` with a ``worker`` function. Run without
arguments it prints a table; the worker mode (``--worker <label>``) is internal.
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")


def pristine_source():
    """Directory holding the unpatched upstream ``numpyro`` package."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import fork

    return fork.pristine(os.path.join(OUT, "upstream-" + fork.config()["version"]))


def best_time(fn, *args, repeat=7, number=1):
    """Best wall time (seconds) of ``fn(*args)`` after one warm-up (compilation)
    call; ``fn`` should return JAX arrays, which are waited for."""
    import jax

    jax.block_until_ready(fn(*args))
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            jax.block_until_ready(fn(*args))
        best = min(best, (time.perf_counter() - start) / number)
    return best


# (version, path) of the numpyro each label imported, as checked by run_worker
IMPORTED = {}


def _check_numpyro(label, env):
    """Which numpyro a worker of ``label`` imports: the fork (a ``+fork`` version)
    or the pristine release from its extracted source. Printed once per label;
    a side that imports the other's numpyro is an error, not a benchmark."""
    if label in IMPORTED:
        return IMPORTED[label]
    code = "import numpyro; print(numpyro.__version__); print(numpyro.__file__)"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=OUT
    )
    if proc.returncode != 0:
        raise RuntimeError(
            "cannot import numpyro for {}:\n{}".format(label, proc.stderr)
        )
    version, path = proc.stdout.split("\n")[:2]
    is_fork = "+fork" in version
    if (label == "fork") != is_fork:
        raise RuntimeError(
            "the {} side imports numpyro {} from {}".format(label, version, path)
        )
    IMPORTED[label] = (version, path)
    print("{}: numpyro {} from {}".format(label, version, path), flush=True)
    return IMPORTED[label]


def run_worker(script, label, extra_args=(), pythonpath=None, x64=False):
    """Run ``script --worker label`` and return the JSON it prints (after checking,
    once per label, which numpyro that side imports)."""
    env = dict(os.environ)
    env["JAX_PLATFORMS"] = "cpu"
    if x64:
        env["JAX_ENABLE_X64"] = "1"
    else:
        env.pop("JAX_ENABLE_X64", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    _check_numpyro(label, env)
    cmd = [sys.executable, script, "--worker", label, *extra_args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=OUT)
    if proc.returncode != 0:
        raise RuntimeError("{} failed:\n{}".format(" ".join(cmd), proc.stderr))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def side_by_side(script, x64=False, extra_args=()):
    """{"fork": results, "upstream": results} of the worker in both versions."""
    os.makedirs(OUT, exist_ok=True)
    return {
        "fork": run_worker(script, "fork", extra_args, None, x64),
        "upstream": run_worker(script, "upstream", extra_args, pristine_source(), x64),
    }


def single_threaded_xla():
    """Make the workers started afterwards run XLA on one thread, so that the load of
    a shared machine disturbs the fork and upstream alike."""
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
    ).strip()


def best_side_by_side(script, measurements, rounds=3, x64=False):
    """:func:`side_by_side` run ``rounds`` times, alternating the fork and upstream
    so that a change of the machine's load hits both alike, keeping for each case
    the best time of each of the ``measurements`` (keys of the worker's results
    ``{case: {measurement: seconds}}``; a case whose result has an ``"error"`` key,
    or lacks a measurement, keeps that of the first round)."""
    runs = [side_by_side(script, x64=x64) for _ in range(rounds)]
    best = runs[0]
    for run in runs[1:]:
        for label, results in run.items():
            for name, r in results.items():
                if isinstance(r, dict) and "error" not in r:
                    for what in measurements:
                        if what in r:
                            best[label][name][what] = min(
                                best[label][name][what], r[what]
                            )
    return best


def print_table(title, headers, rows):
    """A GitHub-flavoured markdown table."""
    print("\n### " + title + "\n")
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")


def fmt_time(seconds):
    if seconds != seconds:  # nan: not measured
        return "n/a"
    if seconds < 1e-3:
        return "{:.1f} us".format(seconds * 1e6)
    if seconds < 1:
        return "{:.2f} ms".format(seconds * 1e3)
    return "{:.2f} s".format(seconds)


def main(worker, report):
    """Entry point of a benchmark script.

    ``worker(label) -> dict`` measures in the current process (``label`` is "fork"
    or "upstream": which numpyro is imported) and returns JSON-able results;
    ``report(script) -> None`` runs workers (e.g. with :func:`side_by_side`) and
    prints tables.
    """
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker")
    args, _ = parser.parse_known_args()
    if args.worker:
        print(json.dumps(worker(args.worker)))
    else:
        report(os.path.abspath(sys.argv[0]))
