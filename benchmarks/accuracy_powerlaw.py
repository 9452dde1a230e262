# SPDX-License-Identifier: Apache-2.0
"""Power laws: accuracy of the fork against NumPyro 0.22.0, side by side.

``log_prob``, ``cdf`` and ``icdf`` of ``DoublyTruncatedPowerLaw`` and
``LowerTruncatedPowerLaw``, and their derivatives with respect to every argument
(alpha, low, high and the value or q), against mpmath (100 digits, with the
arguments rounded to the dtype), in float32 and float64:

- doubly: alpha from -20 to 10, with -1 and -1 +- 1e-12, bounds from
  (1, 1 + 1e-6) to (1e-30, 1e30) and (0, 3);
- lower: alpha from -20 to -1 - 1e-12, low from 1e-30 to 1e30;

at q = 0, 1e-12, 1e-6, 0.01, 0.1, ..., 0.99, 1 - 1e-6 (and 1 for the doubly
truncated one), and for log_prob and cdf at the bounds and at the reference
quantiles. Each point is a case; it passes where its error is at most the
tolerance of its dtype (float32: 1e-4, derivatives 1e-3; float64: 1e-9):

- ``log_prob``: error relative to max(1, |reference|);
- ``cdf``: absolute error;
- ``icdf``: error relative to the smaller of the reference and the width of the
  support (relative to x alone, the narrow supports could not fail);
- derivatives, made dimensionless (times low, high or the value; those of icdf
  divided by x): error relative to max(1, |reference|); an infinite reference
  (with respect to low = 0) must be matched exactly.

The table counts, per family, dtype and quantity, the cases, those that pass in
the fork and in 0.22.0, and the regressions: cases that pass in 0.22.0 and fail
in the fork (the goal: none; they are listed).

Run: ``.venv/bin/python benchmarks/accuracy_powerlaw.py`` (needs mpmath; about
two minutes).
"""

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

TOL = {"float32": (1e-4, 1e-3), "float64": (1e-9, 1e-9)}  # (values, derivatives)
ALPHAS = [-20.0, -5.0, -2.35, -1.5, -1 - 1e-12, -1.0, -1 + 1e-12]
ALPHAS += [-0.999, -0.5, 0.0, 1.5, 10.0]
BOUNDS = [(1.0, 1.0 + 1e-6), (100.0, 100.5), (1.0, 2.0), (5.0, 80.0)]
BOUNDS += [(1e-3, 1e6), (1e-30, 1e30), (0.0, 3.0)]
LOWER_ALPHAS = [-20.0, -5.0, -2.35, -1.5, -1.001, -1 - 1e-6, -1 - 1e-12]
LOWER_LOWS = [1e-30, 1e-3, 1.0, 5.0, 1e3, 1e30]
QS = [0.0, 1e-12, 1e-6, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 1 - 1e-6, 1.0]
METHODS = ["log_prob", "cdf", "icdf"]
ARGS = {"doubly": ["alpha", "low", "high", "arg"], "lower": ["alpha", "low", "arg"]}
DPS = 100


def cases():
    """(family, dtype, params), the parameters rounded to the dtype; low = 0 only
    where the distribution is proper (alpha > -1)."""
    out = []
    for dtype in ("float32", "float64"):
        for alpha in ALPHAS:
            for low, high in BOUNDS:
                params = [float(np.asarray(v, dtype)) for v in (alpha, low, high)]
                if low > 0 or params[0] > -1:
                    out.append(("doubly", dtype, params))
        for alpha in LOWER_ALPHAS:
            for low in LOWER_LOWS:
                params = [float(np.asarray(v, dtype)) for v in (alpha, low)]
                if params[0] < -1:
                    out.append(("lower", dtype, params))
    return out


def worker(label):
    import jax
    import jax.numpy as jnp

    import numpyro
    import numpyro.distributions as dist

    jax.config.update("jax_enable_x64", True)
    with open(sys.argv[sys.argv.index("--grid") + 1]) as f:
        grid = json.load(f)
    classes = {
        "doubly": dist.DoublyTruncatedPowerLaw,
        "lower": dist.LowerTruncatedPowerLaw,
    }

    def method(family, name):
        def fn(*args):
            d = classes[family](*args[:-1], validate_args=False)
            return getattr(d, name)(args[-1])

        return fn

    compiled = {}
    for family, args in ARGS.items():
        for name in METHODS:
            fn = method(family, name)
            grad = jax.grad(fn, argnums=tuple(range(len(args))))
            axes = (None,) * (len(args) - 1) + (0,)
            compiled[family, name] = (
                jax.jit(jax.vmap(fn, axes)),
                jax.jit(jax.vmap(grad, axes)),
            )
    results = {"numpyro": numpyro.__version__, "cases": []}
    for case in grid:
        family, dtype = case["family"], case["dtype"]
        params = [jnp.asarray(p, dtype) for p in case["params"]]
        out = {}
        for name in METHODS:
            v = jnp.asarray(case["q" if name == "icdf" else "x"], dtype)
            value_fn, grad_fn = compiled[family, name]
            try:
                value = np.asarray(value_fn(*params, v), np.float64)
                grad = np.stack(
                    [np.asarray(g, np.float64) for g in grad_fn(*params, v)]
                )
            except Exception:  # noqa: BLE001 (0.22.0 raises at some low = 0 cases)
                value = np.full(len(v), np.nan)
                grad = np.full((len(ARGS[family]), len(v)), np.nan)
            out[name] = [value.tolist(), grad.tolist()]
        results["cases"].append(out)
    return results


