# SPDX-License-Identifier: Apache-2.0
"""Power laws: speed of the fork against NumPyro 0.22.0, in every mode users call them.

``DoublyTruncatedPowerLaw`` and ``LowerTruncatedPowerLaw`` (patch 0006) compute
``log_prob``, ``cdf`` and ``icdf`` with expm1/log1p forms that are exact for every
index and pair of bounds, differentiated by autodiff (0.22.0 has power formulas and
hand-written derivative rules). Measured, in float32 and float64:

- eager: one call of ``log_prob``, ``cdf``, ``icdf`` (1000 points) and ``sample``
  (1000 draws), not jitted, as in an interactive session;
- jit: the same on 10^6 points, scalar parameters;
- vmap: 10^6 lanes, each with its own alpha, low and high;
- grad: the sum of ``log_prob`` with its gradient w.r.t. (alpha, low, high) (what
  NUTS evaluates), scalar parameters and per-lane, and the pathwise gradient of
  ``sample`` (the sum of the icdf of 10^6 uniforms w.r.t. the parameters);
- compile: tracing, lowering and compiling ``jit(log_prob)``, ``jit(icdf)`` and
  ``jit(grad(log_prob))``.

Run: ``.venv/bin/python benchmarks/bench_powerlaw.py`` (the fork and 0.22.0 run
alternately, 3 rounds, one XLA thread; the best time of each is kept).
"""

import functools
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

N = 1_000_000
N_EAGER = 1000
REPEAT = 10  # timings, of which the best is kept
ROUNDS = 3  # alternate runs of the fork and upstream workers
CASES = {
    # the mass spectrum of pyro-ppl/numpyro#1780
    "doubly(-2.35, 5, 80)": ("doubly", (-2.35, 5.0, 80.0)),
    "doubly(-1, 5, 80)": ("doubly", (-1.0, 5.0, 80.0)),
    "doubly(1.5, 1e-3, 1e6)": ("doubly", (1.5, 1e-3, 1e6)),
    "lower(-2.35, 5)": ("lower", (-2.35, 5.0)),
}
MODES = [
    ("eager", ["log_prob", "cdf", "icdf", "sample"]),
    ("jit", ["log_prob", "cdf", "icdf", "sample"]),
    ("vmap", ["log_prob", "cdf", "icdf"]),
    ("grad", ["log_prob", "log_prob per-lane", "sample"]),
    ("compile", ["log_prob", "icdf", "grad log_prob"]),
]
MEASUREMENTS = [mode + " " + what for mode, whats in MODES for what in whats]


def compile_time(fn, *args, repeat=5):
    """Best time of tracing, lowering and compiling a fresh ``jit(fn)``, JAX's
    caches cleared first (as at a user's first call: the fork's methods call
    jitted helpers, whose traces would otherwise be reused)."""
    import jax

    best = float("inf")
    for _ in range(repeat):
        jax.clear_caches()
        start = time.perf_counter()
        jax.jit(lambda *a: fn(*a)).lower(*args).compile()
        best = min(best, time.perf_counter() - start)
    return best


def worker(label):
    import jax
    import jax.numpy as jnp

    import numpyro
    import numpyro.distributions as dist

    numpyro.enable_validation(False)
    dtype = jnp.result_type(float)
    results = {"numpyro": numpyro.__version__, "dtype": str(dtype)}
    rng = np.random.default_rng(0)
    q = jnp.asarray(rng.uniform(0.001, 0.999, N), dtype)
    key = jax.random.key(0)
    for name, (kind, params) in CASES.items():
        cls = {
            "doubly": dist.DoublyTruncatedPowerLaw,
            "lower": dist.LowerTruncatedPowerLaw,
        }[kind]
        params = tuple(jnp.asarray(p, dtype) for p in params)
        x = cls(*params).icdf(q)
        # per-lane parameters around the case's
        scale = jnp.asarray(rng.uniform(0.8, 1.25, (len(params), N)), dtype)
        lanes = tuple(p * s for p, s in zip(params, scale))
        if kind == "doubly":  # keep low < high
            lanes = (lanes[0], jnp.minimum(lanes[1], params[1]), lanes[2])
        x_lanes = cls(*lanes).icdf(q)

        def method(params, v, what, cls=cls):
            return getattr(cls(*params), what)(v)

        def sample(params, n, cls=cls):
            return cls(*params).sample(key, (n,))

        def loss(params, v, cls=cls):
            return cls(*params).log_prob(v).sum()

        def sample_loss(params, cls=cls):
            return cls(*params).sample(key, (N,)).sum()

        r = {}
        for what, v in [("log_prob", x), ("cdf", x), ("icdf", q)]:
            r["eager " + what] = common.best_time(
                method, params, v[:N_EAGER], what, repeat=REPEAT
            )
        r["eager sample"] = common.best_time(sample, params, N_EAGER, repeat=REPEAT)
        for what, v, v_lanes in [
            ("log_prob", x, x_lanes),
            ("cdf", x, x_lanes),
            ("icdf", q, q),
        ]:
            fn = functools.partial(method, what=what)
            r["jit " + what] = common.best_time(jax.jit(fn), params, v, repeat=REPEAT)
            r["vmap " + what] = common.best_time(
                jax.jit(jax.vmap(fn)), lanes, v_lanes, repeat=REPEAT
            )
        r["jit sample"] = common.best_time(
            jax.jit(sample, static_argnums=1), params, N, repeat=REPEAT
        )
        value_and_grad = jax.jit(jax.value_and_grad(loss))
        r["grad log_prob"] = common.best_time(value_and_grad, params, x, repeat=REPEAT)
        r["grad log_prob per-lane"] = common.best_time(
            value_and_grad, lanes, x_lanes, repeat=REPEAT
        )
        r["grad sample"] = common.best_time(
            jax.jit(jax.value_and_grad(sample_loss)), params, repeat=REPEAT
        )
        r["compile log_prob"] = compile_time(
            functools.partial(method, what="log_prob"), params, x
        )
        r["compile icdf"] = compile_time(
            functools.partial(method, what="icdf"), params, q
        )
        r["compile grad log_prob"] = compile_time(jax.grad(loss), params, x)
        results[name] = r
    return results


def report(script):
    # single-threaded XLA, and the two versions run alternately several times, so
    # that the load of a shared machine disturbs both alike
    common.single_threaded_xla()
    for x64 in (False, True):
        best = common.best_side_by_side(script, MEASUREMENTS, ROUNDS, x64=x64)
        fork, upstream = best["fork"], best["upstream"]
        headers = ["mode", "call"] + list(CASES)
        rows = []
        worst = 0.0
        for mode, whats in MODES:
            for what in whats:
                key = mode + " " + what
                cells = []
                for name in CASES:
                    f, u = fork[name][key], upstream[name][key]
                    worst = max(worst, f / u)
                    cells.append(
                        "{:.2f} ({} / {})".format(
                            f / u, common.fmt_time(f), common.fmt_time(u)
                        )
                    )
                rows.append([mode, what] + cells)
        common.print_table(
            "Power laws, {}: fork / 0.22.0 (fork time / 0.22.0 time), worst {:.2f}".format(
                fork["dtype"], worst
            ),
            headers,
            rows,
        )


if __name__ == "__main__":
    common.main(worker, report)
