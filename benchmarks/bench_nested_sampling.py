# SPDX-License-Identifier: Apache-2.0
"""Wall time of ``numpyro.contrib.nested_sampling.NestedSampler`` on jaxns 3 (patch
"contrib.nested_sampling: run on jaxns 3 without changing JAX's precision")
against dynesty with the same number of live points, on two problems with an exact
log-evidence:

(a) two Uniform(-5, 5) priors, a unit Gaussian likelihood:
    log Z = 2 log((Phi(5) - Phi(-5)) / 10);
(b) a JointDistribution prior of TruncatedNormal(0.5, 1, -1, 2), Gamma(2, 2) and
    Beta(2, 5), a separable Gaussian likelihood: log Z by 1-D quadrature (SciPy).

jaxns runs the NumPyro model through ``NestedSampler.run`` (its time includes the
compilation of jaxns' programs, which every run repeats: the model is a new program;
the XLA share is measured with ``jax.monitoring`` and given apart). dynesty
(static sampler, default bounds and sampling) gets a NumPy log-likelihood and the
fork's jitted ``icdf`` as prior transform. Both stop when the remaining evidence is
below 1e-4 of the total (jaxns: ``dlogZ=1e-4``; dynesty: ``dlogz=1e-4``). One XLA
thread; each side runs in its own process, in alternating rounds, best of rounds.

Run: ``python benchmarks/bench_nested_sampling.py [--nlive 500] [--rounds 2]``
"""

import argparse
import os
import time

from common import OUT, fmt_time, print_table, run_worker, single_threaded_xla
import numpy as np
from scipy import integrate, stats

EXACT_A = 2 * np.log((stats.norm.cdf(5.0) - stats.norm.cdf(-5.0)) / 10)
Y_B, SIGMA_B = np.array([0.3, 1.2, 0.35]), np.array([0.3, 0.4, 0.1])


def exact_b():
    marginals = [
        (stats.truncnorm(-1.5, 1.5, loc=0.5), -1.0, 2.0),
        (stats.gamma(2.0, scale=0.5), 0.0, np.inf),
        (stats.beta(2.0, 5.0), 0.0, 1.0),
    ]
    return sum(
        np.log(
            integrate.quad(
                lambda t: p.pdf(t) * stats.norm.pdf(y, t, s),
                low,
                high,
                epsabs=0.0,
                epsrel=1e-11,
                limit=200,
            )[0]
        )
        for (p, low, high), y, s in zip(marginals, Y_B, SIGMA_B)
    )


def problems():
    import numpyro
    import numpyro.distributions as dist

    def model_a():
        x = numpyro.sample("x", dist.Uniform(-5.0, 5.0).expand([2]).to_event(1))
        numpyro.factor("loglik", dist.Normal(0.0, 1.0).log_prob(x).sum(-1))

    prior_b = dist.JointDistribution(
        dist.TruncatedNormal(0.5, 1.0, low=-1.0, high=2.0),
        dist.Gamma(2.0, 2.0),
        dist.Beta(2.0, 5.0),
    )

    def model_b():
        theta = numpyro.sample("theta", prior_b)
        numpyro.sample("y", dist.Normal(theta, SIGMA_B).to_event(1), obs=Y_B)

    return {
        "a": dict(
            model=model_a,
            ndim=2,
            prior_transform=dist.Uniform(-5.0, 5.0).icdf,
            log_likelihood=lambda x: stats.norm.logpdf(x).sum(),
        ),
        "b": dict(
            model=model_b,
            ndim=3,
            prior_transform=prior_b.icdf,
            log_likelihood=lambda t: stats.norm.logpdf(Y_B, t, SIGMA_B).sum(),
        ),
    }


