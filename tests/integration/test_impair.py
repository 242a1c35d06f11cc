#!/usr/bin/env python3
"""Integration tests of link impairments (impair: netem and tbf root qdiscs).

Everything is checked against the kernel's own view (`tc -j qdisc show`)
as well as link.get and link.list: a rate limit is a tbf root qdisc, any
other impairment a netem one; link.set changes it live and removes it;
the stored doc brings it back after a restart of netnsd and after a
simulated reboot.  A TCP transfer between two namespaces through a
1 mbit/s limit must come out below 2 mbit/s and more than ten times slower
than without the limit.  netem itself (delay measured with ping, loss) is
tested where the kernel has sch_netem, and skipped with the reason where it
has not; where it has not, asking for it must be error 10 (unsupported)
that leaves nothing behind.
"""

import json
import re
import signal
import subprocess
import sys
import time

from netnsd_test import Daemon, RpcError, Skip, main, run, test, uniq, wait_for

RATE_KBIT = 1000


def qdisc(dev, netns=None):
    """The root qdisc of dev as `tc -j qdisc show` reports it."""
    cmd = ["tc"] + (["-n", netns] if netns else []) + ["-j", "qdisc", "show", "dev", dev]
    out = run(cmd).stdout.strip()
    roots = [q for q in (json.loads(out) if out else []) if q.get("root")]
    assert len(roots) == 1, roots
    return roots[0]


def link_exists(name, netns=None):
    cmd = ["ip"] + (["-n", netns] if netns else []) + ["link", "show", "dev", name]
    return subprocess.run(cmd, capture_output=True).returncode == 0


def listed(d, netns, name):
    return {l["name"]: l for l in d.call("link.list", {"netns": netns})["links"]}.get(name)


def pair(d, imp=None, peer_imp=None, addresses=False):
    """Two namespaces joined by a veth (a:e0 -- b:e1); impairments as link.add takes them."""
    a, b = uniq("n"), uniq("n")
    d.call("netns.add", {"name": a})
    d.call("netns.add", {"name": b})
    peer = {"name": "e1", "netns": b, "up": True}
    if peer_imp is not None:
        peer["impair"] = peer_imp
    params = {"netns": a, "name": "e0", "kind": "veth", "up": True, "peer": peer}
    if imp is not None:
        params["impair"] = imp
    reply = d.call("link.add", params)
    if addresses:
        d.call("addr.add", {"netns": a, "dev": "e0", "address": "10.9.0.1/24"})
        d.call("addr.add", {"netns": b, "dev": "e1", "address": "10.9.0.2/24"})
    return a, b, reply


_netem = None


def netem_available():
    """Whether the kernel has sch_netem, asked once through a throw-away veth."""
    global _netem
    if _netem is None:
        ns, name = uniq("n"), uniq("q")
        run(["ip", "netns", "add", ns])
        try:
            run(["ip", "-n", ns, "link", "add", name, "type", "veth", "peer", "name", name + "p"])
            p = subprocess.run(["tc", "-n", ns, "qdisc", "add", "dev", name, "root", "netem",
                                "delay", "1ms"], capture_output=True, text=True)
            _netem = p.returncode == 0
        finally:
            run(["ip", "netns", "del", ns])
    return _netem


def need_netem():
    if not netem_available():
        raise Skip("this kernel has no sch_netem (delay, loss, ... need it); "
                   "the qemu lane with a stock Debian kernel runs these")


def need_no_netem():
    if netem_available():
        raise Skip("this kernel has sch_netem: the 'unsupported' path cannot happen here")


def tbf_rate(q):
    """A tbf's rate in bytes/s from tc -j (a number, or a string like '1Mbit' in old tc)."""
    assert q["kind"] == "tbf", q
    rate = q["options"]["rate"]
    return rate if isinstance(rate, int) else None


# ---- tbf: rate limits -----------------------------------------------------------------------

