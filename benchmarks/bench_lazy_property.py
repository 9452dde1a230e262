# SPDX-License-Identifier: Apache-2.0
"""Benchmark of patch 0003 (lazy_property tracer check): what it costs to trace
and compile a function that calls a truncated distribution's ``log_prob`` three
times (as a likelihood, its gradient and a posterior-predictive check might), for
the fork and the unpatched 0.22.0 side by side.

0.22.0 never caches a lazy property's value under a transform, so each read traces
the normalizer again; the fork reuses the value within its trace. Columns: jaxpr
equations, equations of the optimized HLO that XLA compiles, and the best wall time
of tracing + lowering + compiling (``jax.jit(f).lower(x).compile()``) a fresh
function, with caches cleared.

Run: ``python benchmarks/bench_lazy_property.py`` (about a minute).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fmt_time, main, print_table, side_by_side  # noqa: E402

CALLS = 3
# (label, expression building the distribution from `dist`)
CASES = [
    ("TruncatedNormal(low=1, high=2)", "dist.TruncatedNormal(low=1.0, high=2.0)"),
    ("TruncatedCauchy(low=-5, high=10)", "dist.TruncatedCauchy(low=-5.0, high=10.0)"),
    (
        "Truncated StudentT(3), low=1.5",
        "dist.TruncatedDistribution(dist.StudentT(3.0), low=1.5)",
    ),
    (
        "TruncatedGamma(2, 1), [0.5, 3]",
        "dist.TruncatedGamma(2.0, 1.0, low=0.5, high=3.0)",
    ),
]


def worker(label):
    import jax
    import jax.numpy as jnp

    import numpyro.distributions as dist

    results = {}
    x = jnp.linspace(1.1, 1.9, 1000)
    for name, expr in CASES:
        d = eval(expr, {"dist": dist})

        def f(x, d=d):
            return sum(d.log_prob(x + 0.01 * i).sum() for i in range(CALLS))

        jaxpr_eqns = len(jax.make_jaxpr(f)(x).eqns)
        hlo = jax.jit(f).lower(x).compile().as_text()
        hlo_eqns = sum(1 for line in hlo.splitlines() if " = " in line)
        best = float("inf")
        for _ in range(5):
            jax.clear_caches()
            start = time.perf_counter()
            jax.jit(lambda x: f(x)).lower(x).compile()
            best = min(best, time.perf_counter() - start)
        results[name] = {"jaxpr": jaxpr_eqns, "hlo": hlo_eqns, "compile": best}
    return results


def report(script):
    res = side_by_side(script)
    rows = []
    for name, _ in CASES:
        fork, upstream = res["fork"][name], res["upstream"][name]
        rows.append(
            [
                name,
                fork["jaxpr"],
                upstream["jaxpr"],
                fork["hlo"],
                upstream["hlo"],
                fmt_time(fork["compile"]),
                fmt_time(upstream["compile"]),
                "{:.2f}".format(fork["compile"] / upstream["compile"]),
            ]
        )
    print_table(
        "{} log_prob calls in one jitted function (CPU, float32)".format(CALLS),
        [
            "distribution",
            "jaxpr eqns fork",
            "jaxpr eqns 0.22.0",
            "HLO ops fork",
            "HLO ops 0.22.0",
            "compile fork",
            "compile 0.22.0",
            "fork/0.22.0",
        ],
        rows,
    )


if __name__ == "__main__":
    main(worker, report)
