#!/usr/bin/env python3
"""Integration tests of link.*, addr.* and route.* against the real kernel.

Each seed scenario is built only through netnsd and checked with the kernel's
own view (`ip -j`, `bridge -j`, ping between addresses assigned inside our own
namespaces): the CORE two-node bridge, the "blue" namespace joined to another
by a veth, a bridge holding a borrowed "physical" device, a default route that
makes a third namespace reachable, and every link kind and common option.

Host-side objects carry the harness prefix so that cleanup() removes them;
inside namespaces plain names like eth0 are used.  Kinds this kernel lacks
(dummy, vlan, bridge vlan filtering are optional) make their test skip after
checking that netnsd refused cleanly.
"""

import json
import os
import subprocess
import sys

from netnsd_test import (Daemon, PREFIX, RpcError, Skip, ip_json, ip_netns_names, main,
                         netns_mounted, run, test, uniq, wait_for)

_daemon = None
_standin_kind = None


def daemon():
    """The netnsd the tests here share (fresh names keep them independent)."""
    global _daemon
    if _daemon is None:
        _daemon = Daemon()
    return _daemon


def new_ns(**params):
    name = uniq("n")
    daemon().call("netns.add", dict(params, name=name))
    return name


def link(name, netns=None):
    """`ip -j -d link show NAME` (in netns), or None when there is no such device."""
    cmd = ["ip"] + (["-n", netns] if netns else []) + ["-j", "-d", "link", "show", "dev", name]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return None
    out = p.stdout.strip()
    return (json.loads(out) or [None])[0] if out else None


def info_data(l):
    return (l.get("linkinfo") or {}).get("info_data") or {}


def names_in(netns):
    return {l["ifname"] for l in ip_json("link", netns=netns)}


def host_prefixed():
    """Names of host links carrying this process's prefix."""
    return {l["ifname"] for l in ip_json("link") if l["ifname"].startswith(PREFIX)}


def addrs(netns, dev=None, family=None):
    """{"ADDRESS/PREFIX", ...} on dev (or the whole namespace) per `ip -j addr`."""
    args = (["-" + family] if family else []) + ["addr", "show"] + (["dev", dev] if dev else [])
    out = set()
    for l in ip_json(*args, netns=netns):
        for a in l.get("addr_info", []):
            out.add("%s/%d" % (a["local"], a["prefixlen"]))
    return out


def routes(netns, *args):
    return ip_json("route", "show", *args, netns=netns)


def ping(netns, addr, tries=3):
    """True when `ping -c1` from netns to addr succeeds (a few tries: ARP, DAD)."""
    cmd = ["ip", "netns", "exec", netns, "ping", "-c1", "-W2"]
    if ":" in addr:
        cmd.append("-6")
    for _ in range(tries):
        if subprocess.run(cmd + [addr], capture_output=True).returncode == 0:
            return True
    return False


def listed(netns, name):
    for l in daemon().call("link.list", {"netns": netns})["links"]:
        if l["name"] == name:
            return l
    return None


def standin(name):
    """A device netnsd did not make, standing in for a physical NIC (dummy, else ifb)."""
    global _standin_kind
    kinds = [_standin_kind] if _standin_kind else ["dummy", "ifb"]
    for kind in kinds:
        if subprocess.run(["ip", "link", "add", name, "type", kind],
                          capture_output=True).returncode == 0:
            _standin_kind = kind
            return name
    raise Skip("the kernel has neither dummy nor ifb devices for a stand-in NIC")


def add_or_skip(params, what):
    """link.add, or Skip (after checking nothing was left) when the kernel lacks the kind."""
    d = daemon()
    try:
        return d.call("link.add", params)
    except RpcError as e:
        if e.kind != "unsupported":
            raise
        assert e.code == 10, e
        assert link(params["name"], params.get("netns")) is None, \
            "a refused %s left a link behind" % what
        assert listed(params.get("netns"), params["name"]) is None
        raise Skip("this kernel does not support %s (netnsd answered %d unsupported)" %
                   (what, e.code))


_base_kind = None


def base_kind():
    """A standalone link kind netnsd can create here: dummy when built in, else bridge."""
    global _base_kind
    if _base_kind:
        return _base_kind
    d = daemon()
    ns = new_ns()
    try:
        d.call("link.add", {"netns": ns, "name": "probe", "kind": "dummy"})
        _base_kind = "dummy"
    except RpcError as e:
        if e.kind != "unsupported":
            raise
        _base_kind = "bridge"
    finally:
        d.call("netns.delete", {"name": ns})
    return _base_kind


def node_pair(ns_a, ns_b, name_a, name_b, addr_a=None, addr_b=None, **extra):
    """A veth from ns_a to ns_b, both ends up, optionally addressed."""
    d = daemon()
    d.call("link.add", dict({"netns": ns_a, "name": name_a, "kind": "veth", "up": True,
                             "peer": {"name": name_b, "netns": ns_b, "up": True}}, **extra))
    if addr_a:
        d.call("addr.add", {"netns": ns_a, "dev": name_a, "address": addr_a})
    if addr_b:
        d.call("addr.add", {"netns": ns_b, "dev": name_b, "address": addr_b})


