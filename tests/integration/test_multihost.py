#!/usr/bin/env python3
"""Labs spanning hosts: peers, cross-host links over VXLAN, coordinated apply,
rollback and destroy, and daemon crashes, between simulated hosts (see
tests/lib/simhost.py: each a network + mount namespace with its own /run/netns
and its own netnsd, joined by a veth underlay in 198.18.0.0/15)."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import netnsd_test as T  # noqa: E402
import simhost  # noqa: E402
from netnsd_test import test  # noqa: E402

env = {}


def setup():
    """Hosts a, b, c on one underlay segment; a knows b and c as peers."""
    if env:
        return env
    if subprocess.run(["which", "unshare", "nsenter"], capture_output=True).returncode:
        raise T.Skip("unshare and nsenter (util-linux) are needed")
    sw = simhost.Switch()
    hosts = {t: simhost.SimHost(t) for t in ("a", "b", "c")}
    addr = {t: sw.plug(h) for t, h in hosts.items()}
    env.update(sw=sw, addr=addr, **hosts)
    return env


def peer_add(a, name, other, underlay=True):
    params = {"name": name, "socket": env[other].socket}
    if underlay:
        params["underlay"] = {"local": env["addr"]["a"], "remote": env["addr"][other],
                              "dev": "ul0"}
    return a.call("peer.add", params)


def ping(host, ns, dst, count=3):
    return host.node(ns, "ping", "-c", str(count), "-i", "0.2", "-W", "2", dst, check=False)


def assert_pings(host, ns, dst):
    for _ in range(3):
        r = ping(host, ns, dst)
        if r.returncode == 0 and " 0% packet loss" not in r.stdout.replace("100%", ""):
            pass
        if r.returncode == 0:
            return
    raise AssertionError("%s: ping %s from %s failed:\n%s%s" % (host.tag, dst, ns, r.stdout,
                                                              r.stderr))


def vxlan_info(host, ns, dev):
    out = host.sh("ip", "-n", ns, "-d", "-j", "link", "show", dev).stdout
    link = T.json.loads(out)[0]
    return link


def forget(name):
    """Destroy a lab a test made, whatever state it is in (for finally:)."""
    try:
        env["a"].call("topology.destroy", {"name": name})
    except Exception:
        pass
    for t in ("a", "b", "c"):
        h = env.get(t)
        if h and h.alive():
            try:
                h.call("topology.destroy", {"name": name})
            except Exception:
                pass


labs = []
labs_cleanup = []


def lab_test(fn):
    """A test whose labs (names in labs) are destroyed on every host afterwards."""
    def wrapped():
        try:
            fn()
        finally:
            while labs:
                forget(labs.pop())
            while labs_cleanup:
                labs_cleanup.pop()()
    wrapped.__name__, wrapped.__doc__ = fn.__name__, fn.__doc__
    return test(wrapped)


def new_lab(nodes):
    """A lab name (destroyed after the test) and node names."""
    name = T.uniq("l")
    labs.append(name)
    return [name] + [T.uniq("n") for _ in range(nodes)]


def two_host_doc(name, n1, n2):
    return {
        "name": name,
        "nodes": [{"name": n1}, {"name": n2, "host": "b"}],
        "links": [{"ends": [
            {"node": n1, "name": "eth0", "addresses": ["10.77.0.1/24"]},
            {"node": n2, "name": "eth0", "addresses": ["10.77.0.2/24"],
             "impair": {"rate_kbit": 100000}},
        ]}],
    }


@test
def peer_family():
    """peer.add/get/list/delete, status by daemon.info, bad input"""
    e = setup()
    a = e["a"]
    r = peer_add(a, "b", "b")
    assert r["name"] == "b" and r["socket"] == e["b"].socket, r
    err = a.expect_error("peer.add", {"name": "b", "socket": e["b"].socket})
    assert err.kind == "exists", err
    err = a.expect_error("peer.add", {"name": "x", "socket": "/nonexistent.sock",
                                      "underlay": {"local": "1.2.3", "remote": "198.18.0.1"}})
    assert err.kind == "invalid" and err.field == "underlay.local", err
    err = a.expect_error("peer.add", {"name": "x", "socket": "/s", "underlay": {"local": "::1",
                                      "remote": "198.18.0.1"}})
    assert err.kind == "invalid" and err.field.startswith("underlay"), err
    err = a.expect_error("peer.add", {"name": "../x", "socket": "/s"})
    assert err.field == "name", err
    err = a.expect_error("peer.add", {"name": "x", "socket": "/s", "bogus": 1})
    assert err.field == "bogus", err
    g = a.call("peer.get", {"name": "b"})
    assert g["status"]["reachable"] is True and g["status"]["version"], g
    assert g["status"]["instance"] == e["b"].call("daemon.info")["events"]["instance"], g
    a.call("peer.add", {"name": "dead", "socket": os.path.join(a.dir, "nothing.sock")})
    lst = {p["name"]: p for p in a.call("peer.list")["peers"]}
    assert lst["dead"]["status"]["reachable"] is False and lst["dead"]["status"]["error"], lst
    assert lst["b"]["status"]["reachable"] is True, lst
    a.call("peer.delete", {"name": "dead"})
    err = a.expect_error("peer.delete", {"name": "dead"})
    assert err.kind == "not_found" and err.field == "name", err
    err = a.expect_error("peer.get", {"name": "dead"})
    assert err.kind == "not_found", err
    # peer.vnis also names vxlans someone else made in the host.
    e["b"].sh("ip", "link", "add", "vxt", "type", "vxlan", "id", "777", "dstport", "4789",
              "local", e["addr"]["b"])
    try:
        assert 777 in e["b"].call("peer.vnis")["vnis"]
    finally:
        e["b"].sh("ip", "link", "del", "vxt")
    assert 777 not in e["b"].call("peer.vnis")["vnis"]
    # Peers are desired state: they survive a restart.
    a.restart()
    assert [p["name"] for p in a.call("peer.list")["peers"]] == ["b"]


@lab_test
def two_hosts():
    """a two-host lab: plan, apply, ping across VXLAN, kill -9 either side, destroy"""
    e = setup()
    a, b = e["a"], e["b"]
    name, n1, n2 = new_lab(2)
    doc = two_host_doc(name, n1, n2)

    plan = a.call("topology.plan", {"doc": doc})
    hosts = {s["host"] for s in plan["steps"]}
    assert hosts == {None, "b"}, plan
    assert any(s["host"] == "b" and s["kind"] == "netns" and s["key"] == n2
               for s in plan["steps"]), plan
    assert a.call("topology.list")["topologies"] == [], "plan changed nothing"

    res = a.call("topology.apply", {"doc": doc})
    assert res["name"] == name and "b" in res["hosts"], res
    assert a.netns_names() == [n1] and b.netns_names() == [n2]
    # The kernel's view: a vxlan on each side, same VNI, each with the other's address,
    # the device in the node and the MTU the underlay's minus 50.
    va, vb = vxlan_info(a, n1, "eth0"), vxlan_info(b, n2, "eth0")
    ia, ib = va["linkinfo"]["info_data"], vb["linkinfo"]["info_data"]
    assert va["linkinfo"]["info_kind"] == "vxlan" and vb["linkinfo"]["info_kind"] == "vxlan"
    assert ia["id"] == ib["id"], (ia, ib)
    assert ia["remote"] == e["addr"]["b"] and ib["remote"] == e["addr"]["a"], (ia, ib)
    assert va["mtu"] == 1450 and vb["mtu"] == 1450, (va["mtu"], vb["mtu"])
    assert va["address"] == "02:4e:%02x:%02x:%02x:01" % (ia["id"] >> 16, (ia["id"] >> 8) & 255,
                                                         ia["id"] & 255), va["address"]
    # Its UDP socket stays in the underlay (the simulated host), not in the node.
    assert ":4789" in a.sh("ss", "-uln").stdout
    assert ":4789" not in a.node(n1, "ss", "-uln").stdout
    # The impairment of b's end is there, as on a local link.
    assert "tbf" in b.sh("tc", "-n", n2, "qdisc", "show", "dev", "eth0").stdout
    assert a.call("peer.vnis")["vnis"] == [ia["id"]]
    assert ia["id"] in b.call("peer.vnis")["vnis"]
    assert_pings(a, n1, "10.77.0.2")
    g = a.call("topology.get", {"name": name})
    assert g["multihost"]["hosts"] == ["", "b"], g

    # Applying the same document again changes nothing and keeps the VNI.
    res = a.call("topology.apply", {"doc": doc})
    assert res["create"] == 0 and res["delete"] == 0 and res["change"] == 0, res
    assert vxlan_info(a, n1, "eth0")["linkinfo"]["info_data"]["id"] == ia["id"]

    # The peer's netnsd dies and comes back: the lab still pings, its state is consistent.
    b.kill9()
    assert_pings(a, n1, "10.77.0.2")
    b.start()
    assert b.call("topology.get", {"name": name})["objects"]["netns"] == [n2]
    assert_pings(a, n1, "10.77.0.2")
    # While it is down its vxlan goes (as after a reboot): the restart makes it again,
    # through the host, with the same VNI and its socket in the underlay.
    b.kill9()
    b.sh("ip", "-n", n2, "link", "del", "eth0")
    b.start()
    assert vxlan_info(b, n2, "eth0")["linkinfo"]["info_data"]["id"] == ia["id"]
    assert vxlan_info(b, n2, "eth0")["address"] == vb["address"]
    assert ":4789" not in b.node(n2, "ss", "-uln").stdout
    assert_pings(a, n1, "10.77.0.2")
    # The coordinator's too.
    a.kill9()
    a.start()
    assert a.call("topology.get", {"name": name})["multihost"]["hosts"] == ["", "b"]
    assert_pings(b, n2, "10.77.0.1")

    err = a.expect_error("peer.delete", {"name": "b"})
    assert err.kind == "busy", err

    res = a.call("topology.destroy", {"name": name})
    assert a.netns_names() == [] and b.netns_names() == []
    assert a.call("topology.list")["topologies"] == []
    assert b.call("topology.list")["topologies"] == []
    assert a.call("peer.vnis")["vnis"] == [] and b.call("peer.vnis")["vnis"] == []
    for h in (a, b):
        assert not [l for l in h.links() if l["ifname"].startswith("nnvx")], h.links()
    assert not [n for n in T.ip_netns_names() if n.startswith(T.PREFIX)]


@lab_test
def bad_documents():
    """unknown hosts, tunnels given by hand, bridges across hosts"""
    e = setup()
    a = e["a"]
    name, n1, n2 = new_lab(2)
    doc = two_host_doc(name, n1, n2)
    doc["nodes"][1]["host"] = "nosuch"
    err = a.expect_error("topology.apply", {"doc": doc})
    assert err.kind == "not_found" and err.field == "doc.nodes[1].host", err
    doc["nodes"][1]["host"] = "b"
    doc["tunnels"] = []
    err = a.expect_error("topology.apply", {"doc": doc})
    assert err.kind == "invalid" and err.field == "doc.tunnels", err
    del doc["tunnels"]
    doc["nodes"][1]["host"] = 7
    err = a.expect_error("topology.plan", {"doc": doc})
    assert err.kind == "invalid" and err.field == "doc.nodes[1].host", err
    doc = two_host_doc(name, n1, n2)
    del doc["links"]
    doc["bridges"] = [{"name": "br0", "node": n1, "members": [{"node": n2, "name": "p0"}]}]
    err = a.expect_error("topology.apply", {"doc": doc})
    assert err.kind == "unsupported" and err.field == "doc.bridges[0].members[0].node", err
    assert a.netns_names() == [] and e["b"].netns_names() == []


@lab_test
def rollback():
    """a part failing on one host leaves nothing on any host"""
    e = setup()
    a, b = e["a"], e["b"]
    name, n1, n2 = new_lab(2)
    # Something else holds n2's name on b: b's part cannot be applied.
    b.sh("ip", "netns", "add", n2)
    try:
        err = a.expect_error("topology.apply", {"doc": two_host_doc(name, n1, n2)})
        assert "host 'b'" in err.error["message"], err
        assert a.netns_names() == [] and b.netns_names() == [n2], (a.netns_names(), b.netns_names(), err)
        assert a.call("topology.list")["topologies"] == []
        assert b.call("topology.list")["topologies"] == []
        assert a.call("peer.vnis")["vnis"] == []
    finally:
        b.sh("ip", "netns", "del", n2)
    # An unreachable peer: nothing is left here either.
    b.stop()
    try:
        err = a.expect_error("topology.apply", {"doc": two_host_doc(name, n1, n2)})
        assert "unreachable" in err.error["message"] and err.kind == "io", err
        assert a.netns_names() == [] and a.call("topology.list")["topologies"] == []
    finally:
        b.start()


@lab_test
def move_node_between_hosts():
    """a re-apply moves a node home: the peer's part is emptied, the link becomes a veth"""
    e = setup()
    a, b = e["a"], e["b"]
    name, n1, n2 = new_lab(2)
    doc = two_host_doc(name, n1, n2)
    a.call("topology.apply", {"doc": doc})
    assert b.netns_names() == [n2]
    del doc["nodes"][1]["host"]
    plan = a.call("topology.plan", {"doc": doc})
    assert any(s["host"] == "b" and s["action"] == "delete" and s["key"] == n2
               for s in plan["steps"]), plan
    a.call("topology.apply", {"doc": doc})
    assert a.netns_names() == sorted([n1, n2]) and b.netns_names() == []
    assert vxlan_info(a, n1, "eth0")["linkinfo"]["info_kind"] == "veth"
    assert_pings(a, n1, "10.77.0.2")
    assert a.call("peer.vnis")["vnis"] == []
    a.call("topology.destroy", {"name": name})
    assert a.netns_names() == [] and b.call("topology.list")["topologies"] == []


