#!/usr/bin/env python3
"""Integration tests of the defects found by trying netnsd as a new user would
(issue 10, deliverable 5).  Each test failed on the code before its fix.

Every daemon here runs with its own --socket, --state-dir and --runtime-dir in
a temporary directory; every kernel object carries this process's prefix and
is removed at exit.  Processes that outlive a netnsd are reparented to this
test process (a child subreaper), which reaps them.
"""

import atexit
import ctypes
import json
import os
import select
import signal
import socket
import subprocess
import time

from netnsd_test import (NETNSCTL, Daemon, RpcError, Skip, main, reap_children, test, tmpdir, uniq,
                         wait_for)

INVALID_REQUEST, INVALID_PARAMS = -32600, -32602
NOT_FOUND = 1

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_CHILD_SUBREAPER = 36
_daemons = []


def make_daemon(*args, runtime_dir=None, state_dir=None, start=True):
    """A netnsd with a private runtime dir (kept in d.runtime_dir)."""
    rdir = runtime_dir or os.path.join(tmpdir(), "run")
    d = Daemon("--runtime-dir", rdir, *args, state_dir=state_dir, start=start)
    d.runtime_dir = rdir
    _daemons.append(d)
    return d


def proc_get(d, id):
    return d.call("proc.get", {"id": id})


def cleanup_processes():
    for d in _daemons:
        if d.alive():
            try:
                for p in d.call("proc.list")["processes"]:
                    d.call("proc.delete", {"id": p["id"], "grace_ms": 0})
            except Exception:
                pass
    reap_children()


# --- one runtime directory, one state ---

@test
def a_runtime_dir_belongs_to_one_state():
    """Two netnsd with different state dirs: the runtime dir is locked, records never cross"""
    rdir = os.path.join(tmpdir(), "run")
    a = make_daemon(runtime_dir=rdir)
    name = uniq("w")
    pa = a.call("proc.spawn", {"argv": ["sleep", "100"], "name": name,
                               "stdout": "null", "stderr": "null"})
    # A second netnsd on the same runtime dir refuses to start, naming the dir and the holder.
    b = make_daemon(runtime_dir=rdir, start=False)
    b.start(wait=False)
    try:
        code = b.proc.wait(15)
    except subprocess.TimeoutExpired:
        code = None
    assert code == 1, (code, b.log_text())
    assert "Runtime directory '%s' is in use by another netnsd (pid %d)" % (
        rdir, a.proc.pid) in b.log_text(), b.log_text()
    assert a.call("proc.get", {"id": pa["id"]})["state"] == "running"

    # With the first one stopped (its process runs on), the second starts, but leaves the
    # first one's records alone and says so.
    assert a.stop() == 0
    b.start()
    assert b.call("proc.list")["processes"] == [], b.call("proc.list")
    info = b.call("daemon.info")
    assert info["runtime_dir"] == rdir, info
    assert {"kind": "proc", "name": pa["id"]} in [
        {k: v[k] for k in ("kind", "name")} for v in info["restore"]["ignored"]], info["restore"]
    assert "Not adopting supervised process %s" % pa["id"] in b.log_text(), b.log_text()
    pb = b.call("proc.spawn", {"argv": ["sleep", "100"], "name": name,
                               "stdout": "null", "stderr": "null"})  # no name clash
    assert b.stop() == 0

    # The first one comes back to its own process, and leaves the second one's alone.
    a.start()
    got = a.call("proc.list")["processes"]
    assert [(p["id"], p["state"], p["adopted"]) for p in got] == [(pa["id"], "running", True)], got
    assert pb["id"] in [v["name"] for v in a.call("daemon.info")["restore"]["ignored"]]
    a.call("proc.delete", {"id": pa["id"], "grace_ms": 0})
    assert a.stop() == 0
    b.start()
    b.call("proc.delete", {"id": pb["id"], "grace_ms": 0})


# --- U+0000 in strings ---

def raw(c, text):
    """Send one line exactly as written; the parsed reply."""
    c.send_raw(text + "\n")
    return c.recv()


