#!/usr/bin/env python3
"""netnsctl link, addr and route against a real netnsd and the real kernel.

The seed workflows are built with netnsctl alone (ip-style words, -n NS) and
checked with the kernel's own view (`ip -j`, `bridge -j`, ping between
addresses assigned inside our own namespaces): CORE's two nodes on a host
bridge, blue and red joined by a veth, a stand-in NIC lent to a namespace, a
default route that makes a third namespace reachable.  Then every subcommand
and keyword, --json output against the daemon's own result, exit statuses
0/1/2, the help pages, the bash completion, and netnsctl under valgrind.

Host-side objects carry the harness prefix (uniq()) so cleanup() removes
them; inside namespaces plain names like eth0 are used.  This kernel may lack
the dummy and vlan drivers; an ifb device (or one end of a veth made here)
stands in for a NIC, and checks that need a missing driver skip, saying so.
"""

import json
import os
import shutil
import subprocess

from netnsd_test import (NETNSCTL, TOP_SRCDIR, Skip, ip_json, main, run, test, tmpdir, uniq,
                         wait_for, sanitized)
from netnsctl_test import ctl, daemon, fails, ok, one_json, table  # noqa: E402

NOSOCK = "/nonexistent/netnsd.sock"














def rows_by(text, key):
    return {r[key]: r for r in table(text)[1]}


def new_ns(*extra):
    name = uniq("n")
    ok("netns", "add", name, *extra)
    return name


def link(name, netns=None):
    """`ip -j -d link show NAME` (in netns), or None when there is no such device."""
    cmd = ["ip"] + (["-n", netns] if netns else []) + ["-j", "-d", "link", "show", "dev", name]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0 or not p.stdout.strip():
        return None
    return (json.loads(p.stdout) or [None])[0]


def info_data(l):
    return (l.get("linkinfo") or {}).get("info_data") or {}


def addrs(netns, dev=None):
    """{"ADDRESS/PREFIX", ...} per `ip -j addr` (global and link scope alike)."""
    out = set()
    for l in ip_json("addr", "show", *(["dev", dev] if dev else []), netns=netns):
        for a in l.get("addr_info", []):
            out.add("%s/%d" % (a["local"], a["prefixlen"]))
    return out


def ping(netns, addr, tries=3):
    """True when `ping -c1 -W2` from netns to addr succeeds (a few tries: ARP, DAD)."""
    cmd = ["ip", "netns", "exec", netns, "ping", "-c1", "-W2"] + (["-6"] if ":" in addr else [])
    for _ in range(tries):
        if subprocess.run(cmd + [addr], capture_output=True).returncode == 0:
            return True
    return False


def standin(name):
    """A host device netnsd did not make, standing in for a physical NIC."""
    for kind in ("dummy", "ifb"):
        if subprocess.run(["ip", "link", "add", name, "type", kind],
                          capture_output=True).returncode == 0:
            return name
    raise Skip("the kernel has neither dummy nor ifb devices for a stand-in NIC")


def same_as_daemon(args, method, params):
    """netnsctl --json ARGS prints what METHOD(params) returns (retried: links settle)."""
    last = {}

    def check():
        last["ctl"] = one_json(ok("--json", *args))
        last["rpc"] = daemon().call(method, params)
        return last["ctl"] == last["rpc"]

    assert wait_for(check, timeout=10), "netnsctl --json %s:\n%r\n!= %s:\n%r" % (
        " ".join(args), last["ctl"], method, last["rpc"])
    return last["ctl"]


def entry(result, name, key="links"):
    for e in result[key]:
        if e["name"] == name:
            return e
    return None


# --- Help and usage. ---

@test
def test_help():
    """--help of link, addr, route and every subcommand; examples replay the seeds"""
    top = ok("--help", socket=NOSOCK)
    for word in ("link", "addr", "route", "--netns"):
        assert word in top, word
    subs = {"link": ("add", "delete", "set", "list"), "addr": ("add", "delete", "list"),
            "route": ("add", "delete", "list")}
    aliases = {"delete": ("del",), "list": ("ls", "show")}
    for fam, names in subs.items():
        h = ok(fam, "--help", socket=NOSOCK)
        assert h == ok("help", fam, socket=NOSOCK) == ok(fam, "-h", socket=NOSOCK)
        assert h.startswith("Usage: netnsctl [OPTION]... %s COMMAND" % fam), h[:200]
        assert "Examples:" in h and "Exit status" in h and "-n NS" in h, h
        for sub in names:
            assert ("netnsctl %s %s" % (fam, sub)) in h, (fam, sub)
            sh = ok(fam, sub, "--help", socket=NOSOCK)
            assert sh == ok("help", fam, sub, socket=NOSOCK) == ok(fam, sub, "-h", socket=NOSOCK)
            assert sh.startswith("Usage:\n  netnsctl %s %s" % (fam, sub)), sh
            for alias in aliases.get(sub, ()):
                if (fam, alias) == ("link", "show"):
                    continue  # its own verb: one link by name (link.get), or the list
                assert ok(fam, alias, "--help", socket=NOSOCK) == sh, (fam, alias)
                assert alias in sh
    # The keywords a user needs are documented where they are used.
    add = ok("link", "add", "--help", socket=NOSOCK)
    for word in ("type KIND", "peer PEER", "netns PEERNS", "master BRIDGE", "mtu N",
                 "address MAC", "noipv6ll", "stp on|off", "vlan_filtering", "id N",
                 "protocol 802.1Q|802.1ad", "mode bridge|private|vepa|passthru", "remote IP",
                 "group IP", "port N", "veth", "bridge", "vlan", "macvlan", "vxlan", "dummy"):
        assert word in add, word
    lset = ok("link", "set", "--help", socket=NOSOCK)
    for word in ("up|down", "nomaster", "name NEWNAME", "netns NS|host", "ipv6ll on|off",
                 "delay TIME", "loss PCT", "rate RATE", "noimpair"):
        assert word in lset, word
    assert ok("link", "show", "--help", socket=NOSOCK).startswith(
        "Usage:\n  netnsctl link show [[dev] NAME]")
    radd = ok("route", "add", "--help", socket=NOSOCK)
    for word in ("default", "via IP", "dev DEV", "metric N", "table N", "blackhole", "-6"):
        assert word in radd, word
    # The examples replay the seed workflows.
    link_help = ok("link", "--help", socket=NOSOCK)
    assert "type bridge up" in link_help and "peer n1.0.1 netns host" in link_help
    assert "link set n2.0 netns n2" in link_help and "link set n2.0 name eth0 up" in link_help
    assert "peer veth1 netns red" in link_help and "ip netns exec n1 ping" in link_help
    assert "link set eth1 netns blue" in link_help
    route_help = ok("route", "--help", socket=NOSOCK)
    assert "route add default via 10.1.0.1" in route_help
    assert "ip_forward=1" in route_help and "ip netns exec red ping" in route_help
    assert "nodad" in ok("addr", "--help", socket=NOSOCK)


