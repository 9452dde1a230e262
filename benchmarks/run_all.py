# SPDX-License-Identifier: Apache-2.0
"""Run every ``bench_*.py`` of this directory and print their tables."""

import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

if __name__ == "__main__":
    rc = 0
    for script in sorted(glob.glob(os.path.join(HERE, "bench_*.py"))):
        print("\n## " + os.path.basename(script), flush=True)
        rc |= subprocess.call([sys.executable, script], cwd=HERE)
    sys.exit(rc)
