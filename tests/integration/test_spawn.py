#!/usr/bin/env python3
"""Who starts the supervisors (--spawn), and netnsd confined as its unit confines it.

The systemd path (transient units over the system bus) needs systemd as PID 1
and is tested in the systemd guest (tests/vm/guest/test_sandbox.sh).  Here:
the choice and its reason in daemon.info, the direct path and its counters,
refusing --spawn=systemd without a bus, bad option values, and that a netnsd
running under the unit's UMask=0077 still makes the files others must read
(/etc/netns/NAME/*, /run/netns) with their modes.  Each daemon has its own
runtime directory; namespaces carry the test prefix and are deleted through
the daemon.
"""

import os
import stat
import subprocess

from netnsd_test import NETNSD, Daemon, Skip, main, test, tmpdir, uniq, wait_for

BOOTED = os.path.isdir("/run/systemd/system")
BUSES = ("/run/systemd/private", "/run/dbus/system_bus_socket")


def make_daemon(*args):
    return Daemon("--runtime-dir", os.path.join(tmpdir(), "run"), *args)


def spawn_true(d):
    return d.call("proc.spawn", {"argv": ["/bin/true"]})


def wait_exited(d, pid_id):
    assert wait_for(lambda: d.call("proc.get", {"id": pid_id})["state"] == "exited"), \
        d.call("proc.get", {"id": pid_id})


@test
def direct_is_reported():
    """--spawn=direct: daemon.info says direct/configured, and counts a direct start."""
    d = make_daemon("--spawn=direct")
    try:
        sp = d.call("daemon.info")["spawn"]
        assert sp == {"mode": "direct", "launcher": "direct", "reason": "configured",
                      "systemd_runs": 0, "direct_runs": 0}, sp
        p = spawn_true(d)
        assert "unit" not in p, p
        wait_exited(d, p["id"])
        sp = d.call("daemon.info")["spawn"]
        assert sp["direct_runs"] == 1 and sp["systemd_runs"] == 0, sp
        assert "Processes are started by netnsd itself (--spawn=direct)" in d.log_text()
    finally:
        d.stop()


@test
def no_systemd_is_direct():
    """--no-systemd is --spawn=direct."""
    d = make_daemon("--no-systemd")
    try:
        sp = d.call("daemon.info")["spawn"]
        assert (sp["mode"], sp["launcher"], sp["reason"]) == ("direct", "direct", "configured"), sp
    finally:
        d.stop()


@test
def auto_follows_the_machine():
    """The default (auto) picks systemd only when booted with it and its bus answers."""
    d = make_daemon()
    try:
        sp = d.call("daemon.info")["spawn"]
        assert sp["mode"] == "auto", sp
        if not BOOTED:
            assert (sp["launcher"], sp["reason"]) == ("direct", "not-booted-with-systemd"), sp
            assert "Not booted with systemd" in d.log_text()
        elif sp["launcher"] == "direct":
            assert sp["reason"] == "bus-unreachable", sp
        else:
            assert sp["reason"] == "booted-with-systemd", sp
        p = spawn_true(d)
        wait_exited(d, p["id"])
        sp2 = d.call("daemon.info")["spawn"]
        key = sp["launcher"] + "_runs"
        assert sp2[key] == sp[key] + 1, (sp, sp2)
        assert ("unit" in d.call("proc.get", {"id": p["id"]})) == (sp["launcher"] == "systemd")
    finally:
        d.stop()


