# SPDX-License-Identifier: Apache-2.0
"""The fork machinery: the series applies, the build is reproducible and refuses
bad input by name, the version identifies the series, export does not churn."""

import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile

from conftest import committed_files, series_upstream_tests
import fork
from packaging.version import Version
import pytest

SERIES = fork.read_series()


def run(cmd, cwd=None, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True)


def build_wheel(src, out, env=None, isolated=False):
    """``pip wheel`` of a checkout; returns (process, wheel paths)."""
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out)]
    if not isolated:
        cmd.append("--no-build-isolation")
    proc = run(cmd + [str(src)], env=env)
    wheels = sorted(str(p) for p in out.glob("*.whl")) if out.exists() else []
    return proc, wheels


def offline_env(tmp_path, **extra):
    """pip with no index, no configuration and an empty sdist cache."""
    env = {
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": "",
        "NUMPYRO_FORK_CACHE": str(tmp_path / "empty-cache"),
        "NUMPYRO_FORK_SDIST": "",
    }
    env.update(extra)
    return env


def sdist_members(sdist):
    """{relative path: sha256} of the upstream sdist's files."""
    cfg = fork.config()
    prefix = "{}-{}/".format(cfg["name"], cfg["version"])
    out = {}
    with tarfile.open(sdist) as tar:
        for m in tar.getmembers():
            if m.isfile():
                data = tar.extractfile(m).read()
                out[m.name[len(prefix) :]] = hashlib.sha256(data).hexdigest()
    return out


# ----------------------------------------------------------------------- repository


def test_no_upstream_file_committed(sdist):
    upstream = sdist_members(sdist)
    files = committed_files()
    assert files, "git ls-files found nothing"
    for path in files:
        top = path.split("/")[0]
        assert top not in ("numpyro", "test"), path
        if path == "LICENSE":  # the Apache-2.0 text, shared by every Apache project
            continue
        with open(os.path.join(fork.ROOT, path), "rb") as f:
            data = f.read()
        if not data.strip():  # an empty file is nobody's copy
            continue
        digest = hashlib.sha256(data).hexdigest()
        assert digest not in upstream.values(), (
            "{} is a copy of an upstream file".format(path)
        )


def test_series_names_and_messages():
    for i, name in enumerate(SERIES, 1):
        assert re.fullmatch(r"{:04d}-[a-z0-9-]+\.patch".format(i), name), name
        with open(os.path.join(fork.PATCHES, name)) as f:
            text = f.read()
        assert text.startswith("From 0000000000000000000000000000000000000000 "), name
        subject = re.search(r"^Subject: \[PATCH\] (.+)$", text, re.M)
        assert subject, name
        message = text.split("\n---\n", 1)[0]
        # a pull-request description: a body, and the upstream issue it answers
        assert len(message.split("\n\n", 1)[-1]) > 200, name
        assert re.search(r"pyro-ppl/numpyro#\d+|issue #\d+", message), name


# ----------------------------------------------------------------------- series


def series_tests():
    """Upstream's test/infer, test/contrib if found; skip when the series changes
    them and they are not found."""
    tests = fork.upstream_tests_dir()
    if tests is None:
        touched = [
            n
            for n in SERIES
            if any(
                fork._is_upstream_test(p)
                for p in fork.patch_paths(os.path.join(fork.PATCHES, n))
            )
        ]
        if touched:
            pytest.skip(
                "{} change upstream's test/infer or test/contrib, not found here "
                "(set {})".format(", ".join(touched), fork.UPSTREAM_TESTS_ENV)
            )
    return tests


def test_series_applies_one_commit_per_patch(tmp_path, sdist):
    dest = str(tmp_path / "tree")
    fork._materialize(dest, tests=series_tests())
    log = fork.git(dest, "log", "--format=%s", "{}..HEAD".format(fork.BASE_TAG))
    assert len(log.stdout.splitlines()) == len(SERIES)
    notes = [
        fork.git(dest, "notes", "show", sha).stdout.strip()
        for sha in fork.git(
            dest, "rev-list", "--reverse", "{}..HEAD".format(fork.BASE_TAG)
        ).stdout.split()
    ]
    assert notes == [fork._patch_slug(n) for n in SERIES]
    # every prefix of the series leaves byte-compilable sources
    shas = fork.git(
        dest, "rev-list", "--reverse", "{}..HEAD".format(fork.BASE_TAG)
    ).stdout.split()
    for sha in [fork.BASE_TAG] + shas:
        fork.git(dest, "checkout", "-q", sha)
        proc = run(
            [sys.executable, "-m", "compileall", "-q", "numpyro", "test"], cwd=dest
        )
        assert proc.returncode == 0, (sha, proc.stdout + proc.stderr)


