#!/usr/bin/env python3
"""Integration tests of topologies (declarative labs): topology.plan, apply,
get, list, export and destroy against a real netnsd and the real kernel.

Every example lab in contrib/labs is applied with a prefix unique to this
test process, pinged end to end, applied again (nothing changes), changed
(one link out, one in: only those change, in the plan and in the kernel) and
destroyed (nothing left in /run/netns, `ip link` or the state).  A step the
kernel refuses rolls everything back to exactly the state before; a kill -9
in the middle of a 500-node apply leaves, after the restart, either the
whole topology or nothing of it; other clients are answered during a big
apply; bad documents are refused naming the path in the document.
"""

import copy
import json
import os
import select
import signal
import subprocess
import time

from netnsd_test import (PREFIX, TOP_SRCDIR, Daemon, RpcError, ip_json, ip_netns_names,
                         journal_state, main, run, test, tmpdir, wait_for)

LABS = os.path.join(TOP_SRCDIR, "contrib", "labs")
_tag = [0]


def prefix():
    """A fresh document prefix (at most 8 bytes): PREFIX and one letter."""
    _tag[0] += 1
    return PREFIX + "abcdefghjkmnpqrstuvwxyz"[_tag[0] % 23] + ("%d" % (_tag[0] // 23) if _tag[0] >= 23 else "")


def lab(name, pfx, **kw):
    with open(os.path.join(LABS, name)) as f:
        doc = json.load(f)
    doc["prefix"] = pfx
    doc["name"] = pfx + doc["name"]
    doc.update(kw)
    return doc


def gen(kind, n, pfx):
    out = run([os.path.join(LABS, "gen.py"), kind, str(n)]).stdout
    doc = json.loads(out)
    doc["prefix"] = pfx
    doc["name"] = pfx + doc["name"]
    return doc


def ping(netns, addr, tries=5):
    cmd = ["ip", "netns", "exec", netns, "ping", "-c1", "-W2", addr]
    for _ in range(tries):
        if subprocess.run(cmd, capture_output=True).returncode == 0:
            return True
        time.sleep(0.2)
    return False


def tagged(state, topo):
    """Keys of the objects of state that topology topo owns."""
    return {(c, k) for c, objs in state.items() for k, v in objs.items()
            if isinstance(v, dict) and v.get("topology") == topo}


def prefixed_namespaces(pfx):
    return sorted(n for n in ip_netns_names() if n.startswith(pfx))


def prefixed_host_links(pfx):
    return sorted(l["ifname"] for l in ip_json("link") if l["ifname"].startswith(pfx))


def kernel_view(pfx):
    """Names, addresses, masters of everything under the prefix (no ifindexes)."""
    view = {"netns": prefixed_namespaces(pfx), "host": prefixed_host_links(pfx)}
    for ns in view["netns"]:
        links = {}
        for l in ip_json("addr", netns=ns):
            links[l["ifname"]] = (l.get("operstate"), l.get("master"),
                                  sorted("%s/%d" % (a["local"], a["prefixlen"])
                                         for a in l.get("addr_info", [])
                                         if a.get("scope") != "link"))
        view[ns] = links
    return view


def daemon():
    """A netnsd with its own runtime directory too (it never adopts others' processes)."""
    return Daemon("--runtime-dir", os.path.join(tmpdir(), "run"))


def expect_error(d, method, params, kind, field=None):
    e = d.expect_error(method, params)
    assert e.kind == kind, "expected kind %s, got %s" % (kind, e)
    if field is not None:
        assert e.field == field, "expected field %s, got %s" % (field, e)
    return e


def gone(pfx):
    return not prefixed_namespaces(pfx) and not prefixed_host_links(pfx)


@test
def test_core_bridge_lab():
    """the seeds' CORE lab: apply, ping, again (no change), destroy (nothing left)"""
    d = daemon()
    pfx = prefix()
    doc = lab("core-bridge.json", pfx)
    plan = d.call("topology.plan", {"doc": doc})
    assert plan["create"] == 9 and plan["changed"] == 9, plan
    assert not prefixed_namespaces(pfx), "plan changed the kernel"
    r = d.call("topology.apply", {"doc": doc})
    assert r["changed"] == 9, r
    assert prefixed_namespaces(pfx) == [pfx + "n1", pfx + "n2"]
    br = pfx + "b.1.1"
    ports = sorted(l["ifname"] for l in ip_json("link", "show", "master", br))
    assert ports == [pfx + "n1.0.1", pfx + "n2.0.1"], ports
    assert ping(pfx + "n1", "10.0.0.2"), "n1 cannot ping n2 over the bridge"
    info = d.call("netns.get", {"name": pfx + "n1"})
    assert info.get("topology") == doc["name"], info
    tags = {l["name"]: l.get("topology") for l in d.call("link.list", {"netns": pfx + "n1"})["links"]}
    assert tags == {"lo": None, "eth0": doc["name"]}, tags
    addrs = d.call("addr.list", {"netns": pfx + "n1", "dev": "eth0"})["addresses"]
    assert [a.get("topology") for a in addrs if a["family"] == "inet"] == [doc["name"]], addrs

    r = d.call("topology.apply", {"doc": doc})
    assert r["changed"] == 0 and r["steps"] == [], r
    assert d.call("topology.plan", {"doc": doc})["changed"] == 0
    names = [t["name"] for t in d.call("topology.list")["topologies"]]
    assert doc["name"] in names, names
    got = d.call("topology.get", {"name": doc["name"]})
    assert len(got["objects"]["netns"]) == 2 and len(got["objects"]["link"]) == 5, got

    r = d.call("topology.destroy", {"name": doc["name"]})
    assert r["delete"] == 9, r
    assert wait_for(lambda: gone(pfx)), (prefixed_namespaces(pfx), prefixed_host_links(pfx))
    assert not tagged(journal_state(d), doc["name"])
    assert "topology" not in journal_state(d) or doc["name"] not in journal_state(d)["topology"]
    expect_error(d, "topology.get", {"name": doc["name"]}, "not_found", "name")
    d.stop()


@test
def test_blue_red_export_restart():
    """blue/red pair: ping, export re-applies to no change, survives a restart"""
    d = daemon()
    pfx = prefix()
    doc = lab("blue-red.json", pfx)
    d.call("topology.apply", {"doc": doc})
    assert ping(pfx + "blue", "10.1.1.2")
    exp = d.call("topology.export", {"name": doc["name"]})
    assert exp["doc"] == doc, exp
    assert d.call("topology.apply", {"doc": exp["doc"]})["changed"] == 0
    # Someone removes an address of the lab: the same document is a change again.
    d.call("addr.delete", {"netns": pfx + "red", "dev": "veth0", "address": "10.1.1.2/24"})
    plan = d.call("topology.plan", {"doc": doc})
    assert [(s["action"], s["key"]) for s in plan["steps"]] == \
        [("create", pfx + "red/veth0/10.1.1.2/24")], plan
    assert d.call("topology.apply", {"doc": doc})["changed"] == 1
    assert d.call("topology.plan", {"doc": doc})["changed"] == 0
    before = {l["ifname"]: l["ifindex"] for l in ip_json("link", netns=pfx + "blue")}
    d.restart()
    assert d.call("topology.plan", {"doc": doc})["changed"] == 0
    after = {l["ifname"]: l["ifindex"] for l in ip_json("link", netns=pfx + "blue")}
    assert before == after, (before, after)
    assert ping(pfx + "blue", "10.1.1.2")
    d.call("topology.destroy", {"name": doc["name"]})
    assert wait_for(lambda: gone(pfx))
    d.stop()


@test
def test_ring_routing_and_change():
    """100-node ring: 0 pings 50 over 50 routers; one link out, one in: only those change"""
    d = daemon()
    pfx = prefix()
    doc = gen("ring", 100, pfx)
    doc["links"].append({"ends": [
        {"node": "r0", "name": "eth2", "addresses": ["10.11.0.1/24"]},
        {"node": "r50", "name": "eth2", "addresses": ["10.11.0.2/24"]}]})
    r = d.call("topology.apply", {"doc": doc})
    assert r["create"] == 100 + 202 + 202 + 100, r
    assert ping(pfx + "r0", "10.10.49.2"), "r0 cannot reach r50 through the ring"
    assert d.call("topology.apply", {"doc": doc})["changed"] == 0

    keep = {ns: {l["ifname"]: l["ifindex"] for l in ip_json("link", netns=pfx + ns)}
            for ns in ("r0", "r50", "r10", "r60", "r99")}
    changed = copy.deepcopy(doc)
    changed["links"][-1] = {"ends": [
        {"node": "r10", "name": "eth2", "addresses": ["10.11.1.1/24"]},
        {"node": "r60", "name": "eth2", "addresses": ["10.11.1.2/24"]}]}
    plan = d.call("topology.plan", {"doc": changed})
    got = sorted((s["action"], s["kind"], s["key"]) for s in plan["steps"])
    want = sorted([("delete", "link", pfx + "r0/eth2"), ("delete", "link", pfx + "r50/eth2"),
                   ("delete", "addr", pfx + "r0/eth2/10.11.0.1/24"),
                   ("delete", "addr", pfx + "r50/eth2/10.11.0.2/24"),
                   ("create", "link", pfx + "r10/eth2"), ("create", "link", pfx + "r60/eth2"),
                   ("create", "addr", pfx + "r10/eth2/10.11.1.1/24"),
                   ("create", "addr", pfx + "r60/eth2/10.11.1.2/24")])
    assert got == want, got
    r = d.call("topology.apply", {"doc": changed})
    assert r["changed"] == 8, r
    now = {ns: {l["ifname"]: l["ifindex"] for l in ip_json("link", netns=pfx + ns)}
           for ns in ("r0", "r50", "r10", "r60", "r99")}
    for ns in ("r0", "r50"):
        assert "eth2" not in now[ns], now[ns]
        keep[ns].pop("eth2")
    for ns in ("r10", "r60"):
        assert "eth2" in now[ns], now[ns]
        now[ns].pop("eth2")
    assert keep == now, "links that did not change were touched: %r != %r" % (keep, now)
    assert ping(pfx + "r10", "10.11.1.2")
    assert ping(pfx + "r0", "10.10.49.2")
    d.call("topology.destroy", {"name": doc["name"]})
    assert wait_for(lambda: gone(pfx), timeout=30)
    assert not tagged(journal_state(d), doc["name"])
    d.stop()


@test
def test_kernel_refusal_rolls_back():
    """a step the kernel refuses (IPv6 on a node with IPv6 off) undoes the whole apply"""
    d = daemon()
    pfx = prefix()
    doc = lab("blue-red.json", pfx)
    d.call("topology.apply", {"doc": doc})
    state_before = journal_state(d)
    kernel_before = kernel_view(pfx)
    sub = d.client()
    sub.call("events.subscribe", {"topics": ["topology"]})

    bad = copy.deepcopy(doc)
    bad["links"][0]["ends"][1]["addresses"] = ["10.1.1.3/24"]  # a change: old address goes
    bad["nodes"].append({"name": "green", "sysctls": {"net.ipv6.conf.all.disable_ipv6": 1}})
    bad["links"].append({"ends": [
        {"node": "blue", "name": "veth2", "addresses": ["10.1.2.1/24"]},
        {"node": "green", "name": "veth0", "addresses": ["10.1.2.2/24", "fd00:1::2/64"]}]})
    plan = d.call("topology.plan", {"doc": bad})
    assert plan["changed"] > 0
    e = d.expect_error("topology.apply", {"doc": bad})
    assert e.field == "doc.links[1].ends[1].addresses[1]", e
    assert "fd00:1::2/64" in e.error["message"], e

    after = journal_state(d)
    assert after == state_before, "the state changed:\n%r\n%r" % (state_before, after)
    assert kernel_view(pfx) == kernel_before, (kernel_view(pfx), kernel_before)
    assert ping(pfx + "blue", "10.1.1.2")
    actions = []
    while "rolled_back" not in actions:
        m = sub.recv()
        assert m is not None, "no rolled_back event"
        if m.get("method") == "event" and m["params"]["topic"] == "topology":
            actions.append(m["params"]["action"])
    assert actions[0] == "started" and actions[-1] == "rolled_back", actions
    sub.close()
    d.call("topology.destroy", {"name": doc["name"]})
    assert wait_for(lambda: gone(pfx))
    d.stop()


def qdisc(netns, dev):
    out = run(["tc", "-n", netns, "-j", "qdisc", "show", "dev", dev]).stdout
    roots = [q for q in json.loads(out or "[]") if q.get("root")]
    return roots[0] if roots else None


@test
def test_impairments():
    """impair on a link end: a tbf rate limit in the kernel; netem missing rolls back"""
    d = daemon()
    pfx = prefix()
    doc = lab("blue-red.json", pfx)
    doc["links"][0]["ends"][0]["impair"] = {"rate_kbit": 2000}
    d.call("topology.apply", {"doc": doc})
    q = qdisc(pfx + "blue", "veth1")
    assert q and q["kind"] == "tbf", q
    assert ping(pfx + "blue", "10.1.1.2")
    assert d.call("topology.apply", {"doc": doc})["changed"] == 0
    # A new rate is applied in place: the same link, nothing else touched.
    idx = {l["ifname"]: l["ifindex"] for l in ip_json("link", netns=pfx + "blue")}
    doc["links"][0]["ends"][0]["impair"] = {"rate_kbit": 4000}
    plan = d.call("topology.plan", {"doc": doc})
    assert [(s["action"], s["key"], s["fields"]) for s in plan["steps"]] == \
        [("change", pfx + "blue/veth1", ["impair"])], plan
    assert d.call("topology.apply", {"doc": doc})["changed"] == 1
    assert idx == {l["ifname"]: l["ifindex"] for l in ip_json("link", netns=pfx + "blue")}
    assert qdisc(pfx + "blue", "veth1")["options"]["rate"] in (500000, "4Mbit"), \
        qdisc(pfx + "blue", "veth1")
    state_before = journal_state(d)
    netem = copy.deepcopy(doc)
    netem["links"][0]["ends"][1]["impair"] = {"delay_ms": 20}
    try:
        r = d.call("topology.apply", {"doc": netem})
        assert qdisc(pfx + "red", "veth0")["kind"] == "netem", r
    except RpcError as e:
        # This kernel has no netem: refused and rolled back, naming the member.
        assert e.kind == "unsupported" and e.field == "doc.links[0].ends[1].impair", e
        assert journal_state(d) == state_before
        assert qdisc(pfx + "blue", "veth1")["kind"] == "tbf"
        assert ping(pfx + "blue", "10.1.1.2")
    d.call("topology.destroy", {"name": doc["name"]})
    assert wait_for(lambda: gone(pfx))
    d.stop()


@test
def test_served_during_big_apply_and_busy():
    """a 300-node apply: pings on another connection answered meanwhile; same name busy"""
    d = daemon()
    pfx = prefix()
    doc = gen("star", 300, pfx)
    a = d.client()
    a.sock.settimeout(300)
    sub = d.client()
    sub.call("events.subscribe", {"topics": ["topology"]})
    a.send({"jsonrpc": "2.0", "id": 1, "method": "topology.apply", "params": {"doc": doc}})
    b = d.client()
    # The first event says the apply started; from then on it runs in chunks.
    m = sub.recv()
    assert m["params"]["action"] == "started", m
    assert m["params"]["topology"]["steps"]["create"] == 301 + 601 + 300, m
    e = b.expect_error("topology.apply", {"doc": doc})
    assert e.kind == "busy", e
    e = b.expect_error("topology.destroy", {"name": doc["name"]})
    assert e.kind == "busy", e
    # Other clients are answered while the apply is in flight (its reply not yet there).
    pings = 0
    while not select.select([a.sock], [], [], 0)[0]:
        b.call("daemon.ping")
        pings += 1
    assert pings > 1, pings
    r = a.recv()
    assert r.get("id") == 1 and r["result"]["changed"] == 1202, r
    actions = []
    while "done" not in actions:
        m = sub.recv()
        actions.append(m["params"]["action"])
    assert set(actions) <= {"step", "done"}, actions
    assert ping(pfx + "s0", "10.20.1.44"), "s0 cannot reach s299 over the hub"
    a.sock.settimeout(300)
    a.call("topology.destroy", {"name": doc["name"]})
    assert wait_for(lambda: gone(pfx), timeout=60)
    d.stop()


@test
def test_kill9_in_the_middle():
    """kill -9 during a 500-node apply; after the restart all of it or none, nothing orphaned"""
    d = daemon()
    pfx = prefix()
    doc = gen("star", 500, pfx)
    a = d.client()
    a.send({"jsonrpc": "2.0", "id": 1, "method": "topology.apply", "params": {"doc": doc}})
    assert wait_for(lambda: len(prefixed_namespaces(pfx)) >= 100, timeout=120), \
        "the apply did not get going"
    d.kill9()
    a.close()
    made = len(prefixed_namespaces(pfx))
    assert 0 < made < 501, made
    d.start()
    state = journal_state(d)
    assert "txn" not in state, state.get("txn")
    topos = [t["name"] for t in d.call("topology.list")["topologies"]]
    if doc["name"] in topos:
        assert len(prefixed_namespaces(pfx)) == 501
    else:
        assert wait_for(lambda: gone(pfx), timeout=30), \
            (prefixed_namespaces(pfx)[:5], prefixed_host_links(pfx)[:5])
        assert not tagged(state, doc["name"]), sorted(tagged(state, doc["name"]))[:5]
        assert not [n for n in state.get("netns", {}) if n.startswith(pfx)]
    failed = d.call("daemon.info")["restore"]["failed"]
    assert not failed, failed
    # It can be applied (and destroyed) again.
    c = d.client()
    c.sock.settimeout(300)
    assert c.call("topology.apply", {"doc": doc})["changed"] > 0 or doc["name"] in topos
    c.call("topology.destroy", {"name": doc["name"]})
    assert wait_for(lambda: gone(pfx), timeout=60)
    d.stop()


@test
def test_collisions():
    """objects of others: an unmanaged namespace, netns.add, another topology"""
    d = daemon()
    pfx = prefix()
    doc = lab("blue-red.json", pfx)
    run(["ip", "netns", "add", pfx + "red"])
    try:
        e = expect_error(d, "topology.apply", {"doc": doc}, "exists", "doc.nodes[1]")
        assert pfx + "red" in e.error["message"]
        assert prefixed_namespaces(pfx) == [pfx + "red"], "apply left something behind"
    finally:
        run(["ip", "netns", "del", pfx + "red"])
    d.call("netns.add", {"name": pfx + "blue"})
    expect_error(d, "topology.plan", {"doc": doc}, "exists")
    d.call("netns.delete", {"name": pfx + "blue"})
    d.call("topology.apply", {"doc": doc})
    other = copy.deepcopy(doc)
    other["name"] = pfx + "other"
    e = expect_error(d, "topology.apply", {"doc": other}, "exists")
    assert doc["name"] in e.error["message"], e
    d.call("topology.destroy", {"name": doc["name"]})
    assert wait_for(lambda: gone(pfx))
    d.stop()


@test
def test_bad_documents():
    """bad documents are refused with the path of the offending member"""
    d = daemon()
    pfx = prefix()
    good = lab("blue-red.json", pfx)
    cases = []

    def case(mutate, field, kind="invalid"):
        doc = copy.deepcopy(good)
        mutate(doc)
        cases.append((doc, field, kind))

    case(lambda x: x.update(colour="red"), "doc.colour")
    case(lambda x: x["nodes"][0].update(nsid="x"), "doc.nodes[0].nsid")
    case(lambda x: x["links"][0]["ends"][1].update(node="nowhere"), "doc.links[0].ends[1].node")
    case(lambda x: x["nodes"].append({"name": "blue"}), "doc.nodes[2].name")
    case(lambda x: x["links"][0]["ends"][1].update(node="blue", name="veth1"),
         "doc.links[0].ends[1].name")
    case(lambda x: x["nodes"][0].update(name="b" * 64), "doc.nodes[0].name")
    case(lambda x: x["links"][0]["ends"][0].update(name="x" * 16), "doc.links[0].ends[0].name")
    case(lambda x: x["links"][0]["ends"][0].update(addresses=["10.1.1.1/40"]),
         "doc.links[0].ends[0].addresses[0]")
    case(lambda x: x["links"][0]["ends"][0].update(addresses=["10.1.1.2/24"]),
         "doc.links[0].ends[1].addresses[0]")
    case(lambda x: x["nodes"][0].update(routes=[{"dst": "10.5.0.0/16", "via": "10.6.0.1"},
                                                {"dst": "10.6.0.0/16", "via": "10.5.0.1"}]),
         "doc.nodes[0].routes[0]")
    case(lambda x: x["nodes"][0].update(services=[{"argv": ["true"]}]),
         "doc.nodes[0].services[0].name")
    case(lambda x: x["nodes"][0].update(services=[{"name": "a.b", "argv": ["true"]}]),
         "doc.nodes[0].services[0].name")
    for doc, field, kind in cases:
        e = d.expect_error("topology.plan", {"doc": doc})
        assert e.kind == kind and e.field == field, "%s: expected %s %s, got %s" % (
            json.dumps(doc)[:200], kind, field, e)
        e2 = d.expect_error("topology.apply", {"doc": doc})
        assert e2.field == field, e2
    e = d.expect_error("topology.apply", {"doc": good, "name": "other"})
    assert e.kind == "invalid" and e.field == "name", e
    nameless = copy.deepcopy(good)
    del nameless["name"]
    e = d.expect_error("topology.apply", {"doc": nameless})
    assert e.kind == "invalid" and e.field == "name", e
    e = d.expect_error("topology.apply", {"doc": []})
    assert e.kind == "invalid" and e.field == "doc", e
    assert not prefixed_namespaces(pfx)
    assert not d.call("topology.list")["topologies"]
    d.stop()


if __name__ == "__main__":
    raise SystemExit(main())