@test
def test_usage_errors():
    """malformed link, addr and route words exit 2 with a hint and reach no daemon"""
    name = uniq("u")
    cases = [
        ("link", "bogus"), ("link", "add"), ("link", "add", name),
        ("link", "add", name, "type"), ("link", "add", name, "type", "veth", "peer"),
        ("link", "add", name, "type", "veth", "peer", "p", "stp", "on"),
        ("link", "add", name, "type", "veth", "peer", "p", "peer", "q"),
        ("link", "add", name, "type", "veth", "peer", "p", "frob"),
        ("link", "add", name, "type", "bridge", "netns", "x"),
        ("link", "add", name, "extra", "type", "bridge"),
        ("link", "add", name, "type", "bridge", "mtu", "big"),
        ("link", "add", name, "type", "bridge", "mtu", "-5"),
        ("link", "add", name, "type", "bridge", "mtu", "1400", "mtu", "1500"),
        ("link", "add", name, "type", "bridge", "stp", "yes"),
        ("link", "add", name, "type", "bridge", "mtu"),
        ("link", "set"), ("link", "set", name, "up", "down"),
        ("link", "set", name, "master", "b", "nomaster"), ("link", "set", name, "ipv6ll", "1"),
        ("link", "set", name, "frob"), ("link", "set", name, "mtu", "99999999999"),
        ("link", "delete"), ("link", "del", name, "extra"), ("link", "list", "extra"),
        ("addr", "bogus"), ("addr", "add"), ("addr", "add", "10.0.0.1/24"),
        ("addr", "add", "dev", "eth0"), ("addr", "add", "10.0.0.1/24", "10.0.0.2/24"),
        ("addr", "del", "10.0.0.1/24", "dev", "eth0", "nodad"), ("addr", "list", "a", "b"),
        ("route", "bogus"), ("route", "add"), ("route", "add", "via", "10.0.0.1"),
        ("route", "add", "default", "metric", "x"), ("route", "add", "default", "-4", "-6"),
        ("route", "add", "default", "table", "nope"), ("route", "del", "default", "extra"),
        ("route", "list", "extra"), ("route", "list", "table"),
        ("-n", name, "netns", "list"), ("-n", name, "info"),
    ]
    for args in cases:
        err = fails(2, *args, socket=NOSOCK)
        assert "Try 'netnsctl" in err and "--help'" in err, (args, err)
        assert "cannot connect" not in err, (args, err)
    # The hint names the subcommand's own help page, whatever alias was typed.
    err = fails(2, "link", "del", socket=NOSOCK)
    assert err.startswith("netnsctl: link del: missing NAME\n"), err
    assert "Try 'netnsctl link delete --help'" in err, err
    err = fails(2, "route", "add", "default", "-4", "-6", socket=NOSOCK)
    assert "'-6' repeats or contradicts" in err, err
    err = fails(2, "link", "add", "x", "type", "veth", "peer", "y", "stp", "on", socket=NOSOCK)
    assert "put 'stp' before 'peer'" in err, err
    err = fails(2, "link", "add", "x", "type", "veth", "netns", "r", socket=NOSOCK)
    assert "-n NS" in err, err
    assert not any(l["ifname"].startswith(name) for l in ip_json("link"))


# --- The seed scenarios. ---