def test_export_is_byte_identical(tmp_path, sdist):
    dest = str(tmp_path / "tree")
    fork._materialize(dest, tests=series_tests())
    out = tmp_path / "exported"
    fork._export(dest, str(out))
    assert fork._dir_files(str(out)) == fork._dir_files(fork.PATCHES)


def test_version_is_pep440_and_follows_series(tmp_path, checkout):
    ver = Version(fork.version())
    assert ver.public == fork.config()["version"]
    assert ver.local.startswith("fork{}.".format(len(SERIES)))
    assert str(ver) == fork.version()  # already normalized
    patches = checkout / "patches"
    with open(patches / "series", "a") as f:
        f.write("# a comment changes nothing\n")
    assert fork.version(str(patches)) == fork.version()
    if SERIES:
        path = patches / SERIES[0]
        path.write_text(path.read_text().replace("\n---\n", "\nMore words.\n---\n", 1))
        assert fork.version(str(patches)) != fork.version()


def test_installed_version():
    import importlib.metadata

    import numpyro

    assert numpyro.__version__ == fork.version()
    assert importlib.metadata.version("numpyro") == fork.version()


# ----------------------------------------------------------------------- build


def test_wheel_is_reproducible_and_patched(tmp_path, checkout, sdist):
    env = {"NUMPYRO_FORK_SDIST": sdist}
    proc, first = build_wheel(checkout, tmp_path / "w1", env)
    assert proc.returncode == 0, proc.stderr
    # a second checkout elsewhere, built from scratch
    other = tmp_path / "other"
    shutil.copytree(
        checkout, other, ignore=shutil.ignore_patterns(".fork-build", "build")
    )
    proc, second = build_wheel(other, tmp_path / "w2", env)
    assert proc.returncode == 0, proc.stderr
    assert len(first) == len(second) == 1
    assert os.path.basename(first[0]) == "numpyro-{}-py3-none-any.whl".format(
        fork.version()
    )
    with open(first[0], "rb") as f1, open(second[0], "rb") as f2:
        assert f1.read() == f2.read()
    # the wheel holds exactly the patched sources of the series
    tree = str(tmp_path / "tree")
    fork._materialize(tree)
    fork._stamp_version(tree, fork.version())
    with zipfile.ZipFile(first[0]) as whl:
        names = [n for n in whl.namelist() if n.startswith("numpyro/")]
        expected = []
        for dirpath, _, filenames in os.walk(os.path.join(tree, "numpyro")):
            for fn in filenames:
                expected.append(os.path.relpath(os.path.join(dirpath, fn), tree))
        assert sorted(names) == sorted(expected)
        for name in names:
            with open(os.path.join(tree, name), "rb") as f:
                assert whl.read(name) == f.read(), name


def test_offline_build_from_local_sdist(tmp_path, checkout, sdist):
    proc, wheels = build_wheel(
        checkout, tmp_path / "w", offline_env(tmp_path, NUMPYRO_FORK_SDIST=sdist)
    )
    assert proc.returncode == 0, proc.stderr
    assert len(wheels) == 1


def test_offline_without_cache_is_refused(tmp_path, checkout):
    proc, wheels = build_wheel(checkout, tmp_path / "w", offline_env(tmp_path))
    assert proc.returncode != 0
    assert not wheels
    out = proc.stdout + proc.stderr
    assert "could not download the numpyro 0.22.0 sdist" in out
    assert "NUMPYRO_FORK_SDIST" in out


def test_bad_checksum_is_refused(tmp_path, checkout, sdist):
    bad = tmp_path / os.path.basename(sdist)
    with open(sdist, "rb") as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    proc, wheels = build_wheel(
        checkout, tmp_path / "w", offline_env(tmp_path, NUMPYRO_FORK_SDIST=str(bad))
    )
    assert proc.returncode != 0
    assert not wheels
    out = proc.stdout + proc.stderr
    assert "sha256 mismatch for {}".format(bad) in out
    assert fork.config()["sdist_sha256"] in out


