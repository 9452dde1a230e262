# SPDX-License-Identifier: Apache-2.0
"""JointDistribution of many scalar marginals against the same model batched by hand.

A prior of ``N`` scalar parameters, each with its own distribution, the families
alternating (interleaved), is evaluated three ways:

* ``by hand``: one batched distribution per family, built in the function from
  arrays of hyper-parameters, on its slice of a parameter vector laid out family by
  family (the fastest code one writes by hand);
* ``by hand, interleaved``: the same, on the parameter vector laid out as the
  joint's (the families alternating), each family's coordinates taken with a
  strided slice: what de-interleaving costs, whoever does it;
* ``joint, built``: ``JointDistribution(*marginals)``, the marginals and the joint
  built in the function from Python floats (as in a model);
* ``joint, prebuilt``: the same distribution built once, outside (e.g. a prior
  defined at module level), closed over by the function;
* ``marginals only`` (trace+compile rows only): a function that builds the
  marginals from Python floats, as ``joint, built`` does, and returns the sum of
  its input: the cost of the model's own constructors, not the joint's.

Measured, with XLA on one thread: eager ``log_prob`` (repeated calls, after the
first), the trace+compile time of ``jit(log_prob)`` and of ``jit(grad(log_prob))``
(first call of a new jitted function), and the jitted run time of ``log_prob``,
its gradient and ``vmap(log_prob)`` over 256 vectors. Each round measures every
strategy in turn (best of the rounds), so that a change of the machine's load hits
them alike. The sizes of the programs (jaxpr equations, instructions of the
compiled HLO) do not depend on the load: on a loaded machine, they are what to
compare. Upstream NumPyro has no JointDistribution: the reference is the code
batched by hand, in the same process.

Cases: 300 Normal + 300 Gamma marginals (the speed targets of the review of
patch 0005: run within 1.3x, compile within 2x, eager within 3x of the code batched
by hand), and 1000 marginals of 5 families (normal, truncated normal, beta,
exponential, log-normal).

Run: ``python benchmarks/bench_joint_distribution.py [--rounds 3]``.
"""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import best_time, fmt_time, print_table, run_worker  # noqa: E402

FAMILIES = ("normal", "gamma", "truncnorm", "beta", "exponential", "lognormal")
CASES = {
    "300 Normal + 300 Gamma": (600, ("normal", "gamma")),
    "1000 marginals, 5 families": (
        1000,
        ("normal", "truncnorm", "beta", "exponential", "lognormal"),
    ),
}
STRATEGIES = (
    "by hand",
    "by hand, interleaved",
    "joint, built",
    "joint, prebuilt",
    "marginals only",
)
METRICS = (
    ("eager", "eager log_prob"),
    ("compile", "trace+compile log_prob"),
    ("compile_grad", "trace+compile grad"),
    ("run", "jit run log_prob"),
    ("run_grad", "jit run grad"),
    ("run_vmap", "jit run vmap(log_prob), 256 vectors"),
    ("eqns", "jaxpr equations of log_prob"),
    ("hlo", "compiled HLO instructions, log_prob"),
    ("hlo_grad", "compiled HLO instructions, grad"),
    ("hlo_vmap", "compiled HLO instructions, vmap(log_prob)"),
)
# sizes, not times: the same on every run, whatever the machine's load
COUNTS = ("eqns", "hlo", "hlo_grad", "hlo_vmap")
TARGETS = {"eager": 3.0, "compile": 2.0, "compile_grad": 2.0}  # others: 1.3


