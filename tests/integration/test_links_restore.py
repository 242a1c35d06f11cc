#!/usr/bin/env python3
"""Integration tests of the restore of links, addresses and routes.

A restart of netnsd (SIGTERM or kill -9) must adopt every link, address and
route it made, leaving the kernel objects as they were (same ifindex), with
traffic still flowing.  A simulated reboot (netnsd killed, its namespaces and
host-side objects deleted by hand, a borrowed "physical" device back in the
host under its original name as after a boot) must recreate everything in
dependency order, so that the CORE two-node bridge and the three-namespace
routed topology ping again.  What cannot be restored is reported in
restore.failed without stopping the rest, and links made by hand are never
touched.
"""

import json
import os
import signal
import subprocess

from netnsd_test import (Daemon, Skip, ip_json, ip_netns_names, main, netns_mounted,
                         run, test, uniq, wait_for)

_standin_kind = None


def link(name, netns=None):
    """`ip -j -d link show NAME` (in netns), or None when there is no such device."""
    cmd = ["ip"] + (["-n", netns] if netns else []) + ["-j", "-d", "link", "show", "dev", name]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0 or not p.stdout.strip():
        return None
    return (json.loads(p.stdout) or [None])[0]


def info_data(l):
    return (l.get("linkinfo") or {}).get("info_data") or {}


def ifindexes(netns=None):
    return {l["ifname"]: l["ifindex"] for l in ip_json("link", netns=netns)}


def addrs(netns, dev):
    out = set()
    for l in ip_json("-4", "addr", "show", "dev", dev, netns=netns):
        for a in l.get("addr_info", []):
            out.add("%s/%d" % (a["local"], a["prefixlen"]))
    return out


def ping(netns, addr, tries=3):
    cmd = ["ip", "netns", "exec", netns, "ping", "-c1", "-W2", addr]
    for _ in range(tries):
        if subprocess.run(cmd, capture_output=True).returncode == 0:
            return True
    return False


def standin(name):
    """A device netnsd did not make, standing in for a physical NIC (dummy, else ifb)."""
    global _standin_kind
    for kind in [_standin_kind] if _standin_kind else ["dummy", "ifb"]:
        if subprocess.run(["ip", "link", "add", name, "type", kind],
                          capture_output=True).returncode == 0:
            _standin_kind = kind
            return name
    raise Skip("the kernel has neither dummy nor ifb devices for a stand-in NIC")


def restore(d):
    """{action: {(kind, name), ...}} from daemon.info."""
    r = d.call("daemon.info")["restore"]
    return {a: {(e["kind"], e["name"]) for e in r[a]} for a in ("adopted", "recreated", "failed")}


def failures(d):
    return d.call("daemon.info")["restore"]["failed"]


def simulate_reboot(namespaces, host_links):
    """What a reboot does: namespaces and virtual host devices gone (netnsd is down)."""
    for ns in namespaces:
        run(["ip", "netns", "del", ns])
    for name in host_links:
        subprocess.run(["ip", "link", "del", name], capture_output=True)
    host = lambda: not set(host_links) & set(ifindexes())  # noqa: E731
    assert wait_for(host, timeout=20), "host links outlived their namespaces: %s" % (
        set(host_links) & set(ifindexes()))
    assert not set(namespaces) & set(ip_netns_names())


