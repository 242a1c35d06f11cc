#!/usr/bin/env python3
"""Integration tests of netnsd's persistence and start-up reconciliation.

Restarts after SIGTERM and SIGKILL, a simulated reboot (the mounts gone, the
state kept), partial restore failures, corrupt and torn state files,
compaction, shutdown with a request in flight, and the guards against two
daemons on one socket or one state directory.
"""

import ctypes
import glob
import json
import os
import signal
import socket
import subprocess
import sys

from netnsd_test import (Daemon, NETNSD, file_bytes, ip_json, main, netns_mounted,
                         run, test, tmpdir, uniq, wait_for, free_nsid)

ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def netns_inode(name):
    return os.stat("/run/netns/" + name).st_ino


def restore_names(d, action):
    return {e["name"] for e in d.call("daemon.info")["restore"][action]}


def managed_names(d):
    return {e["name"] for e in d.call("netns.list")["namespaces"] if e["managed"]}


def lo_up(name):
    lo = ip_json("link", "show", "lo", netns=name)
    return len(lo) == 1 and "UP" in lo[0]["flags"]


def sysctl_in(name, key):
    return run(["ip", "netns", "exec", name, "sysctl", "-n", key]).stdout.strip()


def nsid_of(name):
    return {e["name"]: e.get("id") for e in ip_json("netns", "list")}.get(name)


def simulate_reboot(name):
    """What a reboot does to one namespace: the mount and the mount point vanish."""
    run(["umount", "/run/netns/" + name])
    os.unlink("/run/netns/" + name)