def offline(monkeypatch, cache):
    monkeypatch.setenv("NUMPYRO_FORK_CACHE", str(cache))
    monkeypatch.delenv("NUMPYRO_FORK_SDIST", raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")


def test_corrupt_cache_is_fetched_again(tmp_path, monkeypatch, sdist):
    cache = tmp_path / "cache"
    entry = cache / fork.config()["sdist_sha256"] / os.path.basename(sdist)
    entry.parent.mkdir(parents=True)
    entry.write_bytes(b"not a tarball")
    offline(monkeypatch, cache)
    # with no index either, the corrupt entry must not be used
    with pytest.raises(fork.ForkError, match="could not download"):
        fork.upstream_sdist()
    assert not entry.exists()


def test_wrong_pin_keeps_the_good_cache(tmp_path, monkeypatch, sdist):
    """A wrong sdist_sha256 in fork.toml finds nothing, fails, and deletes nothing:
    with the pin put right, the next offline build uses the cache."""
    cache = tmp_path / "cache"
    good = cache / fork.config()["sdist_sha256"] / os.path.basename(sdist)
    good.parent.mkdir(parents=True)
    shutil.copyfile(sdist, good)
    legacy = cache / os.path.basename(sdist)  # where caches kept it before keys
    shutil.copyfile(sdist, legacy)
    offline(monkeypatch, cache)
    right = fork.config()
    monkeypatch.setattr(fork, "config", lambda: dict(right, sdist_sha256="0" * 64))
    with pytest.raises(fork.ForkError, match="could not download"):
        fork.upstream_sdist()
    assert good.exists() and legacy.exists()
    monkeypatch.setattr(fork, "config", lambda: right)
    assert fork.upstream_sdist() == str(good)
    good.unlink()
    assert fork.upstream_sdist() == str(legacy)


BROKEN = """\
From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: Nobody <nobody@example.com>
Date: Sat, 1 Jan 2000 00:00:00 +0000
Subject: [PATCH] util: a change against code that is not there

---
 numpyro/util.py | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/numpyro/util.py b/numpyro/util.py
index 000000000000..111111111111 100644
--- a/numpyro/util.py
+++ b/numpyro/util.py
@@ -1,3 +1,3 @@
 # no such line
-# in numpyro/util.py
+# anywhere
 # at all
"""


def test_patch_that_does_not_apply_is_named(tmp_path, checkout, sdist):
    name = "{:04d}-broken.patch".format(len(SERIES) + 1)
    (checkout / "patches" / name).write_text(BROKEN)
    with open(checkout / "patches" / "series", "a") as f:
        f.write(name + "\n")
    proc, wheels = build_wheel(
        checkout, tmp_path / "w", offline_env(tmp_path, NUMPYRO_FORK_SDIST=sdist)
    )
    assert proc.returncode != 0
    assert not wheels
    out = proc.stdout + proc.stderr
    assert (
        "patch {} (number {} in patches/series) does not apply".format(
            name, len(SERIES) + 1
        )
        in out
    )
    assert "numpyro/util.py" in out
    # no advice about a repository that no longer exists
    assert "Patch failed at" not in out and "--continue" not in out
    # nothing half-patched is left to be picked up by a later build
    stages = checkout / ".fork-build"
    assert not stages.exists() or not [p for p in stages.iterdir()]


def test_git_url_install(tmp_path, checkout):
    """`pip install "numpyro @ git+<url>"` from a clean clone, with pip's build
    isolation (setuptools and pip come from the package index)."""
    repo = tmp_path / "repo"
    shutil.copytree(checkout, repo)
    env = dict(
        fork._git_env(), GIT_AUTHOR_NAME="user", GIT_AUTHOR_EMAIL="u@example.com"
    )
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "fork"]):
        proc = run(["git", "-C", str(repo), *args], env=env)
        assert proc.returncode == 0, proc.stderr
    target = tmp_path / "site"
    proc = run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            "numpyro @ git+file://{}".format(repo),
        ]
    )
    assert proc.returncode == 0, proc.stderr
    (dist_info,) = target.glob("numpyro-*.dist-info")
    assert dist_info.name == "numpyro-{}.dist-info".format(fork.version())
    proc = run(
        [sys.executable, "-c", "import numpyro.version as v; print(v.__version__)"],
        env={"PYTHONPATH": str(target)},
    )
    assert proc.stdout.strip() == fork.version(), proc.stderr


# ----------------------------------------------------------------------- developer tree


def fork_cli(checkout, *args):
    return run([sys.executable, str(checkout / "tools" / "fork.py"), *args])


def tree_git(checkout, *args):
    proc = run(["git", "-C", str(checkout / "tree"), *args], env=fork._git_env())
    assert proc.returncode == 0, proc.stderr
    return proc