# --- Seed scenarios. ---

@test
def core_two_nodes_on_a_host_bridge():
    """CORE: two nodes joined by a host bridge (stp off, forward delay 0), eth0 each, ping"""
    d = daemon()
    n1, n2 = new_ns(), new_ns()
    br, e1, e2, tmp = uniq("b"), uniq("v"), uniq("v"), uniq("v")

    b = d.call("link.add", {"name": br, "kind": "bridge", "up": True, "stp": False})
    assert b["kind"] == "bridge" and b["managed"] and b["origin"] == "created", b
    kb = link(br)
    assert kb is not None, "bridge %s not in the host" % br
    assert info_data(kb).get("forward_delay") == 0, info_data(kb)
    assert info_data(kb).get("stp_state") == 0, info_data(kb)
    assert kb.get("ifalias") == "netnsd", kb.get("ifalias")
    assert "UP" in kb["flags"], kb["flags"]

    # Node 1: its end is created as eth0 directly, the host end on the bridge.
    r = d.call("link.add", {"netns": n1, "name": "eth0", "kind": "veth", "up": True,
                            "peer": {"name": e1, "master": br, "up": True, "ipv6_ll": False}})
    assert r["name"] == "eth0" and r["netns"] == n1 and r["peer"]["name"] == e1, r
    assert r["peer"]["netns"] is None, r

    # Node 2 as the seed does it: a pair in the host, one end moved in and renamed eth0.
    d.call("link.add", {"name": e2, "kind": "veth", "master": br, "up": True,
                        "ipv6_ll": False, "peer": {"name": tmp}})
    r = d.call("link.set", {"name": tmp, "move_to": n2})
    assert r["netns"] == n2 and r["name"] == tmp and r["origin"] == "created", r
    assert link(tmp) is None and link(tmp, n2) is not None
    r = d.call("link.set", {"netns": n2, "name": tmp, "rename": "eth0", "up": True})
    assert r["name"] == "eth0" and r["up"] is True and r["origin"] == "created", r
    assert link(tmp, n2) is None

    for ns, host_end in ((n1, e1), (n2, e2)):
        k = link("eth0", ns)
        assert k is not None, "no eth0 in %s: %s" % (ns, names_in(ns))
        assert k["linkinfo"]["info_kind"] == "veth" and "UP" in k["flags"], k
        assert k.get("ifalias") == "netnsd", k
        h = link(host_end)
        assert h is not None and h.get("master") == br, h
        assert h["linkinfo"].get("info_slave_kind") == "bridge", h["linkinfo"]
        assert "UP" in h["flags"], h["flags"]
        # The host end points at eth0 in its namespace after move and rename.
        peer = listed(None, host_end)["peer"]
        assert peer.get("name") == "eth0" and peer.get("netns") == ns, peer
    ports = {p["ifname"]: p for p in
             json.loads(run(["bridge", "-j", "link", "show"]).stdout or "[]")
             if p.get("master") == br}
    assert set(ports) == {e1, e2}, ports

    d.call("addr.add", {"netns": n1, "dev": "eth0", "address": "10.0.0.1/24"})
    d.call("addr.add", {"netns": n2, "dev": "eth0", "address": "10.0.0.2/24"})
    assert addrs(n1, "eth0", "4") == {"10.0.0.1/24"}
    assert addrs(n2, "eth0", "4") == {"10.0.0.2/24"}
    assert not any(a.startswith("10.0.0.") for a in addrs(None, br, "4")), \
        "an address landed on the host bridge"
    assert ping(n1, "10.0.0.2"), "node 1 cannot ping node 2 through %s" % br
    assert ping(n2, "10.0.0.1"), "node 2 cannot ping node 1 through %s" % br

    # Taking one host end off the bridge cuts node 2 off; putting it back heals it.
    d.call("link.set", {"name": e2, "master": None})
    assert link(e2).get("master") is None
    assert not ping(n1, "10.0.0.2", tries=1), "ping crossed a detached bridge port"
    d.call("link.set", {"name": e2, "master": br})
    assert link(e2).get("master") == br
    assert ping(n1, "10.0.0.2")

    for ns in (n1, n2):
        d.call("netns.delete", {"name": ns})
    d.call("link.delete", {"name": br})
    assert link(br) is None and not ({e1, e2, tmp} & host_prefixed())


