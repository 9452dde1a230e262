# SPDX-License-Identifier: Apache-2.0
"""Patch 0003: a distribution built once is safe under every JAX transform.

The users' case (pyro-ppl/numpyro#1836): ``TruncatedNormal(low=1, high=2)`` is
built once, at module level, and used as the likelihood of a model run with two
MCMC chains in parallel on two host devices. ``lazy_property`` must not keep a
tracer on the shared instance (which outlives the transforms), and reading a lazy
property several times inside one traced function must not trace its computation
several times. Nor must the sampler keep one: with the chains in parallel, warmup
then run reuses the sampler initialized under pmap. The same instance is then used
under jit, vmap and grad, and its numbers are compared with a fresh instance and
with ``scipy.stats.truncnorm``.
"""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

import jax  # noqa: E402
from jax import random  # noqa: E402

import numpyro  # noqa: E402
import numpyro.distributions as dist  # noqa: E402
from numpyro.infer import MCMC, NUTS  # noqa: E402

TITLE = "lazy_property: module-level distributions under jit/vmap/grad/pmap"

# built once, at import time, as in the users' script
MY_DISTRIBUTION = dist.TruncatedNormal(low=1, high=2)
SCIPY = stats.truncnorm(1.0, 2.0)  # standard normal truncated to [1, 2]
DATA = np.asarray(MY_DISTRIBUTION.sample(random.key(1), (20,)))


def my_model():
    numpyro.sample("obs", MY_DISTRIBUTION, obs=DATA)


def _max_rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


def run(check, out_dir):
    # 1. The users' repro: two chains in parallel (pmap over two host devices).
    devices = jax.local_device_count()
    chain_method = "parallel" if devices >= 2 else "sequential"
    with jax.check_tracer_leaks():
        mcmc = MCMC(
            NUTS(my_model),
            num_warmup=0,
            num_samples=1,
            num_chains=2,
            chain_method=chain_method,
            progress_bar=False,
        )
        mcmc.run(random.key(0))
    check(
        "users' repro: 2 chains on {} devices ({})".format(devices, chain_method),
        devices >= 2,
        "no tracer leak; the model's obs site uses the module-level instance",
    )
    total = float(MY_DISTRIBUTION.log_prob(DATA).sum())
    expected = float(SCIPY.logpdf(DATA).sum())
    check(
        "the shared instance afterwards matches SciPy truncnorm",
        abs(total - expected) < 1e-4 * abs(expected),
        f"sum log_prob {total:.5f} vs {expected:.5f}",
    )

    # 2. The sampler keeps no tracer either: warmup, then run, with the chains in
    # parallel reuses the sampler initialized under pmap (in 0.22.0 its transforms
    # held that trace's tracers: UnexpectedTracerError); its postprocessing then
    # constrains values outside of any transform.
    high = np.array([1.0, 2.0, 3.0], np.float32)

    def bounded_model():
        numpyro.sample("x", dist.Uniform(np.zeros(3, np.float32), high).to_event(1))

    mcmc = MCMC(
        NUTS(bounded_model),
        num_warmup=50,
        num_samples=50,
        num_chains=2,
        chain_method=chain_method,
        progress_bar=False,
    )
    mcmc.warmup(random.key(2))
    mcmc.run(random.key(3))
    x = np.asarray(mcmc.get_samples()["x"])
    z = jax.tree.map(lambda v: np.asarray(v)[0], mcmc.last_state.z)
    x_last = np.asarray(mcmc.sampler.postprocess_fn((), {})(z)["x"])
    check(
        "warmup then run ({}): samples and postprocessed state in the support".format(
            chain_method
        ),
        bool(np.all((x > 0) & (x < high)) and np.all((x_last > 0) & (x_last < high))),
        "Uniform(0, [1, 2, 3]) vector: sample maxima {}".format(
            [round(float(v), 2) for v in x.max(0)]
        ),
    )

    # 3. The same instance under jit, vmap and grad, against SciPy (float64).
    x = np.linspace(1.02, 1.98, 25).astype(np.float32)
    q = np.linspace(0.02, 0.98, 25).astype(np.float32)
    d = MY_DISTRIBUTION
    with jax.check_tracer_leaks():
        lp_jit = jax.jit(d.log_prob)(x)
        cdf_vmap = jax.vmap(d.cdf)(x)
        icdf_jit_vmap = jax.jit(jax.vmap(d.icdf))(q)
        score = jax.vmap(jax.grad(d.log_prob))(x)
    check(
        "jit log_prob vs truncnorm.logpdf",
        _max_rel(lp_jit, SCIPY.logpdf(x)) < 1e-5,
        f"max rel. error {_max_rel(lp_jit, SCIPY.logpdf(x)):.1e}",
    )
    check(
        "vmap cdf vs truncnorm.cdf",
        _max_rel(cdf_vmap, SCIPY.cdf(x)) < 1e-5,
        f"max rel. error {_max_rel(cdf_vmap, SCIPY.cdf(x)):.1e}",
    )
    check(
        "jit(vmap) icdf vs truncnorm.ppf",
        _max_rel(icdf_jit_vmap, SCIPY.ppf(q)) < 1e-5,
        f"max rel. error {_max_rel(icdf_jit_vmap, SCIPY.ppf(q)):.1e}",
    )
    # d/dx log p(x) = -x inside the support of a standard normal truncation
    check(
        "vmap(grad) log_prob is the score -x",
        _max_rel(score, -x) < 1e-5,
        f"max rel. error {_max_rel(score, -x):.1e}",
    )

    fresh = dist.TruncatedNormal(low=1, high=2)
    same = all(
        np.array_equal(np.asarray(a), np.asarray(b))
        for a, b in [
            (d.log_prob(x), fresh.log_prob(x)),
            (d.cdf(x), fresh.cdf(x)),
            (d.icdf(q), fresh.icdf(q)),
            (d.mean, fresh.mean),
            (d.variance, fresh.variance),
        ]
    )
    check(
        "afterwards, the shared instance gives a fresh instance's numbers",
        same,
        "log_prob, cdf, icdf, mean, variance identical",
    )

    # 4. No cost where there was none: the normalizer is traced once per trace.
    lazy = dist.TruncatedNormal(low=1, high=2)
    counts = [
        len(
            jax.make_jaxpr(
                lambda x: sum(lazy.log_prob(x + 0.01 * i) for i in range(k))
            )(1.5).eqns
        )
        for k in (1, 2, 3)
    ]
    per_call, first = counts[1] - counts[0], counts[0]
    check(
        "3 log_prob calls in one jit trace the normalizer once",
        counts[2] - counts[1] == per_call < first,
        f"jaxpr equations for 1, 2, 3 calls: {counts} "
        f"(re-tracing it each time would give {[k * first for k in (1, 2, 3)]})",
    )

    # a picture: the density of the shared instance, under vmap, against SciPy
    grid = np.linspace(0.9, 2.1, 400).astype(np.float32)
    pdf = np.exp(np.asarray(jax.vmap(d.log_prob)(grid)))
    pdf[(grid < 1) | (grid > 2)] = 0.0
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(grid, SCIPY.pdf(grid), lw=3, alpha=0.4, label="scipy truncnorm(1, 2)")
    ax.plot(grid, pdf, "k--", lw=1, label="module-level instance, vmap")
    ax.hist(DATA, bins=10, density=True, alpha=0.3, label="data (obs site)")
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(out_dir, "p0003_lazy_property.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print("  plot: " + path)