@test
def nul_in_strings_is_refused_with_the_id_and_the_field():
    """A request holding \\u0000 is valid JSON: the id is echoed and the field named"""
    d = make_daemon()
    c = d.client()
    ns = uniq("n")
    cases = [
        # (params, field) for -32602
        ('{"name":"%s\\u0000x"}' % ns, "netns.add", "name"),
        ('{"name":"%s","resolv_conf":"nameserver 1.1.1.1\\u0000"}' % ns, "netns.add",
         "resolv_conf"),
        ('{"name":"%s","sysctls":{"net.ipv4.ip_forward":"1\\u0000"}}' % ns, "netns.add",
         "sysctls.net.ipv4.ip_forward"),
        ('{"argv":["sh","-c\\u0000"]}', "proc.spawn", "argv.1"),
        ('{"argv":["true"],"env":{"A":"b\\u0000c"}}', "proc.spawn", "env.A"),
        ('{"argv":["true"],"env":{"A\\u0000B":"c"}}', "proc.spawn", "env.A\\u0000B"),
        ('{"argv":["true"],"stdout":{"file":"/tmp/x\\u0000y"}}', "proc.spawn", "stdout.file"),
        ('{"argv":["true"],"user":"root\\u0000x"}', "proc.spawn", "user"),
        ('{"na\\u0000me":"%s"}' % ns, "netns.add", "na\\u0000me"),
        ('{"id":"\\u0000"}', "proc.get", "id"),
    ]
    for i, (params, method, field) in enumerate(cases):
        r = raw(c, '{"jsonrpc":"2.0","id":%d,"method":"%s","params":%s}' % (100 + i, method, params))
        assert r["id"] == 100 + i, (params, r)
        assert r["error"]["code"] == INVALID_PARAMS, (params, r)
        assert r["error"]["data"]["kind"] == "invalid", (params, r)
        assert r["error"]["data"]["field"] == field, (params, r)
        assert "NUL" in r["error"]["message"], (params, r)
    assert not os.path.exists("/run/netns/" + ns)
    assert d.call("proc.list")["processes"] == []
    # The method name: -32600, id echoed; it must not run daemon.ping.
    r = raw(c, '{"jsonrpc":"2.0","id":"m","method":"daemon.ping\\u0000x"}')
    assert r["id"] == "m" and r["error"]["code"] == INVALID_REQUEST, r
    r = raw(c, '{"jsonrpc":"2.0\\u0000","id":"v","method":"daemon.ping"}')
    assert r["id"] == "v" and r["error"]["code"] == INVALID_REQUEST, r
    # An envelope member name holding U+0000: -32600, id echoed.
    r = raw(c, '{"jsonrpc":"2.0","id":"k","method":"daemon.ping","x\\u0000":1}')
    assert r["id"] == "k" and r["error"]["code"] == INVALID_REQUEST, r
    # A string id holding U+0000 is echoed exactly.
    r = raw(c, '{"jsonrpc":"2.0","id":"a\\u0000b","method":"daemon.ping"}')
    assert r["id"] == "a\x00b" and r["result"] == {"pong": True}, r
    # In a batch only the item with the NUL fails.
    r = raw(c, '[{"jsonrpc":"2.0","id":1,"method":"daemon.ping"},'
               '{"jsonrpc":"2.0","id":2,"method":"netns.get","params":{"name":"a\\u0000"}}]')
    assert r[0]["result"] == {"pong": True}, r
    assert r[1]["id"] == 2 and r[1]["error"]["data"]["field"] == "name", r
    c.close()


# --- proc.kill on a service in backoff; proc.stop ---