@test
def test_core_two_nodes_on_a_bridge():
    """CORE: host bridge, eth0 per node (made in place, or moved and renamed), ping"""
    d = daemon()
    n1, n2 = new_ns(), new_ns()
    br, e1, e2, tmp = uniq("b"), uniq("v"), uniq("v"), uniq("v")
    assert ok("link", "add", br, "type", "bridge", "up") == ""
    kb = link(br)
    assert kb and kb["linkinfo"]["info_kind"] == "bridge" and "UP" in kb["flags"], kb
    assert info_data(kb).get("forward_delay") == 0 and info_data(kb).get("stp_state") == 0

    # Node 1: eth0 made inside, the peer in the host on the bridge (ip's word order).
    assert ok("-n", n1, "link", "add", "eth0", "type", "veth", "up", "noipv6ll", "peer", e1,
              "netns", "host", "master", br, "up") == ""
    # Node 2 as CORE's script does it: a pair in the host, one end moved in, renamed eth0.
    assert ok("link", "add", e2, "type", "veth", "master", br, "up", "peer", "name", tmp) == ""
    assert link(tmp) is not None
    assert ok("link", "set", tmp, "netns", n2) == ""
    assert link(tmp) is None and link(tmp, n2) is not None
    assert ok("-n", n2, "link", "set", "dev", tmp, "name", "eth0", "up") == ""
    assert link(tmp, n2) is None
    ok("-n", n1, "addr", "add", "10.0.0.1/24", "dev", "eth0")
    ok("-n", n2, "addr", "add", "10.0.0.2/24", "dev", "eth0")

    for ns, host_end in ((n1, e1), (n2, e2)):
        k = link("eth0", ns)
        assert k and k["linkinfo"]["info_kind"] == "veth" and "UP" in k["flags"], k
        h = link(host_end)
        assert h and h.get("master") == br and "UP" in h["flags"], h
        assert addrs(ns, "eth0") >= {"10.0.0.%d/24" % (1 if ns == n1 else 2)}
    assert link("eth0", n1)["inet6_addr_gen_mode"] == "none"
    ports = {p["ifname"] for p in json.loads(run(["bridge", "-j", "link", "show"]).stdout or "[]")
             if p.get("master") == br}
    assert ports == {e1, e2}, ports
    assert ping(n1, "10.0.0.2") and ping(n2, "10.0.0.1")

    # The host table: our bridge and ports, with master, kind, state and peers.
    cols, _ = table(ok("link", "list"))
    assert cols == ["NAME", "KIND", "STATE", "MTU", "ADDRESS", "MASTER", "MANAGED", "PEER"], cols
    host = rows_by(ok("link", "list"), "NAME")
    assert host[br]["KIND"] == "bridge" and host[br]["MANAGED"] == "created", host[br]
    assert host[br]["STATE"].startswith("UP/") and host[br]["PEER"] == "-", host[br]
    assert host[br]["ADDRESS"] == link(br)["address"] and host[br]["MTU"] == str(kb["mtu"])
    assert host[e1]["MASTER"] == br and host[e1]["PEER"] == "eth0@" + n1, host[e1]
    assert host[e2]["MASTER"] == br and host[e2]["PEER"] == "eth0@" + n2, host[e2]
    assert host[e1]["STATE"] == "UP/up", host[e1]
    # Node 1's table (-n), the same through ls, show and the bare family.
    # The same listing through every spelling (looked at again while the kernel
    # still changes a state: on a slow machine carrier comes between calls).
    assert wait_for(lambda: ok("-n", n1, "link", "ls") == ok("-n", n1, "link", "show") ==
                    ok("-n", n1, "link") == ok("-n", n1, "link", "list"), timeout=10)
    inside = ok("-n", n1, "link", "list")
    rows = rows_by(inside, "NAME")
    assert set(rows) == {"lo", "eth0"}, rows
    assert rows["eth0"]["PEER"] == e1 + "@host" and rows["eth0"]["MANAGED"] == "created"
    assert rows["eth0"]["STATE"] == "UP/up" and rows["eth0"]["MASTER"] == "-", rows["eth0"]
    assert rows["lo"]["KIND"] == "-" and rows["lo"]["MTU"] == "65536", rows["lo"]
    assert ok("-n", n1, "link", "list", "--names").split() == \
        [l["name"] for l in d.call("link.list", {"netns": n1})["links"]]
    same_as_daemon(["-n", n1, "link", "list"], "link.list", {"netns": n1})
    same_as_daemon(["-n", n2, "addr", "list"], "addr.list", {"netns": n2})

    # Deleting the host end removes the node's eth0 as well.
    assert ok("link", "delete", e1) == ""
    assert link(e1) is None and link("eth0", n1) is None
    ok("-n", n2, "link", "del", "eth0")
    assert link(e2) is None and link("eth0", n2) is None
    ok("link", "del", br)
    assert link(br) is None
    for ns in (n1, n2):
        ok("netns", "del", ns)


@test
def test_blue_red_veth():
    """blue and red joined by a veth (-n, peer ... netns); the peer defaults to -n's namespace"""
    d = daemon()
    blue, red = new_ns(), new_ns()
    out = ok("-n", blue, "link", "add", "veth0", "type", "veth", "peer", "veth1", "netns", red)
    assert out == ""
    assert link("veth0", blue) and link("veth1", red) and link("veth1", blue) is None
    assert "UP" not in link("veth0", blue)["flags"]  # only what was asked: not up
    row = rows_by(ok("-n", blue, "link", "ls"), "NAME")["veth0"]
    assert row["PEER"] == "veth1@" + red and row["STATE"].startswith("DOWN/"), row
    assert rows_by(ok("-n", red, "link", "ls"), "NAME")["veth1"]["PEER"] == "veth0@" + blue
    ok("-n", blue, "addr", "add", "10.1.1.1/24", "dev", "veth0")
    ok("-n", red, "addr", "add", "10.1.1.2/24", "dev", "veth1")
    ok("-n", blue, "link", "set", "veth0", "up")
    ok("-n", red, "link", "set", "veth1", "up")
    assert "UP" in link("veth0", blue)["flags"] and "UP" in link("veth1", red)["flags"]
    assert ping(blue, "10.1.1.2") and ping(red, "10.1.1.1")

    # As with ip -n, a peer without 'netns' is made in the same namespace.
    ok("-n", blue, "link", "add", "a0", "type", "veth", "peer", "a1")
    assert link("a0", blue) and link("a1", blue), ip_json("link", netns=blue)
    assert rows_by(ok("-n", blue, "link"), "NAME")["a0"]["PEER"] == "a1@" + blue
    ok("-n", blue, "link", "del", "a1")
    assert link("a0", blue) is None and link("a1", blue) is None
    # Without -n the peer is in the host: 'peer NAME' alone, and 'netns host' moves it out.
    hp = uniq("h")
    ok("-n", blue, "link", "add", "h0", "type", "veth", "peer", hp, "netns", "host")
    assert link(hp) is not None and link("h0", blue) is not None
    ok("link", "del", hp)
    assert link(hp) is None and link("h0", blue) is None

    ok("-n", blue, "link", "del", "veth0")
    assert link("veth0", blue) is None and link("veth1", red) is None
    assert entry(d.call("link.list", {"netns": red}), "veth1") is None
    for ns in (blue, red):
        ok("netns", "del", ns)