@test
def blue_joined_to_another_namespace_by_a_veth():
    """the "blue" namespace joined to another namespace by a veth, no host end"""
    d = daemon()
    blue, other = uniq("blue"), uniq("n")
    d.call("netns.add", {"name": blue})
    d.call("netns.add", {"name": other})
    before = host_prefixed()
    r = d.call("link.add", {"netns": blue, "name": "veth1", "kind": "veth",
                            "peer": {"name": "veth0", "netns": other}})
    assert r["peer"]["name"] == "veth0" and r["peer"]["netns"] == other, r
    assert host_prefixed() == before, "a veth between namespaces left something in the host"
    assert "veth1" in names_in(blue) and "veth0" in names_in(other)
    k = link("veth1", blue)
    assert k["linkinfo"]["info_kind"] == "veth" and "UP" not in k["flags"], k
    assert "link_netnsid" in k, "veth1's peer is not in another namespace: %s" % k

    d.call("addr.add", {"netns": blue, "dev": "veth1", "address": "192.168.10.21/24"})
    d.call("addr.add", {"netns": other, "dev": "veth0", "address": "192.168.10.20/24"})
    assert not ping(blue, "192.168.10.20", tries=1), "ping over links that are down"
    d.call("link.set", {"netns": blue, "name": "veth1", "up": True})
    d.call("link.set", {"netns": other, "name": "veth0", "up": True})
    assert "UP" in link("veth1", blue)["flags"] and "UP" in link("veth0", other)["flags"]
    assert ping(blue, "192.168.10.20") and ping(other, "192.168.10.21")
    assert ping(blue, "192.168.10.21"), "blue cannot reach its own address"

    lst = d.call("addr.list", {"netns": blue, "dev": "veth1"})["addresses"]
    mine = [a for a in lst if a["family"] == "inet"]
    assert [(a["address"], a["managed"]) for a in mine] == [("192.168.10.21/24", True)], lst
    d.call("netns.delete", {"name": blue})
    assert "veth0" not in names_in(other), "the other end outlived blue"
    assert listed(other, "veth0") is None
    d.call("netns.delete", {"name": other})


@test
def bridge_with_a_borrowed_physical_device():
    """bridge holding a borrowed "physical" device and a veth; netns.delete gives it back"""
    d = daemon()
    ns, peer_ns = new_ns(), new_ns()
    phys = standin(uniq("d"))
    mac = link(phys)["address"]
    r = d.call("link.set", {"name": phys, "move_to": ns})
    assert r["netns"] == ns and r["origin"] == "borrowed" and r["managed"] is True, r
    assert link(phys) is None and link(phys, ns) is not None
    # Inside the namespace it gets a plain name and joins a bridge with a veth.
    r = d.call("link.set", {"netns": ns, "name": phys, "rename": "eth1", "up": True})
    assert r["name"] == "eth1" and r["origin"] == "borrowed", r
    d.call("link.add", {"netns": ns, "name": "br0", "kind": "bridge", "up": True})
    d.call("link.set", {"netns": ns, "name": "eth1", "master": "br0"})
    d.call("link.add", {"netns": ns, "name": "veth1", "kind": "veth", "master": "br0",
                        "up": True, "peer": {"name": "eth0", "netns": peer_ns, "up": True}})
    assert link("eth1", ns).get("master") == "br0"
    assert link("veth1", ns).get("master") == "br0"
    l = listed(ns, "eth1")
    assert l["origin"] == "borrowed" and l["managed"] is True, l
    assert l["master"] == "br0", l
    assert l.get("alias") != "netnsd", "a borrowed device got netnsd's mark: %s" % l

    d.call("addr.add", {"netns": ns, "dev": "br0", "address": "192.168.56.130/24"})
    d.call("addr.add", {"netns": peer_ns, "dev": "eth0", "address": "192.168.56.131/24"})
    assert ping(peer_ns, "192.168.56.130"), "no ping across the bridge"

    d.call("netns.delete", {"name": ns})
    assert ns not in ip_netns_names() and not netns_mounted(ns)
    back = link(phys)
    assert back is not None, "the borrowed device did not come back as %s" % phys
    assert back["address"] == mac and back.get("master") is None, back
    assert back.get("ifalias") != "netnsd", back
    assert "eth0" not in names_in(peer_ns), "the veth end in the other namespace lingers"
    l = listed(None, phys)
    assert l is not None and l["managed"] is False, l
    # It is the host's again: netnsd may not change it without borrowing anew.
    e = d.expect_error("link.set", {"name": phys, "up": True})
    assert e.code == 5 and e.kind == "permission", e
    d.call("netns.delete", {"name": peer_ns})
    run(["ip", "link", "del", phys])


@test
def link_delete_returns_a_borrowed_device():
    """link.delete of a borrowed device gives it back under its original name"""
    d = daemon()
    ns = new_ns()
    phys = standin(uniq("d"))
    ifindex = link(phys)["ifindex"]
    d.call("link.set", {"name": phys, "move_to": ns})
    d.call("link.set", {"netns": ns, "name": phys, "rename": "eth7", "mtu": 1400})
    assert link("eth7", ns)["mtu"] == 1400
    r = d.call("link.delete", {"netns": ns, "name": "eth7"})
    assert "eth7" not in names_in(ns)
    back = link(phys)
    assert back is not None, "%s is not back in the host" % phys
    assert back["ifindex"] == ifindex, (ifindex, back)
    assert listed(ns, "eth7") is None
    assert not listed(None, phys)["managed"]
    assert r == {"netns": ns, "name": "eth7", "action": "returned"}, r
    d.call("netns.delete", {"name": ns})
    assert link(phys) is not None, "netns.delete took a returned device along"
    run(["ip", "link", "del", phys])


