# SPDX-License-Identifier: Apache-2.0
"""Power laws: ``log_prob`` with its gradient, and ``icdf`` (jitted), fork vs upstream.

The fork writes ``DoublyTruncatedPowerLaw`` and ``LowerTruncatedPowerLaw`` with
expm1/log1p and series at alpha = -1, and lets autodiff differentiate them (upstream
has hand-written derivative rules, wrong for the bounds). This measures what the
stable formulas cost, in float32 and float64, on 10^6 points: the sum of
``log_prob`` with its gradient w.r.t. (alpha, low, high), as a NUTS step needs it,
and ``icdf`` (what ``sample`` and nested samplers call). The table also gives the
gradient w.r.t. low of both versions (of the first 1000 points), against the
analytic value.

Run: ``PYTHONPATH=<fork> python benchmarks/bench_powerlaw.py``
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

N = 1_000_000
REPEAT = 20  # timings, of which the best is kept
ROUNDS = 3  # alternate runs of the fork and upstream workers
CASES = {
    # the mass spectrum of pyro-ppl/numpyro#1780
    "doubly, alpha=-2.35 on [5, 80]": ("doubly", (-2.35, 5.0, 80.0)),
    "doubly, alpha=-1 on [5, 80]": ("doubly", (-1.0, 5.0, 80.0)),
    "doubly, alpha=1.5 on [1e-3, 1e6]": ("doubly", (1.5, 1e-3, 1e6)),
    "lower, alpha=-2.35 from 5": ("lower", (-2.35, 5.0)),
}


def _analytic_grad_low(kind, params, x):
    # d/d low of the summed log density
    if kind == "lower":
        alpha, low = params
        return -(1 + alpha) / low * len(x)
    alpha, low, high = params
    beta = 1 + alpha
    if beta == 0:
        return len(x) / (low * np.log(high / low))
    return len(x) * beta * low**alpha / (high**beta - low**beta)


def worker(label):
    import jax
    import jax.numpy as jnp

    import numpyro
    import numpyro.distributions as dist

    numpyro.enable_validation(True)  # the default of NumPyro 0.22.0
    dtype = jnp.result_type(float)
    results = {"numpyro": numpyro.__version__, "dtype": str(dtype)}
    q = jnp.asarray(np.random.default_rng(0).uniform(0, 1, N), dtype)
    for name, (kind, params) in CASES.items():
        cls = (
            dist.DoublyTruncatedPowerLaw
            if kind == "doubly"
            else (dist.LowerTruncatedPowerLaw)
        )
        params = tuple(jnp.asarray(p, dtype) for p in params)
        x = cls(*params).icdf(q)

        def loss(params, x, cls=cls):
            return cls(*params).log_prob(x).sum()

        def icdf(params, q, cls=cls):
            return cls(*params).icdf(q)

        value_and_grad = jax.jit(jax.value_and_grad(loss))
        icdf = jax.jit(icdf)
        x_check = x[:1000]
        grad_low = float(jax.grad(loss)(params, x_check)[1])
        results[name] = {
            "log_prob+grad": common.best_time(value_and_grad, params, x, repeat=REPEAT),
            "icdf": common.best_time(icdf, params, q, repeat=REPEAT),
            "grad_low": grad_low,
            "grad_low_true": _analytic_grad_low(
                kind, [float(p) for p in params], np.asarray(x_check)
            ),
        }
    return results


def report(script):
    # single-threaded XLA, and the two versions run alternately several times, so
    # that the load of a shared machine disturbs both alike
    common.single_threaded_xla()
    rows = []
    for x64 in (False, True):
        best = common.best_side_by_side(
            script, ("log_prob+grad", "icdf"), ROUNDS, x64=x64
        )
        fork, upstream = best["fork"], best["upstream"]
        for name in CASES:
            f, u = fork[name], upstream[name]
            for what in ("log_prob+grad", "icdf"):
                notes = ""
                if what == "log_prob+grad":
                    notes = "d/d low: fork {:.5g}, upstream {:.5g}, true {:.5g}".format(
                        f["grad_low"], u["grad_low"], f["grad_low_true"]
                    )
                rows.append(
                    [
                        name,
                        fork["dtype"],
                        what,
                        common.fmt_time(f[what]),
                        common.fmt_time(u[what]),
                        "{:.2f}".format(f[what] / u[what]),
                        notes,
                    ]
                )
    common.print_table(
        "Power laws, jitted, {} points (fork {} vs upstream {})".format(
            N, fork["numpyro"], upstream["numpyro"]
        ),
        ["distribution", "dtype", "", "fork", "upstream", "fork/upstream", "notes"],
        rows,
    )


if __name__ == "__main__":
    common.main(worker, report)