@test
def systemd_demanded_without_bus():
    """--spawn=systemd refuses to start (exit 1, a reason in the log) when there is no bus."""
    for bus in BUSES:
        if os.path.exists(bus):
            raise Skip("systemd may be reachable here (%s exists)" % bus)
    base = tmpdir()
    r = subprocess.run([NETNSD, "--socket", os.path.join(base, "s"), "--state-dir",
                        os.path.join(base, "state"), "--runtime-dir", os.path.join(base, "run"),
                        "--spawn=systemd"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "Failed to connect to systemd over D-Bus (--spawn=systemd)" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(base, "s")), "it listened anyway"


@test
def bad_spawn_values():
    """--spawn accepts auto, systemd and direct only (usage error, exit 2)."""
    for v in ("", "System", "posix", "auto,direct"):
        r = subprocess.run([NETNSD, "--spawn=" + v], capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (v, r.returncode, r.stderr)
        assert "invalid value" in r.stderr and "--spawn" in r.stderr, r.stderr


@test
def umask_0077_keeps_shared_files_readable():
    """Under UMask=0077 (the unit's) /etc/netns/NAME and its files stay 0755/0644."""
    old = os.umask(0o077)
    try:
        d = make_daemon("--spawn=direct")
    finally:
        os.umask(old)
    name = uniq("um")
    try:
        with open("/proc/%d/status" % d.proc.pid) as f:
            assert "Umask:\t0077" in f.read(), "the daemon did not inherit the umask"
        d.call("netns.add", {"name": name, "resolv_conf": "nameserver 192.0.2.53\n",
                             "hosts": "192.0.2.1 gw\n"})
        st = os.stat("/etc/netns/" + name)
        assert stat.S_IMODE(st.st_mode) == 0o755, oct(st.st_mode)
        for f in ("resolv.conf", "hosts"):
            st = os.stat("/etc/netns/%s/%s" % (name, f))
            assert stat.S_IMODE(st.st_mode) == 0o644, (f, oct(st.st_mode))
        # And as nobody, inside the namespace, the way a workload reads it.
        r = subprocess.run(["ip", "netns", "exec", name, "setpriv", "--reuid=65534",
                            "--regid=65534", "--clear-groups", "cat", "/etc/resolv.conf"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and "192.0.2.53" in r.stdout, (r.returncode, r.stderr)
        assert stat.S_IMODE(os.stat("/run/netns").st_mode) == 0o755
    finally:
        d.call("netns.delete", {"name": name})
        d.stop()


def run_shim(procdir, fifo_reader):
    """The shim as systemd starts it: nothing on fd 3.  Returns (rc, FIFO lines)."""
    shim = os.environ.get("NETNSD_SHIM", os.path.join(os.path.dirname(NETNSD), "netnsd-shim"))
    fd = -1
    if fifo_reader:
        os.mkfifo(os.path.join(procdir, "sync"), 0o600)
        fd = os.open(os.path.join(procdir, "sync"), os.O_RDONLY | os.O_NONBLOCK)
    try:
        rc = subprocess.run([shim, procdir], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, timeout=30).returncode
        data = b""
        while fd >= 0:
            try:
                chunk = os.read(fd, 4096)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk
        return rc, data.decode().splitlines()
    finally:
        if fd >= 0:
            os.close(fd)


@test
def shim_reports_on_the_sync_fifo():
    """Without a pipe on fd 3 the shim reports on PROCDIR/sync, and needs no reader there."""
    for reader, argv, want in ((True, ["/bin/true"], ["ok", "exit"]),
                               (True, ["/nonexistent/prog"], ["err"]),
                               (False, ["/bin/true"], [])):
        d = tmpdir()
        with open(os.path.join(d, "spec.json"), "w") as f:
            f.write('{"argv": %s, "netns": null}' % str(argv).replace("'", '"'))
        rc, lines = run_shim(d, reader)
        assert [l.split()[0] for l in lines] == want, (argv, reader, lines)
        with open(os.path.join(d, "status")) as f:
            status = f.read()
        if argv[0] == "/bin/true":
            assert rc == 0 and "result=exited\ncode=0\n" in status, (rc, status)
        else:
            assert rc == 1 and "stage=exec" in status and lines[0] == "err exec 2", (rc, lines)


if __name__ == "__main__":
    raise SystemExit(main())
