# SPDX-License-Identifier: Apache-2.0
"""Power laws: accuracy of the fork against NumPyro 0.22.0, side by side.

``log_prob``, ``cdf`` and ``icdf`` of ``DoublyTruncatedPowerLaw`` and their
derivatives with respect to every argument (alpha, low, high and the value or q),
on a grid of indices from -20 to 10 (with -1 and -1 +- 1e-12) and bounds from
(1, 1 + 1e-6) to (1e-30, 1e30), in float32 and float64, against mpmath (100
digits, with the parameters rounded to the dtype). Each point is a case; a case
passes where its error is at most the tolerance of its dtype:

- ``log_prob``: error relative to max(1, |reference|);
- ``cdf``: absolute error;
- ``icdf``: error relative to the smaller of the reference and the width of the
  support (relative to x alone, the narrow supports could not fail);
- derivatives, made dimensionless (times low, high or the value; those of icdf
  divided by x): error relative to max(1, |reference|).

The table counts, per dtype and quantity, the cases, those that pass in the fork
and in 0.22.0, and the regressions: cases that pass in 0.22.0 and fail in the fork
(the goal: none).

Run: ``.venv/bin/python benchmarks/accuracy_powerlaw.py`` (needs mpmath; about a
minute).
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
QS = [0.0, 1e-12, 1e-6, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 1 - 1e-6, 1.0]
METHODS = ["log_prob", "cdf", "icdf"]
GRADS = ["alpha", "low", "high", "arg"]
DPS = 100


def cases():
    """(dtype, alpha, low, high), parameters rounded to the dtype; low = 0 only
    where the distribution is proper (alpha > -1)."""
    out = []
    for dtype in ("float32", "float64"):
        for alpha in ALPHAS:
            for low, high in BOUNDS:
                params = [float(np.asarray(v, dtype)) for v in (alpha, low, high)]
                if low > 0 or params[0] > -1:
                    out.append([dtype] + params)
    return out


def worker(label):
    import jax
    import jax.numpy as jnp

    import numpyro
    import numpyro.distributions as dist

    jax.config.update("jax_enable_x64", True)
    with open(sys.argv[sys.argv.index("--grid") + 1]) as f:
        grid = json.load(f)

    def method(name):
        def fn(alpha, low, high, v):
            d = dist.DoublyTruncatedPowerLaw(alpha, low, high, validate_args=False)
            return getattr(d, name)(v)

        return fn

    compiled = {
        (name, with_grad): jax.jit(
            jax.vmap(
                jax.grad(method(name), argnums=(0, 1, 2, 3))
                if with_grad
                else method(name),
                (None, None, None, 0),
            )
        )
        for name in METHODS
        for with_grad in (False, True)
    }
    results = {"numpyro": numpyro.__version__, "cases": []}
    for case in grid:
        dtype = case["dtype"]
        params = [jnp.asarray(case[k], dtype) for k in ("alpha", "low", "high")]
        out = {}
        for name in METHODS:
            v = jnp.asarray(case["q" if name == "icdf" else "x"], dtype)
            try:
                value = np.asarray(compiled[name, False](*params, v), np.float64)
                grad = np.stack(
                    [np.asarray(g, np.float64) for g in compiled[name, True](*params, v)]
                )
            except Exception:  # noqa: BLE001 (0.22.0 raises at some low = 0 cases)
                value = np.full(len(v), np.nan)
                grad = np.full((4, len(v)), np.nan)
            out[name] = [value.tolist(), grad.tolist()]
        results["cases"].append(out)
    return results


# References, with mpmath


def _mp(v):
    import mpmath

    return mpmath.mpf(float(v))


def _terms(alpha, low, high, x):
    """cdf, density at (x, low, high), d log Z / d alpha and d cdf / d alpha."""
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
    pdf = x**alpha / norm
    pdf_high = high**alpha / norm
    return norm, cdf, pdf, pdf_low, pdf_high, dlog_norm, dcdf


def reference(alpha, low, high, name, v):
    """Value and derivatives w.r.t. (alpha, low, high, x or q), in float64."""
    import mpmath

    with mpmath.workdps(DPS):
        alpha, low, high, v = map(_mp, (alpha, low, high, v))
        beta = alpha + 1
        if name == "icdf":
            if low == 0:
                x = high * v ** (1 / beta)
            elif beta == 0:
                x = low * (high / low) ** v
            else:
                x = (low**beta + v * (high**beta - low**beta)) ** (1 / beta)
        else:
            x = v
        if name == "icdf" and v in (0, 1):
            # x is a bound whatever alpha and the other bound
            pdf_end = _terms(alpha, low, high, high)[3 if v == 0 else 4]
            d_end = 1 / pdf_end if pdf_end else mpmath.inf
            return float(x), [0.0, float(v == 0), float(v == 1), float(d_end)]
        norm, cdf, pdf, pdf_low, pdf_high, dlog_norm, dcdf = _terms(
            alpha, low, high, x
        )
        if name == "log_prob":
            value = alpha * mpmath.log(x) - mpmath.log(norm)
            grad = [mpmath.log(x) - dlog_norm, pdf_low, -pdf_high, alpha / x]
        elif name == "cdf":
            value = cdf
            dlow = pdf_low * (cdf - 1) if cdf < 1 else mpmath.mpf(0)
            grad = [dcdf, dlow, -pdf_high * cdf, pdf]
        else:  # x solves cdf(x) = q: dx = (dq - dcdf) / pdf
            value = x
            dlow = -pdf_low * (cdf - 1) / pdf
            grad = [-dcdf / pdf, dlow, pdf_high * cdf / pdf, 1 / pdf]
        return float(value), [float(g) for g in grad]


def build_grid():
    import mpmath

    grid = []
    for dtype, alpha, low, high in cases():
        with mpmath.workdps(DPS):
            xs = [reference(alpha, low, high, "icdf", q)[0] for q in QS[1:-1]]
        xs = np.unique(
            np.concatenate([np.asarray(xs, dtype), np.asarray([low, high], dtype)])
        )
        xs = xs[xs > 0]  # log_prob(0) is infinite
        grid.append(
            {
                "dtype": dtype,
                "alpha": alpha,
                "low": low,
                "high": high,
                "q": [float(q) for q in np.asarray(QS, dtype)],
                "x": [float(x) for x in xs],
            }
        )
    return grid


def references(case, name):
    points = case["q" if name == "icdf" else "x"]
    return [reference(case["alpha"], case["low"], case["high"], name, v) for v in points]


def errors(case, name, refs, value, grad):
    """Errors of the value and of the dimensionless derivatives, per point."""
    low, high = case["low"], case["high"]
    points = case["q" if name == "icdf" else "x"]
    err_value, err_grad = [], []
    for i, v in enumerate(points):
        ref, ref_grad = refs[i]
        if name == "log_prob":
            err = abs(value[i] - ref) / max(1.0, abs(ref))
        elif name == "cdf":
            err = abs(value[i] - ref)
        else:
            err = abs(value[i] - ref) / max(min(abs(ref), high - low), 1e-300)
        err_value.append(err if err == err else np.inf)
        x = ref if name == "icdf" else v
        scale = np.array([1.0, low, high, 1.0 if name == "icdf" else x])
        if name == "icdf":
            scale = scale / x if x > 0 else np.array([np.nan] * 4)
        for k in range(4):
            g, r = grad[k][i], ref_grad[k]
            if np.isinf(r) or np.isnan(scale[k]):
                # infinite references (low = 0): the sign must match
                err = 0.0 if g == r else np.inf
            else:
                with np.errstate(all="ignore"):
                    err = abs(g - r) * scale[k] / max(1.0, abs(r * scale[k]))
            err_grad.append((GRADS[k], err if err == err else np.inf))
    return err_value, err_grad


def report(script):
    os.makedirs(common.OUT, exist_ok=True)
    grid_path = os.path.join(common.OUT, "accuracy_powerlaw_grid.json")
    grid = build_grid()
    with open(grid_path, "w") as f:
        json.dump(grid, f)
    runs = common.side_by_side(script, x64=True, extra_args=("--grid", grid_path))
    refs = [{name: references(case, name) for name in METHODS} for case in grid]
    rows = []
    regressions = []
    for dtype in ("float32", "float64"):
        tol_value, tol_grad = TOL[dtype]
        for name in METHODS:
            for quantity in ["value"] + ["d/d " + g for g in GRADS]:
                stats = {"n": 0, "fork": 0, "upstream": 0, "regressions": 0}
                max_err = {"fork": 0.0, "upstream": 0.0}
                for i, case in enumerate(grid):
                    if case["dtype"] != dtype:
                        continue
                    errs = {}
                    for label in ("fork", "upstream"):
                        value, grad = runs[label]["cases"][i][name]
                        err_value, err_grad = errors(
                            case, name, refs[i][name], value, grad
                        )
                        if quantity == "value":
                            errs[label] = np.asarray(err_value)
                        else:
                            errs[label] = np.asarray(
                                [e for g, e in err_grad if "d/d " + g == quantity]
                            )
                    tol = tol_value if quantity == "value" else tol_grad
                    ok_fork, ok_up = errs["fork"] <= tol, errs["upstream"] <= tol
                    stats["n"] += len(ok_fork)
                    stats["fork"] += int(ok_fork.sum())
                    stats["upstream"] += int(ok_up.sum())
                    stats["regressions"] += int((ok_up & ~ok_fork).sum())
                    for j in np.flatnonzero(ok_up & ~ok_fork):
                        regressions.append((dtype, name, quantity, case, j))
                    for label in ("fork", "upstream"):
                        finite = errs[label][np.isfinite(errs[label])]
                        if finite.size:
                            max_err[label] = max(max_err[label], finite.max())
                arg = "q" if name == "icdf" else "x"
                rows.append(
                    [
                        dtype,
                        name,
                        quantity.replace("arg", arg),
                        stats["n"],
                        stats["fork"],
                        stats["upstream"],
                        stats["regressions"],
                    ]
                )
    common.print_table(
        "DoublyTruncatedPowerLaw against mpmath: cases within the tolerance "
        "(fork {} vs {}; tolerance: float32 1e-4, derivatives 1e-3; float64 "
        "1e-9)".format(runs["fork"]["numpyro"], runs["upstream"]["numpyro"]),
        ["dtype", "method", "quantity", "cases", "fork", "0.22.0", "regressions"],
        rows,
    )
    for dtype, name, quantity, case, j in regressions:
        print("regression:", dtype, name, quantity, case["alpha"], case["low"],
              case["high"], (case["q"] if name == "icdf" else case["x"])[j])


if __name__ == "__main__":
    common.main(worker, report)
