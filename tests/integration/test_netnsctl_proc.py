#!/usr/bin/env python3
"""netnsctl proc, exec and monitor end to end: a real netnsd (with its own
--runtime-dir) and the real kernel.

exec is checked from outside: its exit status (the command's, 128+N for a
signal, 125/126/127 for failures), the descriptors the command really has
(netnsctl's own stdin, stdout and stderr when stdin is no terminal), the
namespace it really runs in (/proc/self/ns/net, ip -j link against ip -n),
and, on a pseudo-terminal this test opens, the terminal netnsctl gives it
(/dev/pts, the window size, job control of an interactive shell, SIGWINCH),
the restored settings of ours, and that nothing is left behind (no process,
no record) after the command ends or netnsctl is told to stop.  proc run,
list, show, kill, wait, logs and delete are checked against proc.* and
/proc; monitor against changes made with ip and netnsd.
"""

import atexit
import fcntl
import json
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import termios
import time

from netnsd_test import (NETNSCTL, TOP_SRCDIR, Daemon, RpcError, Skip, main, run, test, tmpdir,
                         uniq, wait_for, sanitized)
from netnsd_test import proc_alive as alive
from netnsctl_test import table as aligned_table  # noqa: E402

EXIT_USAGE, EXIT_FAIL, EXIT_EXEC_FAIL, EXIT_CANNOT_EXEC, EXIT_NOT_FOUND = 2, 1, 125, 126, 127
ENOTTY = 25

_daemon = None
_daemons = []


def make_daemon():
    base = tmpdir()
    d = Daemon("--runtime-dir", os.path.join(base, "run"))
    _daemons.append(d)
    return d


def daemon():
    global _daemon
    if _daemon is None:
        _daemon = make_daemon()
    return _daemon


@atexit.register
def _delete_processes():
    """Shims outlive a killed netnsd: end every process while netnsd still runs."""
    for d in _daemons:
        if not d.alive():
            continue
        try:
            for p in d.call("proc.list")["processes"]:
                try:
                    d.call("proc.delete", {"id": p["id"], "grace_ms": 0})
                except RpcError:
                    pass
        except Exception:
            pass


def ctl_cmd(*args, sock=None):
    return [NETNSCTL, "-s", sock or daemon().socket] + list(args)


def env_c():
    e = dict(os.environ)
    e.pop("NETNSD_SOCKET", None)
    e["LC_ALL"] = "C"
    return e


def ctl(*args, input=None, stdin=subprocess.DEVNULL, sock=None, timeout=60, env=None):
    """netnsctl with stdin a pipe (input) or /dev/null: never this test's terminal."""
    kw = {"input": input} if input is not None else {"stdin": stdin}
    return subprocess.run(ctl_cmd(*args, sock=sock), capture_output=True, text=True,
                          timeout=timeout, env=env or env_c(), **kw)


def ok(*args, **kw):
    p = ctl(*args, **kw)
    assert p.returncode == 0, "netnsctl %s: exit %d\n%s" % (args, p.returncode, p.stderr)
    assert p.stderr == "", p.stderr
    return p.stdout


def status(expected, *args, **kw):
    p = ctl(*args, **kw)
    assert p.returncode == expected, "netnsctl %s: exit %d, expected %d\nstdout: %s\nstderr: %s" % (
        args, p.returncode, expected, p.stdout, p.stderr)
    return p


def usage(*args):
    p = status(EXIT_USAGE, *args)
    assert p.stderr.startswith("netnsctl: ") and "--help'" in p.stderr, (args, p.stderr)
    assert p.stdout == "", p.stdout


def new_ns(d=None):
    name = uniq("x")
    (d or daemon()).call("netns.add", {"name": name})
    return name


def records(ns, d=None):
    return [p for p in (d or daemon()).call("proc.list")["processes"] if p["netns"] == ns]


def running_pid(ns, d=None):
    """The pid of the one running process of namespace ns, once there is one."""
    def one():
        ps = [p for p in records(ns, d) if p["state"] == "running"]
        return ps[0]["pid"] if ps else None
    pid = wait_for(one, timeout=15)
    assert pid, records(ns, d)
    return pid