@test
def default_route_reaches_a_third_namespace():
    """ns1 -- ns2 (forwarding) -- ns3: default route in ns3, a route in ns1, ping ns1->ns3"""
    d = daemon()
    ns1, ns3 = new_ns(), new_ns()
    ns2 = new_ns(sysctls={"net.ipv4.ip_forward": 1})
    assert run(["ip", "netns", "exec", ns2, "sysctl", "-n",
                "net.ipv4.ip_forward"]).stdout.strip() == "1"
    node_pair(ns1, ns2, "eth0", "eth1", "10.1.1.1/24", "10.1.1.2/24", ipv6_ll=False)
    node_pair(ns3, ns2, "eth0", "eth2", "10.1.2.3/24", "10.1.2.2/24")
    assert ping(ns1, "10.1.1.2") and ping(ns3, "10.1.2.2")

    r = d.call("route.add", {"netns": ns3, "dst": "default", "via": "10.1.2.2"})
    assert r["dst"] == "0.0.0.0/0" and r["via"] == "10.1.2.2", r
    dflt = routes(ns3, "default")
    assert len(dflt) == 1 and dflt[0].get("gateway") == "10.1.2.2", dflt
    assert dflt[0].get("dev") == "eth0", dflt
    # Without a route in ns1 the far subnet is unreachable: the test can fail.
    assert not ping(ns1, "10.1.2.3", tries=1), "ns3 reachable before any route was added"
    d.call("route.add", {"netns": ns1, "dst": "10.1.2.0/24", "via": "10.1.1.2"})
    r1 = routes(ns1, "10.1.2.0/24")
    assert len(r1) == 1 and r1[0].get("gateway") == "10.1.1.2", r1
    assert ping(ns1, "10.1.2.3"), "ns1 cannot reach ns3 through ns2"

    lst = d.call("route.list", {"netns": ns1, "family": "inet"})["routes"]
    mine = [x for x in lst if x["dst"] == "10.1.2.0/24"]
    assert len(mine) == 1 and mine[0]["managed"] and mine[0]["via"] == "10.1.1.2", lst
    kernel = [x for x in lst if x["dst"] == "10.1.1.0/24"]
    assert len(kernel) == 1 and kernel[0]["managed"] is False, lst

    d.call("route.delete", {"netns": ns1, "dst": "10.1.2.0/24", "via": "10.1.1.2"})
    assert routes(ns1, "10.1.2.0/24") == []
    assert not ping(ns1, "10.1.2.3", tries=1), "the deleted route still routes"
    for ns in (ns1, ns2, ns3):
        d.call("netns.delete", {"name": ns})


# --- Link kinds. ---

@test
def kind_dummy():
    """dummy: created, marked, mtu/address/up applied"""
    ns = new_ns()
    r = add_or_skip({"netns": ns, "name": "d0", "kind": "dummy", "mtu": 1400, "up": True,
                     "address": "02:00:00:00:10:01"}, "dummy devices")
    assert r["kind"] == "dummy" and r["mtu"] == 1400, r
    k = link("d0", ns)
    assert k["linkinfo"]["info_kind"] == "dummy" and k["mtu"] == 1400, k
    assert k["address"] == "02:00:00:00:10:01" and "UP" in k["flags"], k
    assert k.get("ifalias") == "netnsd"
    daemon().call("netns.delete", {"name": ns})


@test
def kind_bridge_vlan_filtering():
    """bridge with vlan_filtering and stp as the kernel shows them"""
    ns = new_ns()
    r = add_or_skip({"netns": ns, "name": "br0", "kind": "bridge", "vlan_filtering": True},
                    "bridge vlan filtering")
    assert r["vlan_filtering"] is True and r["stp"] is False, r
    k = info_data(link("br0", ns))
    assert k.get("vlan_filtering") == 1 and k.get("forward_delay") == 0, k
    daemon().call("netns.delete", {"name": ns})


@test
def kind_bridge_stp():
    """bridge with stp on keeps forward delay 0"""
    d = daemon()
    ns = new_ns()
    r = d.call("link.add", {"netns": ns, "name": "br0", "kind": "bridge", "stp": True})
    assert r["stp"] is True, r
    k = info_data(link("br0", ns))
    assert k.get("stp_state") not in (None, 0), k
    d.call("link.add", {"netns": ns, "name": "br1", "kind": "bridge"})
    k = info_data(link("br1", ns))
    assert k.get("stp_state") == 0 and k.get("forward_delay") == 0, k
    d.call("netns.delete", {"name": ns})


@test
def kind_vlan():
    """vlan id 100 (802.1Q) and 802.1ad on a parent"""
    d = daemon()
    ns = new_ns()
    parent_kind = base_kind()
    d.call("link.add", {"netns": ns, "name": "d0", "kind": parent_kind})
    r = add_or_skip({"netns": ns, "name": "d0.100", "kind": "vlan", "parent": "d0",
                     "id": 100}, "802.1Q vlans")
    assert r["id"] == 100 and r["parent"] == "d0", r
    k = link("d0.100", ns)
    assert info_data(k).get("id") == 100 and info_data(k).get("protocol") == "802.1Q", k
    assert k.get("link") == "d0", k
    d.call("link.add", {"netns": ns, "name": "qinq", "kind": "vlan", "parent": "d0", "id": 200,
                        "protocol": "802.1ad"})
    k = info_data(link("qinq", ns))
    assert k.get("id") == 200 and k.get("protocol") == "802.1ad", k
    d.call("netns.delete", {"name": ns})