@test
def kill_and_stop_a_service_in_backoff():
    """proc.kill on a flapping service in backoff cancels the restart; proc.stop stops for good"""
    d = make_daemon()
    p = d.call("proc.spawn", {"argv": ["sh", "-c", "sleep 0.05; exit 3"], "restart": "always",
                              "stdout": "null", "stderr": "null"})
    # Catch it between two runs: a kill of a running payload makes it flap once more.
    deadline = time.time() + 20
    while True:
        assert time.time() < deadline, proc_get(d, p["id"])
        g = proc_get(d, p["id"])
        if g["state"] != "backoff":
            time.sleep(0.01)
            continue
        r = d.call("proc.kill", {"id": p["id"]})
        if r.get("restart_cancelled"):
            break
    g = proc_get(d, p["id"])
    assert g["state"] == "exited" and g["stopped"] is True, g
    assert g["exit_code"] == 3, g
    n = g["restarts"]
    time.sleep(1.0)
    g = proc_get(d, p["id"])
    assert g["state"] == "exited" and g["restarts"] == n, g
    # A process that is not running: the error says what to use.
    e = d.expect_error("proc.kill", {"id": p["id"]})
    assert e.code == NOT_FOUND and e.field == "id" and "proc.start" not in str(e), e
    assert "not running" in str(e), e

    # proc.stop on a running service: SIGTERM, no restart; the reply is the final state.
    q = d.call("proc.spawn", {"argv": ["sleep", "100"], "restart": "always",
                              "stdout": "null", "stderr": "null"})
    s = d.call("proc.stop", {"id": q["id"], "grace_ms": 2000})
    assert s["state"] == "exited" and s["signal"] == signal.SIGTERM and s["stopped"], s
    assert s["service"] is True, s  # still in the desired state, as systemctl stop leaves it
    time.sleep(0.5)
    g = proc_get(d, q["id"])
    assert g["state"] == "exited" and g["restarts"] == 0, g
    # ... and it stays stopped across a restart of netnsd (adopted, not restarted).
    d.restart()
    g = proc_get(d, q["id"])
    assert g["state"] == "exited" and g["restarts"] == 0 and g["stopped"], g
    time.sleep(0.5)
    assert proc_get(d, q["id"])["state"] == "exited"
    # proc.stop of a stopped one is fine; of an unknown one not_found.
    assert d.call("proc.stop", {"id": q["id"]})["state"] == "exited"
    e = d.expect_error("proc.stop", {"id": "nonexistent"})
    assert e.code == NOT_FOUND and e.field == "id", e
    e = d.expect_error("proc.stop", {"id": q["id"], "grace_ms": -1})
    assert e.code == INVALID_PARAMS and e.field == "grace_ms", e


# --- "host" means the host ---

def read_events(c, want, timeout=10.0):
    """Events from c until want(events) is true or the time is up."""
    got = []
    c.sock.settimeout(0.2)
    deadline = time.time() + timeout
    while time.time() < deadline and not want(got):
        try:
            m = c.recv()
        except socket.timeout:
            continue
        if m is None:
            break
        if m.get("method") == "event":
            got.append(m["params"])
    c.sock.settimeout(20)
    return got


@test
def host_is_reserved_and_has_an_event_filter():
    """netns.add refuses the name host; events.subscribe {host: true} gets the host's events only"""
    d = make_daemon()
    if os.path.exists("/run/netns/host"):
        raise AssertionError("a namespace named 'host' exists on this machine; "
                             "the test would not know whether netnsd made it")
    try:
        e = d.expect_error("netns.add", {"name": "host"})
        assert e.code == INVALID_PARAMS and e.kind == "invalid" and e.field == "name", e
        assert "reserved" in str(e), e
        assert not os.path.exists("/run/netns/host")
    finally:
        try:
            d.call("netns.delete", {"name": "host"})
        except RpcError:
            pass
    ns = uniq("n")
    d.call("netns.add", {"name": ns})
    host_sub, ns_sub, all_sub = d.client(), d.client(), d.client()
    host_sub.call("events.subscribe", {"topics": ["link"], "host": True})
    ns_sub.call("events.subscribe", {"topics": ["link"], "netns": ns})
    all_sub.call("events.subscribe", {"topics": ["link"]})
    hl, hp = uniq("h"), uniq("h")
    d.call("link.add", {"netns": ns, "name": "br0", "kind": "bridge"})
    d.call("link.add", {"name": hl, "kind": "veth", "peer": {"name": hp}})

    def names(evs):
        return {(e["netns"], e["link"]["name"]) for e in evs if e["action"] == "new"}
    want = {(None, hl), (None, hp), (ns, "br0")}
    got_all = names(read_events(all_sub, lambda evs: want <= names(evs)))
    assert want <= got_all, got_all
    got_host = read_events(host_sub, lambda evs: {(None, hl), (None, hp)} <= names(evs))
    assert {(None, hl), (None, hp)} <= names(got_host), got_host
    assert all(e["netns"] is None for e in got_host), got_host
    got_ns = read_events(ns_sub, lambda evs: (ns, "br0") in names(evs))
    assert (ns, "br0") in names(got_ns) and all(e["netns"] == ns for e in got_ns), got_ns
    # host and netns together make no sense.
    e = host_sub.expect_error("events.subscribe", {"host": True, "netns": ns})
    assert e.code == INVALID_PARAMS and e.field == "host", e
    for c in (host_sub, ns_sub, all_sub):
        c.close()
    d.call("link.delete", {"name": hl})
    d.call("netns.delete", {"name": ns})


