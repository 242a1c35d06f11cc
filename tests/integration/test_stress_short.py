#!/usr/bin/env python3
"""Short runs of the stress scripts (tests/stress/), as tests:

- the kill -9 loop, KILL9_N rounds (default 20): no acknowledged object lost,
  no deletion undone, no orphan, no process lost or with a wrong exit code;
- the leak cycles, LEAKS_N cycles (default 200) of a wired node and of a
  supervised process: fds, mounts, host links, /run/netns entries and shims
  exactly flat, RSS within 4 MiB (allocator noise, not a leak of this size).

The long runs (1000 kills, 10 000 cycles) are the same scripts with their
defaults; see tests/stress/.
"""

import json
import os
import subprocess
import sys
import tempfile

from netnsd_test import NETNSD, TOP_SRCDIR, main, sanitized, test

STRESS = os.path.join(TOP_SRCDIR, "tests", "stress")


def run_script(name, *args):
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        p = subprocess.run([sys.executable, os.path.join(STRESS, name), "--json", f.name] +
                           list(args), capture_output=True, text=True,
                           env=dict(os.environ, NETNSD=NETNSD), timeout=600)
        try:
            figures = json.load(open(f.name))
        except ValueError:
            raise AssertionError("%s produced no figures (exit %d):\n%s" % (
                name, p.returncode, (p.stdout + p.stderr)[-3000:]))
    for line in json.dumps(figures, indent=1, sort_keys=True).splitlines():
        print("# " + line)
    return p.returncode, figures


@test
def kill9_short():
    """kill -9 under a pipelined workload: nothing acknowledged is lost"""
    n = os.environ.get("KILL9_N", "20")
    rc, f = run_script("kill9.py", "-n", n, "--quiet")
    assert f["iterations"] == int(n), f["iterations"]
    assert f["acked_ops"] > 0, "the workload got nothing acknowledged"
    assert f["violations"] == 0, "\n".join(f["examples"])
    assert rc == 0


@test
def leaks_short():
    """create/delete cycles leave fds, mounts, links, namespaces, shims flat"""
    n = os.environ.get("LEAKS_N", "200")
    # ASan's quarantine holds freed memory on purpose, so RSS says nothing
    # about leaks in a sanitizer build (LeakSanitizer does that there).
    slack = str(1 << 30) if sanitized() else "4096"
    rc, f = run_script("leaks.py", "-n", n, "--rss-slack-kib", slack)
    for k, flat in f["flat"].items():
        assert flat, "%s: %s at the start, %s at the end" % (k, f["start"][k], f["end"][k])
    assert f["rss_within_slack"], "RSS grew by %d KiB" % f["rss_growth_kib"]
    assert rc == 0


if __name__ == "__main__":
    sys.exit(main())
