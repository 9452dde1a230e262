# SPDX-License-Identifier: Apache-2.0
"""Patch 0007: icdf for every prior, so that nested samplers take any NumPyro prior."""

import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import scipy.integrate  # noqa: E402
import scipy.special  # noqa: E402
import scipy.stats as sp  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import numpyro.distributions as dist  # noqa: E402

TITLE = "icdf for every prior: nested sampling with any NumPyro prior"

# the mass spectrum of pyro-ppl/numpyro#1780: a power law on [5, 80] with a
# Gaussian peak at 35
M_LOW, M_HIGH, ALPHA, PEAK, WIDTH, PEAK_WEIGHT = 5.0, 80.0, -2.35, 35.0, 4.0, 0.2
V_LOC = np.array([0.0, 1.0, -1.0])
NAMES = ["p", "tau", "m", "v1", "v2", "v3"]


def make_priors():
    """The prior, marginal by marginal: a Beta, a Weibull, a mixture (power law
    and truncated Gaussian), and a vector parameter (``expand`` + ``to_event``)."""
    mass = dist.MixtureGeneral(
        dist.Categorical(probs=jnp.array([1 - PEAK_WEIGHT, PEAK_WEIGHT])),
        [
            dist.DoublyTruncatedPowerLaw(ALPHA, M_LOW, M_HIGH),
            dist.TruncatedNormal(PEAK, WIDTH, low=M_LOW, high=M_HIGH),
        ],
    )
    return [
        dist.Beta(2.0, 5.0),
        dist.Weibull(2.0, 1.5),
        mass,
        dist.Normal(jnp.asarray(V_LOC), 1.0).to_event(1),
    ]


def prior_transform_fn(priors):
    """The unit cube of dimension 6 -> the prior, for a batch of points (one
    compiled program for each batch size)."""

    @jax.jit
    def transform(u):
        return jnp.concatenate(
            [
                priors[0].icdf(u[:, 0])[:, None],
                priors[1].icdf(u[:, 1])[:, None],
                priors[2].icdf(u[:, 2])[:, None],
                priors[3].icdf(u[:, 3:]),
            ],
            axis=-1,
        )

    return transform


# SciPy / NumPy densities of the priors, independent of NumPyro
def mass_pdf(m):
    beta = 1 + ALPHA
    powerlaw = beta * m**ALPHA / (M_HIGH**beta - M_LOW**beta)
    a, b = (M_LOW - PEAK) / WIDTH, (M_HIGH - PEAK) / WIDTH
    peak = sp.truncnorm(a, b, loc=PEAK, scale=WIDTH).pdf(m)
    return (1 - PEAK_WEIGHT) * powerlaw + PEAK_WEIGHT * peak


SCIPY_PRIORS = [sp.beta(2.0, 5.0), sp.weibull_min(1.5, scale=2.0)]


def make_data(seed=0):
    """Independent data for each parameter, so that the evidence is a product of
    one-dimensional integrals: 7 successes in 20 trials (p), 6 exponential waiting
    times of mean tau, a measurement of m with noise 3, and of each v_i with noise
    0.5."""
    rng = np.random.default_rng(seed)
    return dict(
        successes=7,
        trials=20,
        waits=rng.exponential(1.8, size=6),
        m_obs=33.0,
        m_noise=3.0,
        v_obs=np.array([0.4, 1.3, -0.2]),
        v_noise=0.5,
    )


def log_likelihood(theta, data):
    p, tau, m, v = theta[0], theta[1], theta[2], theta[3:]
    k, n = data["successes"], data["trials"]
    ll = k * np.log(p) + (n - k) * np.log1p(-p)
    ll += -len(data["waits"]) * np.log(tau) - np.sum(data["waits"]) / tau
    ll += sp.norm.logpdf(data["m_obs"], m, data["m_noise"])
    ll += np.sum(sp.norm.logpdf(data["v_obs"], v, data["v_noise"]))
    return float(ll)


def reference_log_evidence(data):
    """log Z as a sum of one-dimensional log-evidences: closed forms for p and v,
    scipy.integrate.quad for tau and m."""
    k, n = data["successes"], data["trials"]
    log_z_p = scipy.special.betaln(2 + k, 5 + n - k) - scipy.special.betaln(2, 5)
    waits = data["waits"]

    def tau_integrand(tau):
        return np.exp(
            SCIPY_PRIORS[1].logpdf(tau) - len(waits) * np.log(tau) - waits.sum() / tau
        )

    z_tau, _ = scipy.integrate.quad(tau_integrand, 0, np.inf, epsrel=1e-11, limit=200)

    def m_integrand(m):
        return mass_pdf(m) * sp.norm.pdf(data["m_obs"], m, data["m_noise"])

    z_m, _ = scipy.integrate.quad(
        m_integrand, M_LOW, M_HIGH, points=[PEAK, data["m_obs"]], epsrel=1e-11
    )
    scale = np.sqrt(1 + data["v_noise"] ** 2)
    log_z_v = np.sum(sp.norm.logpdf(data["v_obs"], V_LOC, scale))
    return log_z_p + np.log(z_tau) + np.log(z_m) + log_z_v