@test
def test_lend_a_nic():
    """a stand-in NIC moved into a namespace is borrowed, changed there, and given back"""
    nic = standin(uniq("i"))
    blue = new_ns()
    assert ok("link", "set", nic, "netns", blue) == ""
    assert link(nic) is None and link(nic, blue) is not None
    row = rows_by(ok("-n", blue, "link", "list"), "NAME")[nic]
    assert row["MANAGED"] == "borrowed" and row["PEER"] == "-", row
    ok("-n", blue, "link", "set", nic, "name", "uplink", "mtu", "1400", "up")
    k = link("uplink", blue)
    assert k and k["mtu"] == 1400 and "UP" in k["flags"], k
    ok("-n", blue, "addr", "add", "10.3.0.1/24", "dev", "uplink")
    assert "10.3.0.1/24" in addrs(blue, "uplink")
    res = one_json(ok("-n", blue, "link", "delete", "uplink", "--json"))
    # The device is back in the host under its own name, out of the namespace.
    assert link("uplink", blue) is None and link(nic) is not None, ip_json("link", netns=blue)
    assert res["name"] == "uplink" and res["netns"] == blue, res
    ok("netns", "del", blue)


@test
def test_lend_a_nic_reports_returned():
    """deleting a borrowed device says it was returned (action "returned"), in text too"""
    nic = standin(uniq("i"))
    blue = new_ns()
    ok("link", "set", nic, "netns", blue)
    out = ok("-n", blue, "link", "del", nic)
    assert link(nic) is not None and link(nic, blue) is None
    ok("link", "set", nic, "netns", blue)
    res = one_json(ok("-n", blue, "link", "del", nic, "-j"))
    assert link(nic) is not None
    ok("netns", "del", blue)
    assert res == {"netns": blue, "name": nic, "action": "returned"}, res
    assert out == "%s was borrowed: returned it to the namespace and name it came from\n" % nic, \
        out


@test
def test_default_route_to_a_third_namespace():
    """red reaches green through blue with default routes; route list/del"""
    d = daemon()
    blue = new_ns("sysctl", "net.ipv4.ip_forward=1")
    red, green = new_ns(), new_ns()
    ok("-n", red, "link", "add", "eth0", "type", "veth", "up", "peer", "r0", "netns", blue, "up")
    ok("-n", green, "link", "add", "eth0", "type", "veth", "up", "peer", "g0", "netns", blue,
       "up")
    ok("-n", blue, "addr", "add", "10.1.0.1/24", "dev", "r0")
    ok("-n", blue, "addr", "add", "10.2.0.1/24", "dev", "g0")
    ok("-n", red, "addr", "add", "10.1.0.2/24", "dev", "eth0")
    ok("-n", green, "addr", "add", "10.2.0.2/24", "dev", "eth0")
    # Without routes red cannot reach green.
    assert not ping(red, "10.2.0.2", tries=1)
    assert ok("-n", red, "route", "add", "default", "via", "10.1.0.1") == ""
    r = one_json(ok("-n", green, "route", "add", "default", "via", "10.2.0.1", "--json"))
    assert r == {"netns": green, "dst": "0.0.0.0/0", "via": "10.2.0.1"}, r
    kr = ip_json("route", "show", "default", netns=red)
    assert len(kr) == 1 and kr[0]["gateway"] == "10.1.0.1" and kr[0]["dev"] == "eth0", kr
    assert ping(red, "10.2.0.2") and ping(green, "10.1.0.2")

    cols, rows = table(ok("-n", red, "route", "list"))
    assert cols == ["DST", "VIA", "DEV", "METRIC", "TABLE", "MANAGED"], cols
    dflt = [x for x in rows if x["DST"] == "default"]
    assert dflt == [{"DST": "default", "VIA": "10.1.0.1", "DEV": "eth0", "METRIC": "0",
                     "TABLE": "main", "MANAGED": "yes"}], rows
    conn = [x for x in rows if x["DST"] == "10.1.0.0/24"]
    assert conn and conn[0]["MANAGED"] == "no" and conn[0]["VIA"] == "-", rows
    assert wait_for(lambda: ok("-n", red, "route", "ls") == ok("-n", red, "route", "show") ==
                    ok("-n", red, "route"), timeout=10)
    same_as_daemon(["-n", red, "route", "list"], "route.list", {"netns": red})

    assert ok("-n", red, "route", "del", "default", "via", "10.1.0.1") == ""
    assert ip_json("route", "show", "default", netns=red) == []
    assert not ping(red, "10.2.0.2", tries=1)
    err = fails(1, "-n", red, "route", "delete", "default", "via", "10.1.0.1")
    assert "(field: dst)" in err, err
    assert not [x for x in d.call("route.list", {"netns": red})["routes"] if x["managed"]]
    for ns in (red, green, blue):
        ok("netns", "del", ns)


