#!/usr/bin/env python3
"""Integration tests of events.subscribe: live events from the kernel, filters,
initial state, ordering, and flow control under bursts.

Every event that reaches a test is checked as it arrives (Sub._check): the
envelope (subscription, seq, RFC 3339 time, topic, action, netns, the object
member its topic names) and the seq rule: each subscription counts from 1
without gaps or repeats, except that an "overflow" event skips exactly the
"lost" numbers before it.  Changes are made through netnsd and with `ip`
directly; the kernel's own view (`ip -j`) is the reference for what the
events, snapshots and lists must describe.

The machine is shared: other tests make and remove namespaces and host links
at the same time, so predicates always name the object they wait for, and
host-wide comparisons look only at objects carrying this process's prefix.
Links inside our own namespaces use short plain names; the names avoid `ip`
keyword prefixes (`a`, `up` …).
"""

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from netnsd_test import (Client, Daemon, PREFIX, RpcError, ip_json, main,  # noqa: E402
                         netns_mounted, test, uniq, wait_for)

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
# topic -> the member holding the object (None: no object).
MEMBER = {"netns": "namespace", "link": "link", "addr": "addr", "route": "route",
          "neigh": "neigh", "proc": "proc", "daemon": None}
# Members of a link that the kernel may change on its own between two reads.
VOLATILE = ("operstate", "carrier")
ANY = object()

_daemon = None


def daemon():
    """The netnsd with default limits that most tests here share."""
    global _daemon
    if _daemon is None or not _daemon.alive():
        _daemon = Daemon()
    return _daemon


class Sub:
    """A connection that holds event subscriptions.

    Replies are kept by id, events in arrival order in self.events; every
    event is checked on arrival and a violation raises AssertionError at once.
    """

    def __init__(self, d, params=None, extra=b"", rcvbuf=None):
        self.c = Client(d.socket)
        if rcvbuf:
            self.c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.events = []
        self.replies = {}
        self.last = {}        # subscription -> last seq seen
        self.ended = set()    # subscriptions unsubscribed on this connection
        self.sid = None
        if params is not None:
            self.sid = self.subscribe(params, extra)

    def close(self):
        self.c.close()

    def send(self, method, params=None, extra=b""):
        rid = self.c.next_id
        self.c.next_id += 1
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.c.send_raw(json.dumps(msg).encode() + b"\n" + extra)
        return rid

    def subscribe(self, params, extra=b""):
        """Subscribe (extra: bytes sent in the same write, after the request)."""
        first_new = len(self.events)
        rid = self.send("events.subscribe", params, extra)
        resp = self.reply(rid)
        if "error" in resp:
            raise RpcError(resp["error"])
        sid = resp["result"]["subscription"]
        assert isinstance(sid, int) and sid >= 1, resp
        # The cursor of resumable events comes along (test_events_replay.py).
        assert resp["result"]["subscription"] == sid, resp
        assert set(resp["result"]) == {"subscription", "instance", "gseq"}, resp
        assert not [e for e in self.events[first_new:] if e["subscription"] == sid], \
            "events of subscription %d arrived before its reply" % sid
        self.last[sid] = 0
        return sid

    def unsubscribe(self, sid):
        rid = self.send("events.unsubscribe", {"subscription": sid})
        resp = self.reply(rid)
        if "error" in resp:
            raise RpcError(resp["error"])
        assert resp["result"] == {"subscription": sid}, resp
        # Events queued before the reply were legitimate; none may follow it.
        self.last.pop(sid, None)
        self.ended.add(sid)

    def call(self, method, params=None):
        resp = self.reply(self.send(method, params))
        if "error" in resp:
            raise RpcError(resp["error"])
        return resp["result"]

    def reply(self, rid, timeout=20.0):
        deadline = time.time() + timeout
        while rid not in self.replies:
            if time.time() > deadline:
                raise AssertionError("no reply to request %r within %.0f s" % (rid, timeout))
            self.pump(deadline - time.time())
        return self.replies.pop(rid)

    def pump(self, timeout):
        """Read one message; False when none came within timeout.  EOFError at EOF."""
        self.c.sock.settimeout(max(timeout, 0.001))
        try:
            line = self.c.recv_line()
        except socket.timeout:
            return False
        if line is None:
            raise EOFError("netnsd closed the connection")
        self.handle(line)
        return True

    def parse_buffered(self):
        """Handle every complete line already received (see Reader)."""
        while b"\n" in self.c.buf:
            line, self.c.buf = self.c.buf.split(b"\n", 1)
            self.handle(line)

    def handle(self, line):
        msg = json.loads(line)
        assert isinstance(msg, dict) and msg.get("jsonrpc") == "2.0", msg
        if "id" in msg:
            assert "method" not in msg, msg
            self.replies[msg["id"]] = msg
            return
        assert msg.get("method") == "event", "unexpected notification %r" % msg
        self._check(msg["params"])
        self.events.append(msg["params"])

    def _check(self, e):
        for k in ("subscription", "seq", "time", "topic", "action", "netns"):
            assert k in e, "event without %r: %r" % (k, e)
        sid = e["subscription"]
        assert sid not in self.ended, "event for ended subscription %d: %r" % (sid, e)
        assert sid in self.last, "event for unknown subscription %r: %r" % (sid, e)
        assert isinstance(e["seq"], int), e
        assert isinstance(e["time"], str) and RFC3339.match(e["time"]), \
            "time is not RFC 3339: %r" % e["time"]
        assert e["topic"] in MEMBER, e
        assert isinstance(e["action"], str) and e["action"], e
        assert e["netns"] is None or isinstance(e["netns"], str), e
        member = MEMBER[e["topic"]]
        if member:
            obj = e.get(member)
            assert isinstance(obj, dict), "%s event without its %r object: %r" % (
                e["topic"], member, e)
            if e["topic"] == "netns":
                assert obj.get("name") == e["netns"], e
            elif "netns" in obj:
                assert obj["netns"] == e["netns"], e
        if "snapshot" in e:
            assert e["snapshot"] is True and e["action"] == "new", e
        last = self.last[sid]
        if e["topic"] == "daemon" and e["action"] == "overflow":
            lost = e.get("lost")
            assert isinstance(lost, int) and lost >= 1, e
            assert e["seq"] == last + lost + 1, \
                "overflow says %d lost but seq went from %d to %d" % (lost, last, e["seq"])
        else:
            assert e["seq"] == last + 1, "subscription %d: seq %d after %d (%s/%s %s)" % (
                sid, e["seq"], last, e["topic"], e["action"], e["netns"])
        self.last[sid] = e["seq"]

    def mark(self):
        return len(self.events)

    def wait(self, pred, since=0, timeout=15.0, what=None):
        """The first event from index since on that satisfies pred (reading as needed)."""
        deadline = time.time() + timeout
        i = since
        while True:
            while i < len(self.events):
                if pred(self.events[i]):
                    return self.events[i]
                i += 1
            left = deadline - time.time()
            if left <= 0:
                tail = ["%s/%s %s %s" % (e["topic"], e["action"], e["netns"], name_of(e))
                        for e in self.events[since:][-15:]]
                raise AssertionError("no event %s within %.0f s; last ones: %s" % (
                    what or getattr(pred, "what", "?"), timeout, tail))
            self.pump(min(left, 1.0))

    def drain(self, duration):
        """Read whatever arrives within duration."""
        deadline = time.time() + duration
        while time.time() < deadline:
            self.pump(deadline - time.time())

    def after(self, since, pred):
        return [e for e in self.events[since:] if pred(e)]


