#!/usr/bin/env python3
"""Integration tests of resumable events: events.subscribe {since, instance}.

A subscriber records the daemon-global cursor (gseq) of the last event it
saw, disconnects, and resubscribes with it: it must get exactly the events
it missed, in order, without duplicates, then live ones.  A live subscriber
that never disconnected is the reference for "exactly", and the kernel's
own view (`ip -j link`) for what the replayed events describe.  A cursor
older than the ring is told how many events it lost (a "gap" event and the
reply's "lost"); one from before a daemon restart is told it is stale.

Every test filters on namespaces of its own (the machine is shared, so
host-wide events of others come and go).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from netnsd_test import (NETNSCTL, Client, Daemon, RpcError, TOP_SRCDIR, ip_json,  # noqa: E402
                         main, test, tmpdir, uniq, wait_for)

FOLLOW = os.path.join(TOP_SRCDIR, "contrib", "clients", "netnsd-follow.py")


def new_daemon(*args):
    return Daemon("--runtime-dir", os.path.join(tmpdir(), "run"), *args)


def daemon_with_ns(tag, *args):
    """A fresh netnsd (options args) and a namespace of ours in it."""
    d = new_daemon(*args)
    ns = uniq(tag)
    d.call("netns.add", {"name": ns})
    return d, ns


class Sub:
    """One connection with one subscription; events checked as they come."""

    def __init__(self, d, params, rcvbuf=None):
        self.c = Client(d.socket)
        if rcvbuf:
            self.c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.events = []
        self.c.send({"jsonrpc": "2.0", "id": 1, "method": "events.subscribe", "params": params})
        while True:
            m = json.loads(self.c.recv_line())
            assert "id" in m, "an event before the subscribe reply: %r" % m
            break
        if "error" in m:
            self.c.close()
            raise RpcError(m["error"])
        self.reply = m["result"]
        self.sid = self.reply["subscription"]
        for k in ("instance", "gseq"):
            assert k in self.reply, self.reply
        assert isinstance(self.reply["instance"], str) and len(self.reply["instance"]) == 32

    def close(self):
        self.c.close()

    def pump(self, timeout):
        self.c.sock.settimeout(timeout)
        try:
            line = self.c.recv_line()
        except socket.timeout:
            return False
        assert line is not None, "netnsd closed the connection"
        m = json.loads(line)
        assert m.get("method") == "event", m
        e = m["params"]
        assert e["subscription"] == self.sid
        assert e["seq"] == len(self.events) + 1, "seq %d after %d" % (e["seq"], len(self.events))
        self.events.append(e)
        return True

    def until(self, pred, timeout=20.0, what="?"):
        deadline = time.time() + timeout
        i = 0
        while True:
            while i < len(self.events):
                if pred(self.events[i]):
                    return self.events[i]
                i += 1
            if time.time() > deadline:
                raise AssertionError("no event %s; last: %r" % (what, self.events[-3:]))
            self.pump(min(1.0, deadline - time.time()))

    def drain(self, quiet=0.5):
        while self.pump(quiet):
            pass

    def stream(self):
        """The daemon-stream events (those with a gseq): gseq must rise strictly."""
        out = [e for e in self.events if "gseq" in e]
        g = [e["gseq"] for e in out]
        assert g == sorted(set(g)), "gseq not strictly rising: %r" % g
        return out


def body(e):
    """An event without its per-subscription members, for comparing two subscribers' copies."""
    return {k: v for k, v in e.items() if k not in ("subscription", "seq")}


def link_event(ns, name, action):
    return lambda e: (e["topic"] == "link" and e["netns"] == ns and e["action"] == action and
                      e["link"]["name"] == name)


def replay_links(events):
    """Link names alive after applying link new/del events in order."""
    alive = set()
    for e in events:
        if e["topic"] == "link":
            (alive.discard if e["action"] == "del" else alive.add)(e["link"]["name"])
    return alive


