# SPDX-License-Identifier: Apache-2.0
"""JointDistribution of many scalar marginals: cost against hand-written code.

A prior of ``N`` scalar parameters, each with its own distribution drawn from a few
families (normal, truncated normal, beta, exponential, log-normal), listed in an
interleaved order (the families alternate), is evaluated three ways:

* ``by hand``: one batched distribution per family, on its slice of the parameter
  vector laid out family by family (the fastest code one can write by hand);
* ``joint``: ``JointDistribution(*marginals)`` built inside the jitted function
  (as in a model), which groups the marginals by family and evaluates each group
  at once;
* ``joint, prebuilt``: the same distribution built once, outside (e.g. a prior
  defined at module level), closed over by the jitted function;
* ``naive``: the sum of the marginals' log densities, one marginal at a time;
* ``marginals only``: a function that only builds the marginals (and sums its
  input): the part of ``joint``'s trace+compile time spent in the marginals'
  constructors, which is the model's own code, not the joint's.

Measured: the trace+compile time (first call) of ``jit(log_prob)`` and of
``jit(grad(log_prob))``, and the run time of both once compiled, for one
parameter vector and for a batch of 256; best of 5 rounds, each round measuring
every strategy in turn (the naive sum is compiled once only: it takes minutes).
Upstream NumPyro has no JointDistribution, so this compares strategies in one
process (no fork/upstream columns).

Run: ``PYTHONPATH=<fork> python benchmarks/bench_joint_distribution.py [--n 1000]``.
"""

import argparse
import os
import sys
import time

import numpy as np

import jax

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import best_time, fmt_time, print_table  # noqa: E402

import numpyro.distributions as dist  # noqa: E402

FAMILIES = ("normal", "truncnorm", "beta", "exponential", "lognormal")


def make_priors(n, num_families, seed=0):
    """Per-parameter family and hyper-parameters (python floats, as in a model)."""
    rng = np.random.default_rng(seed)
    families = [FAMILIES[i % num_families] for i in range(n)]
    params = []
    for family in families:
        a, b = float(rng.uniform(0.5, 2.0)), float(rng.uniform(0.5, 2.0))
        params.append((family, a, b))
    return params


def marginal(family, a, b):
    if family == "normal":
        return dist.Normal(a, b)
    if family == "truncnorm":
        return dist.TruncatedNormal(a, b, low=0.0, high=a + 3 * b)
    if family == "beta":
        return dist.Beta(a, b)
    if family == "exponential":
        return dist.Exponential(a)
    return dist.LogNormal(a - 1.0, b)


def batched(family, a, b):
    return marginal(family, np.asarray(a), np.asarray(b))


def strategies(params):
    families = [p[0] for p in params]
    used = [f for f in FAMILIES if f in families]
    index = {f: np.array([i for i, g in enumerate(families) if g == f]) for f in used}
    by_family = {
        f: (
            np.array([params[i][1] for i in index[f]]),
            np.array([params[i][2] for i in index[f]]),
        )
        for f in used
    }
    # the hand-written model takes its parameters laid out family by family
    layout = np.concatenate([index[f] for f in used])
    sizes = [len(index[f]) for f in used]

    def by_hand(x):
        # x is laid out family by family
        total, start = 0.0, 0
        for f, size in zip(used, sizes):
            a, b = by_family[f]
            piece = x[..., start : start + size]
            total = total + batched(f, a, b).log_prob(piece).sum(-1)
            start += size
        return total

    def joint(x):
        d = dist.JointDistribution(*(marginal(*p) for p in params))
        return d.log_prob(x)

    prebuilt = dist.JointDistribution(*(marginal(*p) for p in params))

    def joint_prebuilt(x):
        return prebuilt.log_prob(x)

    def naive(x):
        return sum(marginal(*p).log_prob(x[..., i]) for i, p in enumerate(params))

    def marginals_only(x):
        # what building the marginals inside the jitted function costs by itself
        for p in params:
            marginal(*p)
        return x.sum(-1)

    return {
        "by hand": (by_hand, layout),
        "joint": (joint, None),
        "joint, prebuilt": (joint_prebuilt, None),
        "naive": (naive, None),
        "marginals only": (marginals_only, None),
    }