class Core:
    """CORE: two nodes on a host bridge; node 2 also holds a borrowed "physical" device."""

    def __init__(self, d):
        self.d = d
        self.n1, self.n2 = uniq("n"), uniq("n")
        self.br, self.e1, self.e2 = uniq("b"), uniq("v"), uniq("v")
        self.phys = standin(uniq("d"))
        self.phys_mac = link(self.phys)["address"]
        for ns in (self.n1, self.n2):
            d.call("netns.add", {"name": ns})
        d.call("link.add", {"name": self.br, "kind": "bridge", "up": True})
        for ns, end, a in ((self.n1, self.e1, "10.0.0.1/24"), (self.n2, self.e2, "10.0.0.2/24")):
            d.call("link.add", {"netns": ns, "name": "eth0", "kind": "veth", "up": True,
                                "peer": {"name": end, "master": self.br, "up": True,
                                         "ipv6_ll": False}})
            d.call("addr.add", {"netns": ns, "dev": "eth0", "address": a})
        d.call("link.set", {"name": self.phys, "move_to": self.n2})
        d.call("link.set", {"netns": self.n2, "name": self.phys, "rename": "eth1", "up": True})
        d.call("addr.add", {"netns": self.n2, "dev": "eth1", "address": "10.7.0.1/24"})
        self.check()

    @property
    def namespaces(self):
        return [self.n1, self.n2]

    @property
    def host_links(self):
        return [self.br, self.e1, self.e2]

    def links(self):
        return {("link", "/" + self.br), ("link", "/" + self.e1), ("link", "/" + self.e2),
                ("link", self.n1 + "/eth0"), ("link", self.n2 + "/eth0"),
                ("link", self.n2 + "/eth1")}

    def ifindexes(self):
        h = ifindexes()
        return {"host": {n: h.get(n) for n in self.host_links},
                self.n1: ifindexes(self.n1), self.n2: ifindexes(self.n2)}

    def check(self, borrowed=True):
        """The whole topology as the kernel shows it, and traffic through it."""
        for ns in self.namespaces:
            assert netns_mounted(ns), "namespace %s is not there" % ns
        b = link(self.br)
        assert b is not None, "no bridge %s in the host" % self.br
        assert info_data(b).get("forward_delay") == 0 and info_data(b).get("stp_state") == 0, b
        assert b.get("ifalias") == "netnsd" and "UP" in b["flags"], b
        for ns, end, a in ((self.n1, self.e1, "10.0.0.1/24"), (self.n2, self.e2, "10.0.0.2/24")):
            h = link(end)
            assert h is not None and h.get("master") == self.br, (end, h)
            assert "UP" in h["flags"] and h.get("ifalias") == "netnsd", h
            assert h.get("inet6_addr_gen_mode") == "none", h.get("inet6_addr_gen_mode")
            e = link("eth0", ns)
            assert e is not None and "UP" in e["flags"], (ns, e)
            assert addrs(ns, "eth0") == {a}, (ns, addrs(ns, "eth0"))
        if borrowed:
            p = link("eth1", self.n2)
            assert p is not None, "the borrowed device is not in %s" % self.n2
            assert p["address"] == self.phys_mac and "UP" in p["flags"], p
            assert addrs(self.n2, "eth1") == {"10.7.0.1/24"}, addrs(self.n2, "eth1")
            assert link(self.phys) is None, "the borrowed device is still in the host"
        assert ping(self.n1, "10.0.0.2"), "node 1 cannot ping node 2"
        assert ping(self.n2, "10.0.0.1"), "node 2 cannot ping node 1"


class Routed:
    """ns1 -- ns2 (forwarding) -- ns3, default route in ns3, a route in ns1."""

    def __init__(self, d):
        self.d = d
        self.ns1, self.ns2, self.ns3 = uniq("n"), uniq("n"), uniq("n")
        d.call("netns.add", {"name": self.ns1})
        d.call("netns.add", {"name": self.ns2, "sysctls": {"net.ipv4.ip_forward": 1}})
        d.call("netns.add", {"name": self.ns3})
        for a, b, na, nb, aa, ab in ((self.ns1, self.ns2, "eth0", "eth1", "10.1.1.1/24",
                                      "10.1.1.2/24"),
                                     (self.ns3, self.ns2, "eth0", "eth2", "10.1.2.3/24",
                                      "10.1.2.2/24")):
            d.call("link.add", {"netns": a, "name": na, "kind": "veth", "up": True,
                                "peer": {"name": nb, "netns": b, "up": True}})
            d.call("addr.add", {"netns": a, "dev": na, "address": aa})
            d.call("addr.add", {"netns": b, "dev": nb, "address": ab})
        d.call("route.add", {"netns": self.ns3, "dst": "default", "via": "10.1.2.2"})
        d.call("route.add", {"netns": self.ns1, "dst": "10.1.2.0/24", "via": "10.1.1.2",
                             "metric": 20})
        self.check()

    @property
    def namespaces(self):
        return [self.ns1, self.ns2, self.ns3]

    def routes(self):
        return {("route", self.ns3 + "/254/0.0.0.0/0/0"),
                ("route", self.ns1 + "/254/10.1.2.0/24/20")}

    def check(self):
        assert run(["ip", "netns", "exec", self.ns2, "sysctl", "-n",
                    "net.ipv4.ip_forward"]).stdout.strip() == "1"
        dflt = ip_json("route", "show", "default", netns=self.ns3)
        assert [r.get("gateway") for r in dflt] == ["10.1.2.2"], dflt
        r1 = ip_json("route", "show", "10.1.2.0/24", netns=self.ns1)
        assert [(r.get("gateway"), r.get("metric")) for r in r1] == [("10.1.1.2", 20)], r1
        assert ping(self.ns1, "10.1.2.3"), "ns1 cannot reach ns3 through ns2"


def hand_made(core):
    """Links made by hand next to netnsd's: one in the host, one in a managed namespace."""
    host = standin(uniq("h"))
    run(["ip", "-n", core.n1, "link", "add", "hand0", "type", "bridge"])
    run(["ip", "-n", core.n1, "addr", "add", "10.8.0.1/24", "dev", "hand0"])
    return host, {"host": link(host)["ifindex"], "ns": link("hand0", core.n1)["ifindex"]}


