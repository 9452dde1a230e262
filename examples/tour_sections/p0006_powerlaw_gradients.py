# SPDX-License-Identifier: Apache-2.0
"""The truncated power laws: exact values and gradients at every index and scale.

The example of the patch: ``DoublyTruncatedPowerLaw(-2.3, 5, 80).log_prob`` summed
over x = [6, 20, 50]. NumPyro 0.22.0 gave d/d low 0.0503 and d/d high 8.5e-05;
the fork agrees with central finite differences and with the analytic derivatives,
whose normalizer Z = int_low^high x^alpha dx is computed here with SciPy's quad.
Then: bounds [1e-30, 1e30] in float32, the derivative with respect to low = 0, and
that of icdf with respect to q at q = 0 and 1.
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

TITLE = "power laws: exact values and gradients w.r.t. alpha, low and high"

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

    # float32, bounds [1e-30, 1e30]: log(Z) = log((b^beta - a^beta) / beta)
    # overflows as written; in float64 numpy the closed forms are fine here
    a, b = 1e-30, 1e30
    lp = dist.DoublyTruncatedPowerLaw(-1.0, a, b).log_prob(jnp.float32(1.0))
    expected = -np.log(np.log(b / a))
    check(
        "float32, [1e-30, 1e30], alpha = -1: log_prob(1)",
        abs(float(lp) - expected) < 1e-5,
        "{:.5f} (closed form {:.5f})".format(float(lp), expected),
    )
    beta = -0.5
    cdf = dist.DoublyTruncatedPowerLaw(-1.5, a, b).cdf(jnp.float32(1.0))
    grad = jax.grad(lambda al: dist.DoublyTruncatedPowerLaw(al, a, b).log_prob(1.0))(
        jnp.float32(-1.5)
    )
    dlog_norm = (b**beta * np.log(b) - a**beta * np.log(a)) / (b**beta - a**beta)
    expected = -(dlog_norm - 1 / beta)
    check(
        "float32, [1e-30, 1e30], alpha = -1.5: cdf(1), d log_prob(1) / d alpha",
        abs(float(cdf) - 1) < 1e-6 and abs(float(grad) / expected - 1) < 1e-5,
        "{:.6f}, {:.4f} (closed form 1, {:.4f})".format(
            float(cdf), float(grad), expected
        ),
    )

    # low = 0: d log_prob / d low = low ** alpha / Z, the limit from above
    def log_prob_low(low, alpha):
        return dist.DoublyTruncatedPowerLaw(alpha, low, 3.0).log_prob(jnp.array(1.3))

    dlow = [float(jax.grad(log_prob_low)(0.0, al)) for al in (-0.5, 0.0, 1.5)]
    check(
        "d log_prob / d low at low = 0 for alpha = -0.5, 0, 1.5",
        dlow[0] == np.inf and abs(dlow[1] - 1 / 3) < 1e-6 and dlow[2] == 0,
        "{:.5g}, {:.5g}, {:.5g} (inf, 1 / high, 0)".format(*dlow),
    )

    # d icdf / dq = 1 / pdf also at q = 0 and 1 (0.22.0: 0 there)
    d = dist.DoublyTruncatedPowerLaw(-2.35, 5.0, 80.0)
    dq = [float(jax.grad(d.icdf)(q)) for q in (0.0, 1.0)]
    inv_pdf = [float(jnp.exp(-d.log_prob(x))) for x in (5.0, 80.0)]
    check(
        "d icdf / dq at q = 0 and 1",
        np.allclose(dq, inv_pdf, rtol=1e-5),
        "{:.5g}, {:.5g} (1 / pdf: {:.5g}, {:.5g})".format(*dq, *inv_pdf),
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
