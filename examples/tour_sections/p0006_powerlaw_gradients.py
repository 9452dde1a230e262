# SPDX-License-Identifier: Apache-2.0
"""Gradients of the truncated power laws with respect to their bounds.

The example of the patch: ``DoublyTruncatedPowerLaw(-2.3, 5, 80).log_prob`` summed
over x = [6, 20, 50]. NumPyro 0.22.0 gave d/d low 0.0503 and d/d high 8.5e-05;
the fork agrees with central finite differences and with the analytic derivatives,
whose normalizer Z = int_low^high x^alpha dx is computed here with SciPy's quad.
"""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.integrate import quad  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import numpyro.distributions as dist  # noqa: E402

TITLE = "power-law gradients w.r.t. alpha, low and high"

X = np.array([6.0, 20.0, 50.0])


def reference_grad(alpha, low, high, x):
    """d/d(alpha, low, high) of sum(alpha log x - log Z), Z by quadrature:
    d log Z / d low = -low**alpha / Z, d log Z / d high = high**alpha / Z,
    d log Z / d alpha = int x**alpha log(x) dx / Z."""
    norm = quad(lambda y: y**alpha, low, high, epsabs=0, epsrel=1e-13)[0]
    dnorm = quad(lambda y: y**alpha * np.log(y), low, high, epsabs=0, epsrel=1e-13)[0]
    n = len(x)
    return np.array(
        [
            np.log(x).sum() - n * dnorm / norm,
            n * low**alpha / norm,
            -n * high**alpha / norm,
        ]
    )


def run(check, out_dir):
    with jax.enable_x64(True):
        x = jnp.asarray(X)

        def loss(alpha, low, high):
            return dist.DoublyTruncatedPowerLaw(alpha, low, high).log_prob(x).sum()

        grad = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))
        params = np.array([-2.3, 5.0, 80.0])
        fork = np.array(grad(*params))
        steps = np.array([1e-5, 1e-5, 1e-4])
        fd = np.array(
            [
                (loss(*(params + h * e)) - loss(*(params - h * e))) / (2 * h)
                for h, e in zip(steps, np.eye(3))
            ]
        )
        ref = reference_grad(*params, X)
        print("  alpha=-2.3, low=5, high=80, x=[6, 20, 50], summed log_prob:")
        print(
            "    {:9} {:>12} {:>12} {:>12}".format(
                "", "numpyro", "finite diff", "SciPy quad"
            )
        )
        for name, f, d, r in zip(["d/d alpha", "d/d low", "d/d high"], fork, fd, ref):
            print("    {:9} {:12.6g} {:12.6g} {:12.6g}".format(name, f, d, r))
        check(
            "gradient = analytic (quad)",
            np.allclose(fork, ref, rtol=1e-9),
            "max rel. error {:.1e}".format(np.max(np.abs(fork / ref - 1))),
        )
        check(
            "gradient = finite differences",
            np.allclose(fork, fd, rtol=1e-6),
            "0.22.0 gave d/d low 0.0503, d/d high 8.5e-05",
        )

        # through alpha = -1 (the logarithmic case): smooth, no special rule
        alphas = np.linspace(-1.5, -0.5, 201)
        alphas = np.sort(np.concatenate([alphas, [-1.0, -1 - 1e-9, -1 + 1e-9]]))
        grads = np.array(jax.vmap(grad, (0, None, None))(alphas, 5.0, 80.0)).T
        refs = np.array([reference_grad(a, 5.0, 80.0, X) for a in alphas])
        err = np.max(np.abs(grads - refs) / np.abs(refs))
        check(
            "gradient across alpha = -1",
            err < 1e-9,
            "max rel. error {:.1e}".format(err),
        )

        # the pathwise gradient of sample(): d x / d low for x ~ the power law
        def sample(low):
            d = dist.DoublyTruncatedPowerLaw(-2.3, low, 80.0)
            return d.sample(jax.random.key(0), (1000,))

        xs = sample(5.0)
        dx = jax.jacfwd(sample)(5.0)
        # d x / d low = pdf(low) (1 - F(x)) / pdf(x) = (low / x) ** alpha (1 - F(x))
        d = dist.DoublyTruncatedPowerLaw(-2.3, 5.0, 80.0)
        expected = (5.0 / xs) ** -2.3 * (1 - d.cdf(xs))
        err = float(jnp.max(jnp.abs(dx - expected) / jnp.abs(expected)))
        check(
            "sample() gradient w.r.t. low",
            err < 1e-9,
            "max rel. error {:.1e}".format(err),
        )

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, j, name in zip(axes, [1, 2], ["low", "high"]):
        ax.plot(alphas, refs[:, j], color="k", lw=3, alpha=0.3, label="SciPy quad")
        ax.plot(alphas[::10], grads[::10, j], "o", ms=3, label="numpyro")
        ax.set_xlabel("alpha")
        ax.set_title("d/d {} of sum log_prob, x = [6, 20, 50]".format(name))
        ax.legend()
    fig.tight_layout()
    path = os.path.join(out_dir, "p0006_powerlaw_gradients.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print("  plot: " + path)
