# SPDX-License-Identifier: Apache-2.0
"""Patch 0008: numpyro.contrib.nested_sampling on jaxns 3, without side effects."""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import jax  # noqa: E402
from jax import random  # noqa: E402

import numpyro  # noqa: E402
import numpyro.distributions as dist  # noqa: E402

TITLE = "NestedSampler on jaxns 3: a JointDistribution prior, JAX's precision untouched"


def run(check, out_dir):
    import nested_sampling_dynesty as ns

    # 1. importing the module leaves JAX's precision alone (0.22.0 with jaxns 2.6.9:
    #    importing jaxns switched the whole process to 64-bit)
    x64 = jax.config.read("jax_enable_x64")
    from numpyro.contrib.nested_sampling import NestedSampler

    check(
        "import numpyro.contrib.nested_sampling keeps jax_enable_x64",
        jax.config.read("jax_enable_x64") == x64,
        "jax_enable_x64 = {}".format(x64),
    )

    # 2. the line fit of examples/nested_sampling_dynesty.py as a NumPyro model: one
    #    JointDistribution site (truncated, bounded and half-line marginals)
    t_data, y_data = ns.make_data()

    def model(t, y=None):
        a, b, s = numpyro.sample("theta", ns.make_prior()).T
        numpyro.sample("y", dist.Normal(a + b * t, s), obs=y)

    sampler = NestedSampler(model, constructor_kwargs={"num_live_points": 500})
    sampler.run(random.key(0), t_data, y_data)
    log_z = float(sampler._results.log_Z_mean)
    err = float(sampler._results.log_Z_uncert)
    ref, _ = ns.reference_log_evidence(t_data, y_data)
    check(
        "NestedSampler log-evidence vs scipy.integrate",
        abs(log_z - ref) < 3 * err,
        "log Z = {:.3f} ± {:.3f}, numerical integration {:.4f}".format(log_z, err, ref),
    )
    samples, log_weights = sampler.get_weighted_samples()
    check(
        "running it keeps jax_enable_x64; samples in the program's precision",
        jax.config.read("jax_enable_x64") == x64
        and samples["theta"].dtype == ("float64" if x64 else "float32"),
        "jax_enable_x64 = {}, samples {}".format(
            jax.config.read("jax_enable_x64"), samples["theta"].dtype
        ),
    )

    # 3. dynesty with the JointDistribution's icdf as prior transform agrees
    results = ns.run_dynesty(ns.make_prior(), t_data, y_data, nlive=500, seed=0)
    d_log_z, d_err = results.logz[-1], results.logzerr[-1]
    check(
        "dynesty (icdf prior transform) agrees with NestedSampler",
        abs(log_z - d_log_z) < 3 * np.hypot(err, d_err),
        "dynesty log Z = {:.3f} ± {:.3f}".format(d_log_z, d_err),
    )

    # plot: the posterior marginals from both samplers
    theta = np.asarray(samples["theta"], np.float64)
    log_weights = np.asarray(log_weights, np.float64)
    weights = np.exp(log_weights - log_weights.max())
    d_weights = np.exp(results.logwt - results.logz[-1])
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    for i, (ax, name) in enumerate(zip(axes, ns.NAMES)):
        lo, hi = {"a": (-1.0, 2.0), "b": (0.0, 1.0), "s": (0.0, 1.5)}[name]
        kwargs = dict(bins=40, range=(lo, hi), density=True, histtype="step")
        ax.hist(theta[:, i], weights=weights, label="NestedSampler (jaxns 3)", **kwargs)
        ax.hist(results.samples[:, i], weights=d_weights, label="dynesty", **kwargs)
        ax.axvline(ns.TRUTH[name], color="C3", label="truth")
        ax.set_xlabel(name)
    axes[0].legend(fontsize=8)
    fig.suptitle(
        "JointDistribution prior: jaxns 3 log Z = {:.3f} ± {:.3f}, dynesty {:.3f} ± {:.3f},"
        " scipy.integrate {:.3f}".format(log_z, err, d_log_z, d_err, ref)
    )
    fig.tight_layout()
    path = os.path.join(out_dir, "p0008_nested_sampling_jaxns.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print("  plot:", path)
