#!/usr/bin/env python3
"""Link kinds a stock distribution kernel has, end to end with ping.

dummy, 802.1Q vlan, a vlan-filtering bridge and a dummy device borrowed into
a namespace and given back, each built through netnsd and proved by traffic
between addresses assigned inside our own namespaces.  A kernel without the
driver (this project's CI host lacks dummy and 8021q) makes the test skip,
saying so, after checking that netnsd refused cleanly; the qemu lane
(tests/vm/min.list) runs them on Debian's stock kernel, where a skip is a
failure.
"""

import json
import subprocess

from netnsctl_test import daemon
from netnsd_test import PREFIX, RpcError, Skip, ip_json, main, run, test, uniq


def new_ns():
    name = uniq("k")
    daemon().call("netns.add", {"name": name})
    return name


def dev(netns, name):
    """`ip -d -j link show` of name in netns (None for the host), or None."""
    p = subprocess.run(["ip"] + (["-n", netns] if netns else []) +
                       ["-d", "-j", "link", "show", "dev", name], capture_output=True, text=True)
    if p.returncode != 0 or not p.stdout.strip():
        return None
    return json.loads(p.stdout)[0]


def pings(netns, addr, tries=3):
    for _ in range(tries):
        if subprocess.run(["ip", "netns", "exec", netns, "ping", "-c1", "-W2", addr],
                          capture_output=True).returncode == 0:
            return True
    return False


def add_kind(params, what):
    """link.add of a kind the kernel may lack: Skip, after a clean refusal, when it does."""
    try:
        return daemon().call("link.add", params)
    except RpcError as e:
        if e.kind != "unsupported":
            raise
        assert dev(params.get("netns"), params["name"]) is None, \
            "a refused %s left a device behind" % what
        raise Skip("this kernel has no %s (netnsd answered %d unsupported)" % (what, e.code))


def veth(ns_a, name_a, ns_b, name_b, **peer):
    daemon().call("link.add", {"netns": ns_a, "name": name_a, "kind": "veth", "up": True,
                               "peer": dict({"name": name_b, "netns": ns_b, "up": True}, **peer)})


def addr(netns, name, cidr):
    daemon().call("addr.add", {"netns": netns, "dev": name, "address": cidr})


def route(netns, dst, via):
    daemon().call("route.add", {"netns": netns, "dst": dst, "via": via})


@test
def dummy_carries_a_service_address():
    """dummy: a /32 service address on a dummy, reached from another namespace"""
    d = daemon()
    a, b = new_ns(), new_ns()
    r = add_kind({"netns": b, "name": "svc0", "kind": "dummy", "up": True}, "dummy devices")
    assert r["kind"] == "dummy", r
    k = dev(b, "svc0")
    assert k["linkinfo"]["info_kind"] == "dummy" and k.get("ifalias") == "netnsd", k
    veth(a, "eth0", b, "eth0")
    addr(a, "eth0", "10.31.0.1/24")
    addr(b, "eth0", "10.31.0.2/24")
    addr(b, "svc0", "10.31.9.9/32")
    assert not pings(a, "10.31.9.9", tries=1), "reached 10.31.9.9 without a route"
    route(a, "10.31.9.9/32", "10.31.0.2")
    assert pings(a, "10.31.9.9"), "no ping to the address on the dummy"
    d.call("link.set", {"netns": b, "name": "svc0", "up": False})
    assert "UP" not in dev(b, "svc0")["flags"]
    d.call("link.delete", {"netns": b, "name": "svc0"})
    assert dev(b, "svc0") is None
    assert not pings(a, "10.31.9.9", tries=1), "the dummy's address outlived it"
    for ns in (a, b):
        d.call("netns.delete", {"name": ns})