@test
def kind_macvlan():
    """macvlan on a parent, every mode the kernel reports back"""
    d = daemon()
    ns = new_ns()
    node_pair(ns, ns, "p0", "p1")
    for i, mode in enumerate(("private", "vepa", "bridge")):
        r = d.call("link.add", {"netns": ns, "name": "mv%d" % i, "kind": "macvlan",
                                "parent": "p0", "mode": mode})
        assert r["mode"] == mode and r["parent"] == "p0", r
        k = link("mv%d" % i, ns)
        assert k["linkinfo"]["info_kind"] == "macvlan", k
        assert info_data(k).get("mode") == mode and k.get("link") == "p0", k
    d.call("link.add", {"netns": ns, "name": "mvd", "kind": "macvlan", "parent": "p1"})
    assert info_data(link("mvd", ns)).get("mode") == "bridge", "macvlan default mode"
    d.call("netns.delete", {"name": ns})


@test
def kind_vxlan():
    """vxlan: VNI, local/remote inside a namespace on an underlay, port"""
    d = daemon()
    ns = new_ns()
    ul = base_kind()
    d.call("link.add", {"netns": ns, "name": "ul0", "kind": ul, "up": True})
    d.call("addr.add", {"netns": ns, "dev": "ul0", "address": "10.9.0.1/24"})
    r = d.call("link.add", {"netns": ns, "name": "vx0", "kind": "vxlan", "id": 42,
                            "local": "10.9.0.1", "remote": "10.9.0.2", "port": 4790,
                            "dev": "ul0"})
    assert r["id"] == 42 and r["port"] == 4790, r
    k = info_data(link("vx0", ns))
    assert k.get("id") == 42 and k.get("port") == 4790, k
    assert k.get("local") == "10.9.0.1" and k.get("remote") == "10.9.0.2", k
    assert k.get("link") == "ul0", k
    d.call("link.add", {"netns": ns, "name": "vx1", "kind": "vxlan", "id": 7,
                        "remote": "10.9.0.3"})
    k = info_data(link("vx1", ns))
    assert k.get("id") == 7 and k.get("port") == 4789, "default port: %s" % k
    d.call("netns.delete", {"name": ns})


# --- Common options. ---

@test
def mtu_address_up():
    """mtu, address and up on link.add and link.set, as the kernel shows them"""
    d = daemon()
    ns = new_ns()
    d.call("link.add", {"netns": ns, "name": "a0", "kind": "veth", "mtu": 1400,
                        "address": "02:00:00:00:20:01",
                        "peer": {"name": "a1", "netns": ns, "mtu": 1300,
                                 "address": "02:00:00:00:20:02", "up": True}})
    a0, a1 = link("a0", ns), link("a1", ns)
    assert a0["mtu"] == 1400 and a0["address"] == "02:00:00:00:20:01", a0
    assert "UP" not in a0["flags"], a0["flags"]
    assert a1["mtu"] == 1300 and a1["address"] == "02:00:00:00:20:02", a1
    assert "UP" in a1["flags"] and a1.get("ifalias") == "netnsd", a1
    r = d.call("link.set", {"netns": ns, "name": "a0", "mtu": 9000, "up": True,
                            "address": "02:00:00:00:20:03"})
    assert r["mtu"] == 9000 and r["up"] is True and r["address"] == "02:00:00:00:20:03", r
    a0 = link("a0", ns)
    assert a0["mtu"] == 9000 and "UP" in a0["flags"], a0
    assert a0["address"] == "02:00:00:00:20:03", a0
    d.call("link.set", {"netns": ns, "name": "a0", "up": False})
    assert "UP" not in link("a0", ns)["flags"]
    # lo of a managed namespace may be changed; it is then "existing", not netnsd's.
    r = d.call("link.set", {"netns": ns, "name": "lo", "mtu": 60000})
    assert link("lo", ns)["mtu"] == 60000
    assert r["origin"] == "existing" and r["managed"] is False, r
    d.call("netns.delete", {"name": ns})


def ll_addrs(ns, dev):
    return {a for a in addrs(ns, dev, "6") if a.startswith("fe80:")}


