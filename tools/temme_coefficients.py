# SPDX-License-Identifier: Apache-2.0
"""The Taylor coefficients in eta of Temme's c_0 and c_1 (DLMF 8.12.8, 8.12.10), as
patch 0007's ``_TEMME_C0`` and ``_TEMME_C1`` (numpyro/distributions/util.py) hold
them, constant term first, to 22 digits.

c_0 = 1 / (lambda - 1) - 1 / eta and c_1 = 1 / eta^3 - 1 / (lambda - 1)^3 -
1 / (lambda - 1)^2 - 1 / (12 (lambda - 1)), with lambda the root near 1 + eta of
lambda - 1 - log(lambda) = eta^2 / 2, expanded by mpmath's Taylor series (Cauchy
integrals on a circle of radius 1/2 about 0, where both are analytic).

Run: ``.venv/bin/python tools/temme_coefficients.py`` (mpmath needed; a few seconds).
"""

import mpmath as mp


def _lambda(eta):
    guess = 1 + eta + eta**2 / 3 + eta**3 / 36 - eta**4 / 270
    return mp.findroot(
        lambda lam: lam - 1 - mp.log(lam) - eta**2 / 2, guess, tol=mp.mpf(10) ** -45
    )


def c0(eta):
    return 1 / (_lambda(eta) - 1) - 1 / eta


def c1(eta):
    m = _lambda(eta) - 1
    return 1 / eta**3 - 1 / m**3 - 1 / m**2 - 1 / (12 * m)


if __name__ == "__main__":
    mp.mp.dps = 50
    for name, f, n in (("_TEMME_C0", c0, 12), ("_TEMME_C1", c1, 8)):
        series = mp.taylor(f, 0, n - 1, method="quad", radius=mp.mpf("0.5"))
        print(name, "=", [mp.nstr(mp.re(c), 22) for c in series])