# --- Every subcommand and keyword. ---

@test
def test_link_set_keywords():
    """link set: up/down, mtu, address, master/nomaster, name, ipv6ll, netns NS|host"""
    d = daemon()
    ns = new_ns()
    ok("-n", ns, "link", "add", "br0", "type", "bridge")
    ok("-n", ns, "link", "add", "v0", "type", "veth", "mtu", "1400", "address",
       "02:00:00:00:01:01", "peer", "v1", "mtu", "1300", "address", "02:00:00:00:01:02")
    k0, k1 = link("v0", ns), link("v1", ns)
    assert k0["mtu"] == 1400 and k0["address"] == "02:00:00:00:01:01", k0
    assert k1["mtu"] == 1300 and k1["address"] == "02:00:00:00:01:02", k1
    ok("-n", ns, "link", "set", "v0", "up", "mtu", "1280", "address", "02:00:00:00:01:03",
       "master", "br0", "ipv6ll", "off")
    k0 = link("v0", ns)
    assert "UP" in k0["flags"] and k0["mtu"] == 1280, k0
    assert k0["address"] == "02:00:00:00:01:03" and k0.get("master") == "br0", k0
    assert k0["inet6_addr_gen_mode"] == "none", k0
    assert rows_by(ok("-n", ns, "link", "list"), "NAME")["v0"]["MASTER"] == "br0"
    res = one_json(ok("-n", ns, "link", "set", "v0", "nomaster", "down", "ipv6ll", "on", "-j"))
    assert res["master"] is None and res["up"] is False and res["name"] == "v0", res
    k0 = link("v0", ns)
    assert "master" not in k0 and "UP" not in k0["flags"], k0
    assert k0["inet6_addr_gen_mode"] != "none", k0
    # --json of set is the link as link.list shows it.
    assert entry(d.call("link.list", {"netns": ns}), "v0") == res
    ok("-n", ns, "link", "set", "v0", "name", "w0")
    assert link("v0", ns) is None and link("w0", ns) is not None
    # netns host moves a device out to the host, netns NS moves it back.
    hv = uniq("h")
    ok("-n", ns, "link", "set", "v1", "name", hv)
    ok("-n", ns, "link", "set", hv, "netns", "host")
    assert link(hv) is not None and link(hv, ns) is None
    assert rows_by(ok("link", "ls"), "NAME")[hv]["PEER"] == "w0@" + ns
    ok("link", "set", hv, "netns", ns)
    assert link(hv) is None and link(hv, ns) is not None
    # A set with nothing to change is a no-op that answers the link.
    res = one_json(ok("-n", ns, "link", "set", "w0", "--json"))
    assert res["name"] == "w0" and res["mtu"] == 1280, res
    ok("netns", "del", ns)


@test
def test_bridge_options():
    """link add of bridges with stp, vlan_filtering, mtu, up; ports made with master"""
    ns = new_ns()
    ok("-n", ns, "link", "add", "br0", "type", "bridge", "stp", "on", "mtu", "1400", "up")
    k = link("br0", ns)
    assert info_data(k).get("stp_state") == 1 and k["mtu"] == 1400 and "UP" in k["flags"], k
    res = one_json(ok("-n", ns, "link", "add", "br1", "type", "bridge", "stp", "off",
                      "vlan_filtering", "off", "--json"))
    assert res["stp"] is False and res["vlan_filtering"] is False and res["kind"] == "bridge"
    p = ctl("-n", ns, "link", "add", "br2", "type", "bridge", "vlan_filtering", "on")
    if p.returncode == 0:
        assert info_data(link("br2", ns)).get("vlan_filtering") == 1
    else:
        assert p.returncode == 1 and p.stderr.startswith("netnsctl: "), p.stderr
    ok("-n", ns, "link", "add", "eth0", "type", "veth", "master", "br0", "peer", "eth1",
       "master", "br1")
    assert link("eth0", ns).get("master") == "br0" and link("eth1", ns).get("master") == "br1"
    rows = rows_by(ok("-n", ns, "link", "list"), "NAME")
    assert rows["eth0"]["MASTER"] == "br0" and rows["eth1"]["MASTER"] == "br1", rows
    # (A new port may lower the bridge's MTU: the table says what the kernel says.)
    assert rows["br0"]["KIND"] == "bridge", rows
    assert rows["br0"]["MTU"] == str(link("br0", ns)["mtu"]), rows
    ok("netns", "del", ns)