@test
def rate_is_a_tbf_read_back_from_the_kernel():
    """link.add impair rate_kbit: tbf root qdisc on each end; link.get and link.list show it"""
    d = Daemon()
    a, b, reply = pair(d, {"rate_kbit": RATE_KBIT}, {"rate_kbit": 2 * RATE_KBIT})
    assert reply["impair"] == {"rate_kbit": RATE_KBIT}, reply
    qa, qb = qdisc("e0", a), qdisc("e1", b)
    assert qa["kind"] == "tbf" and qb["kind"] == "tbf", (qa, qb)
    assert tbf_rate(qa) == RATE_KBIT * 125, qa  # bytes per second
    assert tbf_rate(qb) == 2 * RATE_KBIT * 125, qb
    assert d.call("link.get", {"netns": a, "name": "e0"})["impair"] == {"rate_kbit": RATE_KBIT}
    got = d.call("link.get", {"netns": b, "name": "e1"})
    assert got["impair"] == {"rate_kbit": 2 * RATE_KBIT}, got
    # link.get is a LINK like the list entries, plus impair.
    entry = listed(d, b, "e1")
    assert entry["impair"] == got["impair"], entry
    assert set(got) == set(entry) and got["ifindex"] == entry["ifindex"], (got, entry)
    # Links without impairment: no impair in the list, {} in link.get.
    assert "impair" not in listed(d, a, "lo")
    assert d.call("link.get", {"netns": a, "name": "lo"})["impair"] == {}
    d.stop()


@test
def rate_on_a_host_end():
    """peer.impair on the host end of a veth: tbf in the host"""
    d = Daemon()
    ns, host = uniq("n"), uniq("h")
    d.call("netns.add", {"name": ns})
    d.call("link.add", {"netns": ns, "name": "eth0", "kind": "veth",
                        "peer": {"name": host, "impair": {"rate_kbit": 300}}})
    assert tbf_rate(qdisc(host)) == 300 * 125
    assert d.call("link.get", {"name": host})["impair"] == {"rate_kbit": 300}
    assert d.call("link.get", {"netns": ns, "name": "eth0"})["impair"] == {}
    d.call("link.delete", {"netns": ns, "name": "eth0"})
    assert not link_exists(host)
    d.stop()


@test
def set_changes_in_place_and_removes():
    """link.set impair: replaced in place (same handle), null and {} remove it"""
    d = Daemon()
    a, b, _ = pair(d, {"rate_kbit": RATE_KBIT})
    before = qdisc("e0", a)
    r = d.call("link.set", {"netns": a, "name": "e0", "impair": {"rate_kbit": 5000}})
    assert r["impair"] == {"rate_kbit": 5000}, r
    after = qdisc("e0", a)
    assert tbf_rate(after) == 5000 * 125, after
    assert after["handle"] == before["handle"], "the tbf was recreated, not changed: %s %s" % (
        before, after)
    # Other changes in the same call still apply.
    r = d.call("link.set", {"netns": a, "name": "e0", "mtu": 1400, "impair": {"rate_kbit": 64}})
    assert r["mtu"] == 1400 and r["impair"] == {"rate_kbit": 64}, r
    assert tbf_rate(qdisc("e0", a)) == 64 * 125
    r = d.call("link.set", {"netns": a, "name": "e0", "impair": None})
    assert "impair" not in r, r
    assert qdisc("e0", a)["kind"] == "noqueue", qdisc("e0", a)
    assert d.call("link.get", {"netns": a, "name": "e0"})["impair"] == {}
    d.call("link.set", {"netns": a, "name": "e0", "impair": {"rate_kbit": 100}})
    d.call("link.set", {"netns": a, "name": "e0", "impair": {}})
    assert qdisc("e0", a)["kind"] == "noqueue"
    # Removing what is not there is fine.
    d.call("link.set", {"netns": a, "name": "e0", "impair": {}})
    # Gone from the stored doc too: a restart brings nothing back.
    d.stop()
    d.start()
    assert qdisc("e0", a)["kind"] == "noqueue"
    assert d.call("link.get", {"netns": a, "name": "e0"})["impair"] == {}
    d.stop()


