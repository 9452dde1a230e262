# SPDX-License-Identifier: Apache-2.0
"""A tour of the fork: each patch of the series at work, against SciPy.

Run with ``make demo`` (or ``python examples/tour.py`` in an environment with the fork
installed). Plots are written to ``examples/out/``.
"""

import os
import sys

import numpyro

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")


def header(title):
    print("\n" + title + "\n" + "-" * len(title))


def check(label, ok):
    """Print a check and remember failures: the tour exits non-zero if any fails."""
    print("  [{}] {}".format("ok" if ok else "FAIL", label))
    if not ok:
        FAILED.append(label)


FAILED = []
# sections of the tour, one per patch, in series order
SECTIONS = []


def main():
    os.makedirs(OUT, exist_ok=True)
    print("NumPyro {} (the fork: release + patch series)".format(numpyro.__version__))
    for section in SECTIONS:
        section()
    print()
    if FAILED:
        print("{} check(s) failed: {}".format(len(FAILED), ", ".join(FAILED)))
        return 1
    print("all checks passed; plots in {}".format(OUT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
