# SPDX-License-Identifier: Apache-2.0
"""icdf of every prior (patch 0007): speed of the fork against NumPyro 0.22.0, and
of the inversions against a closed form.

Cases: closed forms new in the fork (Weibull, Kumaraswamy), the wrappers
(``Normal.expand([3]).to_event(1)``), ``Beta`` (0.22.0: TFP's ``betaincinv``; the
fork: inversion of the log incomplete beta function), ``VonMises`` (new: inversion
of a quadrature of its density), the discrete generalized
inverses (``DiscreteUniform``, in 0.22.0 too; Poisson, Binomial, GammaPoisson,
Geometric, Categorical, BetaBinomial, new) and a two-component mixture (new);
``Normal`` is the closed-form reference. Measured, in float32 and float64:

- jit: ``icdf`` of ``N`` probabilities (default ``2 * 10^5``, set
  ``BENCH_ICDF_N``), scalar parameters, jitted;
- eager: one call of ``icdf`` on 1000 probabilities on a new instance, not
  jitted, as in an interactive session (compiled already);
- vmap: ``jax.vmap`` of constructor and ``icdf`` over ``N`` lanes, each with its
  own parameters (all equal, passed as arrays) and probability, jitted;
- grad: the gradient of the sum of ``icdf`` of the ``N`` probabilities w.r.t. the
  parameters (continuous cases only), jitted;
- compile: the time to lower and compile the jitted ``icdf`` (the jit case).

Ratios: fork / 0.22.0 where 0.22.0 has an ``icdf``, and the fork's jitted time
over the fork's ``Normal`` (a closed form of the same shape).

Run: ``.venv/bin/python benchmarks/bench_icdf.py`` (the fork and 0.22.0 run
alternately, 2 rounds (``BENCH_ICDF_ROUNDS``), one XLA thread; the best time of
each is kept). ``BENCH_ICDF_CASES=VonMises,Beta`` measures only the cases whose
names start with one of these (and the Normal, the reference).

``BENCH_ICDF_SCIPY=1``: instead, SciPy's ``ppf`` of the same cases (float64, one
thread, numpy arrays of ``N`` probabilities) and its time over SciPy's
``norm.ppf``, the reference that the last column of the fork's tables is for the
fork: what a compiled library (Boost's inversions behind ``scipy.special``) pays
for an inversion over a closed form. SciPy's generic ``vonmises.ppf`` (a root
finder per point) is timed on 200 points and scaled to ``N``.

``BENCH_ICDF_CDF=1``: the same measurements of ``cdf`` instead of ``icdf``, for the
cases whose cdf the fork changes (Weibull; Poisson, Temme's expansion for large
counts; GammaPoisson, from the log incomplete beta function) or adds, at SciPy's
quantiles of the same probabilities (``grad``: in the parameters, discrete cases
included).
"""

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

N = int(os.environ.get("BENCH_ICDF_N", 200_000))
N_EAGER = 1000
REPEAT = 3  # timings, of which the best is kept
ROUNDS = int(os.environ.get("BENCH_ICDF_ROUNDS", 2))  # alternate fork, upstream runs
# name: (constructor, parameters, continuous)
CASES = {
    "Normal(0, 1)": ("Normal", (0.0, 1.0), True),
    "Weibull(2, 1.5)": ("Weibull", (2.0, 1.5), True),
    "Kumaraswamy(2, 3)": ("Kumaraswamy", (2.0, 3.0), True),
    "Normal.expand.to_event": ("vector", (0.0, 1.0), True),
    "Beta(2, 5)": ("Beta", (2.0, 5.0), True),
    "Beta(0.5, 0.5)": ("Beta", (0.5, 0.5), True),
    "Beta(200, 300)": ("Beta", (200.0, 300.0), True),
    "VonMises(1, 2)": ("VonMises", (1.0, 2.0), True),
    "VonMises(3, 100)": ("VonMises", (3.0, 100.0), True),
    "Mixture(Normal, Normal)": ("mixture", (0.0, 5.0), True),
    "DiscreteUniform(0, 5)": ("DiscreteUniform", (0, 5), False),
    "Poisson(3)": ("Poisson", (3.0,), False),
    "Poisson(250)": ("Poisson", (250.0,), False),
    "Binomial(20, 0.3)": ("binomial", (0.3,), False),
    "GammaPoisson(2, 0.5)": ("GammaPoisson", (2.0, 0.5), False),
    "Geometric(0.3)": ("geometric", (0.3,), False),
    "Categorical(4)": ("categorical", (0.15, 0.5, 0.05, 0.3), False),
    "BetaBinomial(2, 3, 30)": ("betabinomial", (2.0, 3.0), False),
}
MEASUREMENTS = ["jit", "eager", "vmap", "grad", "compile"]
METHOD = "cdf" if os.environ.get("BENCH_ICDF_CDF") else "icdf"
# SciPy's distributions, whose quantiles are the points of the cdf cases
CDF_POINTS = {
    "Normal(0, 1)": ("norm", ()),
    "Weibull(2, 1.5)": ("weibull_min", (1.5, 0, 2)),
    "Kumaraswamy(2, 3)": ("beta", (2, 3)),
    "VonMises(1, 2)": ("vonmises", (2, 1)),
    "Poisson(3)": ("poisson", (3,)),
    "Poisson(250)": ("poisson", (250,)),
    "Binomial(20, 0.3)": ("binom", (20, 0.3)),
    "GammaPoisson(2, 0.5)": ("nbinom", (2, 1 / 3)),
    "Geometric(0.3)": ("geom", (0.3, -1)),
}
if METHOD == "cdf":
    CASES = {name: case for name, case in CASES.items() if name in CDF_POINTS}