@test
def failed_set_puts_the_impairment_back():
    """link.set impair with a change the kernel refuses: the old tbf is back, doc unchanged"""
    d = Daemon()
    a, b, _ = pair(d, {"rate_kbit": RATE_KBIT})
    # lo is no bridge: the kernel refuses it as a master, after the impairment was applied.
    e = d.expect_error("link.set", {"netns": a, "name": "e0", "master": "lo",
                                    "impair": {"rate_kbit": 64}})
    assert e.code > 0, e.error  # the kernel refused it (EOPNOTSUPP)
    assert tbf_rate(qdisc("e0", a)) == RATE_KBIT * 125, qdisc("e0", a)
    # Without an impairment before, none after.
    e = d.expect_error("link.set", {"netns": b, "name": "e1", "master": "lo",
                                    "impair": {"rate_kbit": 64}})
    assert qdisc("e1", b)["kind"] == "noqueue", qdisc("e1", b)
    d.stop()
    run(["tc", "-n", a, "qdisc", "del", "dev", "e0", "root"])
    d.start()
    assert tbf_rate(qdisc("e0", a)) == RATE_KBIT * 125, "the stored doc changed"
    d.stop()


@test
def a_root_qdisc_of_someone_else_is_left_alone():
    """impair {} on a link whose root qdisc is not tbf/netem (htb by hand) leaves it"""
    d = Daemon()
    a, b, _ = pair(d)
    run(["tc", "-n", a, "qdisc", "add", "dev", "e0", "root", "handle", "1:", "htb"])
    assert d.call("link.get", {"netns": a, "name": "e0"})["impair"] == {}
    d.call("link.set", {"netns": a, "name": "e0", "impair": {}})
    assert qdisc("e0", a)["kind"] == "htb"
    # Asking for a rate replaces it: the link is netnsd's.
    d.call("link.set", {"netns": a, "name": "e0", "impair": {"rate_kbit": 800}})
    assert tbf_rate(qdisc("e0", a)) == 800 * 125
    d.stop()


@test
def kernel_view_wins_over_the_stored_doc():
    """a tbf changed by hand with tc: link.get reports the kernel's rate"""
    d = Daemon()
    a, b, _ = pair(d, {"rate_kbit": RATE_KBIT})
    run(["tc", "-n", a, "qdisc", "replace", "dev", "e0", "root", "tbf", "rate", "3mbit",
         "burst", "16k", "latency", "50ms"])
    assert d.call("link.get", {"netns": a, "name": "e0"})["impair"] == {"rate_kbit": 3000}
    assert listed(d, a, "e0")["impair"] == {"rate_kbit": 3000}
    d.stop()


@test
def change_is_a_link_event():
    """link.set impair: a link change event carries the new impair, then none"""
    d = Daemon()
    a, b, _ = pair(d)
    c = d.client()
    c.call("events.subscribe", {"topics": ["link"], "netns": a})
    d.call("link.set", {"netns": a, "name": "e0", "impair": {"rate_kbit": 700}})
    d.call("link.set", {"netns": a, "name": "e0", "impair": None})
    seen = []
    c.sock.settimeout(10)
    while len(seen) < 2:
        m = c.recv()
        assert m is not None, "connection closed"
        p = m["params"]
        if p["action"] == "change" and p["link"]["name"] == "e0":
            imp = p["link"].get("impair")
            if not seen or seen[-1] != imp:
                seen.append(imp)
    assert seen == [{"rate_kbit": 700}, None], seen
    c.close()
    d.stop()


# ---- persistence -----------------------------------------------------------------------------

def restart_keeps(sig):
    d = Daemon()
    a, b, _ = pair(d, {"rate_kbit": RATE_KBIT}, {"rate_kbit": 400})
    d.call("link.set", {"netns": a, "name": "e0", "impair": {"rate_kbit": 1500}})
    handle = qdisc("e0", a)["handle"]
    d.stop(sig)
    d.start()
    q = qdisc("e0", a)
    assert tbf_rate(q) == 1500 * 125 and q["handle"] == handle, q
    assert tbf_rate(qdisc("e1", b)) == 400 * 125
    assert d.call("link.get", {"netns": a, "name": "e0"})["impair"] == {"rate_kbit": 1500}
    failed = d.call("daemon.info")["restore"]["failed"]
    assert not failed, failed
    # Removed by hand while netnsd was down: the stored impairment comes back.
    d.stop(sig)
    run(["tc", "-n", b, "qdisc", "del", "dev", "e1", "root"])
    d.start()
    assert tbf_rate(qdisc("e1", b)) == 400 * 125
    d.stop()


@test
def restart_after_sigterm_keeps_impairments():
    """SIGTERM, start: the same tbf (same handle), read back; removed by hand: restored"""
    restart_keeps(signal.SIGTERM)


