#!/usr/bin/env python3
"""netnsctl's output, byte for byte: every help page, a set of usage errors,
and every netnsctl example of README and netnsctl(8) run against a real netnsd,
compared with the output recorded in tests/integration/netnsctl-golden.json.

The record was made with netnsctl as it was before its split into verb
families, so this test proves that a change to the client's structure changed
no output, exit status or error message.  Volatile parts (the test's name
prefix, temporary paths, PIDs, process IDs, inodes, nsids, times, MAC
addresses, ping timings) are replaced by placeholders; tables whose column
widths follow a volatile value, or that list objects other tests make (the
host's namespaces), are compared with their column gaps collapsed and only
the rows of this test.

Run with --record to write the record anew (only when an output change is
intended, and say so in the commit).
"""

import difflib
import json
import os
import re
import shutil
import signal
import subprocess
import sys

from netnsd_test import (NETNSCTL, PREFIX, TOP_SRCDIR, Daemon, free_nsid, main, run, test,
                         tmpdir, wait_for)

GOLDEN = os.path.join(TOP_SRCDIR, "tests", "integration", "netnsctl-golden.json")
NOSOCK = "/nonexistent/netnsd.sock"
RECORD = "--record" in sys.argv

# What the record holds (loaded at start) and what this run produced.
_golden = {}
_got = {}


class Volatile:
    """Values of this run and the placeholders they become."""

    def __init__(self):
        self.words = {}  # exact word -> placeholder

    def add(self, value, placeholder):
        if value is not None and str(value) != "":
            self.words[str(value)] = placeholder

    def apply(self, text):
        # Longest first, so a path is replaced before a part of it.
        for value in sorted(self.words, key=len, reverse=True):
            pat = re.escape(value)
            if value[0].isalnum():
                pat = r"(?<![0-9A-Za-z])" + pat
            if value[-1].isalnum():
                pat = pat + r"(?![0-9A-Za-z])"
            text = re.sub(pat, self.words[value], text)
        text = text.replace(PREFIX, "@")
        text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)", "<TIME>", text)
        text = re.sub(r"(?<![0-9a-f])[0-9a-f]{16}(?![0-9a-f])", "<ID>", text)
        text = re.sub(r"(?<![0-9a-f:])[0-9a-f]{2}(:[0-9a-f]{2}){5}(?![0-9a-f:])", "<MAC>", text)
        # ping's timings and ip's address lifetimes.
        text = re.sub(r"time[=<][0-9.]+ ?ms", "time=<T> ms", text)
        text = re.sub(r"time [0-9]+ms", "time <T>ms", text)
        # nsfs inodes and IPv6 link-local addresses (from random MACs).
        text = re.sub(r'("inode":|inode:\s+)\d+', r"\1<INODE>", text)
        text = re.sub(r"fe80::[0-9a-f:]+/64", "fe80::<LL>/64", text)
        text = re.sub(r"rtt min/avg/max/mdev = \S+ ms", "rtt min/avg/max/mdev = <T> ms", text)
        return text


def collapse(text):
    """Table column gaps (two or more blanks) as exactly two."""
    return re.sub(r"  +", "  ", text)


def only_rows(text, keep):
    """The header and the rows containing one of keep."""
    lines = text.splitlines(True)
    return "".join(lines[:1] + [ln for ln in lines[1:] if any(k in ln for k in keep)])


def compare(section, entries):
    """Record entries under section, or compare them with the record."""
    _got[section] = entries
    if RECORD:
        return
    want = _golden.get(section)
    assert want is not None, "no record for %s: run with --record" % section
    if want == entries:
        return
    dump = lambda e: json.dumps(e, indent=1, ensure_ascii=False).splitlines()  # noqa: E731
    for i, (w, g) in enumerate(zip(want, entries)):
        if w != g:
            diff = difflib.unified_diff(dump(w), dump(g), "recorded", "now", lineterm="")
            raise AssertionError("entry %d of %s differs:\n%s" % (i, section, "\n".join(diff)))
    raise AssertionError("%s: %d entries recorded, %d now" % (section, len(want), len(entries)))