# --- log size cap with rotation ---

def log_files_of(path):
    """{name: size} of a log file and its rotated files."""
    d, base = os.path.split(path)
    return {n: os.path.getsize(os.path.join(d, n)) for n in os.listdir(d)
            if n == base or n.startswith(base + ".")}


WRITER = "i=0; while [ $i -lt %d ]; do i=$((i+1)); printf 'line-%%05d\\n' $i; done"


@test
def logs_are_capped_and_rotated():
    """A process writing 10x the cap leaves at most cap * files bytes; proc.logs reads across"""
    d = make_daemon("--log-max-bytes", "4096", "--log-files", "3")
    info = d.call("daemon.info")
    assert info["limits"]["log_max_bytes"] == 4096 and info["limits"]["log_files"] == 3, info
    n = 4000  # 11 bytes a line: 44000 bytes, more than 10 times the cap
    p = d.call("proc.spawn", {"argv": ["sh", "-c", WRITER % n]})
    w = d.call("proc.wait", {"id": p["id"]})
    assert w["exit_code"] == 0 and w["log_max_bytes"] == 4096 and w["log_files"] == 3, w
    files = log_files_of(w["log"])
    assert len(files) <= 3 and all(v <= 4096 for v in files.values()), files
    assert sum(files.values()) <= 4096 * 3, files
    tail = d.call("proc.logs", {"id": p["id"], "tail": 5})["text"]
    assert tail == "".join("line-%05d\n" % i for i in range(n - 4, n + 1)), tail
    # Without tail: every line there is, across the files, in order, ending with the last.
    text = d.call("proc.logs", {"id": p["id"]})["text"]
    lines = text.splitlines()
    first = int(lines[0][5:])
    assert lines == ["line-%05d" % i for i in range(first, n + 1)], lines[:3]
    assert len(text) > 4096, len(text)  # more than the current file alone
    # stdout and stderr into the one file keep their order through the pipe.
    p = d.call("proc.spawn", {"argv": ["sh", "-c", "echo a; echo b >&2; echo c"]})
    d.call("proc.wait", {"id": p["id"]})
    assert d.call("proc.logs", {"id": p["id"]})["text"] == "a\nb\nc\n"

    # Per process: one file of at most 1000 bytes; or no cap at all.
    p = d.call("proc.spawn", {"argv": ["sh", "-c", WRITER % n], "log_max_bytes": 1000,
                              "log_files": 1})
    w = d.call("proc.wait", {"id": p["id"]})
    files = log_files_of(w["log"])
    assert list(files) == ["output.log"] and files["output.log"] <= 1000, files
    assert d.call("proc.logs", {"id": p["id"], "tail": 1})["text"] == "line-%05d\n" % n
    p = d.call("proc.spawn", {"argv": ["sh", "-c", WRITER % n], "log_max_bytes": 0})
    w = d.call("proc.wait", {"id": p["id"]})
    assert w["log_max_bytes"] == 0 and log_files_of(w["log"]) == {"output.log": 11 * n}, w
    e = d.expect_error("proc.spawn", {"argv": ["true"], "log_files": 0})
    assert e.code == INVALID_PARAMS and e.field == "log_files", e

    # The shim rotates, so the cap holds while netnsd is down.
    out = os.path.join(tmpdir(), "app.log")
    p = d.call("proc.spawn", {"argv": ["sh", "-c", "sleep 1; " + WRITER % n],
                              "stdout": {"file": out}, "stderr": {"file": out}})
    d.kill9()
    assert wait_for(lambda: not os.path.exists("/proc/%d" % p["pid"]), timeout=30)
    files = log_files_of(out)
    assert len(files) <= 3 and sum(files.values()) <= 4096 * 3, files
    d.start()
    assert d.call("proc.logs", {"id": p["id"], "tail": 1})["text"] == "line-%05d\n" % n