def away_after(d, ns, link):
    """A subscriber sees link made in ns, then goes away: its cursor (last gseq, instance)."""
    a = Sub(d, {"netns": ns})
    d.call("link.add", {"netns": ns, "name": link, "kind": "bridge"})
    a.until(link_event(ns, link, "new"), what=link + " new")
    a.drain(0.3)
    cursor = a.stream()[-1]["gseq"], a.reply["instance"]
    a.close()
    return cursor


@test
def test_resume_exact():
    """reconnect with since = last gseq: exactly the missed events, in order, then live ones"""
    d = new_daemon()
    ns, other = uniq("rs"), uniq("ro")
    d.call("netns.add", {"name": ns})
    d.call("netns.add", {"name": other})
    ref = Sub(d, {"netns": ns})  # never disconnects: the reference
    a = Sub(d, {"netns": ns, "topics": ["link", "addr", "netns"]})
    d.call("link.add", {"netns": ns, "name": "br0", "kind": "bridge"})
    a.until(link_event(ns, "br0", "new"), what="br0 new")
    a.drain(0.3)
    last = a.stream()[-1]["gseq"]
    instance = a.reply["instance"]
    a.close()
    # Missed while away: changes in ns, and in another namespace (filtered out).
    for i in range(1, 6):
        d.call("link.add", {"netns": ns, "name": "br%d" % i, "kind": "bridge", "up": True})
        d.call("link.add", {"netns": other, "name": "x%d" % i, "kind": "bridge"})
    d.call("link.delete", {"netns": ns, "name": "br2"})
    d.call("addr.add", {"netns": ns, "dev": "br1", "address": "10.77.0.1/24"})
    ref.until(link_event(ns, "br2", "del"), what="br2 del")
    ref.drain(0.5)
    b = Sub(d, {"netns": ns, "topics": ["link", "addr", "netns"], "since": last,
                "instance": instance})
    assert b.reply["lost"] == 0, b.reply
    assert b.reply["instance"] == instance
    b.until(link_event(ns, "br2", "del"), what="replayed br2 del")
    b.drain(0.5)
    ref.drain(0.3)
    # The replayed part: up to the cursor of b's reply (later ones are live for both).
    top = b.reply["gseq"]
    want = [body(e) for e in ref.stream()
            if last < e["gseq"] <= top and e["topic"] in ("link", "addr", "netns")]
    got = [body(e) for e in b.stream() if e["gseq"] <= top]
    assert not [e for e in b.events if e["topic"] == "daemon"], "a gap where none was lost"
    assert got == want, "replay differs:\n got %r\nwant %r" % (
        [(e["gseq"], e["topic"], e["action"]) for e in got],
        [(e["gseq"], e["topic"], e["action"]) for e in want])
    assert all(e["netns"] == ns for e in got), "the netns filter was not applied to the replay"
    assert got[0]["gseq"] > last and all(e["gseq"] <= b.reply["gseq"] for e in got)
    # What the events say is what the kernel has.
    seen = replay_links([e for e in a.events if e["topic"] == "link"] + got)
    kernel = {l["ifname"] for l in ip_json("link", netns=ns)} - {"lo"}
    assert seen == kernel, (seen, kernel)
    # Then live events follow on, with the next gseq.
    d.call("link.add", {"netns": ns, "name": "br9", "kind": "bridge"})
    e = b.until(link_event(ns, "br9", "new"), what="live br9")
    assert e["gseq"] > b.reply["gseq"] and "snapshot" not in e
    b.stream()
    for s in (b, ref):
        s.close()
    info = d.call("daemon.info")["events"]
    assert info["instance"] == instance and info["gseq"] >= e["gseq"], info
    assert info["replayed"] >= len(got) and info["ring"]["max_events"] == 4096, info


