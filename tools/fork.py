# SPDX-License-Identifier: Apache-2.0
"""The fork's patch-series machinery: NumPyro's pinned sdist plus ``patches/``.

Nothing of NumPyro's own source is committed to this repository. Every build and
every developer tree is made from two ingredients:

* the upstream sdist pinned in ``fork.toml`` (version and sha256), obtained with
  ``pip download`` (or from ``$NUMPYRO_FORK_SDIST``), verified and cached;
* the patch series: ``patches/series`` lists ``git format-patch`` files in order.

Commands (the Makefile calls them)::

    python tools/fork.py tree      # materialize tree/ (git: base + one commit per patch)
    python tools/fork.py patches   # export tree/ back to patches/
    python tools/fork.py status    # non-zero when tree/ and patches/ disagree
    python tools/fork.py stage DIR # patched source without git, for setup.py
    python tools/fork.py pristine DIR  # unpatched upstream source (benchmarks)
    python tools/fork.py rebase --version V --sha256 H [--sdist F] [--dry-run]
                                   # move the series onto another upstream release
    python tools/fork.py version   # the PEP 440 version of the fork
    python tools/fork.py sdist     # path of the verified upstream sdist
    python tools/fork.py upstream-tests  # where upstream's test/infer, test/contrib are

Environment variables:

``NUMPYRO_FORK_SDIST``
    path of a local copy of the upstream sdist (offline builds); it is verified
    against the pinned sha256 like a downloaded one.
``NUMPYRO_FORK_CACHE``
    directory for the verified sdist, kept as ``<sha256>/<file>`` (default:
    ``$XDG_CACHE_HOME/numpyro-fork`` or ``~/.cache/numpyro-fork``).
``NUMPYRO_FORK_UPSTREAM_TESTS``
    directory holding upstream's ``infer/`` and ``contrib/`` test directories, which
    the sdist leaves out (``test/`` of a pyro-ppl/numpyro clone, or
    ``shared/upstream-tests``). Default: the nearest ``shared/upstream-tests`` beside
    the checkout or beside one of its parent directories; empty: none.

The developer tree's base commit is the sdist plus those upstream tests at
``test/infer`` and ``test/contrib``, so that a patch can update an upstream test as
its pull request would. Without them the tree is still made, without the patches'
hunks to those directories (it can run the library and the sdist's tests, but cannot
export the patches that lost hunks). The build (``stage``) applies only the hunks to
``numpyro/`` and ``pyproject.toml``: a test hunk never decides whether the library
builds.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATCHES = os.path.join(ROOT, "patches")
SERIES = os.path.join(PATCHES, "series")
TREE = os.path.join(ROOT, "tree")
# top-level entries of the materialized tree shown beside our own files
LINKS = ("numpyro", "test")
STATE_FILE = "fork-state.json"  # inside tree/.git
BASE_TAG = "upstream"
# commits made by the tooling (the base commit, `git am`) use this identity and a
# fixed committer date so that the same series always gives the same commits
BOT_NAME = "numpyro-fork"
BOT_EMAIL = "numpyro-fork@users.noreply.github.com"
BASE_DATE = "2000-01-01T00:00:00+00:00"
# ignored inside tree/: build and test by-products are not edits to the series
TREE_EXCLUDES = [
    "__pycache__/",
    "*.py[cod]",
    ".pytest_cache/",
    ".hypothesis/",
    ".ruff_cache/",
    "*.egg-info/",
    "build/",
    "dist/",
    "*.png",
]
VERSION_FILE = "numpyro/version.py"
# upstream's test directories that the sdist leaves out, placed at test/<name>
UPSTREAM_TEST_DIRS = ("infer", "contrib")
UPSTREAM_TESTS_ENV = "NUMPYRO_FORK_UPSTREAM_TESTS"
# what the build reads from the patched source: the package and its metadata
BUILD_PATHS = ("numpyro/*", "pyproject.toml")


class ForkError(Exception):
    """A build or tree operation that cannot go on; the message says why."""


# --------------------------------------------------------------------------- config


def config():
    with open(os.path.join(ROOT, "fork.toml"), "rb") as f:
        cfg = tomllib.load(f)["upstream"]
    cfg.setdefault("exclude", [])
    return cfg


def sdist_filename(cfg):
    return "{}-{}.tar.gz".format(cfg["name"], cfg["version"])


def cache_dir():
    path = os.environ.get("NUMPYRO_FORK_CACHE")
    if not path:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
            os.path.expanduser("~"), ".cache"
        )
        path = os.path.join(base, "numpyro-fork")
    return path


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def upstream_tests_dir():
    """Directory holding upstream's ``infer/`` and ``contrib/`` tests, or None.

    ``$NUMPYRO_FORK_UPSTREAM_TESTS`` when set (empty: none); otherwise the nearest
    ``shared/upstream-tests`` in the checkout's parent directory or above it."""
    env = os.environ.get(UPSTREAM_TESTS_ENV)
    if env is not None:
        if not env:
            return None
        if not any(os.path.isdir(os.path.join(env, d)) for d in UPSTREAM_TEST_DIRS):
            raise ForkError(
                "{}={} holds neither of {}: point it at upstream's test/ directory "
                "(pyro-ppl/numpyro), or set it empty to go without".format(
                    UPSTREAM_TESTS_ENV, env, ", ".join(UPSTREAM_TEST_DIRS)
                )
            )
        return os.path.abspath(env)
    parent = os.path.dirname(ROOT)
    while True:
        cand = os.path.join(parent, "shared", "upstream-tests")
        if any(os.path.isdir(os.path.join(cand, d)) for d in UPSTREAM_TEST_DIRS):
            return cand
        up = os.path.dirname(parent)
        if up == parent:
            return None
        parent = up


