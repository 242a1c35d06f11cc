#!/usr/bin/env python3
"""Integration tests of proc.* (supervised processes) against the real kernel.

Every process is started through netnsd and checked from outside, with the
kernel's own view: /proc/PID (namespace links, fds, signal state, parent,
zombies), `ip netns identify` and `ip netns pids`, files the payload wrote,
descriptors passed with SCM_RIGHTS.  Each daemon runs with --runtime-dir in
its own temporary directory, so nothing here touches /run/netnsd.

Processes that outlive a netnsd (kill -9, a simulated reboot) are reparented
to this test process, which makes itself a child subreaper for that reason:
PID 1 on the test machines does not reap orphans, and every shim or payload
we end we also wait() for.  At exit every remaining process is deleted
through its daemon, and any shim of ours still around is ended and reaped.

The host's /etc is never written.  The symlink case of the /etc/netns bind
mounts uses a symlink that already exists in the host's /etc (os-release,
mtab or localtime): only /etc/netns/NAME/, which belongs to our namespace,
gets a file.
"""

import atexit
import ctypes
import json
import os
import select
import signal
import socket
import time

from netnsd_test import (Daemon, RpcError, file_bytes, kill_and_reap, main, netns_mounted,
                         reap_children, run, shims_of, simulate_reboot,
                         state_files, test, tmpdir, uniq, wait_for)

PARSE, INVALID_REQUEST, INVALID_PARAMS = -32700, -32600, -32602
NOT_FOUND, EXISTS, PERMISSION, TIMEOUT = 1, 2, 5, 11
ENOENT, ESRCH, EACCES = 2, 3, 13
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_CHILD_SUBREAPER = 36

_daemon = None
_all_daemons = []


def make_daemon(*args, state_dir=None):
    """A netnsd with a private runtime dir (kept in d.runtime_dir)."""
    base = tmpdir()
    rdir = os.path.join(base, "run")
    d = Daemon("--runtime-dir", rdir, *args, state_dir=state_dir)
    d.runtime_dir = rdir
    _all_daemons.append(d)
    return d


def daemon():
    """The netnsd most tests share.

    It is started with SIGUSR1 and SIGHUP blocked and SIGUSR2 and SIGINT
    ignored, inherited from us: the payloads must not inherit any of that.
    """
    global _daemon
    if _daemon is None:
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGHUP})
        old_usr2 = signal.signal(signal.SIGUSR2, signal.SIG_IGN)
        old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            _daemon = make_daemon()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
            signal.signal(signal.SIGUSR2, old_usr2)
            signal.signal(signal.SIGINT, old_int)
    return _daemon


def new_ns(d=None, **params):
    name = uniq("n")
    (d or daemon()).call("netns.add", dict(params, name=name))
    return name


def spawn(d=None, **params):
    return (d or daemon()).call("proc.spawn", params)


def wait(p, d=None, timeout_ms=15000):
    return (d or daemon()).call("proc.wait", {"id": p["id"] if isinstance(p, dict) else p,
                                              "timeout_ms": timeout_ms})


def run_to_end(d=None, **params):
    """Spawn and wait; the final PROCESS."""
    return wait(spawn(d, **params), d)


def logs(p, d=None, **kw):
    return (d or daemon()).call("proc.logs", dict(kw, id=p["id"]))["text"]


def out_path(name="out"):
    return os.path.join(tmpdir(), name)


def read_text(path):
    with open(path) as f:
        return f.read()


def delete(p, d=None):
    try:
        (d or daemon()).call("proc.delete", {"id": p["id"] if isinstance(p, dict) else p,
                                             "grace_ms": 0})
    except (RpcError, OSError):
        pass


def proc_stat(pid):
    """(state, ppid) of a process from /proc/PID/stat, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rest = text.rsplit(")", 1)[1].split()
    return rest[0], int(rest[1])


def starttime(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (FileNotFoundError, ProcessLookupError):
        return None


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except (FileNotFoundError, ProcessLookupError):
        return None


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0")[:-1]]
    except (FileNotFoundError, ProcessLookupError):
        return None


def alive(pid):
    st = proc_stat(pid)
    return st is not None and st[0] != "Z"


def all_pids():
    return [int(n) for n in os.listdir("/proc") if n.isdigit()]


def pids_with_cmdline(argv):
    return [pid for pid in all_pids() if cmdline(pid) == argv]


def status_fields(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def shim_of(pid):
    """The shim supervising payload pid (its parent)."""
    st = proc_stat(pid)
    assert st, "process %d is gone" % pid
    assert comm(st[1]) == "netnsd-shim", "parent of %d is %d (%s), not a shim" % (
        pid, st[1], comm(st[1]))
    return st[1]




def zombies_under(parents):
    """Zombie processes whose parent is one of parents."""
    out = []
    for pid in all_pids():
        st = proc_stat(pid)
        if st and st[0] == "Z" and st[1] in parents:
            out.append(pid)
    return out


def netnsd_family_zombies(d):
    """Zombies whose parent is d's netnsd or any netnsd-shim."""
    parents = {d.proc.pid} | {pid for pid in all_pids() if comm(pid) == "netnsd-shim"}
    return zombies_under(parents)


def reap(pid):
    """wait() for an orphan reparented to us (we are a subreaper); ignore others."""
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass




def fd_links(pid):
    """What the fds of pid point to (empty when it is gone or hidden from us)."""
    out = []
    try:
        for n in os.listdir("/proc/%d/fd" % pid):
            try:
                out.append(os.readlink("/proc/%d/fd/%s" % (pid, n)))
            except OSError:
                pass
    except OSError:
        pass
    return out


def ns_inode(path):
    s = os.stat(path)
    return s.st_dev, s.st_ino


def proc_ids(d=None):
    return sorted(p["id"] for p in (d or daemon()).call("proc.list")["processes"])


def runtime_entries(d):
    try:
        return sorted(os.listdir(os.path.join(d.runtime_dir, "procs")))
    except FileNotFoundError:
        return []


def expect(d, method, params, code, kind=None, field=None, errno=None):
    e = d.expect_error(method, params)
    assert e.code == code, "%s %r: code %r, expected %r (%s)" % (method, params, e.code, code, e)
    if kind is not None:
        assert e.kind == kind, "%s %r: kind %r, expected %r (%s)" % (method, params, e.kind,
                                                                      kind, e)
    if field is not None:
        assert e.field == field, "%s %r: field %r, expected %r (%s)" % (method, params, e.field,
                                                                         field, e)
    if errno is not None:
        assert e.data.get("errno") == errno, "%s %r: errno %r, expected %r (%s)" % (
            method, params, e.data.get("errno"), errno, e)
    return e