@test
def test_ring_overflow():
    """a cursor older than the ring: a gap event says exactly how many daemon events are gone"""
    d, ns = daemon_with_ns("rv", "--event-ring", "16")
    ref = Sub(d, {"netns": ns})
    last, instance = away_after(d, ns, "br0")
    for i in range(1, 15):
        d.call("link.add", {"netns": ns, "name": "br%d" % i, "kind": "bridge"})
    ref.until(link_event(ns, "br14", "new"))
    ref.drain(0.5)
    b = Sub(d, {"netns": ns, "since": last, "instance": instance})
    lost = b.reply["lost"]
    assert isinstance(lost, int) and lost > 0, b.reply
    b.drain(0.5)
    gap = b.events[0]
    assert (gap["topic"], gap["action"], gap["lost"], gap["reason"]) == \
        ("daemon", "gap", lost, "ring"), gap
    assert "gseq" not in gap
    # Exactly the events after the lost ones: the reference's, from since + lost + 1 on.
    ref.drain(0.3)
    top = b.reply["gseq"]
    # Exactly the events after the lost ones: the reference's, from since + lost + 1 on.
    # (Host-wide events of a busy machine fill the ring too, so this may be few.)
    want = [body(e) for e in ref.stream() if last + lost < e["gseq"] <= top]
    got = [body(e) for e in b.stream() if e["gseq"] <= top]
    assert got == want, ([e["gseq"] for e in got], [e["gseq"] for e in want])
    info = d.call("daemon.info")["events"]["ring"]
    assert info["events"] == 16 and info["max_events"] == 16, info
    # The full ring held the 16 events before the reply, so exactly these were lost.
    assert top - (last + lost) == 16, (b.reply, lost)
    # With initial_state a subscriber that lost events gets the snapshot instead.
    c = Sub(d, {"netns": ns, "since": last, "instance": instance, "initial_state": True})
    c.until(lambda e: e["topic"] == "daemon" and e["action"] == "snapshot_end")
    assert c.events[0]["action"] == "gap" and c.events[0]["lost"] >= lost
    snap = c.events[1:-1]
    assert snap and all(e.get("snapshot") is True and "gseq" not in e for e in snap), snap[:2]
    names = {e["link"]["name"] for e in snap if e["topic"] == "link"}
    assert names == {l["ifname"] for l in ip_json("link", netns=ns)}, names
    for s in (b, c, ref):
        s.close()


@test
def test_ring_bytes():
    """an event bigger than --event-ring-bytes is never replayed: a gap covers it, later ones come"""
    d, ns = daemon_with_ns("rb", "--event-ring-bytes", "4096")
    ref = Sub(d, {"netns": ns})
    last, instance = away_after(d, ns, "k0")
    big = d.call("proc.spawn", {"netns": ns, "argv": ["true"] + ["a" * 200] * 30})
    ref.until(lambda e: e["topic"] == "proc" and e["action"] == "exited" and
              e["proc"]["id"] == big["id"], what="the big process's exit")
    d.call("link.add", {"netns": ns, "name": "k1", "kind": "bridge"})
    ref.until(link_event(ns, "k1", "new"))
    ref.drain(0.3)
    big_gseqs = [e["gseq"] for e in ref.stream() if e["topic"] == "proc"]
    b = Sub(d, {"netns": ns, "since": last, "instance": instance})
    assert b.reply["lost"] >= max(big_gseqs) - last, (b.reply, big_gseqs, last)
    # (Host-wide events of a busy machine may have pushed k1 out of so small a ring too.)
    b.drain(0.5)
    gap = b.events[0]
    assert gap["action"] == "gap" and gap["lost"] == b.reply["lost"], gap
    assert not [e for e in b.events if e["topic"] == "proc"], "a too big event was replayed"
    top = b.reply["gseq"]
    assert [body(e) for e in b.stream() if e["gseq"] <= top] == \
        [body(e) for e in ref.stream() if last + b.reply["lost"] < e["gseq"] <= top]
    ring = d.call("daemon.info")["events"]["ring"]
    assert 1 <= ring["events"] and 0 < ring["bytes"] <= 4096 == ring["max_bytes"], ring
    for x in (b, ref):
        x.close()


