# SPDX-License-Identifier: Apache-2.0
"""Patch 0005: JointDistribution, independent marginals as one distribution."""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import scipy.stats as sp  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import numpyro.distributions as dist  # noqa: E402
from numpyro.distributions import biject_to  # noqa: E402

TITLE = "JointDistribution: independent marginals as one distribution"


def run(check, out_dir):
    import nested_sampling_dynesty as ns

    # 1. log_prob is the sum of the marginals' log densities (SciPy), for scalar
    #    and vector marginals, and split() gives the pieces back
    alpha = np.array([1.0, 2.0, 3.0])
    d = dist.JointDistribution(
        dist.TruncatedNormal(0.0, 1.0, low=-1.0, high=2.0),
        dist.Dirichlet(jnp.asarray(alpha)),
        dist.Exponential(1.5),
    )
    x = np.array([[0.3, 0.2, 0.3, 0.5, 0.7], [-0.9, 0.6, 0.3, 0.1, 2.5]])
    expected = (
        sp.truncnorm(-1.0, 2.0).logpdf(x[:, 0])
        + np.array([sp.dirichlet(alpha).logpdf(p) for p in x[:, 1:4]])
        + sp.expon(scale=1 / 1.5).logpdf(x[:, 4])
    )
    actual = np.asarray(d.log_prob(jnp.asarray(x)))
    check(
        "log_prob of TruncatedNormal x Dirichlet(3) x Exponential",
        np.allclose(actual, expected, rtol=1e-5)
        and [p.shape for p in d.split(jnp.asarray(x))] == [(2,), (2, 3), (2,)],
        "{} (SciPy {}); event_shape {}".format(
            actual.round(5), expected.round(5), d.event_shape
        ),
    )

    # 2. its support has a biject_to transform: an unconstrained vector of size
    #    1 + 2 + 1 maps into every marginal's support
    t = biject_to(d.support)
    y = t(jax.random.normal(jax.random.key(0), (1000, t.inverse_shape((5,))[-1])))
    pieces = d.split(y)
    check(
        "biject_to(support): 4 unconstrained coordinates -> 5 constrained",
        bool(np.all(d.support(y)))
        and bool(np.all((pieces[0] >= -1) & (pieces[0] <= 2)))
        and np.allclose(pieces[1].sum(-1), 1.0, atol=1e-6)
        and bool(np.all(pieces[2] > 0)),
        "all 1000 images in [-1, 2] x simplex x (0, inf)",
    )

    # 3. icdf maps the unit cube onto the prior, coordinate by coordinate: the
    #    prior transform of nested sampling
    prior = ns.make_prior()
    refs = ns.scipy_priors()
    q = np.array([0.05, 0.5, 0.95])
    actual = np.asarray(prior.icdf(jnp.asarray(np.stack([q] * 3, -1))))
    expected = np.stack([r.ppf(q) for r in refs], -1)
    check(
        "icdf = SciPy ppf per coordinate (truncated, bounded, half-line)",
        np.allclose(actual, expected, rtol=1e-5, atol=1e-6),
        "max abs. difference {:.1e}".format(np.abs(actual - expected).max()),
    )
    u = jax.random.uniform(jax.random.key(1), (20000, 3))
    pushed = np.asarray(jax.jit(prior.icdf)(u))
    pvalues = [sp.kstest(pushed[:, i], r.cdf).pvalue for i, r in enumerate(refs)]
    check(
        "icdf(uniform) is distributed as the prior (KS tests)",
        min(pvalues) > 1e-3,
        "p-values {}".format(np.round(pvalues, 3)),
    )

    # 4. marginals of the same family are evaluated together
    rng = np.random.default_rng(2)
    families = [dist.Normal, dist.Gamma, lambda a, b: dist.Beta(a, b)]
    hyper = rng.uniform(0.5, 2.0, size=(150, 2))
    marginals = [families[i % 3](a, b) for i, (a, b) in enumerate(hyper)]
    joint = dist.JointDistribution(*marginals)
    value = jnp.asarray(rng.uniform(0.1, 0.9, size=150))
    naive = sum(float(m.log_prob(value[i])) for i, m in enumerate(marginals))
    jaxpr = jax.make_jaxpr(joint.log_prob)(value)
    check(
        "150 interleaved marginals from 3 families: 3 batched groups",
        len(joint._groups) == 3
        and np.isclose(float(joint.log_prob(value)), naive, rtol=1e-5),
        "log_prob {:.4f}, one marginal at a time {:.4f}; {} jaxpr equations".format(
            float(joint.log_prob(value)), naive, len(jaxpr.eqns)
        ),
    )

    # 5. named marginals: a prior over several parameters as one site, its
    #    samples split by name; log_prob is always the sum of the marginals' own
    named = dist.JointDistribution(
        mu=dist.Normal(0.0, 10.0),
        sigma=dist.HalfNormal(5.0),
        rate=dist.Exponential(1.0, validate_args=False),
    )
    theta = named.split(named.sample(jax.random.key(3), (4000,)))
    x = jnp.array([1.0, 2.0, -1.0])  # rate < 0: outside the support
    own = sum(float(m.log_prob(v)) for m, v in zip(named.marginals.values(), x))
    joint_lp = float(named.log_prob(x))
    pvalues = [
        sp.kstest(np.asarray(theta["mu"]), sp.norm(0, 10).cdf).pvalue,
        sp.kstest(np.asarray(theta["sigma"]), sp.halfnorm(scale=5).cdf).pvalue,
    ]
    check(
        "named marginals: split() by name, log_prob = sum of the marginals' own",
        list(theta) == ["mu", "sigma", "rate"]
        and min(pvalues) > 1e-3
        and np.isclose(joint_lp, own, rtol=1e-6),
        "KS p-values {}; log_prob {:.4f} (marginals {:.4f}, the Exponential built"
        " with validate_args=False)".format(np.round(pvalues, 3), joint_lp, own),
    )

    # 6. nested sampling with dynesty, JointDistribution.icdf as prior transform:
    #    the log-evidence against numerical integration
    t_data, y_data = ns.make_data()
    results = ns.run_dynesty(prior, t_data, y_data, nlive=200, seed=0)
    logz, err = results.logz[-1], results.logzerr[-1]
    ref, _ = ns.reference_log_evidence(t_data, y_data)
    check(
        "dynesty log-evidence vs scipy.integrate",
        abs(logz - ref) < 3 * err,
        "log Z = {:.3f} ± {:.3f}, numerical integration {:.4f}".format(logz, err, ref),
    )

    # plot: the prior transform and the nested-sampling posterior
    weights = np.exp(results.logwt - results.logz[-1])
    fig, axes = plt.subplots(2, 3, figsize=(11, 6))
    ranges = [(-1.0, 2.0), (0.0, 1.0), (0.0, 3.0)]
    labels = ["TruncatedNormal(0, 1, -1, 2)", "Beta(2, 3)", "HalfNormal(1)"]
    for i, (name, ref_dist, (lo, hi)) in enumerate(zip(ns.NAMES, refs, ranges)):
        grid = np.linspace(lo, hi, 400)
        ax = axes[0, i]
        ax.hist(
            pushed[:, i],
            bins=50,
            range=(lo, hi),
            density=True,
            alpha=0.6,
            label="icdf(uniform)",
        )
        ax.plot(grid, ref_dist.pdf(grid), "k--", label="SciPy pdf")
        ax.set_title("prior of {}: {}".format(name, labels[i]))
        ax = axes[1, i]
        ax.hist(
            results.samples[:, i],
            bins=40,
            range=(lo, hi),
            weights=weights,
            density=True,
            alpha=0.6,
            color="C2",
            label="posterior (dynesty)",
        )
        ax.axvline(ns.TRUTH[name], color="C3", label="truth")
        ax.set_xlabel(name)
    axes[0, 0].legend(fontsize=8)
    axes[1, 0].legend(fontsize=8)
    fig.suptitle(
        "JointDistribution.icdf as dynesty's prior transform: log Z = {:.3f} ± {:.3f}"
        " (scipy.integrate {:.3f})".format(logz, err, ref)
    )
    fig.tight_layout()
    path = os.path.join(out_dir, "p0005_joint_distribution.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print("  plot:", path)