@test
def ipv6_ll_false_means_no_link_local():
    """ipv6_ll false: addrgenmode none before up, no fe80:: ever; true: EUI-64"""
    d = daemon()
    ns, other = new_ns(), new_ns()
    d.call("link.add", {"netns": ns, "name": "q0", "kind": "veth", "ipv6_ll": False,
                        "up": True, "peer": {"name": "q1", "netns": other, "up": True,
                                             "ipv6_ll": True}})
    q0, q1 = link("q0", ns), link("q1", other)
    assert q0.get("inet6_addr_gen_mode") == "none", q0.get("inet6_addr_gen_mode")
    assert q1.get("inet6_addr_gen_mode") == "eui64", q1.get("inet6_addr_gen_mode")
    assert "UP" in q0["flags"] and "UP" in q1["flags"]
    # The other end gets its link-local address, so waiting for it proves the
    # link has been up long enough for q0 to have made one too.
    assert wait_for(lambda: ll_addrs(other, "q1")), "no fe80:: on the ipv6_ll true end"
    assert ll_addrs(ns, "q0") == set(), "fe80:: on an ipv6_ll false link: %s" % ll_addrs(ns, "q0")
    l = listed(ns, "q0")
    assert l["ipv6_ll"] is False, l

    # link.set ipv6_ll false on a link that had one, and back.
    d.call("link.set", {"netns": other, "name": "q1", "ipv6_ll": False})
    assert link("q1", other).get("inet6_addr_gen_mode") == "none"
    d.call("link.set", {"netns": ns, "name": "q0", "ipv6_ll": True})
    assert link("q0", ns).get("inet6_addr_gen_mode") == "eui64"
    # The kernel makes the address when the link next comes up.
    d.call("link.set", {"netns": ns, "name": "q0", "up": False})
    d.call("link.set", {"netns": ns, "name": "q0", "up": True})
    assert wait_for(lambda: ll_addrs(ns, "q0")), "ipv6_ll true did not bring fe80:: back"
    d.call("netns.delete", {"name": ns})
    d.call("netns.delete", {"name": other})


@test
def master_attach_and_detach():
    """link.set master attaches to a bridge, master null detaches (bridge -j link)"""
    d = daemon()
    ns = new_ns()
    d.call("link.add", {"netns": ns, "name": "br0", "kind": "bridge", "up": True})
    d.call("link.add", {"netns": ns, "name": "br1", "kind": "bridge"})
    node_pair(ns, ns, "m0", "m1")

    def ports(br):
        out = run(["bridge", "-n", ns, "-j", "link", "show"]).stdout
        return {p["ifname"] for p in json.loads(out or "[]")
                if p.get("master") == br}

    assert ports("br0") == set()
    r = d.call("link.set", {"netns": ns, "name": "m0", "master": "br0"})
    assert r["master"] == "br0", r
    assert ports("br0") == {"m0"} and link("m0", ns).get("master") == "br0"
    r = d.call("link.set", {"netns": ns, "name": "m0", "master": "br1"})
    assert ports("br0") == set() and ports("br1") == {"m0"}, (ports("br0"), ports("br1"))
    r = d.call("link.set", {"netns": ns, "name": "m0", "master": None})
    assert r["master"] is None, r
    assert link("m0", ns).get("master") is None and ports("br1") == set()
    assert listed(ns, "m0")["master"] is None
    d.call("netns.delete", {"name": ns})


@test
def link_list_managed_and_origin():
    """link.list: lo managed false, created links managed, hand-made ones not"""
    d = daemon()
    ns = new_ns()
    br, hand = uniq("b"), uniq("h")
    d.call("link.add", {"netns": ns, "name": "br0", "kind": "bridge"})
    run(["ip", "-n", ns, "link", "add", "hand0", "type", "bridge"])
    lst = {l["name"]: l for l in d.call("link.list", {"netns": ns})["links"]}
    assert set(lst) == names_in(ns), (set(lst), names_in(ns))
    assert lst["lo"]["managed"] is False and lst["lo"]["kind"] is None, lst["lo"]
    assert lst["lo"].get("origin") in (None, "existing"), lst["lo"]
    assert lst["br0"]["managed"] is True and lst["br0"]["origin"] == "created", lst["br0"]
    assert lst["br0"]["alias"] == "netnsd", lst["br0"]
    assert lst["hand0"]["managed"] is False and lst["hand0"].get("origin") is None, lst["hand0"]
    for l in lst.values():
        assert l["ifindex"] == link(l["name"], ns)["ifindex"], l

    d.call("link.add", {"name": br, "kind": "bridge"})
    standin(hand)
    host = {l["name"]: l for l in d.call("link.list")["links"]}
    assert host[br]["managed"] is True and host[br]["origin"] == "created", host[br]
    assert host[hand]["managed"] is False, host[hand]
    assert host["lo"]["managed"] is False, host["lo"]
    d.call("link.delete", {"name": br})
    d.call("netns.delete", {"name": ns})
    run(["ip", "link", "del", hand])


# --- Addresses and routes. ---