def cleanup_processes():
    """Leave nothing behind: delete every process, end stray shims, reap orphans."""
    for d in _all_daemons:
        if d.alive():
            try:
                for p in d.call("proc.list")["processes"]:
                    delete(p, d)
            except Exception:
                pass
    for d in _all_daemons:
        for shim in shims_of(d):
            try:
                with open("/proc/%d/task/%d/children" % (shim, shim)) as f:
                    for pid in f.read().split():
                        kill_and_reap(int(pid))
            except OSError:
                pass
            kill_and_reap(shim)
    for d in _all_daemons:
        if d.alive():
            try:
                d.stop(timeout=10)
            except Exception:
                pass
    reap_children()


def setup():
    if os.geteuid() != 0:
        return
    # Orphans of a killed netnsd come to us, so that we can reap them.
    if _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    atexit.register(cleanup_processes)  # runs before the harness's cleanup (LIFO)


# --- 1. The execution context. ---

@test
def spawn_in_a_managed_namespace():
    """the payload runs in the namespace, sees its devices in /sys and /etc/netns/NAME over /etc"""
    d = daemon()
    hosts_before, resolv_before = file_bytes("/etc/hosts"), file_bytes("/etc/resolv.conf")
    ns = new_ns(hosts="192.0.2.7 ptest-only-host\n", resolv_conf="nameserver 192.0.2.53\n")
    d.call("link.add", {"netns": ns, "name": "pa", "kind": "veth",
                        "peer": {"name": "pb", "netns": ns}})

    p = spawn(netns=ns, argv=["sleep", "30"], stdout="null", stderr="null")
    try:
        pid = p["pid"]
        assert p["state"] == "running" and p["netns"] == ns and pid > 0, p
        assert run(["ip", "netns", "identify", str(pid)]).stdout.split() == [ns]
        assert ns_inode("/proc/%d/ns/net" % pid) == ns_inode("/run/netns/" + ns)
        assert str(pid) in run(["ip", "netns", "pids", ns]).stdout.split()
        # Its own mount namespace (the /sys and /etc mounts stay private to it).
        assert os.readlink("/proc/%d/ns/mnt" % pid) != os.readlink("/proc/self/ns/mnt")
        # Parent: a shim, whose parent is netnsd.
        shim = shim_of(pid)
        assert proc_stat(shim)[1] == d.proc.pid, (shim, proc_stat(shim), d.proc.pid)
        got = d.call("proc.get", {"id": p["id"]})
        assert got["state"] == "running" and got["pid"] == pid, got
    finally:
        delete(p)

    # The symlink case: an /etc entry that is a symlink on the host gets our file
    # bound over the link itself; the link's target is untouched.
    link_name = next((n for n in ("os-release", "mtab", "localtime")
                      if os.path.islink("/etc/" + n) and os.path.isfile("/etc/" + n)), None)
    etc_dir = "/etc/netns/" + ns
    target = os.path.realpath("/etc/" + link_name) if link_name else None
    target_before = file_bytes(target) if target else None
    if link_name:
        assert os.path.isdir(etc_dir), "netns.add with hosts made no %s" % etc_dir
        with open(os.path.join(etc_dir, link_name), "w") as f:
            f.write("PTEST_SYMLINK_OVERLAY=1\n")
    try:
        out = out_path()
        script = ("ls /sys/class/net; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf; "
                  "echo ---; cat /etc/%s; echo ---; cat %s" % (link_name, target)
                  if link_name else
                  "ls /sys/class/net; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf")
        r = run_to_end(netns=ns, argv=["/bin/sh", "-c", script], stdout={"file": out},
                       stderr={"file": out})
        assert r["exit_code"] == 0, (r, read_text(out))
        parts = read_text(out).split("---\n")
        kernel = sorted(l["ifname"] for l in json.loads(
            run(["ip", "-n", ns, "-j", "link"]).stdout))
        assert kernel == ["lo", "pa", "pb"], kernel
        assert sorted(parts[0].split()) == kernel, parts[0]
        assert parts[1] == "192.0.2.7 ptest-only-host\n", parts[1]
        assert parts[2] == "nameserver 192.0.2.53\n", parts[2]
        if link_name:
            assert parts[3] == "PTEST_SYMLINK_OVERLAY=1\n", parts[3]
            assert parts[4].encode() == target_before, "the symlink's target changed inside"
    finally:
        if link_name:
            try:
                os.unlink(os.path.join(etc_dir, link_name))
            except FileNotFoundError:
                pass
    assert file_bytes("/etc/hosts") == hosts_before, "the host's /etc/hosts changed"
    assert file_bytes("/etc/resolv.conf") == resolv_before, "the host's /etc/resolv.conf changed"
    if link_name:
        assert os.path.islink("/etc/" + link_name) and file_bytes(target) == target_before
    d.call("netns.delete", {"name": ns})
    if not link_name:
        print("# symlink case not tested: no symlink to a file in the host's /etc")


# --- 2. Exit status. ---

@test
def exit_codes_and_signals():
    """exit codes, death by signal (default TERM, names, numbers), kill of a finished process"""
    d = daemon()
    r = run_to_end(argv=["sh", "-c", "exit 7"])
    assert r["state"] == "exited" and r["exit_code"] == 7 and r["signal"] is None, r
    assert r["core_dumped"] is False and r["exited"], r
    # proc.get of a finished process says the same; wait returns at once.
    assert d.call("proc.get", {"id": r["id"]})["exit_code"] == 7
    assert wait(r)["exit_code"] == 7

    for sig, want in ((None, 15), ("KILL", 9), ("SIGHUP", 1), ("INT", 2), (10, 10), (12, 12)):
        p = spawn(argv=["sleep", "100"], stdout="null", stderr="null")
        params = {"id": p["id"]}
        if sig is not None:
            params["signal"] = sig
        k = d.call("proc.kill", params)
        assert k == {"id": p["id"], "signal": want}, k
        w = wait(p)
        assert w["state"] == "exited" and w["signal"] == want and w["exit_code"] is None, (sig, w)
        assert not alive(p["pid"])
        # Finished: the signal has no one to reach.
        expect(d, "proc.kill", {"id": p["id"]}, NOT_FOUND, "not_found", "id", ESRCH)

    # A wait that runs out of time is error 11; the process is unaffected.
    p = spawn(argv=["sleep", "100"], stdout="null", stderr="null")
    try:
        expect(d, "proc.wait", {"id": p["id"], "timeout_ms": 50}, TIMEOUT, "timeout")
        assert d.call("proc.get", {"id": p["id"]})["state"] == "running"
    finally:
        delete(p)
    # By name too.
    n = uniq("p")
    p = spawn(argv=["sleep", "100"], name=n, stdout="null", stderr="null")
    assert d.call("proc.kill", {"id": n, "signal": "TERM"})["id"] == p["id"]
    w = d.call("proc.wait", {"id": n})
    assert w["signal"] == 15 and w["name"] == n, w