@test
def test_stale_after_restart():
    """a cursor from before a daemon restart: told it is stale (lost null), never a wrong replay"""
    d, ns = daemon_with_ns("rr")
    last, instance = away_after(d, ns, "br0")
    d.restart()
    # The new daemon publishes events of its own; a gseq alone would look valid.
    d.call("link.add", {"netns": ns, "name": "br1", "kind": "bridge"})
    b = Sub(d, {"netns": ns, "since": last, "instance": instance})
    assert b.reply["instance"] != instance and b.reply["lost"] is None, b.reply
    b.until(lambda e: e["topic"] == "daemon")
    gap = b.events[0]
    assert (gap["action"], gap["lost"], gap["reason"]) == ("gap", None, "restart"), gap
    b.drain(0.3)
    assert b.stream() == [], "events replayed from a cursor of another instance"
    b.close()
    c = Sub(d, {"netns": ns, "since": last, "instance": instance, "initial_state": True})
    c.until(lambda e: e["topic"] == "daemon" and e["action"] == "snapshot_end")
    assert c.events[0]["action"] == "gap" and c.events[0]["reason"] == "restart"
    names = {e["link"]["name"] for e in c.events if e["topic"] == "link" and e.get("snapshot")}
    assert names == {"lo", "br0", "br1"}, names
    c.close()


@test
def test_bad_params():
    """since and instance go together; a cursor ahead of the daemon is invalid"""
    d = new_daemon()
    inst = d.call("daemon.info")["events"]["instance"]
    gseq = d.call("daemon.info")["events"]["gseq"]
    cases = [({"since": 0}, "instance"), ({"instance": inst}, "since"),
             ({"since": -1, "instance": inst}, "since"),
             ({"since": "1", "instance": inst}, "since"),
             ({"since": gseq + 1000, "instance": inst}, "since"),
             ({"since": 0, "instance": ""}, "instance"),
             ({"since": 0, "instance": 5}, "instance")]
    for params, field in cases:
        try:
            Sub(d, params).close()
            raise AssertionError("events.subscribe(%r) succeeded" % params)
        except RpcError as e:
            assert (e.code, e.kind, e.field) == (-32602, "invalid", field), (params, e)
    # A valid resume from 0 of this instance: everything this daemon published (ring holds it).
    s = Sub(d, {"since": 0, "instance": inst, "topics": ["daemon"]})
    assert s.reply["lost"] == 0
    s.until(lambda e: e["action"] == "ready", what="the replayed ready event")
    assert s.events[0]["gseq"] == 1 and s.events[0]["action"] == "ready", s.events[0]
    s.close()


@test
def test_replay_paced():
    """a replay larger than the backlog limit arrives whole to a slow reader: no overflow, no gap"""
    d, ns = daemon_with_ns("rp", "--event-backlog-bytes", "65536")
    last, instance = away_after(d, ns, "m0")
    c = Client(d.socket)
    try:
        for i in range(1, 121):
            c.send({"jsonrpc": "2.0", "id": i, "method": "link.add",
                    "params": {"netns": ns, "name": "m%d" % i, "kind": "bridge"}})
        for i in range(1, 121):
            assert "result" in c.recv(), i
    finally:
        c.close()
    live = Sub(d, {"netns": ns})
    b = Sub(d, {"netns": ns, "since": last, "instance": instance}, rcvbuf=4096)
    time.sleep(1)  # let the replay hit the backlog limit while nobody reads
    b.until(link_event(ns, "m120", "new"), timeout=60)
    d.call("link.add", {"netns": ns, "name": "after", "kind": "bridge"})
    b.until(link_event(ns, "after", "new"))
    live.until(link_event(ns, "after", "new"))
    assert not [e for e in b.events if e["topic"] == "daemon"], \
        [e for e in b.events if e["topic"] == "daemon"][:2]
    got = b.stream()
    nbytes = sum(len(json.dumps(e)) for e in got)
    assert nbytes > 65536, "the replay was too small to test pacing: %d bytes" % nbytes
    assert replay_links(got) | {"m0"} == {l["ifname"] for l in ip_json("link", netns=ns)} - {"lo"}
    # Live events after the replay are the ones the live subscriber got, no more, no less.
    assert [body(e) for e in got if e["gseq"] > b.reply["gseq"]] == \
        [body(e) for e in live.stream() if e["gseq"] > b.reply["gseq"]]
    for s in (b, live):
        s.close()


