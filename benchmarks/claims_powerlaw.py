# SPDX-License-Identifier: Apache-2.0
"""Power laws: the defects of NumPyro 0.22.0 named in the message of patch 0006,
side by side with the fork and an mpmath reference (float64).

Each row is one claim of the message: a value or derivative of
``DoublyTruncatedPowerLaw``, computed by 0.22.0 and by the fork, and its reference,
the closed form (log_prob, cdf or icdf) evaluated with mpmath at 50 digits and
differentiated by ``mpmath.diff`` (one-sided at q = 0 and 1; with respect to
``low``, the closed forms of the derivatives, whose limits at ``low = 0`` are used).

Run: ``.venv/bin/python benchmarks/claims_powerlaw.py`` (needs mpmath; a few
seconds).
"""

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

# (claim, method, (alpha, low, high), value, argument differentiated or None)
CLAIMS = [
    ("example: d/d low of sum log_prob", "log_prob", (-2.3, 5, 80), [6, 20, 50], 1),
    ("example: d/d high of sum log_prob", "log_prob", (-2.3, 5, 80), [6, 20, 50], 2),
    ("alpha = -1: d cdf(20) / d high", "cdf", (-1.0, 5, 80), [20], 2),
    ("d cdf(100) / dx, x > high", "cdf", (-2.3, 5, 80), [100], 3),
    (
        "alpha = -1 + 1e-7 on [1, 1 + 1e-6]: d log_prob / d alpha",
        "log_prob",
        (-1 + 1e-7, 1, 1 + 1e-6),
        [1 + 5e-7],
        0,
    ),
    ("same: d log_prob / d low", "log_prob", (-1 + 1e-7, 1, 1 + 1e-6), [1 + 5e-7], 1),
    ("same: d log_prob / d high", "log_prob", (-1 + 1e-7, 1, 1 + 1e-6), [1 + 5e-7], 2),
    ("low = 0, alpha = -0.5: d cdf(1.3) / d low", "cdf", (-0.5, 0, 3), [1.3], 1),
    ("low = 0, alpha = 0: d log_prob(1.3) / d low", "log_prob", (0.0, 0, 3), [1.3], 1),
    (
        "alpha = 10 on [1e-30, 1e30]: log_prob(1e29)",
        "log_prob",
        (10.0, 1e-30, 1e30),
        [1e29],
        None,
    ),
    ("icdf(-0.1)", "icdf", (-2.35, 5, 80), [-0.1], None),
    ("d icdf / dq at q = 0", "icdf", (-2.35, 5, 80), [0.0], 3),
    ("d icdf / dq at q = 1", "icdf", (-2.35, 5, 80), [1.0], 3),
]


def worker(label):
    import jax
    import jax.numpy as jnp

    import numpyro.distributions as dist

    out = []
    for _, method, params, value, arg in CLAIMS:

        def fn(*args, method=method):
            d = dist.DoublyTruncatedPowerLaw(*args[:3], validate_args=False)
            return getattr(d, method)(args[3]).sum()

        args = [jnp.asarray(p, jnp.float64) for p in params]
        args.append(jnp.asarray(value, jnp.float64))
        try:
            r = fn(*args) if arg is None else jax.grad(fn, arg)(*args)
            out.append(float(jnp.sum(r)))
        except Exception as e:  # noqa: BLE001 (report what 0.22.0 raises)
            out.append(type(e).__name__)
    return out


def reference(method, params, value, arg):
    import mpmath

    mpmath.mp.dps = 50

    def normalizer(alpha, low, high):
        beta = alpha + 1
        if beta == 0:
            return mpmath.log(high / low)
        return (high**beta - low**beta) / beta

    def closed_form(alpha, low, high, x):
        beta = alpha + 1
        if method == "icdf":
            if not 0 <= x <= 1:
                return mpmath.nan
            if beta == 0:
                return low * (high / low) ** x
            return (low**beta + x * (high**beta - low**beta)) ** (1 / beta)
        norm = normalizer(alpha, low, high)
        if method == "log_prob":
            return alpha * mpmath.log(x) - mpmath.log(norm)
        if x > high:
            return mpmath.mpf(1)
        return normalizer(alpha, low, x) / norm

    total = 0
    for x in value:
        args = [mpmath.mpf(p) for p in params] + [mpmath.mpf(x)]
        alpha, low, high = args[:3]
        if arg is None:
            total += closed_form(*args)
        elif arg == 1:
            # d log_prob / d low = pdf(low), d cdf / d low = (cdf - 1) pdf(low),
            # pdf(low) = low ** alpha / Z, at low = 0 its limit from above
            if low > 0:
                pdf_low = low**alpha / normalizer(alpha, low, high)
            elif alpha == 0:
                pdf_low = 1 / normalizer(alpha, low, high)
            else:
                pdf_low = mpmath.inf if alpha < 0 else mpmath.mpf(0)
            if method == "log_prob":
                total += pdf_low
            else:
                total += (closed_form(*args) - 1) * pdf_low
        else:

            def f(t, args=args):
                return closed_form(*(args[:arg] + [t] + args[arg + 1 :]))

            # one-sided at the ends of [0, 1] for icdf
            direction = {0: 1, 1: -1}.get(float(x), 0) if method == "icdf" else 0
            total += mpmath.diff(f, args[arg], direction=direction)
    return float(total)


def report(script):
    results = common.side_by_side(script, x64=True)
    rows = []
    for claim, upstream, fork in zip(CLAIMS, results["upstream"], results["fork"]):
        ref = reference(*claim[1:])
        rows.append([claim[0], fmt(upstream), fmt(fork), fmt(ref)])
    common.print_table(
        "DoublyTruncatedPowerLaw, float64: NumPyro 0.22.0, the fork, mpmath",
        ["claim", "0.22.0", "fork", "mpmath"],
        rows,
    )


def fmt(v):
    if isinstance(v, str):
        return "raises " + v
    if math.isnan(v) or math.isinf(v):
        return str(v)
    return "{:.6g}".format(v)


if __name__ == "__main__":
    common.main(worker, report)