# --- 3. Start failures. ---

@test
def start_failures_are_errors_of_the_call():
    """a program that cannot start is an RPC error with errno and field, never a silent exit 127"""
    d = daemon()
    before = proc_ids()
    entries = runtime_entries(d)
    tmp = tmpdir()
    plain = os.path.join(tmp, "not-executable")
    with open(plain, "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(plain, 0o644)
    private = os.path.join(tmp, "private")
    os.mkdir(private, 0o700)
    foreign = uniq("f")
    run(["ip", "netns", "add", foreign])
    try:
        expect(d, "proc.spawn", {"argv": ["/nonexistent/prog"]}, NOT_FOUND, "not_found", "argv",
               ENOENT)
        expect(d, "proc.spawn", {"argv": ["ptest-no-such-program"]}, NOT_FOUND, "not_found",
               "argv", ENOENT)
        # The search uses the PATH the payload gets.
        expect(d, "proc.spawn", {"argv": ["true"], "env": {"PATH": "/nonexistent"}},
               NOT_FOUND, "not_found", "argv", ENOENT)
        expect(d, "proc.spawn", {"argv": [plain]}, PERMISSION, "permission", "argv", EACCES)
        expect(d, "proc.spawn", {"argv": [tmp]}, PERMISSION, "permission", "argv", EACCES)
        expect(d, "proc.spawn", {"argv": ["true"], "cwd": "/nonexistent/dir"}, NOT_FOUND,
               "not_found", "cwd", ENOENT)
        # cwd is entered as the target user.
        expect(d, "proc.spawn", {"argv": ["true"], "cwd": private, "user": "nobody"},
               PERMISSION, "permission", "cwd", EACCES)
        expect(d, "proc.spawn", {"argv": ["true"], "user": "ptest-no-such-user"}, NOT_FOUND,
               "not_found", "user")
        expect(d, "proc.spawn", {"argv": ["true"], "group": "ptest-no-such-group"}, NOT_FOUND,
               "not_found", "group")
        expect(d, "proc.spawn", {"argv": ["true"], "netns": uniq("missing")}, NOT_FOUND,
               "not_found", "netns")
        expect(d, "proc.spawn", {"argv": ["true"], "netns": foreign}, PERMISSION, "permission",
               "netns")
        assert proc_ids() == before, "a failed start left a process record"
        assert runtime_entries(d) == entries, "a failed start left a runtime directory"
        assert not netnsd_family_zombies(d) or wait_for(lambda: not netnsd_family_zombies(d))
    finally:
        run(["ip", "netns", "del", foreign], check=False)


# --- 4. Environment, credentials, working directory. ---

@test
def environment_user_group_and_cwd():
    """default PATH only, env merged or replaced, user/group by name and number, cwd"""
    def output(**params):
        r = run_to_end(**params)
        assert r["exit_code"] == 0, r
        return logs(r)

    env_lines = lambda text: sorted(text.splitlines())
    assert env_lines(output(argv=["/usr/bin/env"])) == ["PATH=" + DEFAULT_PATH]
    assert env_lines(output(argv=["env"], env={"FOO": "bar baz", "PATH": "/usr/bin:/bin",
                                               "EMPTY": ""})) == \
        ["EMPTY=", "FOO=bar baz", "PATH=/usr/bin:/bin"]
    assert env_lines(output(argv=["env"], env={"ONE": "1"})) == ["ONE=1", "PATH=" + DEFAULT_PATH]
    assert env_lines(output(argv=["/usr/bin/env"], env={"A": "1", "B": "x=y"},
                            env_replace=True)) == ["A=1", "B=x=y"]
    assert output(argv=["/usr/bin/env"], env={}, env_replace=True) == ""

    assert output(argv=["id"]).split()[:2] == ["uid=0(root)", "gid=0(root)"]
    want = "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n"
    assert output(argv=["id"], user="nobody") == want
    assert output(argv=["id"], user=65534) == want
    assert output(argv=["id"], user="65534", group="nogroup") == want
    assert output(argv=["id", "-u"], user="nobody", group=0) == "65534\n"
    assert output(argv=["id", "-g"], user="nobody", group=0) == "0\n"
    # Only a group: root with that group and no supplementary groups.
    assert output(argv=["id"], group="nogroup") == \
        "uid=0(root) gid=65534(nogroup) groups=65534(nogroup)\n"
    # The real and saved ids are set too, not only the effective ones.
    assert output(argv=["grep", "-E", "^(Uid|Gid)", "/proc/self/status"], user=65534,
                  group=65534).split() == ["Uid:"] + ["65534"] * 4 + ["Gid:"] + ["65534"] * 4

    assert output(argv=["pwd"]) == "/\n"
    tmp = tmpdir()
    assert output(argv=["/bin/pwd", "-P"], cwd=tmp) == os.path.realpath(tmp) + "\n"


# --- 5. Only fds 0-2; a clean signal state. ---

@test
def only_stdio_fds_and_clean_signal_state():
    """only fds 0-2 reach the payload; its signal mask and dispositions are reset"""
    d = daemon()
    # Give netnsd more descriptors to leak: open connections, a passed fd.
    extra = [d.client() for _ in range(3)]
    try:
        r, w = os.pipe()
        c = d.client()
        line = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "proc.spawn",
                           "params": {"argv": ["sleep", "30"], "stdout": {"fd": 0},
                                      "stderr": "null"}}).encode() + b"\n"
        socket.send_fds(c.sock, [line], [w])
        os.close(w)
        resp = c.recv()
        c.close()
        assert "result" in resp, resp
        p = resp["result"]
        try:
            pid = p["pid"]

            def payload_fds():
                return sorted(int(n) for n in os.listdir("/proc/%d/fd" % pid))
            # Running means execve succeeded; the dynamic loader may still hold
            # the libraries it maps open for a moment.  A leaked fd stays.
            wait_for(lambda: payload_fds() == [0, 1, 2], timeout=5)
            fds = payload_fds()
            assert fds == [0, 1, 2], "fds of the payload: %r" % {
                n: os.readlink("/proc/%d/fd/%d" % (pid, n)) for n in fds}
            assert os.readlink("/proc/%d/fd/0" % pid) == "/dev/null"
            assert os.readlink("/proc/%d/fd/1" % pid).startswith("pipe:")
            st = status_fields(pid)
            for k in ("SigBlk", "SigIgn", "SigCgt"):
                assert int(st[k], 16) == 0, "%s of the payload is %s" % (k, st[k])
            # The shim lets go of the payload's pipe (just after it reported the start)
            # and holds none of netnsd's sockets.
            shim = shim_of(pid)
            pipe = "pipe:[%d]" % os.fstat(r).st_ino
            assert wait_for(lambda: pipe not in fd_links(shim), timeout=5), fd_links(shim)
            assert not [l for l in fd_links(shim) if l.startswith("socket:")], fd_links(shim)
        finally:
            delete(p)
            os.close(r)
        # The same seen from inside, by a shell.
        # (The shell's own mask is not looked at: sh blocks signals while it waits.)
        t = run_to_end(argv=["sh", "-c",
                             "ls /proc/$$/fd; grep -E 'Sig(Blk|Ign)' /proc/self/status"])
        lines = logs(t).split()
        assert lines[:lines.index("SigBlk:")] == ["0", "1", "2"], lines
        assert lines[-4:] == ["SigBlk:", "0000000000000000", "SigIgn:", "0000000000000000"], lines
    finally:
        for c in extra:
            c.close()