def proc_state(pid):
    """The state letter of pid (R, S, T, Z ...), or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def netns_pids(ns):
    return [int(x) for x in run(["ip", "netns", "pids", ns]).stdout.split()]


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except (FileNotFoundError, ProcessLookupError):
        return None


def payload_pids(ns, name=None):
    """The processes in namespace ns other than its supervisors (netnsd-shim)."""
    return [p for p in netns_pids(ns) if comm(p) not in (None, "netnsd-shim") and
            (name is None or comm(p) == name)]


def sleeper(ns):
    """The pid of the one 'sleep' in namespace ns, once it runs."""
    pids = wait_for(lambda: payload_pids(ns, "sleep"), timeout=15)
    assert len(pids) == 1, (pids, netns_pids(ns))
    return pids[0]



def table(text):
    """Rows of an aligned table as dicts (cells start under their header)."""
    return aligned_table(text)[1]


def kv(text):
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(":")
        out[k.strip()] = v.strip()
    return out


class Pty:
    """netnsctl on a pseudo-terminal of ours: its controlling terminal, in the foreground."""

    def __init__(self, args, rows=24, cols=80, wrapper=()):
        self.master, self.slave = os.openpty()
        self.set_size(rows, cols)
        self.settings = termios.tcgetattr(self.slave)
        slave = self.slave

        def ctty():
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(list(wrapper) + ctl_cmd(*args), stdin=slave, stdout=slave,
                                     stderr=slave, start_new_session=True, preexec_fn=ctty,
                                     env=env_c())
        self.buf = b""

    def set_size(self, rows, cols):
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def read(self, timeout):
        r, _, _ = select.select([self.master], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return False
        self.buf += data
        return bool(data)

    def expect(self, pattern, timeout=20):
        """Read until pattern (bytes or compiled regex) appears; the match."""
        deadline = time.time() + timeout
        while True:
            m = pattern.search(self.buf) if hasattr(pattern, "search") else \
                (pattern if pattern in self.buf else None)
            if m:
                return m
            if time.time() > deadline:
                raise AssertionError("%r not seen in %r" % (pattern, self.buf[-2000:]))
            self.read(0.2)

    def send(self, data):
        os.write(self.master, data)

    def wait(self, timeout=30):
        deadline = time.time() + timeout
        while self.proc.poll() is None and time.time() < deadline:
            self.read(0.1)
        try:
            return self.proc.wait(1)
        finally:
            while self.read(0.05):
                pass

    def restored(self):
        return termios.tcgetattr(self.slave) == self.settings

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        os.close(self.slave)


# --- exec without a terminal ---

@test
def test_exec_exit_status():
    """exec exits with the command's status: 0, 7, 128+15 for TERM, 126/127/125 for failures"""
    ns = new_ns()
    assert status(0, "exec", ns, "--", "true").stdout == ""
    status(7, "exec", ns, "--", "sh", "-c", "exit 7")
    status(128 + 15, "exec", ns, "--", "sh", "-c", "kill -TERM $$")
    status(128 + 9, "exec", ns, "--", "sh", "-c", "kill -KILL $$")
    p = status(EXIT_NOT_FOUND, "exec", ns, "--", "no-such-program-%s" % ns)
    assert "No such file or directory" in p.stderr and "argv" in p.stderr, p.stderr
    noexec = os.path.join(tmpdir(), "noexec")
    with open(noexec, "w") as f:
        f.write("not a program\n")
    os.chmod(noexec, 0o644)
    p = status(EXIT_CANNOT_EXEC, "exec", ns, "--", noexec)
    assert "Permission denied" in p.stderr, p.stderr
    p = status(EXIT_EXEC_FAIL, "exec", uniq("missing"), "--", "true")
    assert p.stderr.startswith("netnsctl: ") and "netns" in p.stderr, p.stderr
    p = status(EXIT_EXEC_FAIL, "exec", ns, "--", "true", sock=os.path.join(tmpdir(), "none"))
    assert "cannot connect" in p.stderr, p.stderr
    # exec leaves no record behind, whatever the outcome.
    assert records(ns) == [] and records(None) == []
    daemon().call("netns.delete", {"name": ns})


@test
def test_exec_stdio():
    """without a terminal the command gets netnsctl's own stdin, stdout and stderr"""
    ns = new_ns()
    p = status(0, "exec", ns, "--", "cat", input="hi\n")
    assert p.stdout == "hi\n" and p.stderr == "", (p.stdout, p.stderr)
    d = tmpdir()
    out_path, err_path = os.path.join(d, "out"), os.path.join(d, "err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        p = subprocess.run(ctl_cmd("exec", ns, "--", "sh", "-c",
                                   "echo to-out; echo to-err >&2; "
                                   "readlink /proc/self/fd/1 /proc/self/fd/2; exit 3"),
                           stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env_c(),
                           timeout=60)
    assert p.returncode == 3
    with open(out_path) as f:
        assert f.read() == "to-out\n%s\n%s\n" % (out_path, err_path)
    with open(err_path) as f:
        assert f.read() == "to-err\n"
    # A closed stdin becomes /dev/null.
    p = subprocess.run(["sh", "-c", 'exec 0<&-; exec "$@"', "sh"] +
                       ctl_cmd("exec", ns, "--", "sh", "-c", "readlink /proc/self/fd/0; cat"),
                       capture_output=True, text=True, env=env_c(), timeout=60)
    assert p.returncode == 0 and p.stdout == "/dev/null\n", (p.stdout, p.stderr)
    assert records(ns) == []
    daemon().call("netns.delete", {"name": ns})


