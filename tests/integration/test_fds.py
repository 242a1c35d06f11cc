#!/usr/bin/env python3
"""Integration tests of descriptor passing: netns.open and proc.spawn's pidfd.

Descriptors travel with SCM_RIGHTS on the reply line.  The tests check them
against the kernel's own view: the received nsfs descriptor has the inode
of /run/netns/NAME (stat), setns() into it in a child process sees the
namespace's links as `ip -n NAME` does, a pidfd is the payload's (its
fdinfo Pid) and becomes readable when the payload exits.  The contrib
clients (C and Python) are run as a user would run them.
"""

import array
import ctypes
import json
import os
import select
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from netnsd_test import (Daemon, RpcError, TOP_SRCDIR, ip_json, main, run,  # noqa: E402
                         test, tmpdir, uniq, wait_for)

CLONE_NEWNET = 0x40000000
FD_CLIENT = os.environ.get("NETNSD_FD_CLIENT", os.path.abspath("contrib/clients/netnsd-fd"))
PY_CLIENT = os.path.join(TOP_SRCDIR, "contrib", "clients", "netnsd-fd.py")

_daemon = None


def daemon():
    global _daemon
    if _daemon is None or not _daemon.alive():
        _daemon = Daemon("--runtime-dir", os.path.join(tmpdir(), "run"))
    return _daemon


