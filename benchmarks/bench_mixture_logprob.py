# SPDX-License-Identifier: Apache-2.0
"""Mixture ``log_prob`` and its gradient, fork vs unpatched upstream.

The fork evaluates each component of a mixed-support mixture only inside its own
support (a second ``where`` on the value), so that out-of-support points give
neither NaN gradients nor warnings, and infers the support of a ``MixtureGeneral``
from the kinds of its components' supports (once per instance). This measures what
that costs against upstream, where the same mixtures are built with an explicit
``support=`` (which upstream needs for components of different kinds): jitted
``log_prob`` and gradient on 100000 points, eager ``log_prob`` on 100 points (with
the mixture built beforehand, and built in the timed call), and reading
``.support``. Mixtures whose components share their support take the unchanged
path; they are timed as a control.

Run: ``PYTHONPATH=<fork> python benchmarks/bench_mixture_logprob.py``; on a loaded
machine ``BENCH_EAGER_ONLY=1 BENCH_ROUNDS=10`` repeats the eager measurements in
more alternating rounds.
"""

import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

N = 100_000  # points per jitted log_prob call
N_EAGER = 100  # points per eager log_prob call
NUMBER = 10  # calls per timing
REPEAT = 30  # timings, of which the best is kept
# alternate runs of the fork and upstream workers (more on a loaded machine)
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
MAX_RATIO = 1.2
MEASUREMENTS = ("log_prob", "grad", "eager", "eager_build", "support")
# BENCH_EAGER_ONLY=1: the eager measurements only, for many quick rounds
if os.environ.get("BENCH_EAGER_ONLY"):
    MEASUREMENTS = ("eager", "eager_build", "support")


def _cases():
    import jax.numpy as jnp

    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    def mixture_general(components, support, infer=False):
        # infer: the fork infers `support`, upstream is given it
        def build(params):
            w, *p = params
            return dist.MixtureGeneral(
                dist.Categorical(probs=jnp.stack([w, 1 - w])),
                components(*p),
                support=_inferred(support) if infer else support,
            )

        return build

    return {
        # the mass spectrum of pyro-ppl/numpyro#1780
        "power law + normal": (
            mixture_general(
                lambda alpha, mu, sigma: [
                    dist.DoublyTruncatedPowerLaw(-alpha, 5.0, 80.0),
                    dist.Normal(mu, sigma),
                ],
                constraints.real,
            ),
            (0.3, 2.35, 35.0, 5.0),
            (0.0, 100.0),
        ),
        "exponential + normal, support=real": (
            mixture_general(
                lambda rate, mu, sigma: [
                    dist.Exponential(rate),
                    dist.Normal(mu, sigma),
                ],
                constraints.real,
            ),
            (0.3, 1.5, 0.5, 1.0),
            (-4.0, 6.0),
        ),
        "gamma + lognormal + normal": (
            lambda params: dist.MixtureGeneral(
                dist.Categorical(
                    probs=jnp.stack([params[0], params[1], 1 - params[0] - params[1]])
                ),
                [
                    dist.Gamma(params[2], 1.0),
                    dist.LogNormal(0.0, params[3]),
                    dist.Normal(0.0, 1.0),
                ],
                support=constraints.real,
            ),
            (0.3, 0.3, 2.0, 0.5),
            (-3.0, 6.0),
        ),
        "exponential + normal, inferred support": (
            mixture_general(
                lambda rate, mu, sigma: [
                    dist.Exponential(rate),
                    dist.Normal(mu, sigma),
                ],
                constraints.real,
                infer=True,
            ),
            (0.3, 1.5, 0.5, 1.0),
            (-4.0, 6.0),
        ),
        "uniform(0,1) + uniform(0,2), inferred support": (
            mixture_general(
                lambda h0, h1: [dist.Uniform(0.0, h0), dist.Uniform(0.0, h1)],
                constraints.interval(0.0, 2.0),
                infer=True,
            ),
            (0.5, 1.0, 2.0),
            (0.0, 2.0),
        ),
        "same family, per-component bounds": (
            lambda params: dist.MixtureSameFamily(
                dist.Categorical(probs=jnp.stack([params[0], 1 - params[0]])),
                dist.TruncatedNormal(
                    jnp.stack([params[1], params[2]]),
                    1.0,
                    low=jnp.array([-1.0, 0.5]),
                    high=jnp.array([1.0, 5.0]),
                ),
                **_support_kwarg(constraints.interval(-1.0, 5.0)),
            ),
            (0.6, 0.0, 3.0),
            (-1.0, 5.0),
        ),
        "control: normal + normal (same support)": (
            mixture_general(
                lambda mu, sigma: [dist.Normal(0.0, 1.0), dist.Normal(mu, sigma)],
                None,
            ),
            (0.3, 2.0, 0.5),
            (-4.0, 6.0),
        ),
    }


