# SPDX-License-Identifier: Apache-2.0
"""A tour of the fork: each patch of the series at work, against SciPy.

Run with ``make demo`` (or ``python examples/tour.py`` where the fork is installed).
Each patch has a section, ``examples/tour_sections/pNNNN_<slug>.py``, with a ``TITLE``
and a ``run(check, out_dir)`` function; they run in series order. Plots are written
to ``examples/out/``. The exit status is non-zero if any check fails.
"""

import importlib
import os
import pkgutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
sys.path.insert(0, HERE)

import tour_sections  # noqa: E402

import numpyro  # noqa: E402

numpyro.set_host_device_count(2)

FAILED = []


def check(label, ok, detail=""):
    """Print one check of a section; a failing check makes the tour fail."""
    print("  [{}] {}{}".format("ok" if ok else "FAIL", label, detail and ": " + detail))
    if not ok:
        FAILED.append(label)
    return ok


def main():
    os.makedirs(OUT, exist_ok=True)
    print("NumPyro {} (release + the fork's patch series)".format(numpyro.__version__))
    names = sorted(m.name for m in pkgutil.iter_modules(tour_sections.__path__))
    for name in names:
        section = importlib.import_module("tour_sections." + name)
        title = "{}: {}".format(name.split("_", 1)[0].lstrip("p"), section.TITLE)
        print("\n" + title + "\n" + "-" * len(title))
        section.run(check, OUT)
    print()
    if FAILED:
        print("{} check(s) failed: {}".format(len(FAILED), "; ".join(FAILED)))
        return 1
    print("{} sections, all checks passed; plots in {}".format(len(names), OUT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