@test
def restart_after_kill9_keeps_impairments():
    """kill -9, start: the same tbf (same handle), read back; removed by hand: restored"""
    restart_keeps(signal.SIGKILL)


@test
def reboot_restores_impairments():
    """simulated reboot: namespaces and links recreated, tbf on both ends again"""
    d = Daemon()
    a, b, _ = pair(d, {"rate_kbit": RATE_KBIT}, {"rate_kbit": 250}, addresses=True)
    d.kill9()
    for ns in (a, b):
        run(["ip", "netns", "del", ns])
    d.start()
    assert tbf_rate(qdisc("e0", a)) == RATE_KBIT * 125
    assert tbf_rate(qdisc("e1", b)) == 250 * 125
    assert d.call("link.get", {"netns": b, "name": "e1"})["impair"] == {"rate_kbit": 250}
    info = d.call("daemon.info")["restore"]
    assert not info["failed"], info["failed"]
    assert ("link", a + "/e0") in {(o["kind"], o["name"]) for o in info["recreated"]}, info
    ping = subprocess.run(["ip", "netns", "exec", a, "ping", "-c1", "-W2", "10.9.0.2"],
                          capture_output=True)
    assert ping.returncode == 0, "no traffic through the restored, rate-limited link"
    d.stop()


# ---- a measured rate limit -------------------------------------------------------------------

SERVER = r"""
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
n, t0 = 0, None
while True:
    b = c.recv(65536)
    if not b:
        break
    if t0 is None:
        t0 = time.monotonic()
    n += len(b)
print(n, time.monotonic() - t0, flush=True)
"""

CLIENT = r"""
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
s.sendall(b"x" * int(sys.argv[3]))
s.close()
"""