# --- exec records outlive a killed client ---

def spawn_with_fds(c, params, fds):
    """proc.spawn on client c with fds passed (SCM_RIGHTS) on the same write."""
    msg = {"jsonrpc": "2.0", "id": 1, "method": "proc.spawn", "params": params}
    socket.send_fds(c.sock, [(json.dumps(msg) + "\n").encode()], fds)
    r = c.recv()
    assert "result" in r, r
    return r["result"]


def proc_ids(d):
    return [p["id"] for p in d.call("proc.list")["processes"]]


@test
def ephemeral_records_go_with_their_client():
    """An ephemeral process's record is forgotten once its client is gone and it has ended"""
    d = make_daemon()
    ns = uniq("n")
    d.call("netns.add", {"name": ns})
    out = os.path.join(tmpdir(), "done")
    # The client is gone (as after a SIGKILL of netnsctl exec): the program runs on with
    # the descriptors it was given, and its record goes when it ends.
    c = d.client()
    r, w = os.pipe()
    p = spawn_with_fds(c, {"netns": ns, "argv": ["sh", "-c", "sleep 1; echo done > %s" % out],
                           "stdin": "null", "stdout": {"fd": 0}, "stderr": {"fd": 0},
                           "ephemeral": True}, [w])
    os.close(w)
    c.close()
    assert p["id"] in proc_ids(d)
    assert wait_for(lambda: p["id"] not in proc_ids(d), timeout=15), d.call("proc.list")
    with open(out) as f:
        assert f.read() == "done\n"  # it ran to its end: not killed with its client
    os.close(r)
    # A client that stays: the record stays until it is deleted or the client goes.
    c = d.client()
    p = c.call("proc.spawn", {"netns": ns, "argv": ["sh", "-c", "exit 7"], "ephemeral": True})
    assert c.call("proc.wait", {"id": p["id"]})["exit_code"] == 7
    time.sleep(0.3)
    assert proc_get(d, p["id"])["exit_code"] == 7
    c.close()
    assert wait_for(lambda: p["id"] not in proc_ids(d), timeout=15), d.call("proc.list")
    # Across a restart of netnsd (its clients are gone then): collected once it ended.
    c = d.client()
    p = c.call("proc.spawn", {"netns": ns, "argv": ["sleep", "1"], "ephemeral": True})
    d.kill9()
    c.close()
    d.start()
    assert wait_for(lambda: p["id"] not in proc_ids(d), timeout=15), d.call("proc.list")
    # Not for services.
    e = d.expect_error("proc.spawn", {"argv": ["true"], "ephemeral": True, "restart": "always"})
    assert e.code == INVALID_PARAMS and e.field == "ephemeral", e
    d.call("netns.delete", {"name": ns})


