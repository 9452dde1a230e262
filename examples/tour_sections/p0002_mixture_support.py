# SPDX-License-Identifier: Apache-2.0
"""Patch 0002: mixtures whose components have different supports."""

import math
import os
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import scipy.stats as sp  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import numpyro  # noqa: E402
from numpyro.diagnostics import effective_sample_size  # noqa: E402
import numpyro.distributions as dist  # noqa: E402
from numpyro.infer import MCMC, NUTS  # noqa: E402

TITLE = "mixtures of components with different supports"


def _uniforms():
    return dist.MixtureGeneral(
        dist.Categorical(probs=jnp.array([0.5, 0.5])),
        [dist.Uniform(0.0, 1.0), dist.Uniform(0.0, 2.0)],
    )


def _uniforms_scipy(x, what="pdf"):
    return 0.5 * getattr(sp.uniform(0, 1), what)(x) + 0.5 * getattr(
        sp.uniform(0, 2), what
    )(x)


def run(check, out_dir):
    # 1. 0.22.0 took the support of the first component, (0, 1): log_prob(1.5)
    #    was -inf and NUTS never went above 1
    mixture = _uniforms()
    x = np.array([0.5, 1.5])
    density = np.exp(np.asarray(mixture.log_prob(jnp.asarray(x))))
    check(
        "Uniform(0, 1) + Uniform(0, 2): support and density",
        str(mixture.support) == "Interval(lower_bound=0.0, upper_bound=2.0)"
        and np.allclose(density, _uniforms_scipy(x), rtol=1e-6),
        "support {}, p(0.5), p(1.5) = {} (SciPy {}; 0.22.0: p(1.5) = 0)".format(
            mixture.support, density.round(4), _uniforms_scipy(x)
        ),
    )

    # 2. the support is decided from the kinds of the components' supports, never
    #    from the values of their bounds: Uniform(0, a) + Uniform(2, 3) is valid
    #    for every a (a gap (a, 2) of zero density for a < 2), eagerly and in jit
    def gap_log_prob(a, y):
        return dist.MixtureGeneral(
            dist.Categorical(probs=jnp.array([0.5, 0.5])),
            [dist.Uniform(0.0, a), dist.Uniform(2.0, 3.0)],
        ).log_prob(y)

    y = jnp.array([0.5, 1.5, 2.5])
    rows = []
    for a in (1.0, 2.5):
        with np.errstate(divide="ignore"):
            expected = np.log(
                0.5 * sp.uniform(0, a).pdf(np.asarray(y))
                + 0.5 * sp.uniform(2, 1).pdf(np.asarray(y))
            )
        eager, jitted = gap_log_prob(a, y), jax.jit(gap_log_prob)(a, y)
        rows.append(
            np.allclose(eager, expected, rtol=1e-6)
            and np.allclose(jitted, expected, rtol=1e-6)
        )
    check(
        "Uniform(0, a) + Uniform(2, 3): the same model for every a",
        all(rows),
        "log_prob at 0.5, 1.5, 2.5 matches SciPy for a = 1 (a gap) and a = 2.5, "
        "eagerly and under jit",
    )

    # 3. no warnings inside the support, finite gradients where a component's
    #    own log_prob is nan (LogNormal and Gamma at negative values)
    def log_prob(params, x):
        w, shape, scale = params
        return dist.MixtureGeneral(
            dist.Categorical(probs=jnp.stack([w, 0.7 - w, jnp.asarray(0.3)])),
            [dist.Gamma(shape, 1.0), dist.LogNormal(0.0, scale), dist.Normal(0.0, 1.0)],
        ).log_prob(x)

    params = (jnp.asarray(0.3), jnp.asarray(2.0), jnp.asarray(0.5))
    x = jnp.array([-2.0, -0.5, 0.5, 3.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = log_prob(params, x)
    expected = np.log(
        0.3 * sp.gamma(2.0).pdf(x) + 0.4 * sp.lognorm(0.5).pdf(x) + 0.3 * sp.norm.pdf(x)
    )
    grads = jax.grad(lambda p: log_prob(p, x).sum())(params)
    check(
        "Gamma + LogNormal + Normal: no warnings, matches SciPy",
        not caught and np.allclose(values, expected, rtol=1e-5),
        "{} warnings (0.22.0, given support=real: 3 per call)".format(len(caught)),
    )
    check(
        "gradients finite at x < 0",
        all(bool(jnp.isfinite(g)) for g in grads),
        "d/d(w, shape, scale) = {} (0.22.0: 1.5592, nan, nan)".format(
            np.round([float(g) for g in grads], 4)
        ),
    )

    # 4. MixtureSameFamily with per-component bounds, given a support
    tn = dist.MixtureSameFamily(
        dist.Categorical(probs=jnp.array([0.6, 0.4])),
        dist.TruncatedNormal(
            jnp.array([0.0, 3.0]),
            jnp.array([1.0, 0.5]),
            low=jnp.array([-1.0, 0.5]),
            high=jnp.array([1.0, 5.0]),
        ),
        support=dist.constraints.interval(-1.0, 5.0),
    )
    x = np.array([-0.5, 0.8, 2.0, 4.0])
    reference = 0.6 * sp.truncnorm(-1, 1).pdf(x) + 0.4 * sp.truncnorm(
        -5, 4, loc=3, scale=0.5
    ).pdf(x)
    check(
        "MixtureSameFamily(TruncatedNormal with per-component bounds, support=)",
        np.allclose(np.exp(tn.log_prob(jnp.asarray(x))), reference, rtol=1e-5),
        "density matches SciPy (0.22.0 refuses these components)",
    )

    # 5. NUTS on the latent mixture of 1., KS test against the SciPy cdf
    def model():
        numpyro.sample("x", _uniforms())

    # enough draws that a correct sampler passes by a wide margin (the standard
    # error of P(x > 1) is about 0.005) and a wrong one (0.22.0: 0) cannot
    mcmc = MCMC(NUTS(model), num_warmup=500, num_samples=40000, progress_bar=False)
    mcmc.run(jax.random.key(0))
    draws = np.asarray(mcmc.get_samples()["x"])
    ess = float(effective_sample_size(draws[None]))
    thinned = draws[:: max(1, math.ceil(len(draws) / ess))]
    pvalue = sp.kstest(thinned, lambda x: _uniforms_scipy(x, "cdf")).pvalue
    p_above = (draws > 1).mean()
    stderr = math.sqrt(0.25 * 0.75 / ess)
    check(
        "NUTS draws Uniform(0, 1) + Uniform(0, 2)",
        abs(p_above - 0.25) < 5 * stderr and pvalue > 1e-3,
        "P(x > 1) = {:.3f} +- {:.3f} (exact 0.25; 0.22.0: 0), KS p-value {:.2f} on "
        "{} thinned draws".format(p_above, stderr, pvalue, len(thinned)),
    )

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(draws, bins=60, range=(0, 2), density=True, color="0.8", label="NUTS")
    grid = np.linspace(-0.2, 2.2, 500)
    ax.plot(grid, _uniforms_scipy(grid), "k", label="SciPy density")
    ax.set_title("NUTS on MixtureGeneral(Uniform(0, 1), Uniform(0, 2))")
    ax.set_xlabel("x")
    ax.legend()
    fig.tight_layout()
    path = os.path.join(out_dir, "p0002_mixture_support.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print("  plot: {}".format(path))
