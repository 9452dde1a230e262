# SPDX-License-Identifier: Apache-2.0
"""Patch 0004: reparameterizers meet observed sites with a clear answer.

A circular regression (pyro-ppl/numpyro#1846): angles y_i ~ VonMises(b x_i, 1/sigma^2).
The VonMises likelihood needs no reparameterization; MCMC and posterior predictive
draws run on the plain model. Putting CircularReparam on the observed site now
fails at once with a ValueError naming the site and the remedy, whether the site is
observed by obs= or by a condition handler inside or outside of the reparam handler,
and CircularReparam on a latent VonMises site works in Predictive (checked against
scipy.stats.vonmises).
"""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import scipy.stats as osp  # noqa: E402

import jax  # noqa: E402
from jax import random  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import numpyro  # noqa: E402
import numpyro.distributions as dist  # noqa: E402
from numpyro.handlers import condition, reparam  # noqa: E402
from numpyro.infer import MCMC, NUTS, Predictive  # noqa: E402
from numpyro.infer.reparam import CircularReparam  # noqa: E402

TITLE = "reparameterizers at observed sites; CircularReparam in Predictive"

B_TRUE, SIGMA_TRUE, N = 0.8, 0.5, 60


def _wrap(a):
    return np.remainder(a + np.pi, 2 * np.pi) - np.pi


def _vonmises_ks(x, kappa, loc):
    # scipy's vonmises(kappa, loc) lives on [loc - pi, loc + pi]: shift draws there
    x = loc + _wrap(np.asarray(x, dtype=np.float64) - loc)
    return osp.kstest(x, osp.vonmises(kappa, loc=loc).cdf).pvalue


def model(x, y=None):
    b = numpyro.sample("b", dist.Normal(0, 1))
    sigma = numpyro.sample("sigma", dist.Exponential(1))
    with numpyro.plate("data", x.shape[0]):
        numpyro.sample("obs", dist.VonMises(b * x, 1 / sigma**2), obs=y)