def _upstream_test_files(src):
    """{path under test/: absolute path} of the upstream tests in ``src``."""
    out = {}
    for d in UPSTREAM_TEST_DIRS:
        top = os.path.join(src, d)
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(n for n in dirnames if n != "__pycache__")
            for fn in filenames:
                if fn.endswith((".pyc", ".pyo")):
                    continue
                full = os.path.join(dirpath, fn)
                out[os.path.relpath(full, src).replace(os.sep, "/")] = full
    return out


def upstream_tests_digest(src):
    """sha256 over the upstream test files in ``src`` (None for no directory)."""
    if src is None:
        return None
    h = hashlib.sha256()
    for rel, full in sorted(_upstream_test_files(src).items()):
        h.update("{} {}\n".format(rel, os.path.getsize(full)).encode())
        h.update(sha256_file(full).encode())
    return h.hexdigest()


def _upstream_tests_origin(src):
    """A line naming where the upstream tests come from (their README's commit)."""
    readme = os.path.join(src, "README.md")
    if os.path.isfile(readme):
        with open(readme, encoding="utf-8") as f:
            m = re.search(r"commit\s+([0-9a-f]{40})", f.read())
        if m:
            return "pyro-ppl/numpyro commit {}".format(m.group(1))
    return "upstream's test/ directory"


def patch_paths(path):
    """The files a patch file changes (``a/`` side, or ``b/`` for a new file)."""
    paths = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"diff --git a/(\S+) b/(\S+)$", line.rstrip("\n"))
            if m and m.group(2) not in paths:
                paths.append(m.group(2))
    return paths


def test_excludes(tests):
    """`git am` options leaving out the hunks to upstream's tests when they are
    not there (``tests`` is None)."""
    if tests is not None:
        return []
    return ["--exclude=test/{}/*".format(d) for d in UPSTREAM_TEST_DIRS]


def _is_upstream_test(path):
    return any(path.startswith("test/{}/".format(d)) for d in UPSTREAM_TEST_DIRS)


def _check_sha256(path, cfg, origin):
    got = sha256_file(path)
    if got != cfg["sdist_sha256"]:
        raise ForkError(
            "sha256 mismatch for {} ({}):\n  expected {}\n  got      {}\n"
            "Refusing to build from an sdist that is not the pinned {} {} "
            "(fork.toml).".format(
                path, origin, cfg["sdist_sha256"], got, cfg["name"], cfg["version"]
            )
        )


def upstream_sdist(cfg=None, local=None):
    """Path of the verified upstream sdist: $NUMPYRO_FORK_SDIST, the cache, or pip.
    ``cfg``, ``local``: another pin and a local copy of its sdist (`rebase`)."""
    origin = "given"
    if cfg is None:
        cfg = config()
        local, origin = os.environ.get("NUMPYRO_FORK_SDIST"), "from NUMPYRO_FORK_SDIST"
    if local:
        if not os.path.isfile(local):
            raise ForkError(
                "{} is not a file; point {} at {}".format(
                    local,
                    "NUMPYRO_FORK_SDIST" if origin != "given" else "--sdist",
                    sdist_filename(cfg),
                )
            )
        _check_sha256(local, cfg, origin)
        return local
    # the cache is keyed by sha256: a wrong pin finds nothing and leaves every
    # file that matches some pin where it is
    cached = os.path.join(cache_dir(), cfg["sdist_sha256"], sdist_filename(cfg))
    if os.path.isfile(cached):
        if sha256_file(cached) == cfg["sdist_sha256"]:
            return cached
        os.remove(cached)  # not what its key says: corrupt, fetched again
    legacy = os.path.join(cache_dir(), sdist_filename(cfg))  # before the keys
    if os.path.isfile(legacy) and sha256_file(legacy) == cfg["sdist_sha256"]:
        return legacy
    with tempfile.TemporaryDirectory(prefix="numpyro-fork-dl-") as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--disable-pip-version-check",
            "--dest",
            tmp,
            "{}=={}".format(cfg["name"], cfg["version"]),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        path = os.path.join(tmp, sdist_filename(cfg))
        if proc.returncode != 0 or not os.path.isfile(path):
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-8:])
            raise ForkError(
                "could not download the {name} {version} sdist with pip (no network, "
                "or the package index is unreachable), and no verified copy is "
                "cached in {cache}.\nFor an offline build, set "
                "NUMPYRO_FORK_SDIST=/path/to/{file}.\npip said:\n{tail}".format(
                    name=cfg["name"],
                    version=cfg["version"],
                    cache=cache_dir(),
                    file=sdist_filename(cfg),
                    tail=tail,
                )
            )
        _check_sha256(path, cfg, "downloaded by pip")
        os.makedirs(os.path.dirname(cached), exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=os.path.dirname(cached), suffix=".part")
        os.close(fd)
        shutil.copyfile(path, partial)
        os.replace(partial, cached)
    return cached