def test_tree_status_and_export_roundtrip(checkout, sdist, monkeypatch):
    monkeypatch.setenv("NUMPYRO_FORK_SDIST", sdist)
    proc = fork_cli(checkout, "tree")
    assert proc.returncode == 0, proc.stderr
    assert (checkout / "numpyro").resolve() == (checkout / "tree" / "numpyro").resolve()
    assert (checkout / "test").is_symlink()
    proc = fork_cli(checkout, "status")
    assert proc.returncode == 0, proc.stdout

    before = fork._dir_files(str(checkout / "patches"))
    proc = fork_cli(checkout, "patches")
    assert proc.returncode == 0, proc.stderr
    assert fork._dir_files(str(checkout / "patches")) == before  # no churn

    # an uncommitted edit in the tree
    util = checkout / "tree" / "numpyro" / "util.py"
    util.write_text(util.read_text() + "\n# an edit\n")
    proc = fork_cli(checkout, "status")
    assert proc.returncode == 1
    assert "uncommitted changes" in proc.stdout and "numpyro/util.py" in proc.stdout
    proc = fork_cli(checkout, "patches")
    assert proc.returncode == 2 and "commit them first" in proc.stderr
    proc = fork_cli(checkout, "tree")
    assert proc.returncode == 2 and "not in patches/" in proc.stderr

    # committed but not exported
    tree_git(checkout, "commit", "-q", "-am", "util: an edit")
    proc = fork_cli(checkout, "status")
    assert proc.returncode == 1 and "run `make patches`" in proc.stdout
    proc = fork_cli(checkout, "patches")
    assert proc.returncode == 0, proc.stderr
    name = "{:04d}-util-an-edit.patch".format(len(SERIES) + 1)
    assert (checkout / "patches" / name).exists()
    assert fork_cli(checkout, "status").returncode == 0
    assert fork_cli(checkout, "version").stdout.strip() != fork.version()

    # patches/ changed behind the tree's back (a pull): status says make tree
    patch = checkout / "patches" / name
    patch.write_text(
        patch.read_text().replace("util: an edit", "util: an edit, reworded")
    )
    proc = fork_cli(checkout, "status")
    assert proc.returncode == 1 and "run `make tree`" in proc.stdout
    proc = fork_cli(checkout, "tree")
    assert proc.returncode == 0, proc.stderr
    assert "reworded" in tree_git(checkout, "log", "-1", "--format=%s").stdout
    assert fork_cli(checkout, "status").returncode == 0


def test_fixup_in_the_middle_keeps_names(checkout, sdist, monkeypatch):
    """A fix to an earlier patch (commit --fixup, rebase --autosquash) lands in
    that patch's file; the other files do not change."""
    monkeypatch.setenv("NUMPYRO_FORK_SDIST", sdist)
    assert fork_cli(checkout, "tree").returncode == 0
    util = checkout / "tree" / "numpyro" / "util.py"
    util.write_text(util.read_text() + "\n# first\n")
    tree_git(checkout, "commit", "-q", "-am", "util: first")
    util.write_text(util.read_text() + "\n# second\n")
    tree_git(checkout, "commit", "-q", "-am", "util: second")
    assert fork_cli(checkout, "patches").returncode == 0
    first = "{:04d}-util-first.patch".format(len(SERIES) + 1)
    second = "{:04d}-util-second.patch".format(len(SERIES) + 2)
    before = fork._dir_files(str(checkout / "patches"))

    ops = checkout / "tree" / "numpyro" / "patch.py"
    ops.write_text(ops.read_text() + "\n# fix for first\n")
    sha = tree_git(checkout, "rev-parse", "HEAD~1").stdout.strip()
    tree_git(checkout, "commit", "-q", "-a", "--fixup", sha)
    tree_git(
        checkout,
        "-c",
        "sequence.editor=true",
        "rebase",
        "-q",
        "-i",
        "--autosquash",
        fork.BASE_TAG,
    )
    assert fork_cli(checkout, "patches").returncode == 0
    after = fork._dir_files(str(checkout / "patches"))
    assert sorted(after) == sorted(before)
    assert after[second] == before[second]
    assert after[first] != before[first] and "# fix for first" in after[first].decode()
    assert fork_cli(checkout, "status").returncode == 0


# ----------------------------------------------------------------------- upstream tests

UPSTREAM_TEST = """\
# an upstream test the sdist leaves out
def test_observed_site():
    assert 1 + 1 == 2
"""


@pytest.fixture
def upstream_tests(tmp_path):
    """A stand-in for upstream's test/infer and test/contrib (shared/upstream-tests)."""
    root = tmp_path / "upstream-tests"
    real, touches = series_upstream_tests()
    if touches:  # the series must still apply to them
        if real is None:
            pytest.skip("the series changes upstream's tests, which are not here")
        shutil.copytree(real, root)
    (root / "infer").mkdir(parents=True, exist_ok=True)
    (root / "contrib" / "hsgp").mkdir(parents=True, exist_ok=True)
    (root / "infer" / "test_fork_stub.py").write_text(UPSTREAM_TEST)
    (root / "contrib" / "hsgp" / "test_laplacian.py").write_text("# contrib\n")
    (root / "README.md").write_text("from pyro-ppl/numpyro, commit " + "ab" * 20 + "\n")
    return root


