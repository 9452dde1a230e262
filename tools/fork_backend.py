# SPDX-License-Identifier: Apache-2.0
"""The fork's PEP 517 build backend: setuptools, told which build it serves.

``setup.py`` needs to know, before setuptools runs, what it is building: an
editable install points at ``tree/`` (no staged copy of the source), a wheel is
built from a staged, patched copy, and an sdist carries the build's inputs
(``fork.toml``, ``patches/``, ``tools/``) rather than patched sources. setuptools
runs every hook as a ``setup.py`` command whose name does not always say which
build it belongs to (``dist_info`` serves both wheels and editable installs), so
each hook here records it in ``$NUMPYRO_FORK_BUILD`` and hands over to setuptools.
"""

import os

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F401,F403 (every other hook as is)

MODE = "NUMPYRO_FORK_BUILD"


def _as(mode, hook):
    def run(*args, **kwargs):
        os.environ[MODE] = mode
        try:
            return hook(*args, **kwargs)
        finally:
            os.environ.pop(MODE, None)

    run.__name__ = hook.__name__
    run.__doc__ = hook.__doc__
    return run


get_requires_for_build_wheel = _as("wheel", _setuptools.get_requires_for_build_wheel)
prepare_metadata_for_build_wheel = _as(
    "wheel", _setuptools.prepare_metadata_for_build_wheel
)
build_wheel = _as("wheel", _setuptools.build_wheel)
get_requires_for_build_editable = _as(
    "editable", _setuptools.get_requires_for_build_editable
)
prepare_metadata_for_build_editable = _as(
    "editable", _setuptools.prepare_metadata_for_build_editable
)
build_editable = _as("editable", _setuptools.build_editable)
get_requires_for_build_sdist = _as("sdist", _setuptools.get_requires_for_build_sdist)
build_sdist = _as("sdist", _setuptools.build_sdist)