def _extract_sdist(sdist, dest, cfg):
    """Extract the sdist's top directory into ``dest``, minus generated files."""
    prefix = "{}-{}/".format(cfg["name"], cfg["version"])
    excluded = tuple(cfg["exclude"])
    with tarfile.open(sdist) as tar:
        members = []
        for m in tar.getmembers():
            if not m.name.startswith(prefix):
                continue
            rel = m.name[len(prefix) :]
            if not rel or rel.split("/")[0] in excluded:
                continue
            if not (m.isfile() or m.isdir()):
                raise ForkError("unexpected entry {} in {}".format(m.name, sdist))
            m.name = rel
            members.append(m)
        tar.extractall(dest, members=members, filter="data")


# --------------------------------------------------------------------------- series


def read_series(patches_dir=PATCHES):
    """Patch file names listed in ``series``, checked against the directory."""
    series = os.path.join(patches_dir, "series")
    if not os.path.isfile(series):
        return []
    with open(series) as f:
        names = _series_names(f.read())
    problems = []
    for name in names:
        path = os.path.join(patches_dir, name)
        if not os.path.isfile(path):
            problems.append(
                "patches/series lists {}, which does not exist".format(name)
            )
        elif os.path.getsize(path) == 0:
            problems.append(
                "patches/{} is empty (an empty commit exported?); remove it and "
                "its line in patches/series".format(name)
            )
    if len(set(names)) != len(names):
        problems.append("patches/series lists a patch twice")
    for name in sorted(os.listdir(patches_dir)):
        if name.endswith(".patch") and name not in names:
            problems.append("patches/{} is not listed in patches/series".format(name))
    if problems:
        raise ForkError("\n".join(problems))
    return names


def series_digest(patches_dir=PATCHES):
    """sha256 over the pin, ``series`` and every listed patch, in order."""
    cfg = config()
    h = hashlib.sha256()
    h.update("{name} {version} {sdist_sha256}\n".format(**cfg).encode())
    for name in read_series(patches_dir):
        with open(os.path.join(patches_dir, name), "rb") as f:
            data = f.read()
        h.update("{} {}\n".format(name, len(data)).encode())
        h.update(data)
    return h.hexdigest()


def version(patches_dir=PATCHES):
    """``<upstream>+fork<N>.g<digest>``: a PEP 440 local version, new per series."""
    n = len(read_series(patches_dir))
    return "{}+fork{}.g{}".format(
        config()["version"], n, series_digest(patches_dir)[:10]
    )


# --------------------------------------------------------------------------- git


def _git_env():
    env = dict(os.environ)
    # the tooling must not depend on the developer's global git configuration
    # (signing, hooks, diff prefixes, abbreviation lengths all change the output)
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_COMMITTER_NAME=BOT_NAME,
        GIT_COMMITTER_EMAIL=BOT_EMAIL,
        LC_ALL="C",
        TZ="UTC",
    )
    # the tooling's own notes; `git am` takes the author from each patch
    env.setdefault("GIT_AUTHOR_NAME", BOT_NAME)
    env.setdefault("GIT_AUTHOR_EMAIL", BOT_EMAIL)
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(key, None)
    return env


def git(repo, *args, env=None, check=True):
    if shutil.which("git") is None:
        raise ForkError("git is needed to apply the patch series; please install git")
    full_env = _git_env()
    full_env.update(env or {})
    proc = subprocess.run(
        ["git", "-C", repo, *args], capture_output=True, text=True, env=full_env
    )
    if check and proc.returncode != 0:
        raise ForkError(
            "git {} failed in {}:\n{}".format(
                " ".join(args), repo, (proc.stdout + proc.stderr).strip()
            )
        )
    return proc


def _patch_slug(name):
    """``0003-lazy-property-tracer-check.patch`` -> ``lazy-property-tracer-check``."""
    m = re.fullmatch(r"\d{4}-(.+)\.patch", name)
    return m.group(1) if m else name[: -len(".patch")]


def _slugify(subject):
    subject = re.sub(r"^\[[^\]]*\]\s*", "", subject)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", subject).strip("-").lower()
    return slug[:52].rstrip("-") or "patch"


def _user_identity():
    """The contributor's git identity (name, email), or None when git has none."""
    env = dict(os.environ)
    for key in ("GIT_DIR", "GIT_WORK_TREE"):
        env.pop(key, None)
    out = []
    for key in ("user.name", "user.email"):
        proc = subprocess.run(
            ["git", "config", "--get", key],
            capture_output=True,
            text=True,
            env=env,
            cwd=os.path.expanduser("~"),
        )
        out.append(proc.stdout.strip())
    return tuple(out) if all(out) else None


def _init_repo(repo):
    git(repo, "init", "-q", "-b", "main")
    # commits the contributor makes in tree/ are theirs; the project identity is
    # only the fallback where git knows of none (the tooling's own commits name
    # their author and committer explicitly)
    if (
        _user_identity() is None
        and not os.environ.get("GIT_AUTHOR_EMAIL")
        and not os.environ.get("EMAIL")
    ):
        git(repo, "config", "user.name", BOT_NAME)
        git(repo, "config", "user.email", BOT_EMAIL)
    # git notes carry each commit's patch file name through amend and rebase
    git(repo, "config", "notes.rewriteRef", "refs/notes/commits")
    git(repo, "config", "commit.gpgsign", "false")
    git(repo, "config", "core.autocrlf", "false")
    with open(os.path.join(repo, ".git", "info", "exclude"), "a") as f:
        f.write("\n".join(TREE_EXCLUDES) + "\n")


