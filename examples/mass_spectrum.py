# SPDX-License-Identifier: Apache-2.0
"""A gravitational-wave mass spectrum: a power law and a Gaussian peak.

The primary masses of merging binary black holes are often modelled with a
truncated power law plus a Gaussian peak (pyro-ppl/numpyro#1780)::

    p(m) = (1 - λ) PL(m; α, m_min, m_max) + λ N(m; μ, σ)

where ``PL(m; α, m_min, m_max) ∝ m^-α`` between ``m_min`` and ``m_max`` and is 0
elsewhere. The two components have different supports, ``[m_min, m_max]`` and the
real line; ``MixtureGeneral`` takes the union of them as the support of the
mixture, and the power law contributes zero density outside its bounds, with
finite gradients everywhere. This script simulates a catalogue of masses, fits
λ, α, μ, σ and the bounds ``m_min`` and ``m_max`` with NUTS, and plots the fitted
density over a histogram of the data. Fitting the bounds needs the gradients of
the power law's ``log_prob`` with respect to them (patch 0006: NumPyro 0.22.0
gets them wrong); ``--fixed-bounds`` keeps them at their true values.

Run: ``python examples/mass_spectrum.py [--num-data 2000] [--fixed-bounds]``
"""

import argparse
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import numpyro  # noqa: E402
import numpyro.distributions as dist  # noqa: E402
from numpyro.infer import MCMC, NUTS  # noqa: E402

TRUTH = dict(lam=0.3, alpha=2.3, mu=34.0, sigma=4.0, m_min=5.0, m_max=80.0)
PARAMS = ("lam", "alpha", "mu", "sigma", "m_min", "m_max")
BOUNDS = ("m_min", "m_max")


def spectrum(lam, alpha, mu, sigma, m_min, m_max):
    """The mass spectrum ``(1 - lam) PL(m; alpha, m_min, m_max) + lam N(mu, sigma)``
    as a NumPyro distribution (batched over the parameters)."""
    lam = jnp.asarray(lam)
    return dist.MixtureGeneral(
        dist.Categorical(probs=jnp.stack([1 - lam, lam], axis=-1)),
        [
            dist.DoublyTruncatedPowerLaw(-jnp.asarray(alpha), m_min, m_max),
            dist.Normal(mu, sigma),
        ],
    )


def simulate(rng_key, num_data, lam, alpha, mu, sigma, m_min, m_max):
    """A catalogue of ``num_data`` masses drawn from :func:`spectrum`."""
    return spectrum(lam, alpha, mu, sigma, m_min, m_max).sample(rng_key, (num_data,))


def priors(masses):
    """The priors of the fitted parameters.

    The bounds of the power law enclose the data: above the smallest mass, the
    likelihood of ``m_min`` falls by a cliff (that mass must then come from the
    Gaussian's far tail), and NUTS adapts its step size to the cliff and stops
    moving. So ``m_min`` is uniform below the smallest mass and ``m_max`` above
    the largest, as is usual in population studies.
    """
    return {
        "lam": dist.Uniform(0.0, 1.0),
        "alpha": dist.Uniform(1.1, 5.0),
        "mu": dist.Uniform(15.0, 60.0),
        "sigma": dist.Uniform(1.0, 10.0),
        "m_min": dist.Uniform(2.0, masses.min()),
        "m_max": dist.Uniform(masses.max(), 150.0),
    }


def model(masses, bounds=None):
    """λ, α, μ, σ are fitted, and ``m_min``, ``m_max`` unless ``bounds`` gives them
    (a dict with keys ``m_min`` and ``m_max``)."""
    bounds = {} if bounds is None else bounds
    params = {
        name: bounds[name] if name in bounds else numpyro.sample(name, prior)
        for name, prior in priors(masses).items()
    }
    with numpyro.plate("data", masses.shape[0]):
        numpyro.sample("m", spectrum(**params), obs=masses)


def fit(rng_key, masses, bounds=None, num_warmup=500, num_samples=1000):
    """Posterior samples of the parameters of :func:`model` by NUTS."""
    mcmc = MCMC(
        NUTS(model), num_warmup=num_warmup, num_samples=num_samples, progress_bar=False
    )
    mcmc.run(rng_key, masses, bounds)
    mcmc.print_summary()
    samples = mcmc.get_samples()
    for name, value in (bounds or {}).items():
        samples[name] = jnp.full(num_samples, value)
    return samples


def plot(masses, samples, out, truth=None):
    """The fitted density (posterior median and 90% band) over the data."""
    m_min, m_max = truth["m_min"], truth["m_max"]
    grid = jnp.linspace(0.5 * m_min, 1.1 * m_max, 600)
    draws = {k: v[:: max(1, len(v) // 400)] for k, v in samples.items() if k in PARAMS}
    density = jax.vmap(lambda p: jnp.exp(spectrum(**p).log_prob(grid)))(draws)
    lo, med, hi = np.percentile(np.asarray(density), [5, 50, 95], axis=0)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(np.asarray(masses), bins=80, density=True, color="0.8", label="data")
    ax.fill_between(grid, lo, hi, alpha=0.4, color="C0", label="90% band")
    ax.plot(grid, med, color="C0", label="posterior median")
    if truth is not None:
        true = spectrum(**{k: truth[k] for k in PARAMS})
        ax.plot(grid, jnp.exp(true.log_prob(grid)), "k--", lw=1, label="truth")
    ax.set_xlabel("primary mass $m$")
    ax.set_ylabel("$p(m)$")
    ax.set_yscale("log")
    ax.set_ylim(1e-5, 3 * float(hi.max()))
    ax.legend()
    ax.set_title("Power law + Gaussian peak, fitted with NUTS")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def main(args):
    truth = dict(TRUTH)
    bounds = {k: truth[k] for k in BOUNDS} if args.fixed_bounds else None
    key_data, key_fit = jax.random.split(jax.random.key(args.seed))
    masses = simulate(key_data, args.num_data, **truth)
    start = time.perf_counter()
    samples = fit(key_fit, masses, bounds, args.num_warmup, args.num_samples)
    print("NUTS: {:.1f} s".format(time.perf_counter() - start))
    print("\n{:>6} {:>8} {:>8} {:>8}".format("", "truth", "mean", "sd"))
    for name in PARAMS:
        if bounds and name in bounds:
            continue
        x = np.asarray(samples[name])
        print(
            "{:>6} {:8.3f} {:8.3f} {:8.3f}".format(name, truth[name], x.mean(), x.std())
        )
    print(
        "{:>6} {:8.3f} (the smallest mass), {:8.3f} (the largest)".format(
            "data", float(masses.min()), float(masses.max())
        )
    )
    out = plot(masses, samples, args.out, truth)
    print("\nplot: {}".format(out))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-data", type=int, default=2000)
    parser.add_argument("--num-warmup", type=int, default=500)
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--fixed-bounds",
        action="store_true",
        help="keep m_min and m_max at their true values instead of fitting them",
    )
    parser.add_argument(
        "--out",
        default=os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "out", "mass_spectrum.png"
        ),
    )
    args = parser.parse_args()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    main(args)