@lab_test
def netnsctl_verbs():
    """netnsctl peer add/list/show/del and lab plan/apply/destroy across hosts"""
    e = setup()
    a = e["a"]

    def ctl(*args, check=True):
        return T.run([T.NETNSCTL, "-s", a.socket] + list(args), check=check)

    ctl("peer", "add", "c", e["c"].socket, "underlay", "local", e["addr"]["a"], "remote",
        e["addr"]["c"], "dev", "ul0", "mtu", "1500")
    out = ctl("peer", "list").stdout
    assert out.split("\n")[0].split() == ["NAME", "SOCKET", "REACHABLE", "VERSION", "UNDERLAY"]
    row = [line for line in out.splitlines() if line.startswith("c ")][0]
    assert " yes " in row and "%s -> %s dev ul0" % (e["addr"]["a"], e["addr"]["c"]) in row, out
    assert sorted(ctl("peer", "list", "--names").stdout.split()) == ["b", "c"]
    show = ctl("peer", "show", "c").stdout
    assert "reachable:" in show and "instance:" in show, show
    r = ctl("peer", "add", "c", e["c"].socket, check=False)
    assert r.returncode == 1 and "(field: name)" in r.stderr, r.stderr
    r = ctl("peer", "add", "x", "/s", "bogus", check=False)
    assert r.returncode == 2, r
    assert T.json.loads(ctl("--json", "peer", "show", "c").stdout)["name"] == "c"

    name, n1, n2 = new_lab(2)
    doc = two_host_doc(name, n1, n2)
    doc["nodes"][1]["host"] = "c"
    path = os.path.join(a.dir, "lab.json")
    with open(path, "w") as f:
        T.json.dump(doc, f)
    plan = ctl("lab", "plan", path).stdout
    assert "+ netns %s @c" % n2 in plan and "+ netns %s\n" % n1 in plan, plan
    ctl("lab", "apply", path)
    assert e["c"].netns_names() == [n2]
    assert_pings(e["c"], n2, "10.77.0.1")
    r = ctl("peer", "del", "c", check=False)
    assert r.returncode == 1 and "destroy it first" in r.stderr, r.stderr
    ctl("lab", "destroy", name)
    assert e["c"].netns_names() == [] and a.netns_names() == []
    ctl("peer", "del", "c")