def _base_files(dest, sdist, cfg, tests):
    """The files of a base commit in ``dest``: the sdist (minus generated files) and
    upstream's tests; returns the base commit's message."""
    _extract_sdist(sdist, dest, cfg)
    message = "{} {} (PyPI sdist, sha256 {})".format(
        cfg["name"], cfg["version"], cfg["sdist_sha256"]
    )
    if tests is not None:
        for rel, full in _upstream_test_files(tests).items():
            target = os.path.join(dest, "test", rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(full, target)
        message += "\n\nwith upstream's {} from {}".format(
            " and ".join("test/" + d for d in UPSTREAM_TEST_DIRS),
            _upstream_tests_origin(tests),
        )
    return message


def _commit_base(dest, message):
    git(dest, "add", "-A")
    stamp = {"GIT_AUTHOR_DATE": BASE_DATE, "GIT_COMMITTER_DATE": BASE_DATE}
    git(
        dest,
        "commit",
        "-q",
        "-m",
        message,
        env=dict(stamp, GIT_AUTHOR_NAME=BOT_NAME, GIT_AUTHOR_EMAIL=BOT_EMAIL),
    )
    git(dest, "tag", "-f", BASE_TAG)


def _materialize(dest, patches_dir=PATCHES, tests=None, build_only=False):
    """Create ``dest``: a git repository with the pristine release as its base
    commit and one commit per patch of the series. Raises ForkError naming the
    patch (and git's report naming the file) when a patch does not apply.

    ``tests``: directory of upstream's ``infer/`` and ``contrib/`` tests, copied
    into the base commit at ``test/``; without it, the patches' hunks to those
    directories are left out. ``build_only``: apply only the hunks the build
    reads (BUILD_PATHS), so that no test hunk can stop a build.

    Returns ``{patch name: [upstream test files whose hunks were left out]}``."""
    cfg = config()
    names = read_series(patches_dir)
    sdist = upstream_sdist()
    os.makedirs(dest)
    message = _base_files(dest, sdist, cfg, None if build_only else tests)
    _init_repo(dest)
    _commit_base(dest, message)
    if build_only:
        limits = ["--include=" + p for p in BUILD_PATHS]
    else:
        limits = test_excludes(tests)
    skipped = {}
    for i, name in enumerate(names):
        path = os.path.join(patches_dir, name)
        if tests is None and not build_only:
            lost = [p for p in patch_paths(path) if _is_upstream_test(p)]
            if lost:
                skipped[name] = lost
        proc = git(
            dest,
            "am",
            "-q",
            "--keep-cr",
            "--committer-date-is-author-date",
            *limits,
            path,
            check=False,
        )
        if proc.returncode != 0:
            # git am's own advice ("Patch failed at 0001", "run git am --continue")
            # is about a temporary repository that is removed: the patch is named
            # below, by its file and place in the series
            report = "\n".join(
                line
                for line in _am_report(proc).splitlines()
                if not re.match(
                    r"(hint: |Patch failed at |When you have resolved|If you prefer "
                    r"to skip|To restore the original|See \"git)",
                    line,
                )
            )
            files = sorted(set(re.findall(r"patch failed: ([^:\s]+)", report)))
            files += sorted(
                set(
                    re.findall(
                        r"error: ([^:\s]+): (?:does not exist|already exists)", report
                    )
                )
            )
            onto = "{} {}".format(cfg["name"], cfg["version"])
            if i:
                onto += " + " + ", ".join(names[:i])
            hint = ""
            if any(_is_upstream_test(f) for f in files):
                hint = (
                    "\n(upstream's tests in tree/ come from {}; {} names where they "
                    "are found)".format(tests, UPSTREAM_TESTS_ENV)
                )
            raise ForkError(
                "patch {} (number {} in patches/series) does not apply to {}{}\n"
                "git am said:\n{}{}".format(
                    name,
                    i + 1,
                    onto,
                    (" (in " + ", ".join(files) + ")") if files else "",
                    report,
                    hint,
                )
            )
        git(dest, "notes", "add", "-f", "-m", _patch_slug(name), "HEAD")
    return skipped


def _stamp_version(src, ver):
    path = os.path.join(src, VERSION_FILE)
    with open(path) as f:
        text = f.read()
    new, n = re.subn(r'__version__ = "[^"]*"', '__version__ = "{}"'.format(ver), text)
    if n != 1:
        raise ForkError("cannot find __version__ in {}".format(path))
    with open(path, "w") as f:
        f.write(new)


# --------------------------------------------------------------------------- export


def _export(repo, out_dir):
    """Write the commits after the base of ``repo`` as ``NNNN-slug.patch`` files and
    a ``series`` file into ``out_dir``. Output depends only on the commits: no
    commit hashes, no git version trailer, fixed abbreviation and numbering."""
    os.makedirs(out_dir, exist_ok=True)
    commits = git(
        repo, "rev-list", "--reverse", "{}..HEAD".format(BASE_TAG)
    ).stdout.split()
    merges = git(
        repo, "rev-list", "--merges", "{}..HEAD".format(BASE_TAG)
    ).stdout.split()
    if merges:
        raise ForkError("tree/ holds merge commits; the series must be linear")
    names = []
    for i, sha in enumerate(commits, 1):
        if not git(repo, "diff-tree", "--no-commit-id", "-r", sha).stdout.strip():
            raise ForkError(
                "commit {} of tree/ ({}) changes nothing; a patch must change "
                "something: drop it (git rebase -i {}) or fold it into another".format(
                    i,
                    git(repo, "log", "-1", "--format=%s", sha).stdout.strip(),
                    BASE_TAG,
                )
            )
        note = git(repo, "notes", "show", sha, check=False).stdout.strip().splitlines()
        if note:
            slug = note[-1].strip()
        else:
            slug = _slugify(git(repo, "log", "-1", "--format=%s", sha).stdout.strip())
        name = "{:04d}-{}.patch".format(i, slug)
        text = git(
            repo,
            "format-patch",
            "--stdout",
            "--zero-commit",
            "--no-signature",
            "--no-numbered",
            "--abbrev=12",
            "--diff-algorithm=myers",
            "--no-renames",
            "-1",
            sha,
        ).stdout
        with open(os.path.join(out_dir, name), "w") as f:
            f.write(text)
        names.append(name)
    with open(os.path.join(out_dir, "series"), "w") as f:
        f.write("".join(n + "\n" for n in names))
    return names


def _series_names(text):
    """The patch names of a ``series`` file's text (comments and blanks dropped)."""
    names = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line)
    return names


