# SPDX-License-Identifier: Apache-2.0
"""Benchmark of patch 0001 (truncated icdf): ``icdf`` of truncated distributions on
10^6 points, jitted, in float32 and float64, for the fork and the unpatched 0.22.0
side by side, and SciPy (float64, NumPy arrays) as a yardstick.

The fork must stay within 1.3x of 0.22.0's time in the bulk of the distribution.
The tail cases show what the time buys: 0.22.0's answers there are wrong (the
error columns are the largest error relative to ``max(1, |x|)`` against SciPy's
``truncnorm`` in float64).

Run: ``python benchmarks/bench_truncated_icdf.py`` (about fifteen minutes).
"""

import os
import sys

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
# (label, base family, base parameters, low, high, bulk?)
CASES = [
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
    ("Normal [38, 40]", "Normal", (0.0, 1.0), 38.0, 40.0, False),
]
ROUNDS = 3
SLOW = ("StudentT",)  # 0.22.0 takes tens of seconds per call: fewer repeats


def quantiles(dtype):
    rng = np.random.default_rng(0)
    return rng.uniform(size=N).astype(dtype)


def scipy_icdf(family, params, low, high, q):
    """SciPy's answer in float64: ``truncnorm`` for the normal, else the base
    ``ppf`` of the mapped probability (accurate for bounds in the bulk)."""
    from scipy import stats

    if family == "Normal":
        loc, scale = params
        a = -np.inf if low is None else (low - loc) / scale
        b = np.inf if high is None else (high - loc) / scale
        return stats.truncnorm.ppf(q, a, b, loc=loc, scale=scale)
    base = {
        "Cauchy": lambda: stats.cauchy(*params),
        "Laplace": lambda: stats.laplace(*params),
        "Logistic": lambda: stats.logistic(*params),
        "SoftLaplace": None,
        "StudentT": lambda: stats.t(*params),
    }[family]
    if base is None:
        # SoftLaplace: F(x) = 2 / pi * arctan(exp(z))
        loc, scale = params
        f_low = 2 / np.pi * np.arctan(np.exp((low - loc) / scale))
        f_high = 2 / np.pi * np.arctan(np.exp((high - loc) / scale))
        p = f_low + q * (f_high - f_low)
        return loc + scale * np.log(np.tan(0.5 * np.pi * p))
    base = base()
    f_low = 0.0 if low is None else base.cdf(low)
    f_high = 1.0 if high is None else base.cdf(high)
    return base.ppf(f_low + q * (f_high - f_low))


def worker(label):
    import jax
    import jax.numpy as jnp

    import numpyro.distributions as dist

    x64 = jax.config.jax_enable_x64
    dtype = np.float64 if x64 else np.float32
    q_np = quantiles(dtype)
    q = jnp.asarray(q_np)
    results = {}
    for name, family, params, low, high, _ in CASES:
        d = dist.TruncatedDistribution(
            getattr(dist, family)(*params), low=low, high=high
        )
        icdf = jax.jit(d.icdf)
        repeat = 1 if family in SLOW else 7
        seconds = best_time(icdf, q, repeat=repeat)
        x = np.asarray(icdf(q), dtype=np.float64)
        ref = scipy_icdf(family, params, low, high, q_np.astype(np.float64))
        with np.errstate(invalid="ignore"):
            err = np.abs(x - ref) / np.maximum(1.0, np.abs(ref))
        err = np.where(np.isnan(err), np.inf, err)
        results[name] = {"time": seconds, "err": float(np.max(err))}
        if label == "fork":
            q64 = q_np.astype(np.float64)
            results[name]["scipy"] = best_time(
                lambda: scipy_icdf(family, params, low, high, q64), repeat=repeat
            )
    return results


def ratio(a, b):
    return "{:.2f}".format(a / b)


def report(script):
    single_threaded_xla()
    rows = []
    worst_bulk = 0.0
    for x64 in (False, True):
        res = best_side_by_side(script, ("time", "scipy"), ROUNDS, x64=x64)
        dtype = "float64" if x64 else "float32"
        for name, family, params, low, high, bulk in CASES:
            fork, upstream = res["fork"][name], res["upstream"][name]
            if bulk:
                worst_bulk = max(worst_bulk, fork["time"] / upstream["time"])
            rows.append(
                [
                    name,
                    dtype,
                    fmt_time(fork["time"]),
                    fmt_time(upstream["time"]),
                    ratio(fork["time"], upstream["time"]),
                    fmt_time(fork["scipy"]),
                    ratio(fork["time"], fork["scipy"]),
                    "{:.1e}".format(fork["err"]),
                    "{:.1e}".format(upstream["err"]),
                ]
            )
    print_table(
        "truncated icdf, {:,} points, jitted (CPU, one thread)".format(N),
        [
            "case",
            "dtype",
            "fork",
            "0.22.0",
            "fork/0.22.0",
            "SciPy f64",
            "fork/SciPy",
            "err fork",
            "err 0.22.0",
        ],
        rows,
    )
    print(
        "\nBulk cases: the fork takes at most {:.2f}x the time of 0.22.0 "
        "(budget 1.30x).".format(worst_bulk)
    )


if __name__ == "__main__":
    main(worker, report)
