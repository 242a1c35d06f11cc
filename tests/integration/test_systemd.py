#!/usr/bin/env python3
"""Integration tests of netnsd under systemd's protocols, without systemd itself.

Socket activation through the real systemd-socket-activate, and the sd_notify
protocol (READY, STATUS, STOPPING, WATCHDOG) received on a datagram socket
the test binds, the way the service manager would.
"""

import os
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

from netnsd_test import (Client, Daemon, NETNSD, Skip, main, netns_mounted, run, test,
                         tmpdir, uniq, wait_for)


class Notify:
    """The service manager's end of NOTIFY_SOCKET, with sender credentials."""

    def __init__(self):
        self.path = os.path.join(tmpdir(), "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(self.path)

    def recv(self, timeout=15.0):
        """The next message as (pid, [lines]), or None after timeout."""
        self.sock.settimeout(timeout)
        try:
            data, anc, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(12))
        except socket.timeout:
            return None
        pid = None
        for level, typ, cdata in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", cdata[:12])[0]
        return pid, data.decode().splitlines()

    def until(self, line, timeout=15.0):
        """Messages up to and including the first one that has LINE."""
        got = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = self.recv(max(0.01, deadline - time.time()))
            if m is None:
                break
            got.append(m)
            if line in m[1]:
                return got
        raise AssertionError("no %r from netnsd; got %r" % (line, got))

    def close(self):
        self.sock.close()


@test
def test_socket_activation():
    """With systemd-socket-activate netnsd serves the passed socket and makes none itself."""
    tool = shutil.which("systemd-socket-activate")
    if not tool:
        raise Skip("systemd-socket-activate is not installed (package systemd)")
    d = Daemon(start=False)
    unused = os.path.join(d.dir, "unused.sock")
    d.log = open(d.log_path, "ab")
    env = dict(os.environ)
    for k in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET"):
        env.pop(k, None)
    d.proc = subprocess.Popen([tool, "-l", d.socket, NETNSD, "--state-dir", d.state_dir,
                               "--runtime-dir", d.runtime_dir, "--socket", unused, "--log-level", "debug"],
                              stdout=d.log, stderr=d.log, env=env)
    assert wait_for(lambda: os.path.exists(d.socket)), d.log_text()
    c = Client(d.socket)
    info = c.call("daemon.info")  # this first connection is what starts netnsd
    assert info["socket_activated"] is True, info
    assert info["pid"] == d.proc.pid, (info, d.proc.pid)  # it exec'd in place
    assert info["state_dir"] == d.state_dir
    name = uniq("a")
    c.call("netns.add", {"name": name})
    c.close()
    assert netns_mounted(name)
    assert not os.path.exists(unused), "netnsd made its own socket despite LISTEN_FDS"
    ino = os.stat(d.socket).st_ino
    assert d.stop() == 0
    # The socket is the service manager's: netnsd must leave it in place.
    assert os.path.exists(d.socket) and os.stat(d.socket).st_ino == ino
    assert netns_mounted(name)


def prepare_restore(d):
    """Leave D's state with one namespace to adopt and one to recreate; return their names."""
    adopt, recreate = uniq("n"), uniq("n")
    d.start()
    d.call("netns.add", {"name": adopt})
    d.call("netns.add", {"name": recreate, "sysctls": {"net.ipv4.ip_forward": 1}})
    assert d.stop() == 0
    run(["umount", "/run/netns/" + recreate])
    os.unlink("/run/netns/" + recreate)
    return adopt, recreate


@test
def test_notify_ready_status_stopping():
    """READY=1 comes once, after restore and with the socket answering; then STOPPING=1."""
    n = Notify()
    d = Daemon(start=False)
    adopt, recreate = prepare_restore(d)
    d.env = {"NOTIFY_SOCKET": n.path}
    d.start(wait=False)
    msgs = n.until("READY=1")
    # Checked at once, before anything else: ready means restored and listening.
    assert netns_mounted(recreate), "READY=1 before the namespace was recreated"
    c = Client(d.socket)
    info = c.call("daemon.info")
    restored = {k: {e["name"] for e in v} for k, v in info["restore"].items()}
    assert restored == {"adopted": {adopt}, "recreated": {recreate}, "failed": set()}, restored
    for pid, lines in msgs:
        assert pid == d.proc.pid, (pid, d.proc.pid)
    before = [l for _, lines in msgs[:-1] for l in lines]
    assert any(l.startswith("STATUS=") for l in before), msgs
    # After READY: a STATUS line that counts the managed namespaces.
    after = []
    while True:
        m = n.recv(5)
        assert m is not None, "no STATUS= after READY=1; got %r" % after
        after.append(m)
        st = [l for l in m[1] if l.startswith("STATUS=")]
        if st:
            break
    assert "READY=1" not in [l for _, lines in after for l in lines], "READY=1 twice"
    assert re.search(r"\b2\b", st[0]), st  # the two namespaces it manages
    c.close()
    d.proc.send_signal(signal.SIGTERM)
    stop = n.until("STOPPING=1")
    assert all(pid == d.proc.pid for pid, _ in stop), stop
    assert "READY=1" not in [l for _, lines in stop for l in lines], "READY=1 twice"
    assert d.proc.wait(15) == 0
    n.close()


@test
def test_notify_without_socket_runs():
    """An unreachable NOTIFY_SOCKET does not stop netnsd from starting and serving."""
    d = Daemon(env={"NOTIFY_SOCKET": os.path.join(tmpdir(), "nobody-listens")})
    assert d.call("daemon.ping") == {"pong": True}
    assert d.stop() == 0


@test
def test_watchdog():
    """With WATCHDOG_USEC and WATCHDOG_PID set for it, netnsd sends WATCHDOG=1 repeatedly."""
    n = Notify()
    d = Daemon(start=False)
    cmd = " ".join(shlex.quote(a) for a in [NETNSD, "--socket", d.socket, "--state-dir",
                                            d.state_dir, "--runtime-dir", d.runtime_dir,
                                            "--log-level", "debug"])
    env = dict(os.environ, NOTIFY_SOCKET=n.path, WATCHDOG_USEC="200000")
    for k in ("LISTEN_FDS", "LISTEN_PID", "WATCHDOG_PID"):
        env.pop(k, None)
    d.log = open(d.log_path, "ab")
    d.proc = subprocess.Popen(["sh", "-c", "export WATCHDOG_PID=$$; exec " + cmd],
                              stdout=d.log, stderr=d.log, env=env)
    n.until("READY=1")
    for _ in range(3):
        msgs = n.until("WATCHDOG=1", timeout=10)
        assert msgs[-1][0] == d.proc.pid, msgs
    # Still serving while it pings.
    assert d.call("daemon.ping") == {"pong": True}
    assert d.stop() == 0
    n.close()


if __name__ == "__main__":
    sys.exit(main())