# References, with mpmath


def _doubly_terms(alpha, low, high, x):
    """Normalizer, cdf, density at x, low and high, d log Z / d alpha and
    d cdf / d alpha."""
    import mpmath

    beta = alpha + 1
    log_x = mpmath.log(x)
    if low == 0:  # beta > 0: Z = high ** beta / beta
        norm = high**beta / beta
        cdf = (x / high) ** beta
        dlog_norm = mpmath.log(high) - 1 / beta
        dcdf = cdf * (log_x - mpmath.log(high))
        pdf_low = mpmath.inf if alpha < 0 else (1 / norm if alpha == 0 else 0)
    elif beta == 0:
        log_low, log_high = mpmath.log(low), mpmath.log(high)
        norm = log_high - log_low
        cdf = (log_x - log_low) / norm
        dlog_norm = (log_low + log_high) / 2
        dcdf = (log_x**2 - log_low**2 - cdf * (log_high**2 - log_low**2)) / 2 / norm
        pdf_low = low**alpha / norm
    else:
        log_low, log_high = mpmath.log(low), mpmath.log(high)
        diff = high**beta - low**beta
        norm = diff / beta
        cdf = (x**beta - low**beta) / diff
        dlog_norm = (high**beta * log_high - low**beta * log_low) / diff - 1 / beta
        dcdf = (x**beta * log_x - low**beta * log_low) / diff
        dcdf -= cdf * (high**beta * log_high - low**beta * log_low) / diff
        pdf_low = low**alpha / norm
    return norm, cdf, x**alpha / norm, pdf_low, high**alpha / norm, dlog_norm, dcdf


def _doubly_reference(alpha, low, high, name, v):
    import mpmath

    beta = alpha + 1
    if name != "icdf":
        x = v
    elif low == 0:
        x = high * v ** (1 / beta)
    elif beta == 0:
        x = low * (high / low) ** v
    else:  # (low ** beta + q (high ** beta - low ** beta)) ** (1 / beta)
        x = low * (1 - v + v * (high / low) ** beta) ** (1 / beta)
    if name == "icdf" and v in (0, 1):
        # x is a bound whatever alpha and the other bound
        pdf_end = _doubly_terms(alpha, low, high, high)[3 if v == 0 else 4]
        d_end = 1 / pdf_end if pdf_end else mpmath.inf
        return x, [0, int(v == 0), int(v == 1), d_end]
    norm, cdf, pdf, pdf_low, pdf_high, dlog_norm, dcdf = _doubly_terms(
        alpha, low, high, x
    )
    if name == "log_prob":
        grad = [mpmath.log(x) - dlog_norm, pdf_low, -pdf_high, alpha / x]
        return alpha * mpmath.log(x) - mpmath.log(norm), grad
    dlow = pdf_low * (cdf - 1) if cdf < 1 else 0
    if name == "cdf":
        return cdf, [dcdf, dlow, -pdf_high * cdf, pdf]
    # x solves cdf(x) = q: dx = (dq - dcdf) / pdf
    return x, [-dcdf / pdf, -dlow / pdf, pdf_high * cdf / pdf, 1 / pdf]


def _lower_reference(alpha, low, name, v):
    import mpmath

    beta = alpha + 1
    if name == "icdf":
        x = low * (1 - v) ** (1 / beta)
        grad = [-x * mpmath.log(1 - v) / beta**2, x / low, -x / (beta * (1 - v))]
        return x, grad
    r = (v / low) ** beta
    if name == "log_prob":
        value = alpha * mpmath.log(v) + mpmath.log(-beta) - beta * mpmath.log(low)
        return value, [mpmath.log(v / low) + 1 / beta, -beta / low, alpha / v]
    return 1 - r, [-r * mpmath.log(v / low), beta * r / low, -beta * r / v]


def reference(family, params, name, v):
    """Value and derivatives w.r.t. (alpha, low[, high], x or q), in float64."""
    import mpmath

    with mpmath.workdps(DPS):
        args = [mpmath.mpf(float(p)) for p in params + [v]]
        fn = _doubly_reference if family == "doubly" else _lower_reference
        value, grad = fn(*args[:-1], name, args[-1])
        return float(value), [float(g) for g in grad]