if os.environ.get("BENCH_ICDF_CASES"):
    _prefixes = tuple(os.environ["BENCH_ICDF_CASES"].split(",")) + ("Normal(0, 1)",)
    CASES = {name: case for name, case in CASES.items() if name.startswith(_prefixes)}


def make(kind, params):
    import jax.numpy as jnp

    import numpyro.distributions as dist

    if kind == "vector":
        return dist.Normal(*params).expand([3]).to_event(1)
    if kind == "mixture":
        return dist.MixtureGeneral(
            dist.Categorical(probs=jnp.array([0.3, 0.7])),
            [dist.Normal(params[0], 1.0), dist.Normal(params[1], 2.0)],
        )
    if kind == "binomial":
        return dist.Binomial(20, probs=params[0])
    if kind == "geometric":
        return dist.Geometric(probs=params[0])
    if kind == "categorical":
        return dist.Categorical(probs=jnp.stack(params))
    if kind == "betabinomial":
        return dist.BetaBinomial(*params, 30)
    return getattr(dist, kind)(*params)


def worker(label):
    import jax
    import jax.numpy as jnp

    import numpyro

    numpyro.enable_validation(False)
    dtype = jnp.result_type(float)
    results = {"numpyro": numpyro.__version__, "dtype": str(dtype)}
    rng = np.random.default_rng(0)
    q = jnp.asarray(rng.uniform(0.001, 0.999, N), dtype)
    for name, (kind, params, continuous) in CASES.items():
        params = tuple(jnp.asarray(p, dtype) for p in params)
        if kind == "DiscreteUniform":
            params = tuple(p.astype(int) for p in params)
        q_case = q[: N // 3 * 3].reshape(-1, 3) if kind == "vector" else q
        if METHOD == "cdf":
            from scipy import stats

            family, args = CDF_POINTS[name]
            q_case = jnp.asarray(
                getattr(stats, family)(*args).ppf(np.asarray(q)), dtype
            )
            continuous = True

        def evaluate(params, points, kind=kind):
            return getattr(make(kind, params), METHOD)(points)

        r = {}
        try:
            jax.block_until_ready(evaluate(params, q_case[:10]))
        except (NotImplementedError, AttributeError) as e:
            results[name] = {"error": type(e).__name__}
            continue
        r["jit"] = common.best_time(jax.jit(evaluate), params, q_case, repeat=REPEAT)
        r["eager"] = common.best_time(evaluate, params, q_case[:N_EAGER], repeat=REPEAT)
        lanes = tuple(jnp.broadcast_to(p, q_case.shape[:1] + p.shape) for p in params)
        per_lane = jax.jit(jax.vmap(evaluate))
        r["vmap"] = common.best_time(per_lane, lanes, q_case, repeat=REPEAT)
        start = time.perf_counter()
        jax.jit(lambda p, q: evaluate(p, q)).lower(params, q_case).compile()
        r["compile"] = time.perf_counter() - start
        if continuous:
            loss = jax.jit(jax.grad(lambda p, q: evaluate(p, q).sum()))
            try:
                r["grad"] = common.best_time(loss, params, q_case, repeat=REPEAT)
            except ValueError:  # (0.22.0's GammaPoisson.cdf: none in concentration)
                pass
        results[name] = r
    return results


def scipy_reference():
    from scipy import special, stats

    rng = np.random.default_rng(0)
    q = rng.uniform(0.001, 0.999, N)
    frozen = {
        "Normal(0, 1)": stats.norm(0, 1),
        "Weibull(2, 1.5)": stats.weibull_min(1.5, scale=2),
        "Beta(2, 5)": stats.beta(2, 5),
        "Beta(0.5, 0.5)": stats.beta(0.5, 0.5),
        "Beta(200, 300)": stats.beta(200, 300),
        "VonMises(1, 2)": stats.vonmises(2, loc=1),
        "VonMises(3, 100)": stats.vonmises(100, loc=3),
        "DiscreteUniform(0, 5)": stats.randint(0, 6),
        "Poisson(3)": stats.poisson(3),
        "Poisson(250)": stats.poisson(250),
        "Binomial(20, 0.3)": stats.binom(20, 0.3),
        # (rate 0.5: failures before the 2nd success of probability 1/3)
        "GammaPoisson(2, 0.5)": stats.nbinom(2, 1 / 3),
        # (NumPyro's Geometric counts the failures, from 0)
        "Geometric(0.3)": stats.geom(0.3, loc=-1),
        "BetaBinomial(2, 3, 30)": stats.betabinom(30, 2, 3),
    }
    # the special functions under stats.norm.ppf and stats.beta.ppf, without
    # the argument handling of scipy.stats (about 35 ns per point)
    functions = {
        "ndtri": special.ndtri,
        "betaincinv(2, 5)": lambda q: special.betaincinv(2.0, 5.0, q),
        "betaincinv(0.5, 0.5)": lambda q: special.betaincinv(0.5, 0.5, q),
        "betaincinv(200, 300)": lambda q: special.betaincinv(200.0, 300.0, q),
    }

    def best(f, points):
        return common.best_time(f, points, repeat=REPEAT) * len(q) / len(points)

    times = {
        name: best(d.ppf, q[:200] if name.startswith("VonMises") else q)
        for name, d in frozen.items()
    }
    times.update((name, best(f, q)) for name, f in functions.items())

    def rows(names, reference):
        return [
            [name, common.fmt_time(times[name]), f"{times[name] / reference:.1f}"]
            for name in names
        ]

    common.print_table(
        f"SciPy ppf, float64, {N} points, and its time over SciPy's norm.ppf",
        ["case", "SciPy ppf", "ppf / norm.ppf"],
        rows([n for n in CASES if n in frozen], times["Normal(0, 1)"]),
    )
    common.print_table(
        f"scipy.special, float64, {N} points, and its time over ndtri",
        ["function", "time", "time / ndtri"],
        rows(functions, times["ndtri"]),
    )


def report(script):
    # single-threaded XLA, and the two versions run alternately several times, so
    # that the load of a shared machine disturbs both alike
    common.single_threaded_xla()
    for x64 in (False, True):
        best = common.best_side_by_side(script, MEASUREMENTS, ROUNDS, x64=x64)
        fork, upstream = best["fork"], best["upstream"]
        reference = fork["Normal(0, 1)"]
        rows = []
        for name in CASES:
            f, u = fork[name], upstream[name]
            cells = []
            for what in MEASUREMENTS:
                if what not in f:
                    cells.append("-")
                elif "error" in u or what not in u:
                    cells.append("{} (new)".format(common.fmt_time(f[what])))
                else:
                    cells.append(
                        "{:.2f} ({} / {})".format(
                            f[what] / u[what],
                            common.fmt_time(f[what]),
                            common.fmt_time(u[what]),
                        )
                    )
            cells.append("{:.1f}".format(f["jit"] / reference["jit"]))
            rows.append([name] + cells)
        common.print_table(
            "{}, {}, {} points: fork / 0.22.0 (fork time / 0.22.0 time), and "
            "fork jit / fork Normal jit".format(METHOD, fork["dtype"], N),
            [
                "case",
                "jit",
                "eager (1000 points)",
                "vmap",
                "grad",
                "compile",
                "jit / Normal",
            ],
            rows,
        )


if __name__ == "__main__":
    if os.environ.get("BENCH_ICDF_SCIPY"):
        scipy_reference()
    else:
        common.main(worker, report)