class Runner:
    """Runs netnsctl on one socket and collects normalised entries."""

    def __init__(self, sock, vol, cwd=None):
        self.sock = sock
        self.vol = vol
        self.cwd = cwd
        self.entries = []

    def env(self):
        e = dict(os.environ)
        e.pop("NETNSD_SOCKET", None)
        e["LC_ALL"] = "C"
        return e

    def add(self, shown, status, out, err, collapse_tables=False, keep=None, post=None,
            raw_post=None):
        if raw_post:
            out = raw_post(out)
        out = self.vol.apply(out)
        err = self.vol.apply(err)
        if keep is not None:
            out = only_rows(out, keep)
        if post:
            out = post(out)
        if collapse_tables:
            out = collapse(out)
        entry = {"cmd": self.vol.apply(shown), "status": status, "stdout": out, "stderr": err}
        self.entries.append(entry)
        return entry

    def ctl(self, *args, input=None, **kw):
        """netnsctl ARGS; the normalised entry."""
        cmd = [NETNSCTL, "-s", self.sock] + list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, input=input, env=self.env(),
                           cwd=self.cwd, timeout=60)
        shown = ("echo %s | " % input.strip() if input else "") + "netnsctl " + " ".join(args)
        return self.add(shown, p.returncode, p.stdout, p.stderr, **kw)

    def shell(self, line, shown=None, **kw):
        """A shell line where netnsctl is the built one on our socket."""
        script = "set -o pipefail; netnsctl() { %s -s %s \"$@\"; }; %s" % (
            NETNSCTL, self.sock, line)
        p = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                           env=self.env(), cwd=self.cwd, timeout=60)
        return self.add(shown or line, p.returncode, p.stdout, p.stderr, **kw)


# The verb tree as netnsctl had it when the record was made (names, then aliases).
FAMILIES = {
    "netns": ["add", "delete", "list", "show", "pids", "identify", "del", "ls"],
    "link": ["add", "delete", "set", "list", "del", "ls", "show"],
    "addr": ["add", "delete", "list", "del", "ls", "show"],
    "route": ["add", "delete", "list", "del", "ls", "show"],
    "proc": ["run", "list", "show", "kill", "wait", "logs", "delete", "ls", "del"],
    "lab": ["plan", "apply", "destroy", "export", "list", "show", "graph", "ls"],
}
LEAVES = ["exec", "monitor", "info", "ping", "call", "help"]


@test
def test_help_pages():
    """every help page and --version, byte for byte"""
    r = Runner(NOSOCK, Volatile())
    for args in (["--help"], ["-h"], ["help"], ["--", "--help"], ["--version"]):
        r.ctl(*args)
    for fam, subs in FAMILIES.items():
        r.ctl(fam, "--help")
        r.ctl("help", fam)
        r.ctl(fam, "-h")
        for sub in subs:
            r.ctl(fam, sub, "--help")
            r.ctl("help", fam, sub)
    for leaf in LEAVES:
        r.ctl(leaf, "--help")
        r.ctl("help", leaf)
    compare("help", r.entries)


@test
def test_usage_errors():
    """usage errors and their hints, exit status 2 (1 where the daemon is needed)"""
    r = Runner(NOSOCK, Volatile())
    cases = [
        [], ["bogus"], ["-x"], ["--bogus"], ["-s"], ["-n"], ["-n", "x", "netns", "list"],
        ["-n", "x", "info"], ["netns", "bogus"], ["netns", "add"],
        ["netns", "add", "x", "nsid", "abc"], ["netns", "add", "x", "frob", "1"],
        ["netns", "add", "x", "sysctl", "novalue"], ["netns", "delete", "x", "grace"],
        ["netns", "show", "x", "y"], ["netns", "identify", "x"], ["netns", "list", "--bogus"],
        ["link", "add"], ["link", "add", "x"], ["link", "add", "x", "type"],
        ["link", "add", "x", "type", "veth", "mtu", "big"],
        ["link", "add", "x", "type", "veth", "peer", "y", "type", "veth"],
        ["link", "add", "x", "type", "veth", "netns", "y"], ["link", "set"],
        ["link", "set", "x", "ipv6ll", "maybe"], ["link", "delete", "x", "y"],
        ["link", "list", "x"], ["addr", "add"], ["addr", "add", "10.0.0.1/24"],
        ["addr", "add", "10.0.0.1/24", "dev"], ["addr", "delete", "1.2.3.4/8", "nodad"],
        ["addr", "list", "a", "b"], ["route", "add"], ["route", "add", "default", "table", "x"],
        ["route", "add", "a", "b"], ["route", "list", "via", "1.2.3.4"],
        ["proc", "run"], ["proc", "run", "x"], ["proc", "run", "x", "--", ],
        ["proc", "run", "x", "--bogus", "--", "true"], ["proc", "run", "x", "y", "--", "true"],
        ["proc", "run", "x", "--restart", "sometimes", "--", "true"],
        ["proc", "run", "x", "--env", "novalue", "--", "true"],
        ["proc", "run", "x", "--name", "a", "--name", "b", "--", "true"],
        ["proc", "list", "--bogus"], ["proc", "show"], ["proc", "show", "a", "b"],
        ["proc", "kill", "a", "BOGUS"], ["proc", "kill", "a", "1", "2"],
        ["proc", "wait", "a", "--timeout", "x"], ["proc", "logs", "a", "--tail"],
        ["proc", "delete", "a", "b"], ["exec"], ["exec", "x"], ["exec", "x", "--user"],
        ["-j", "exec", "x", "--", "true"], ["exec", "x", "--restart", "no", "--", "true"],
        ["monitor", "bogus"], ["monitor", "-q"], ["monitor", "-n"], ["info", "x"],
        ["ping", "x"], ["call"], ["call", "m", "{bad"], ["call", "m", "{}", "x"],
        ["help", "bogus"], ["help", "netns", "bogus"], ["help", "netns", "add", "x"],
        # Valid words: these reach for the (missing) daemon.
        ["ping"], ["netns", "list"], ["-n", "x", "link"], ["call", "daemon.ping"],
        ["proc", "wait", "a"], ["exec", "x", "--", "true"],
    ]
    for args in cases:
        r.ctl(*args)
    compare("usage", r.entries)