def _inferred(support):
    # None where MixtureGeneral infers the support of components of different
    # supports (the fork), `support` otherwise (upstream)
    import inspect

    import numpyro.distributions as dist

    params = inspect.signature(dist.MixtureSameFamily.__init__).parameters
    return None if "support" in params else support


def _support_kwarg(support):
    # upstream's MixtureSameFamily has no `support` argument and refuses
    # components whose support depends on their parameters
    import inspect

    import numpyro.distributions as dist

    params = inspect.signature(dist.MixtureSameFamily.__init__).parameters
    return {"support": support} if "support" in params else {}


def worker(label):
    import jax
    import jax.numpy as jnp

    import numpyro

    numpyro.enable_validation(True)  # the default of NumPyro 0.22.0
    results = {"numpyro": numpyro.__version__}
    for name, (build, params, (lo, hi)) in _cases().items():
        params = tuple(jnp.asarray(p) for p in params)
        x = jnp.asarray(np.random.default_rng(0).uniform(lo, hi, N), jnp.float32)

        def loss(params, x, build=build):
            return build(params).log_prob(x).sum()

        try:
            log_prob = jax.jit(loss)
            grad = jax.jit(jax.grad(loss))
            value = float(log_prob(params, x))
            results[name] = {
                "value": value,
                "grad_finite": bool(
                    all(np.isfinite(np.asarray(g)).all() for g in grad(params, x))
                ),
            }
            if "log_prob" in MEASUREMENTS:
                results[name]["log_prob"] = common.best_time(
                    log_prob, params, x, repeat=REPEAT, number=NUMBER
                )
                results[name]["grad"] = common.best_time(
                    grad, params, x, repeat=REPEAT, number=NUMBER
                )
            # eager, as in a model run outside of jit or an interactive session
            mixture = build(params)
            x_eager = x[:N_EAGER]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # upstream warns at every call
                results[name]["eager"] = common.best_time(
                    mixture.log_prob, x_eager, repeat=REPEAT, number=NUMBER
                )
                results[name]["eager_build"] = common.best_time(
                    lambda p, x: build(p).log_prob(x),
                    params,
                    x_eager,
                    repeat=REPEAT,
                    number=NUMBER,
                )
            results[name]["support"] = _best_attribute_time(mixture, "support")
        except Exception as e:  # e.g. refused by upstream
            results[name] = {"error": "{}: {}".format(type(e).__name__, e)[:80]}
    return results


def _best_attribute_time(obj, name, number=1000, repeat=REPEAT):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            getattr(obj, name)
        best = min(best, (time.perf_counter() - start) / number)
    return best


def report(script):
    # single-threaded XLA, and the two versions run alternately several times, so
    # that the load of a shared machine disturbs both alike
    common.single_threaded_xla()
    best = common.best_side_by_side(script, MEASUREMENTS, ROUNDS)
    fork, upstream = best["fork"], best["upstream"]
    rows, slow = [], []
    for name in fork:
        if name == "numpyro":
            continue
        f, u = fork[name], upstream.get(name, {"error": "missing"})
        for what in MEASUREMENTS:
            if "error" in f:
                rows.append([name, what, f["error"], "", "n/a", ""])
                continue
            if "error" in u:
                rows.append(
                    [name, what, common.fmt_time(f[what]), "refused", "n/a", u["error"]]
                )
                continue
            ratio = f[what] / u[what]
            # reading `.support` is a fraction of a microsecond: its ratio is
            # reported, not bounded
            if (
                ratio > MAX_RATIO
                and what != "support"
                and not name.startswith("control")
            ):
                slow.append("{} {}".format(name, what))
            notes = []
            if what == "grad" and not u["grad_finite"]:
                notes.append("upstream grad not finite")
            if what == "grad" and not f["grad_finite"]:
                notes.append("fork grad not finite")
            if what == "log_prob" and not np.isclose(f["value"], u["value"], rtol=1e-5):
                notes.append(
                    "sum log_prob: fork {:.6g}, upstream {:.6g}".format(
                        f["value"], u["value"]
                    )
                )
            rows.append(
                [
                    name,
                    what,
                    common.fmt_time(f[what]),
                    common.fmt_time(u[what]),
                    "{:.2f}".format(ratio),
                    "; ".join(notes),
                ]
            )
    common.print_table(
        "Mixture log_prob (fork {} vs upstream {}): jitted log_prob and grad on {} "
        "points; eager log_prob on {} points, of a prebuilt mixture (eager) and "
        "building it (eager_build); reading .support".format(
            fork["numpyro"], upstream["numpyro"], N, N_EAGER
        ),
        ["mixture", "", "fork", "upstream", "fork/upstream", "notes"],
        rows,
    )
    print()
    if slow:
        print("slower than {}x upstream: {}".format(MAX_RATIO, "; ".join(slow)))
        sys.exit(1)
    print(
        "fork within {}x of upstream on every mixed-support mixture".format(MAX_RATIO)
    )


if __name__ == "__main__":
    common.main(worker, report)