def worker(n, families, rounds):
    import numpy as np

    import jax

    import numpyro.distributions as dist

    def make(family, a, b):
        if family == "normal":
            return dist.Normal(a, b)
        if family == "gamma":
            return dist.Gamma(a, b)
        if family == "truncnorm":
            return dist.TruncatedNormal(a, b, low=0.0, high=a + 3 * b)
        if family == "beta":
            return dist.Beta(a, b)
        if family == "exponential":
            return dist.Exponential(a)
        return dist.LogNormal(a - 1.0, b)

    rng = np.random.default_rng(0)
    kinds = [families[i % len(families)] for i in range(n)]
    hyper = rng.uniform(0.5, 2.0, size=(n, 2))
    params = [(k, float(a), float(b)) for k, (a, b) in zip(kinds, hyper)]
    index = {f: np.array([i for i, k in enumerate(kinds) if k == f]) for f in families}
    layout = np.concatenate([index[f] for f in families])  # family by family

    def by_hand(x):
        total, start = 0.0, 0
        for f in families:
            a, b = hyper[index[f], 0], hyper[index[f], 1]
            size = len(index[f])
            piece = x[..., start : start + size]
            total = total + make(f, a, b).log_prob(piece).sum(-1)
            start += size
        return total

    def by_hand_interleaved(x):
        total = 0.0
        for j, f in enumerate(families):
            a, b = hyper[index[f], 0], hyper[index[f], 1]
            piece = x[..., j :: len(families)]
            total = total + make(f, a, b).log_prob(piece).sum(-1)
        return total

    def marginals_only(x):
        marginals = [make(*p) for p in params]
        return x.sum(-1) + 0.0 * len(marginals)

    def built(x):
        joint = dist.JointDistribution(*(make(*p) for p in params))
        return joint.log_prob(x)

    prebuilt_joint = dist.JointDistribution(*(make(*p) for p in params))

    def prebuilt(x):
        return prebuilt_joint.log_prob(x)

    x1 = prebuilt_joint.sample(jax.random.key(0))
    xs = prebuilt_joint.sample(jax.random.key(1), (256,))
    cases = {
        "by hand": (by_hand, x1[layout], xs[:, layout]),
        "by hand, interleaved": (by_hand_interleaved, x1, xs),
        "joint, built": (built, x1, xs),
        "joint, prebuilt": (prebuilt, x1, xs),
    }
    values = {name: float(fn(v1)) for name, (fn, v1, _) in cases.items()}
    ref = values["by hand"]
    if not all(abs(v - ref) <= 1e-4 * abs(ref) for v in values.values()):
        raise AssertionError("the strategies disagree: {}".format(values))

    def grad_of(fn):
        return jax.grad(lambda x: fn(x).sum())

    def compile_time(fn, x):
        jitted = jax.jit(lambda x: fn(x))  # a new function: no cache hit
        start = time.perf_counter()
        jax.block_until_ready(jitted(x))
        return time.perf_counter() - start

    results = {name: {} for name in STRATEGIES}

    def record(name, metric, seconds):
        results[name][metric] = min(results[name].get(metric, float("inf")), seconds)

    jitted = {
        name: (jax.jit(fn), jax.jit(grad_of(fn)), jax.jit(jax.vmap(fn)))
        for name, (fn, _, _) in cases.items()
    }

    def hlo_size(jitted, x):
        text = jitted.lower(x).compile().as_text()
        return sum(1 for line in text.splitlines() if " = " in line)

    for name, (fn, v1, vs) in cases.items():
        run, run_grad, run_vmap = jitted[name]
        results[name]["eqns"] = len(jax.make_jaxpr(fn)(v1).eqns)
        results[name]["hlo"] = hlo_size(run, v1)
        results[name]["hlo_grad"] = hlo_size(run_grad, v1)
        results[name]["hlo_vmap"] = hlo_size(run_vmap, vs)
    for _ in range(rounds):
        record("marginals only", "compile", compile_time(marginals_only, x1))
        record(
            "marginals only", "compile_grad", compile_time(grad_of(marginals_only), x1)
        )
        for name, (fn, v1, vs) in cases.items():
            if name != "joint, built":  # eager: the joint's own cost, not the model's
                record(name, "eager", best_time(fn, v1, repeat=5, number=5))
            record(name, "compile", compile_time(fn, v1))
            record(name, "compile_grad", compile_time(grad_of(fn), v1))
            run, run_grad, run_vmap = jitted[name]
            record(name, "run", best_time(run, v1, repeat=5, number=50))
            record(name, "run_grad", best_time(run_grad, v1, repeat=5, number=50))
            record(name, "run_vmap", best_time(run_vmap, vs, repeat=5, number=10))
    return results


def report(script, rounds):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
    ).strip()
    os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
    for title in CASES:
        results = run_worker(script, "fork", ["--case", title, "--rounds", str(rounds)])
        ref = results["by hand"]
        rows = []
        for metric, label in METRICS:
            row = [label]
            for name in STRATEGIES:
                t = results[name].get(metric)
                if t is None:
                    row.append("-")
                else:
                    row.append(str(t) if metric in COUNTS else fmt_time(t))
            for name in STRATEGIES[1:]:
                t = results[name].get(metric)
                row.append("-" if t is None else "{:.2f}".format(t / ref[metric]))
            own = results["marginals only"].get(metric)
            if own is None:
                row.append("-")
            else:
                own = results["joint, built"][metric] - own
                row.append("{:.2f}".format(own / ref[metric]))
            row.append("-" if metric in COUNTS else f"{TARGETS.get(metric, 1.3):.1f}")
            rows.append(row)
        print_table(
            "{} (interleaved), XLA on one thread".format(title),
            [""]
            + list(STRATEGIES)
            + ["{} / by hand".format(name) for name in STRATEGIES[1:]]
            + ["(joint, built - marginals only) / by hand", "target"],
            rows,
        )


def main():
    import json

    parser = argparse.ArgumentParser()
    parser.add_argument("--worker")
    parser.add_argument("--case", default=None)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.worker:
        n, families = CASES[args.case]
        print(json.dumps(worker(n, families, args.rounds)))
    else:
        report(os.path.abspath(__file__), args.rounds)


if __name__ == "__main__":
    main()