@test
def test_exec_in_namespace():
    """the command runs in the namespace: its netns inode, ip -j link as ip -n sees it"""
    ns = new_ns()
    run(["ip", "-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1"])
    inode = os.stat("/run/netns/" + ns).st_ino
    out = status(0, "exec", ns, "--", "readlink", "/proc/self/ns/net").stdout
    assert out == "net:[%d]\n" % inode, out
    links = json.loads(status(0, "exec", ns, "--", "ip", "-j", "link").stdout)
    want = json.loads(run(["ip", "-n", ns, "-j", "link"]).stdout)
    key = lambda ls: sorted((x["ifname"], x["ifindex"]) for x in ls)
    assert key(links) == key(want) and {"lo", "v0", "v1"} <= {x["ifname"] for x in links}
    # /sys is the namespace's, as with ip netns exec.
    out = status(0, "exec", ns, "--", "ls", "/sys/class/net").stdout
    assert sorted(out.split()) == ["lo", "v0", "v1"], out
    # host: the host's namespace.
    out = status(0, "exec", "host", "--", "readlink", "/proc/self/ns/net").stdout
    assert out == os.readlink("/proc/self/ns/net") + "\n", out
    daemon().call("netns.delete", {"name": ns})


@test
def test_exec_environment():
    """exec passes netnsctl's environment (--env on top), directory, and --user/--cwd"""
    ns = new_ns()
    e = env_c()
    e["CTL3_TEST_VAR"] = "from-caller"
    d = tmpdir()
    p = subprocess.run(ctl_cmd("exec", ns, "--env", "EXTRA=x=y", "--", "sh", "-c",
                               'echo "$CTL3_TEST_VAR $EXTRA"; pwd'),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, env=e, cwd=d,
                       timeout=60)
    assert p.returncode == 0 and p.stdout == "from-caller x=y\n%s\n" % d, (p.stdout, p.stderr)
    out = status(0, "exec", ns, "--user", "nobody", "--cwd", "/tmp", "--", "sh", "-c",
                 "id -u; pwd").stdout
    assert out == "%d\n/tmp\n" % int(run(["id", "-u", "nobody"]).stdout), out
    daemon().call("netns.delete", {"name": ns})


@test
def test_exec_signals():
    """SIGTERM to netnsctl exec ends the command (by force if it ignores it) and its record"""
    ns = new_ns()
    p = subprocess.Popen(ctl_cmd("exec", ns, "--", "sleep", "1000"), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_c())
    try:
        pid = running_pid(ns)
        assert alive(pid) and pid in netns_pids(ns)
        p.send_signal(signal.SIGTERM)
        assert p.wait(30) == 128 + signal.SIGTERM
        assert not alive(pid)
        assert records(ns) == []
        # SIGINT is passed on as it is.
        p = subprocess.Popen(ctl_cmd("exec", ns, "--", "sleep", "1000"),
                             stdin=subprocess.DEVNULL, env=env_c())
        pid = running_pid(ns)
        p.send_signal(signal.SIGINT)
        assert p.wait(30) == 128 + signal.SIGINT and not alive(pid)
        # A command that ignores SIGTERM is killed at the second one (or after the grace).
        p = subprocess.Popen(ctl_cmd("exec", ns, "--", "sh", "-c",
                                     "trap '' TERM HUP; sleep 1000; :"),
                             stdin=subprocess.DEVNULL, env=env_c())
        pid = running_pid(ns)
        sleep_pid = sleeper(ns)
        p.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert p.poll() is None, "a command that ignores SIGTERM ended at once"
        p.send_signal(signal.SIGTERM)
        assert p.wait(30) == 128 + signal.SIGKILL
        assert not alive(pid) and not alive(sleep_pid) and records(ns) == []
        assert wait_for(lambda: netns_pids(ns) == []), netns_pids(ns)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    daemon().call("netns.delete", {"name": ns})


# --- exec on a terminal ---

@test
def test_exec_tty():
    """on a terminal the command gets a pty of its own, with our window size and settings"""
    ns = new_ns()
    t = Pty(["exec", ns, "--", "sh", "-c", "tty; stty size; stty -a | grep -o -- '-\\?icanon'; "
             "exit 5"], rows=37, cols=91)
    try:
        assert t.wait() == 5
        out = t.buf.decode(errors="replace")
        assert re.search(r"^/dev/pts/\d+\r?$", out, re.M), out
        assert re.search(r"^37 91\r?$", out, re.M), out
        assert re.search(r"^icanon\r?$", out, re.M), out  # ours are cooked: so is the copy
        assert t.restored(), "netnsctl left the terminal's settings changed"
    finally:
        t.close()
    assert records(ns) == []
    daemon().call("netns.delete", {"name": ns})


