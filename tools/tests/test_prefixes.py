# SPDX-License-Identifier: Apache-2.0
"""`make test-prefixes`: which earlier patches a patch needs, and whether its
message says so; a prefix of the series builds on its own."""

import os
import subprocess

import fork
import prefixes
import pytest


def git(repo, *args):
    env = dict(fork._git_env(), GIT_AUTHOR_NAME="a", GIT_AUTHOR_EMAIL="a@example.com")
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env)


@pytest.fixture
def series(tmp_path):
    """base: a.py, b.py; 0001 edits a.py; 0002 edits b.py; 0003 edits the line
    0001 wrote (needs 0001); 0004 edits the line 0003 wrote (needs 0003, and
    through it 0001)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "a.py").write_text("x = 1\n")
    (repo / "b.py").write_text("y = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "tag", fork.BASE_TAG)
    steps = [
        ("a.py", "x = 2\n", "a: two", ""),
        ("b.py", "y = 2\n", "b: two", ""),
        ("a.py", "x = 3\n", "a: three", "Depends on patch 0001.\n"),
        ("a.py", "x = 4\n", "a: four", ""),
    ]
    for path, text, subject, body in steps:
        (repo / path).write_text(text)
        git(repo, "commit", "-q", "-am", subject + "\n\n" + (body or "No deps.\n"))
    out = tmp_path / "patches"
    git(repo, "format-patch", "-q", "-o", str(out), fork.BASE_TAG)
    names = sorted(os.listdir(out))
    return repo, out, names


def test_dependencies_and_declarations(series):
    repo, out, names = series
    needs = prefixes.dependencies(str(repo), names, str(out))
    assert needs == {
        names[0]: [],
        names[1]: [],
        names[2]: [names[0]],
        names[3]: [names[2]],
    }
    msg = prefixes._message(str(out / names[2]))
    assert prefixes.declared(msg, names[0], str(out))
    assert not prefixes.declared(msg, names[1], str(out))
    # by subject or by slug as well as by number
    assert prefixes.declared("after a: two", names[0], str(out))
    slug = fork._patch_slug(names[0])
    assert prefixes.declared("needs " + slug, names[0], str(out))
    assert not prefixes.declared("see 00011", names[0], str(out))


def test_prefix_builds(tmp_path, sdist):
    names = fork.read_series()
    ok, wheel = prefixes.build_prefix(1, names, sdist, str(tmp_path))
    assert ok, wheel
    assert wheel.startswith("numpyro-{}+fork1.".format(fork.config()["version"]))
