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
    python tools/fork.py version   # the PEP 440 version of the fork
    python tools/fork.py sdist     # path of the verified upstream sdist

Environment variables:

``NUMPYRO_FORK_SDIST``
    path of a local copy of the upstream sdist (offline builds); it is verified
    against the pinned sha256 like a downloaded one.
``NUMPYRO_FORK_CACHE``
    directory for the verified sdist (default: ``$XDG_CACHE_HOME/numpyro-fork`` or
    ``~/.cache/numpyro-fork``).
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


def upstream_sdist():
    """Path of the verified upstream sdist: $NUMPYRO_FORK_SDIST, the cache, or pip."""
    cfg = config()
    local = os.environ.get("NUMPYRO_FORK_SDIST")
    if local:
        if not os.path.isfile(local):
            raise ForkError(
                "NUMPYRO_FORK_SDIST={} is not a file; point it at {}".format(
                    local, sdist_filename(cfg)
                )
            )
        _check_sha256(local, cfg, "from NUMPYRO_FORK_SDIST")
        return local
    cached = os.path.join(cache_dir(), sdist_filename(cfg))
    if os.path.isfile(cached):
        if sha256_file(cached) == cfg["sdist_sha256"]:
            return cached
        os.remove(cached)  # a corrupt cache entry is dropped and fetched again
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
        os.makedirs(cache_dir(), exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=cache_dir(), suffix=".part")
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
    names = []
    with open(series) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                names.append(line)
    problems = []
    for name in names:
        if not os.path.isfile(os.path.join(patches_dir, name)):
            problems.append(
                "patches/series lists {}, which does not exist".format(name)
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


def _init_repo(repo):
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", BOT_NAME)
    git(repo, "config", "user.email", BOT_EMAIL)
    # git notes carry each commit's patch file name through amend and rebase
    git(repo, "config", "notes.rewriteRef", "refs/notes/commits")
    git(repo, "config", "commit.gpgsign", "false")
    git(repo, "config", "core.autocrlf", "false")
    with open(os.path.join(repo, ".git", "info", "exclude"), "a") as f:
        f.write("\n".join(TREE_EXCLUDES) + "\n")


def _materialize(dest, patches_dir=PATCHES):
    """Create ``dest``: a git repository with the pristine release as its base
    commit and one commit per patch of the series. Raises ForkError naming the
    patch (and git's report naming the file) when a patch does not apply."""
    cfg = config()
    names = read_series(patches_dir)
    sdist = upstream_sdist()
    os.makedirs(dest)
    _extract_sdist(sdist, dest, cfg)
    _init_repo(dest)
    git(dest, "add", "-A")
    stamp = {"GIT_AUTHOR_DATE": BASE_DATE, "GIT_COMMITTER_DATE": BASE_DATE}
    git(
        dest,
        "commit",
        "-q",
        "-m",
        "{} {} (PyPI sdist, sha256 {})".format(
            cfg["name"], cfg["version"], cfg["sdist_sha256"]
        ),
        env=dict(stamp, GIT_AUTHOR_NAME=BOT_NAME, GIT_AUTHOR_EMAIL=BOT_EMAIL),
    )
    git(dest, "tag", BASE_TAG)
    for i, name in enumerate(names):
        path = os.path.join(patches_dir, name)
        proc = git(
            dest,
            "am",
            "-q",
            "--keep-cr",
            "--committer-date-is-author-date",
            path,
            check=False,
        )
        if proc.returncode != 0:
            report = (proc.stdout + proc.stderr).strip()
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
            raise ForkError(
                "patch {} (number {} in patches/series) does not apply to {}{}\n"
                "git am said:\n{}".format(
                    name,
                    i + 1,
                    onto,
                    (" (in " + ", ".join(files) + ")") if files else "",
                    report,
                )
            )
        git(dest, "notes", "add", "-f", "-m", _patch_slug(name), "HEAD")


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


def _dir_files(path):
    out = {}
    if os.path.isdir(path):
        for name in os.listdir(path):
            if name == "series" or name.endswith(".patch"):
                with open(os.path.join(path, name), "rb") as f:
                    out[name] = f.read()
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


def _write_state(files):
    with open(_state_path(), "w") as f:
        json.dump({"synced": _files_digest(files)}, f)


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
    is rebuilt; a tree with unexported work is an error, unless ``force`` (discard
    it) or ``keep`` (leave it and warn: `make test` on a tree being edited)."""
    patches_files = _dir_files(PATCHES)
    read_series()  # report a broken series before touching anything
    if os.path.isdir(os.path.join(TREE, ".git")):
        tree_files = _tree_export_files()
        edits = _tree_edits()
        synced = _read_state().get("synced")
        if tree_files == patches_files and not edits:
            _stamp_tree()
            _link_tree()
            print("tree/ is up to date with patches/ ({})".format(version()))
            return
        unexported = edits or _files_digest(tree_files) != synced
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
        _materialize(new)
        if os.path.lexists(TREE):
            shutil.rmtree(TREE)
        os.replace(new, TREE)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _write_state(patches_files)
    _stamp_tree()
    _link_tree()
    n = len(read_series())
    print(
        "materialized tree/: {} {} + {} patch{} ({})\n"
        "edit with git in tree/ (commit, commit --fixup, rebase -i {}), then "
        "`make patches`".format(
            config()["name"],
            config()["version"],
            n,
            "" if n == 1 else "es",
            version(),
            BASE_TAG,
        )
    )


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
    _write_state(new)
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
    problems = []
    if edits:
        problems.append(
            "tree/ has uncommitted changes that are not in patches/:\n  "
            + "\n  ".join(edits)
            + "\n  commit them in tree/ (git commit --fixup ...), then `make patches`"
        )
    if tree_files != patches_files:
        synced = _read_state().get("synced")
        tree_moved = _files_digest(tree_files) != synced
        patches_moved = _files_digest(patches_files) != synced
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
        _materialize(src)
        shutil.rmtree(os.path.join(src, ".git"))
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
    sub.add_parser("version", help="print the fork's version")
    sub.add_parser("sdist", help="print the path of the verified upstream sdist")
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
        elif args.cmd == "version":
            print(version())
        elif args.cmd == "sdist":
            print(upstream_sdist())
    except ForkError as e:
        print("error: {}".format(e), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
