# SPDX-License-Identifier: Apache-2.0
"""The test runs' conftest.py: --subset FILE=KEXPR narrows one file of a session."""

import os
import shutil
import subprocess
import sys

import fork
import pytest


@pytest.mark.parametrize("jobs", [0, 2])
def test_subset_narrows_one_file(tmp_path, jobs):
    shutil.copy2(os.path.join(fork.ROOT, "conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    body = "import pytest\n\n@pytest.mark.parametrize('d', ['Truncated', 'Normal'])\n"
    body += "def test_x(d):\n    pass\n\ndef test_y():\n    pass\n"
    (tmp_path / "test_a.py").write_text(body)
    (tmp_path / "test_b.py").write_text(body)
    cmd = [sys.executable, "-m", "pytest", "-c", "pytest.ini", "-p", "no:cacheprovider"]
    cmd += ["-q", "--color=no", "-rA", "-n", str(jobs)]
    cmd += ["--subset", "test_a.py=Truncated and not test_y", "test_a.py", "test_b.py"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    passed = sorted(
        line.split()[-1]
        for line in proc.stdout.splitlines()
        if line.startswith("PASSED")
    )
    assert passed == [
        "test_a.py::test_x[Truncated]",
        "test_b.py::test_x[Normal]",
        "test_b.py::test_x[Truncated]",
        "test_b.py::test_y",
    ]
    if not jobs:  # under pytest-xdist, the workers deselect and say nothing
        assert "2 deselected" in proc.stdout
    assert "time per test file" in proc.stdout


def test_subset_wants_an_expression(tmp_path):
    shutil.copy2(os.path.join(fork.ROOT, "conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_a.py").write_text("def test_x():\n    pass\n")
    cmd = [sys.executable, "-m", "pytest", "-c", "pytest.ini", "-p", "no:cacheprovider"]
    cmd += ["--subset", "test_a.py", "test_a.py"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 4 and "--subset wants FILE=KEXPR" in proc.stderr