def test_upstream_tests_location(tmp_path, checkout, upstream_tests, monkeypatch):
    monkeypatch.setenv(fork.UPSTREAM_TESTS_ENV, str(upstream_tests))
    assert fork.upstream_tests_dir() == str(upstream_tests)
    monkeypatch.setenv(fork.UPSTREAM_TESTS_ENV, "")
    assert fork.upstream_tests_dir() is None
    monkeypatch.setenv(fork.UPSTREAM_TESTS_ENV, str(tmp_path))
    with pytest.raises(fork.ForkError, match="holds neither of infer, contrib"):
        fork.upstream_tests_dir()
    # default: the nearest shared/upstream-tests beside the checkout or above it
    monkeypatch.delenv(fork.UPSTREAM_TESTS_ENV)
    nested = tmp_path / "wt" / "clone"
    shutil.copytree(checkout, nested)
    shared = tmp_path / "shared" / "upstream-tests"
    shutil.copytree(upstream_tests, shared)
    proc = fork_cli(nested, "upstream-tests")
    assert proc.returncode == 0 and proc.stdout.strip() == str(shared), proc.stderr
    shutil.rmtree(shared)
    proc = fork_cli(nested, "upstream-tests")
    assert proc.returncode == 1 and fork.UPSTREAM_TESTS_ENV in proc.stderr


def add_patch(checkout, files, subject):
    """Commit edits {path in tree/: new text} in tree/ and export them as a patch."""
    for rel, text in files.items():
        (checkout / "tree" / rel).write_text(text)
    tree_git(checkout, "add", "-A")
    tree_git(checkout, "commit", "-q", "-m", subject)
    proc = fork_cli(checkout, "patches")
    assert proc.returncode == 0, proc.stderr
    (name,) = [
        n for n in fork.read_series(str(checkout / "patches")) if n not in SERIES
    ]
    return checkout / "patches" / name


def test_upstream_tests_in_tree_and_out_of_build(
    tmp_path, checkout, sdist, upstream_tests, monkeypatch
):
    """The tree's base holds upstream's test/infer and test/contrib, so a patch can
    update them; the build applies no test hunk, so it needs none of them."""
    monkeypatch.setenv("NUMPYRO_FORK_SDIST", sdist)
    monkeypatch.setenv(fork.UPSTREAM_TESTS_ENV, str(upstream_tests))
    proc = fork_cli(checkout, "tree")
    assert proc.returncode == 0, proc.stderr
    tree = checkout / "tree"
    base = tree_git(checkout, "show", "-s", "--format=%B", fork.BASE_TAG).stdout
    assert "ab" * 20 in base
    listed = tree_git(checkout, "ls-tree", "-r", "--name-only", fork.BASE_TAG).stdout
    assert "test/infer/test_fork_stub.py" in listed.split()
    assert "test/contrib/hsgp/test_laplacian.py" in listed.split()
    assert "README.md" in listed.split()  # the sdist's, not upstream-tests'

    util = (tree / "numpyro" / "util.py").read_text()
    patch = add_patch(
        checkout,
        {
            "numpyro/util.py": util + "\n# fixed by the patch\n",
            "test/infer/test_fork_stub.py": UPSTREAM_TEST.replace("== 2", "== 2.0"),
        },
        "infer: a fix with its upstream test updated",
    )
    assert "test/infer/test_fork_stub.py" in fork.patch_paths(str(patch))
    assert fork_cli(checkout, "status").returncode == 0
    # the series still applies from scratch, to the same commits
    before = fork._dir_files(str(checkout / "patches"))
    assert fork_cli(checkout, "tree", "--force").returncode == 0
    assert fork_cli(checkout, "patches").returncode == 0
    assert fork._dir_files(str(checkout / "patches")) == before
    assert "== 2.0" in (tree / "test/infer/test_fork_stub.py").read_text()

    # the build, where no upstream tests exist (a clone from the git URL)
    env = offline_env(tmp_path, NUMPYRO_FORK_SDIST=sdist)
    env[fork.UPSTREAM_TESTS_ENV] = ""
    clean = tmp_path / "clean"
    shutil.copytree(
        checkout, clean, symlinks=True, ignore=shutil.ignore_patterns("tree", "test")
    )
    proc, wheels = build_wheel(clean, tmp_path / "w1", env)
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(wheels[0]) as whl:
        assert b"# fixed by the patch" in whl.read("numpyro/util.py")
        assert not [n for n in whl.namelist() if n.startswith("test")]
    # ... even where the test hunk could not apply to anything
    broken = patch.read_text().replace(" def test_observed_site():", " def nothing():")
    assert broken != patch.read_text()
    patch.write_text(broken)
    shutil.copy2(patch, clean / "patches" / patch.name)
    proc, wheels = build_wheel(clean, tmp_path / "w2", env)
    assert proc.returncode == 0, proc.stderr
    # while the tree, which holds the test, names the patch and the file
    proc = fork_cli(checkout, "tree", "--force")
    assert proc.returncode == 2
    assert "patch {}".format(patch.name) in proc.stderr
    assert "test/infer/test_fork_stub.py" in proc.stderr