def run_jaxns(problem, nlive):
    import jax
    from jax import random

    from numpyro.contrib.nested_sampling import NestedSampler

    compile_time = [0.0]

    def listener(event, duration, **kwargs):
        if event in (
            "/jax/core/compile/backend_compile_duration",
            "/jax/core/compile/jaxpr_to_mlir_module_duration",
        ):
            compile_time[0] += duration

    jax.monitoring.register_event_duration_secs_listener(listener)
    ns = NestedSampler(problem["model"], constructor_kwargs={"num_live_points": nlive})
    start = time.perf_counter()
    ns.run(random.key(0))
    jax.block_until_ready(ns.get_weighted_samples())
    wall = time.perf_counter() - start
    return dict(
        wall=wall,
        compile=compile_time[0],
        log_Z=float(ns._results.log_Z_mean),
        log_Z_err=float(ns._results.log_Z_uncert),
        evaluations=int(ns._results.total_num_likelihood_evaluations),
    )


def run_dynesty(problem, nlive):
    import dynesty

    import jax

    icdf = jax.jit(problem["prior_transform"])
    start = time.perf_counter()
    sampler = dynesty.NestedSampler(
        problem["log_likelihood"],
        lambda u: np.asarray(icdf(u), dtype=np.float64),
        problem["ndim"],
        nlive=nlive,
        rstate=np.random.default_rng(0),
    )
    sampler.run_nested(dlogz=1e-4, print_progress=False)
    wall = time.perf_counter() - start
    results = sampler.results
    return dict(
        wall=wall,
        log_Z=float(results.logz[-1]),
        log_Z_err=float(results.logzerr[-1]),
        evaluations=int(np.sum(results.ncall)),
    )


def worker(label):
    # both samplers run with the fork (label "fork"); --sampler says which
    parser = argparse.ArgumentParser()
    parser.add_argument("--nlive", type=int, default=500)
    parser.add_argument("--sampler", choices=["jaxns", "dynesty"], required=True)
    args, _ = parser.parse_known_args()
    run = {"jaxns": run_jaxns, "dynesty": run_dynesty}[args.sampler]
    return {name: run(p, args.nlive) for name, p in problems().items()}


def report(script):
    parser = argparse.ArgumentParser()
    parser.add_argument("--nlive", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    args, _ = parser.parse_known_args()
    single_threaded_xla()
    os.makedirs(OUT, exist_ok=True)
    extra = ["--nlive", str(args.nlive)]
    best = {}
    for _ in range(args.rounds):
        for label in ("jaxns", "dynesty"):
            sampler = ["--sampler", label]
            for name, r in run_worker(script, "fork", extra + sampler).items():
                key = (name, label)
                if key not in best or r["wall"] < best[key]["wall"]:
                    best[key] = r
    exact = {"a": EXACT_A, "b": exact_b()}
    rows = []
    for name in ("a", "b"):
        j, d = best[(name, "jaxns")], best[(name, "dynesty")]
        for label, r in (("jaxns 3 (NestedSampler)", j), ("dynesty", d)):
            rows.append(
                [
                    name,
                    label,
                    fmt_time(r["wall"]),
                    fmt_time(r["compile"]) if "compile" in r else "",
                    fmt_time(r["wall"] - r.get("compile", 0.0)),
                    r["evaluations"],
                    "{:.3f} ± {:.3f}".format(r["log_Z"], r["log_Z_err"]),
                    "{:.3f}".format(exact[name]),
                ]
            )
        rows.append(
            [
                name,
                "jaxns / dynesty",
                "{:.2f}".format(j["wall"] / d["wall"]),
                "",
                "{:.2f}".format((j["wall"] - j["compile"]) / d["wall"]),
                "",
                "",
                "",
            ]
        )
    print_table(
        "Nested sampling, {} live points, best of {} rounds".format(
            args.nlive, args.rounds
        ),
        [
            "problem",
            "sampler",
            "wall",
            "of which XLA compile",
            "wall - compile",
            "likelihood evals",
            "log Z",
            "exact",
        ],
        rows,
    )


if __name__ == "__main__":
    from common import main

    main(worker, report)