# --- 6. stdio. ---

def spawn_with_fds(d, params, fds):
    """proc.spawn with fds passed (SCM_RIGHTS) on the request's own sendmsg; the reply."""
    c = d.client()
    try:
        line = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "proc.spawn",
                           "params": params}).encode() + b"\n"
        socket.send_fds(c.sock, [line], fds)
        return c.recv()
    finally:
        c.close()


def read_to_eof(fd, timeout):
    """(data, saw_eof) reading fd until EOF or timeout seconds."""
    data, deadline = b"", time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                return data, True
            data += chunk
    return data, False


@test
def stdio_log_file_and_passed_fds():
    """stdio: the default log and proc.logs tail, {"file"}, {"fd"} pipes passed by SCM_RIGHTS"""
    d = daemon()
    r = run_to_end(argv=["sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; echo err >&2"])
    assert r["exit_code"] == 0 and r["log"].startswith(d.runtime_dir + "/"), r
    assert logs(r) == "line1\nline2\nline3\nline4\nline5\nerr\n", logs(r)
    assert logs(r, tail=2) == "line5\nerr\n"
    assert logs(r, tail=100) == logs(r)
    assert read_text(r["log"]) == logs(r)

    out, err = out_path("o"), out_path("e")
    with open(out, "w") as f:
        f.write("before\n")
    r = run_to_end(argv=["sh", "-c", "echo to-out; echo to-err >&2"], stdout={"file": out},
                   stderr={"file": err})
    assert r["exit_code"] == 0 and r["log"] == out, r
    assert read_text(out) == "before\nto-out\n", "{\"file\"} must append"
    assert read_text(err) == "to-err\n"
    assert logs(r) == "before\nto-out\n"

    r = run_to_end(argv=["echo", "nowhere"], stdout="null", stderr="null")
    assert "log" not in r, r
    expect(d, "proc.logs", {"id": r["id"]}, NOT_FOUND, "not_found", "id")

    # stdin from a pipe we write into, stdout to a pipe we read.
    problems = []
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    resp = spawn_with_fds(d, {"argv": ["tr", "a-z", "A-Z"], "stdin": {"fd": 0},
                              "stdout": {"fd": 1}, "stderr": "null"}, [in_r, out_w])
    os.close(in_r)
    os.close(out_w)
    assert "result" in resp, resp
    p = resp["result"]
    try:
        os.write(in_w, b"hello through netnsd\n")
        os.close(in_w)
        w = wait(p)
        assert w["exit_code"] == 0, w
        data, eof = read_to_eof(out_r, 3)
        assert data == b"HELLO THROUGH NETNSD\n", data
        # Once the program is gone, nobody may hold the pipe's write end open.
        pipe = "pipe:[%d]" % os.fstat(out_r).st_ino
        holders = [pid for pid in all_pids() if pid != os.getpid() and pipe in fd_links(pid)]
        if not eof:
            problems.append("no EOF on the stdout pipe after the process ended (state %s); "
                            "its write end is held by %r (netnsd is %d)" % (
                                d.call("proc.get", {"id": p["id"]})["state"],
                                [(x, comm(x)) for x in holders], d.proc.pid))
    finally:
        os.close(out_r)
        delete(p)

    # An index without descriptors passed, or beyond those passed.
    base = state_files(d), proc_ids()
    for params, nfds in (({"argv": ["true"], "stdout": {"fd": 3}}, 0),
                         ({"argv": ["true"], "stdout": {"fd": 1}}, 1)):
        if nfds:
            rr, ww = os.pipe()
            resp = spawn_with_fds(d, params, [ww])
            os.close(rr)
            os.close(ww)
        else:
            resp = d.client().request("proc.spawn", params)
        e = resp.get("error")
        assert e and e["code"] == INVALID_PARAMS, resp
        if e["data"].get("field") != "stdout":
            problems.append("{\"fd\"} in stdout without that descriptor: field %r, expected "
                            "\"stdout\" (%s)" % (e["data"].get("field"), e["message"]))
    assert (state_files(d), proc_ids()) == base

    # Descriptors passed but not used are closed by netnsd, not leaked.
    nfd = len(os.listdir("/proc/%d/fd" % d.proc.pid))
    rr, ww = os.pipe()
    resp = spawn_with_fds(d, {"argv": ["true"], "stdout": "null", "stderr": "null"}, [rr, ww])
    os.close(rr)
    os.close(ww)
    assert "result" in resp, resp
    wait(resp["result"])
    delete(resp["result"])
    assert wait_for(lambda: len(os.listdir("/proc/%d/fd" % d.proc.pid)) <= nfd), \
        "netnsd kept descriptors it was passed but did not use"
    assert not problems, problems