def settle(d, ns, dev, addr):
    """Wait until an address is on a device (and not tentative) in namespace ns."""
    def there():
        for a in json.loads(run(["ip", "-n", ns, "-j", "addr", "show", "dev", dev]).stdout):
            for ai in a.get("addr_info", []):
                if ai.get("local") == addr.split("/")[0] and not ai.get("tentative"):
                    return True
        return False
    assert wait_for(there, timeout=10), "%s never appeared on %s in %s" % (addr, dev, ns)


def monitor(r, args, trigger, expect, keep):
    """Run 'netnsctl ARGS' in the background, trigger() events, wait for a line
    containing expect, then SIGINT it; the entry has the lines matching keep."""
    cmd = [NETNSCTL, "-s", r.sock] + args
    out_path = os.path.join(tmpdir(), "monitor.out")
    with open(out_path, "w") as out, open(out_path + ".err", "w") as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=r.env())
    try:
        # The subscription is made at some point after the start: make events until
        # one is printed.
        def text():
            with open(out_path) as f:
                return f.read()
        subscribed = False
        for _ in range(100):
            trigger()
            if wait_for(lambda: expect in text(), timeout=0.5):
                subscribed = True
                break
        assert subscribed, "monitor never printed %r:\n%s" % (expect, text())
        p.send_signal(signal.SIGINT)
        status = p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    with open(out_path) as f:
        lines = [ln for ln in f.read().splitlines(True) if keep(ln)]
    with open(out_path + ".err") as f:
        errtext = f.read()
    # One matching line is enough: how many the probes made is the test's doing.
    first = [ln for ln in lines if expect in ln][:1]
    return r.add("netnsctl " + " ".join(args), status, "".join(first), errtext)


