# SPDX-License-Identifier: Apache-2.0
"""Build NumPyro with the patch series of this fork applied.

The repository holds no NumPyro source. At build time ``tools/fork.py`` obtains the
upstream sdist pinned in ``fork.toml`` (pip download, or ``$NUMPYRO_FORK_SDIST``),
verifies its sha256, applies ``patches/series`` with ``git am`` and stamps the
version ``<upstream>+fork<N>.g<digest>``.

* ``pip install .`` and ``pip install "numpyro @ git+<url>"`` build from a fresh
  staging copy in ``.fork-build/`` (the developer tree is not used);
* ``pip install -e .`` points at ``tree/``, the developer tree (materialized if
  absent), so edits there are live; nothing is staged;
* ``python -m build`` / ``uv build`` make an sdist of the build's inputs
  (``fork.toml``, ``patches/``, ``tools/``, MANIFEST.in), from which the wheel is
  built as from a checkout.

Which build runs is set by ``tools/fork_backend.py`` (``$NUMPYRO_FORK_BUILD``);
``setup.py`` run by hand guesses it from its command.
"""

import os
import sys
import tomllib

from setuptools import find_packages, setup

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import fork  # noqa: E402

# reproducible wheels: file times in the archive do not depend on the build date
os.environ.setdefault("SOURCE_DATE_EPOCH", "946684800")

MODE = os.environ.get("NUMPYRO_FORK_BUILD") or (
    "editable"
    if "editable_wheel" in sys.argv
    else "sdist"
    if "sdist" in sys.argv
    else "wheel"
)

try:
    if MODE == "editable":
        if not os.path.isdir(os.path.join(fork.TREE, ".git")):
            fork.cmd_tree()
        src = fork.TREE
    else:
        # the sdist too: its metadata (dependencies) is that of the patched source
        src = fork.stage(os.path.join(ROOT, ".fork-build"))
except fork.ForkError as e:
    sys.exit("error: building the NumPyro fork failed: {}".format(e))

with open(os.path.join(src, "pyproject.toml"), "rb") as f:
    upstream = tomllib.load(f)["project"]
with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
    long_description = f.read()

extras = dict(upstream.get("optional-dependencies", {}))
# extras of the fork: what the tests, the tour and the examples need
extras["test"] = [
    "funsor",
    "hypothesis",
    "mpmath",
    "packaging",
    "pytest",
    "pytest-xdist",
    "scipy>=1.9",
    "tfp-nightly",
]
extras["examples"] = ["dynesty", "matplotlib", "scipy>=1.9", "tfp-nightly"]
extras["nested"] = ["jaxns>=3.0,<4", "tfp-nightly"]  # jaxns 3.x only
# what upstream's own test suite imports beyond [test] (`make test-upstream`;
# upstream's "dev" dependency group, less its docs, lint and plotting tools)
extras["upstream"] = extras["test"] + [
    "equinox",
    "flax",
    "graphviz",
    "optax>=0.0.6",
    "pyro-api>=0.1.2",
    "pytest-timeout",
    "scikit-learn",
]
extras["dev"] = sorted(
    set(extras["test"] + extras["examples"] + extras["nested"] + ["ruff"])
)

setup(
    name=upstream["name"],
    version=fork.version(),
    description=upstream["description"]
    + " (fork: NumPyro {} with an upstream-ready patch series)".format(
        fork.config()["version"]
    ),
    long_description=long_description,
    long_description_content_type="text/markdown",
    author=upstream["authors"][0]["name"],
    author_email=upstream["authors"][0]["email"],
    license="Apache-2.0",
    license_files=["LICENSE"],
    python_requires=upstream["requires-python"],
    install_requires=upstream["dependencies"],
    extras_require=extras,
    # the license is given as an SPDX expression above
    classifiers=[c for c in upstream["classifiers"] if not c.startswith("License ::")],
    keywords=" ".join(upstream.get("keywords", [])),
    project_urls=upstream.get("urls", {}),
    package_dir={"": os.path.relpath(src, ROOT)},
    # an sdist carries the build's inputs (MANIFEST.in), not patched sources
    packages=[]
    if MODE == "sdist"
    else find_packages(src, include=["numpyro", "numpyro.*"]),
    include_package_data=True,
    zip_safe=False,
)
