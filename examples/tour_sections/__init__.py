# SPDX-License-Identifier: Apache-2.0
"""Sections of ``examples/tour.py``, one module per patch: ``pNNNN_<slug>.py``
defining ``TITLE`` and ``run(check, out_dir)``."""