class Reader(threading.Thread):
    """Reads a Sub's socket as fast as possible into memory, parsed later."""

    def __init__(self, sub):
        super().__init__(daemon=True)
        self.sub = sub
        self.chunks = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.eof = False

    def run(self):
        sock = self.sub.c.sock
        sock.settimeout(0.1)
        while not self.stopping.is_set():
            try:
                chunk = sock.recv(1 << 20)
            except socket.timeout:
                continue
            if not chunk:
                self.eof = True
                return
            with self.lock:
                self.chunks.append(chunk)

    def seen(self, needle):
        with self.lock:
            data = b"".join(self.chunks)
            self.chunks = [data]
        return needle in data

    def finish(self):
        self.stopping.set()
        self.join()
        self.sub.c.buf += b"".join(self.chunks)
        self.chunks = []
        self.sub.parse_buffered()


def ev(topic, action=None, netns=ANY, **fields):
    """A predicate on events: topic, action, namespace and members of the object."""
    member = MEMBER[topic]

    def pred(e):
        if e["topic"] != topic or (action and e["action"] != action):
            return False
        if netns is not ANY and e["netns"] != netns:
            return False
        obj = e.get(member) or {} if member else {}
        return all(obj.get(k) == v for k, v in fields.items())
    pred.what = "%s/%s in %s %s" % (topic, action or "*", "any" if netns is ANY else netns,
                                   fields)
    return pred


def name_of(e):
    m = MEMBER.get(e["topic"])
    o = e.get(m) or {} if m else {}
    return o.get("name") or o.get("address") or o.get("dst") or e.get("lost") or ""


def strip(obj, drop=VOLATILE):
    return {k: v for k, v in obj.items() if k not in drop}


def diff_objects(what, got, want, drop=VOLATILE):
    """A description of how an event's object differs from the list entry, or None."""
    if want is None:
        return "%s: no list entry to compare with" % what
    g, w = strip(got, drop), strip(want, drop)
    if g == w:
        return None
    keys = [k for k in sorted(set(g) | set(w)) if g.get(k, ANY) != w.get(k, ANY)]
    return "%s: event %s != list %s" % (what, {k: g.get(k, "<absent>") for k in keys},
                                       {k: w.get(k, "<absent>") for k in keys})


def ip(*args, netns=None, check=True, input=None):
    cmd = ["ip"] + (["-n", netns] if netns else []) + list(args)
    return subprocess.run(cmd, check=check, capture_output=True, text=True, input=input)


def ip_batch(netns, lines):
    p = ip("-batch", "-", netns=netns, check=False, input="\n".join(lines) + "\n")
    assert p.returncode == 0, "ip -batch failed: %s" % p.stderr[-500:]


def kernel_links(netns):
    return {l["ifname"] for l in ip_json("link", netns=netns)}


def kernel_link(netns, name):
    for l in ip_json("link", "show", "dev", name, netns=netns):
        return l
    return None


def kernel_addrs(netns):
    return {(l["ifname"], "%s/%d" % (a["local"], a["prefixlen"]))
            for l in ip_json("addr", netns=netns) for a in l.get("addr_info", [])}


TABLES = {"main": 254, "local": 255, "default": 253}


def kernel_routes4(netns):
    """IPv4 routes outside the local table, as (dst, table, dev, via)."""
    out = set()
    for r in ip_json("-4", "route", "show", "table", "all", netns=netns):
        t = r.get("table", "main")
        t = TABLES[t] if t in TABLES else int(t)
        if t == 255:
            continue
        dst = r["dst"]
        if dst != "default" and "/" not in dst:
            dst += "/32"
        out.add((dst, t, r.get("dev"), r.get("gateway")))
    return out


def view_routes4(routes):
    return {(r["dst"], r["table"], r.get("dev"), r.get("via")) for r in routes
            if r["family"] == "inet"}