@test
def test_stacked_kinds():
    """link add of dummy, vlan, macvlan and vxlan with their options, where the kernel has them"""
    ns = new_ns()
    ok("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "eth1")
    skipped = []
    for kind, words, check in (
            ("dummy", ["d0", "type", "dummy"], lambda: link("d0", ns)),
            ("vlan", ["eth1.100", "type", "vlan", "link", "eth1", "id", "100", "protocol",
                      "802.1Q"],
             lambda: info_data(link("eth1.100", ns)).get("id") == 100),
            ("macvlan", ["mv0", "type", "macvlan", "parent", "eth1", "mode", "private"],
             lambda: info_data(link("mv0", ns)).get("mode") == "private"),
            ("vxlan", ["vx0", "type", "vxlan", "id", "42", "remote", "10.9.9.9", "local",
                       "10.9.9.8", "port", "4790", "dev", "eth1"],
             lambda: info_data(link("vx0", ns)).get("id") == 42 and
             info_data(link("vx0", ns)).get("port") == 4790)):
        p = ctl("-n", ns, "link", "add", *words)
        if p.returncode == 1 and ("Unknown device type" in p.stderr or
                                  "not supported" in p.stderr.lower()):
            assert link(words[0], ns) is None, "a refused %s left a link" % kind
            skipped.append(kind)
            continue
        assert p.returncode == 0 and p.stdout == "", (kind, p.returncode, p.stderr)
        assert check(), (kind, link(words[0], ns))
        assert rows_by(ok("-n", ns, "link", "ls"), "NAME")[words[0]]["KIND"] == kind
    ok("netns", "del", ns)
    if skipped:
        raise Skip("the others checked; this kernel has no %s driver" % ", ".join(skipped))


@test
def test_addr_subcommands():
    """addr add (v4, v6, nodad), list [dev], del; --json is the daemon's result"""
    d = daemon()
    ns = new_ns()
    ok("-n", ns, "link", "add", "e0", "type", "veth", "up", "peer", "e1", "up")
    assert ok("-n", ns, "addr", "add", "10.4.0.1/24", "dev", "e0") == ""
    res = one_json(ok("-n", ns, "addr", "add", "dev", "e1", "fd00:4::1/64", "nodad", "--json"))
    assert res == {"netns": ns, "dev": "e1", "address": "fd00:4::1/64", "nodad": True}, res
    ok("-n", ns, "addr", "add", "local", "10.4.1.1/24", "dev", "e1")
    assert addrs(ns, "e0") >= {"10.4.0.1/24"} and addrs(ns, "e1") >= {"fd00:4::1/64",
                                                                        "10.4.1.1/24"}
    # nodad: usable at once, never tentative.
    k6 = [a for l in ip_json("addr", "show", "dev", "e1", netns=ns) for a in l["addr_info"]
          if a["local"] == "fd00:4::1"]
    assert k6 and not k6[0].get("tentative"), k6

    cols, rows = table(ok("-n", ns, "addr", "list"))
    assert cols == ["DEV", "FAMILY", "ADDRESS", "SCOPE", "MANAGED"], cols
    mine = {(r["DEV"], r["ADDRESS"]): r for r in rows}
    assert mine[("e0", "10.4.0.1/24")] == {"DEV": "e0", "FAMILY": "inet", "ADDRESS": "10.4.0.1/24",
                                           "SCOPE": "global", "MANAGED": "yes"}, mine
    assert mine[("e1", "fd00:4::1/64")]["FAMILY"] == "inet6"
    assert mine[("lo", "127.0.0.1/8")]["MANAGED"] == "no" and \
        mine[("lo", "127.0.0.1/8")]["SCOPE"] == "host"
    only = table(ok("-n", ns, "addr", "list", "dev", "e0"))[1]
    assert only and {r["DEV"] for r in only} == {"e0"}, only
    # The same listing both ways (looked at again while the kernel still adds e0's
    # IPv6 link-local address: on a slow machine it comes between the two calls).
    assert wait_for(lambda: ok("-n", ns, "addr", "show", "e0") ==
                    ok("-n", ns, "addr", "ls", "dev", "e0"), timeout=10)
    same_as_daemon(["-n", ns, "addr", "list", "dev", "e1"], "addr.list", {"netns": ns, "dev": "e1"})

    res = one_json(ok("-n", ns, "addr", "del", "10.4.0.1/24", "dev", "e0", "--json"))
    assert res == {"netns": ns, "dev": "e0", "address": "10.4.0.1/24"}, res
    assert "10.4.0.1/24" not in addrs(ns, "e0")
    assert ok("-n", ns, "addr", "delete", "fd00:4::1/64", "dev", "e1") == ""
    assert "fd00:4::1/64" not in addrs(ns, "e1")
    err = fails(1, "-n", ns, "addr", "del", "10.4.0.1/24", "dev", "e0")
    assert "(field: address)" in err, err
    # The address and device checks are the daemon's.
    err = fails(1, "-n", ns, "addr", "add", "10.4.0.300/24", "dev", "e0")
    assert "(field: address)" in err, err
    assert not [a for a in d.call("addr.list", {"netns": ns})["addresses"]
                if a["address"] == "10.4.0.300/24"]
    ok("netns", "del", ns)


@test
def test_route_subcommands():
    """route add/del with metric, table, type (both spellings), -6; list with table, -4, -6"""
    ns = new_ns()
    ok("-n", ns, "link", "add", "e0", "type", "veth", "up", "peer", "e1", "up")
    ok("-n", ns, "addr", "add", "10.5.0.1/24", "dev", "e0")
    ok("-n", ns, "addr", "add", "fd00:5::1/64", "dev", "e0", "nodad")
    ok("-n", ns, "route", "add", "10.9.0.0/16", "via", "10.5.0.2", "metric", "100", "table", "10")
    kr = ip_json("route", "show", "table", "10", netns=ns)
    assert [(r["dst"], r.get("gateway"), r.get("metric")) for r in kr] == \
        [("10.9.0.0/16", "10.5.0.2", 100)], kr
    ok("-n", ns, "route", "add", "blackhole", "10.66.0.0/16")
    ok("-n", ns, "route", "add", "10.67.0.0/16", "type", "unreachable")
    ok("-n", ns, "route", "add", "to", "10.68.0.0/16", "dev", "e0", "table", "main")
    types = {r["dst"]: r.get("type") for r in ip_json("route", "show", netns=ns)}
    assert types.get("10.66.0.0/16") == "blackhole" and types.get("10.67.0.0/16") == "unreachable"
    assert "10.68.0.0/16" in types
    ok("-n", ns, "route", "add", "default", "dev", "e0", "-6")
    k6 = ip_json("-6", "route", "show", "default", netns=ns)
    assert len(k6) == 1 and k6[0]["dev"] == "e0", k6

    rows = table(ok("-n", ns, "route", "list"))[1]
    dsts = {r["DST"]: r for r in rows}
    assert dsts["blackhole 10.66.0.0/16"]["MANAGED"] == "yes", dsts
    assert dsts["unreachable 10.67.0.0/16"]["DEV"] == "-", dsts
    assert "10.9.0.0/16" in dsts and dsts["10.9.0.0/16"]["TABLE"] == "10", dsts
    t10 = table(ok("-n", ns, "route", "list", "table", "10"))[1]
    assert t10 == [{"DST": "10.9.0.0/16", "VIA": "10.5.0.2", "DEV": "e0", "METRIC": "100",
                    "TABLE": "10", "MANAGED": "yes"}], t10
    assert set(r["DST"] for r in table(ok("-n", ns, "route", "list", "-6"))[1]) >= \
        {"default", "fd00:5::/64"}
    v4 = table(ok("-n", ns, "route", "ls", "-4"))[1]
    assert v4 and not [r for r in v4 if ":" in r["DST"]], v4
    assert wait_for(lambda: ok("-n", ns, "route", "list", "family", "inet") ==
                    ok("-n", ns, "route", "list", "-4"), timeout=10)
    same_as_daemon(["-n", ns, "route", "list", "table", "10"], "route.list",
                   {"netns": ns, "table": 10})
    same_as_daemon(["-n", ns, "route", "list", "-6"], "route.list",
                   {"netns": ns, "family": "inet6"})

    res = one_json(ok("-n", ns, "route", "del", "10.9.0.0/16", "via", "10.5.0.2", "metric",
                      "100", "table", "10", "--json"))
    assert res["dst"] == "10.9.0.0/16" and res["table"] == 10 and res["metric"] == 100, res
    assert ip_json("route", "show", "table", "10", netns=ns) == []
    ok("-n", ns, "route", "delete", "blackhole", "10.66.0.0/16")
    ok("-n", ns, "route", "del", "10.67.0.0/16", "type", "unreachable")
    ok("-n", ns, "route", "del", "default", "dev", "e0", "family", "inet6")
    assert ip_json("-6", "route", "show", "default", netns=ns) == []
    left = {r["dst"] for r in ip_json("route", "show", netns=ns)}
    assert not left & {"10.66.0.0/16", "10.67.0.0/16"}, left
    ok("netns", "del", ns)


# --- Errors and exit statuses. ---

@test
def test_daemon_errors():
    """daemon errors exit 1 with exactly 'netnsctl: MESSAGE (field: X)'"""
    d = daemon()
    ns = new_ns()
    foreign = uniq("f")
    run(["ip", "netns", "add", foreign])
    nic = standin(uniq("i"))
    ok("-n", ns, "link", "add", "e0", "type", "veth", "peer", "e1")
    cases = [
        (["-n", ns, "link", "add", "e0", "type", "bridge"],
         "link.add", {"netns": ns, "name": "e0", "kind": "bridge"}),
        (["-n", ns, "link", "add", "x", "type", "frob"],
         "link.add", {"netns": ns, "name": "x", "kind": "frob"}),
        (["-n", ns, "link", "add", "x", "type", "bridge", "mtu", "10"],
         "link.add", {"netns": ns, "name": "x", "kind": "bridge", "mtu": 10}),
        (["-n", ns, "link", "add", "x", "type", "veth", "peer", "y", "netns", uniq("none")],
         None, None),
        (["-n", uniq("none"), "link", "list"], None, None),
        (["-n", foreign, "link", "add", "x", "type", "bridge"],
         "link.add", {"netns": foreign, "name": "x", "kind": "bridge"}),
        (["link", "set", nic, "up"], "link.set", {"name": nic, "up": True}),
        (["link", "del", nic], "link.delete", {"name": nic}),
        (["-n", ns, "link", "set", "nope", "up"], "link.set", {"netns": ns, "name": "nope",
                                                              "up": True}),
        (["-n", ns, "link", "set", "e0", "master", "nope"],
         "link.set", {"netns": ns, "name": "e0", "master": "nope"}),
        (["-n", ns, "addr", "add", "10.0.0.1/24", "dev", "nope"],
         "addr.add", {"netns": ns, "dev": "nope", "address": "10.0.0.1/24"}),
        (["-n", ns, "addr", "list", "nope"], "addr.list", {"netns": ns, "dev": "nope"}),
        (["-n", ns, "route", "add", "10.0.0.1/8", "dev", "e0"],
         "route.add", {"netns": ns, "dst": "10.0.0.1/8", "dev": "e0"}),
        (["-n", ns, "route", "add", "10.0.0.0/8"],
         "route.add", {"netns": ns, "dst": "10.0.0.0/8"}),
        (["-n", ns, "route", "add", "default", "type", "frob", "dev", "e0"],
         "route.add", {"netns": ns, "dst": "default", "type": "frob", "dev": "e0"}),
        (["route", "add", "10.0.0.0/8", "dev", nic],
         "route.add", {"dst": "10.0.0.0/8", "dev": nic}),
    ]
    try:
        for args, method, params in cases:
            err = fails(1, *args)
            assert "(field: " in err or "Failed" in err, (args, err)
            if method:
                e = d.expect_error(method, params)
                want = "netnsctl: %s%s\n" % (e.error["message"],
                                             " (field: %s)" % e.field if e.field else "")
                assert err == want, (args, err, want)
        # The kernel saw none of it.
        assert link("x", ns) is None and link("y", ns) is None
        assert link("x", foreign) is None and link(nic) is not None
        assert "UP" not in link(nic)["flags"]
    finally:
        run(["ip", "netns", "del", foreign], check=False)
    # No daemon: exit 1 naming the socket.
    err = fails(1, "link", "list", socket=NOSOCK)
    assert NOSOCK in err, err
    ok("netns", "del", ns)


# --- Completion and valgrind. ---

@test
def test_bash_completion():
    """completion: families, keywords, kinds, interface names of -n's namespace, namespaces"""
    d = daemon()
    ns = new_ns()
    ok("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "eth1")
    inner = uniq("q")
    ok("-n", ns, "link", "add", inner, "type", "bridge")
    script = os.path.join(TOP_SRCDIR, "contrib", "bash-completion", "netnsctl")

    def complete(*words):
        prog = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); '
                '_netnsctl; printf "%s\\n" "${COMPREPLY[@]}"')
        out = run(["bash", "-c", prog, "bash", script, NETNSCTL, "-s", d.socket] +
                  list(words)).stdout
        return [w for w in out.splitlines() if w]

    assert {"link", "addr", "route"} <= set(complete(""))
    assert complete("li") == ["link"] and complete("ro") == ["route"]
    assert set(complete("link", "")) >= {"add", "delete", "set", "list"}
    assert set(complete("addr", "")) >= {"add", "delete", "list"}
    assert set(complete("route", "")) >= {"add", "delete", "list"}
    assert complete("link", "add", "x", "type", "") == \
        ["veth", "bridge", "dummy", "vlan", "macvlan", "vxlan"]
    assert "peer" in complete("link", "add", "x", "type", "veth", "")
    assert "stp" in complete("link", "add", "x", "type", "bridge", "")
    assert complete("link", "add", "x", "type", "bridge", "stp", "") == ["on", "off"]
    assert "netns" in complete("link", "add", "x", "type", "veth", "peer", "y", "")
    # Interface names come from the namespace -n names.
    eths = ["eth0", "eth1"]
    assert sorted(complete("-n", ns, "link", "set", "")) == sorted(eths + ["lo", inner])
    assert sorted(complete("-n", ns, "link", "del", "eth")) == eths
    assert sorted(complete("-n", ns, "addr", "add", "10.0.0.1/24", "dev", "eth")) == eths
    assert sorted(complete("-n", ns, "addr", "list", "eth")) == eths
    assert sorted(complete("-n", ns, "route", "add", "default", "dev", "eth")) == eths
    assert sorted(complete("-n", ns, "link", "set", "eth0", "master", "et")) == eths
    # After 'peer ... netns NS', master names come from the peer's namespace.
    assert inner in complete("link", "add", "x", "type", "veth", "peer", "y", "netns", ns,
                             "master", "")
    assert "nomaster" in complete("-n", ns, "link", "set", "eth0", "")
    assert inner not in complete("link", "set", "") and "lo" in complete("link", "set", "")
    # Namespace names after -n and after netns; "host" where it means the host.
    got = complete("-n", ns[:-1])
    assert ns in got and all(w.startswith(ns[:-1]) for w in got), got
    assert ns in complete("link", "set", "x", "netns", "") and \
        "host" in complete("link", "set", "x", "netns", "")
    assert ns in complete("link", "add", "x", "type", "veth", "peer", "y", "netns", "")
    assert complete("route", "add", "default", "table", "") == ["main", "local", "default"]
    assert "-6" in complete("route", "list", "-")
    assert "--names" in complete("link", "list", "-")
    assert complete("help", "route", "") == ["add", "delete", "list"]
    ok("netns", "del", ns)


