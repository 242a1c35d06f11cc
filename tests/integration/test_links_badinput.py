#!/usr/bin/env python3
"""Bad input for link.*, addr.* and route.*: a catalogue of refused requests.

Every case must get a clear error (code, data.kind, data.field), leave the
daemon alive, create or change nothing in the kernel (`ip -j` of the managed,
foreign and host namespaces) and leave the state files byte for byte as they
were.  A last group checks that an operation failing halfway undoes itself.

The fixture: a managed namespace M (bridge br0, veth p0/p1 with an address and
a route, a link made by hand), a second managed namespace M2 (veth q0/q1), a
namespace made with `ip netns add` (F), a host device netnsd did not make (H,
a dummy or ifb standing in for a NIC) and a host bridge netnsd made (HB).
"""

import json
import os
import subprocess

from netnsd_test import Daemon, PREFIX, ip_json, main, run, state_files, test, uniq

_fx = None


class Fixture:
    def __init__(self):
        d = self.d = Daemon()
        self.M, self.M2, self.F = uniq("m"), uniq("m"), uniq("f")
        self.MISSING = uniq("x")
        self.H, self.HB = uniq("h"), uniq("hb")
        d.call("netns.add", {"name": self.M})
        d.call("netns.add", {"name": self.M2})
        run(["ip", "netns", "add", self.F])
        for kind in ("dummy", "ifb"):
            if subprocess.run(["ip", "link", "add", self.H, "type", kind],
                              capture_output=True).returncode == 0:
                break
        else:
            raise RuntimeError("cannot make a stand-in host device (dummy or ifb)")
        run(["ip", "-n", self.F, "link", "add", "fbr", "type", "bridge"])
        d.call("link.add", {"name": self.HB, "kind": "bridge", "ipv6_ll": False})
        d.call("link.add", {"netns": self.M, "name": "br0", "kind": "bridge",
                            "ipv6_ll": False})
        d.call("link.add", {"netns": self.M, "name": "p0", "kind": "veth", "up": True,
                            "ipv6_ll": False,
                            "peer": {"name": "p1", "netns": self.M, "up": True,
                                     "ipv6_ll": False}})
        d.call("link.add", {"netns": self.M2, "name": "q0", "kind": "veth", "ipv6_ll": False,
                            "peer": {"name": "q1", "netns": self.M2, "ipv6_ll": False}})
        d.call("addr.add", {"netns": self.M, "dev": "p0", "address": "10.20.0.1/24"})
        d.call("route.add", {"netns": self.M, "dst": "10.21.0.0/24", "via": "10.20.0.2"})
        run(["ip", "-n", self.M, "link", "add", "hand0", "type", "bridge"])

    def subst(self, v):
        if isinstance(v, str):
            for k in ("MISSING", "M2", "M", "F", "HB", "H"):
                v = v.replace("$" + k, getattr(self, k))
            return v
        if isinstance(v, dict):
            return {self.subst(k): self.subst(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.subst(x) for x in v]
        return v


def fixture():
    global _fx
    if _fx is None:
        _fx = Fixture()
    return _fx


def ip_batch(netns, *commands):
    """The JSON answers of several `ip -d -j` commands in netns, run by one `ip -batch`."""
    cmd = ["ip", "-d", "-j"] + (["-n", netns] if netns else []) + ["-batch", "-"]
    out = run(cmd, input="".join(c + "\n" for c in commands)).stdout
    answers = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(answers) == len(commands), "ip -batch gave %d answers: %r" % (len(answers), out)
    return answers


def link_view(links, prefixed=False):
    out = []
    for l in links:
        if prefixed and not l["ifname"].startswith(PREFIX):
            continue
        out.append((l["ifname"], l["ifindex"], l["mtu"], l.get("address"), l.get("master"),
                    l.get("ifalias"), "UP" in l["flags"],
                    (l.get("linkinfo") or {}).get("info_kind")))
    return sorted(out)


def addr_view(links):
    out = []
    for l in links:
        for a in l.get("addr_info", []):
            if not a["local"].startswith("fe80:"):
                out.append((l["ifname"], a["local"], a["prefixlen"]))
    return sorted(out)


def route_view(routes):
    out = []
    for r in routes:
        dst = r.get("dst", "")
        if dst.startswith(("fe80", "ff00")):
            continue
        out.append((dst, r.get("gateway"), r.get("dev"), r.get("metric"), r.get("table"),
                    r.get("type")))
    return sorted(out, key=repr)


def snapshot(fx):
    """What a refused request must not change: links, addresses, routes, namespaces, state."""
    view = {}
    for ns in (fx.M, fx.M2, fx.F):
        links, addrs, routes = ip_batch(ns, "link show", "addr show", "route show table all")
        view[ns] = {"links": link_view(links), "addrs": addr_view(addrs),
                    "routes": route_view(routes)}
    view[fx.M]["routes6"] = route_view(ip_json("-6", "route", "show", "table", "all",
                                               netns=fx.M))
    view["host"] = link_view(ip_json("-d", "link"), prefixed=True)
    try:
        view["netns"] = sorted(n for n in os.listdir("/run/netns") if n.startswith(PREFIX))
    except FileNotFoundError:
        view["netns"] = []
    view["state"] = state_files(fx.d)
    return view


def diff(a, b):
    out = []
    for k in a:
        if a[k] != b[k]:
            out.append("%s: %r -> %r" % (k, a[k], b[k]))
    return "; ".join(out)


INVALID = -32602

# (description, method, params, code, kind, field); code may be a tuple of allowed codes.
CASES = [
    # link.add: names
    ("link.add name of 16 bytes", "link.add",
     {"netns": "$M", "name": "a" * 16, "kind": "bridge"}, INVALID, "invalid", "name"),
    ("link.add name with a slash", "link.add",
     {"netns": "$M", "name": "a/b", "kind": "bridge"}, INVALID, "invalid", "name"),
    ("link.add empty name", "link.add",
     {"netns": "$M", "name": "", "kind": "bridge"}, INVALID, "invalid", "name"),
    ("link.add name with a space", "link.add",
     {"netns": "$M", "name": "eth 0", "kind": "bridge"}, INVALID, "invalid", "name"),
    ("link.add name with a colon", "link.add",
     {"netns": "$M", "name": "eth0:1", "kind": "bridge"}, INVALID, "invalid", "name"),
    ("link.add name '..'", "link.add",
     {"netns": "$M", "name": "..", "kind": "bridge"}, INVALID, "invalid", "name"),
    ("link.add name not a string", "link.add",
     {"netns": "$M", "name": 7, "kind": "bridge"}, INVALID, "invalid", "name"),
    ("link.add without name", "link.add",
     {"netns": "$M", "kind": "bridge"}, INVALID, "invalid", "name"),
    # link.add: kinds and their options
    ("link.add unknown kind", "link.add",
     {"netns": "$M", "name": "t0", "kind": "tun"}, INVALID, "invalid", "kind"),
    ("link.add without kind", "link.add",
     {"netns": "$M", "name": "t0"}, INVALID, "invalid", "kind"),
    ("link.add id on a dummy", "link.add",
     {"netns": "$M", "name": "t0", "kind": "dummy", "id": 5}, INVALID, "invalid", "id"),
    ("link.add parent on a bridge", "link.add",
     {"netns": "$M", "name": "t0", "kind": "bridge", "parent": "p0"}, INVALID, "invalid",
     "parent"),
    ("link.add peer on a bridge", "link.add",
     {"netns": "$M", "name": "t0", "kind": "bridge", "peer": {"name": "t1"}}, INVALID,
     "invalid", "peer"),
    ("link.add stp on a veth", "link.add",
     {"netns": "$M", "name": "t0", "kind": "veth", "stp": True,
      "peer": {"name": "t1", "netns": "$M"}}, INVALID, "invalid", "stp"),
    ("link.add mode on a vxlan", "link.add",
     {"netns": "$M", "name": "t0", "kind": "vxlan", "id": 1, "mode": "bridge"}, INVALID,
     "invalid", "mode"),
    ("link.add veth without peer", "link.add",
     {"netns": "$M", "name": "t0", "kind": "veth"}, INVALID, "invalid", "peer"),
    ("link.add veth peer without name", "link.add",
     {"netns": "$M", "name": "t0", "kind": "veth", "peer": {"netns": "$M"}}, INVALID,
     "invalid", "peer.name"),
    ("link.add veth peer with an unknown member", "link.add",
     {"netns": "$M", "name": "t0", "kind": "veth", "peer": {"name": "t1", "colour": 1}},
     INVALID, "invalid", "peer.colour"),
    ("link.add veth peer not an object", "link.add",
     {"netns": "$M", "name": "t0", "kind": "veth", "peer": "t1"}, INVALID, "invalid", "peer"),
    ("link.add veth both ends one name", "link.add",
     {"netns": "$M", "name": "t0", "kind": "veth", "peer": {"name": "t0", "netns": "$M"}},
     INVALID, "invalid", "peer.name"),
    ("link.add veth peer name too long", "link.add",
     {"netns": "$M", "name": "t0", "kind": "veth", "peer": {"name": "b" * 16}}, INVALID,
     "invalid", "peer.name"),
    ("link.add veth peer mtu 10", "link.add",
     {"netns": "$M", "name": "t0", "kind": "veth", "peer": {"name": "t1", "netns": "$M",
                                                            "mtu": 10}},
     INVALID, "invalid", "peer.mtu"),
    ("link.add veth peer bad MAC", "link.add",
     {"netns": "$M", "name": "t0", "kind": "veth",
      "peer": {"name": "t1", "netns": "$M", "address": "02:00:00:00:00:zz"}},
     INVALID, "invalid", "peer.address"),
    ("link.add vlan id 0", "link.add",
     {"netns": "$M", "name": "t0", "kind": "vlan", "parent": "p0", "id": 0}, INVALID,
     "invalid", "id"),
    ("link.add vlan id 4095", "link.add",
     {"netns": "$M", "name": "t0", "kind": "vlan", "parent": "p0", "id": 4095}, INVALID,
     "invalid", "id"),
    ("link.add vlan without id", "link.add",
     {"netns": "$M", "name": "t0", "kind": "vlan", "parent": "p0"}, INVALID, "invalid", "id"),
    ("link.add vlan without parent", "link.add",
     {"netns": "$M", "name": "t0", "kind": "vlan", "id": 10}, INVALID, "invalid", "parent"),
    ("link.add vlan unknown protocol", "link.add",
     {"netns": "$M", "name": "t0", "kind": "vlan", "parent": "p0", "id": 10,
      "protocol": "802.1x"}, INVALID, "invalid", "protocol"),
    ("link.add macvlan unknown mode", "link.add",
     {"netns": "$M", "name": "t0", "kind": "macvlan", "parent": "p0", "mode": "fast"},
     INVALID, "invalid", "mode"),
    ("link.add macvlan without parent", "link.add",
     {"netns": "$M", "name": "t0", "kind": "macvlan"}, INVALID, "invalid", "parent"),
    ("link.add vxlan without id", "link.add",
     {"netns": "$M", "name": "t0", "kind": "vxlan", "remote": "10.9.0.2"}, INVALID, "invalid",
     "id"),
    ("link.add vxlan id -1", "link.add",
     {"netns": "$M", "name": "t0", "kind": "vxlan", "id": -1}, INVALID, "invalid", "id"),
    ("link.add vxlan remote not an address", "link.add",
     {"netns": "$M", "name": "t0", "kind": "vxlan", "id": 1, "remote": "abc"}, INVALID,
     "invalid", "remote"),
    ("link.add vxlan remote and group", "link.add",
     {"netns": "$M", "name": "t0", "kind": "vxlan", "id": 1, "remote": "10.9.0.2",
      "group": "239.1.1.1", "dev": "p0"}, INVALID, "invalid", "group"),
    ("link.add vxlan group without dev", "link.add",
     {"netns": "$M", "name": "t0", "kind": "vxlan", "id": 1, "group": "239.1.1.1"}, INVALID,
     "invalid", "dev"),
    ("link.add vxlan port 0", "link.add",
     {"netns": "$M", "name": "t0", "kind": "vxlan", "id": 1, "port": 0}, INVALID, "invalid",
     "port"),
    ("link.add stp not a boolean", "link.add",
     {"netns": "$M", "name": "t0", "kind": "bridge", "stp": "off"}, INVALID, "invalid", "stp"),
    # link.add: common options
    ("link.add bad MAC", "link.add",
     {"netns": "$M", "name": "t0", "kind": "bridge", "address": "zz:zz:zz:zz:zz:zz"},
     INVALID, "invalid", "address"),
    ("link.add multicast MAC", "link.add",
     {"netns": "$M", "name": "t0", "kind": "bridge", "address": "01:00:5e:00:00:01"},
     INVALID, "invalid", "address"),
    ("link.add short MAC", "link.add",
     {"netns": "$M", "name": "t0", "kind": "bridge", "address": "02:00:00:00:00"},
     INVALID, "invalid", "address"),
    ("link.add mtu 10", "link.add",
     {"netns": "$M", "name": "t0", "kind": "bridge", "mtu": 10}, INVALID, "invalid", "mtu"),
    ("link.add mtu 70000", "link.add",
     {"netns": "$M", "name": "t0", "kind": "bridge", "mtu": 70000}, INVALID, "invalid", "mtu"),
    ("link.add mtu as a string", "link.add",
     {"netns": "$M", "name": "t0", "kind": "bridge", "mtu": "1500"}, INVALID, "invalid",
     "mtu"),
    ("link.add up as a string", "link.add",
     {"netns": "$M", "name": "t0", "kind": "bridge", "up": "yes"}, INVALID, "invalid", "up"),
    ("link.add unknown param", "link.add",
     {"netns": "$M", "name": "t0", "kind": "bridge", "colour": "blue"}, INVALID, "invalid",
     "colour"),
    # link.add: namespaces and references
    ("link.add in a missing namespace", "link.add",
     {"netns": "$MISSING", "name": "t0", "kind": "bridge"}, 1, "not_found", "netns"),
    ("link.add in a namespace made by ip netns add", "link.add",
     {"netns": "$F", "name": "t0", "kind": "bridge"}, 5, "permission", "netns"),
    ("link.add with a malformed namespace name", "link.add",
     {"netns": "../etc", "name": "t0", "kind": "bridge"}, INVALID, "invalid", "netns"),
    ("link.add master that does not exist", "link.add",
     {"netns": "$M", "name": "t0", "kind": "bridge", "master": "nobr"}, 1, "not_found",
     "master"),
    ("link.add macvlan parent that does not exist", "link.add",
     {"netns": "$M", "name": "t0", "kind": "macvlan", "parent": "nodev"}, 1, "not_found",
     "parent"),
    ("link.add vxlan dev that does not exist", "link.add",
     {"netns": "$M", "name": "t0", "kind": "vxlan", "id": 1, "remote": "10.9.0.2",
      "dev": "nodev"}, 1, "not_found", "dev"),
    ("link.add peer in a missing namespace", "link.add",
     {"netns": "$M", "name": "t0", "kind": "veth", "peer": {"name": "t1", "netns": "$MISSING"}},
     1, "not_found", "peer.netns"),
    ("link.add peer in a namespace made by ip netns add", "link.add",
     {"netns": "$M", "name": "t0", "kind": "veth", "peer": {"name": "t1", "netns": "$F"}},
     5, "permission", "peer.netns"),
    ("link.add peer master that does not exist", "link.add",
     {"netns": "$M", "name": "t0", "kind": "veth",
      "peer": {"name": "t1", "netns": "$M2", "master": "nobr"}}, 1, "not_found",
     "peer.master"),
    ("link.add duplicate of a netnsd link", "link.add",
     {"netns": "$M", "name": "br0", "kind": "bridge"}, 2, "exists", "name"),
    ("link.add duplicate of a hand-made link", "link.add",
     {"netns": "$M", "name": "hand0", "kind": "bridge"}, 2, "exists", "name"),
    ("link.add veth whose peer name is taken", "link.add",
     {"netns": "$M", "name": "t0", "kind": "veth", "peer": {"name": "p1", "netns": "$M"}},
     2, "exists", "peer.name"),
    ("link.add in the host over a host device", "link.add",
     {"name": "$H", "kind": "bridge"}, 2, "exists", "name"),
    # link.set
    ("link.set up on a host device netnsd did not make", "link.set",
     {"name": "$H", "up": True}, 5, "permission", "name"),
    ("link.set mtu on a host device netnsd did not make", "link.set",
     {"name": "$H", "mtu": 1400}, 5, "permission", "name"),
    ("link.set rename of a host device netnsd did not make", "link.set",
     {"name": "$H", "rename": "$Hx"}, 5, "permission", "name"),
    ("link.set move_to the namespace it is in", "link.set",
     {"netns": "$M", "name": "br0", "move_to": "$M"}, INVALID, "invalid", "move_to"),
    ("link.set move_to null from the host", "link.set",
     {"name": "$HB", "move_to": None}, INVALID, "invalid", "move_to"),
    ("link.set master together with move_to", "link.set",
     {"netns": "$M", "name": "p1", "master": "br0", "move_to": "$M2"}, INVALID, "invalid",
     "master"),
    ("link.set of a link that does not exist", "link.set",
     {"netns": "$M", "name": "nolink", "up": True}, 1, "not_found", "name"),
    ("link.set master that does not exist", "link.set",
     {"netns": "$M", "name": "p1", "master": "nobr"}, 1, "not_found", "master"),
    ("link.set rename onto an existing link", "link.set",
     {"netns": "$M", "name": "p1", "rename": "br0"}, 2, "exists", "rename"),
    ("link.set rename with a slash", "link.set",
     {"netns": "$M", "name": "p1", "rename": "a/b"}, INVALID, "invalid", "rename"),
    ("link.set bad MAC", "link.set",
     {"netns": "$M", "name": "p1", "address": "nonsense"}, INVALID, "invalid", "address"),
    ("link.set mtu 70000", "link.set",
     {"netns": "$M", "name": "p1", "mtu": 70000}, INVALID, "invalid", "mtu"),
    ("link.set up as a string", "link.set",
     {"netns": "$M", "name": "p1", "up": "true"}, INVALID, "invalid", "up"),
    ("link.set move_to a missing namespace", "link.set",
     {"netns": "$M", "name": "p1", "move_to": "$MISSING"}, 1, "not_found", "move_to"),
    ("link.set move_to a namespace made by ip netns add", "link.set",
     {"netns": "$M", "name": "p1", "move_to": "$F"}, 5, "permission", "move_to"),
    ("link.set in a namespace made by ip netns add", "link.set",
     {"netns": "$F", "name": "fbr", "up": True}, 5, "permission", "netns"),
    ("link.set unknown param", "link.set",
     {"netns": "$M", "name": "p1", "speed": 10}, INVALID, "invalid", "speed"),
    ("link.set without name", "link.set",
     {"netns": "$M", "up": True}, INVALID, "invalid", "name"),
    # link.delete
    ("link.delete of a host device netnsd did not make", "link.delete",
     {"name": "$H"}, 5, "permission", "name"),
    ("link.delete of lo in a managed namespace", "link.delete",
     {"netns": "$M", "name": "lo"}, 5, "permission", "name"),
    ("link.delete of a hand-made link in a managed namespace", "link.delete",
     {"netns": "$M", "name": "hand0"}, 5, "permission", "name"),
    ("link.delete of a link that does not exist", "link.delete",
     {"netns": "$M", "name": "nolink"}, 1, "not_found", "name"),
    ("link.delete in a namespace made by ip netns add", "link.delete",
     {"netns": "$F", "name": "fbr"}, 5, "permission", "netns"),
    ("link.delete in a missing namespace", "link.delete",
     {"netns": "$MISSING", "name": "eth0"}, 1, "not_found", "netns"),
    ("link.delete name of 16 bytes", "link.delete",
     {"netns": "$M", "name": "c" * 16}, INVALID, "invalid", "name"),
    # link.list
    ("link.list of a missing namespace", "link.list",
     {"netns": "$MISSING"}, 1, "not_found", "netns"),
    ("link.list netns not a string", "link.list", {"netns": 5}, INVALID, "invalid", "netns"),
    ("link.list unknown param", "link.list", {"all": True}, INVALID, "invalid", "all"),
    # addr.add / addr.delete / addr.list
    ("addr.add prefix /33", "addr.add",
     {"netns": "$M", "dev": "p0", "address": "10.0.0.1/33"}, INVALID, "invalid", "address"),
    ("addr.add three-octet address", "addr.add",
     {"netns": "$M", "dev": "p0", "address": "10.0.0/24"}, INVALID, "invalid", "address"),
    ("addr.add IPv6 prefix /129", "addr.add",
     {"netns": "$M", "dev": "p0", "address": "fd00::/129"}, INVALID, "invalid", "address"),
    ("addr.add not an address", "addr.add",
     {"netns": "$M", "dev": "p0", "address": "abc"}, INVALID, "invalid", "address"),
    ("addr.add empty address", "addr.add",
     {"netns": "$M", "dev": "p0", "address": ""}, INVALID, "invalid", "address"),
    ("addr.add negative prefix", "addr.add",
     {"netns": "$M", "dev": "p0", "address": "10.0.0.1/-1"}, INVALID, "invalid", "address"),
    ("addr.add without address", "addr.add",
     {"netns": "$M", "dev": "p0"}, INVALID, "invalid", "address"),
    ("addr.add nodad not a boolean", "addr.add",
     {"netns": "$M", "dev": "p0", "address": "fd00::1/64", "nodad": "yes"}, INVALID,
     "invalid", "nodad"),
    ("addr.add on a device that does not exist", "addr.add",
     {"netns": "$M", "dev": "nodev", "address": "10.22.0.1/24"}, 1, "not_found", "dev"),
    ("addr.add duplicate address", "addr.add",
     {"netns": "$M", "dev": "p0", "address": "10.20.0.1/24"}, 2, "exists", "address"),
    ("addr.add on a host device netnsd did not make", "addr.add",
     {"dev": "$H", "address": "10.22.0.1/24"}, 5, "permission", "dev"),
    ("addr.add in a missing namespace", "addr.add",
     {"netns": "$MISSING", "dev": "eth0", "address": "10.22.0.1/24"}, 1, "not_found", "netns"),
    ("addr.add in a namespace made by ip netns add", "addr.add",
     {"netns": "$F", "dev": "fbr", "address": "10.22.0.1/24"}, 5, "permission", "netns"),
    ("addr.delete of an absent address", "addr.delete",
     {"netns": "$M", "dev": "p0", "address": "10.20.0.9/24"}, 1, "not_found", "address"),
    ("addr.delete on a device that does not exist", "addr.delete",
     {"netns": "$M", "dev": "nodev", "address": "10.20.0.1/24"}, 1, "not_found", "dev"),
    ("addr.delete malformed address", "addr.delete",
     {"netns": "$M", "dev": "p0", "address": "10.20.0.1/99"}, INVALID, "invalid", "address"),
    ("addr.list of a device that does not exist", "addr.list",
     {"netns": "$M", "dev": "nodev"}, 1, "not_found", "dev"),
    ("addr.list of a missing namespace", "addr.list",
     {"netns": "$MISSING"}, 1, "not_found", "netns"),
    # route.add / route.delete / route.list
    ("route.add dst with host bits", "route.add",
     {"netns": "$M", "dst": "10.30.0.1/24", "dev": "p0"}, INVALID, "invalid", "dst"),
    ("route.add dst not an address", "route.add",
     {"netns": "$M", "dst": "abc", "dev": "p0"}, INVALID, "invalid", "dst"),
    ("route.add empty dst", "route.add",
     {"netns": "$M", "dst": "", "dev": "p0"}, INVALID, "invalid", "dst"),
    ("route.add dst prefix /33", "route.add",
     {"netns": "$M", "dst": "10.30.0.0/33", "dev": "p0"}, INVALID, "invalid", "dst"),
    ("route.add without dst", "route.add",
     {"netns": "$M", "dev": "p0"}, INVALID, "invalid", "dst"),
    ("route.add via of the wrong family", "route.add",
     {"netns": "$M", "dst": "10.30.0.0/24", "via": "fd00::1"}, INVALID, "invalid", "via"),
    ("route.add default inet via an IPv6 gateway", "route.add",
     {"netns": "$M", "dst": "default", "family": "inet", "via": "fd00::1"}, INVALID, "invalid",
     "via"),
    ("route.add via not an address", "route.add",
     {"netns": "$M", "dst": "10.30.0.0/24", "via": "gateway"}, INVALID, "invalid", "via"),
    ("route.add without via or dev", "route.add",
     {"netns": "$M", "dst": "10.30.0.0/24"}, INVALID, "invalid", "dev"),
    ("route.add unknown type", "route.add",
     {"netns": "$M", "dst": "10.30.0.0/24", "dev": "p0", "type": "local"}, INVALID, "invalid",
     "type"),
    ("route.add unknown family", "route.add",
     {"netns": "$M", "dst": "default", "dev": "p0", "family": "ipx"}, INVALID, "invalid",
     "family"),
    ("route.add family inet6 with an IPv4 dst", "route.add",
     {"netns": "$M", "dst": "10.30.0.0/24", "dev": "p0", "family": "inet6"}, INVALID,
     "invalid", "family"),
    ("route.add table 0", "route.add",
     {"netns": "$M", "dst": "10.30.0.0/24", "dev": "p0", "table": 0}, INVALID, "invalid",
     "table"),
    ("route.add metric -1", "route.add",
     {"netns": "$M", "dst": "10.30.0.0/24", "dev": "p0", "metric": -1}, INVALID, "invalid",
     "metric"),
    ("route.add metric 2^32", "route.add",
     {"netns": "$M", "dst": "10.30.0.0/24", "dev": "p0", "metric": 4294967296}, INVALID,
     "invalid", "metric"),
    ("route.add on a device that does not exist", "route.add",
     {"netns": "$M", "dst": "10.30.0.0/24", "dev": "nodev"}, 1, "not_found", "dev"),
    ("route.add in the host without dev", "route.add",
     {"dst": "10.30.0.0/24", "via": "10.20.0.2"}, 5, "permission", "dev"),
    ("route.add in the host on a device netnsd did not make", "route.add",
     {"dst": "10.30.0.0/24", "dev": "$H"}, 5, "permission", "dev"),
    ("route.add duplicate route", "route.add",
     {"netns": "$M", "dst": "10.21.0.0/24", "via": "10.20.0.2"}, 2, "exists", "dst"),
    ("route.add in a missing namespace", "route.add",
     {"netns": "$MISSING", "dst": "default", "dev": "eth0"}, 1, "not_found", "netns"),
    ("route.add in a namespace made by ip netns add", "route.add",
     {"netns": "$F", "dst": "default", "dev": "fbr"}, 5, "permission", "netns"),
    ("route.delete of an absent route", "route.delete",
     {"netns": "$M", "dst": "10.31.0.0/24", "dev": "p0"}, 1, "not_found", "dst"),
    ("route.delete dst with host bits", "route.delete",
     {"netns": "$M", "dst": "10.21.0.1/24", "via": "10.20.0.2"}, INVALID, "invalid", "dst"),
    ("route.list unknown family", "route.list",
     {"netns": "$M", "family": "ipx"}, INVALID, "invalid", "family"),
    ("route.list table 0", "route.list", {"netns": "$M", "table": 0}, INVALID, "invalid",
     "table"),
    ("route.list of a missing namespace", "route.list",
     {"netns": "$MISSING"}, 1, "not_found", "netns"),
]


def check_error(e, code, kind, field):
    codes = code if isinstance(code, tuple) else (code,)
    assert e.code in codes, "code %r, expected %r: %s" % (e.code, code, e)
    assert e.kind == kind, "data.kind %r, expected %r: %s" % (e.kind, kind, e)
    assert e.field == field, "data.field %r, expected %r: %s" % (e.field, field, e)
    assert e.error.get("message"), "no message: %s" % e


_last = None


def run_case(desc, method, params, code, kind, field):
    """One refused request; the kernel and the state are compared with the last snapshot."""
    global _last
    fx = fixture()
    params = fx.subst(params)
    before = _last or snapshot(fx)
    e = fx.d.expect_error(method, params)
    after = _last = snapshot(fx)
    assert fx.d.alive(), "netnsd died"
    fx.d.call("daemon.ping")
    changed = diff(before, after)
    check_error(e, code, kind, field)
    assert not changed, "the refused request changed something: %s" % changed


def _register(i, case):
    def fn():
        run_case(*case)
    fn.__name__ = "case%03d" % i
    fn.__doc__ = "%s (%s)" % (case[0], case[1])
    test(fn)


assert len(CASES) >= 30
for _i, _case in enumerate(CASES, 1):
    _register(_i, _case)


# --- Failures halfway must undo themselves. ---

def no_trace(fx, before, names):
    global _last
    after = _last = snapshot(fx)
    changed = diff(before, after)
    assert not changed, "a failed link.add left something behind: %s" % changed
    for ns in (fx.M, fx.M2):
        present = {l["ifname"] for l in ip_json("link", netns=ns)} & set(names)
        assert not present, "%s still has %s" % (ns, present)
        listed = {l["name"] for l in fx.d.call("link.list", {"netns": ns})["links"]}
        assert not listed & set(names), listed


@test
def veth_whose_peer_master_is_missing_leaves_neither_end():
    """link.add veth, peer in another namespace, peer.master missing: neither end left"""
    fx = fixture()
    before = snapshot(fx)
    e = fx.d.expect_error("link.add", {"netns": fx.M, "name": "h0", "kind": "veth",
                                       "peer": {"name": "h1", "netns": fx.M2,
                                                "master": "nobr"}})
    check_error(e, 1, "not_found", "peer.master")
    no_trace(fx, before, ["h0", "h1"])


@test
def veth_whose_peer_master_is_no_bridge_is_undone():
    """link.add veth whose peer.master is not a bridge: the kernel refuses after creation; undone"""
    global _last
    fx = fixture()
    before = snapshot(fx)
    e = fx.d.expect_error("link.add", {"netns": fx.M, "name": "h2", "kind": "veth",
                                       "up": True,
                                       "peer": {"name": "h3", "netns": fx.M2, "master": "q1",
                                                "up": True}})
    assert e.code >= 1 and e.kind in ("invalid", "kernel", "unsupported"), e
    no_trace(fx, before, ["h2", "h3"])
    # Nothing stale blocks the same names afterwards.
    fx.d.call("link.add", {"netns": fx.M, "name": "h2", "kind": "veth",
                           "peer": {"name": "h3", "netns": fx.M2}})
    fx.d.call("link.delete", {"netns": fx.M, "name": "h2"})
    assert "h3" not in {l["ifname"] for l in ip_json("link", netns=fx.M2)}
    _last = None  # the state files changed


@test
def master_that_is_no_bridge_creates_nothing():
    """link.add with a master that is not a bridge: refused, nothing created"""
    fx = fixture()
    before = snapshot(fx)
    e = fx.d.expect_error("link.add", {"netns": fx.M, "name": "h4", "kind": "bridge",
                                       "master": "p1"})
    assert e.code >= 1 and e.kind in ("invalid", "kernel", "unsupported"), e
    no_trace(fx, before, ["h4"])


@test
def link_set_master_that_is_no_bridge_changes_nothing():
    """link.set master onto a non-bridge: refused, link and state unchanged"""
    fx = fixture()
    before = snapshot(fx)
    e = fx.d.expect_error("link.set", {"netns": fx.M, "name": "p1", "master": "p0"})
    assert e.code >= 1 and e.kind in ("invalid", "kernel", "unsupported"), e
    changed = diff(before, snapshot(fx))
    assert fx.d.alive()
    assert not changed, changed


if __name__ == "__main__":
    raise SystemExit(main())