@test
def netnsctl_exec_killed_leaves_no_record():
    """netnsctl exec killed with SIGKILL: its record goes when the program ends"""
    with open(NETNSCTL, "rb") as f:
        if b"ephemeral" not in f.read():
            raise Skip("this netnsctl exec does not ask for an ephemeral record yet")
    d = make_daemon()
    ns = uniq("n")
    d.call("netns.add", {"name": ns})
    out = os.path.join(tmpdir(), "done")
    ctl = subprocess.Popen([NETNSCTL, "-s", d.socket, "exec", ns, "--", "sh", "-c",
                            "sleep 1; echo done > %s" % out],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    assert wait_for(lambda: d.call("proc.list")["processes"], timeout=15)
    os.kill(ctl.pid, signal.SIGKILL)
    ctl.wait()
    assert wait_for(lambda: os.path.exists(out), timeout=15)
    assert wait_for(lambda: not d.call("proc.list")["processes"], timeout=15), \
        d.call("proc.list")
    d.call("netns.delete", {"name": ns})


def ctl(d, *args, timeout=60):
    return subprocess.run([NETNSCTL, "-s", d.socket] + list(args), capture_output=True,
                          text=True, timeout=timeout)


@test
def netnsctl_host_means_the_host():
    """netnsctl: -n host is the host for link, proc and monitor; proc stop; log cap options"""
    d = make_daemon()
    ns = uniq("n")
    d.call("netns.add", {"name": ns})
    mon = subprocess.Popen([NETNSCTL, "-s", d.socket, "--json", "monitor", "link", "-n", "host"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        # The subscription is made once the monitor has connected.
        assert wait_for(lambda: d.call("daemon.info")["events"]["subscriptions"] == 1)
        assert ctl(d, "-n", ns, "link", "add", "br0", "type", "bridge").returncode == 0
        hl, hp = uniq("h"), uniq("h")
        r = ctl(d, "-n", "host", "link", "add", hl, "type", "veth", "peer", hp)
        assert r.returncode == 0, r
        assert [l["ifname"] for l in json.loads(subprocess.run(
            ["ip", "-j", "link", "show", hl], capture_output=True, text=True).stdout)] == [hl]
        r = ctl(d, "--json", "-n", "host", "link", "list")
        assert r.returncode == 0 and hl in r.stdout, r
        assert ctl(d, "-n", "host", "link", "delete", hl).returncode == 0
        # The monitor saw the host's links come and go, and nothing of the namespace's.
        # Read the pipe's bytes directly: a buffered readline() can take
        # several lines at once, and select() then says nothing is left.
        events, buf = [], b""
        fd = mon.stdout.fileno()
        deadline = time.time() + 10
        while time.time() < deadline and not any(
                e.get("action") == "del" and e["link"]["name"] == hl for e in events):
            if not select.select([fd], [], [], 0.5)[0]:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            events.extend(json.loads(l) for l in lines if l.strip())
        assert any(e["action"] == "new" and e["link"]["name"] == hl for e in events), events
        assert all(e["netns"] is None for e in events), events
    finally:
        mon.terminate()
        mon.wait()
    # proc stop: a service stays stopped, listed, and says so.
    r = ctl(d, "proc", "run", ns, "--restart", "always", "--", "sleep", "100")
    assert r.returncode == 0, r
    pid = r.stdout.strip()
    r = ctl(d, "proc", "stop", pid, "--grace", "2000")
    assert r.returncode == 0 and r.stdout == "", r
    r = ctl(d, "proc", "show", pid)
    assert "stopped:     yes" in r.stdout and "state:       exited" in r.stdout, r.stdout
    assert ctl(d, "proc", "delete", pid).returncode == 0
    # proc run sets a process's log cap.
    r = ctl(d, "proc", "run", ns, "--log-max-bytes", "1000", "--log-files", "1", "--",
            "sh", "-c", WRITER % 500)
    assert r.returncode == 0, r
    pid = r.stdout.strip()
    assert ctl(d, "proc", "wait", pid).returncode == 0
    r = ctl(d, "proc", "show", pid)
    assert "log cap:     1000 bytes, 1 files" in r.stdout, r.stdout
    assert os.path.getsize(d.call("proc.get", {"id": pid})["log"]) <= 1000
    assert ctl(d, "proc", "logs", pid, "--tail", "1").stdout == "line-00500\n"
    r = ctl(d, "proc", "run", ns, "--log-files", "0", "--", "true")
    assert r.returncode == 2 and "--log-files" in r.stderr, r
    assert ctl(d, "proc", "delete", pid).returncode == 0
    d.call("netns.delete", {"name": ns})


if __name__ == "__main__":
    if os.geteuid() == 0:
        _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        atexit.register(cleanup_processes)
    raise SystemExit(main())
