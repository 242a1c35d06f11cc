"""Helpers for the netnsctl tests: run the built client on a test daemon's
socket, check its exit status and output, and parse its tables."""

import json
import os
import re
import subprocess

from netnsd_test import NETNSCTL, Daemon

_daemon = None


def daemon():
    """The daemon these tests share (started on first use)."""
    global _daemon
    if _daemon is None:
        _daemon = Daemon()
    return _daemon


def ctl(*args, socket=None, input=None, env=None):
    """Run netnsctl on the shared daemon's socket (socket="" for none); the CompletedProcess."""
    e = dict(os.environ)
    e.pop("NETNSD_SOCKET", None)
    if env:
        e.update(env)
    sock = socket if socket is not None else daemon().socket
    cmd = [NETNSCTL] + (["-s", sock] if sock else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, input=input, env=e, timeout=60)


def ok(*args, **kw):
    """stdout of a netnsctl run that must succeed silently on stderr."""
    p = ctl(*args, **kw)
    assert p.returncode == 0, "netnsctl %s: exit %d\n%s" % (" ".join(args), p.returncode,
                                                          p.stderr)
    assert p.stderr == "", p.stderr
    return p.stdout


def fails(status, *args, **kw):
    """stderr of a netnsctl run that must fail with status and print only a message."""
    p = ctl(*args, **kw)
    assert p.returncode == status, "netnsctl %s: exit %d, expected %d\nstdout: %s\nstderr: %s" % (
        " ".join(args), p.returncode, status, p.stdout, p.stderr)
    assert p.stderr.startswith("netnsctl: "), p.stderr
    assert p.stdout == "", p.stdout
    return p.stderr


def one_json(text):
    """Exactly one JSON document on one line (stdout is a pipe, so compact)."""
    assert text.endswith("\n") and text.count("\n") == 1, repr(text[:300])
    return json.loads(text)


def table(text):
    """An aligned table as (columns, rows): cells start where their header starts."""
    lines = text.splitlines()
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    cols = header.split()
    rows = []
    for line in lines[1:]:
        cells = []
        for i, s in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else len(line)
            assert i == 0 or line[s - 1] == " ", "cell not aligned in %r" % line
            cells.append(line[s:end].strip())
        rows.append(dict(zip(cols, cells)))
    return cols, rows