@test
def test_exec_tty_interactive():
    """an interactive sh on the pty has job control: typed commands, ^C, ^Z, exit 3"""
    ns = new_ns()
    t = Pty(["exec", ns, "--", "sh", "-i"])
    try:
        t.expect(re.compile(rb"[#$] $"))
        t.send(b"echo hello-$((6*7))\n")
        t.expect(b"hello-42")
        # ^C reaches the foreground job, not the shell.
        t.send(b"sleep 1000\n")
        pid = sleeper(ns)
        t.send(b"\x03")
        t.send(b"echo after-$((1+1))\n")
        t.expect(b"after-2")
        assert not alive(pid)
        # ^Z stops it: the shell has job control.
        t.send(b"sleep 1000\n")
        pid = sleeper(ns)
        t.send(b"\x1a")
        t.expect(b"Stopped")
        assert wait_for(lambda: proc_state(pid) == "T"), proc_state(pid)
        # fg continues it in the foreground, where ^C ends it.
        t.send(b"fg\n")
        assert wait_for(lambda: proc_state(pid) in ("S", "R")), proc_state(pid)
        t.send(b"\x03")
        assert wait_for(lambda: not alive(pid))
        t.send(b"echo k-$((2+2))\n")
        t.expect(b"k-4")
        assert b"job control turned off" not in t.buf and b"can't access tty" not in t.buf
        t.send(b"exit 3\n")
        assert t.wait() == 3, t.buf
        assert t.restored()
    finally:
        t.close()
    assert records(ns) == [] and wait_for(lambda: netns_pids(ns) == [])
    daemon().call("netns.delete", {"name": ns})


@test
def test_exec_tty_winch():
    """a window size change of our terminal reaches the command (SIGWINCH and the new size)"""
    ns = new_ns()
    t = Pty(["exec", ns, "--", "sh", "-c",
             "trap 'stty size; exit 4' WINCH; echo ready; while :; do sleep 0.05; done"])
    try:
        t.expect(b"ready")
        t.set_size(50, 132)
        assert t.wait() == 4, t.buf
        assert re.search(rb"^50 132\r?$", t.buf, re.M), t.buf
    finally:
        t.close()
    daemon().call("netns.delete", {"name": ns})


@test
def test_exec_tty_sigterm():
    """SIGTERM to netnsctl exec on a terminal kills the command and restores the terminal"""
    ns = new_ns()
    t = Pty(["exec", ns, "--", "sleep", "1000"])
    try:
        pid = running_pid(ns)
        wait_for(lambda: not t.restored())  # raw mode while it runs
        assert not t.restored()
        t.proc.send_signal(signal.SIGTERM)
        assert t.wait() == 128 + signal.SIGTERM
        assert not alive(pid) and t.restored()
    finally:
        t.close()
    assert records(ns) == []
    daemon().call("netns.delete", {"name": ns})


@test
def test_tty_param():
    """proc.spawn tty:true needs a terminal on stdin: else stage tty, ENOTTY, field stdin"""
    ns = new_ns()
    d = daemon()
    for stdin in (None, "null"):
        params = {"netns": ns, "argv": ["true"], "tty": True}
        if stdin:
            params["stdin"] = stdin
        e = d.expect_error("proc.spawn", params)
        assert e.field == "stdin" and e.data.get("errno") == ENOTTY, e
    e = d.expect_error("proc.spawn", {"netns": ns, "argv": ["true"], "tty": 1})
    assert e.code == -32602 and e.field == "tty", e
    assert records(ns) == []
    d.call("netns.delete", {"name": ns})


# --- proc ---

