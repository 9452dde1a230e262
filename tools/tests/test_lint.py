# SPDX-License-Identifier: Apache-2.0
"""`make lint TRAILERS=1`: every patch message ends with its metadata trailers."""

import lint

PATCH = """\
From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: Ada <ada@example.com>
Date: Sat, 1 Jan 2000 00:00:00 +0000
Subject: [PATCH] {subject}

A body long enough to explain the change.

{trailers}
---
 numpyro/util.py | 1 +
 1 file changed, 1 insertion(+)
"""

GOOD_FIRST = """\
Upstream-Issue: pyro-ppl/numpyro#1937
Upstream-PR: pyro-ppl/numpyro#1938
Upstream-Status: partial fix in 0.22.0; this completes it
Depends-on: none"""

GOOD_SECOND = """\
Upstream-Issue: pyro-ppl/numpyro#1810, pyro-ppl/numpyro#1811
Upstream-PR: not yet forwarded
Upstream-Status: not yet forwarded
Depends-on: distributions: exact icdf"""


def write(tmp_path, messages):
    names = []
    for i, (subject, trailers) in enumerate(messages, 1):
        name = "{:04d}-p.patch".format(i)
        text = PATCH.format(subject=subject, trailers=trailers)
        (tmp_path / name).write_text(text)
        names.append(name)
    (tmp_path / "series").write_text("".join(n + "\n" for n in names))
    return str(tmp_path)


def test_good_trailers_pass(tmp_path):
    d = write(
        tmp_path,
        [
            ("distributions: exact icdf", GOOD_FIRST),
            ("distributions: joint", GOOD_SECOND),
        ],
    )
    assert lint.check_trailers(d) == []


def test_missing_and_malformed_trailers_are_named(tmp_path):
    bad = GOOD_SECOND.replace(
        "not yet forwarded\nUpstream-Status", "maybe\nUpstream-Status"
    )
    bad = bad.replace("distributions: exact icdf", "0001")
    d = write(
        tmp_path,
        [
            ("distributions: exact icdf", "Upstream-Issue: #1937"),
            ("distributions: joint", bad),
        ],
    )
    problems = lint.check_trailers(d)
    assert "0001-p.patch: no Upstream-PR: trailer" in problems
    assert "0001-p.patch: no Depends-on: trailer" in problems
    assert any(p.startswith("0001-p.patch: Upstream-Issue: '#1937'") for p in problems)
    assert any(p.startswith("0002-p.patch: Upstream-PR: 'maybe'") for p in problems)
    assert any(
        p.startswith("0002-p.patch: Depends-on: '0001' is not the subject")
        for p in problems
    )
    # a later patch cannot be depended on
    d = write(
        tmp_path,
        [
            ("a: one", GOOD_SECOND.replace("distributions: exact icdf", "b: two")),
            ("b: two", GOOD_FIRST),
        ],
    )
    assert any("'b: two' is not the subject" in p for p in lint.check_trailers(d))