def run(check, out_dir):
    import dynesty

    # 1. the prior transform: each marginal's icdf pushes the uniform distribution
    #    onto the marginal (KS tests against SciPy or the mixture density)
    priors = make_priors()
    transform = prior_transform_fn(priors)
    u = jax.random.uniform(jax.random.key(0), (4000, 6))
    # the first rows hold the quantiles checked below
    u = u.at[:4, 2].set(jnp.array([0.0, 0.5, 0.9, 1.0])).at[0, 0].set(0.5)
    pushed = np.asarray(transform(u), np.float64)

    # 2. the quantiles that were wrong or missing in 0.22.0, against SciPy
    beta = pushed[0, 0]
    check(
        "Beta(2, 5).icdf(0.5)",
        abs(beta / sp.beta(2, 5).ppf(0.5) - 1) < 1e-6,
        "{:.5f} (SciPy {:.5f}; 0.22.0: 0.26922)".format(beta, sp.beta(2, 5).ppf(0.5)),
    )
    check(
        "DiscreteUniform(0, 5).icdf(0.3) and Poisson(3).icdf(0.9)",
        float(dist.DiscreteUniform(0, 5).icdf(0.3)) == 1.0
        and float(dist.Poisson(3.0).icdf(0.9)) == sp.poisson(3.0).ppf(0.9),
        "{} and {} (SciPy {}, {}; 0.22.0: 0.8 and NotImplementedError)".format(
            float(dist.DiscreteUniform(0, 5).icdf(0.3)),
            float(dist.Poisson(3.0).icdf(0.9)),
            sp.randint(0, 6).ppf(0.3),
            sp.poisson(3.0).ppf(0.9),
        ),
    )
    x = pushed[:4, 2]
    check(
        "mixture icdf: inverse of its cdf, ends of the support",
        np.allclose(priors[2].cdf(jnp.asarray(x)), [0.0, 0.5, 0.9, 1.0], atol=1e-6)
        and x[0] == M_LOW
        and x[-1] == M_HIGH,
        "icdf(0, 0.5, 0.9, 1) = {}".format(x.round(4)),
    )
    grid = np.linspace(M_LOW, M_HIGH, 4001)
    mass_cdf = np.concatenate([[0], np.cumsum(np.diff(grid) * mass_pdf(grid[1:]))])
    mass_cdf /= mass_cdf[-1]
    cdfs = [
        SCIPY_PRIORS[0].cdf,
        SCIPY_PRIORS[1].cdf,
        lambda m: np.interp(m, grid, mass_cdf),
    ] + [sp.norm(mu, 1.0).cdf for mu in V_LOC]
    pvalues = [sp.kstest(pushed[4:, i], cdf).pvalue for i, cdf in enumerate(cdfs)]
    check(
        "icdf(uniform) ~ prior: Beta, Weibull, mass mixture, 3-vector (KS tests)",
        min(pvalues) > 1e-3,
        "p-values {}".format(np.round(pvalues, 3)),
    )

    # 3. nested sampling with dynesty: the log-evidence against numerical
    #    integration (the likelihood factorizes over the parameters)
    data = make_data()
    start = time.perf_counter()
    sampler = dynesty.NestedSampler(
        lambda theta: log_likelihood(theta, data),
        lambda u: np.asarray(transform(jnp.asarray(u)[None]), np.float64)[0],
        ndim=6,
        nlive=150,
        rstate=np.random.default_rng(1),
    )
    sampler.run_nested(dlogz=0.1, print_progress=False)
    results = sampler.results
    elapsed = time.perf_counter() - start
    logz, err = results.logz[-1], results.logzerr[-1]
    ref = reference_log_evidence(data)
    check(
        "dynesty log-evidence, 6 parameters, vs scipy.integrate",
        abs(logz - ref) < 3 * err,
        "log Z = {:.3f} ± {:.3f}, numerical integration {:.4f} ({} likelihood calls,"
        " {:.0f} s)".format(logz, err, ref, int(np.sum(results.ncall)), elapsed),
    )

    # plot: the prior transform and the nested-sampling posterior
    weights = np.exp(results.logwt - results.logz[-1])
    fig, axes = plt.subplots(2, 4, figsize=(13, 6))
    ranges = [(0, 1), (0, 6), (M_LOW, 60), (-4, 4)]
    titles = [
        "Beta(2, 5)",
        "Weibull(2, 1.5)",
        "power law + peak (MixtureGeneral)",
        "Normal(v_loc, 1).to_event(1), v1",
    ]
    for i, ((lo, hi), title) in enumerate(zip(ranges, titles)):
        ax = axes[0, i]
        ax.hist(pushed[4:, i], bins=60, range=(lo, hi), density=True, alpha=0.6)
        xs = np.linspace(lo, hi, 400)
        density = [
            SCIPY_PRIORS[0].pdf,
            SCIPY_PRIORS[1].pdf,
            lambda m: np.where((m >= M_LOW) & (m <= M_HIGH), mass_pdf(m), 0),
            sp.norm(V_LOC[0], 1.0).pdf,
        ][i](xs)
        ax.plot(xs, density, "k--", label="prior density")
        ax.set_title("icdf(uniform): " + title, fontsize=9)
        ax = axes[1, i]
        ax.hist(
            results.samples[:, i],
            bins=40,
            range=(lo, hi),
            weights=weights,
            density=True,
            alpha=0.6,
            color="C2",
        )
        ax.set_xlabel(NAMES[i] + " (posterior, dynesty)")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(
        "icdf as dynesty's prior transform: log Z = {:.3f} ± {:.3f}"
        " (scipy.integrate {:.3f})".format(logz, err, ref)
    )
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "p0007_icdf_every_prior.png"), dpi=100)
    plt.close(fig)
