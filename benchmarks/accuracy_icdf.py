# SPDX-License-Identifier: Apache-2.0
"""Accuracy of patch 0007's quantiles for large parameters: Beta, and the discrete
families (no 0.22.0 side for these: 0.22.0 has no icdf for them).

For Beta(a, b) with a and b from 0.05 to 1e6 (also lopsided), ``icdf`` on 501 probabilities in
[1e-6, 1 - 1e-6] (float32) or [1e-12, 1 - 1e-12] (float64) against SciPy's
``ppf`` (where SciPy's own cdf gives q back): the largest relative error, and
the largest error in standard deviations. For Poisson, Binomial(n, 0.3) and
GammaPoisson(c, 0.01) with growing parameters, ``icdf`` on 2001 probabilities
evenly spaced in [1e-6, 1 - 1e-6], in float32 and float64, against SciPy's
``ppf``: the largest difference, in counts and in standard deviations, and the
fraction of quantiles that differ (Poisson also at rates 1e7 to 1e9, float64 only:
float32 does not hold such counts); also the largest absolute error of the
distribution's ``cdf`` (0007's: it changes Poisson's for counts from 1e6 (float64)
or 500 (float32), and GammaPoisson's) within three standard deviations of the mean
(and at least 0). Then float64 quantiles against mpmath where SciPy's ``ppf`` is
off: four far in an upper tail (Poisson at rates 1e7 to 1e9, GammaPoisson), and
Beta(8, 1e6) at five q (mpmath needed; skipped without it).

Run: ``python benchmarks/accuracy_icdf.py`` (about a minute).
"""

import os

import numpy as np
from scipy import stats

import jax
import jax.numpy as jnp

import numpyro
import numpyro.distributions as dist

CASES = (
    [
        (f"Poisson({r:g})", lambda r=r: (dist.Poisson(r), stats.poisson(r)))
        for r in (10.0, 100.0, 1e3, 1e4, 1e5, 1e6)
    ]
    + [
        (
            f"Binomial({n:g}, 0.3)",
            lambda n=n: (dist.Binomial(n, 0.3), stats.binom(n, 0.3)),
        )
        for n in (100, 1000, 10**4, 10**5, 10**6)
    ]
    + [
        (
            f"GammaPoisson({c:g}, 0.01)",
            lambda c=c: (dist.GammaPoisson(c, 0.01), stats.nbinom(c, 0.01 / 1.01)),
        )
        for c in (1.0, 100.0, 1e4)
    ]
)
X64_CASES = [
    (f"Poisson({r:g})", lambda r=r: (dist.Poisson(r), stats.poisson(r)))
    for r in (1e7, 1e8, 1e9)
]


def row(name, make, x64):
    dtype = np.float64 if x64 else np.float32
    with jax.enable_x64(x64):
        d, ref = make()
        q = jnp.asarray(np.linspace(1e-6, 1 - 1e-6, 2001), dtype)
        k = np.asarray(d.icdf(q), np.float64)
        mean, sd = ref.mean(), ref.std()
        grid = np.maximum(np.floor(mean + sd * np.linspace(-3, 3, 61)), 0)
        cdf = np.asarray(d.cdf(jnp.asarray(grid, dtype)), np.float64)
    err = np.abs(k - ref.ppf(np.asarray(q, np.float64)))
    cdf_err = np.abs(cdf - ref.cdf(grid)).max()
    # NaN quantiles (where the cdf is NaN) counted apart
    nan = np.isnan(k).sum()
    worst = f"{np.nanmax(err):.0f}" + (f" ({nan} NaN)" if nan else "")
    return (
        f"| {name} | {dtype.__name__} | {worst} | {np.nanmax(err) / sd:.3g} "
        f"| {np.mean(err > 0):.3f} | {cdf_err:.2g} |"
    )


BETA = (
    [(0.05, 0.05), (0.5, 3.0), (2.0, 5.0), (20.0, 2.0), (200.0, 300.0)]
    + [(a, a) for a in (1e4, 1e5, 1e6)]
    + [(7e5, 3e5), (1e6, 200.0), (20.0, 1e4), (8.0, 1e6), (0.5, 1e6)]
)