@test
def ipv6_addresses_and_default_route():
    """fd00::/64 addresses (nodad), a v6 default route with via, ping -6"""
    d = daemon()
    ns1, ns2 = new_ns(), new_ns()
    node_pair(ns1, ns2, "eth0", "eth0")
    d.call("addr.add", {"netns": ns1, "dev": "eth0", "address": "fd00:a::1/64", "nodad": True})
    r = d.call("addr.add", {"netns": ns2, "dev": "eth0", "address": "fd00:a::2/64",
                            "nodad": True})
    assert r == {"netns": ns2, "dev": "eth0", "address": "fd00:a::2/64", "nodad": True}, r
    # A second prefix on a stand-alone link in ns1, reachable from ns2 only by the route.
    d.call("link.add", {"netns": ns1, "name": "lan0", "kind": base_kind(), "up": True})
    d.call("addr.add", {"netns": ns1, "dev": "lan0", "address": "fd00:b::1/64", "nodad": True})
    assert "fd00:a::2/64" in addrs(ns2, "eth0", "6")
    assert "fd00:b::1/64" in addrs(ns1, "lan0", "6")
    assert ping(ns2, "fd00:a::1")
    assert not ping(ns2, "fd00:b::1", tries=1), "fd00:b::1 reachable without a route"

    r = d.call("route.add", {"netns": ns2, "dst": "default", "via": "fd00:a::1"})
    assert r["dst"] == "::/0" and r["via"] == "fd00:a::1", r
    dflt = ip_json("-6", "route", "show", "default", netns=ns2)
    assert len(dflt) == 1 and dflt[0].get("gateway") == "fd00:a::1", dflt
    assert ping(ns2, "fd00:b::1"), "the v6 default route does not route"
    lst = d.call("route.list", {"netns": ns2, "family": "inet6"})["routes"]
    mine = [x for x in lst if x["dst"] == "default"]
    assert len(mine) == 1 and mine[0]["managed"] is True and mine[0]["family"] == "inet6", lst
    assert all(x["family"] == "inet6" for x in lst), lst
    a = [x for x in d.call("addr.list", {"netns": ns2})["addresses"]
         if x["address"] == "fd00:a::2/64"]
    assert len(a) == 1 and a[0]["family"] == "inet6" and a[0]["managed"], a

    d.call("addr.delete", {"netns": ns2, "dev": "eth0", "address": "fd00:a::2/64"})
    assert "fd00:a::2/64" not in addrs(ns2, "eth0", "6")
    d.call("netns.delete", {"name": ns1})
    d.call("netns.delete", {"name": ns2})


@test
def route_metric_table_and_type():
    """routes with metric and table (ip route show table N), blackhole, delete"""
    d = daemon()
    ns1, ns2 = new_ns(), new_ns()
    node_pair(ns1, ns2, "eth0", "eth0", "10.2.0.1/24", "10.2.0.2/24")
    r = d.call("route.add", {"netns": ns1, "dst": "10.3.0.0/16", "via": "10.2.0.2",
                             "metric": 50, "table": 100})
    assert r["metric"] == 50 and r["table"] == 100, r
    t = ip_json("route", "show", "table", "100", netns=ns1)
    assert [(x["dst"], x.get("gateway"), x.get("metric")) for x in t] == \
        [("10.3.0.0/16", "10.2.0.2", 50)], t
    assert routes(ns1, "10.3.0.0/16") == [], "a table 100 route landed in main"
    d.call("route.add", {"netns": ns1, "dst": "10.3.0.0/16", "dev": "eth0", "metric": 70})
    main_rt = routes(ns1, "10.3.0.0/16")
    assert len(main_rt) == 1 and main_rt[0].get("metric") == 70 and \
        main_rt[0].get("dev") == "eth0", main_rt
    lst = d.call("route.list", {"netns": ns1, "table": 100})["routes"]
    assert [(x["dst"], x["metric"], x["table"], x["managed"]) for x in lst
            if x["dst"] == "10.3.0.0/16"] == [("10.3.0.0/16", 50, 100, True)], lst

    d.call("route.add", {"netns": ns1, "dst": "10.4.0.0/16", "type": "blackhole"})
    bh = ip_json("route", "show", "type", "blackhole", netns=ns1)
    assert [x["dst"] for x in bh] == ["10.4.0.0/16"], bh

    d.call("route.delete", {"netns": ns1, "dst": "10.3.0.0/16", "via": "10.2.0.2",
                            "metric": 50, "table": 100})
    assert ip_json("route", "show", "table", "100", netns=ns1) == []
    assert len(routes(ns1, "10.3.0.0/16")) == 1, "deleting in table 100 touched main"
    d.call("route.delete", {"netns": ns1, "dst": "10.3.0.0/16", "dev": "eth0", "metric": 70})
    assert routes(ns1, "10.3.0.0/16") == []
    d.call("netns.delete", {"name": ns1})
    d.call("netns.delete", {"name": ns2})


@test
def addresses_of_a_moved_or_deleted_link_are_forgotten():
    """addr.add then the link goes: addr.list and the kernel agree, nothing stale"""
    d = daemon()
    ns, ns2 = new_ns(), new_ns()
    node_pair(ns, ns, "x0", "x1", "10.5.0.1/24", "10.5.0.2/24")
    d.call("link.set", {"netns": ns, "name": "x1", "move_to": ns2})
    assert addrs(ns2, "x1", "4") == set(), "the kernel keeps addresses over a move?"
    assert not [a for a in d.call("addr.list", {"netns": ns2})["addresses"] if a["managed"]]
    # Re-adding the same address on the moved link works: no stale record blocks it.
    d.call("addr.add", {"netns": ns2, "dev": "x1", "address": "10.5.0.2/24"})
    d.call("link.set", {"netns": ns2, "name": "x1", "up": True})
    d.call("link.set", {"netns": ns, "name": "x0", "up": True})
    assert ping(ns, "10.5.0.2")
    d.call("netns.delete", {"name": ns})
    d.call("netns.delete", {"name": ns2})