# --- 7. Restart policies. ---

def wait_state(id, states, d=None, timeout=20.0):
    d = d or daemon()
    got = wait_for(lambda: d.call("proc.get", {"id": id})["state"] in states and
                   d.call("proc.get", {"id": id}), timeout=timeout, interval=0.05)
    assert got, "process %s never reached %s: %r" % (id, states, d.call("proc.get", {"id": id}))
    return got


@test
def restart_policies():
    """on-failure restarts failures up to the rate limit; always restarts exit 0; no never does"""
    d = daemon()
    tmp = tmpdir()
    # on-failure: exit 1 again and again, until the rate limit makes it failed.
    runs = os.path.join(tmp, "runs-onfail")
    p = spawn(argv=["sh", "-c", "echo run >> %s; exit 1" % runs], restart="on-failure",
              name=uniq("rf"), stdout="null", stderr="null")
    assert p["restart"] == "on-failure" and p["service"] is True, p
    f = wait_state(p["id"], ("failed",))
    assert f["error_stage"] == "restart-limit", f
    assert f["restarts"] == 5, f
    assert f["exit_code"] == 1, f
    assert read_text(runs).count("run") == 6, read_text(runs)

    # on-failure does not restart a clean exit.
    p = spawn(argv=["true"], restart="on-failure", stdout="null", stderr="null")
    w = wait(p)
    assert w["exit_code"] == 0, w
    time.sleep(0.5)
    g = d.call("proc.get", {"id": p["id"]})
    assert g["state"] == "exited" and g["restarts"] == 0, g
    delete(p)

    # always: restarts a clean exit; each proc.wait sees one run end.
    runs = os.path.join(tmp, "runs-always")
    p = spawn(argv=["sh", "-c", "echo run >> %s; exit 0" % runs], restart="always",
              stdout="null", stderr="null")
    wait(p)
    wait(p)
    g = wait_for(lambda: (lambda x: x["restarts"] >= 2 and x)(d.call("proc.get", {"id": p["id"]})))
    assert g and g["state"] in ("starting", "running", "backoff", "exited"), g
    # proc.delete stops it for good.
    gone = d.call("proc.delete", {"id": p["id"]})
    assert gone["id"] == p["id"] and gone["service"] is False, gone
    expect(d, "proc.get", {"id": p["id"]}, NOT_FOUND, "not_found", "id")
    n = read_text(runs).count("run")
    time.sleep(1.0)
    assert read_text(runs).count("run") == n, "the service ran again after proc.delete"
    assert p["id"] not in proc_ids()

    # no: never restarts, also after a failure.
    p = spawn(argv=["sh", "-c", "exit 1"], restart="no", stdout="null", stderr="null")
    assert p["service"] is False, p
    wait(p)
    time.sleep(0.5)
    g = d.call("proc.get", {"id": p["id"]})
    assert g["state"] == "exited" and g["restarts"] == 0 and g["exit_code"] == 1, g


# --- 8. No zombies, no escapees. ---

@test
def no_zombies_and_no_leftovers():
    """double-forked and setsid'd descendants are killed when the payload ends; no zombies"""
    d = daemon()
    mark = "%d.%d" % (os.getpid() % 1000, int(time.time()) % 1000)
    a, b, c = "97.%s1" % mark, "97.%s2" % mark, "0.2"
    # A background child of a shell that exits, and a daemonizing one (own session).
    script = "sleep %s & setsid sleep %s & (setsid -f sleep %s3 &); exit 0" % (a, b, "97." + mark)
    r = run_to_end(argv=["sh", "-c", script], stdout="null", stderr="null")
    assert r["exit_code"] == 0, r
    for arg in (a, b, "97.%s3" % mark):
        left = wait_for(lambda: not pids_with_cmdline(["sleep", arg]), timeout=5)
        assert left, "a descendant survived the payload: %r" % pids_with_cmdline(["sleep", arg])
    assert wait_for(lambda: not netnsd_family_zombies(d), timeout=5), \
        "zombies under netnsd or a shim: %r" % netnsd_family_zombies(d)
    assert wait_for(lambda: not shims_of(d), timeout=5), "a shim outlived its payload"

    # While the payload runs, orphans that end are reaped by its shim.
    p = spawn(argv=["sh", "-c", "(sleep %s &); (sleep %s &); exec sleep 60" % (c, c)],
              stdout="null", stderr="null")
    try:
        shim = shim_of(p["pid"])
        assert wait_for(lambda: not zombies_under({shim, d.proc.pid}) and
                        not [x for x in all_pids() if cmdline(x) == ["sleep", c]
                             and (lambda st: st and st[1] == shim)(proc_stat(x))],
                        timeout=5), \
            "zombies under the shim: %r" % zombies_under({shim})
        assert alive(p["pid"])
    finally:
        delete(p)
    assert wait_for(lambda: not netnsd_family_zombies(d), timeout=5), netnsd_family_zombies(d)


# --- 9. Traffic between namespaces. ---

@test
def ping_between_namespaces():
    """two namespaces joined by a veth: a spawned ping reaches the peer's address"""
    d = daemon()
    a, b = new_ns(), new_ns()
    net = "10.%d.%d" % (100 + os.getpid() % 100, os.getpid() % 250)
    d.call("link.add", {"netns": a, "name": "eth0", "kind": "veth", "up": True,
                        "peer": {"name": "eth0", "netns": b, "up": True}})
    d.call("addr.add", {"netns": a, "dev": "eth0", "address": net + ".1/24"})
    d.call("addr.add", {"netns": b, "dev": "eth0", "address": net + ".2/24"})
    for _ in range(3):
        r = run_to_end(netns=a, argv=["ping", "-c1", "-W2", net + ".2"])
        if r["exit_code"] == 0:
            break
    assert r["exit_code"] == 0, (r, logs(r))
    assert "1 received" in logs(r), logs(r)
    # The other way, and an address nobody has (the test can fail).
    assert run_to_end(netns=b, argv=["ping", "-c1", "-W2", net + ".1"])["exit_code"] == 0
    r = run_to_end(netns=a, argv=["ping", "-c1", "-W1", net + ".77"])
    assert r["exit_code"] != 0, r
    # The host does not have the address (the payload really was in the namespace).
    r = run_to_end(argv=["ping", "-c1", "-W1", net + ".2"], stdout="null", stderr="null")
    assert r["exit_code"] != 0, r
    d.call("netns.delete", {"name": a})
    d.call("netns.delete", {"name": b})