def test_tree_without_upstream_tests(checkout, sdist, upstream_tests, monkeypatch):
    """Without upstream's tests the tree is made without the hunks to them: the
    library and the sdist's tests run, but it refuses to export what it lacks."""
    monkeypatch.setenv("NUMPYRO_FORK_SDIST", sdist)
    monkeypatch.setenv(fork.UPSTREAM_TESTS_ENV, str(upstream_tests))
    assert fork_cli(checkout, "tree").returncode == 0
    util = (checkout / "tree" / "numpyro" / "util.py").read_text()
    patch = add_patch(
        checkout,
        {
            "numpyro/util.py": util + "\n# fixed\n",
            "test/infer/test_fork_stub.py": UPSTREAM_TEST + "# updated\n",
        },
        "infer: a fix",
    )
    shutil.rmtree(checkout / "tree")
    monkeypatch.setenv(fork.UPSTREAM_TESTS_ENV, "")
    proc = fork_cli(checkout, "tree")
    assert proc.returncode == 0, proc.stderr
    assert "# fixed" in (checkout / "tree" / "numpyro" / "util.py").read_text()
    assert not (checkout / "tree" / "test" / "infer").exists()
    assert patch.name in proc.stdout and "test/infer/test_fork_stub.py" in proc.stdout
    proc = fork_cli(checkout, "status")
    assert proc.returncode == 1 and fork.UPSTREAM_TESTS_ENV in proc.stdout
    before = fork._dir_files(str(checkout / "patches"))
    proc = fork_cli(checkout, "patches")
    assert proc.returncode == 2 and "cannot export" in proc.stderr
    assert fork._dir_files(str(checkout / "patches")) == before
    # an unchanged partial tree is up to date; once the tests are found, rebuilt
    assert "up to date" in fork_cli(checkout, "tree").stdout
    monkeypatch.setenv(fork.UPSTREAM_TESTS_ENV, str(upstream_tests))
    proc = fork_cli(checkout, "tree")
    assert proc.returncode == 0 and "materialized" in proc.stdout, proc.stderr
    assert "# updated" in (checkout / "tree/test/infer/test_fork_stub.py").read_text()
    assert fork_cli(checkout, "status").returncode == 0


# ----------------------------------------------------------------------- small things


def test_readme_version_example_counts_the_patches():
    with open(os.path.join(fork.ROOT, "README.md")) as f:
        m = re.search(r"'(\d+\.\d+\.\d+)\+fork(\d+)\.g[0-9a-f]{10}'", f.read())
    assert m, "README.md lost its version example"
    assert m.group(1) == fork.config()["version"]
    assert int(m.group(2)) == len(SERIES)


def test_series_comment_is_no_difference(checkout, sdist, monkeypatch):
    monkeypatch.setenv("NUMPYRO_FORK_SDIST", sdist)
    assert fork_cli(checkout, "tree").returncode == 0
    series = checkout / "patches" / "series"
    text = "# the series, oldest first\n" + series.read_text() + "\n# end\n"
    series.write_text(text)
    proc = fork_cli(checkout, "status")
    assert proc.returncode == 0, proc.stdout
    assert fork_cli(checkout, "patches").returncode == 0
    assert series.read_text() == text  # kept, comments and all
    # CONTRIBUTING's command for maintainers passes git am the patches only
    with open(os.path.join(fork.ROOT, "CONTRIBUTING.md")) as f:
        (cmd,) = re.findall(r"^git am \$\((sed .*)\)$", f.read(), re.M)
    cmd = cmd.replace("/path/to/fork/", str(checkout) + "/")
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True)
    assert out.stdout.split() == [str(checkout / "patches" / n) for n in SERIES]


def test_empty_commit_is_refused(checkout, sdist, monkeypatch):
    monkeypatch.setenv("NUMPYRO_FORK_SDIST", sdist)
    assert fork_cli(checkout, "tree").returncode == 0
    tree_git(checkout, "commit", "-q", "--allow-empty", "-m", "nothing at all")
    proc = fork_cli(checkout, "patches")
    assert proc.returncode == 2
    assert "nothing at all" in proc.stderr and "changes nothing" in proc.stderr
    # and an empty patch file listed in the series is named, not built
    empty = "{:04d}-empty.patch".format(len(SERIES) + 1)
    (checkout / "patches" / empty).write_text("")
    with open(checkout / "patches" / "series", "a") as f:
        f.write(empty + "\n")
    proc = fork_cli(checkout, "version")
    assert proc.returncode == 2 and "{} is empty".format(empty) in proc.stderr