def run_netnsd(*args, timeout=15):
    """Run a netnsd that is expected to exit by itself; return (code, stderr)."""
    if "--runtime-dir" not in args:
        args += ("--runtime-dir", os.path.join(tmpdir(), "run"))
    p = subprocess.run([NETNSD] + list(args), capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stderr


def spawn_in(name, *argv):
    ino = netns_inode(name)
    p = subprocess.Popen(["ip", "netns", "exec", name] + list(argv),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def inside():
        try:
            return os.stat("/proc/%d/ns/net" % p.pid).st_ino == ino
        except OSError:
            return False
    assert wait_for(inside), "pid %d never entered %s" % (p.pid, name)
    return p


def reap(p):
    if p.poll() is None:
        p.kill()
    p.wait()


def reap_pid(pid):
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def netns_cookie(name):
    """The kernel's namespace cookie (SO_NETNS_COOKIE), read by a process inside."""
    code = ("import socket; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); "
            "print(int.from_bytes(s.getsockopt(socket.SOL_SOCKET, 71, 8), 'little'))")
    return int(run(["ip", "netns", "exec", name, "python3", "-c", code]).stdout)


@test
def test_restart_sigterm():
    """After SIGTERM (exit 0, state.json written) a restart adopts the same namespaces."""
    d = Daemon()
    names = [uniq("a"), uniq("a")]
    d.call("netns.add", {"name": names[0], "sysctls": {"net.ipv4.ip_forward": 1}})
    d.call("netns.add", {"name": names[1]})
    inodes = {n: netns_inode(n) for n in names}
    assert d.stop() == 0
    snap = json.loads(file_bytes(os.path.join(d.state_dir, "state.json")))
    assert set(snap["collections"]["netns"]) == set(names), snap
    d.start()
    assert restore_names(d, "adopted") == set(names)
    assert restore_names(d, "recreated") == set() and restore_names(d, "failed") == set()
    for n in names:
        g = d.call("netns.get", {"name": n})
        assert g["managed"] is True and g["inode"] == inodes[n] == netns_inode(n), g
    assert d.call("netns.get", {"name": names[0]})["sysctls"] == {"net.ipv4.ip_forward": "1"}
    assert d.call("daemon.info")["counts"]["namespaces"] == 2
    # Adopted means managed: delete works and removes it.
    d.call("netns.delete", {"name": names[1]})
    assert not os.path.lexists("/run/netns/" + names[1])


@test
def test_restart_kill9():
    """After SIGKILL the journal is replayed and the namespaces are adopted."""
    d = Daemon()
    keep, gone = [uniq("k"), uniq("k")], uniq("k")
    for n in keep + [gone]:
        d.call("netns.add", {"name": n})
    d.call("netns.delete", {"name": gone})
    inodes = {n: netns_inode(n) for n in keep}
    assert d.kill9() == -signal.SIGKILL
    assert os.path.getsize(os.path.join(d.state_dir, "journal.jsonl")) > 0
    d.start()
    assert restore_names(d, "adopted") == set(keep)
    assert managed_names(d) == set(keep)
    for n in keep:
        assert d.call("netns.get", {"name": n})["inode"] == inodes[n] == netns_inode(n)
    assert d.expect_error("netns.get", {"name": gone}).kind == "not_found"


@test
def test_simulated_reboot():
    """Namespaces whose mounts vanished are recreated with lo up, sysctls, nsid and files."""
    d = Daemon()
    a, b = uniq("r"), uniq("r")
    nsid = free_nsid()
    hosts = "127.0.0.1 localhost\n10.0.0.9 %s\n" % a
    ttl = "77" if open("/proc/sys/net/ipv4/ip_default_ttl").read().strip() != "77" else "78"
    d.call("netns.add", {"name": a, "nsid": nsid, "hosts": hosts,
                         "sysctls": {"net.ipv4.ip_default_ttl": ttl, "net.ipv4.ip_forward": 1}})
    d.call("netns.add", {"name": b})
    old_cookie = netns_cookie(a)
    b_ino = netns_inode(b)
    assert d.stop() == 0
    simulate_reboot(a)
    # The kernel frees the old namespace (and its nsid) asynchronously.
    assert wait_for(lambda: "nsid %d " % nsid not in run(["ip", "netns", "list-id"]).stdout)
    d.start()
    assert restore_names(d, "recreated") == {a}
    assert restore_names(d, "adopted") == {b}
    assert restore_names(d, "failed") == set()
    # A new namespace (the old inode number may be handed out again: compare cookies).
    assert netns_mounted(a)
    assert netns_cookie(a) != old_cookie
    assert lo_up(a)
    assert sysctl_in(a, "net.ipv4.ip_default_ttl") == ttl
    assert sysctl_in(a, "net.ipv4.ip_forward") == "1"
    assert nsid_of(a) == nsid, ip_json("netns", "list")
    assert run(["ip", "netns", "exec", a, "cat", "/etc/hosts"]).stdout == hosts
    g = d.call("netns.get", {"name": a})
    assert g["managed"] is True and g["inode"] == netns_inode(a) and g["nsid"] == nsid, g
    assert netns_inode(b) == b_ino
    # The new identity is persisted: the next restart adopts, not recreates.
    assert d.kill9() == -signal.SIGKILL
    d.start()
    assert restore_names(d, "adopted") == {a, b}


@test
def test_partial_restore_failure():
    """A name taken over by someone else is reported failed and left alone; others restore."""
    d = Daemon()
    good, stolen, rebooted = uniq("p"), uniq("p"), uniq("p")
    for n in (good, stolen, rebooted):
        d.call("netns.add", {"name": n})
    assert d.stop() == 0
    # Keep the old namespace alive while the new one is made, so the kernel
    # cannot hand the new one the old inode number (see test_netns.py).
    old = os.open("/run/netns/" + stolen, os.O_RDONLY)
    run(["ip", "netns", "del", stolen])
    run(["ip", "netns", "add", stolen])
    os.close(old)
    theirs = netns_inode(stolen)
    simulate_reboot(rebooted)
    d.start()
    r = d.call("daemon.info")["restore"]
    assert {e["name"] for e in r["adopted"]} == {good}, r
    assert {e["name"] for e in r["recreated"]} == {rebooted}, r
    assert [e["name"] for e in r["failed"]] == [stolen], r
    f = r["failed"][0]
    assert f["kind"] == "netns" and isinstance(f["message"], str) and f["message"], f
    assert isinstance(f["errno"], int) and f["errno"] > 0, f
    assert netns_mounted(rebooted) and lo_up(rebooted)
    # Left alone: the same namespace the other party made, unmanaged.
    assert netns_inode(stolen) == theirs
    g = d.call("netns.get", {"name": stolen})
    assert g["managed"] is False and g["mounted"] is True, g
    assert managed_names(d) == {good, rebooted}
    # Deleting it forgets netnsd's record and still leaves theirs mounted.
    d.call("netns.delete", {"name": stolen})
    assert netns_mounted(stolen) and netns_inode(stolen) == theirs
    assert d.call("netns.get", {"name": stolen})["managed"] is False
    assert d.stop() == 0
    assert netns_inode(stolen) == theirs


@test
def test_corrupt_snapshot_refused():
    """A corrupt state.json stops netnsd from starting (exit 1, file named, file untouched)."""
    d = Daemon()
    name = uniq("c")
    d.call("netns.add", {"name": name})
    assert d.stop() == 0
    path = os.path.join(d.state_dir, "state.json")
    good = file_bytes(path)
    bad = good[: len(good) // 2] + b"\x00garbage"
    with open(path, "wb") as f:
        f.write(bad)
    code, err = run_netnsd("--socket", d.socket, "--state-dir", d.state_dir)
    assert code == 1, (code, err)
    assert path in err, err
    assert file_bytes(path) == bad
    assert not glob.glob(path + ".corrupt-*")
    assert not os.path.exists(d.socket), "a refusing netnsd left a socket"
    assert netns_mounted(name)
    # --reset-corrupt-state moves it aside and starts empty.
    d.start(extra=["--reset-corrupt-state"])
    aside = glob.glob(path + ".corrupt-*")
    assert len(aside) == 1 and file_bytes(aside[0]) == bad, aside
    assert file_bytes(path) != bad
    assert d.call("daemon.info")["counts"]["namespaces"] == 0
    # What it no longer knows it does not own, and it did not touch it.
    g = d.call("netns.get", {"name": name})
    assert g["managed"] is False and g["mounted"] is True, g


@test
def test_corrupt_journal_refused():
    """A corrupt line inside the journal (not the last) stops netnsd; the journal is untouched."""
    d = Daemon()
    names = [uniq("j"), uniq("j")]
    for n in names:
        d.call("netns.add", {"name": n})
    assert d.kill9() == -signal.SIGKILL
    path = os.path.join(d.state_dir, "journal.jsonl")
    lines = file_bytes(path).split(b"\n")
    assert len(lines) >= 3 and lines[-1] == b"", lines
    lines[0] = b"{not json" + lines[0][9:]
    bad = b"\n".join(lines)
    with open(path, "wb") as f:
        f.write(bad)
    code, err = run_netnsd("--socket", d.socket, "--state-dir", d.state_dir)
    assert code == 1 and path in err, (code, err)
    assert file_bytes(path) == bad


@test
def test_torn_journal_record():
    """A half-written last journal record is dropped and later changes persist."""
    d = Daemon()
    names = [uniq("t"), uniq("t")]
    torn = uniq("t")
    for n in names:
        d.call("netns.add", {"name": n})
    assert d.kill9() == -signal.SIGKILL
    path = os.path.join(d.state_dir, "journal.jsonl")
    before = file_bytes(path)
    fragment = ('{"seq":999,"op":"put","c":"netns","k":"%s","v":{"nsid":' % torn).encode()
    with open(path, "ab") as f:
        f.write(fragment)
    d.start()
    assert restore_names(d, "adopted") == set(names)
    assert d.expect_error("netns.get", {"name": torn}).kind == "not_found"
    assert fragment not in file_bytes(path)
    # The journal is well-formed again: a new change survives another crash.
    d.call("netns.add", {"name": torn})
    assert d.kill9() == -signal.SIGKILL
    for line in file_bytes(path).splitlines():
        json.loads(line)
    d.start()
    assert restore_names(d, "adopted") == set(names) | {torn}


def batch(c, calls):
    """Send one batch, return the results in order (raise on any error)."""
    msgs = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p}
            for i, (m, p) in enumerate(calls)]
    c.send(msgs)
    resp = c.recv()
    assert isinstance(resp, list) and len(resp) == len(calls), resp
    out = {r["id"]: r for r in resp}
    for i in range(len(calls)):
        assert "result" in out[i], out[i]
    return [out[i]["result"] for i in range(len(calls))]


@test
def test_compaction():
    """Hundreds of changes compact the journal, and restarts see exactly the final set."""
    d = Daemon()
    hosts = "".join("10.%d.%d.%d host%d\n" % (i // 65536, i // 256 % 256, i % 256, i)
                    for i in range(150))  # ~3 KiB per record
    c = d.client()
    live = set()
    for round in range(8):
        names = [uniq("c") for _ in range(20)]
        batch(c, [("netns.add", {"name": n, "hosts": hosts}) for n in names])
        live |= set(names)
        doomed = sorted(live)[:18]
        batch(c, [("netns.delete", {"name": n}) for n in doomed])
        live -= set(doomed)
    c.close()
    info = d.call("daemon.info")
    assert info["state"]["records"] >= 300, info["state"]
    assert info["state"]["compactions"] > 0, info["state"]
    assert info["state"]["journal_bytes"] < 300 * len(hosts), info["state"]
    assert managed_names(d) == live
    assert all(netns_mounted(n) for n in live)
    assert d.kill9() == -signal.SIGKILL
    d.start()
    assert restore_names(d, "adopted") == live
    assert managed_names(d) == live
    assert d.stop() == 0
    d.start()
    assert restore_names(d, "adopted") == live
    for n in live:
        assert d.call("netns.get", {"name": n})["hosts"] == hosts


@test
def test_sigterm_answers_inflight():
    """SIGTERM during a netns.delete with a long grace still delivers its reply, then exits 0."""
    d = Daemon()
    name = uniq("s")
    d.call("netns.add", {"name": name})
    p = spawn_in(name, "sh", "-c", 'trap "" TERM; sleep 60; exit 0')
    try:
        assert wait_for(lambda: len(d.call("netns.pids", {"name": name})["pids"]) == 2)
        c = d.client()
        c.send({"jsonrpc": "2.0", "id": "del-1", "method": "netns.delete",
                "params": {"name": name, "grace_ms": 1500}})
        assert wait_for(lambda: d.call("netns.get", {"name": name}).get("deleting") is True)
        d.proc.send_signal(signal.SIGTERM)
        resp = c.recv()
        c.close()
        assert resp is not None, "connection closed without the reply"
        assert resp["id"] == "del-1" and "result" in resp, resp
        assert p.pid in resp["result"]["killed"], resp
        assert d.proc.wait(15) == 0
        assert p.wait(10) == -signal.SIGKILL
        for pid in resp["result"]["killed"]:
            if pid != p.pid:
                reap_pid(pid)
    finally:
        reap(p)
    assert not os.path.lexists("/run/netns/" + name)
    d.start()
    assert d.expect_error("netns.get", {"name": name}).kind == "not_found"


@test
def test_second_daemon_same_socket():
    """A second netnsd on a socket in use exits 1 and the first keeps serving."""
    d = Daemon()
    ino = os.stat(d.socket).st_ino
    other = os.path.join(tmpdir(), "state")
    code, err = run_netnsd("--socket", d.socket, "--state-dir", other)
    assert code == 1, (code, err)
    assert d.socket in err, err
    assert os.stat(d.socket).st_ino == ino
    assert d.call("daemon.ping") == {"pong": True}
    assert d.alive()


@test
def test_stale_socket_replaced():
    """A socket file nobody listens on is replaced."""
    d = Daemon(start=False)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(d.socket)
    s.close()
    os.chmod(d.socket, 0o777)
    d.start()
    assert d.call("daemon.ping") == {"pong": True}
    # netnsd's own socket, not the stale one: never open to everyone.
    assert os.stat(d.socket).st_mode & 0o007 == 0, oct(os.stat(d.socket).st_mode)


@test
def test_socket_path_not_a_socket():
    """A regular file where the socket should be is refused and left as it is."""
    d = Daemon(start=False)
    with open(d.socket, "wb") as f:
        f.write(b"precious\n")
    code, err = run_netnsd("--socket", d.socket, "--state-dir", d.state_dir)
    assert code == 1, (code, err)
    assert file_bytes(d.socket) == b"precious\n"


@test
def test_second_daemon_same_state_dir():
    """A second netnsd on a state directory in use exits 1 and changes nothing."""
    d = Daemon()
    d.call("netns.add", {"name": uniq("l")})
    files = {f: file_bytes(os.path.join(d.state_dir, f)) for f in os.listdir(d.state_dir)}
    sock = os.path.join(tmpdir(), "other.sock")
    code, err = run_netnsd("--socket", sock, "--state-dir", d.state_dir)
    assert code == 1, (code, err)
    assert d.state_dir in err, err
    assert not os.path.exists(sock)
    assert {f: file_bytes(os.path.join(d.state_dir, f)) for f in os.listdir(d.state_dir)} == files
    assert d.call("daemon.ping") == {"pong": True}


if __name__ == "__main__":
    sys.exit(main())
