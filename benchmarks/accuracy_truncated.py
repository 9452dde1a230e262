# SPDX-License-Identifier: Apache-2.0
"""Accuracy of patch 0001 (truncated distributions) side by side with 0.22.0.

``icdf``, ``cdf`` and ``log_prob`` of ``TruncatedDistribution`` for every base family
it accepts (Student's t with df from 0.5 to 1000), bounds from the bulk to 40
scales out (two-sided, one-sided, narrow), in float32 and float64, for the fork and
for the unpatched 0.22.0, against mpmath (60 digits). The references and the error
measure are those of ``test/test_truncated_icdf.py``: an error is given in units of
its tolerance (rtol 1e-9 in float64, 1e-5 in float32, on the scale that matters,
plus four units in the last place), so ``<= 1`` passes. The report lists every
case where 0.22.0 passes and the fork does not (a regression), then a summary.

Run: ``python benchmarks/accuracy_truncated.py`` (the references take about ten
minutes the first time; they are cached in ``benchmarks/out/``).
"""

import importlib.util
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import OUT, ROOT, main, print_table, side_by_side  # noqa: E402

FAMILIES = [
    ("Normal", ()),
    ("Cauchy", ()),
    ("Laplace", ()),
    ("Logistic", ()),
    ("SoftLaplace", ()),
] + [("StudentT", (df,)) for df in (0.5, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)]

BOUNDS = [
    (-1.0, 2.0),
    (-3.0, 3.0),
    (-50.0, 50.0),
    (7.0, 50.0),
    (2.0, 2.5),
    (0.5, 0.5001),
    (-2.3, -2.29999),
    (-1e-4, 1e-4),
    (3.0, 3.001),
    (5.0, 6.0),
    (10.0, 12.0),
    (-12.0, -10.0),
    (20.0, 22.0),
    (-22.0, -20.0),
    (38.0, 40.0),
    (-40.0, -38.0),
    (-1.0, None),
    (0.0, None),
    (3.0, None),
    (10.0, None),
    (20.0, None),
    (40.0, None),
    (None, 2.0),
    (None, 0.0),
    (None, -3.0),
    (None, -10.0),
    (None, -20.0),
    (None, -40.0),
]
Q32 = [0.0, 1e-6, 1e-3, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 1 - 1e-6, 1.0]
Q64 = Q32 + [1e-12, 1 - 1e-12]
DTYPES = ("float32", "float64")
INPUTS = os.path.join(OUT, "accuracy_truncated_inputs.json")
REFS = os.path.join(OUT, "accuracy_truncated_refs.json")


