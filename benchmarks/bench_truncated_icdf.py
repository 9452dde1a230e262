# SPDX-License-Identifier: Apache-2.0
"""Speed of patch 0001 (truncated distributions) against the unpatched 0.22.0, in
every mode a user meets: eager single calls (``icdf``, ``sample``, ``log_prob`` on
a new instance, as in a model run without ``jit``), ``jit`` with scalar parameters
(10^6 quantiles), ``vmap`` with per-lane parameters (10^6 lanes: ``loc``, the
bounds all in the bulk, the bounds with one lane 38 scales out), ``log_prob`` and
its gradient per lane, the gradient of ``icdf``, and compile times.

Both sides run the same worker in separate processes, in alternating rounds, on
one XLA thread; the best of the rounds is kept. Accuracy is measured apart, in
``accuracy_truncated.py``.

Run: ``python benchmarks/bench_truncated_icdf.py`` (about ten minutes).
"""

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (  # noqa: E402
    best_side_by_side,
    best_time,
    fmt_time,
    main,
    print_table,
    single_threaded_xla,
)

N = 1_000_000
ROUNDS = 3
# jit with scalar parameters: (label, base family, parameters, low, high, bulk?)
JIT_CASES = [
    ("Normal [-1, 2]", "Normal", (0.0, 1.0), -1.0, 2.0, True),
    ("Normal [-1, inf)", "Normal", (0.0, 1.0), -1.0, None, True),
    ("Normal (-inf, 1]", "Normal", (0.0, 1.0), None, 1.0, True),
    ("Cauchy [-1, 2]", "Cauchy", (0.0, 1.0), -1.0, 2.0, True),
    ("Laplace [-1, 2]", "Laplace", (0.0, 1.0), -1.0, 2.0, True),
    ("Logistic [-1, 2]", "Logistic", (0.0, 1.0), -1.0, 2.0, True),
    ("SoftLaplace [-1, 2]", "SoftLaplace", (0.0, 1.0), -1.0, 2.0, True),
    ("StudentT(5) [-1, 2]", "StudentT", (5.0, 0.0, 1.0), -1.0, 2.0, True),
    ("Normal [8, inf)", "Normal", (0.0, 1.0), 8.0, None, False),
    ("Normal [-40, -38]", "Normal", (0.0, 1.0), -40.0, -38.0, False),
]
SLOW = ("StudentT",)  # 0.22.0 takes seconds per call: 10^5 points, one repeat


def worker(label):
    import jax
    import jax.numpy as jnp

    import numpyro.distributions as dist

    dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    rng = np.random.default_rng(0)
    q = jnp.asarray(rng.uniform(size=N), dtype)
    q10 = q[:10]
    key = jax.random.PRNGKey(0)
    results = {}

    def record(name, fn, *args, repeat=7):
        results[name] = {"time": best_time(fn, *args, repeat=repeat)}

    # eager single calls
    prebuilt = dist.TruncatedNormal(0.0, 1.0, low=-1.0, high=2.0)
    record("eager icdf (prebuilt)", lambda: prebuilt.icdf(q10))
    record(
        "eager icdf (new instance)",
        lambda: dist.TruncatedNormal(0.3, 1.0, low=-1.0, high=2.0).icdf(q10),
    )
    record(
        "eager sample (new instance)",
        lambda: dist.TruncatedNormal(0.3, 1.0, low=-1.0, high=2.0).sample(key, (10,)),
    )
    record(
        "eager log_prob (new instance)",
        lambda: dist.TruncatedNormal(0.3, 1.0, low=-1.0, high=2.0).log_prob(q10),
    )
    # jit, scalar parameters
    for name, family, params, low, high, _ in JIT_CASES:
        d = dist.TruncatedDistribution(getattr(dist, family)(*params), low, high)
        slow = family in SLOW
        record(
            "jit icdf " + name,
            jax.jit(d.icdf),
            q[: N // 10] if slow else q,
            repeat=1 if slow else 7,
        )
    # vmap, per-lane parameters
    loc = jnp.linspace(-0.5, 0.5, N, dtype=dtype)
    low = jnp.linspace(-2.0, -1.0, N, dtype=dtype)
    high = low + 3
    far_low, far_high = low.at[0].set(38.0), high.at[0].set(40.0)

    def icdf(loc, low, high, q):
        return dist.TruncatedNormal(loc, 1.0, low=low, high=high).icdf(q)

    def log_prob(loc, x):
        return dist.TruncatedNormal(loc, 1.0, low=-1.0, high=2.0).log_prob(x)

    vicdf = jax.jit(jax.vmap(icdf))
    ones, zeros = jnp.ones_like(loc), jnp.zeros_like(loc)
    record("vmap icdf, per-lane loc", vicdf, loc, -ones, 2 * ones, q)
    record("vmap icdf, per-lane bounds (bulk)", vicdf, zeros, low, high, q)
    record("vmap icdf, per-lane bounds (one far lane)", vicdf, zeros, far_low, far_high, q)
    record("vmap log_prob, per-lane loc", jax.jit(jax.vmap(log_prob)), loc, q)
    record(
        "vmap value_and_grad log_prob, per-lane loc",
        jax.jit(jax.vmap(jax.value_and_grad(log_prob))),
        loc,
        q,
    )
    record(
        "vmap grad icdf (loc, bounds)",
        jax.jit(jax.vmap(jax.grad(icdf, argnums=(0, 1, 2)))),
        loc,
        low,
        high,
        q,
    )

    # compile times (fresh functions, so nothing is cached)
    def compile_time(fn, *args):
        start = time.perf_counter()
        jax.jit(fn).lower(*args).compile()
        return time.perf_counter() - start

    for name, fn in [
        ("compile icdf", lambda loc, q: icdf(loc, -1.0, 2.0, q)),
        ("compile grad icdf", jax.grad(lambda loc, q: icdf(loc, -1.0, 2.0, q))),
        ("compile log_prob", log_prob),
    ]:
        results[name] = {
            "time": min(compile_time(fn, dtype(0.3), dtype(0.4)) for _ in range(3))
        }
    return results


def report(script):
    single_threaded_xla()
    for x64 in (False, True):
        res = best_side_by_side(script, ("time",), ROUNDS, x64=x64)
        rows = []
        for name, fork in res["fork"].items():
            up = res["upstream"][name]
            rows.append(
                [
                    name,
                    fmt_time(fork["time"]),
                    fmt_time(up["time"]),
                    "{:.2f}".format(fork["time"] / up["time"]),
                ]
            )
        print_table(
            "{} (CPU, one XLA thread; 10^6 points or lanes unless said)".format(
                "float64" if x64 else "float32"
            ),
            ["mode", "fork", "0.22.0", "fork/0.22.0"],
            rows,
        )


if __name__ == "__main__":
    main(worker, report)