# --- 10. netnsd restarts: adoption. ---

@test
def adoption_after_kill_9_of_netnsd():
    """after kill -9 of netnsd, a new netnsd adopts running payloads and exact exit statuses"""
    d = make_daemon()
    ns = new_ns(d)
    short = spawn(d, netns=ns, argv=["sh", "-c", "sleep 1; exit 5"], stdout="null",
                  stderr="null")
    long = spawn(d, netns=ns, argv=["sleep", "60"], name=uniq("long"))
    long_start = starttime(long["pid"])
    short_shim = shim_of(short["pid"])
    long_shim = shim_of(long["pid"])
    d.kill9()
    try:
        # Both shims are orphans now (ours, as we are a subreaper); the payloads run on.
        assert alive(long["pid"]) and alive(long_shim)
        assert wait_for(lambda: not alive(short["pid"]), timeout=10), "short payload still runs"
        assert wait_for(lambda: not alive(short_shim), timeout=10)
        reap(short_shim)
        time.sleep(0.5)
        d.start()

        s = d.call("proc.get", {"id": short["id"]})
        assert s["state"] == "exited" and s["exit_code"] == 5 and s["signal"] is None, s
        assert s["adopted"] is True and s["pid"] == short["pid"], s
        l = d.call("proc.get", {"id": long["name"]})
        assert l["state"] == "running" and l["adopted"] is True, l
        assert l["pid"] == long["pid"] and starttime(l["pid"]) == long_start, l
        assert l["argv"] == ["sleep", "60"] and l["netns"] == ns, l
        assert sorted(x["id"] for x in d.call("proc.list", {"netns": ns})["processes"]) == \
            sorted([short["id"], long["id"]])

        # The adopted one is signalled, and its end is seen, through the new netnsd.
        c = d.client()
        c.send({"jsonrpc": "2.0", "id": 1, "method": "proc.wait",
                 "params": {"id": long["id"], "timeout_ms": 15000}})
        time.sleep(0.1)
        assert d.call("proc.kill", {"id": long["id"]}) == {"id": long["id"], "signal": 15}
        w = c.recv()
        c.close()
        assert "result" in w, w
        assert w["result"]["signal"] == 15 and w["result"]["exit_code"] is None, w
        assert wait_for(lambda: not alive(long_shim), timeout=5)
        reap(long_shim)

        # A clean stop (SIGTERM) of netnsd leaves the payload running.
        p = spawn(d, netns=ns, argv=["sleep", "60"], stdout="null", stderr="null")
        shim = shim_of(p["pid"])
        assert d.stop() == 0
        assert alive(p["pid"]) and alive(shim), "SIGTERM of netnsd ended a payload"
        d.start()
        g = d.call("proc.get", {"id": p["id"]})
        assert g["state"] == "running" and g["adopted"] is True and g["pid"] == p["pid"], g
        d.call("proc.delete", {"id": p["id"], "grace_ms": 0})
        assert wait_for(lambda: not alive(p["pid"]), timeout=5)
        assert wait_for(lambda: not alive(shim), timeout=5)
        reap(shim)
    finally:
        if not d.alive():
            for pid in (long["pid"], long_shim):
                kill_and_reap(pid)
    d.call("netns.delete", {"name": ns})
    d.stop()


# --- 11. Services survive a reboot. ---



def running_in(d, ns):
    return [p for p in d.call("proc.list", {"netns": ns})["processes"] if p["state"] == "running"]


@test
def services_persist_across_a_reboot():
    """services come back after a (simulated) reboot, once, as services; proc.delete ends that"""
    d = make_daemon()
    ns = new_ns(d)
    name = uniq("svc")
    svc = spawn(d, netns=ns, argv=["sleep", "300"], restart="always", name=name,
                stdout="null", stderr="null")
    anon = spawn(d, netns=ns, argv=["sleep", "301"], restart="on-failure", stdout="null",
                 stderr="null")
    assert svc["service"] and anon["service"]
    simulate_reboot(d, [ns])

    d.start()
    assert netns_mounted(ns), "namespace not recreated"
    procs = wait_for(lambda: len(running_in(d, ns)) == 2 and running_in(d, ns), timeout=10)
    assert procs, d.call("proc.list", {"netns": ns})
    by_argv = {tuple(p["argv"]): p for p in procs}
    s = by_argv[("sleep", "300")]
    assert s["name"] == name and s["netns"] == ns and s["restart"] == "always", s
    assert run(["ip", "netns", "identify", str(s["pid"])]).stdout.split() == [ns]
    assert d.call("proc.get", {"id": name})["pid"] == s["pid"]
    problems = []
    for p in procs:
        if p["service"] is not True:
            problems.append("restored service %s %s says service: %r" % (
                p["id"], p["argv"], p["service"]))

    # proc.delete removes a service from the desired state: not back after another reboot.
    d.call("proc.delete", {"id": name, "grace_ms": 0})
    simulate_reboot(d, [ns])
    d.start()
    assert wait_for(lambda: running_in(d, ns), timeout=10), d.call("proc.list", {"netns": ns})
    time.sleep(0.3)
    argvs = sorted(tuple(p["argv"]) for p in d.call("proc.list", {"netns": ns})["processes"])
    if argvs != [("sleep", "301")]:
        problems.append("after proc.delete of a restored service and a reboot: %r" % argvs)

    # A restart of netnsd (no reboot) adopts the restored services, and starts none twice.
    before = sorted(p["pid"] for p in running_in(d, ns))
    d.kill9()
    try:
        d.start()
    except RuntimeError as e:
        problems.append("netnsd did not start again after adopting restored services: %s" %
                        str(e).splitlines()[0])
        raise AssertionError("; ".join(problems))
    procs = running_in(d, ns)
    sleeps = [x for x in (int(y) for y in run(["ip", "netns", "pids", ns]).stdout.split())
              if comm(x) == "sleep"]
    assert sorted(p["pid"] for p in procs) == before and all(p["adopted"] for p in procs), \
        (before, procs)
    assert len(sleeps) == len(before), \
        "services started twice: %r" % [(x, cmdline(x)) for x in sleeps]
    assert not problems, problems
    for p in d.call("proc.list")["processes"]:
        delete(p, d)
    d.call("netns.delete", {"name": ns})
    d.stop()