def reference_module():
    path = os.path.join(ROOT, "test", "test_truncated_icdf.py")
    spec = importlib.util.spec_from_file_location("truncated_refs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def case_key(name, params, low, high, dtype):
    return "{}{} [{}, {}] {}".format(name, params or "", low, high, dtype)


def cases():
    for name, params in FAMILIES:
        for low, high in BOUNDS:
            for dtype in DTYPES:
                yield name, params, low, high, dtype


def references():
    """{case: {"q", "x_ref", "x", "cdf_ref", "lp_ref", "slope"}}, cached."""
    if os.path.isfile(REFS):
        with open(REFS) as f:
            return json.load(f)
    ref = reference_module()
    out = {}
    for name, params, low, high, dtype in cases():
        dt = np.dtype(dtype).type
        low_, high_ = (None if b is None else float(dt(b)) for b in (low, high))
        qs = [float(dt(q)) for q in (Q64 if dtype == "float64" else Q32)]
        x_ref = [ref.mp_truncated_icdf(name, params, low_, high_, q) for q in qs]
        xs = sorted({float(dt(v)) for v in x_ref if np.isfinite(v)})
        vals = [ref.mp_truncated_cdf_logpdf(name, params, low_, high_, v) for v in xs]
        out[case_key(name, params, low, high, dtype)] = dict(
            q=qs,
            x_ref=x_ref,
            x=xs,
            cdf_ref=[v[0] for v in vals],
            lp_ref=[v[1] for v in vals],
            slope=[v[2] for v in vals],
        )
    with open(REFS, "w") as f:
        json.dump(out, f)
    return out


def worker(label):
    import jax

    import numpyro
    import numpyro.distributions as dist

    x64 = jax.config.jax_enable_x64
    dtype = "float64" if x64 else "float32"
    with open(INPUTS) as f:
        inputs = json.load(f)
    results = {"numpyro": "{} {}".format(numpyro.__version__, numpyro.__file__)}
    for name, params, low, high, dt in cases():
        if dt != dtype:
            continue
        key = case_key(name, params, low, high, dtype)
        inp = inputs[key]
        try:
            base = getattr(dist, name)(*params, 0.0, 1.0)
            d = dist.TruncatedDistribution(base, low, high)
            results[key] = dict(
                icdf=np.asarray(d.icdf(np.array(inp["q"], dtype)), float).tolist(),
                cdf=np.asarray(d.cdf(np.array(inp["x"], dtype)), float).tolist(),
                log_prob=np.asarray(
                    d.log_prob(np.array(inp["x"], dtype)), float
                ).tolist(),
            )
        except Exception as e:  # 0.22.0 refuses or fails on some cases
            results[key] = dict(error="{}: {}".format(type(e).__name__, e))
    return results


def errors(ref_mod, key, r, res):
    """Largest error of icdf, cdf and log_prob in units of the tolerance."""
    if "error" in res:
        return [np.inf] * 3
    name, rest = key.split(" [", 1)
    bounds, dtype = rest.rsplit(" ", 1)
    low, high = (None if b == "None" else float(b) for b in bounds[:-1].split(", "))
    dt = np.dtype(dtype).type
    eps = np.finfo(dt).eps
    with np.errstate(invalid="ignore", over="ignore"):
        x, x_ref = np.array(res["icdf"], float), np.array(r["x_ref"], float)
        tol = ref_mod.icdf_tolerance(x_ref, low, high, dt)
        e_icdf = np.where(x == x_ref, 0.0, np.abs(x - x_ref) / tol)
        xs = np.array(r["x"], float)
        move = ref_mod.ULPS * ref_mod.ulp(xs, dt)
        cdf_ref, lp_ref = np.array(r["cdf_ref"]), np.array(r["lp_ref"])
        cdf_tol = (
            ref_mod.RTOL[dt] * np.minimum(cdf_ref, 1 - cdf_ref)
            + move * np.exp(lp_ref)
            + eps / 2
        )
        lp_tol = ref_mod.RTOL[dt] * np.maximum(1.0, np.abs(lp_ref)) + move * np.abs(
            np.array(r["slope"])
        )
        e_cdf = np.abs(np.array(res["cdf"], float) - cdf_ref) / cdf_tol
        e_lp = np.abs(np.array(res["log_prob"], float) - lp_ref) / lp_tol
    return [
        float(np.nan_to_num(e, nan=np.inf).max(initial=0.0))
        for e in (e_icdf, e_cdf, e_lp)
    ]


def report(script):
    os.makedirs(OUT, exist_ok=True)
    refs = references()
    with open(INPUTS, "w") as f:
        json.dump({k: dict(q=v["q"], x=v["x"]) for k, v in refs.items()}, f)
    runs = {dtype: side_by_side(script, x64=dtype == "float64") for dtype in DTYPES}
    ref_mod = reference_module()
    print("fork:   ", runs["float64"]["fork"]["numpyro"])
    print("0.22.0: ", runs["float64"]["upstream"]["numpyro"])
    methods = ("icdf", "cdf", "log_prob")
    regressions, summary = [], {}
    for name, params, low, high, dtype in cases():
        key = case_key(name, params, low, high, dtype)
        fork = errors(ref_mod, key, refs[key], runs[dtype]["fork"][key])
        up = errors(ref_mod, key, refs[key], runs[dtype]["upstream"][key])
        fam = "{}{}".format(name, params or "")
        for m, f, u in zip(methods, fork, up):
            s = summary.setdefault((fam, dtype, m), [0, 0, 0, 0.0, 0.0])
            s[0] += 1
            s[1] += f <= 1
            s[2] += u <= 1
            s[3] = max(s[3], f)
            s[4] = max(s[4], u)
            if u <= 1 < f:
                regressions.append((key, m, "{:.3g}".format(f), "{:.3g}".format(u)))
    print_table(
        "Regressions: 0.22.0 within tolerance, the fork not",
        ["case", "method", "fork error", "0.22.0 error"],
        regressions or [("none", "", "", "")],
    )
    rows = [
        (
            fam,
            dtype,
            m,
            "{}/{}".format(s[1], s[0]),
            "{}/{}".format(s[2], s[0]),
            "{:.3g}".format(s[3]),
            "{:.3g}".format(s[4]),
        )
        for (fam, dtype, m), s in summary.items()
    ]
    print_table(
        "Cases within tolerance, and the largest error (in units of the tolerance)",
        ["base", "dtype", "method", "fork ok", "0.22.0 ok", "fork max", "0.22.0 max"],
        rows,
    )


if __name__ == "__main__":
    main(worker, report)
