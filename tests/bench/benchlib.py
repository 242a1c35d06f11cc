"""Helpers the benchmark drivers share: logging, one JSON-RPC call, and what
/proc says about the machine (load, CPU of a process, the kernel's netns
cleanup).  Imported by bench_*.py from their own directory."""

import json
import os
import socket
import sys
import time


class Broken(Exception):
    """Something went wrong that makes the figures meaningless."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def rpc_call(sock_path, method, params=None, timeout=60):
    """One request on a fresh connection; the result, or Broken on an error."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        msg = {"jsonrpc": "2.0", "id": 1, "method": method}
        if params is not None:
            msg["params"] = params
        s.sendall(json.dumps(msg).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(1 << 20)
            if not chunk:
                raise OSError("connection closed")
            buf += chunk
    finally:
        s.close()
    reply = json.loads(buf)
    if "error" in reply:
        raise Broken("%s %s: %s" % (method, json.dumps(params), reply["error"]))
    return reply["result"]


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def task_sched_ns(pid):
    """(CPU time, run-queue wait) of all threads of pid so far, in ns
    (schedstat: time on a CPU, time runnable but waiting for one)."""
    cpu = wait = 0
    task_dir = "/proc/%d/task" % pid
    for tid in os.listdir(task_dir):
        try:
            with open("%s/%s/schedstat" % (task_dir, tid)) as f:
                v = f.read().split()
            cpu += int(v[0])
            wait += int(v[1])
        except (OSError, IndexError, ValueError):
            pass
    return cpu, wait


def fs_of(path):
    """(device, fstype, mountpoint) of the filesystem holding path."""
    path = os.path.realpath(path)
    best = ("?", "?", "/")
    with open("/proc/self/mounts") as f:
        for line in f:
            dev, mnt, fstype = line.split()[:3]
            mnt = mnt.replace("\\040", " ")
            if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best[2]):
                best = (dev, fstype, mnt)
    return best


def netns_cleanup_running():
    """True while a kernel worker runs cleanup_net: its name then reads
    "kworker/...+netns" ("-netns" once it is done)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid, "rb") as f:
                head = f.read(64)
        except OSError:
            continue
        if b"+netns)" in head:
            return True
    return False


SETTLE = {"waited_s": 0.0, "timeouts": 0}


def settle(min_s, quiet_s=0.5, max_s=6.0, step_s=0.05):
    """Let the kernel finish freeing the namespaces deleted so far: the
    kernel frees them asynchronously (cleanup_net, in the "netns" workqueue),
    holding rtnl_lock, which every namespace creation also needs.  Wait
    min_s, then until no cleanup_net has run for quiet_s (at most max_s;
    other users of the machine may keep it busy).  Totals go to SETTLE."""
    t0 = time.monotonic()
    time.sleep(min_s)
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < quiet_s:
        if time.monotonic() - t0 > max_s:
            SETTLE["timeouts"] += 1
            break
        time.sleep(step_s)
        if netns_cleanup_running():
            quiet_since = time.monotonic()
    SETTLE["waited_s"] += time.monotonic() - t0