# --- Deletion. ---

@test
def link_delete_of_a_veth_removes_both_ends():
    """link.delete of either end of a veth removes both (host-ns and ns-ns pairs)"""
    d = daemon()
    ns, ns2 = new_ns(), new_ns()
    host_end = uniq("v")
    d.call("link.add", {"netns": ns, "name": "eth0", "kind": "veth",
                        "peer": {"name": host_end}})
    assert link(host_end) is not None
    r = d.call("link.delete", {"netns": ns, "name": "eth0"})
    assert r == {"netns": ns, "name": "eth0", "action": "deleted"}, r
    assert "eth0" not in names_in(ns)
    assert link(host_end) is None, "the host end outlived link.delete"
    assert listed(None, host_end) is None

    node_pair(ns, ns2, "eth1", "eth9")
    r = d.call("link.delete", {"netns": ns2, "name": "eth9"})
    assert r["action"] == "deleted", r
    assert "eth9" not in names_in(ns2) and "eth1" not in names_in(ns)
    # The other end's record went too: a new link of that name can be made.
    d.call("link.add", {"netns": ns, "name": "eth1", "kind": "bridge"})
    e = d.expect_error("link.delete", {"netns": ns, "name": "eth0"})
    assert e.code == 1 and e.kind == "not_found" and e.field == "name", e
    d.call("netns.delete", {"name": ns})
    d.call("netns.delete", {"name": ns2})


@test
def netns_delete_leaves_no_host_veth():
    """netns.delete: no host-side veth end right after the reply, no namespace"""
    d = daemon()
    ns = new_ns()
    br, ends = uniq("b"), [uniq("v"), uniq("v")]
    d.call("link.add", {"name": br, "kind": "bridge", "up": True})
    d.call("link.add", {"netns": ns, "name": "eth0", "kind": "veth", "up": True,
                        "peer": {"name": ends[0], "master": br, "up": True}})
    d.call("link.add", {"netns": ns, "name": "eth1", "kind": "veth",
                        "peer": {"name": ends[1]}})
    d.call("addr.add", {"netns": ns, "dev": "eth0", "address": "10.6.0.1/24"})
    assert set(ends) <= host_prefixed()
    d.call("netns.delete", {"name": ns})
    left = set(ends) & {l["ifname"] for l in ip_json("link")}
    assert not left, "host ends still there after netns.delete replied: %s" % left
    assert ns not in ip_netns_names() and not os.path.exists("/run/netns/" + ns)
    assert link(br) is not None, "the bridge belongs to the host and must stay"
    host = {l["name"] for l in d.call("link.list")["links"]}
    assert not set(ends) & host
    assert not any(a["netns"] == ns for a in d.call("addr.list")["addresses"])
    # The names are free again: nothing in netnsd's records still claims them.
    d.call("link.add", {"name": ends[0], "kind": "bridge"})
    d.call("link.delete", {"name": ends[0]})
    d.call("link.delete", {"name": br})
    assert link(br) is None


@test
def test_delete_leaves_a_new_device_with_the_old_peer_name():
    """netns.delete waits for its veths' host ends to go; a device that took such a name meanwhile is not deleted"""
    d = daemon()
    ns = new_ns()
    host_end = uniq("o")[:15]
    d.call("link.add", {"netns": ns, "name": "e0", "kind": "veth",
                        "peer": {"name": host_end, "netns": None}})
    # An open descriptor keeps the namespace (and the host end) alive after its unmount.
    holder = os.open("/run/netns/" + ns, os.O_RDONLY)
    newcomer = None
    try:
        call = subprocess.Popen([sys.executable, "-c", (
            "import json,socket,sys;s=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1]);"
            "s.sendall(json.dumps({'jsonrpc':'2.0','id':1,'method':'netns.delete',"
            "'params':{'name':sys.argv[2],'grace_ms':0}}).encode()+b'\\n');"
            "print(s.makefile().readline())"), d.socket, ns],
            stdout=subprocess.PIPE, text=True)
        assert wait_for(lambda: not netns_mounted(ns), timeout=10)
        # An unrelated device takes the old end's name before netnsd's wait is over
        # (the old end, still alive with the namespace, steps aside).
        tmp, aside = uniq("t")[:15], uniq("a")[:15]
        run(["ip", "link", "add", tmp, "type", "veth", "peer", "name", uniq("p")[:15]])
        newcomer = tmp
        run(["ip", "-batch", "-"], input="link set %s name %s\nlink set %s name %s\n" % (
            host_end, aside, tmp, host_end))
        newcomer = host_end
        old_end = link(aside)
        out, _ = call.communicate(timeout=30)
        assert "result" in json.loads(out), out
        assert link(host_end) is not None, "netnsd deleted a device that only had its peer's name"
        assert old_end is not None
    finally:
        os.close(holder)
        for name in (newcomer, locals().get("aside")):
            if name:
                subprocess.run(["ip", "link", "del", name], capture_output=True)


if __name__ == "__main__":
    raise SystemExit(main())
