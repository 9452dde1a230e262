# SPDX-License-Identifier: Apache-2.0
"""Nested sampling with dynesty, the prior given by a NumPyro JointDistribution.

Nested samplers draw points from the unit cube and need a *prior transform*, a
map from the cube onto the parameter space that pushes the uniform distribution
onto the prior. For independent priors it is the inverse CDF of each coordinate,
which is what ``JointDistribution.icdf`` computes: ``icdf(u)[i]`` is the inverse
CDF of the ``i``-th marginal at ``u[i]``.

The model is a straight line ``y = a + b t`` observed with Gaussian noise of
unknown scale ``s`` at a few points, with one prior of each kind of support::

    a ~ TruncatedNormal(0, 1, low=-1, high=2)     a truncated prior
    b ~ Beta(2, 3)                                a bounded prior
    s ~ HalfNormal(1)                             a half-line prior

dynesty estimates the log-evidence ``log Z = log ∫ p(a, b, s) L(a, b, s)``; it is
compared with the same integral computed by ``scipy.integrate.tplquad`` with the
SciPy densities of the priors. A small number of live points and a fixed seed
keep the run short and reproducible.

Run: ``python examples/nested_sampling_dynesty.py [--nlive 200] [--out nested.png]``
"""

import argparse
import time

import numpy as np
import scipy.integrate
import scipy.stats as sp

import jax
import jax.numpy as jnp

import numpyro.distributions as dist

TRUTH = dict(a=0.5, b=0.6, s=0.3)
NAMES = ("a", "b", "s")


def make_prior():
    return dist.JointDistribution(
        dist.TruncatedNormal(0.0, 1.0, low=-1.0, high=2.0),
        dist.Beta(2.0, 3.0),
        dist.HalfNormal(1.0),
    )


def scipy_priors():
    return [sp.truncnorm(-1.0, 2.0), sp.beta(2.0, 3.0), sp.halfnorm(scale=1.0)]


def make_data(num_points=8, seed=0):
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, num_points)
    y = TRUTH["a"] + TRUTH["b"] * t + TRUTH["s"] * rng.normal(size=num_points)
    return t, y


def log_likelihood(theta, t, y):
    a, b, s = theta
    r = y - a - b * t
    return float(-0.5 * np.sum(r**2) / s**2 - len(y) * np.log(s * np.sqrt(2 * np.pi)))


def prior_transform_fn(prior):
    """The unit cube -> the prior, as dynesty calls it (one point at a time)."""
    icdf = jax.jit(prior.icdf)

    def prior_transform(u):
        return np.asarray(icdf(jnp.asarray(u)), dtype=np.float64)

    return prior_transform


def run_dynesty(prior, t, y, nlive=200, seed=0, dlogz=0.05):
    import dynesty

    sampler = dynesty.NestedSampler(
        lambda theta: log_likelihood(theta, t, y),
        prior_transform_fn(prior),
        ndim=3,
        nlive=nlive,
        rstate=np.random.default_rng(seed),
    )
    sampler.run_nested(dlogz=dlogz, print_progress=False)
    return sampler.results


def reference_log_evidence(t, y):
    """log ∫ p(a) p(b) p(s) L(a, b, s) by numerical integration with SciPy.

    For fixed ``(b, s)`` the likelihood is a Gaussian function of ``a``, so the
    integral over ``a`` against the truncated normal prior is a difference of
    normal CDFs; the remaining integral over ``(b, s)`` is done by
    ``scipy.integrate.dblquad`` (``tplquad`` over the three parameters agrees
    but takes minutes).
    """
    n = len(y)
    pb, ps = sp.beta(2.0, 3.0), sp.halfnorm(scale=1.0)
    log_z_a = np.log(sp.norm.cdf(2.0) - sp.norm.cdf(-1.0))  # truncation of p(a)

    def log_integral_over_a(b, s):
        # ∫_{-1}^{2} N(a; 0, 1) exp(-k (a - m)^2 / 2) da with k = n / s^2
        r = y - b * t
        m = r.mean()
        k = n / s**2
        precision = 1.0 + k
        center = k * m / precision
        mass = sp.norm.cdf((2.0 - center) * np.sqrt(precision)) - sp.norm.cdf(
            (-1.0 - center) * np.sqrt(precision)
        )
        log_value = -0.5 * k * m**2 + 0.5 * precision * center**2
        log_value += np.log(mass) - 0.5 * np.log(precision)
        # the rest of the likelihood, which does not depend on a
        log_rest = -0.5 * np.sum((r - m) ** 2) / s**2 - n * np.log(
            s * np.sqrt(2 * np.pi)
        )
        return log_value + log_rest - log_z_a

    # the log of the integrand at the least-squares line, to integrate a function
    # of order one
    coef = np.polyfit(t, y, 1)
    s_hat = np.sqrt(np.mean((y - np.polyval(coef, t)) ** 2))
    shift = log_integral_over_a(min(max(coef[0], 0.01), 0.99), s_hat)

    def integrand(s, b):
        return np.exp(log_integral_over_a(b, s) - shift + pb.logpdf(b) + ps.logpdf(s))

    # the half-normal prior puts a mass of 2e-15 above s = 8
    value, error = scipy.integrate.dblquad(
        integrand, 0.0, 1.0, 1e-6, 8.0, epsabs=0.0, epsrel=1e-9
    )
    return np.log(value) + shift, error / value


def plot(results, prior, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weights = np.exp(results.logwt - results.logz[-1])
    samples = results.samples
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    for i, (ax, name, ref) in enumerate(zip(axes, NAMES, scipy_priors())):
        lo, hi = {"a": (-1.0, 2.0), "b": (0.0, 1.0), "s": (0.0, 1.5)}[name]
        grid = np.linspace(lo, hi, 400)
        ax.hist(
            samples[:, i],
            bins=40,
            range=(lo, hi),
            weights=weights,
            density=True,
            alpha=0.6,
            label="posterior (dynesty)",
        )
        ax.plot(grid, ref.pdf(grid), "k--", label="prior (SciPy)")
        ax.axvline(TRUTH[name], color="C3", label="truth")
        ax.set_xlabel(name)
    axes[0].legend(fontsize=8)
    fig.suptitle(
        "line fit, priors as a JointDistribution; log Z = {:.3f} ± {:.3f}".format(
            results.logz[-1], results.logzerr[-1]
        )
    )
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nlive", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="nested_sampling_dynesty.png")
    args = parser.parse_args()

    prior = make_prior()
    t, y = make_data()
    start = time.perf_counter()
    results = run_dynesty(prior, t, y, nlive=args.nlive, seed=args.seed)
    elapsed = time.perf_counter() - start
    logz, logz_err = results.logz[-1], results.logzerr[-1]
    start = time.perf_counter()
    ref, ref_rel_err = reference_log_evidence(t, y)
    elapsed_ref = time.perf_counter() - start
    print(
        "dynesty (nlive={}, {} likelihood calls, {:.1f} s): log Z = {:.4f} ± {:.4f}".format(
            args.nlive, int(np.sum(results.ncall)), elapsed, logz, logz_err
        )
    )
    print(
        "scipy.integrate ({:.1f} s): log Z = {:.4f} (rel. error {:.1e})".format(
            elapsed_ref, ref, ref_rel_err
        )
    )
    print(
        "difference: {:.4f} = {:.2f} sigma".format(logz - ref, (logz - ref) / logz_err)
    )
    plot(results, prior, args.out)
    print("plot:", args.out)


if __name__ == "__main__":
    main()