def beta_row(a, b, x64):
    dtype = np.float64 if x64 else np.float32
    end = 1e-12 if x64 else 1e-6
    with jax.enable_x64(x64):
        q = jnp.asarray(np.linspace(end, 1 - end, 501), dtype)
        x = np.asarray(dist.Beta(a, b).icdf(q), np.float64)
    ref = stats.beta(a, b)
    expected = ref.ppf(np.asarray(q, np.float64))
    # where the quantile is a normal float of the dtype, and SciPy's ppf is
    # accurate (its own cdf, or sf above the median, gives q back to 1e-9: at
    # q = 1e-12 SciPy's Beta(0.5, 3) quantile is 1.8e-27, where I_x = 7.9e-14)
    qq = np.asarray(q, np.float64)
    back = np.where(qq <= 0.5, ref.cdf(expected) / qq, ref.sf(expected) / (1 - qq))
    keep = (expected > np.finfo(dtype).tiny) & (np.abs(back - 1) <= 1e-9)
    err = np.abs(x - expected)[keep]
    rel = (err / expected[keep]).max()
    return f"| Beta({a:g}, {b:g}) | {dtype.__name__} | {rel:.2g} | {err.max() / ref.std():.2g} |"


def far_tails():
    try:
        import mpmath
    except ImportError:
        print("(mpmath not installed: the far-tail checks are skipped)")
        return
    mpmath.mp.dps = 40
    print("\n| case | q | fork icdf | exact (mpmath) | SciPy ppf |")
    print("|---|---|---|---|---|")
    with jax.enable_x64():
        # Poisson: F(k) = Q(k + 1, rate)
        q = 1 - 1e-6
        for rate in (1e7, 1e8, 1e9):
            k = float(dist.Poisson(rate).icdf(q))
            exact = _smallest(
                lambda j, rate=rate: (
                    mpmath.gammainc(j + 1, rate, mpmath.inf, regularized=True) >= q
                ),
                k,
            )
            print(
                f"| Poisson({rate:g}) | 1 - 1e-6 | {k:.0f} | {exact:.0f} "
                f"| {stats.poisson(rate).ppf(q):.0f} |"
            )
        # GammaPoisson(0.5, 1e-6): S(k) = I_{1-p}(k + 1, c), p = rate / (1 + rate)
        q = 1 - 1e-12
        k = float(dist.GammaPoisson(0.5, 1e-6).icdf(q))
        p = mpmath.mpf(1e-6) / (1 + mpmath.mpf(1e-6))
        tail = 1 - mpmath.mpf(q)
        exact = _smallest(
            lambda j: mpmath.betainc(j + 1, 0.5, 0, 1 - p, regularized=True) <= tail, k
        )
        print(
            f"| GammaPoisson(0.5, 1e-6) | 1 - 1e-12 | {k:.0f} | {exact:.0f} "
            f"| {stats.nbinom(0.5, 1e-6 / (1 + 1e-6)).ppf(q):.0f} |"
        )
        # Beta(8, 1e6): the root of I_x = q (or of 1 - I_x = 1 - q above the
        # median) from SciPy's ppf, which is off by up to 8e-12 relative there
        for q in (1e-12, 0.5, 0.7, 0.9, 1 - 1e-12):
            x = float(dist.Beta(8.0, 1e6).icdf(q))
            start = stats.beta(8.0, 1e6).ppf(q)
            lower = q <= 0.5
            target = mpmath.mpf(q) if lower else 1 - mpmath.mpf(q)
            exact = mpmath.findroot(
                lambda t: (
                    mpmath.betainc(
                        8, 1e6, *((0, t) if lower else (t, 1)), regularized=True
                    )
                    - target
                ),
                mpmath.mpf(start),
            )
            print(
                f"| Beta(8, 1e6) | {q:.12g} | {x:.16g} | {float(exact):.16g} "
                f"| {start:.16g} |"
            )


def _smallest(reached, k):
    """The smallest integer j with reached(j), searched from k."""
    j = int(k)
    while not reached(j):
        j += 1
    while reached(j - 1):
        j -= 1
    return j


if __name__ == "__main__":
    print(
        f"numpyro {numpyro.__version__} from {os.path.dirname(numpyro.__file__)}, "
        f"jax {jax.__version__}\n"
    )
    print("| case | dtype | max relative error | max error (sd) |")
    print("|---|---|---|---|")
    for x64 in (False, True):
        for a, b in BETA:
            print(beta_row(a, b, x64))
    print()
    print(
        "| case | dtype | max diff (counts) | max diff (sd) | fraction differing "
        "| max abs cdf error (±3 sd) |"
    )
    print("|---|---|---|---|---|---|")
    for x64 in (False, True):
        for name, make in CASES + (X64_CASES if x64 else []):
            print(row(name, make, x64))
    far_tails()