@test
def test_proc_lifecycle():
    """proc run, list, show, logs, kill, wait, delete end to end, with exit statuses"""
    ns = new_ns()
    d = daemon()
    name = uniq("p")
    pid_ = ok("proc", "run", ns, "--name", name, "--env", "FOO=bar", "--", "sh", "-c",
              "echo out-$FOO; echo err >&2; exec sleep 1000").strip()
    assert re.fullmatch(r"[0-9a-f]{16}", pid_), pid_
    rec = d.call("proc.get", {"id": name})
    assert rec["id"] == pid_ and rec["state"] == "running" and rec["netns"] == ns
    assert os.readlink("/proc/%d/ns/net" % rec["pid"]) == \
        "net:[%d]" % os.stat("/run/netns/" + ns).st_ino
    rows = [r for r in table(ok("proc", "list")) if r["ID"] == pid_]
    assert rows == [{"ID": pid_, "NAME": name, "NETNS": ns, "STATE": "running",
                     "PID": str(rec["pid"]), "RESTARTS": "0", "EXIT": "-",
                     "COMMAND": "sh -c 'echo out-$FOO; echo err >&2; exec sleep 1000'"}], rows
    assert [r["ID"] for r in table(ok("proc", "list", "-n", ns))] == [pid_]
    assert [r["ID"] for r in table(ok("-n", ns, "proc", "ls"))] == [pid_]
    assert pid_ not in ok("proc", "list", "-n", "host")
    show = kv(ok("proc", "show", name))
    assert show["id"] == pid_ and show["name"] == name and show["netns"] == ns
    assert show["state"] == "running" and show["pid"] == str(rec["pid"]) and \
        show["restart"] == "no" and show["log"] == rec["log"], show
    assert json.loads(ok("--json", "proc", "show", pid_))["id"] == pid_
    assert wait_for(lambda: ok("proc", "logs", name) == "out-bar\nerr\n")
    assert ok("proc", "logs", name, "--tail", "1") == "err\n"
    # A wait that times out: 124, the process still runs.
    status(124, "proc", "wait", name, "--timeout", "50")
    assert alive(rec["pid"])
    ok("proc", "kill", name, "USR1")
    assert status(128 + signal.SIGUSR1, "proc", "wait", name).stdout == ""
    row = [r for r in table(ok("proc", "list")) if r["ID"] == pid_][0]
    assert row["STATE"] == "exited" and row["EXIT"] == "SIGUSR1", row
    assert kv(ok("proc", "show", name))["exit"] == "signal 10 (SIGUSR1)"
    p = status(EXIT_FAIL, "proc", "kill", name)
    assert "not running" in p.stderr, p.stderr
    ok("proc", "delete", name)
    assert d.call("proc.list", {"netns": ns})["processes"] == []
    p = status(EXIT_FAIL, "proc", "show", name)
    assert "No process" in p.stderr and "(field: id)" in p.stderr, p.stderr
    status(EXIT_EXEC_FAIL, "proc", "wait", name)
    # Exit codes, --json, the host, files, --user/--cwd/--env-replace.
    out_file = os.path.join(tmpdir(), "out")
    j = json.loads(ok("--json", "proc", "run", "host", "--stdout", out_file, "--stderr", "null",
                      "--user", "nobody", "--cwd", "/tmp", "--env-replace", "--env",
                      "PATH=/usr/bin:/bin", "--", "sh", "-c",
                      "id -u; pwd; echo $PATH; echo gone >&2; exit 3"))
    assert j["netns"] is None and j["argv"][0] == "sh"
    assert status(3, "proc", "wait", j["id"]).stdout == ""
    w = json.loads(status(3, "--json", "proc", "wait", j["id"]).stdout)
    assert w["exit_code"] == 3 and w["state"] == "exited"
    with open(out_file) as f:
        assert f.read() == "%d\n/tmp\n/usr/bin:/bin\n" % int(run(["id", "-u", "nobody"]).stdout)
    assert j["id"] in ok("proc", "list", "-n", "host") and j["id"] not in \
        ok("proc", "list", "-n", ns)
    assert json.loads(ok("--json", "proc", "delete", j["id"]))["id"] == j["id"]
    # A start failure: exit 1, nothing left.
    p = status(EXIT_FAIL, "proc", "run", ns, "--", "no-such-program")
    assert "No such file" in p.stderr and "(field: argv)" in p.stderr, p.stderr
    # A restart policy: on-failure restarts; delete ends it for good.
    rid = ok("proc", "run", ns, "--restart", "on-failure", "--", "sh", "-c", "exit 1").strip()
    assert wait_for(lambda: d.call("proc.get", {"id": rid})["restarts"] >= 1)
    assert kv(ok("proc", "show", rid))["restart"] == "on-failure"
    ok("proc", "del", rid, "--grace", "0")
    # proc without a subcommand lists.
    assert ok("proc").splitlines()[0].split() == \
        ["ID", "NAME", "NETNS", "STATE", "PID", "RESTARTS", "EXIT", "COMMAND"]
    assert records(ns) == []
    d.call("netns.delete", {"name": ns})


@test
def test_proc_usage():
    """malformed proc and exec arguments exit 2 and start nothing"""
    ns = new_ns()
    for args in [("proc", "run"), ("proc", "run", ns), ("proc", "run", ns, "true"),
                 ("proc", "run", ns, "--"), ("proc", "run", ns, "--bogus", "--", "true"),
                 ("proc", "run", ns, "--restart", "sometimes", "--", "true"),
                 ("proc", "run", ns, "--env", "NOVALUE", "--", "true"),
                 ("proc", "run", ns, "--name"), ("proc", "run", ns, "--name", "a", "--name",
                                                 "b", "--", "true"),
                 ("proc", "run", ns, "extra", "--", "true"),
                 ("proc", "show"), ("proc", "show", "a", "b"), ("proc", "kill"),
                 ("proc", "kill", "x", "NOSIG"), ("proc", "kill", "x", "99"),
                 ("proc", "wait", "x", "--timeout", "soon"), ("proc", "wait"),
                 ("proc", "logs", "x", "--tail", "-1"), ("proc", "delete", "x", "--grace"),
                 ("proc", "list", "extra"), ("proc", "bogus"),
                 ("exec",), ("exec", ns), ("exec", ns, "true"), ("exec", ns, "--"),
                 ("exec", ns, "--name", "x", "--", "true"),
                 ("exec", ns, "--restart", "always", "--", "true"),
                 ("--json", "exec", ns, "--", "true"),
                 ("monitor", "bogus"), ("monitor", "-n"), ("monitor", "--frob")]:
        usage(*args)
    assert records(ns) == []
    daemon().call("netns.delete", {"name": ns})