def check_hand_made(d, core, host, idx, in_ns=True):
    h = link(host)
    assert h is not None and h["ifindex"] == idx["host"], "host link %s was touched" % host
    assert h.get("ifalias") is None and "UP" not in h["flags"], h
    hl = {l["name"]: l for l in d.call("link.list")["links"]}
    assert hl[host]["managed"] is False, hl[host]
    if in_ns:
        k = link("hand0", core.n1)
        assert k is not None and k["ifindex"] == idx["ns"], "hand0 in %s was touched" % core.n1
        assert k.get("ifalias") is None and addrs(core.n1, "hand0") == {"10.8.0.1/24"}, k
        nl = {l["name"]: l for l in d.call("link.list", {"netns": core.n1})["links"]}
        assert nl["hand0"]["managed"] is False, nl["hand0"]
    names = {n for a in restore(d).values() for _, n in a}
    assert not [n for n in names if n.endswith("/" + host) or n.endswith("/hand0")], names


def restart_adopts(sig):
    d = Daemon()
    core = Core(d)
    routed = Routed(d)
    host, idx = hand_made(core)
    before = core.ifindexes()
    before_routed = {ns: ifindexes(ns) for ns in routed.namespaces}

    d.stop(sig)
    d.start()

    assert core.ifindexes() == before, "ifindexes changed over the restart"
    assert {ns: ifindexes(ns) for ns in routed.namespaces} == before_routed
    core.check()
    routed.check()
    check_hand_made(d, core, host, idx)
    rep = restore(d)
    assert not failures(d), failures(d)
    assert rep["recreated"] == set(), "recreated after a mere restart: %s" % rep["recreated"]
    want_ns = {("netns", n) for n in core.namespaces + routed.namespaces}
    assert want_ns <= rep["adopted"], want_ns - rep["adopted"]
    assert core.links() <= rep["adopted"], "links not adopted: %s" % (core.links() - rep["adopted"])
    # Every stored link of the routed topology as well.
    for ns, name in ((routed.ns1, "eth0"), (routed.ns2, "eth1"), (routed.ns2, "eth2"),
                     (routed.ns3, "eth0")):
        assert ("link", ns + "/" + name) in rep["adopted"], (ns, name, rep["adopted"])
    lst = {l["name"]: l for l in d.call("link.list", {"netns": core.n2})["links"]}
    assert lst["eth1"]["origin"] == "borrowed" and lst["eth0"]["origin"] == "created", lst


@test
def restart_after_sigterm_adopts_everything():
    """SIGTERM, start: every namespace and link adopted, same ifindex, ping works"""
    restart_adopts(signal.SIGTERM)


@test
def restart_after_kill9_adopts_everything():
    """kill -9, start: every namespace and link adopted, same ifindex, ping works"""
    restart_adopts(signal.SIGKILL)


@test
def unrecorded_rename_and_move_are_put_back():
    """a link.set rename and move cut short by a crash before their record: put back"""
    d = Daemon()
    a, b = uniq("mva"), uniq("mvb")
    d.call("netns.add", {"name": a})
    d.call("netns.add", {"name": b})
    d.call("link.add", {"netns": a, "name": "x0", "kind": "veth",
                        "peer": {"name": "x1", "netns": a}})
    before = ifindexes(a)
    d.stop(signal.SIGKILL)
    # What netnsd leaves when it dies between the kernel's change and its record: the
    # change made, the intents (as link.set writes them) still there, the state as before.
    run(["ip", "-n", a, "link", "set", "x0", "name", "y0"])
    run(["ip", "-n", a, "link", "set", "x1", "netns", b, "name", "y1"])
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot = f.read().strip()
    idir = os.path.join(d.state_dir, "intents")
    os.makedirs(idir, exist_ok=True)
    for n, (name, to_ns, to_name) in enumerate((("x0", a, "y0"), ("x1", b, "y1")), 1):
        with open(os.path.join(idir, str(n)), "w") as f:
            json.dump({"boot": boot, "kind": "link", "key": "%s/%s" % (a, name),
                       "doc": {"netns": a, "name": name, "ifindex": before[name],
                               "moved_to": {"netns": to_ns, "name": to_name}}}, f)
    d.start()
    assert set(ifindexes(a)) == {"lo", "x0", "x1"}, ifindexes(a)
    assert ifindexes(a)["x0"] == before["x0"], (before, ifindexes(a))
    assert set(ifindexes(b)) == {"lo"}, ifindexes(b)
    assert link("x1", a)["link"] == "x0", link("x1", a)
    assert not failures(d), failures(d)
    assert not os.listdir(idir), os.listdir(idir)
    listed = {l["name"]: l for l in d.call("link.list", {"netns": a})["links"]}
    assert listed["x0"]["managed"] and listed["x1"]["managed"], listed
    for ns in (a, b):
        d.call("netns.delete", {"name": ns})
    d.stop()