def _dir_files(path):
    """{name: bytes} of the patches and ``series`` in ``path``; ``series`` as the
    names it lists, so that a comment in it is no difference."""
    out = {}
    if os.path.isdir(path):
        for name in os.listdir(path):
            if name == "series" or name.endswith(".patch"):
                with open(os.path.join(path, name), "rb") as f:
                    out[name] = f.read()
        if "series" in out:
            names = _series_names(out["series"].decode("utf-8", "replace"))
            out["series"] = "".join(n + "\n" for n in names).encode()
    return out


def _tree_export_files():
    with tempfile.TemporaryDirectory(prefix="numpyro-fork-export-") as tmp:
        _export(TREE, tmp)
        return _dir_files(tmp)


def _files_digest(files):
    h = hashlib.sha256()
    for name in sorted(files):
        h.update("{} {}\n".format(name, len(files[name])).encode())
        h.update(files[name])
    h.update(json.dumps(config(), sort_keys=True).encode())
    return h.hexdigest()


def _state_path():
    return os.path.join(TREE, ".git", STATE_FILE)


def _read_state():
    try:
        with open(_state_path()) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _write_state(files, tree_files=None, tests=None, skipped=None):
    """Record what tree/ was last in agreement with: the digest of ``patches/``
    (``synced``), of tree/'s own export then (``tree``: the same, unless hunks to
    upstream tests were left out), the upstream tests of its base commit, and the
    patches whose hunks to them were left out."""
    state = {
        "synced": _files_digest(files),
        "tree": _files_digest(files if tree_files is None else tree_files),
        "upstream_tests": tests,
        "skipped": skipped or {},
    }
    with open(_state_path(), "w") as f:
        json.dump(state, f, indent=1, sort_keys=True)


def _partial_tree_message(skipped):
    return (
        "tree/ was made without upstream's test/infer and test/contrib, so it lacks "
        "the hunks of {} to them and cannot export {}. Point {} at upstream's test/ "
        "directory (pyro-ppl/numpyro; shared/upstream-tests here), then `make tree` "
        "(`make tree FORCE=1` if tree/ holds work).".format(
            "; ".join(
                "{} ({})".format(n, ", ".join(paths)) for n, paths in skipped.items()
            ),
            "them" if len(skipped) > 1 else "it",
            UPSTREAM_TESTS_ENV,
        )
    )


def _tree_unchanged(state, tree_files=None):
    """tree/ as it was when it last agreed with patches/: no edits, no commits."""
    if tree_files is None:
        tree_files = _tree_export_files()
    return not _tree_edits() and _files_digest(tree_files) == state.get(
        "tree", state.get("synced")
    )


def _tree_edits():
    """Uncommitted and untracked files in tree/ (version.py is stamped, not edited)."""
    out = git(TREE, "status", "--porcelain", "--untracked-files=all").stdout
    return [line for line in out.splitlines() if line.strip()]


# --------------------------------------------------------------------------- commands


def _link_tree():
    for name in LINKS:
        link = os.path.join(ROOT, name)
        target = os.path.join("tree", name)
        if os.path.islink(link):
            if os.readlink(link) == target:
                continue
            os.remove(link)
        elif os.path.exists(link):
            raise ForkError(
                "{} exists and is not a link to {}; move it away first".format(
                    link, target
                )
            )
        os.symlink(target, link)


def _stamp_tree():
    _stamp_version(TREE, version())
    # the stamp is a build detail, not an edit to the series
    git(TREE, "update-index", "--skip-worktree", VERSION_FILE)