@test
def test_examples():
    """the netnsctl examples of README and netnsctl(8), output byte for byte"""
    base = tmpdir()
    d = Daemon("--runtime-dir", os.path.join(base, "run"))
    vol = Volatile()
    vol.add(d.dir, "<DAEMONDIR>")
    vol.add(base, "<BASEDIR>")
    vol.add(d.proc.pid, "<NETNSD-PID>")
    files = os.path.join(base, "files")
    os.mkdir(files)
    with open(os.path.join(files, "hosts"), "w") as f:
        f.write("127.0.0.1 localhost\n10.0.0.1 n1\n")
    with open(os.path.join(files, "resolv.conf"), "w") as f:
        f.write("nameserver 10.0.0.53\nsearch example.test\n")
    r = Runner(d.socket, vol, cwd=files)
    P = PREFIX
    blue, red, dns, n1, n2 = P + "blue", P + "red", P + "dns", P + "n1", P + "n2"
    nsid = free_nsid()
    while len(str(nsid)) != 10:  # a fixed width keeps the tables' columns fixed
        nsid = free_nsid()
    vol.add(nsid, "<NSID>")
    ours = ["@"]

    # README: the tour.
    r.ctl("netns", "add", blue)
    r.ctl("netns", "add", red, "nsid", str(nsid), "sysctl", "net.ipv4.ip_forward=1")
    r.ctl("netns", "add", dns, "hosts", "./hosts", "resolv-conf", "./resolv.conf")
    r.ctl("netns", "list", keep=ours, collapse_tables=True)
    r.ctl("netns", "show", red)
    r.ctl("netns", "show", dns)
    r.ctl("netns", "pids", blue)
    sleeper = subprocess.Popen(["ip", "netns", "exec", blue, "sleep", "300"])
    try:
        vol.add(sleeper.pid, "<SLEEPER-PID>")
        wait_for(lambda: run(["ip", "netns", "identify", str(sleeper.pid)]).stdout.strip())
        r.ctl("netns", "pids", blue)
        r.ctl("netns", "identify", str(sleeper.pid))
    finally:
        sleeper.kill()
        sleeper.wait()
    r.ctl("netns", "identify", "999999999")

    def info_post(out):
        out = re.sub(r"(?m)^(uptime:\s+).*$", r"\1<UPTIME>", out)
        # The journal holds inodes and times, whose lengths vary.
        out = re.sub(r"(?m)^(  (journal|snapshot)_bytes:\s+)\d+$", r"\1<BYTES>", out)
        # Memory and scheduling figures vary from run to run.
        out = re.sub(r"(?m)^(  (queued|queued_peak|buffer|event_ring|heap_in_use|heap_free|rss)"
                     r"_bytes:\s+)\d+$", r"\1<BYTES>", out)
        return re.sub(r"(?m)^(  (turns|deferred|stall_cutoffs|message_timeouts):\s+)\d+$", r"\1<N>",
                      out)
    r.ctl("info", post=info_post)

    def json_ours(out):
        doc = json.loads(out)
        doc["namespaces"] = [n for n in doc["namespaces"] if n["name"].startswith(P)]
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n"
    r.ctl("--json", "netns", "list", raw_post=json_ours)
    r.ctl("call", "netns.get", '{"name":"%s"}' % red)
    r.ctl("call", "netns.get", "-", input='{"name":"%s"}\n' % red)

    # README and netnsctl(8): two CORE-style nodes on a bridge.
    b, p1, p2 = P + "b.1.1", P + "n1.0.1", P + "n2.0.1"
    r.ctl("netns", "add", n1)
    r.ctl("netns", "add", n2)
    r.ctl("link", "add", b, "type", "bridge", "up")
    r.ctl("-n", n1, "link", "add", "eth0", "type", "veth", "up", "peer", p1, "netns", "host",
          "master", b, "up")
    r.ctl("-n", n2, "link", "add", "eth0", "type", "veth", "up", "peer", p2, "netns", "host",
          "master", b, "up")
    r.ctl("-n", n1, "addr", "add", "10.0.0.1/24", "dev", "eth0")
    r.ctl("-n", n2, "addr", "add", "10.0.0.2/24", "dev", "eth0")
    r.ctl("-n", n1, "link", "list")
    # IPv6 link-local addresses come and go out of tentative on their own time.
    r.ctl("-n", n2, "addr", "list", post=lambda out: "".join(
        ln for ln in out.splitlines(True) if "fe80::" not in ln), collapse_tables=True)

    # netnsctl(8): two namespaces joined by a veth pair.
    r.ctl("-n", blue, "link", "add", "veth0", "type", "veth", "up", "peer", "veth1", "netns",
          red, "up")
    r.ctl("-n", blue, "addr", "add", "10.1.1.1/24", "dev", "veth0")
    r.ctl("-n", red, "addr", "add", "10.1.1.2/24", "dev", "veth1")

    # README and netnsctl(8): lend a "physical" NIC (a veth netnsd did not make).
    nic, nicpeer = P + "eth1", P + "eth1p"
    run(["ip", "link", "add", nic, "type", "veth", "peer", "name", nicpeer])
    r.ctl("link", "set", nic, "netns", blue)
    r.ctl("-n", blue, "link", "set", nic, "name", "uplink", "up")
    r.ctl("-n", blue, "link", "list", "--names")
    r.ctl("-n", blue, "link", "delete", "uplink")

    # README (no route to 10.0.1.1 here: its error) and netnsctl(8): a default route.
    r.ctl("-n", red, "route", "add", "default", "via", "10.0.1.1")
    r.ctl("-n", red, "route", "add", "default", "via", "10.1.1.1")
    r.ctl("-n", red, "route", "list")
    r.ctl("-n", red, "route", "add", "blackhole", "10.66.0.0/16")
    r.ctl("-n", red, "route", "list", "-4")
    r.ctl("--json", "-n", red, "route", "list")

    # Processes: README's service, then netnsctl(8)'s.
    def proc_pids(out):
        for p in d.call("proc.list")["processes"]:
            vol.add(p.get("pid"), "<PROC-PID>")
        return vol.apply(out)
    r.ctl("proc", "run", blue, "--name", "web", "--restart", "always", "--", "python3", "-m",
          "http.server", "8080")
    r.ctl("proc", "list", post=proc_pids, collapse_tables=True)
    r.ctl("proc", "show", "web", post=proc_pids)
    r.ctl("proc", "delete", "web")
    r.ctl("proc", "run", blue, "--name", "web", "--restart", "on-failure", "--", "python3",
          "-m", "http.server", "8080")
    r.ctl("proc", "list", post=proc_pids, collapse_tables=True)
    r.ctl("proc", "logs", "web", "--tail", "20")
    r.ctl("proc", "delete", "web")
    r.ctl("proc", "list")

    # exec: on the caller's own stdio (a pipe here), and in a pipe.
    settle(d, red, "veth1", "10.1.1.2")
    r.ctl("exec", red, "--", "ping", "-c1", "10.1.1.1")
    r.ctl("exec", blue, "--", "sh", "-c", "exit 3")
    r.ctl("exec", blue, "--", "/nonexistent/cmd")

    def ip_addr_post(out):
        doc = json.loads(out)
        for link in doc:
            link["addr_info"] = [ai for ai in link.get("addr_info", [])
                                 if ai.get("scope") != "link"]
            for ai in link["addr_info"]:
                for k in ("valid_life_time", "preferred_life_time"):
                    ai.pop(k, None)
        return json.dumps(doc, indent=2) + "\n"
    # The output is parsed and printed again, so cat does where jq is missing.
    r.shell("netnsctl exec %s -- ip -j addr | %s" % (blue, "jq ." if shutil.which("jq") else "cat"),
            shown="netnsctl exec %s -- ip -j addr | jq ." % blue, raw_post=ip_addr_post)

    # monitor: one namespace's links and addresses, then everything as JSON.
    seq = [0]

    def bump():
        seq[0] += 1
        run(["ip", "-n", blue, "addr", "add", "10.1.2.%d/32" % seq[0], "dev", "veth0"])
    monitor(r, ["monitor", "link", "addr", "-n", blue], bump, "10.1.2.", lambda ln: "10.1.2." in ln)

    def bump_red():
        seq[0] += 1
        run(["ip", "-n", red, "addr", "add", "10.1.3.%d/32" % seq[0], "dev", "veth1"])

    def json_line(ln):
        return '"topic":"addr"' in ln and ("10.1.3.") in ln
    e = monitor(r, ["--json", "monitor"], bump_red, "10.1.3.", json_line)
    # The JSON event: seq, gseq and subscription count events this run made; compare the rest.
    ev = json.loads(e["stdout"])
    ev.pop("seq", None)
    ev.pop("gseq", None)
    ev.pop("subscription", None)
    ev["addr"]["address"] = re.sub(r"\.\d+/", ".N/", ev["addr"]["address"])
    e["stdout"] = json.dumps(ev, separators=(",", ":")) + "\n"
    r.entries[-2]["stdout"] = re.sub(r"10\.1\.2\.\d+/", "10.1.2.N/", r.entries[-2]["stdout"])

    # README: delete with a grace period; netnsctl(8)'s errors for what is gone.
    r.ctl("netns", "del", blue, "grace", "5000")
    r.ctl("netns", "show", blue)
    r.ctl("-n", blue, "link", "list")
    for ns in (red, dns, n1, n2):
        r.ctl("netns", "delete", ns)
    r.ctl("link", "delete", b)
    compare("examples", r.entries)
    d.stop()


def load():
    global _golden
    if not RECORD:
        try:
            with open(GOLDEN) as f:
                _golden = json.load(f)
        except FileNotFoundError:
            pass


def save():
    if RECORD:
        with open(GOLDEN, "w") as f:
            json.dump(_got, f, indent=1, ensure_ascii=False)
            f.write("\n")
        print("# recorded %s" % GOLDEN)


if __name__ == "__main__":
    load()
    rc = main()
    if rc == 0:
        save()
    sys.exit(rc)
