#!/usr/bin/env python3
"""Integration tests of the netns.* and daemon.* methods against the real kernel.

Every check looks at the kernel's own view (ip -j, /run/netns, /proc) or at
the files `ip netns exec` uses, not only at what netnsd answers.
"""

import ctypes
import json
import os
import signal
import subprocess
import sys
import time

from netnsd_test import (Daemon, PREFIX, RpcError, Skip, TOP_SRCDIR, NETNSD, file_bytes, ip_json,
                         ip_netns_names, main, netns_mounted, run, sanitized, test, uniq,
                         wait_for)

_daemon = None

# Orphans of what we start inside namespaces (sh's sleep) come to us, not to a
# PID 1 that does not reap them.
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def daemon():
    """The netnsd most tests here share (fresh names keep them independent)."""
    global _daemon
    if _daemon is None:
        _daemon = Daemon()
    return _daemon


def netns_inode(name):
    return os.stat("/run/netns/" + name).st_ino


def pid_netns_inode(pid):
    try:
        return os.stat("/proc/%d/ns/net" % pid).st_ino
    except OSError:
        return None


def spawn_in(name, *argv):
    """Start argv inside NAME with `ip netns exec`; wait until it is in there."""
    ino = netns_inode(name)
    p = subprocess.Popen(["ip", "netns", "exec", name] + list(argv),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_for(lambda: pid_netns_inode(p.pid) == ino), \
        "pid %d never entered %s" % (p.pid, name)
    return p


def reap(p):
    if p.poll() is None:
        p.kill()
    p.wait()


def reap_killed(pid):
    """Collect an orphan that should have died of SIGKILL; check that it did."""
    try:
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
    except ChildProcessError:
        assert wait_for(lambda: not os.path.exists("/proc/%d" % pid)), "pid %d survived" % pid


def sig_ignored(pid, sig):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("SigIgn:"):
                return bool(int(line.split()[1], 16) & (1 << (sig - 1)))
    return False


def listed(name):
    """The netns.list entry for NAME, or None."""
    for e in daemon().call("netns.list")["namespaces"]:
        if e["name"] == name:
            return e
    return None


def my_netns():
    """Names under /run/netns made by this test process (others run tests too)."""
    return {n for n in ip_netns_names() if n.startswith(PREFIX)}


def state_files(d):
    return {f: file_bytes(os.path.join(d.state_dir, f)) for f in ("state.json", "journal.jsonl")}


def read_sysctl(path):
    with open(path) as f:
        return f.read().strip()


@test
def test_add_basic():
    """netns.add makes a namespace ip netns can use, with lo up."""
    name = uniq("a")
    r = daemon().call("netns.add", {"name": name})
    assert r["name"] == name and r["managed"] is True and r["mounted"] is True, r
    assert netns_mounted(name), "/run/netns/%s is not an nsfs mount" % name
    assert r["inode"] == netns_inode(name), (r, netns_inode(name))
    assert name in ip_netns_names()
    lo = ip_json("link", "show", "lo", netns=name)
    assert len(lo) == 1 and "UP" in lo[0]["flags"], lo
    assert run(["ip", "netns", "exec", name, "true"], check=False).returncode == 0
    # Really a different namespace from the host's.
    assert netns_inode(name) != os.stat("/proc/self/ns/net").st_ino
    assert ip_json("addr", "show", "lo", netns=name)[0]["ifname"] == "lo"


@test
def test_add_nsid():
    """netns.add with nsid assigns that id in the host namespace."""
    name = uniq("i")
    nsid = 4000 + (os.getpid() % 1000)
    r = daemon().call("netns.add", {"name": name, "nsid": nsid})
    assert r["nsid"] == nsid, r
    ids = {e["name"]: e.get("id") for e in ip_json("netns", "list")}
    assert ids.get(name) == nsid, ids
    # ip's nsid dump can come back cut short while other tests make and
    # remove hundreds of namespaces (the kernel marks it interrupted); a
    # missing id is only a failure when it stays missing.
    for _ in range(5):
        if "nsid %d " % nsid in run(["ip", "netns", "list-id"]).stdout:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("nsid %d not in ip netns list-id" % nsid)
    assert daemon().call("netns.get", {"name": name})["nsid"] == nsid


@test
def test_add_sysctls():
    """netns.add sysctls are set inside the namespace and not on the host."""
    name = uniq("s")
    host_fwd = read_sysctl("/proc/sys/net/ipv4/ip_forward")
    host_ttl = read_sysctl("/proc/sys/net/ipv4/ip_default_ttl")
    ttl = 77 if host_ttl != "77" else 78
    r = daemon().call("netns.add", {"name": name, "sysctls": {
        "net.ipv4.ip_forward": "1", "net.ipv4.ip_default_ttl": ttl,
        "net/ipv4/tcp_syn_retries": 3}})
    assert set(r["sysctls"]) == {"net.ipv4.ip_forward", "net.ipv4.ip_default_ttl",
                                 "net/ipv4/tcp_syn_retries"}, r
    inside = run(["ip", "netns", "exec", name, "sysctl", "-n", "net.ipv4.ip_forward",
                  "net.ipv4.ip_default_ttl", "net.ipv4.tcp_syn_retries"]).stdout.split()
    assert inside == ["1", str(ttl), "3"], inside
    inside = run(["ip", "netns", "exec", name, "cat", "/proc/sys/net/ipv4/ip_default_ttl"]).stdout
    assert inside.strip() == str(ttl)
    assert read_sysctl("/proc/sys/net/ipv4/ip_forward") == host_fwd
    assert read_sysctl("/proc/sys/net/ipv4/ip_default_ttl") == host_ttl


@test
def test_add_etc_files():
    """resolv_conf and hosts land in /etc/netns/NAME and are seen by ip netns exec."""
    name = uniq("e")
    hosts = "127.0.0.1 localhost\n10.9.8.7 %s.example\n" % name
    resolv = "nameserver 192.0.2.53\nsearch %s.example\n" % name
    r = daemon().call("netns.add", {"name": name, "hosts": hosts, "resolv_conf": resolv})
    assert r["hosts"] == hosts and r["resolv_conf"] == resolv, r
    assert file_bytes("/etc/netns/%s/hosts" % name) == hosts.encode()
    assert file_bytes("/etc/netns/%s/resolv.conf" % name) == resolv.encode()
    assert run(["ip", "netns", "exec", name, "cat", "/etc/hosts"]).stdout == hosts
    assert run(["ip", "netns", "exec", name, "cat", "/etc/resolv.conf"]).stdout == resolv
    # The host's own files are untouched.
    assert file_bytes("/etc/hosts") != hosts.encode()


@test
def test_add_duplicate():
    """A second netns.add of the same name fails with kind exists and changes nothing."""
    name = uniq("d")
    first = daemon().call("netns.add", {"name": name})
    e = daemon().expect_error("netns.add", {"name": name})
    assert e.code == 2 and e.kind == "exists" and e.field == "name", e
    assert netns_inode(name) == first["inode"]
    # Also when the name is taken by a namespace netnsd did not make.
    other = uniq("d")
    run(["ip", "netns", "add", other])
    ino = netns_inode(other)
    e = daemon().expect_error("netns.add", {"name": other})
    assert e.code == 2 and e.kind == "exists" and e.field == "name", e
    assert netns_mounted(other) and netns_inode(other) == ino
    assert listed(other)["managed"] is False


@test
def test_list_managed():
    """netns.list marks netnsd's namespaces managed and others unmanaged."""
    mine, theirs = uniq("m"), uniq("u")
    daemon().call("netns.add", {"name": mine})
    run(["ip", "netns", "add", theirs])
    entries = {e["name"]: e for e in daemon().call("netns.list")["namespaces"]}
    assert entries[mine]["managed"] is True and entries[mine]["mounted"] is True
    assert entries[theirs]["managed"] is False and entries[theirs]["mounted"] is True
    assert entries[theirs]["inode"] == netns_inode(theirs)
    assert entries[mine]["inode"] == netns_inode(mine)
    # Everything ip netns sees is listed (ours only: other tests run concurrently).
    for n in my_netns():
        assert n in entries, n
    assert "created" in entries[mine] and "created" not in entries[theirs]


@test
def test_get():
    """netns.get describes one namespace; a missing one is not_found."""
    name = uniq("g")
    daemon().call("netns.add", {"name": name, "sysctls": {"net.ipv4.ip_forward": 1}})
    g = daemon().call("netns.get", {"name": name})
    assert g["name"] == name and g["managed"] is True and g["mounted"] is True, g
    assert g["inode"] == netns_inode(name) and g["nsid"] is None, g
    assert g["sysctls"] == {"net.ipv4.ip_forward": "1"}, g
    e = daemon().expect_error("netns.get", {"name": uniq("x")})
    assert e.code == 1 and e.kind == "not_found" and e.field == "name", e


@test
def test_pids_identify():
    """netns.pids lists a process inside; netns.identify maps pids to names."""
    name = uniq("p")
    daemon().call("netns.add", {"name": name})
    assert daemon().call("netns.pids", {"name": name}) == {"name": name, "pids": []}
    p = spawn_in(name, "sleep", "30")
    try:
        r = daemon().call("netns.pids", {"name": name})
        assert r["pids"] == [p.pid], (r, p.pid)
        r = daemon().call("netns.identify", {"pid": p.pid})
        assert r["pid"] == p.pid and name in r["names"], r
        mine = daemon().call("netns.identify", {"pid": os.getpid()})
        assert name not in mine["names"], mine
        host = os.stat("/proc/self/ns/net").st_ino
        for n in mine["names"]:  # only names that really are the host namespace
            try:
                assert netns_inode(n) == host, n
            except FileNotFoundError:
                pass  # removed meanwhile by someone else
    finally:
        reap(p)
    assert daemon().call("netns.pids", {"name": name})["pids"] == []
    e = daemon().expect_error("netns.pids", {"name": uniq("x")})
    assert e.code == 1 and e.kind == "not_found", e
    e = daemon().expect_error("netns.identify", {"pid": 0x7ffffffe})
    assert e.code == 1 and e.kind == "not_found", e


@test
def test_delete():
    """netns.delete removes the mount, the /run/netns entry and /etc/netns/NAME."""
    name = uniq("x")
    daemon().call("netns.add", {"name": name, "hosts": "127.0.0.1 localhost\n"})
    assert os.path.isdir("/etc/netns/" + name)
    r = daemon().call("netns.delete", {"name": name})
    assert {k: r[k] for k in ("name", "terminated", "killed")} == {"name": name, "terminated": [], "killed": []}, r
    assert not netns_mounted(name)
    assert not os.path.lexists("/run/netns/" + name)
    assert not os.path.exists("/etc/netns/" + name)
    assert name not in ip_netns_names()
    assert listed(name) is None
    e = daemon().expect_error("netns.get", {"name": name})
    assert e.kind == "not_found", e


@test
def test_delete_terminates():
    """netns.delete SIGTERMs processes inside and waits for them."""
    name = uniq("t")
    daemon().call("netns.add", {"name": name})
    p = spawn_in(name, "sleep", "60")
    try:
        r = daemon().call("netns.delete", {"name": name, "grace_ms": 10000})
        assert r["terminated"] == [p.pid] and r["killed"] == [], r
        assert p.wait(10) == -signal.SIGTERM, p.returncode
    finally:
        reap(p)
    assert not os.path.lexists("/run/netns/" + name)


@test
def test_delete_kills():
    """A process that ignores SIGTERM is SIGKILLed after grace_ms and reported."""
    name = uniq("k")
    daemon().call("netns.add", {"name": name})
    p = spawn_in(name, "sh", "-c", 'trap "" TERM; sleep 60; exit 0')
    try:
        assert wait_for(lambda: sig_ignored(p.pid, signal.SIGTERM)), "trap never set"
        # sh's sleep child is in there too before we delete.
        assert wait_for(lambda: len(daemon().call("netns.pids", {"name": name})["pids"]) == 2)
        r = daemon().call("netns.delete", {"name": name, "grace_ms": 300})
        assert p.pid in r["terminated"] and p.pid in r["killed"], r
        assert len(r["killed"]) == 2, r
        assert p.wait(10) == -signal.SIGKILL, p.returncode
        for pid in r["killed"]:
            if pid != p.pid:
                reap_killed(pid)
    finally:
        reap(p)
    assert not os.path.lexists("/run/netns/" + name)
    assert listed(name) is None


@test
def test_delete_unmanaged_refused():
    """netns.delete of a namespace made by ip netns add is refused and leaves it."""
    name = uniq("u")
    run(["ip", "netns", "add", name])
    ino = netns_inode(name)
    e = daemon().expect_error("netns.delete", {"name": name})
    assert e.code == 5 and e.kind == "permission" and e.field == "name", e
    assert netns_mounted(name) and netns_inode(name) == ino
    assert name in ip_netns_names()


@test
def test_delete_missing():
    """netns.delete of a name nobody has is not_found."""
    e = daemon().expect_error("netns.delete", {"name": uniq("n")})
    assert e.code == 1 and e.kind == "not_found" and e.field == "name", e


@test
def test_interop_ip_netns_del():
    """After ip netns del of a managed namespace it is listed unmounted, and delete forgets it."""
    name = uniq("r")
    daemon().call("netns.add", {"name": name, "hosts": "127.0.0.1 localhost\n"})
    run(["ip", "netns", "del", name])
    assert not os.path.lexists("/run/netns/" + name)
    e = listed(name)
    assert e is not None and e["mounted"] is False and e["managed"] is False, e
    g = daemon().call("netns.get", {"name": name})
    assert g["mounted"] is False, g
    e = daemon().expect_error("netns.pids", {"name": name})
    assert e.kind == "not_found", e
    r = daemon().call("netns.delete", {"name": name})
    assert r["name"] == name and r["killed"] == [], r
    assert listed(name) is None
    assert daemon().expect_error("netns.get", {"name": name}).kind == "not_found"
    # The name is free again.
    daemon().call("netns.add", {"name": name})
    assert netns_mounted(name) and listed(name)["managed"] is True


@test
def test_interop_forget_removes_etc_files():
    """Forgetting a namespace removed by ip netns del also removes netnsd's /etc/netns files."""
    name = uniq("r")
    daemon().call("netns.add", {"name": name, "hosts": "10.1.2.3 stale\n"})
    run(["ip", "netns", "del", name])
    daemon().call("netns.delete", {"name": name})
    # Left behind, they would become /etc/hosts of the next namespace of that name.
    run(["ip", "netns", "add", name])
    seen = run(["ip", "netns", "exec", name, "cat", "/etc/hosts"]).stdout
    assert "stale" not in seen, "netnsd's old hosts file still applies: %r" % seen
    assert not os.path.exists("/etc/netns/" + name), os.listdir("/etc/netns/" + name)


def provoke_inode_reuse(name, old, tries=80):
    """`ip netns add NAME` until the kernel hands it the freed inode OLD; True if it did.

    nsfs inode numbers come from an allocator that returns the lowest free
    number, so once netnsd's old namespace is freed its number comes back.
    A namespace that got a lower number (a hole left by someone else) is held
    open meanwhile so that hole is not offered again.
    """
    held = []
    try:
        for _ in range(tries):
            run(["ip", "netns", "add", name])
            ino = netns_inode(name)
            if ino == old:
                return True
            if ino < old:
                held.append(os.open("/run/netns/" + name, os.O_RDONLY))
            run(["ip", "netns", "del", name])
            wait_for(lambda: False, timeout=0.01)  # let the kernel free namespaces
        return False
    finally:
        for fd in held:
            os.close(fd)


@test
def test_identity_survives_inode_reuse():
    """Another namespace on a managed name is not netnsd's, even with a reused inode."""
    # "Same inode" alone does not prove "same namespace": the kernel recycles
    # nsfs inode numbers once a namespace is freed.  While netnsd runs it keeps
    # its namespaces referenced, so no number can be recycled under it.
    d = daemon()
    name = uniq("q")
    d.call("netns.add", {"name": name})
    run(["ip", "netns", "del", name])
    run(["ip", "netns", "add", name])
    g = d.call("netns.get", {"name": name})
    assert g["managed"] is False, ("a namespace made by ip netns add is reported managed", g)
    try:
        d.call("netns.delete", {"name": name})
    except RpcError:
        pass
    assert netns_mounted(name), "netns.delete unmounted a namespace netnsd did not create"
    run(["ip", "netns", "del", name])

    # Across a restart only the stored identity can tell: the namespace cookie.
    d = Daemon()
    name = uniq("q")
    old = d.call("netns.add", {"name": name})["inode"]
    assert d.stop() == 0
    run(["ip", "netns", "del", name])
    if not provoke_inode_reuse(name, old):
        raise Skip("the kernel did not hand out nsfs inode %d again" % old)
    d.start()
    failed = [f["name"] for f in d.call("daemon.info")["restore"]["failed"]]
    assert name in failed, ("a replaced namespace with a reused inode was adopted", failed)
    g = d.call("netns.get", {"name": name})
    assert g["managed"] is False, g
    try:
        d.call("netns.delete", {"name": name})
    except RpcError:
        pass
    assert netns_mounted(name), "netns.delete unmounted a namespace netnsd did not create"


@test
def test_interop_others_never_deleted():
    """A namespace added by ip netns is unmanaged and survives delete attempts and netnsd's exit."""
    name = uniq("o")
    d = Daemon()
    run(["ip", "netns", "add", name])
    ino = netns_inode(name)
    g = d.call("netns.get", {"name": name})
    assert g["managed"] is False and g["mounted"] is True and g["inode"] == ino, g
    assert d.expect_error("netns.delete", {"name": name}).kind == "permission"
    assert d.stop() == 0
    d.start()
    assert d.call("netns.get", {"name": name})["managed"] is False
    assert d.call("daemon.info")["restore"] == {"adopted": [], "recreated": [], "failed": []}
    assert d.stop() == 0
    assert netns_mounted(name) and netns_inode(name) == ino
    assert run(["ip", "netns", "exec", name, "true"], check=False).returncode == 0


@test
def test_add_bad_sysctl_leaves_nothing():
    """A sysctl that does not exist fails the add, names the field, and leaves nothing behind."""
    d = daemon()
    d.call("netns.add", {"name": uniq("b")})  # so the state files are not empty
    name = uniq("b")
    before_files = state_files(d)
    before_ns = my_netns()
    count = d.call("daemon.info")["counts"]["namespaces"]
    e = d.expect_error("netns.add", {"name": name, "hosts": "127.0.0.1 localhost\n",
                                     "resolv_conf": "nameserver 192.0.2.1\n",
                                     "sysctls": {"net.ipv4.ip_forward": 1,
                                                 "net.ipv4.nonexistent": 1}})
    assert e.field == "sysctls.net.ipv4.nonexistent", e
    assert e.code >= 1 and e.kind in ("not_found", "invalid", "kernel"), e
    assert not os.path.lexists("/run/netns/" + name)
    assert not os.path.exists("/etc/netns/" + name)
    assert my_netns() == before_ns
    assert state_files(d) == before_files
    assert d.call("daemon.info")["counts"]["namespaces"] == count
    assert listed(name) is None
    # The name was not poisoned.
    d.call("netns.add", {"name": name})
    assert netns_mounted(name)


@test
def test_discover():
    """rpc.discover returns the OpenRPC document, and it lists exactly the methods served."""
    d = daemon()
    doc = d.call("rpc.discover")
    with open(os.path.join(TOP_SRCDIR, "protocol", "netnsd.openrpc.json")) as f:
        assert doc == json.load(f), "rpc.discover differs from protocol/netnsd.openrpc.json"
    assert doc["openrpc"].startswith("1.")
    names = [m["name"] for m in doc["methods"]]
    assert len(names) == len(set(names)), names
    c = d.client()
    try:
        for m in names:
            resp = c.request(m, {})
            err = resp.get("error")
            assert not err or err["code"] != -32601, (m, resp)
        # Plausible names that are not in the document must be unknown.
        candidates = ["netns.set", "netns.rename", "netns.exec", "daemon.stop",
                      "daemon.shutdown", "daemon.reload", "daemon.version", "rpc.describe",
                      "rpc.list", "link.add", "link.list", "addr.list", "route.list",
                      "proc.spawn", "proc.list", "events.subscribe", "state.dump",
                      "debug.state", "netns", "netns.", "Netns.list", "netns.list.x",
                      "daemon.ping ", "system.listMethods"]
        for m in candidates:
            resp = c.request(m, {})
            err = resp.get("error") or {}
            if m in names:
                assert err.get("code") != -32601, (m, resp)
            else:
                assert err.get("code") == -32601, (m, resp)
    finally:
        c.close()


@test
def test_daemon_info():
    """daemon.info reports version, pid, socket, state dir, counts, limits and restore."""
    d = Daemon("--max-batch", "77", "--max-connections", "33", "--max-namespaces", "500",
               "--max-message-bytes", "4096", "--max-queued-bytes", "131072",
               "--max-queued-total-bytes", "262144",
               "--log-max-bytes", "65536", "--log-files", "5")
    version = run([NETNSD, "--version"]).stdout.split()[-1]
    i = d.call("daemon.info")
    assert i["version"] == version, (i, version)
    assert i["pid"] == d.proc.pid
    assert isinstance(i["uptime_ms"], int) and i["uptime_ms"] >= 0
    assert i["socket"] == d.socket and i["socket_activated"] is False
    assert i["state_dir"] == d.state_dir
    assert i["limits"] == {"max_message_bytes": 4096, "max_batch": 77, "max_connections": 33,
                           "max_queued_bytes": 131072, "max_queued_total_bytes": 262144,
                           "message_timeout_ms": 30000,
                           "max_namespaces": 500, "log_max_bytes": 65536,
                           "log_files": 5}, i["limits"]
    # Where the memory is: every figure present, the process's own consistent.
    mem = i["memory"]
    assert set(mem) == {"queued_bytes", "queued_peak_bytes", "buffer_bytes", "event_ring_bytes",
                        "heap_in_use_bytes", "heap_free_bytes", "rss_bytes"}, mem
    with open("/proc/%d/status" % d.proc.pid) as f:
        rss_kib = int([ln.split()[1] for ln in f if ln.startswith("VmRSS:")][0])
    assert 0 < mem["rss_bytes"] < 4 * rss_kib * 1024, (mem, rss_kib)
    if not sanitized():  # ASan's allocator leaves malloc's own figures at 0
        assert 0 < mem["heap_in_use_bytes"] < mem["rss_bytes"], mem
    assert mem["queued_bytes"] == 0 and mem["queued_peak_bytes"] > 0, mem
    assert set(i["scheduler"]) == {"turns", "deferred", "stall_cutoffs", "message_timeouts"} and \
        i["scheduler"]["turns"] > 0, i["scheduler"]
    assert i["runtime_dir"] == d.runtime_dir and len(i["state_id"]) == 32, i
    assert i["counts"]["namespaces"] == 0 and i["counts"]["connections"] == 1, i["counts"]
    assert i["restore"] == {"adopted": [], "recreated": [], "failed": []}, i["restore"]
    assert i["state"]["journal"] == os.path.join(d.state_dir, "journal.jsonl")
    assert i["state"]["snapshot"] == os.path.join(d.state_dir, "state.json")
    names = [uniq("f"), uniq("f")]
    for n in names:
        d.call("netns.add", {"name": n})
    i2 = d.call("daemon.info")
    assert i2["counts"]["namespaces"] == 2, i2["counts"]
    assert i2["uptime_ms"] >= i["uptime_ms"]
    assert i2["counts"]["requests"] > i["counts"]["requests"]
    assert i2["state"]["commits"] >= 2 and i2["state"]["records"] >= 2, i2["state"]
    assert i2["state"]["journal_bytes"] == os.path.getsize(i2["state"]["journal"]), i2["state"]
    d.call("netns.delete", {"name": names[0]})
    assert d.call("daemon.info")["counts"]["namespaces"] == 1


if __name__ == "__main__":
    sys.exit(main())