def run(check, out_dir):
    x = jnp.linspace(-np.pi, np.pi, N)
    y = dist.VonMises(B_TRUE * x, 1 / SIGMA_TRUE**2).sample(random.key(0))

    # 1. The users' model, without reparam on the likelihood: MCMC + Predictive.
    mcmc = MCMC(NUTS(model), num_warmup=300, num_samples=300, progress_bar=False)
    mcmc.run(random.key(1), x, y)
    post = mcmc.get_samples()
    b_mean, b_sd = float(post["b"].mean()), float(post["b"].std())
    check(
        "MCMC on the VonMises likelihood recovers b",
        abs(b_mean - B_TRUE) < 4 * b_sd,
        f"b = {b_mean:.3f} +- {b_sd:.3f} (true {B_TRUE})",
    )
    y_pred = np.asarray(Predictive(model, post)(random.key(2), x)["obs"])
    # residuals around the posterior-mean curve, on the circle
    center = b_mean * np.asarray(x)
    resid_pred = _wrap(y_pred - center)
    lo, hi = np.quantile(resid_pred, [0.05, 0.95], axis=0)
    resid_data = _wrap(np.asarray(y) - center)
    coverage = float(np.mean((resid_data >= lo) & (resid_data <= hi)))
    check(
        "posterior predictive 90% band covers the data",
        0.75 <= coverage <= 1.0,
        f"coverage {coverage:.2f} of {N} angles",
    )

    # 2. CircularReparam on the observed site: a ValueError at the first trace.
    calls = []

    def traced_model(x, y=None):  # the users' model, recording its calls
        b = numpyro.sample("b", dist.Normal(0, 1))
        sigma = numpyro.sample("sigma", dist.Exponential(1))
        calls.append(isinstance(b, jax.core.Tracer))
        with numpyro.plate("data", x.shape[0]):
            numpyro.sample("obs", dist.VonMises(b * x, 1 / sigma**2), obs=y)

    bad = reparam(traced_model, config={"obs": CircularReparam()})
    try:
        MCMC(NUTS(bad), num_warmup=10, num_samples=10, progress_bar=False).run(
            random.key(3), x, y
        )
        message = None
    except ValueError as e:
        message = str(e)
    check(
        "CircularReparam on obs: ValueError naming site and remedy",
        message is not None
        and "CircularReparam" in message
        and "'obs'" in message
        and "latent sites only" in message,
        (message or "no error")[:96] + "...",
    )
    check(
        "the error comes during the first, concrete trace (nothing compiled)",
        calls == [False],
        f"model calls before the error: {len(calls)}",
    )
    # The same with the observation given by a condition handler outside of the
    # reparam handler (0.22.0: "obs" silently became a deterministic site and its
    # value was ignored, a wrong posterior).
    outside = condition(reparam(model, config={"obs": CircularReparam()}), {"obs": y})
    try:
        MCMC(NUTS(outside), num_warmup=10, num_samples=10, progress_bar=False).run(
            random.key(3), x
        )
        message = None
    except ValueError as e:
        message = str(e)
    check(
        "condition(reparam(model), data): the same ValueError",
        message is not None and "cannot reparameterize the observed site" in message,
        (message or "no error: the observation is ignored")[:96] + "...",
    )

    # 3. CircularReparam on a latent VonMises: prior predictive vs SciPy.
    def prior_model():
        numpyro.sample("theta", dist.VonMises(2.8, 2.0))

    prior = Predictive(
        reparam(prior_model, config={"theta": CircularReparam()}), num_samples=4000
    )(random.key(4))["theta"]
    p = _vonmises_ks(prior, 2.0, 2.8)
    check(
        "latent VonMises + CircularReparam, prior predictive",
        p > 1e-3,
        f"KS vs scipy.stats.vonmises(2, loc=2.8): p = {p:.3f}",
    )
    # The same reparameterized regression in Predictive with y=None: "obs" is
    # then latent, and its draws follow the VonMises likelihood.
    fixed = {"b": jnp.full(4000, B_TRUE), "sigma": jnp.full(4000, SIGMA_TRUE)}
    draws = Predictive(reparam(model, config={"obs": CircularReparam()}), fixed)(
        random.key(5), x[:1]
    )["obs"][:, 0]
    p = _vonmises_ks(draws, 1 / SIGMA_TRUE**2, _wrap(B_TRUE * float(x[0])))
    check(
        "CircularReparam site missing from posterior samples",
        p > 1e-3,
        f"KS vs scipy.stats.vonmises at x = -pi: p = {p:.3f}",
    )

    # 4. A latent site that cannot be sampled: the error says why.
    def improper():
        numpyro.sample("z", dist.ImproperUniform(dist.constraints.real, (), ()))

    try:
        Predictive(improper, num_samples=2)(random.key(6))
        message = None
    except NotImplementedError as e:
        message = str(e)
    check(
        "ImproperUniform latent in Predictive: the error says why and what to do",
        message is not None
        and "ImproperUniform cannot be sampled" in message
        and "needs a value" in message,
        (message or "no error")[:80] + "...",
    )

    # Plot: data and posterior predictive bands, unwrapped around the mean curve.
    xs = np.asarray(x)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    med = np.quantile(resid_pred, 0.5, axis=0)
    ax.fill_between(xs, center + lo, center + hi, alpha=0.3, label="90% predictive")
    ax.plot(xs, center + med, lw=1.5, label="predictive median")
    ax.plot(xs, center + resid_data, "k.", ms=4, label="data")
    ax.set_xlabel("x")
    ax.set_ylabel("angle (unwrapped around b x)")
    ax.set_title("circular regression, VonMises likelihood, no reparam")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path = os.path.join(out_dir, "p0004_reparam_observed.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"  plot: {path}")