def listed(items, **fields):
    for x in items:
        if all(x.get(k) == v for k, v in fields.items()):
            return x
    return None


def new_ns(d):
    name = uniq("n")
    d.call("netns.add", {"name": name})
    return name


def snapshot(d, netns, topics=None):
    """The snapshot events of a fresh initial_state subscription filtered to netns."""
    params = {"netns": netns, "initial_state": True}
    if topics:
        params["topics"] = topics
    s = Sub(d, params)
    try:
        end = s.wait(ev("daemon", "snapshot_end"))
        return [e for e in s.events[:s.events.index(end)]]
    finally:
        s.close()


# --- 1, 2, 3: events for every kind of change ---

@test
def events_for_changes_made_by_netnsd():
    """netns/link/addr/route add, set and delete through netnsd each produce their event"""
    d = daemon()
    s = Sub(d, {})
    c = d.client()
    ns, host = uniq("n"), uniq("h")
    problems = []
    try:
        c.call("netns.add", {"name": ns})
        e = s.wait(ev("netns", "new", ns))
        assert e["namespace"]["managed"] is True and e["namespace"]["mounted"] is True, e
        assert isinstance(e["namespace"].get("inode"), int), e
        assert netns_mounted(ns)
        listed_ns = c.call("netns.get", {"name": ns})
        assert e["namespace"]["inode"] == listed_ns["inode"], (e, listed_ns)

        m = s.mark()
        added = c.call("link.add", {"netns": ns, "name": "v0", "kind": "veth",
                                    "peer": {"name": host}})
        e_v0 = s.wait(ev("link", "new", ns, name="v0"), m)
        e_host = s.wait(ev("link", "new", None, name=host), m)
        assert e_v0["link"]["ifindex"] == added["ifindex"], (e_v0, added)
        # The kernel announces a new link before netnsd marked it (ifalias) and
        # a veth end before its peer exists; netnsd reads such links again
        # and sends "change" events, so the events converge on the list.
        host_entry = listed(c.call("link.list", {})["links"], name=host)
        for what, netns_, name, want in (("link v0", ns, "v0", added),
                                         ("link host peer", None, host, host_entry)):
            try:
                s.wait(lambda e: e["topic"] == "link" and e["netns"] == netns_ and
                       e["link"]["name"] == name and not diff_objects("", e["link"], want),
                       m, timeout=5)
            except AssertionError:
                last = [e for e in s.events[m:] if e["topic"] == "link" and
                        e["netns"] == netns_ and e["link"]["name"] == name]
                problems.append(diff_objects(what + " (last event)", last[-1]["link"], want))

        m = s.mark()
        c.call("addr.add", {"netns": ns, "dev": "v0", "address": "10.9.0.1/24"})
        e = s.wait(ev("addr", "new", ns, address="10.9.0.1/24"), m)
        assert e["addr"]["dev"] == "v0" and e["addr"]["family"] == "inet", e
        entry = listed(c.call("addr.list", {"netns": ns, "dev": "v0"})["addresses"],
                       address="10.9.0.1/24")
        problems.append(diff_objects("addr/new", e["addr"], entry, ()))

        m = s.mark()
        setr = c.call("link.set", {"netns": ns, "name": "v0", "up": True})
        e = s.wait(ev("link", "change", ns, name="v0", up=True), m)
        problems.append(diff_objects("link/change v0", e["link"], setr))

        m = s.mark()
        c.call("route.add", {"netns": ns, "dst": "10.10.0.0/24", "via": "10.9.0.2"})
        e = s.wait(ev("route", "new", ns, dst="10.10.0.0/24"), m)
        assert e["route"]["via"] == "10.9.0.2" and e["route"]["managed"] is True, e
        entry = listed(c.call("route.list", {"netns": ns})["routes"], dst="10.10.0.0/24")
        problems.append(diff_objects("route/new", e["route"], entry, ()))

        m = s.mark()
        c.call("link.delete", {"netns": ns, "name": "v0"})
        e = s.wait(ev("link", "del", ns, name="v0"), m)
        assert e["link"]["ifindex"] == added["ifindex"], e
        s.wait(ev("link", "del", None, name=host), m)
        assert "v0" not in kernel_links(ns)

        m = s.mark()
        c.call("netns.delete", {"name": ns})
        e = s.wait(ev("netns", "del", ns), m)
        assert e["namespace"]["mounted"] is False, e
        assert not netns_mounted(ns)
    finally:
        c.close()
        s.close()
    problems = [p for p in problems if p]
    assert not problems, "event objects differ from what the lists say:\n  " + \
        "\n  ".join(problems)