@test
def test_contrib_follow():
    """contrib/clients/netnsd-follow.py prints what it missed while stopped, once, then resyncs"""
    d, ns = daemon_with_ns("rf")
    cursor = os.path.join(tmpdir(), "cursor.json")
    cmd = [sys.executable, FOLLOW, "--socket", d.socket, "--cursor", cursor, "--netns", ns,
           "--topics", "link", "--idle-exit", "1.5"]

    def links(out):
        return [(e["action"], e["link"]["name"]) for e in map(json.loads, out.splitlines())
                if e["topic"] == "link" and e["action"] in ("new", "del")]

    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: os.path.exists(cursor), timeout=20), "no cursor written"
    d.call("link.add", {"netns": ns, "name": "f1", "kind": "bridge"})
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert ("new", "f1") in links(out), out
    saved = json.load(open(cursor))
    # While it is stopped.
    d.call("link.add", {"netns": ns, "name": "f2", "kind": "bridge"})
    d.call("link.add", {"netns": ns, "name": "f3", "kind": "bridge"})
    d.call("link.delete", {"netns": ns, "name": "f1"})
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    assert links(out.stdout) == [("new", "f2"), ("new", "f3"), ("del", "f1")], out.stdout
    assert all(e["gseq"] > saved["gseq"] for e in map(json.loads, out.stdout.splitlines()))
    # After a restart of netnsd the cursor is stale: said on stderr, and --resync lists the state.
    d.restart()
    out = subprocess.run(cmd + ["--resync"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "restarted" in out.stderr, out.stderr
    snap = {e["link"]["name"] for e in map(json.loads, out.stdout.splitlines())
            if e["topic"] == "link" and e.get("snapshot")}
    assert snap == {l["ifname"] for l in ip_json("link", netns=ns)}, (snap, out.stdout[-500:])
    assert json.load(open(cursor))["instance"] != saved["instance"]


def monitor_until(d, args, want, timeout=30):
    """netnsctl monitor ARGS until a line contains want; its lines and its exit status."""
    p = subprocess.Popen([NETNSCTL, "--socket", d.socket] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    out = []
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            out.append(line.rstrip("\n"))
            if want in line:
                break
    finally:
        p.send_signal(signal.SIGTERM)
        rest, err = p.communicate(timeout=30)
    return out + rest.splitlines(), p.returncode, err


@test
def test_netnsctl_monitor_since():
    """netnsctl monitor --since INSTANCE:GSEQ prints the missed events, then a gap after a restart"""
    d, ns = daemon_with_ns("rm")
    last, instance = away_after(d, ns, "q0")
    d.call("link.add", {"netns": ns, "name": "q1", "kind": "bridge"})
    d.call("link.delete", {"netns": ns, "name": "q0"})
    cursor = "%s:%d" % (instance, last)
    out, rc, err = monitor_until(d, ["--json", "monitor", "link", "-n", ns, "--since", cursor],
                                 '"del"')
    assert rc == 0, err
    evs = [json.loads(l) for l in out]
    got = [(e["action"], e["link"]["name"]) for e in evs if e["action"] in ("new", "del")]
    assert got == [("new", "q1"), ("del", "q0")], out
    assert all(e["gseq"] > last for e in evs), evs
    out, rc, err = monitor_until(d, ["monitor", "link", "-n", ns, "--since", cursor], "q0")
    assert rc == 0 and "[link] new    %s: q1" % ns in out[0] and "[link] del" in out[-1], out
    for bad in ("nocolon", ":5", instance + ":x", instance + ":-1"):
        p = subprocess.run([NETNSCTL, "--socket", d.socket, "monitor", "--since", bad],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 2 and "--since" in p.stderr, (bad, p)
    d.restart()
    out, rc, err = monitor_until(d, ["monitor", "-n", ns, "--since", cursor], "gap")
    assert rc == 0 and out and "[daemon] gap" in out[0] and "netnsd restarted" in out[0], out


if __name__ == "__main__":
    sys.exit(main())