@pytest.mark.parametrize("identity", [True, False])
def test_contributor_commits_under_their_identity(
    tmp_path, checkout, sdist, monkeypatch, identity
):
    """tree/ keeps no identity of its own when the contributor has one: their
    commits are theirs. The project identity is only a fallback."""
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Ada Lovelace\n\temail = ada@example.com\n" if identity else ""
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for key in ("EMAIL", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("NUMPYRO_FORK_SDIST", sdist)
    assert fork_cli(checkout, "tree").returncode == 0
    util = checkout / "tree" / "numpyro" / "util.py"
    util.write_text(util.read_text() + "\n# mine\n")
    # the contributor's own git, with their configuration
    tree = str(checkout / "tree")
    subprocess.run(["git", "-C", tree, "commit", "-q", "-am", "util: mine"], check=True)
    author = subprocess.run(
        ["git", "-C", tree, "log", "-1", "--format=%an <%ae>"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if identity:
        assert author == "Ada Lovelace <ada@example.com>"
    else:
        assert author == "{} <{}>".format(fork.BOT_NAME, fork.BOT_EMAIL)
    # the series' own commits keep their authors either way: no byte changes
    before = fork._dir_files(fork.PATCHES)
    assert fork_cli(checkout, "patches").returncode == 0
    after = fork._dir_files(str(checkout / "patches"))
    assert all(after[n] == before[n] for n in SERIES)


def backend(checkout, code, env):
    """Run PEP 517 hooks of the fork's backend in ``checkout``, as build tools do."""
    full = dict(env, PYTHONPATH=str(checkout / "tools"))
    prog = "import fork_backend as b\n" + code
    return run([sys.executable, "-c", prog], cwd=str(checkout), env=full)


def test_sdist_is_self_contained(tmp_path, checkout, sdist):
    """`python -m build` and `uv build` make an sdist, then the wheel from it:
    the sdist carries the build's inputs, and its wheel is the checkout's."""
    env = offline_env(tmp_path, NUMPYRO_FORK_SDIST=sdist)
    out = tmp_path / "sdist"
    proc = backend(checkout, "print(b.build_sdist({!r}))".format(str(out)), env)
    assert proc.returncode == 0, proc.stderr
    (tarball,) = out.glob("*.tar.gz")
    assert tarball.name == "numpyro-{}.tar.gz".format(fork.version())
    with tarfile.open(tarball) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in ["fork.toml", "setup.py", "tools/fork.py", "patches/series"]:
        assert needed in names
    assert {"patches/" + n for n in SERIES} <= names
    assert not [n for n in names if n.startswith(("numpyro/", "tools/tests"))]
    proc, from_sdist = build_wheel(tarball, tmp_path / "w1", env)
    assert proc.returncode == 0, proc.stderr
    proc, from_checkout = build_wheel(checkout, tmp_path / "w2", env)
    assert proc.returncode == 0, proc.stderr
    with open(from_sdist[0], "rb") as f1, open(from_checkout[0], "rb") as f2:
        assert f1.read() == f2.read()


def test_editable_install_stages_nothing(tmp_path, checkout, sdist):
    env = offline_env(tmp_path, NUMPYRO_FORK_SDIST=sdist)
    code = (
        "md = b.prepare_metadata_for_build_editable({md!r})\n"
        "print(b.build_editable({whl!r}, metadata_directory={md!r} + '/' + md))"
    ).format(md=str(tmp_path / "md"), whl=str(tmp_path / "whl"))
    (tmp_path / "md").mkdir()
    proc = backend(checkout, code, env)
    assert proc.returncode == 0, proc.stderr
    assert list((tmp_path / "whl").glob("numpyro-*.whl"))
    assert (checkout / "tree" / ".git").is_dir()
    assert not (checkout / ".fork-build").exists()


def test_build_requirements_are_pinned():
    with open(os.path.join(fork.ROOT, "pyproject.toml"), "rb") as f:
        requires = tomllib.load(f)["build-system"]["requires"]
    with open(os.path.join(fork.ROOT, "requirements", "constraints.txt")) as f:
        pins = dict(
            line.strip().split("==") for line in f if "==" in line and line[0] != "#"
        )
    (setuptools,) = [r for r in requires if r.startswith("setuptools")]
    assert setuptools == "setuptools==" + pins["setuptools"]


def test_offline_recipe_of_the_readme(tmp_path, checkout, sdist):
    """README's offline path, with no index reachable: a wheelhouse of the build
    requirements and NUMPYRO_FORK_SDIST, with pip's build isolation."""
    with open(os.path.join(fork.ROOT, "README.md")) as f:
        readme = f.read()
    (download,) = re.findall(r"^pip download -d wheelhouse (.+?)   #", readme, re.M)
    wheelhouse = tmp_path / "wheelhouse"
    # online: the build requirements (the dependencies are pip's own business)
    args = [a.strip('"') for a in download.split() if a != "."]
    proc = run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps"]
        + ["-d", str(wheelhouse), *args]
    )
    assert proc.returncode == 0, proc.stderr
    assert re.search(
        r"^NUMPYRO_FORK_SDIST=\S+ pip install --no-index --find-links wheelhouse \.$",
        readme,
        re.M,
    )
    env = offline_env(tmp_path, NUMPYRO_FORK_SDIST=sdist)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "--no-index"]
    cmd += ["--find-links", str(wheelhouse), "-w", str(tmp_path / "w"), str(checkout)]
    proc = run(cmd, env=env)
    assert proc.returncode == 0, proc.stderr
    assert list((tmp_path / "w").glob("numpyro-*.whl"))


# ----------------------------------------------------------------------- rebase


def newer_sdist(sdist, out, version, edit):
    """A synthetic newer release: the pinned sdist renamed to ``version``, with
    ``edit(path, text) -> text`` applied to each of its Python files."""
    old = "{}-{}/".format(fork.config()["name"], fork.config()["version"])
    new = "{}-{}/".format(fork.config()["name"], version)
    path = out / "{}-{}.tar.gz".format(fork.config()["name"], version)
    with tarfile.open(sdist) as src, tarfile.open(path, "w:gz") as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read() if m.isfile() else None
            rel = m.name[len(old) :] if m.name.startswith(old) else m.name
            m.name = new + rel if m.name.startswith(old) else m.name
            if data is not None and rel.endswith(".py"):
                data = edit(rel, data.decode()).encode()
                m.size = len(data)
            dst.addfile(m, io.BytesIO(data) if data is not None else None)
    return str(path), hashlib.sha256(path.read_bytes()).hexdigest()


def first_removed_line(patch, path):
    """A line that ``patch`` removes from ``path``."""
    with open(os.path.join(fork.PATCHES, patch)) as f:
        diff = f.read().split("diff --git a/{0} b/{0}".format(path), 1)[1]
    for line in diff.splitlines():
        if line.startswith("-") and not line.startswith("---") and len(line) > 20:
            return line[1:]
    raise AssertionError("no removed line")


def test_rebase_onto_a_newer_release(tmp_path, checkout, sdist, monkeypatch):
    monkeypatch.setenv("NUMPYRO_FORK_SDIST", sdist)
    monkeypatch.setenv(fork.UPSTREAM_TESTS_ENV, "")
    assert fork_cli(checkout, "tree").returncode == 0
    target = "numpyro/distributions/truncated.py"
    first = SERIES[0]
    removed = first_removed_line(first, target)

    # a release that changes a line patch 1 changes: a conflict, named
    def conflicting(rel, text):
        return text.replace(removed, removed + "  # changed upstream", 1)

    bad, bad_sha = newer_sdist(sdist, tmp_path, "0.22.1", conflicting)
    proc = fork_cli(
        checkout,
        "rebase",
        "--version",
        "0.22.1",
        "--sha256",
        bad_sha,
        "--sdist",
        bad,
        "--dry-run",
    )
    assert proc.returncode == 1
    assert "{} (number 1): conflicts in {}".format(first, target) in proc.stdout
    before = fork._dir_files(str(checkout / "patches"))
    proc = fork_cli(
        checkout, "rebase", "--version", "0.22.1", "--sha256", bad_sha, "--sdist", bad
    )
    assert proc.returncode == 2
    assert "patch {} (number 1 in patches/series)".format(first) in proc.stderr
    assert target in proc.stderr and "git -C tree am --continue" in proc.stderr
    assert (checkout / "tree" / ".git" / "rebase-apply").is_dir()  # kept, stopped
    assert fork._dir_files(str(checkout / "patches")) == before

    # a release that changes other lines: every patch applies, the series moves
    def harmless(rel, text):
        if rel == target:
            return "# a new first line upstream\n" + text
        return text

    good, good_sha = newer_sdist(sdist, tmp_path, "0.22.2", harmless)
    shutil.copy2(os.path.join(fork.ROOT, "fork.toml"), checkout / "fork.toml")
    assert fork_cli(checkout, "tree", "--force").returncode == 0
    proc = fork_cli(
        checkout,
        "rebase",
        "--version",
        "0.22.2",
        "--sha256",
        good_sha,
        "--sdist",
        good,
        "--dry-run",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "{0} of {0} patches apply".format(len(SERIES)) in proc.stdout
    proc = fork_cli(
        checkout, "rebase", "--version", "0.22.2", "--sha256", good_sha, "--sdist", good
    )
    assert proc.returncode == 0, proc.stderr
    assert 'version = "0.22.2"' in (checkout / "fork.toml").read_text()
    assert good_sha in (checkout / "fork.toml").read_text()
    log = tree_git(checkout, "log", "--format=%s", fork.BASE_TAG + "..HEAD").stdout
    assert len(log.splitlines()) == len(SERIES)
    base = tree_git(checkout, "show", "-s", "--format=%s", fork.BASE_TAG).stdout
    assert base.startswith("numpyro 0.22.2")
    monkeypatch.setenv("NUMPYRO_FORK_SDIST", good)
    assert fork_cli(checkout, "status").returncode == 0
    assert fork_cli(checkout, "version").stdout.startswith("0.22.2+fork")
