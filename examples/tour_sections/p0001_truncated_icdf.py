# SPDX-License-Identifier: Apache-2.0
"""Patch 0001: truncated icdf, cdf and log_prob far in the tails."""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import scipy.stats as sp  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import numpyro.distributions as dist  # noqa: E402

TITLE = "truncated icdf, cdf and log_prob far in the tails"

# (low, high) in scale units of a standard normal, far out in either tail
TAILS = [(-40.0, -38.0), (8.0, np.inf), (38.0, 40.0)]


def _error(x, ref):
    """Largest error relative to ``max(1, |ref|)``."""
    x = np.asarray(x, np.float64)
    with np.errstate(invalid="ignore"):
        err = np.abs(x - ref) / np.maximum(1.0, np.abs(ref))
    return float(np.max(np.where(x == ref, 0.0, np.where(np.isnan(err), np.inf, err))))


def run(check, out_dir):
    q = np.linspace(0.0, 1.0, 201)

    # 1. 0.22.0 returned -12.95 (float32) or -37.52 (float64) for every q here:
    #    outside the support
    for x64, tol, old in [(False, 1e-4, -12.95), (True, 1e-9, -37.52)]:
        with jax.enable_x64(x64):
            dtype = jnp.float64 if x64 else jnp.float32
            d = dist.TruncatedNormal(0.0, 1.0, low=-40.0, high=-38.0)
            x = np.asarray(d.icdf(jnp.asarray(np.asarray(q, dtype))))
        ref = sp.truncnorm.ppf(q, -40.0, -38.0)
        err = _error(x, ref)
        check(
            "TruncatedNormal(0, 1, low=-40, high=-38).icdf, {}".format(
                "float64" if x64 else "float32"
            ),
            err <= tol and bool(np.all((x >= -40.0) & (x <= -38.0))),
            "max error {:.1e} vs SciPy truncnorm (0.22.0: {} for every q)".format(
                err, old
            ),
        )

    # 2. float32 cdf of a far right tail truncation: 0.22.0 gave nan
    d = dist.TruncatedNormal(0.0, 1.0, low=8.0)
    x = d.icdf(jnp.array([0.01, 0.5, 0.99]))
    cdf = d.cdf(x)
    ref = sp.truncnorm.cdf(np.asarray(x, np.float64), 8.0, np.inf)
    check(
        "TruncatedNormal(0, 1, low=8) float32 cdf(icdf(q))",
        _error(cdf, ref) <= 1e-4 and bool(jnp.all(jnp.isfinite(cdf))),
        "cdf at q = 0.01, 0.5, 0.99: {} (SciPy {}; 0.22.0: nan)".format(
            np.asarray(cdf).round(5), ref.round(5)
        ),
    )

    # 3. Student's t far in its tail, float32 and float64, and d icdf / dq = 1 / pdf
    base = sp.t(3.0)
    ref = base.isf(base.sf(20.0) * (1 - q[1:-1]))
    for x64, tol in [(False, 1e-5), (True, 1e-9)]:
        with jax.enable_x64(x64):
            dtype = np.float64 if x64 else np.float32
            d = dist.TruncatedDistribution(dist.StudentT(dtype(3.0)), low=dtype(20.0))
            x = np.asarray(d.icdf(jnp.asarray(q[1:-1], dtype)))
            grad = float(jax.grad(lambda t: d.icdf(t))(dtype(0.5)))
        pdf = base.pdf(ref[99]) / base.sf(20.0)
        check(
            "TruncatedDistribution(StudentT(3), low=20), {}".format(
                "float64" if x64 else "float32"
            ),
            _error(x, ref) <= tol and abs(grad * pdf - 1) < 10 * tol,
            "icdf max error {:.1e} vs SciPy; d icdf/dq at 0.5 = 1/pdf to {:.0e} "
            "(0.22.0, float32: error 2.6e-4 at q = 0.9)".format(
                _error(x, ref), abs(grad * pdf - 1)
            ),
        )

    # 4. plot: icdf curves of tail truncations, fork (float32) vs SciPy
    fig, axes = plt.subplots(1, len(TAILS), figsize=(12, 3.6))
    for ax, (low, high) in zip(axes, TAILS):
        d = dist.TruncatedNormal(
            0.0, 1.0, low=low, high=None if np.isinf(high) else high
        )
        ax.plot(q, sp.truncnorm.ppf(q, low, high), "k-", lw=3, alpha=0.3)
        ax.plot(q, np.asarray(d.icdf(jnp.asarray(q, jnp.float32))), "C0--")
        ax.set_title("TruncatedNormal(0, 1) on [{:g}, {:g}]".format(low, high))
        ax.set_xlabel("q")
    axes[0].set_ylabel("icdf(q)")
    axes[0].legend(["SciPy truncnorm (float64)", "fork (float32)"], loc="lower right")
    fig.tight_layout()
    path = os.path.join(out_dir, "p0001_truncated_icdf.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print("  plot: {}".format(path))