@test
def events_for_changes_made_with_ip():
    """links, addresses and routes changed with `ip` in a managed namespace and the host"""
    d = daemon()
    ns = new_ns(d)
    s = Sub(d, {})
    br, hv, hw = uniq("b"), uniq("v"), uniq("w")
    try:
        m = s.mark()
        ip("link", "add", "name", "ea", "type", "veth", "peer", "name", "eb", netns=ns)
        ea = s.wait(ev("link", "new", ns, name="ea"), m)["link"]
        eb = s.wait(ev("link", "new", ns, name="eb"), m)["link"]
        assert ea["kind"] == "veth" and ea["managed"] is False, ea
        assert ea["ifindex"] == kernel_link(ns, "ea")["ifindex"]
        assert eb["ifindex"] == kernel_link(ns, "eb")["ifindex"]

        m = s.mark()
        ip("link", "set", "ea", "up", netns=ns)
        s.wait(ev("link", "change", ns, name="ea", up=True), m)
        ip("addr", "add", "10.1.0.1/24", "dev", "ea", netns=ns)
        e = s.wait(ev("addr", "new", ns, address="10.1.0.1/24"), m)
        assert e["addr"]["dev"] == "ea" and e["addr"]["managed"] is False, e
        ip("route", "add", "10.2.0.0/24", "via", "10.1.0.2", netns=ns)
        e = s.wait(ev("route", "new", ns, dst="10.2.0.0/24"), m)
        assert e["route"]["via"] == "10.1.0.2" and e["route"]["dev"] == "ea", e
        assert e["route"]["managed"] is False, e

        m = s.mark()
        ip("addr", "del", "10.1.0.1/24", "dev", "ea", netns=ns)
        s.wait(ev("addr", "del", ns, address="10.1.0.1/24"), m)
        ip("link", "set", "ea", "down", netns=ns)
        s.wait(ev("link", "change", ns, name="ea", up=False), m)
        ip("link", "set", "eb", "mtu", "1400", netns=ns)
        s.wait(ev("link", "change", ns, name="eb", mtu=1400), m)
        ip("link", "del", "ea", netns=ns)
        s.wait(ev("link", "del", ns, name="ea"), m)
        s.wait(ev("link", "del", ns, name="eb"), m)

        # The host: a bridge and a veth of our own (prefixed), nothing else touched.
        m = s.mark()
        ip("link", "add", "name", br, "type", "bridge")
        s.wait(ev("link", "new", None, name=br, kind="bridge"), m)
        ip("link", "add", "name", hv, "type", "veth", "peer", "name", hw)
        s.wait(ev("link", "new", None, name=hv), m)
        s.wait(ev("link", "new", None, name=hw), m)
        ip("link", "set", hv, "master", br)
        s.wait(ev("link", "change", None, name=hv, master=br), m)
        ip("link", "set", br, "up")
        s.wait(ev("link", "change", None, name=br, up=True), m)
        ip("link", "del", hv)
        s.wait(ev("link", "del", None, name=hv), m)
        s.wait(ev("link", "del", None, name=hw), m)
        ip("link", "del", br)
        s.wait(ev("link", "del", None, name=br), m)
    finally:
        s.close()
        for n in (hv, br):
            ip("link", "del", n, check=False)
        d.call("netns.delete", {"name": ns})