@test
def vlans_separate_traffic_by_id():
    """802.1Q: vlan 100 on both ends of a veth pings, ids 101 and 102 do not meet"""
    d = daemon()
    a, b = new_ns(), new_ns()
    veth(a, "p0", b, "p0")
    add_kind({"netns": a, "name": "p0.100", "kind": "vlan", "parent": "p0", "id": 100,
              "up": True}, "802.1Q vlans")
    for ns, name, vid in ((b, "p0.100", 100), (a, "p0.101", 101), (b, "p0.102", 102)):
        d.call("link.add", {"netns": ns, "name": name, "kind": "vlan", "parent": "p0",
                            "id": vid, "up": True})
    k = dev(b, "p0.100")
    assert k["linkinfo"]["info_data"]["id"] == 100 and k.get("link") == "p0", k
    addr(a, "p0.100", "10.32.100.1/24")
    addr(b, "p0.100", "10.32.100.2/24")
    addr(a, "p0.101", "10.32.101.1/24")
    addr(b, "p0.102", "10.32.101.2/24")
    assert pings(a, "10.32.100.2") and pings(b, "10.32.100.1"), "no ping over vlan 100"
    assert not pings(a, "10.32.101.2", tries=1), "vlan 101 reached vlan 102"
    # The untagged parent carries no address: only the tagged frames got through.
    assert not any(x.get("addr_info") for x in ip_json("-4", "addr", "show", "dev", "p0",
                                                      netns=a))
    for ns in (a, b):
        d.call("netns.delete", {"name": ns})


@test
def vlan_filtering_bridge_filters():
    """bridge vlan_filtering: ports on pvid 1 ping; a port without vid 1 is cut off"""
    d = daemon()
    sw, n1, n2 = new_ns(), new_ns(), new_ns()
    add_kind({"netns": sw, "name": "br0", "kind": "bridge", "vlan_filtering": True,
              "up": True}, "bridge vlan filtering")
    assert dev(sw, "br0")["linkinfo"]["info_data"]["vlan_filtering"] == 1
    veth(n1, "eth0", sw, "port1", master="br0")
    veth(n2, "eth0", sw, "port2", master="br0")
    addr(n1, "eth0", "10.33.0.1/24")
    addr(n2, "eth0", "10.33.0.2/24")
    assert pings(n1, "10.33.0.2"), "no ping across the vlan-filtering bridge"
    run(["ip", "netns", "exec", sw, "bridge", "vlan", "del", "dev", "port2", "vid", "1"])
    assert not pings(n1, "10.33.0.2", tries=1), "the bridge did not filter vlan 1"
    run(["ip", "netns", "exec", sw, "bridge", "vlan", "add", "dev", "port2", "vid", "1",
         "pvid", "untagged"])
    assert pings(n1, "10.33.0.2"), "no ping after vid 1 came back to port2"
    for ns in (sw, n1, n2):
        d.call("netns.delete", {"name": ns})


@test
def dummy_borrowed_and_given_back():
    """a host dummy moved into a namespace, addressed and reached, given back on delete"""
    d = daemon()
    ns, peer = new_ns(), new_ns()
    phys = uniq("d")
    if subprocess.run(["ip", "link", "add", phys, "type", "dummy"],
                      capture_output=True).returncode != 0:
        raise Skip("this kernel has no dummy devices (ip link add type dummy failed)")
    mac, ifindex = dev(None, phys)["address"], dev(None, phys)["ifindex"]
    r = d.call("link.set", {"name": phys, "move_to": ns})
    assert r["origin"] == "borrowed" and r["netns"] == ns, r
    assert dev(None, phys) is None and dev(ns, phys) is not None
    d.call("link.set", {"netns": ns, "name": phys, "rename": "nic0", "up": True})
    addr(ns, "nic0", "10.34.9.1/32")
    veth(peer, "eth0", ns, "eth0")
    addr(peer, "eth0", "10.34.0.1/24")
    addr(ns, "eth0", "10.34.0.2/24")
    route(peer, "10.34.9.1/32", "10.34.0.2")
    assert pings(peer, "10.34.9.1"), "no ping to the address on the borrowed dummy"
    d.call("netns.delete", {"name": ns})
    back = dev(None, phys)
    assert back is not None, "%s did not come back to the host" % phys
    assert back["address"] == mac and back["ifindex"] == ifindex, back
    assert back.get("ifalias") != "netnsd", back
    assert not pings(peer, "10.34.9.1", tries=1)
    d.call("netns.delete", {"name": peer})
    run(["ip", "link", "del", phys])
    assert not [l for l in ip_json("link") if l["ifname"].startswith(PREFIX)]


if __name__ == "__main__":
    raise SystemExit(main())