# --- 12. netns.delete. ---

@test
def netns_delete_stops_supervised_processes_first():
    """netns.delete stops the namespace's processes through their shims and lists their ids"""
    d = daemon()
    ns, other = new_ns(), new_ns()
    ps = [spawn(netns=ns, argv=["sleep", "100"], stdout="null", stderr="null"),
          spawn(netns=ns, argv=["sh", "-c", "trap '' TERM; sleep 100"], stdout="null",
                stderr="null"),
          spawn(netns=ns, argv=["sleep", "100"], restart="always", stdout="null", stderr="null")]
    done = run_to_end(netns=ns, argv=["true"])
    bystander = spawn(netns=other, argv=["sleep", "100"], stdout="null", stderr="null")
    shims = [shim_of(p["pid"]) for p in ps]
    try:
        r = d.call("netns.delete", {"name": ns, "grace_ms": 500})
        assert sorted(r["processes"]) == sorted([p["id"] for p in ps] + [done["id"]]) or \
            sorted(r["processes"]) == sorted(p["id"] for p in ps), r
        assert not netns_mounted(ns)
        for p in ps:
            assert not alive(p["pid"]), "payload %d survived netns.delete" % p["pid"]
        for p in ps:
            try:
                g = d.call("proc.get", {"id": p["id"]})
            except RpcError as e:
                assert e.kind == "not_found", e
                continue
            assert g["state"] in ("exited", "failed"), g
            assert g["service"] is False, g
        # Exact statuses: TERM for the plain sleeps, KILL for the one ignoring TERM.
        sig = {p["id"]: d.call("proc.get", {"id": p["id"]}).get("signal") for p in ps
               if p["id"] in proc_ids()}
        if ps[0]["id"] in sig:
            assert sig[ps[0]["id"]] == 15 and sig[ps[1]["id"]] == 9, sig
        assert wait_for(lambda: not any(alive(s) for s in shims), timeout=5)
        assert wait_for(lambda: not netnsd_family_zombies(d), timeout=5)
        # The service is not restarted, and the other namespace's process is untouched.
        time.sleep(0.3)
        assert not alive(ps[2]["pid"])
        assert d.call("proc.get", {"id": bystander["id"]})["state"] == "running"
    finally:
        delete(bystander)
    d.call("netns.delete", {"name": other})


# --- 13. Events. ---

@test
def proc_events():
    """a "proc" subscriber sees started and exited (with the status), then removed"""
    d = daemon()
    sub = d.client()
    sid = sub.call("events.subscribe", {"topics": ["proc"]})["subscription"]
    sub.sock.settimeout(0.5)
    ns = new_ns()
    p = spawn(netns=ns, argv=["sh", "-c", "exit 3"], stdout="null", stderr="null")
    wait(p)
    delete(p)
    events, deadline = [], time.time() + 5
    while time.time() < deadline:
        try:
            m = sub.recv()
        except socket.timeout:
            continue
        assert m is not None
        if m.get("method") != "event":
            continue
        e = m["params"]
        assert e["subscription"] == sid and e["topic"] == "proc", e
        if e["proc"]["id"] == p["id"]:
            events.append(e)
        if e["action"] == "removed" and e["proc"]["id"] == p["id"]:
            break
    sub.close()
    actions = [e["action"] for e in events]
    assert events, "no \"proc\" event arrived for %s within 5 s" % p["id"]
    assert actions == ["started", "exited", "removed"], actions
    assert all(e["netns"] == ns for e in events), events
    assert events[0]["proc"]["state"] == "running" and events[0]["proc"]["pid"] == p["pid"]
    ex = events[1]["proc"]
    assert ex["state"] == "exited" and ex["exit_code"] == 3, ex
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs), seqs
    d.call("netns.delete", {"name": ns})


# --- 14. Bad input. ---