@test
def test_valgrind():
    """netnsctl link, addr and route commands are valgrind-clean"""
    vg = shutil.which("valgrind")
    if not vg:
        raise Skip("valgrind is not installed")
    if sanitized(NETNSCTL):
        raise Skip("netnsctl is built with AddressSanitizer, which valgrind cannot run")
    ns = new_ns()
    log = os.path.join(tmpdir(), "vg.log")
    cmds = [
        ["-n", ns, "link", "add", "eth0", "type", "veth", "up", "peer", "eth1", "mtu", "1400"],
        ["-n", ns, "link", "set", "eth0", "mtu", "1300", "ipv6ll", "off"],
        ["-n", ns, "addr", "add", "10.6.0.1/24", "dev", "eth0"],
        ["-n", ns, "route", "add", "10.7.0.0/16", "via", "10.6.0.2", "metric", "5"],
        ["-n", ns, "link", "list"], ["-n", ns, "--json", "link", "ls"],
        ["-n", ns, "addr", "list"], ["-n", ns, "route", "list", "-4"],
        ["-n", ns, "link", "add", "eth0", "type", "bridge"],          # daemon error
        ["-n", ns, "link", "add", "x", "type", "veth", "peer", "y", "stp", "on"],  # usage
        ["link", "add", "--help"],
    ]
    for args in cmds:
        p = subprocess.run([vg, "-q", "--leak-check=full", "--show-leak-kinds=all",
                            "--errors-for-leak-kinds=all", "--error-exitcode=99",
                            "--log-file=" + log, NETNSCTL, "-s", daemon().socket] + args,
                           capture_output=True, text=True, timeout=120)
        with open(log) as f:
            report = f.read()
        assert p.returncode in (0, 1, 2), (args, p.returncode, p.stderr, report)
        assert report.strip() == "", (args, report)
    assert "1300" in rows_by(ok("-n", ns, "link", "list"), "NAME")["eth0"]["MTU"]
    ok("netns", "del", ns)


if __name__ == "__main__":
    raise SystemExit(main())