# --- monitor ---

class Monitor:
    syncs = 0

    def __init__(self, *args, sock=None):
        self.proc = subprocess.Popen(ctl_cmd(*args, sock=sock), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env_c())
        self.lines = []
        self.pending = b""

    def poll_lines(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return False
        data = os.read(self.proc.stdout.fileno(), 65536)
        if not data:
            return False
        self.pending += data
        *done, self.pending = self.pending.split(b"\n")
        self.lines += [x.decode() for x in done]
        return True

    def expect(self, pred, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in self.lines:
                if pred(line):
                    return line
            self.poll_lines(0.2)
        raise AssertionError("no matching line in %r" % self.lines[-50:])

    def sync(self, ns):
        """Wait until the subscription is in place: make link changes until one shows.

        ns None: in the host, with veth pairs named with our prefix (removed at once)."""
        for i in range(50):
            Monitor.syncs += 1
            if ns:
                run(["ip", "-n", ns, "link", "add", "sy%d" % Monitor.syncs, "type", "veth",
                     "peer", "name", "sz%d" % Monitor.syncs])
            else:
                name = uniq("y")
                run(["ip", "link", "add", name, "type", "veth", "peer", "name", name + "p"])
                run(["ip", "link", "del", name])
            deadline = time.time() + 0.5
            while time.time() < deadline:
                if self.lines:
                    return
                self.poll_lines(0.1)
        raise AssertionError("the monitor printed nothing")

    def stop(self, sig=signal.SIGINT):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(20)
        finally:
            while self.poll_lines(0.05):
                pass
        self.err = self.proc.stderr.read().decode()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return rc


@test
def test_monitor_lines():
    """monitor prints a line per event: link change, netns add, proc exit; --json lines parse"""
    d = daemon()
    ns = new_ns()
    text, js = Monitor("monitor"), Monitor("--json", "monitor")
    try:
        text.sync(ns)
        js.sync(ns)
        run(["ip", "-n", ns, "link", "add", "m0", "type", "veth", "peer", "name", "m1"])
        run(["ip", "-n", ns, "link", "set", "m0", "mtu", "1400", "up"])
        run(["ip", "-n", ns, "addr", "add", "10.77.0.1/24", "dev", "m0"])
        ns2 = new_ns()
        status(0, "exec", ns, "--", "true")
        text.expect(lambda l: l.startswith("[link] new") and (" %s: m0 veth " % ns) in l)
        text.expect(lambda l: l.startswith("[link] change") and (" %s: m0 veth up" % ns) in l
                    and "mtu 1400" in l)
        text.expect(lambda l: l.startswith("[addr] new") and
                    l.endswith("%s: 10.77.0.1/24 dev m0" % ns))
        text.expect(lambda l: l.startswith("[netns] new") and l.endswith(" %s (managed)" % ns2))
        text.expect(lambda l: l.startswith("[proc] exited") and (" %s: " % ns) in l and
                    l.endswith(" true -> exit 0"))
        d.call("netns.delete", {"name": ns2})
        text.expect(lambda l: l.startswith("[netns] del") and l.endswith(" " + ns2))
        # JSON: one compact event per line, the params of the notification.
        js.expect(lambda l: '"topic":"proc"' in l and '"exited"' in l)
        evs = [json.loads(l) for l in js.lines]
        assert all(" " not in l for l in js.lines if '"argv"' not in l)
        seqs = [e["seq"] for e in evs]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
        assert any(e["topic"] == "netns" and e["action"] == "new" and
                   e["namespace"]["name"] == ns2 for e in evs)
        assert any(e["topic"] == "link" and e["netns"] == ns and e["link"]["name"] == "m0"
                   for e in evs)
        ex = [e for e in evs if e["topic"] == "proc" and e["action"] == "exited"]
        assert ex and ex[-1]["proc"]["exit_code"] == 0 and ex[-1]["netns"] == ns
    finally:
        assert text.stop() == 0 and text.err == "", text.err
        assert js.stop(signal.SIGTERM) == 0 and js.err == "", js.err
    d.call("netns.delete", {"name": ns})


@test
def test_monitor_filters():
    """monitor TOPIC... and -n NS pass only what they name"""
    d = daemon()
    ns, other = new_ns(), new_ns()
    m = Monitor("monitor", "link", "-n", ns, "-t")
    try:
        m.sync(ns)
        run(["ip", "-n", other, "link", "add", "fx0", "type", "veth", "peer", "name", "fx1"])
        run(["ip", "-n", ns, "addr", "add", "10.78.0.1/32", "dev", "lo"])
        run(["ip", "-n", ns, "link", "add", "g0", "type", "veth", "peer", "name", "g1"])
        m.expect(lambda l: ("[link] new    %s: g0 veth" % ns) in l)
        assert all(re.match(r"\d{4}-\d\d-\d\dT[\d:.]+Z \[link\] ", l) for l in m.lines), m.lines
        # (fx0/fx1 as device names: the random test prefix may contain "fx" too.)
        assert not any((" %s: " % other) in l or re.search(r": fx[01] ", l) or "[addr]" in l
                       for l in m.lines), m.lines
    finally:
        assert m.stop() == 0
    # -n host: the host's events only.
    m = Monitor("--json", "monitor", "link", "-n", "host")
    try:
        m.sync(None)
        run(["ip", "-n", ns, "link", "add", "hx0", "type", "veth", "peer", "name", "hx1"])
        name = uniq("h")
        run(["ip", "link", "add", name, "type", "veth", "peer", "name", name + "p"])
        run(["ip", "link", "del", name])
        m.expect(lambda l: json.loads(l)["action"] == "del" and
                 json.loads(l)["link"]["name"] == name)
        evs = [json.loads(l) for l in m.lines]
        assert all(e["netns"] is None and e["topic"] == "link" for e in evs), evs
    finally:
        assert m.stop() == 0
    d.call("netns.delete", {"name": ns})
    d.call("netns.delete", {"name": other})


@test
def test_monitor_connection_lost():
    """monitor exits 1 with a message when netnsd goes away; 0 on SIGHUP"""
    d = make_daemon()
    m = Monitor("monitor", sock=d.socket)
    ns = new_ns(d)
    try:
        m.sync(ns)
        d.call("netns.delete", {"name": ns})
        d.stop()
        assert m.proc.wait(20) == EXIT_FAIL
    finally:
        m.stop()
    assert "closed the connection" in m.err, m.err
    assert any(l.startswith("[daemon] stopping") for l in m.lines), m.lines
    m = Monitor("monitor")
    m.sync(new_ns())
    assert m.stop(signal.SIGHUP) == 0


# --- help, completion, valgrind ---

@test
def test_help():
    """help pages of proc, its subcommands, exec and monitor, with examples"""
    nosock = os.path.join(tmpdir(), "none")
    top = ok("--help", sock=nosock)
    for word in ("proc", "exec", "monitor"):
        assert re.search(r"^  %s\s" % word, top, re.M), word
    h = ok("proc", "--help", sock=nosock)
    assert h == ok("help", "proc", sock=nosock) and "Examples:" in h
    for sub in ("run", "list", "show", "kill", "wait", "logs", "delete"):
        assert "netnsctl proc %s" % sub in h, sub
        assert ok("proc", sub, "--help", sock=nosock) == ok("help", "proc", sub, sock=nosock)
    assert ok("proc", "del", "--help", sock=nosock) == ok("proc", "delete", "--help",
                                                          sock=nosock)
    for cmd in ("exec", "monitor"):
        h = ok(cmd, "--help", sock=nosock)
        assert h == ok("help", cmd, sock=nosock) and "Examples:" in h
        assert h.splitlines()[0].startswith("Usage: netnsctl [OPTION]... %s" % cmd), h
    # After '--' the words are the command's, --help included.
    ns = new_ns()
    assert status(0, "exec", ns, "--", "echo", "--help", "-j").stdout == "--help -j\n"
    daemon().call("netns.delete", {"name": ns})


@test
def test_bash_completion():
    """completion of proc, exec and monitor: subcommands, namespaces, ids, options, commands"""
    d = daemon()
    ns = new_ns()
    name = uniq("c")
    pid_ = ok("proc", "run", ns, "--name", name, "--", "sleep", "1000").strip()
    script = os.path.join(TOP_SRCDIR, "contrib", "bash-completion", "netnsctl")

    def complete(*words):
        prog = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); '
                '_netnsctl; printf "%s\\n" "${COMPREPLY[@]}"')
        out = run(["bash", "-c", prog, "bash", script, NETNSCTL, "-s", d.socket] +
                  list(words)).stdout
        return [w for w in out.splitlines() if w]

    try:
        assert {"proc", "exec", "monitor"} <= set(complete(""))
        assert complete("pr") == ["proc"] and complete("mon") == ["monitor"]
        assert set(complete("proc", "")) >= {"run", "list", "show", "kill", "wait", "logs",
                                             "delete"}
        assert ns in complete("proc", "run", "") and "host" in complete("proc", "run", "")
        assert ns in complete("exec", ns[:-1])
        assert "--restart" in complete("proc", "run", ns, "--re")
        assert complete("proc", "run", ns, "--restart", "") == ["no", "on-failure", "always"]
        assert "--user" in complete("exec", ns, "-")
        assert "sleep" in complete("exec", ns, "--", "slee")
        assert "sleep" in complete("proc", "run", ns, "--name", "x", "--", "slee")
        assert set(complete("proc", "show", "")) >= {pid_, name}
        assert complete("proc", "kill", pid_[:6]) == [pid_]
        assert "KILL" in complete("proc", "kill", name, "")
        assert "--timeout" in complete("proc", "wait", "-")
        assert "--tail" in complete("proc", "logs", "-")
        assert set(complete("monitor", "")) >= {"link", "addr", "route", "proc", "netns"}
        assert ns in complete("monitor", "-n", "")
        assert complete("help", "proc", "") == ["run", "list", "show", "kill", "wait", "logs",
                                                "delete"]
    finally:
        ok("proc", "delete", pid_, "--grace", "0")
        d.call("netns.delete", {"name": ns})