def bad_cases(dup_name):
    big_env = {"V%d" % i: "x" for i in range(10000)}
    return [
        ("argv missing", "proc.spawn", {}, INVALID_PARAMS, "argv"),
        ("argv empty", "proc.spawn", {"argv": []}, INVALID_PARAMS, "argv"),
        ("argv a string", "proc.spawn", {"argv": "true"}, INVALID_PARAMS, "argv"),
        ("argv non-string item", "proc.spawn", {"argv": ["echo", 1]}, INVALID_PARAMS, "argv*"),
        ("argv empty program", "proc.spawn", {"argv": [""]}, INVALID_PARAMS, "argv*"),
        ("argv NUL in an argument", "proc.spawn", {"argv": ["echo", "a\u0000b"]},
         (PARSE, INVALID_PARAMS), None),
        ("argv too long", "proc.spawn", {"argv": ["true"] * 5000}, INVALID_PARAMS, "argv"),
        ("env not an object", "proc.spawn", {"argv": ["true"], "env": ["A=1"]},
         INVALID_PARAMS, "env"),
        ("env non-string value", "proc.spawn", {"argv": ["true"], "env": {"A": 1}},
         INVALID_PARAMS, "env*"),
        ("env '=' in a key", "proc.spawn", {"argv": ["true"], "env": {"A=B": "1"}},
         INVALID_PARAMS, "env*"),
        ("env empty key", "proc.spawn", {"argv": ["true"], "env": {"": "1"}},
         INVALID_PARAMS, "env*"),
        ("env 10000 variables", "proc.spawn", {"argv": ["true"], "env": big_env},
         (INVALID_PARAMS, 8), "env*"),
        ("env_replace not a boolean", "proc.spawn", {"argv": ["true"], "env_replace": "yes"},
         INVALID_PARAMS, "env_replace"),
        ("cwd relative", "proc.spawn", {"argv": ["true"], "cwd": "tmp"}, INVALID_PARAMS, "cwd"),
        ("cwd empty", "proc.spawn", {"argv": ["true"], "cwd": ""}, INVALID_PARAMS, "cwd"),
        ("user a boolean", "proc.spawn", {"argv": ["true"], "user": True}, INVALID_PARAMS,
         "user"),
        ("user an array", "proc.spawn", {"argv": ["true"], "user": [0]}, INVALID_PARAMS, "user"),
        ("user empty", "proc.spawn", {"argv": ["true"], "user": ""}, INVALID_PARAMS, "user"),
        ("user negative", "proc.spawn", {"argv": ["true"], "user": -1},
         (INVALID_PARAMS, NOT_FOUND), "user"),
        ("group an object", "proc.spawn", {"argv": ["true"], "group": {}}, INVALID_PARAMS,
         "group"),
        ("restart sometimes", "proc.spawn", {"argv": ["true"], "restart": "sometimes"},
         INVALID_PARAMS, "restart"),
        ("name invalid", "proc.spawn", {"argv": ["true"], "name": "bad name"}, INVALID_PARAMS,
         "name"),
        ("name with a slash", "proc.spawn", {"argv": ["true"], "name": "a/b"}, INVALID_PARAMS,
         "name"),
        ("name leading dash", "proc.spawn", {"argv": ["true"], "name": "-x"}, INVALID_PARAMS,
         "name"),
        ("name taken", "proc.spawn", {"argv": ["true"], "name": dup_name}, EXISTS, "name"),
        ("netns invalid", "proc.spawn", {"argv": ["true"], "netns": "a/b"}, INVALID_PARAMS,
         "netns"),
        ("stdout file relative", "proc.spawn", {"argv": ["true"], "stdout": {"file": "rel"}},
         INVALID_PARAMS, "stdout"),
        ("stdout file extra key", "proc.spawn",
         {"argv": ["true"], "stdout": {"file": "/tmp/x", "mode": 1}}, INVALID_PARAMS, "stdout"),
        ("stdout a number", "proc.spawn", {"argv": ["true"], "stdout": 1}, INVALID_PARAMS,
         "stdout"),
        ("stderr unknown word", "proc.spawn", {"argv": ["true"], "stderr": "tty"},
         INVALID_PARAMS, "stderr"),
        ("stdin log", "proc.spawn", {"argv": ["true"], "stdin": "log"}, INVALID_PARAMS, "stdin"),
        ("stdin file", "proc.spawn", {"argv": ["true"], "stdin": {"file": "/etc/hostname"}},
         INVALID_PARAMS, "stdin"),
        ("stdin fd negative", "proc.spawn", {"argv": ["true"], "stdin": {"fd": -1}},
         INVALID_PARAMS, "stdin"),
        ("unknown param", "proc.spawn", {"argv": ["true"], "shell": True}, INVALID_PARAMS,
         "shell"),
        ("get unknown id", "proc.get", {"id": "0123456789abcdef"}, NOT_FOUND, "id"),
        ("kill unknown id", "proc.kill", {"id": "0123456789abcdef"}, NOT_FOUND, "id"),
        ("wait unknown id", "proc.wait", {"id": "nosuchname"}, NOT_FOUND, "id"),
        ("logs unknown id", "proc.logs", {"id": "0123456789abcdef"}, NOT_FOUND, "id"),
        ("delete unknown id", "proc.delete", {"id": "0123456789abcdef"}, NOT_FOUND, "id"),
        ("get id missing", "proc.get", {}, INVALID_PARAMS, "id"),
        ("get id empty", "proc.get", {"id": ""}, INVALID_PARAMS, "id"),
        ("kill signal FOO", "proc.kill", {"id": dup_name, "signal": "FOO"}, INVALID_PARAMS,
         "signal"),
        ("kill signal 0", "proc.kill", {"id": dup_name, "signal": 0}, INVALID_PARAMS, "signal"),
        ("kill signal 99", "proc.kill", {"id": dup_name, "signal": 99}, INVALID_PARAMS,
         "signal"),
        ("kill signal -9", "proc.kill", {"id": dup_name, "signal": -9}, INVALID_PARAMS,
         "signal"),
        ("kill signal a float", "proc.kill", {"id": dup_name, "signal": 9.5}, INVALID_PARAMS,
         "signal"),
        ("wait timeout negative", "proc.wait", {"id": dup_name, "timeout_ms": -1},
         INVALID_PARAMS, "timeout_ms"),
        ("wait timeout a string", "proc.wait", {"id": dup_name, "timeout_ms": "10"},
         INVALID_PARAMS, "timeout_ms"),
        ("logs tail negative", "proc.logs", {"id": dup_name, "tail": -1}, INVALID_PARAMS,
         "tail"),
        ("delete grace negative", "proc.delete", {"id": dup_name, "grace_ms": -1},
         INVALID_PARAMS, "grace_ms"),
        ("list netns invalid", "proc.list", {"netns": ".."}, INVALID_PARAMS, "netns"),
    ]


def field_matches(want, got):
    if want is None:
        return True
    if want.endswith("*"):
        return isinstance(got, str) and got.startswith(want[:-1])
    return got == want


@test
def bad_input_catalogue():
    """bad params get a clear error (code, kind, field); nothing starts, the state is unchanged"""
    d = daemon()
    dup = uniq("dup")
    keeper = spawn(argv=["sleep", "60"], name=dup, stdout="null", stderr="null")
    try:
        failures = []
        for desc, method, params, codes, field in bad_cases(dup):
            codes = codes if isinstance(codes, tuple) else (codes,)
            before = (proc_ids(), state_files(d), runtime_entries(d))
            c = d.client()
            resp = c.request(method, params)
            c.close()
            problem = None
            if resp is None or "error" not in resp:
                problem = "no error: %r" % (resp,)
            else:
                e = resp["error"]
                data = e.get("data") or {}
                if e.get("code") not in codes:
                    problem = "code %r not in %r" % (e.get("code"), codes)
                elif e["code"] != PARSE and not data.get("kind"):
                    problem = "no kind"
                elif e["code"] != PARSE and not field_matches(field, data.get("field")):
                    problem = "field %r, expected %r" % (data.get("field"), field)
                if problem:
                    problem += " (%s)" % json.dumps(e)[:300]
            if not d.alive():
                failures.append("%s: netnsd died" % desc)
                break
            after = (proc_ids(), state_files(d), runtime_entries(d))
            if after != before:
                problem = (problem + "; " if problem else "") + \
                    "something was started or stored: %r" % (
                        sorted(set(after[0]) - set(before[0])),)
                for p in set(after[0]) - set(before[0]):
                    delete(p)
            if problem:
                failures.append("%s: %s" % (desc, problem))
        assert d.call("daemon.ping") == {"pong": True}
        assert d.call("proc.get", {"id": dup})["state"] == "running"
        assert not failures, "%d of %d cases:\n  " % (len(failures), len(bad_cases(dup))) + \
            "\n  ".join(failures)
    finally:
        delete(keeper)


if __name__ == "__main__":
    setup()
    raise SystemExit(main())