def transfer(src, dst, addr, nbytes, port=5201):
    """Send nbytes over TCP from namespace src to addr in dst; bits per second as received."""
    srv = subprocess.Popen(["ip", "netns", "exec", dst, sys.executable, "-c", SERVER, addr,
                            str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert srv.stdout.readline().strip() == "ready"
        run(["ip", "netns", "exec", src, sys.executable, "-c", CLIENT, addr, str(port),
             str(nbytes)], timeout=120)
        out, _ = srv.communicate(timeout=120)
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
    n, secs = out.split()
    assert int(n) == nbytes, (n, nbytes)
    return int(n) * 8 / max(float(secs), 1e-6)


@test
def measured_rate_limit():
    """TCP through a 1 mbit/s tbf: below 2 mbit/s, over 10x slower than unlimited"""
    d = Daemon()
    a, b, _ = pair(d, addresses=True)
    free = transfer(a, b, "10.9.0.2", 20_000_000)
    d.call("link.set", {"netns": a, "name": "e0", "impair": {"rate_kbit": RATE_KBIT}})
    limited = transfer(a, b, "10.9.0.2", 300_000, port=5202)
    print("# unlimited %.1f Mbit/s, limited to %d kbit/s: %.3f Mbit/s (%.0fx slower)" % (
        free / 1e6, RATE_KBIT, limited / 1e6, free / limited))
    assert limited < 2 * RATE_KBIT * 1000, "%.0f bit/s through a %d kbit/s limit" % (
        limited, RATE_KBIT)
    assert free > 10 * limited, "the limit barely slows the transfer: %.0f vs %.0f bit/s" % (
        free, limited)
    d.stop()


# ---- netem -----------------------------------------------------------------------------------

def ping_rtts(ns, addr, count=5):
    p = subprocess.run(["ip", "netns", "exec", ns, "ping", "-c", str(count), "-i", "0.2", "-W",
                        "3", addr], capture_output=True, text=True)
    return [float(x) for x in re.findall(r"time=([0-9.]+) ms", p.stdout)]


@test
def delay_read_back_and_measured():
    """netem delay 50 ms on both ends: read back, ping RTT >= 100 ms"""
    need_netem()
    d = Daemon()
    imp = {"delay_ms": 50}
    a, b, reply = pair(d, imp, imp, addresses=True)
    assert reply["impair"] == imp, reply
    q = qdisc("e0", a)
    assert q["kind"] == "netem", q
    assert d.call("link.get", {"netns": b, "name": "e1"})["impair"] == imp
    rtts = ping_rtts(a, "10.9.0.2")
    assert rtts and min(rtts) >= 100, rtts
    d.stop()


@test
def every_netem_member_reads_back():
    """delay, jitter, loss, duplicate, reorder, corrupt and a rate: one netem, read back"""
    need_netem()
    d = Daemon()
    imp = {"delay_ms": 20, "jitter_ms": 5, "loss_pct": 1.5, "duplicate_pct": 2,
           "reorder_pct": 25, "corrupt_pct": 0.5, "rate_kbit": 10000}
    a, b, _ = pair(d, imp)
    q = qdisc("e0", a)
    assert q["kind"] == "netem", q
    assert d.call("link.get", {"netns": a, "name": "e0"})["impair"] == imp
    # Dropping members drops them in the kernel too (netem keeps what is not sent).
    d.call("link.set", {"netns": a, "name": "e0", "impair": {"delay_ms": 20}})
    assert d.call("link.get", {"netns": a, "name": "e0"})["impair"] == {"delay_ms": 20}
    # netem -> tbf -> netem -> none.
    d.call("link.set", {"netns": a, "name": "e0", "impair": {"rate_kbit": 500}})
    assert qdisc("e0", a)["kind"] == "tbf"
    d.call("link.set", {"netns": a, "name": "e0", "impair": {"loss_pct": 10}})
    assert qdisc("e0", a)["kind"] == "netem"
    assert d.call("link.get", {"netns": a, "name": "e0"})["impair"] == {"loss_pct": 10}
    d.call("link.set", {"netns": a, "name": "e0", "impair": {}})
    assert qdisc("e0", a)["kind"] == "noqueue"
    d.stop()


@test
def loss_drops_packets():
    """netem loss 100 %: no ping gets through; removed: it does again"""
    need_netem()
    d = Daemon()
    a, b, _ = pair(d, addresses=True)
    assert ping_rtts(a, "10.9.0.2", 1)
    d.call("link.set", {"netns": a, "name": "e0", "impair": {"loss_pct": 100}})
    assert ping_rtts(a, "10.9.0.2", 3) == []
    d.call("link.set", {"netns": a, "name": "e0", "impair": None})
    assert ping_rtts(a, "10.9.0.2", 1)
    d.stop()


@test
def netem_survives_a_reboot():
    """simulated reboot: netem delay recreated and measured again"""
    need_netem()
    d = Daemon()
    a, b, _ = pair(d, {"delay_ms": 60}, addresses=True)
    d.kill9()
    for ns in (a, b):
        run(["ip", "netns", "del", ns])
    d.start()
    assert d.call("link.get", {"netns": a, "name": "e0"})["impair"] == {"delay_ms": 60}
    rtts = ping_rtts(a, "10.9.0.2", 3)
    assert rtts and min(rtts) >= 60, rtts
    d.stop()


# ---- a kernel without netem ------------------------------------------------------------------

def unsupported(e, field):
    assert e.code == 10 and e.kind == "unsupported" and e.field == field, e.error
    assert "netem" in e.error["message"], e.error


@test
def unsupported_netem_on_set_changes_nothing():
    """no sch_netem: link.set delay is error 10; the tbf and the stored doc stay as they were"""
    need_no_netem()
    d = Daemon()
    a, b, _ = pair(d, {"rate_kbit": RATE_KBIT})
    before = qdisc("e0", a)
    e = d.expect_error("link.set", {"netns": a, "name": "e0", "up": False,
                                    "impair": {"delay_ms": 10, "rate_kbit": 64}})
    unsupported(e, "impair")
    assert qdisc("e0", a) == before, (before, qdisc("e0", a))
    assert d.call("link.get", {"netns": a, "name": "e0"})["up"] is True, "up was changed"
    # The stored doc still says 1000 kbit/s: remove the qdisc by hand, restart, it is back.
    d.stop()
    run(["tc", "-n", a, "qdisc", "del", "dev", "e0", "root"])
    d.start()
    assert tbf_rate(qdisc("e0", a)) == RATE_KBIT * 125
    d.stop()


@test
def unsupported_netem_on_add_makes_nothing():
    """no sch_netem: link.add with impair or peer.impair netem is error 10; no link at all"""
    need_no_netem()
    d = Daemon()
    a, b = uniq("n"), uniq("n")
    d.call("netns.add", {"name": a})
    d.call("netns.add", {"name": b})
    for params, field in (
            ({"impair": {"loss_pct": 1}}, "impair"),
            ({"peer": {"name": "e1", "netns": b, "impair": {"delay_ms": 5}},
              "impair": {"rate_kbit": 100}}, "peer.impair")):
        p = {"netns": a, "name": "e0", "kind": "veth", "peer": {"name": "e1", "netns": b}}
        p.update(params)
        e = d.expect_error("link.add", p)
        unsupported(e, field)
        assert not link_exists("e0", a) and not link_exists("e1", b), "half a veth is left"
        assert listed(d, a, "e0") is None
    # Nothing was stored: a restart recreates nothing.
    d.stop()
    d.start()
    assert not link_exists("e0", a) and not link_exists("e1", b)
    d.stop()


# ---- bad input ---------------------------------------------------------------------------------

@test
def bad_impair_names_the_field():
    """negative, over 100 %, jitter/reorder without delay, unknown member, wrong types"""
    d = Daemon()
    a, b, _ = pair(d, {"rate_kbit": RATE_KBIT})
    before = qdisc("e0", a)
    cases = [
        ({"delay_ms": -1}, "impair.delay_ms"),
        ({"delay_ms": 60001}, "impair.delay_ms"),
        ({"loss_pct": 100.5}, "impair.loss_pct"),
        ({"duplicate_pct": -3}, "impair.duplicate_pct"),
        ({"corrupt_pct": "5%"}, "impair.corrupt_pct"),
        ({"jitter_ms": 10}, "impair.jitter_ms"),
        ({"reorder_pct": 10}, "impair.reorder_pct"),
        ({"rate_kbit": 1.5}, "impair.rate_kbit"),
        ({"rate_kbit": -1}, "impair.rate_kbit"),
        ({"rate": "1mbit"}, "impair.rate"),
        ("1mbit", "impair"),
        ([], "impair"),
    ]
    for imp, field in cases:
        e = d.expect_error("link.set", {"netns": a, "name": "e0", "impair": imp})
        assert e.code == -32602 and e.kind == "invalid" and e.field == field, (imp, e.error)
        e = d.expect_error("link.add", {"netns": a, "name": "x0", "kind": "veth",
                                        "peer": {"name": "x1"}, "impair": imp})
        assert e.code == -32602 and e.field == field, (imp, e.error)
        e = d.expect_error("link.add", {"netns": a, "name": "x0", "kind": "veth",
                                        "peer": {"name": "x1", "impair": imp}})
        assert e.code == -32602 and e.field == "peer." + field, (imp, e.error)
    assert qdisc("e0", a) == before
    assert not link_exists("x0", a) and not link_exists("x1", a)
    e = d.expect_error("link.set", {"netns": a, "name": "e0", "move_to": b,
                                    "impair": {"rate_kbit": 1}})
    assert e.code == -32602 and e.field == "impair", e.error
    e = d.expect_error("link.get", {"netns": a, "name": "nope0"})
    assert e.code == 1 and e.kind == "not_found" and e.field == "name", e.error
    e = d.expect_error("link.get", {"netns": a})
    assert e.code == -32602 and e.field == "name", e.error
    e = d.expect_error("link.get", {"netns": a, "name": "e0", "impair": {}})
    assert e.code == -32602 and e.field == "impair", e.error
    d.stop()


@test
def move_resets_the_impairment():
    """link.set move_to: the kernel drops the qdisc; so does the stored doc"""
    d = Daemon()
    a, b, _ = pair(d, {"rate_kbit": RATE_KBIT})
    c = uniq("n")
    d.call("netns.add", {"name": c})
    d.call("link.set", {"netns": a, "name": "e0", "move_to": c})
    assert d.call("link.get", {"netns": c, "name": "e0"})["impair"] == {}
    d.call("link.set", {"netns": c, "name": "e0", "impair": {"rate_kbit": 128}})
    d.stop()
    d.start()
    assert tbf_rate(qdisc("e0", c)) == 128 * 125
    d.stop()


if __name__ == "__main__":
    raise SystemExit(main())