@test
def test_valgrind():
    """netnsctl proc, exec (pipe and pty) and monitor are valgrind-clean"""
    vg = shutil.which("valgrind")
    if not vg:
        raise Skip("valgrind is not installed")
    if sanitized(NETNSCTL):
        raise Skip("netnsctl is built with AddressSanitizer, which valgrind cannot run")
    ns = new_ns()
    logdir = tmpdir()
    vgcmd = [vg, "-q", "--leak-check=full", "--show-leak-kinds=all",
             "--errors-for-leak-kinds=all", "--error-exitcode=99",
             "--log-file=" + os.path.join(logdir, "vg.%p.log")]

    def reports():
        out = []
        for name in sorted(os.listdir(logdir)):
            with open(os.path.join(logdir, name)) as f:
                text = f.read().strip()
            if text:
                out.append(text)
        return "\n".join(out)

    def start(args, input=None):
        p = subprocess.Popen(vgcmd + ctl_cmd(*args), env=env_c(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE,
                             stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL)
        p.args_, p.input_ = args, input
        return p

    def finish(p, expected):
        out, err = p.communicate(p.input_.encode() if p.input_ is not None else None, 180)
        assert p.returncode == expected, (p.args_, p.returncode, err, reports())
        return out.decode()

    # A process to look at (started without valgrind).
    ok("proc", "run", ns, "--name", "vg", "--", "sh", "-c", "echo hi; exec sleep 1000")
    assert wait_for(lambda: ok("proc", "logs", "vg") == "hi\n")
    # Independent runs, in parallel: valgrind is slow to start.
    t = Pty(["exec", ns, "--", "sh", "-c", "read x; echo got-$x; exit 6"], wrapper=vgcmd)
    batch = [(start(["exec", ns, "--", "sh", "-c", "cat; exit 7"], input="piped\n"), 7),
             (start(["exec", ns, "--", "no-such-program"]), EXIT_NOT_FOUND),
             (start(["exec", uniq("missing"), "--", "true"]), EXIT_EXEC_FAIL),
             (start(["proc", "list"]), 0), (start(["--json", "proc", "list", "-n", "host"]), 0),
             (start(["proc", "show", "vg"]), 0), (start(["proc", "logs", "vg", "--tail", "5"]), 0),
             (start(["proc", "wait", "vg", "--timeout", "10"]), 124),
             (start(["proc", "run", ns, "--restart", "bogus", "--", "true"]), EXIT_USAGE),
             (start(["proc", "run", ns, "--name", "vg2", "--env", "A=b", "--stdout", "null",
                     "--", "true"]), 0),
             (start(["proc", "show", "nonexistent"]), EXIT_FAIL),
             (start(["proc", "run", "--help"]), 0)]
    mon = start(["monitor"])
    try:
        outs = [finish(p, e) for p, e in batch]
        assert outs[0] == "piped\n" and outs[6] == "hi\n", outs
        # The pty relay: type a line once the command runs.
        assert wait_for(lambda: payload_pids(ns, "sh"), timeout=120)
        t.send(b"abc\n")
        assert t.wait(120) == 6, t.buf
        assert b"got-abc" in t.buf and t.restored()
        # In order: signal, wait, delete.
        p = start(["proc", "kill", "vg", "SIGTERM"])
        finish(p, 0)
        finish(start(["proc", "wait", "vg"]), 128 + signal.SIGTERM)
        finish(start(["proc", "delete", "vg"]), 0)
        finish(start(["--json", "proc", "delete", "vg2"]), 0)
        m = Monitor.__new__(Monitor)
        m.proc, m.lines, m.pending = mon, [], b""
        m.sync(ns)
        assert m.stop() == 0, m.err
    finally:
        t.close()
        if mon.poll() is None:
            mon.kill()
            mon.wait()
    assert reports() == "", reports()
    assert records(ns) == []
    daemon().call("netns.delete", {"name": ns})


if __name__ == "__main__":
    raise SystemExit(main())