class FdClient:
    """A connection that reads with recvmsg() and keeps the descriptors per line."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        self.sock.settimeout(20)
        self.sock.connect(path)
        self.buf = b""
        self.fds = []
        self.next_id = 1

    def close(self):
        for fd in self.fds:
            os.close(fd)
        self.fds = []
        self.sock.close()

    def send(self, obj):
        self.sock.sendall(json.dumps(obj).encode() + b"\n")

    @staticmethod
    def named(msg):
        """How many descriptors a reply line carries: the index members of its results."""
        if isinstance(msg, list):
            return sum(FdClient.named(m) for m in msg)
        res = msg.get("result") if isinstance(msg, dict) else None
        if not isinstance(res, dict):
            return 0
        return sum(1 for k in ("fd", "pidfd") if isinstance(res.get(k), int))

    def line(self):
        """(message, its descriptors).

        Descriptors arrive with the first byte of their line or earlier, in
        line order, so they queue up and each line takes as many from the
        head as its results name.
        """
        while b"\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\n", 1)
        msg = json.loads(line)
        n = self.named(msg)
        # Never later than the line's first byte: all of them are here by now.
        assert len(self.fds) >= n, "line %r names %d descriptors, %d came" % (
            line[:80], n, len(self.fds))
        fds, self.fds = self.fds[:n], self.fds[n:]
        return msg, fds

    def fill(self):
        data, anc, flags, _ = self.sock.recvmsg(1 << 16, socket.CMSG_SPACE(256 * 4),
                                                socket.MSG_CMSG_CLOEXEC)
        assert not flags & socket.MSG_CTRUNC, "descriptors truncated"
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                a = array.array("i")
                a.frombytes(payload[:len(payload) - len(payload) % 4])
                self.fds.extend(a)
        assert data, "netnsd closed the connection"
        self.buf += data

    def call(self, method, params=None):
        """(result, fds) or RpcError (and then no descriptor may have come)."""
        rid = self.next_id
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params or {}})
        msg, fds = self.line()
        assert msg.get("id") == rid, msg
        if "error" in msg:
            assert fds == [], "an error reply carried descriptors: %r" % fds
            raise RpcError(msg["error"])
        return msg["result"], fds


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def links_via_setns(fd):
    """Interface names seen by a child that setns() into fd (the kernel's view from inside)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.setns(fd, CLONE_NEWNET) != 0:
                os._exit(3)
            os.write(w, json.dumps(sorted(n for _, n in socket.if_nameindex())).encode())
            os._exit(0)
        except BaseException:
            os._exit(4)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "setns child failed: %d" % status
    return json.loads(data)


def ip_links(ns):
    return sorted(link["ifname"] for link in ip_json("link", netns=ns))


def managed_ns_with_link():
    d = daemon()
    ns = uniq("fo")
    d.call("netns.add", {"name": ns})
    d.call("link.add", {"netns": ns, "name": "br7", "kind": "bridge"})
    return d, ns


@test
def test_open_managed():
    """netns.open: the descriptor is the namespace at /run/netns/NAME (inode), setns sees its links"""
    d, ns = managed_ns_with_link()
    c = FdClient(d.socket)
    try:
        res, fds = c.call("netns.open", {"name": ns})
        assert len(fds) == 1 and res["fd"] == 0, (res, fds)
        assert res["managed"] is True and res["name"] == ns, res
        st = os.fstat(fds[0])
        assert st.st_ino == os.stat("/run/netns/" + ns).st_ino == res["inode"], \
            (st.st_ino, res)
        assert st.st_dev == os.stat("/proc/self/ns/net").st_dev, "not an nsfs descriptor"
        assert os.get_inheritable(fds[0]) is False, "descriptor not close-on-exec"
        seen = links_via_setns(fds[0])
        assert seen == ip_links(ns) == ["br7", "lo"], (seen, ip_links(ns))
        # The descriptor keeps working after the name is gone: it is a handle, not a path.
        d.call("netns.delete", {"name": ns})
        assert not os.path.exists("/run/netns/" + ns)
        assert "lo" in links_via_setns(fds[0])
    finally:
        c.close()


@test
def test_open_errors():
    """netns.open: not_found for a missing name and for a stale placeholder, -32602 for a bad name"""
    d = daemon()
    c = FdClient(d.socket)
    stale = "/run/netns/" + uniq("st")
    try:
        try:
            c.call("netns.open", {"name": uniq("no")})
            raise AssertionError("netns.open of a missing namespace succeeded")
        except RpcError as e:
            assert (e.code, e.kind, e.field) == (1, "not_found", "name"), e
        # A file nothing is mounted on is not a namespace.
        open(stale, "w").close()
        try:
            c.call("netns.open", {"name": os.path.basename(stale)})
            raise AssertionError("netns.open of a stale placeholder succeeded")
        except RpcError as e:
            assert (e.code, e.kind, e.field) == (1, "not_found", "name"), e
        for bad in ({"name": "../etc"}, {}, {"name": "x", "extra": 1}, {"name": 5}):
            try:
                c.call("netns.open", bad)
                raise AssertionError("netns.open(%r) succeeded" % bad)
            except RpcError as e:
                assert e.code == -32602 and e.kind == "invalid", e
    finally:
        c.close()
        if os.path.exists(stale):
            os.unlink(stale)


@test
def test_open_unmanaged():
    """netns.open of a namespace netnsd did not make: opened, managed false, right inode"""
    d = daemon()
    ns = uniq("um")
    run(["ip", "netns", "add", ns])
    c = FdClient(d.socket)
    try:
        res, fds = c.call("netns.open", {"name": ns})
        assert res["managed"] is False, res
        assert os.fstat(fds[res["fd"]]).st_ino == os.stat("/run/netns/" + ns).st_ino
        # netnsd still refuses to change it.
        try:
            d.call("netns.delete", {"name": ns})
            raise AssertionError("netns.delete of an unmanaged namespace succeeded")
        except RpcError as e:
            assert e.kind == "permission", e
    finally:
        c.close()
        run(["ip", "netns", "del", ns], check=False)


@test
def test_batch_indices():
    """a batch reply is one line: its descriptors come in reply order, "fd" indexes them"""
    d = daemon()
    a, b = uniq("ba"), uniq("bb")
    d.call("netns.add", {"name": a})
    d.call("netns.add", {"name": b})
    c = FdClient(d.socket)
    try:
        c.send([{"jsonrpc": "2.0", "id": 1, "method": "netns.open", "params": {"name": a}},
                {"jsonrpc": "2.0", "id": 2, "method": "daemon.ping"},
                {"jsonrpc": "2.0", "method": "netns.open", "params": {"name": a}},
                {"jsonrpc": "2.0", "id": 3, "method": "netns.open", "params": {"name": uniq("x")}},
                {"jsonrpc": "2.0", "id": 4, "method": "netns.open", "params": {"name": b}}])
        replies, fds = c.line()
        byid = {r["id"]: r for r in replies}
        assert sorted(byid) == [1, 2, 3, 4], replies
        # The notification's descriptor is never sent, the error carries none.
        assert len(fds) == 2, fds
        assert "error" in byid[3]
        for rid, ns in ((1, a), (4, b)):
            idx = byid[rid]["result"]["fd"]
            assert os.fstat(fds[idx]).st_ino == os.stat("/run/netns/" + ns).st_ino, (rid, idx)
        assert byid[1]["result"]["fd"] != byid[4]["result"]["fd"]
        for fd in fds:
            os.close(fd)
    finally:
        c.close()
        d.call("netns.delete", {"name": a})
        d.call("netns.delete", {"name": b})


@test
def test_pipelined_lines():
    """pipelined requests: each reply line brings its own descriptor, never the next line's"""
    d = daemon()
    names = [uniq("pl") for _ in range(3)]
    for ns in names:
        d.call("netns.add", {"name": ns})
    c = FdClient(d.socket)
    try:
        reqs = []
        for i in range(30):
            # Lines without descriptors before each: a reader may get them glued to the next.
            reqs.append({"jsonrpc": "2.0", "id": 100 + i, "method": "daemon.ping"})
            reqs.append({"jsonrpc": "2.0", "id": i, "method": "netns.open",
                         "params": {"name": names[i % 3]}})
        c.sock.sendall(b"".join(json.dumps(r).encode() + b"\n" for r in reqs))
        for _ in range(len(reqs)):
            msg, fds = c.line()
            if msg["id"] >= 100:
                assert fds == [], (msg, fds)
                continue
            assert len(fds) == 1 and msg["result"]["fd"] == 0, (msg, fds)
            ns = names[msg["id"] % 3]
            assert os.fstat(fds[0]).st_ino == os.stat("/run/netns/" + ns).st_ino, msg
            os.close(fds[0])
        assert c.fds == [] and c.buf == b"", (c.fds, c.buf)
    finally:
        c.close()
        for ns in names:
            d.call("netns.delete", {"name": ns})


@test
def test_limit_and_no_leak():
    """more than 64 descriptors for one line: limit error; plain recv() loses them, netnsd leaks none"""
    d, ns = managed_ns_with_link()
    base = open_fds(d.proc.pid)
    c = FdClient(d.socket)
    try:
        batch = [{"jsonrpc": "2.0", "id": i, "method": "netns.open", "params": {"name": ns}}
                 for i in range(70)]
        c.send(batch)
        replies, fds = c.line()
        ok = [r for r in replies if "result" in r]
        limited = [r for r in replies if "error" in r]
        assert len(ok) == 64 == len(fds), (len(ok), len(fds))
        assert len(limited) == 6, limited[:1]
        assert all(r["error"]["code"] == 8 and r["error"]["data"]["kind"] == "limit"
                   for r in limited), limited[:1]
        for fd in fds:
            os.close(fd)
    finally:
        c.close()
    # A client reading with plain recv(): the kernel discards the descriptors.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(d.socket)
    for i in range(20):
        s.sendall(json.dumps({"jsonrpc": "2.0", "id": i, "method": "netns.open",
                              "params": {"name": ns}}).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            buf += s.recv(65536)
        assert json.loads(buf)["result"]["fd"] == 0
    mine = open_fds(os.getpid())
    s.close()
    assert open_fds(os.getpid()) == mine - 1, "plain recv() kept descriptors"
    # netnsd holds none of them any longer.
    assert wait_for(lambda: open_fds(d.proc.pid) <= base), (open_fds(d.proc.pid), base)
    d.call("netns.delete", {"name": ns})


def fdinfo_pid(fd):
    for line in open("/proc/self/fdinfo/%d" % fd):
        if line.startswith("Pid:"):
            return int(line.split()[1])
    return None


@test
def test_pidfd():
    """proc.spawn pidfd: the payload's pidfd (not the shim's); readable once it exits"""
    d, ns = managed_ns_with_link()
    c = FdClient(d.socket)
    try:
        res, fds = c.call("proc.spawn", {"netns": ns, "argv": ["sleep", "600"], "pidfd": True})
        assert len(fds) == 1 and res["pidfd"] == 0, (res, fds)
        pidfd = fds[0]
        assert fdinfo_pid(pidfd) == res["pid"], (fdinfo_pid(pidfd), res["pid"])
        assert open("/proc/%d/comm" % res["pid"]).read().strip() == "sleep"
        p = select.poll()
        p.register(pidfd, select.POLLIN)
        assert p.poll(0) == [], "pidfd readable while the payload runs"
        # The pidfd can signal it too, as any pidfd.
        signal.pidfd_send_signal(pidfd, signal.SIGTERM)
        assert p.poll(30000) != [], "pidfd not readable after the payload was killed"
        got, _ = c.call("proc.wait", {"id": res["id"], "timeout_ms": 30000})
        assert got["state"] == "exited" and got["signal"] == 15, got
        os.close(pidfd)
        # Without pidfd: no descriptor, no member.
        res, fds = c.call("proc.spawn", {"netns": ns, "argv": ["true"]})
        assert fds == [] and "pidfd" not in res, res
        # A program that ends at once: a readable pidfd, or null when it was gone already.
        res, fds = c.call("proc.spawn", {"argv": ["true"], "pidfd": True})
        if res["pidfd"] is None:
            assert fds == []
        else:
            assert select.select([fds[res["pidfd"]]], [], [], 30)[0], "pidfd never readable"
            os.close(fds[0])
        got, _ = c.call("proc.wait", {"id": res["id"], "timeout_ms": 30000})
        assert got["exit_code"] == 0, got
        try:
            c.call("proc.spawn", {"argv": ["true"], "pidfd": 1})
            raise AssertionError("pidfd: 1 accepted")
        except RpcError as e:
            assert (e.code, e.field) == (-32602, "pidfd"), e
        # A start failure passes nothing.
        try:
            c.call("proc.spawn", {"argv": ["/nonexistent/x"], "pidfd": True})
            raise AssertionError("spawn of a missing program succeeded")
        except RpcError as e:
            assert e.field == "argv", e
    finally:
        c.close()
        d.call("netns.delete", {"name": ns})


@test
def test_contrib_clients():
    """contrib/clients: the C and the Python example list a namespace's links and wait on a pidfd"""
    d, ns = managed_ns_with_link()
    try:
        want = ip_links(ns)
        for cmd in ([FD_CLIENT, "-s", d.socket], [sys.executable, PY_CLIENT, "--socket", d.socket]):
            if not os.access(cmd[0], os.X_OK):
                raise AssertionError("%s is not built" % cmd[0])
            out = subprocess.run(cmd + ["links", ns], capture_output=True, text=True, timeout=60)
            assert out.returncode == 0, out.stderr
            names = sorted(line.split()[1] for line in out.stdout.splitlines())
            assert names == want, (cmd[0], names, want)
            out = subprocess.run(cmd + ["wait", "-n" if cmd[0] == FD_CLIENT else "--netns", ns,
                                        "--", "sh", "-c", "sleep 0.2; exit 7"],
                                 capture_output=True, text=True, timeout=60)
            assert out.returncode == 0, out.stderr
            status = json.loads(out.stdout)
            assert status["exit_code"] == 7 and status["netns"] == ns, status
            out = subprocess.run(cmd + ["links", uniq("no")], capture_output=True, text=True,
                                 timeout=60)
            assert out.returncode == 1 and "No namespace" in out.stderr, out
    finally:
        d.call("netns.delete", {"name": ns})


if __name__ == "__main__":
    sys.exit(main())