def compile_time(fn, x):
    jitted = jax.jit(lambda x: fn(x))  # a new function: no cache hit
    start = time.perf_counter()
    jax.block_until_ready(jitted(x))
    return time.perf_counter() - start


def measure(params, batch=256, naive=True, rounds=5):
    """Best times over ``rounds`` rounds; each round measures every strategy in
    turn, so that a change of the machine's load hits them alike."""
    prior = dist.JointDistribution(*(marginal(*p) for p in params))
    x1 = prior.sample(jax.random.key(0))
    xs = prior.sample(jax.random.key(1), (batch,))
    cases = {}
    for name, (fn, layout) in strategies(params).items():
        if name == "naive" and not naive:
            continue
        # the same parameter values, laid out as each strategy expects them
        v1, vs = (x1, xs) if layout is None else (x1[..., layout], xs[..., layout])

        def grad_fn(x, fn=fn):
            return jax.grad(lambda x: fn(x).sum())(x)

        cases[name] = (fn, grad_fn, v1, vs)
    results = {name: {} for name in cases}

    def record(name, metric, seconds):
        best = results[name].get(metric, float("inf"))
        results[name][metric] = min(best, seconds)

    for name, (fn, grad_fn, v1, vs) in cases.items():
        if name != "marginals only":
            results[name]["value"] = float(jax.jit(fn)(v1))
    for r in range(rounds):
        for name, (fn, grad_fn, v1, vs) in cases.items():
            # compiling the naive sum of 1000 marginals takes minutes: once only
            if name != "naive" or r == 0:
                record(name, "compile", compile_time(fn, v1))
                record(name, "compile_grad", compile_time(grad_fn, v1))
    jitted = {
        name: (jax.jit(fn), jax.jit(grad_fn), v1, vs)
        for name, (fn, grad_fn, v1, vs) in cases.items()
        if name != "marginals only"
    }
    for _ in range(rounds):
        for name, (fn, grad_fn, v1, vs) in jitted.items():
            record(name, "run", best_time(fn, v1, repeat=5, number=20))
            record(name, "run_grad", best_time(grad_fn, v1, repeat=5, number=20))
            record(name, "run_batch", best_time(fn, vs, repeat=5, number=5))
            record(name, "run_grad_batch", best_time(grad_fn, vs, repeat=5, number=5))
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--families", type=int, nargs="*", default=[3, 5])
    parser.add_argument("--no-naive", action="store_true", help="skip the naive sum")
    args = parser.parse_args()
    names = ["by hand", "joint", "joint, prebuilt"] + (
        [] if args.no_naive else ["naive"]
    )
    names += ["marginals only"]
    for k in args.families:
        params = make_priors(args.n, k)
        results = measure(params, naive=not args.no_naive)
        ref = results["by hand"]
        values = {name: r["value"] for name, r in results.items() if "value" in r}
        assert np.allclose(list(values.values()), ref["value"], rtol=1e-4), values
        rows = []
        for metric, label in [
            ("compile", "trace+compile log_prob"),
            ("compile_grad", "trace+compile grad"),
            ("run", "run log_prob (1 vector)"),
            ("run_grad", "run grad (1 vector)"),
            ("run_batch", "run log_prob (256 vectors)"),
            ("run_grad_batch", "run grad (256 vectors)"),
        ]:
            row = [label]
            for name in names:
                t = results[name].get(metric)
                row.append("-" if t is None else fmt_time(t))
            for name in names[1:]:
                t = results[name].get(metric)
                row.append("-" if t is None else "{:.2f}".format(t / ref[metric]))
            if metric.startswith("compile"):
                # the joint's own part of it: without the marginals' construction
                own = results["joint"][metric] - results["marginals only"][metric]
                row.append("{:.2f}".format(own / ref[metric]))
            else:
                row.append("-")
            rows.append(row)
        print_table(
            "{} scalar marginals from {} families (interleaved), jax {} on {}".format(
                args.n, k, jax.__version__, jax.default_backend()
            ),
            [""]
            + names
            + ["{} / by hand".format(name) for name in names[1:]]
            + ["(joint - marginals only) / by hand"],
            rows,
        )


if __name__ == "__main__":
    main()