def build_grid():
    grid = []
    for family, dtype, params in cases():
        qs = QS if family == "doubly" else QS[:-1]
        xs = [reference(family, params, "icdf", q)[0] for q in qs[1:-1]]
        xs = np.asarray(xs + params[1:])
        xs = xs[np.abs(xs) < np.finfo(dtype).max]
        xs = np.unique(xs.astype(dtype))
        xs = xs[xs > 0]
        grid.append(
            {
                "family": family,
                "dtype": dtype,
                "params": params,
                "q": [float(q) for q in np.asarray(qs, dtype)],
                "x": [float(x) for x in xs],
            }
        )
    return grid


def errors(case, name, refs, value, grad):
    """Errors of the values and of the dimensionless derivatives, per point:
    (errors of the values, {argument: errors of the derivatives})."""
    params = case["params"]
    low, high = params[1], params[2] if case["family"] == "doubly" else np.inf
    points = case["q" if name == "icdf" else "x"]
    args = ARGS[case["family"]]
    err_value, err_grad = [], {arg: [] for arg in args}
    for i, v in enumerate(points):
        ref, ref_grad = refs[i]
        with np.errstate(all="ignore"):
            if not np.isfinite(ref):
                err = 0.0 if value[i] == ref else np.inf
            elif name == "log_prob":
                err = abs(value[i] - ref) / max(1.0, abs(ref))
            elif name == "cdf":
                err = abs(value[i] - ref)
            else:
                err = abs(value[i] - ref) / max(min(abs(ref), high - low), 1e-300)
        err_value.append(err if err == err else np.inf)
        x = ref if name == "icdf" else v
        scales = {"alpha": 1.0, "low": low, "high": high}
        scales["arg"] = 1.0 if name == "icdf" else x
        for k, arg in enumerate(args):
            scale = scales[arg] / x if name == "icdf" and x else scales[arg]
            g, r = grad[k][i], ref_grad[k]
            with np.errstate(all="ignore"):
                if not np.isfinite(r * scale):
                    err = 0.0 if g == r else np.inf
                else:
                    err = abs(g - r) * scale / max(1.0, abs(r * scale))
            err_grad[arg].append(err if err == err else np.inf)
    return err_value, err_grad


def report(script):
    os.makedirs(common.OUT, exist_ok=True)
    grid_path = os.path.join(common.OUT, "accuracy_powerlaw_grid.json")
    grid = build_grid()
    with open(grid_path, "w") as f:
        json.dump(grid, f)
    runs = common.side_by_side(script, x64=True, extra_args=("--grid", grid_path))
    refs = [
        {
            name: [
                reference(case["family"], case["params"], name, v)
                for v in case["q" if name == "icdf" else "x"]
            ]
            for name in METHODS
        }
        for case in grid
    ]
    rows, regressions, failures = [], [], []
    for family in ARGS:
        for dtype in ("float32", "float64"):
            for name in METHODS:
                for quantity in ["value"] + ARGS[family]:
                    n = fork = upstream = regressed = 0
                    for i, case in enumerate(grid):
                        if (case["family"], case["dtype"]) != (family, dtype):
                            continue
                        ok = {}
                        for label in ("fork", "upstream"):
                            value, grad = runs[label]["cases"][i][name]
                            err_value, err_grad = errors(
                                case, name, refs[i][name], value, grad
                            )
                            err = (
                                err_value if quantity == "value" else err_grad[quantity]
                            )
                            tol = TOL[dtype][quantity != "value"]
                            ok[label] = np.asarray(err) <= tol
                        points = case["q" if name == "icdf" else "x"]
                        n += len(points)
                        fork += int(ok["fork"].sum())
                        upstream += int(ok["upstream"].sum())
                        regressed += int((ok["upstream"] & ~ok["fork"]).sum())
                        for j in np.flatnonzero(~ok["fork"]):
                            item = (family, dtype, name, quantity, case["params"])
                            failures.append(item + (points[j],))
                            if ok["upstream"][j]:
                                regressions.append(item + (points[j],))
                    arg = "q" if name == "icdf" else "x"
                    rows.append(
                        [family, dtype, name, quantity.replace("arg", arg), n]
                        + [fork, upstream, regressed]
                    )
    common.print_table(
        "Power laws against mpmath: cases within the tolerance (fork {} vs "
        "NumPyro {})".format(runs["fork"]["numpyro"], runs["upstream"]["numpyro"]),
        ["family", "dtype", "method", "quantity", "cases", "fork", "0.22.0"]
        + ["regressions"],
        rows,
    )
    print("\nregressions: {}".format(len(regressions)))
    for item in regressions:
        print("  ", *item)
    if "--failures" in sys.argv:
        print("\ncases the fork fails:")
        for item in failures:
            print("  ", *item)


if __name__ == "__main__":
    common.main(worker, report)