@test
def reboot_recreates_core_topology():
    """simulated reboot: CORE bridge, veths, borrowed device, addresses recreated; ping"""
    d = Daemon()
    core = Core(d)
    host, idx = hand_made(core)
    d.kill9()
    simulate_reboot(core.namespaces, core.host_links)
    # A physical NIC comes back in the host at boot under its own name.
    assert link(core.phys) is None
    standin(core.phys)
    core.phys_mac = link(core.phys)["address"]  # a stand-in may not keep its MAC
    d.start()

    core.check()
    check_hand_made(d, core, host, idx, in_ns=False)
    assert not failures(d), failures(d)
    rep = restore(d)
    assert {("netns", n) for n in core.namespaces} <= rep["recreated"], rep
    assert core.links() <= rep["recreated"], core.links() - rep["recreated"]

    # What was recreated is netnsd's as before: a further restart adopts it, and
    # deleting node 2 gives the borrowed device back under its original name.
    before = core.ifindexes()
    d.stop()
    d.start()
    assert core.ifindexes() == before
    assert not failures(d), failures(d)
    assert core.links() <= restore(d)["adopted"]
    core.check()
    d.call("netns.delete", {"name": core.n2})
    back = link(core.phys)
    assert back is not None and back["address"] == core.phys_mac, back
    assert link(core.e2) is None, "the host end of node 2's veth lingers"
    d.stop()
    run(["ip", "link", "del", core.phys])


@test
def reboot_recreates_routed_topology():
    """simulated reboot: three namespaces, forwarding, default route; ping ns1->ns3"""
    d = Daemon()
    routed = Routed(d)
    d.kill9()
    simulate_reboot(routed.namespaces, [])
    d.start()
    routed.check()
    assert not failures(d), failures(d)
    rep = restore(d)
    assert {("netns", n) for n in routed.namespaces} <= rep["recreated"], rep
    for ns, name in ((routed.ns1, "eth0"), (routed.ns2, "eth1"), (routed.ns2, "eth2"),
                     (routed.ns3, "eth0")):
        assert ("link", ns + "/" + name) in rep["recreated"], (ns, name, rep)
    d.stop()


@test
def addresses_and_routes_are_in_the_restore_report():
    """restore report lists addresses and routes: adopted on restart, recreated on reboot"""
    d = Daemon()
    routed = Routed(d)
    addresses = {("addr", routed.ns1 + "/eth0/10.1.1.1/24"),
                 ("addr", routed.ns2 + "/eth2/10.1.2.2/24")}
    want = addresses | routed.routes()
    d.stop()
    d.start()
    routed.check()
    rep = restore(d)
    adopted_missing = want - rep["adopted"]
    d.kill9()
    simulate_reboot(routed.namespaces, [])
    d.start()
    routed.check()
    rep = restore(d)
    recreated_missing = want - rep["recreated"]
    d.stop()
    # PROTOCOL.md, daemon.info: OBJ kind is netns, link, addr or route; an address is
    # NETNS/DEV/ADDRESS, a route NETNS/TABLE/DST/METRIC.
    assert not adopted_missing, "not reported as adopted after a restart: %s" % (
        sorted(adopted_missing))
    assert not recreated_missing, "not reported as recreated after a reboot: %s" % (
        sorted(recreated_missing))


@test
def reboot_with_a_missing_device_restores_the_rest():
    """a borrowed device gone after the reboot is in restore.failed; the rest comes back"""
    d = Daemon()
    core = Core(d)
    d.kill9()
    simulate_reboot(core.namespaces, core.host_links)
    assert link(core.phys) is None  # this time the NIC does not come back
    d.start()

    core.check(borrowed=False)
    assert link("eth1", core.n2) is None
    failed = {(e["kind"], e["name"]): e for e in failures(d)}
    assert ("link", core.n2 + "/eth1") in failed, failed
    e = failed[("link", core.n2 + "/eth1")]
    assert e.get("errno", 0) > 0 and e.get("message"), e
    # Only the missing device and what sits on it failed.
    others = [k for k in failed if k != ("link", core.n2 + "/eth1") and "/eth1/" not in k[1]]
    assert not others, "more than the missing device failed: %s" % others
    rep = restore(d)
    assert core.links() - {("link", core.n2 + "/eth1")} <= rep["recreated"], rep
    assert d.alive()
    d.stop()


if __name__ == "__main__":
    raise SystemExit(main())