def cmd_tree(force=False, keep=False):
    """Materialize tree/. An up-to-date tree is left alone; a tree behind patches/
    (or made with other upstream tests than those found now) is rebuilt; a tree
    with unexported work is an error, unless ``force`` (discard it) or ``keep``
    (leave it and warn: `make test` on a tree being edited)."""
    patches_files = _dir_files(PATCHES)
    read_series()  # report a broken series before touching anything
    tests = upstream_tests_dir()
    tests_digest = upstream_tests_digest(tests)
    if os.path.isdir(os.path.join(TREE, ".git")):
        tree_files = _tree_export_files()
        edits = _tree_edits()
        state = _read_state()
        same_tests = state.get("upstream_tests") == tests_digest
        tree_clean = _tree_unchanged(state, tree_files)
        up_to_date = (
            tree_clean and _files_digest(patches_files) == state.get("synced")
        ) or (tree_files == patches_files and not edits)
        if up_to_date and same_tests:
            _stamp_tree()
            _link_tree()
            print("tree/ is up to date with patches/ ({})".format(version()))
            if state.get("skipped"):
                print("warning: " + _partial_tree_message(state["skipped"]))
            return
        unexported = not tree_clean
        if unexported and keep:
            print(
                "warning: tree/ holds work not exported to patches/; using it as it "
                "is (`make patches` exports it)",
                file=sys.stderr,
            )
            _link_tree()
            return
        if unexported and not force:
            raise ForkError(
                "tree/ holds work that is not in patches/ ({}). Run `make patches` to "
                "export it, or `make tree FORCE=1` to discard it.".format(
                    "uncommitted edits" if edits else "commits not exported"
                )
            )
    parent = os.path.dirname(TREE)
    tmp = tempfile.mkdtemp(prefix=".tree-new-", dir=parent)
    try:
        new = os.path.join(tmp, "tree")
        skipped = _materialize(new, tests=tests)
        if os.path.lexists(TREE):
            shutil.rmtree(TREE)
        os.replace(new, TREE)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    tree_files = _tree_export_files() if skipped else None
    _write_state(patches_files, tree_files, tests_digest, skipped)
    _stamp_tree()
    _link_tree()
    n = len(read_series())
    print(
        "materialized tree/: {} {} + {} + {} patch{} ({})\n"
        "edit with git in tree/ (commit, commit --fixup, rebase -i {}), then "
        "`make patches`".format(
            config()["name"],
            config()["version"],
            "upstream's test/infer, test/contrib from " + tests
            if tests
            else "no upstream test/infer, test/contrib",
            n,
            "" if n == 1 else "es",
            version(),
            BASE_TAG,
        )
    )
    if skipped:
        print("warning: " + _partial_tree_message(skipped))


def cmd_patches():
    if not os.path.isdir(os.path.join(TREE, ".git")):
        raise ForkError("no tree/ to export; run `make tree` first")
    edits = _tree_edits()
    if edits:
        raise ForkError(
            "tree/ has uncommitted changes; commit them first (e.g. `git -C tree "
            "commit --fixup <sha>` then `git -C tree rebase -i --autosquash {}`):\n  {}".format(
                BASE_TAG, "\n  ".join(edits)
            )
        )
    state = _read_state()
    if state.get("skipped"):
        raise ForkError(_partial_tree_message(state["skipped"]))
    with tempfile.TemporaryDirectory(prefix="numpyro-fork-export-") as tmp:
        _export(TREE, tmp)
        new = _dir_files(tmp)
    old = _dir_files(PATCHES)
    changed = []
    os.makedirs(PATCHES, exist_ok=True)
    for name, data in new.items():
        if old.get(name) != data:
            with open(os.path.join(PATCHES, name), "wb") as f:
                f.write(data)
            changed.append(name)
    for name in old:
        if name not in new:
            os.remove(os.path.join(PATCHES, name))
            changed.append(name + " (removed)")
    _write_state(new, tests=state.get("upstream_tests"))
    _stamp_tree()
    if changed:
        print("exported to patches/: " + ", ".join(sorted(changed)))
    else:
        print("patches/ already matches tree/; nothing changed")


def cmd_status():
    """0 when tree/ (if any) and patches/ agree; otherwise 1 and what to do."""
    read_series()
    if not os.path.isdir(os.path.join(TREE, ".git")):
        print(
            "no tree/ materialized; patches/ is the whole state ({})".format(version())
        )
        return 0
    patches_files = _dir_files(PATCHES)
    tree_files = _tree_export_files()
    edits = _tree_edits()
    state = _read_state()
    problems = []
    if state.get("skipped"):
        problems.append(_partial_tree_message(state["skipped"]))
    if edits:
        problems.append(
            "tree/ has uncommitted changes that are not in patches/:\n  "
            + "\n  ".join(edits)
            + "\n  commit them in tree/ (git commit --fixup ...), then `make patches`"
        )
    if tree_files != patches_files and not state.get("skipped"):
        tree_moved = _files_digest(tree_files) != state.get("tree", state.get("synced"))
        patches_moved = _files_digest(patches_files) != state.get("synced")
        differ = sorted(
            n
            for n in set(tree_files) | set(patches_files)
            if tree_files.get(n) != patches_files.get(n)
        )
        where = "differing: " + ", ".join(differ)
        if tree_moved and not patches_moved:
            problems.append(
                "tree/ has commits that are not exported ({}); run `make patches`".format(
                    where
                )
            )
        elif patches_moved and not tree_moved:
            problems.append(
                "patches/ changed since tree/ was materialized ({}); run `make tree` "
                "to bring tree/ up to date".format(where)
            )
        else:
            problems.append(
                "both tree/ and patches/ changed since they last agreed ({}); keep "
                "tree/ with `make patches` or patches/ with `make tree FORCE=1`".format(
                    where
                )
            )
    if problems:
        print("\n".join(problems))
        return 1
    print("tree/ and patches/ agree ({})".format(version()))
    return 0