@lab_test
def three_hosts():
    """a three-host chain pings end to end through the middle host"""
    e = setup()
    a, b, c = e["a"], e["b"], e["c"]
    peer_add(a, "c", "c")
    name, n1, n2, n3 = new_lab(3)
    # A smaller underlay MTU on a: the links from a get 50 less than it, the others not.
    a.sh("ip", "link", "set", "ul0", "mtu", "1400")
    labs_cleanup.append(lambda: a.sh("ip", "link", "set", "ul0", "mtu", "1500"))
    doc = {
        "name": name,
        "nodes": [
            {"name": n1, "routes": [{"dst": "10.78.0.0/24", "via": "10.77.0.2"}]},
            {"name": n2, "host": "b", "sysctls": {"net.ipv4.ip_forward": 1}},
            {"name": n3, "host": "c", "routes": [{"dst": "10.77.0.0/24", "via": "10.78.0.1"}]},
        ],
        "links": [
            {"ends": [{"node": n1, "name": "e0", "addresses": ["10.77.0.1/24"]},
                      {"node": n2, "name": "e0", "addresses": ["10.77.0.2/24"]}]},
            {"ends": [{"node": n2, "name": "e1", "addresses": ["10.78.0.1/24"]},
                      {"node": n3, "name": "e0", "addresses": ["10.78.0.2/24"]}]},
        ],
    }
    a.call("topology.apply", {"doc": doc})
    assert a.netns_names() == [n1] and b.netns_names() == [n2] and c.netns_names() == [n3]
    i1 = vxlan_info(b, n2, "e1")["linkinfo"]["info_data"]
    i2 = vxlan_info(c, n3, "e0")["linkinfo"]["info_data"]
    assert i1["id"] == i2["id"] and i1["remote"] == e["addr"]["c"], (i1, i2)
    assert i1["id"] != vxlan_info(b, n2, "e0")["linkinfo"]["info_data"]["id"]
    assert vxlan_info(a, n1, "e0")["mtu"] == 1350 and vxlan_info(b, n2, "e0")["mtu"] == 1350
    assert vxlan_info(b, n2, "e1")["mtu"] == 1450
    assert_pings(a, n1, "10.78.0.2")
    c.kill9()
    c.start()
    assert_pings(c, n3, "10.77.0.1")
    a.call("topology.destroy", {"name": name})
    for h in (a, b, c):
        assert h.netns_names() == [], h.tag
        assert h.call("topology.list")["topologies"] == [], h.tag
    a.call("peer.delete", {"name": "c"})
    assert not [n for n in T.ip_netns_names() if n.startswith(T.PREFIX)]


if __name__ == "__main__":
    sys.exit(T.main())
