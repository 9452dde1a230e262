# SPDX-License-Identifier: Apache-2.0
"""Benchmark of patch 0003 (no tracer kept after a transform), the fork (whole
series) and the unpatched 0.22.0 side by side.

1. What it costs to trace and compile a function that calls a truncated
   distribution's ``log_prob`` three times (as a likelihood, its gradient and a
   posterior-predictive check might). 0.22.0 never caches a lazy property's value
   under a transform, so each read traces the normalizer again; the fork reuses
   the value within its trace. Columns: jaxpr equations, equations of the
   optimized HLO that XLA compiles, and the best wall time of tracing + lowering
   + compiling (``jax.jit(f).lower(x).compile()``) a fresh function, with caches
   cleared.
2. A small NUTS run (2 chains, 200 warmup and 200 samples; a module-level
   ``TruncatedNormal(low=1, high=2)`` likelihood of 100 points with a latent
   location, and a latent ``Uniform`` vector with array bounds), with
   ``chain_method="vectorized"`` and ``"parallel"`` (two host devices): the first
   ``mcmc.run`` (tracing, compiling, sampling) and a second one (sampling with
   the compiled program), whose initialization the fork builds from constants.

Both run on one XLA thread, the fork and 0.22.0 alternating over ``ROUNDS``
rounds, best of the rounds.

Run: ``python benchmarks/bench_lazy_property.py`` (a few minutes).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (  # noqa: E402
    best_side_by_side,
    fmt_time,
    main,
    print_table,
    single_threaded_xla,
)

CALLS = 3
ROUNDS = 3
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
CHAIN_METHODS = ("vectorized", "parallel")


def _compile_times(results):
    import jax
    import jax.numpy as jnp

    import numpyro.distributions as dist

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


def _nuts_times(results):
    import jax
    from jax import random
    import jax.numpy as jnp

    import numpyro
    import numpyro.distributions as dist
    from numpyro.infer import MCMC, NUTS

    likelihood = dist.TruncatedNormal(low=1.0, high=2.0)
    data = likelihood.sample(random.PRNGKey(1), (100,))
    bounded = dist.Uniform(jnp.zeros(3), jnp.array([1.0, 2.0, 3.0])).to_event(1)

    def model(data):
        loc = numpyro.sample("loc", dist.Normal(1.5, 1.0))
        numpyro.sample("u", bounded)
        with numpyro.plate("N", data.shape[0]):
            numpyro.sample(
                "obs", dist.TruncatedNormal(loc, 1.0, low=1.0, high=2.0), obs=data
            )
        numpyro.sample("shared", likelihood, obs=data)

    for chain_method in CHAIN_METHODS:
        if chain_method == "parallel" and jax.local_device_count() < 2:
            continue
        mcmc = MCMC(
            NUTS(model),
            num_warmup=200,
            num_samples=200,
            num_chains=2,
            chain_method=chain_method,
            progress_bar=False,
        )
        times = []
        for seed in range(2):
            start = time.perf_counter()
            mcmc.run(random.PRNGKey(seed), data)
            jax.block_until_ready(mcmc.get_samples())
            times.append(time.perf_counter() - start)
        results["NUTS " + chain_method] = {"first": times[0], "rerun": times[1]}


def worker(label):
    results = {}
    _compile_times(results)
    _nuts_times(results)
    return results


def report(script):
    single_threaded_xla()
    os.environ["XLA_FLAGS"] += " --xla_force_host_platform_device_count=2"
    res = best_side_by_side(script, ("compile", "first", "rerun"), ROUNDS)
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
    rows = []
    for chain_method in CHAIN_METHODS:
        name = "NUTS " + chain_method
        if name not in res["fork"]:
            continue
        fork, upstream = res["fork"][name], res["upstream"][name]
        for what in ("first", "rerun"):
            rows.append(
                [
                    "{}, {} run".format(chain_method, what),
                    fmt_time(fork[what]),
                    fmt_time(upstream[what]),
                    "{:.2f}".format(fork[what] / upstream[what]),
                ]
            )
    print_table(
        "NUTS, 2 chains, 200 warmup + 200 samples (CPU, float32)",
        ["mcmc.run", "fork", "0.22.0", "fork/0.22.0"],
        rows,
    )


if __name__ == "__main__":
    main(worker, report)