@test
def namespaces_of_others_are_reported_once_mounted():
    """`ip netns add/del` and a late mount give netns/new (unmanaged, mounted) and netns/del"""
    d = daemon()
    s = Sub(d, {"topics": ["netns"]})
    name, late = uniq("o"), uniq("o")
    try:
        m = s.mark()
        ip("netns", "add", name)
        e = s.wait(ev("netns", "new", name), m)
        assert e["namespace"] == {"name": name, "managed": False, "mounted": True,
                                  "inode": os.stat("/run/netns/" + name).st_ino}, e
        ip("netns", "del", name)
        e = s.wait(ev("netns", "del", name), m)
        assert e["namespace"]["mounted"] is False and e["namespace"]["managed"] is False, e

        # What `ip netns add` does in two steps, with a pause between them: the
        # placeholder file alone is not a namespace.
        m = s.mark()
        fd = os.open("/run/netns/" + late, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0)
        os.close(fd)
        s.drain(0.3)
        assert not s.after(m, ev("netns", netns=late)), \
            "an unmounted placeholder was reported: %r" % s.after(m, ev("netns", netns=late))
        p = subprocess.run(["unshare", "--net=/run/netns/" + late, "true"],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        e = s.wait(ev("netns", "new", late), m)
        assert netns_mounted(late), "netns/new came before /run/netns/%s was mounted" % late
        assert e["namespace"]["mounted"] is True and e["namespace"]["managed"] is False, e
        assert len(s.after(m, ev("netns", "new", late))) == 1
        ip("netns", "del", late)
        s.wait(ev("netns", "del", late), m)
    finally:
        s.close()
        for n in (name, late):
            ip("netns", "del", n, check=False)


# --- 4: filters and the subscription's lifetime ---

@test
def topic_filter():
    """topics ["addr"] receives addr events only"""
    d = daemon()
    ns = new_ns(d)
    s = Sub(d, {"topics": ["addr"]})
    everything = Sub(d, {"netns": ns})
    try:
        ip("link", "add", "name", "fa", "type", "veth", "peer", "name", "fb", netns=ns)
        ip("link", "set", "fa", "up", netns=ns)
        ip("addr", "add", "10.3.0.1/24", "dev", "fa", netns=ns)
        ip("addr", "add", "10.3.1.1/24", "dev", "fa", netns=ns)
        s.wait(ev("addr", "new", ns, address="10.3.0.1/24"))
        s.wait(ev("addr", "new", ns, address="10.3.1.1/24"))
        # The same changes did make link and route events for an unfiltered subscriber.
        everything.wait(ev("addr", "new", ns, address="10.3.1.1/24"))
        assert everything.after(0, ev("link", netns=ns))
        assert everything.after(0, ev("route", netns=ns))
        s.drain(0.2)
        wrong = [e for e in s.events if e["topic"] not in ("addr", "daemon")]
        assert not wrong, "topics [addr] got %r" % wrong[:3]
    finally:
        s.close()
        everything.close()
        d.call("netns.delete", {"name": ns})


@test
def netns_filter():
    """netns NAME receives events of that namespace only"""
    d = daemon()
    a, b = new_ns(d), new_ns(d)
    s = Sub(d, {"netns": a})
    everything = Sub(d, {})
    other, hostlink = uniq("o"), uniq("b")
    try:
        ip("link", "add", "name", "xb", "type", "veth", "peer", "name", "yb", netns=b)
        ip("netns", "add", other)
        ip("link", "add", "name", hostlink, "type", "bridge")
        ip("link", "add", "name", "xa", "type", "veth", "peer", "name", "ya", netns=a)
        everything.wait(ev("link", "new", b, name="xb"))
        everything.wait(ev("netns", "new", other))
        everything.wait(ev("link", "new", None, name=hostlink))
        s.wait(ev("link", "new", a, name="xa"))
        s.wait(ev("link", "new", a, name="ya"))
        s.drain(0.2)
        wrong = [e for e in s.events if e["netns"] != a and e["topic"] != "daemon"]
        assert not wrong, "netns %s got %r" % (a, wrong[:3])
    finally:
        s.close()
        everything.close()
        ip("netns", "del", other, check=False)
        ip("link", "del", hostlink, check=False)
        for n in (a, b):
            d.call("netns.delete", {"name": n})


@test
def subscribe_bad_params():
    """unknown topics and malformed filters are -32602 naming the field"""
    c = daemon().client()
    try:
        for params, field in (({"topics": ["bogus"]}, "topics.0"),
                              ({"topics": ["link", "links"]}, "topics.1"),
                              ({"topics": "link"}, "topics"),
                              ({"topics": [1]}, "topics.0"),
                              ({"netns": "../x"}, "netns"),
                              ({"initial_state": 1}, "initial_state"),
                              ({"bogus": True}, "bogus")):
            e = c.expect_error("events.subscribe", params)
            assert e.code == -32602 and e.field == field, (params, e.error)
        for params, field in (({}, "subscription"), ({"subscription": 0}, "subscription"),
                              ({"subscription": "1"}, "subscription")):
            e = c.expect_error("events.unsubscribe", params)
            assert e.code == -32602 and e.field == field, (params, e.error)
        # None of them subscribed: the connection gets replies only.
        assert c.call("daemon.ping") == {"pong": True}
    finally:
        c.close()


@test
def unsubscribe_stops_events():
    """after events.unsubscribe no event of that subscription arrives; others go on"""
    d = daemon()
    ns = new_ns(d)
    a = Sub(d, {"netns": ns})
    a2 = a.subscribe({"netns": ns, "topics": ["link"]})
    b = Sub(d, {"netns": ns})
    try:
        ip("link", "add", "name", "ua", "type", "veth", "peer", "name", "ub", netns=ns)
        a.wait(lambda e: e["subscription"] == a.sid and ev("link", "new", ns, name="ua")(e))
        a.unsubscribe(a.sid)
        m_a, m_b = a.mark(), b.mark()
        ip("link", "set", "ua", "mtu", "1300", netns=ns)
        b.wait(ev("link", "change", ns, name="ua", mtu=1300), m_b)
        a.wait(ev("link", "change", ns, name="ua", mtu=1300), m_a)
        a.drain(0.5)  # Sub._check fails on any event of the ended subscription
        assert all(e["subscription"] == a2 for e in a.events[m_a:])

        a.unsubscribe(a2)
        m_a, m_b = a.mark(), b.mark()
        ip("link", "set", "ua", "mtu", "1280", netns=ns)
        b.wait(ev("link", "change", ns, name="ua", mtu=1280), m_b)
        a.drain(0.5)
        assert a.events[m_a:] == [], a.events[m_a:]
        assert a.call("daemon.ping") == {"pong": True}
    finally:
        a.close()
        b.close()
        d.call("netns.delete", {"name": ns})


@test
def unsubscribe_unknown_is_not_found():
    """an unknown id, or another connection's subscription, is not_found"""
    d = daemon()
    a, b = Sub(d, {"topics": ["netns"]}), Sub(d, {"topics": ["netns"]})
    try:
        for sid in (b.sid, b.sid + 1000000, a.sid + 1000000):
            try:
                a.call("events.unsubscribe", {"subscription": sid})
            except RpcError as e:
                assert e.code == 1 and e.kind == "not_found", e.error
            else:
                raise AssertionError("unsubscribe of %d succeeded on the wrong connection" % sid)
        a.unsubscribe(a.sid)
        try:
            a.call("events.unsubscribe", {"subscription": a.sid})
            raise AssertionError("a second unsubscribe succeeded")
        except RpcError as e:
            assert e.code == 1 and e.kind == "not_found", e.error
        # b's subscription is intact.
        name = uniq("o")
        ip("netns", "add", name)
        b.wait(ev("netns", "new", name))
        ip("netns", "del", name)
    finally:
        a.close()
        b.close()


@test
def closing_the_connection_ends_its_subscriptions():
    """subscription limits: 16 per connection, --max-subscriptions overall, freed on close"""
    d = Daemon("--max-subscriptions", "3")
    x = Sub(d, {})
    x.subscribe({"topics": ["link"]})
    y = Sub(d, {"topics": ["netns"]})
    try:
        try:
            y.subscribe({})
            raise AssertionError("a 4th subscription was accepted with --max-subscriptions 3")
        except RpcError as e:
            assert e.code == 8 and e.kind == "limit", e.error
        x.close()
        sid = wait_for(lambda: _try_subscribe(y, {"topics": ["netns"]}), timeout=10)
        assert sid, "closing a connection did not free its subscriptions"
        assert _try_subscribe(y, {})
        name = uniq("o")
        ip("netns", "add", name)
        y.wait(lambda e: e["subscription"] == sid and ev("netns", "new", name)(e))
        ip("netns", "del", name)
        assert d.alive() and d.call("daemon.ping") == {"pong": True}
    finally:
        y.close()
        d.stop()

    # Per connection: 16.
    z = Sub(daemon())
    try:
        for _ in range(16):
            z.subscribe({"topics": ["proc"]})
        try:
            z.subscribe({"topics": ["proc"]})
            raise AssertionError("a 17th subscription on one connection was accepted")
        except RpcError as e:
            assert e.code == 8 and e.kind == "limit", e.error
    finally:
        z.close()


def _try_subscribe(sub, params):
    try:
        return sub.subscribe(params)
    except RpcError as e:
        assert e.kind == "limit", e.error
        return None


# --- 5, 6: order and the initial state ---

@test
def seq_is_gap_free_over_a_burst():
    """300 link changes from `ip -batch` arrive in order, gap-free, final state right"""
    d = daemon()
    ns = new_ns(d)
    try:
        ip("link", "add", "name", "ta", "type", "veth", "peer", "name", "tb", netns=ns)
        s = Sub(d, {"netns": ns, "initial_state": True})
        end = s.wait(ev("daemon", "snapshot_end"))
        start = s.events.index(end)
        state = [e for e in s.events[:start] if ev("link", netns=ns, name="ta")(e)]
        assert len(state) == 1 and state[0]["link"]["up"] is False, state
        ip_batch(ns, ["link set ta %s" % ("up" if i % 2 == 0 else "down") for i in range(300)])
        ip("addr", "add", "10.0.0.1/32", "dev", "lo", netns=ns)   # marks the end
        s.wait(ev("addr", "new", ns, address="10.0.0.1/32"), start)
        s.drain(0.1)
        flips, up = 0, False
        for e in s.events[start:]:
            if ev("link", "change", ns, name="ta")(e) and e["link"]["up"] != up:
                flips, up = flips + 1, e["link"]["up"]
        assert not s.after(start, ev("daemon", "overflow")), "overflow at default limits"
        assert not s.after(start, ev("daemon", "resync")), "netnsd lost rtnetlink messages"
        assert flips == 300, "%d up/down changes reported, expected 300" % flips
        assert up is ("UP" in kernel_link(ns, "ta")["flags"]) and up is False
        s.close()
    finally:
        d.call("netns.delete", {"name": ns})


@test
def initial_state_then_live_events():
    """initial_state: reply, snapshot of what exists, snapshot_end, then live events once"""
    d = daemon()
    ns, host, other = uniq("n"), uniq("h"), uniq("o")
    c = d.client()
    try:
        c.call("netns.add", {"name": ns})
        c.call("link.add", {"netns": ns, "name": "v0", "kind": "veth", "peer": {"name": host}})
        c.call("addr.add", {"netns": ns, "dev": "v0", "address": "10.9.0.1/24"})
        c.call("link.set", {"netns": ns, "name": "v0", "up": True})
        c.call("route.add", {"netns": ns, "dst": "10.10.0.0/24", "via": "10.9.0.2"})
        ip("netns", "add", other)
        wait_for(lambda: netns_mounted(other))

        # A change pipelined in the same write as the subscribe request.
        change = json.dumps({"jsonrpc": "2.0", "id": "p1", "method": "link.set",
                             "params": {"netns": ns, "name": "v0", "mtu": 1400}}) + "\n"
        s = Sub(d, {"initial_state": True}, extra=change.encode())
        # ... and one made with `ip` as soon as the reply is in.
        ip("addr", "add", "10.9.0.77/24", "dev", "v0", netns=ns)
        end = s.wait(ev("daemon", "snapshot_end"))
        k = s.events.index(end)
        snap, live_start = s.events[:k], k + 1
        assert end["netns"] is None and "snapshot" not in end, end
        assert all(e.get("snapshot") is True for e in snap), \
            [e for e in snap if not e.get("snapshot")][:2]

        run_names = {n for n in os.listdir("/run/netns") if n.startswith(PREFIX)
                     and netns_mounted(n)}
        snap_ns = {e["netns"]: e["namespace"] for e in snap if e["topic"] == "netns"}
        assert {n for n in snap_ns if n.startswith(PREFIX)} == run_names, (snap_ns, run_names)
        assert snap_ns[ns]["managed"] is True and snap_ns[other]["managed"] is False

        links = {e["link"]["name"]: e["link"] for e in snap if ev("link", netns=ns)(e)}
        assert set(links) == kernel_links(ns), (set(links), kernel_links(ns))
        assert links["v0"]["mtu"] == 1500, "the snapshot holds a change made after it"
        assert [e for e in snap if ev("link", netns=None, name=host)(e)], "no host peer"
        addrs = {(e["addr"]["dev"], e["addr"]["address"]) for e in snap if ev("addr", netns=ns)(e)}
        want = kernel_addrs(ns) - {("v0", "10.9.0.77/24")}
        assert addrs == want, (addrs, want)
        routes = view_routes4([e["route"] for e in snap if ev("route", netns=ns)(e)])
        assert routes == kernel_routes4(ns), (routes, kernel_routes4(ns))

        assert s.reply("p1")["result"]["mtu"] == 1400
        s.wait(ev("link", "change", ns, name="v0", mtu=1400), live_start)
        s.wait(ev("addr", "new", ns, address="10.9.0.77/24"), live_start)
        s.drain(0.3)
        assert not [e for e in s.events[live_start:] if e.get("snapshot")]
        mtus, prev = [], 1500
        for i, e in enumerate(s.events):
            if ev("link", netns=ns, name="v0")(e) and e["link"]["mtu"] != prev:
                mtus.append(i)
                prev = e["link"]["mtu"]
        assert len(mtus) == 1 and mtus[0] >= live_start, \
            "the mtu change was reported at %r (snapshot_end at %d)" % (mtus, k)
        news = [i for i, e in enumerate(s.events) if ev("addr", netns=ns,
                                                         address="10.9.0.77/24")(e)]
        assert len(news) == 1 and news[0] >= live_start, (news, k)
        s.close()
    finally:
        c.close()
        ip("netns", "del", other, check=False)
        d.call("netns.delete", {"name": ns})


@test
def initial_state_with_a_topic_filter():
    """initial_state with topics ["link"]: a snapshot of links, snapshot_end, live links"""
    d = daemon()
    ns = new_ns(d)
    try:
        ip("link", "add", "name", "ia", "type", "veth", "peer", "name", "ib", netns=ns)
        ip("addr", "add", "10.4.0.1/24", "dev", "ia", netns=ns)
        s = Sub(d, {"netns": ns, "topics": ["link"], "initial_state": True})
        ip("link", "set", "ia", "mtu", "1400", netns=ns)
        end = s.wait(ev("daemon", "snapshot_end"), timeout=5,
                     what="daemon/snapshot_end (the end of the snapshot must be marked for a "
                          "subscriber whose topics do not include daemon)")
        k = s.events.index(end)
        assert all(e["topic"] == "link" and e.get("snapshot") for e in s.events[:k]), \
            s.events[:k]
        assert {e["link"]["name"] for e in s.events[:k]} == kernel_links(ns)
        s.wait(ev("link", "change", ns, name="ia", mtu=1400), k)
        s.close()
    finally:
        d.call("netns.delete", {"name": ns})


# --- 7, 8, 9: flow control and lost kernel messages ---

def toggles(dev, n, start_up=True):
    return ["link set %s %s" % (dev, "up" if (i % 2 == 0) == start_up else "down")
            for i in range(n)]


def hung_up(sock):
    p = select.poll()
    p.register(sock, select.POLLRDHUP)
    return any(ev_ & select.POLLRDHUP for _, ev_ in p.poll(0))


@test
def stuck_subscriber_is_cut_off():
    """a subscriber that never reads is disconnected; a fast one misses nothing"""
    d = Daemon("--event-backlog-bytes", "65536", "--event-stall-ms", "500")
    try:
        ns = d.call("netns.add", {"name": uniq("n")})["name"]
        ip("link", "add", "name", "sa", "type", "veth", "peer", "name", "sb", netns=ns)
        fast = Sub(d, {"netns": ns}, rcvbuf=1 << 20)
        stuck = Sub(d, {"netns": ns}, rcvbuf=4096)
        reader = Reader(fast)
        reader.start()
        n = 3000
        ip_batch(ns, toggles("sa", n))
        ip("addr", "add", "10.77.0.1/32", "dev", "lo", netns=ns)
        assert wait_for(lambda: reader.seen(b'"10.77.0.1/32"'), timeout=30), \
            "the fast subscriber did not see the end of the burst"
        reader.finish()
        assert not fast.after(0, ev("daemon", "overflow")), "the fast subscriber lost events"
        flips, up = 0, False
        for e in fast.events:
            if ev("link", "change", ns, name="sa")(e) and e["link"]["up"] != up:
                flips, up = flips + 1, e["link"]["up"]
        if not fast.after(0, ev("daemon", "resync")):
            assert flips == n, "fast subscriber: %d of %d changes" % (flips, n)
        assert up is ("UP" in kernel_link(ns, "sa")["flags"])

        assert wait_for(lambda: hung_up(stuck.c.sock), timeout=15), \
            "the stuck subscriber was not disconnected"
        eof = False
        try:
            while stuck.pump(5):
                pass
        except (EOFError, ConnectionResetError):
            eof = True
        assert eof, "the stuck subscriber's connection did not end"
        got = [e for e in stuck.events if e["topic"] != "daemon"]
        assert len(got) < len(fast.events), "the stuck subscriber got everything?"
        stuck.close()

        assert d.alive() and d.call("daemon.ping") == {"pong": True}
        fresh = Sub(d, {"netns": ns})
        ip("link", "set", "sa", "mtu", "1300", netns=ns)
        fresh.wait(ev("link", "change", ns, name="sa", mtu=1300))
        fresh.close()
        fast.close()
        d.call("netns.delete", {"name": ns})
    finally:
        d.stop()


@test
def overflow_then_recovery():
    """a subscriber that pauses gets an overflow event whose lost equals the seq gap"""
    d = Daemon("--event-backlog-bytes", "16384", "--event-stall-ms", "20000")
    try:
        ns = d.call("netns.add", {"name": uniq("n")})["name"]
        ip("link", "add", "name", "sa", "type", "veth", "peer", "name", "sb", netns=ns)
        slow = Sub(d, {"netns": ns, "topics": ["link", "daemon"]})
        marks = Sub(d, {"netns": ns, "topics": ["addr"]})
        n = 3000
        ip_batch(ns, toggles("sa", n))
        # Kernel messages of one namespace are handled in order: once the address
        # shows up, every link change before it has been published.
        ip("addr", "add", "10.88.0.1/32", "dev", "lo", netns=ns)
        marks.wait(ev("addr", "new", ns, address="10.88.0.1/32"), timeout=30)
        slow.drain(0.3)
        ip("link", "set", "sa", "mtu", "1400", netns=ns)
        last = slow.wait(ev("link", "change", ns, name="sa", mtu=1400), timeout=30)
        overflows = slow.after(0, ev("daemon", "overflow"))
        assert overflows, "no overflow event after a paused burst of %d changes" % n
        o = overflows[-1]
        assert o["netns"] is None and o["subscription"] == slow.sid, o
        i = slow.events.index(o)
        # Events go on right after it (late link messages of the kernel may come first).
        assert slow.events.index(last) > i and slow.events[i + 1]["seq"] == o["seq"] + 1
        total = slow.last[slow.sid]
        lost = sum(e["lost"] for e in overflows)
        assert total == len(slow.events) + lost, (total, len(slow.events), lost)
        assert last["link"]["up"] is ("UP" in kernel_link(ns, "sa")["flags"])
        # Not cut off: it resumed within the stall time.
        assert slow.call("daemon.ping") == {"pong": True}
        ip("link", "set", "sa", "mtu", "1500", netns=ns)
        slow.wait(ev("link", "change", ns, name="sa", mtu=1500), i)
        slow.close()
        marks.close()
        d.call("netns.delete", {"name": ns})
    finally:
        d.stop()


def apply_links(events, netns, names):
    """Apply link events of netns to names (ifindex -> name)."""
    for e in events:
        if e["topic"] == "link" and e["netns"] == netns:
            if e["action"] == "del":
                names.pop(e["link"]["ifindex"], None)
            else:
                names[e["link"]["ifindex"]] = e["link"]["name"]
    return names


@test
def lost_kernel_messages_are_resynced():
    """--monitor-rcvbuf 1024: a burst overruns the monitor; resync; the events add up"""
    d = Daemon("--monitor-rcvbuf", "1024")
    try:
        ns = d.call("netns.add", {"name": uniq("n")})["name"]
        s = Sub(d, {"netns": ns, "initial_state": True})
        s.wait(ev("daemon", "snapshot_end"))
        lines = ["link add name p%d type veth peer name q%d" % (i, i) for i in range(200)]
        lines += ["link del p%d" % i for i in range(0, 200, 2)]
        lines += ["link set q%d up" % i for i in range(1, 200, 4)]
        ip_batch(ns, lines)
        s.wait(ev("daemon", "resync", ns), timeout=30)
        want = kernel_links(ns)
        assert len(want) == 201, len(want)

        def converged():
            s.drain(0.2)
            return set(apply_links(s.events, ns, {}).values()) == want
        ok = wait_for(converged, timeout=15, interval=0)
        got = set(apply_links(s.events, ns, {}).values())
        assert ok, "events describe %d links; missing %s, extra %s" % (
            len(got), sorted(want - got)[:10], sorted(got - want)[:10])
        listed_names = {l["name"] for l in d.call("link.list", {"netns": ns})["links"]}
        assert listed_names == kernel_links(ns)

        # Messages queued before an overrun are older than the re-read that
        # follows it: a link added and deleted while netnsd is not reading must
        # not come back to life.
        m = s.mark()
        d.proc.send_signal(signal.SIGSTOP)
        try:
            ip("link", "add", "name", "gx", "type", "veth", "peer", "name", "gy", netns=ns)
            ip("link", "set", "q1", "mtu", "1300", netns=ns)
            ip("link", "del", "gx", netns=ns)
        finally:
            d.proc.send_signal(signal.SIGCONT)
        s.wait(ev("daemon", "resync", ns), m)
        s.wait(ev("link", "change", ns, name="q1", mtu=1300), m)
        s.drain(0.5)
        want = kernel_links(ns)
        got = set(apply_links(s.events, ns, {}).values())
        assert got == want, "after a resync the events describe extra %s, missing %s" % (
            sorted(got - want), sorted(want - got))
        snap = {e["link"]["name"] for e in snapshot(d, ns, ["link", "daemon"])
                if e["topic"] == "link"}
        assert snap == want, "netnsd's model: extra %s, missing %s" % (
            sorted(snap - want), sorted(want - snap))
        d.call("netns.delete", {"name": ns})
    finally:
        if d.alive():
            d.proc.send_signal(signal.SIGCONT)
        d.stop()


# --- 10: the model follows the kernel ---

@test
def link_deleted_with_ip_leaves_the_model():
    """`ip link del` of a netnsd link: link/del, gone from link.list and from the model"""
    d = daemon()
    ns = new_ns(d)
    try:
        d.call("link.add", {"netns": ns, "name": "m0", "kind": "veth", "up": True,
                            "peer": {"name": "m1", "netns": ns}})
        d.call("link.set", {"netns": ns, "name": "m1", "up": True})
        d.call("addr.add", {"netns": ns, "dev": "m0", "address": "10.5.0.1/24"})
        d.call("route.add", {"netns": ns, "dst": "10.6.0.0/24", "via": "10.5.0.2"})
        s = Sub(d, {"netns": ns})
        ip("link", "del", "m0", netns=ns)
        s.wait(ev("link", "del", ns, name="m0"))
        s.wait(ev("link", "del", ns, name="m1"))
        s.wait(ev("addr", "del", ns, address="10.5.0.1/24"))
        names = {l["name"] for l in d.call("link.list", {"netns": ns})["links"]}
        assert names == kernel_links(ns) == {"lo"}, names
        s.drain(0.3)

        # A new subscriber's snapshot is the model: it must match the kernel.
        snap = snapshot(d, ns)
        links = {e["link"]["name"] for e in snap if e["topic"] == "link"}
        addrs = {(e["addr"]["dev"], e["addr"]["address"]) for e in snap if e["topic"] == "addr"}
        routes = view_routes4([e["route"] for e in snap if e["topic"] == "route"])
        assert links == kernel_links(ns), links
        assert addrs == kernel_addrs(ns), (addrs, kernel_addrs(ns))
        assert routes == kernel_routes4(ns), \
            "routes the kernel removed with their link are still in netnsd's model " \
            "(and no route/del was sent: %r): %s" % (
                [name_of(e) for e in s.events if ev("route", "del")(e)],
                sorted(routes - kernel_routes4(ns)))
        s.close()
    finally:
        d.call("netns.delete", {"name": ns})


if __name__ == "__main__":
    sys.exit(main())