def stage(dest_parent):
    """Patched upstream source (no git) in a directory of ``dest_parent`` named
    after the series digest; reused while the series is unchanged."""
    ver = version()
    key = ver.split("+", 1)[1]  # "+" is not welcome in paths setuptools globs
    dest = os.path.join(dest_parent, key)
    marker = os.path.join(dest, ".fork-complete")
    if os.path.isfile(marker):
        return dest
    os.makedirs(dest_parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".stage-", dir=dest_parent)
    try:
        src = os.path.join(tmp, "src")
        _materialize(src, build_only=True)
        shutil.rmtree(os.path.join(src, ".git"))
        # only the hunks the build reads were applied: leave out the tests
        shutil.rmtree(os.path.join(src, "test"), ignore_errors=True)
        _stamp_version(src, ver)
        with open(os.path.join(src, ".fork-complete"), "w") as f:
            f.write(ver + "\n")
        if os.path.isdir(dest):
            shutil.rmtree(dest)
        os.replace(src, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # older stages are of no further use
    for name in os.listdir(dest_parent):
        if name != key and not name.startswith("."):
            shutil.rmtree(os.path.join(dest_parent, name), ignore_errors=True)
    return dest


# --------------------------------------------------------------------------- rebase


def _rebase_repo(dest, new_cfg, new_sdist, tests):
    """A repository whose HEAD (tag ``upstream``) is the new release, child of the
    current base (tag ``upstream-<old version>``): the blobs the patches' index
    lines name are there, so `git am -3` can merge three ways."""
    old_cfg = config()
    os.makedirs(dest)
    _init_repo(dest)
    _commit_base(dest, _base_files(dest, upstream_sdist(), old_cfg, tests))
    git(dest, "tag", "{}-{}".format(BASE_TAG, old_cfg["version"]))
    git(dest, "rm", "-rq", "--", ".")
    for name in os.listdir(dest):
        if name != ".git":
            path = os.path.join(dest, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    _commit_base(dest, _base_files(dest, new_sdist, new_cfg, tests))


def _am_report(proc):
    return (proc.stdout + proc.stderr).strip()


def rebase_dry_run(new_cfg, new_sdist, tests=None, patches_dir=PATCHES):
    """[(patch, "applies" | "applies with a 3-way merge" | "conflicts in ...")]:
    each patch tried on the new release plus the earlier patches that applied."""
    names = read_series(patches_dir)
    out = []
    with tempfile.TemporaryDirectory(prefix="numpyro-fork-rebase-") as tmp:
        repo = os.path.join(tmp, "tree")
        _rebase_repo(repo, new_cfg, new_sdist, tests)
        limits = test_excludes(tests)
        for name in names:
            proc = git(
                repo,
                "am",
                "-3",
                "--keep-cr",
                *limits,
                os.path.join(patches_dir, name),
                check=False,
            )
            report = _am_report(proc)
            if proc.returncode == 0:
                merged = "Falling back" in report or "3-way" in report
                out.append(
                    (name, "applies with a 3-way merge" if merged else "applies")
                )
                continue
            files = git(repo, "diff", "--name-only", "--diff-filter=U").stdout.split()
            files = files or sorted(set(re.findall(r"patch failed: ([^:\s]+)", report)))
            out.append((name, "conflicts in " + (", ".join(files) or "?")))
            git(repo, "am", "--abort", check=False)
    return out


def _write_pin(version, sha256):
    path = os.path.join(ROOT, "fork.toml")
    with open(path) as f:
        text = f.read()
    text, n1 = re.subn(
        r'(?m)^version = "[^"]*"', 'version = "{}"'.format(version), text
    )
    text, n2 = re.subn(
        r'(?m)^sdist_sha256 = "[^"]*"', 'sdist_sha256 = "{}"'.format(sha256), text
    )
    if n1 != 1 or n2 != 1:
        raise ForkError("cannot find version and sdist_sha256 in fork.toml")
    with open(path, "w") as f:
        f.write(text)


def cmd_rebase(version, sha256, sdist=None, dry_run=False):
    """Move the series onto another upstream release (``make rebase``)."""
    new_cfg = dict(config(), version=version, sdist_sha256=sha256)
    new_sdist = upstream_sdist(new_cfg, sdist)
    tests = upstream_tests_dir()
    old = config()["version"]
    if dry_run:
        results = rebase_dry_run(new_cfg, new_sdist, tests)
        for i, (name, what) in enumerate(results, 1):
            print("{} (number {}): {}".format(name, i, what))
        bad = [n for n, what in results if what.startswith("conflicts")]
        print(
            "{} of {} patches apply to {} {}{}".format(
                len(results) - len(bad),
                len(results),
                new_cfg["name"],
                version,
                " (each tried on top of those before it that applied)" if bad else "",
            )
        )
        return 1 if bad else 0
    if os.path.isdir(os.path.join(TREE, ".git")):
        if not _tree_unchanged(_read_state()):
            raise ForkError(
                "tree/ holds work not in patches/; `make patches` (or `make tree "
                "FORCE=1`) before moving the series to another release"
            )
    names = read_series()
    patches_files = _dir_files(PATCHES)
    parent = os.path.dirname(TREE)
    tmp = tempfile.mkdtemp(prefix=".tree-new-", dir=parent)
    try:
        new = os.path.join(tmp, "tree")
        _rebase_repo(new, new_cfg, new_sdist, tests)
        limits = test_excludes(tests)
        proc = git(
            new,
            "am",
            "-3",
            "--keep-cr",
            *limits,
            *[os.path.join(PATCHES, n) for n in names],
            check=False,
        )
        if os.path.lexists(TREE):
            shutil.rmtree(TREE)
        os.replace(new, TREE)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # the pin moves with the tree: the tree's base is the new release now
    _write_pin(version, sha256)
    _write_state(patches_files, tests=upstream_tests_digest(tests))
    _link_tree()
    if proc.returncode != 0:
        nxt = os.path.join(TREE, ".git", "rebase-apply", "next")
        k = int(open(nxt).read()) if os.path.isfile(nxt) else 0
        name = names[k - 1] if 0 < k <= len(names) else "?"
        files = git(TREE, "diff", "--name-only", "--diff-filter=U").stdout.split()
        raise ForkError(
            "patch {} (number {} in patches/series) does not apply to {} {} "
            "(conflicts in {}). tree/ is kept, stopped at that patch: resolve the "
            "conflicts there, `git -C tree add <files>`, `git -C tree am --continue` "
            "(the later patches follow), then `make patches`. fork.toml now pins "
            "{}; `git checkout fork.toml && make tree FORCE=1` goes back to {}.\n"
            "git am said:\n{}".format(
                name,
                k,
                new_cfg["name"],
                version,
                ", ".join(files) or "files git names below",
                version,
                old,
                _am_report(proc),
            )
        )
    cmd_patches()
    print(
        "the series now applies to {} {} (was {}); review `git diff` of patches/ "
        "and fork.toml, then `make test`".format(new_cfg["name"], version, old)
    )
    return 0


def pristine(dest):
    """The unpatched upstream source in ``dest`` (for side-by-side benchmarks)."""
    cfg = config()
    marker = os.path.join(dest, ".fork-pristine")
    if not os.path.isfile(marker):
        if os.path.isdir(dest):
            shutil.rmtree(dest)
        _extract_sdist(upstream_sdist(), dest, cfg)
        with open(marker, "w") as f:
            f.write(cfg["sdist_sha256"] + "\n")
    return dest


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("tree", help="materialize tree/ from the sdist and patches/")
    p.add_argument("--force", action="store_true", help="discard unexported work")
    p.add_argument(
        "--keep", action="store_true", help="leave a tree with unexported work as it is"
    )
    sub.add_parser("patches", help="export tree/ to patches/")
    sub.add_parser("status", help="check that tree/ and patches/ agree")
    p = sub.add_parser("stage", help="write the patched source into DIR")
    p.add_argument("dir")
    p = sub.add_parser("pristine", help="extract the unpatched upstream into DIR")
    p.add_argument("dir")
    p = sub.add_parser("rebase", help="move the series onto another upstream release")
    p.add_argument("--version", required=True, help="the new upstream version")
    p.add_argument("--sha256", required=True, help="sha256 of its sdist")
    p.add_argument("--sdist", help="a local copy of its sdist (else pip download)")
    p.add_argument(
        "--dry-run", action="store_true", help="only say, patch by patch, what applies"
    )
    sub.add_parser("version", help="print the fork's version")
    sub.add_parser("sdist", help="print the path of the verified upstream sdist")
    sub.add_parser(
        "upstream-tests",
        help="print where upstream's test/infer and test/contrib are found",
    )
    args = parser.parse_args(argv)
    try:
        if args.cmd == "tree":
            cmd_tree(force=args.force, keep=args.keep)
        elif args.cmd == "patches":
            cmd_patches()
        elif args.cmd == "status":
            return cmd_status()
        elif args.cmd == "stage":
            print(stage(os.path.abspath(args.dir)))
        elif args.cmd == "pristine":
            print(pristine(os.path.abspath(args.dir)))
        elif args.cmd == "rebase":
            return cmd_rebase(args.version, args.sha256, args.sdist, args.dry_run)
        elif args.cmd == "version":
            print(version())
        elif args.cmd == "sdist":
            print(upstream_sdist())
        elif args.cmd == "upstream-tests":
            tests = upstream_tests_dir()
            if tests is None:
                print(
                    "none found (set {} to upstream's test/ directory)".format(
                        UPSTREAM_TESTS_ENV
                    ),
                    file=sys.stderr,
                )
                return 1
            print(tests)
    except ForkError as e:
        print("error: {}".format(e), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
