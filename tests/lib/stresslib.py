"""Helpers for the stress scripts (tests/stress/) and the failpoint walk: a
netnsd under test with private paths, process figures, and cleanup of
everything a prefix names."""

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import crashlib  # noqa: E402


def default_netnsd():
    for c in (os.environ.get("NETNSD"), os.path.join(TOP, "build", "daemon", "netnsd")):
        if c and os.access(c, os.X_OK):
            return c
    sys.exit("no netnsd binary: set NETNSD or build into build/")


class Netnsd:
    """A netnsd with its own socket, state and runtime directories."""

    def __init__(self, binary, tmp=None, args=(), env=None):
        self.binary = binary
        self.tmp = tmp or tempfile.mkdtemp(prefix="netnsd-stress-")
        self.socket = os.path.join(self.tmp, "netnsd.sock")
        self.state_dir = os.path.join(self.tmp, "state")
        self.runtime_dir = os.path.join(self.tmp, "run")
        self.log_path = os.path.join(self.tmp, "netnsd.log")
        self.args = list(args)
        self.env = env
        self.proc = None

    def start(self, wait=True, env=None):
        cmd = [self.binary, "--socket", self.socket, "--state-dir", self.state_dir,
               "--runtime-dir", self.runtime_dir, "--log-level",
               os.environ.get("NETNSD_STRESS_LOG_LEVEL", "notice")] + self.args
        e = dict(os.environ)
        for k in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "NETNSD_FAILPOINT"):
            e.pop(k, None)
        e.update(self.env or {})
        e.update(env or {})
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=log, env=e)
        if wait:
            self.wait_ready()
        return self

    def lock_holders(self):
        lock = os.path.join(self.state_dir, "lock")
        out = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                for fd in os.listdir("/proc/%s/fd" % pid):
                    if os.readlink("/proc/%s/fd/%s" % (pid, fd)) == lock:
                        with open("/proc/%s/cmdline" % pid, "rb") as f:
                            out.append("%s %s" % (pid, f.read().replace(b"\0", b" ")))
            except OSError:
                continue
        return out

    def wait_ready(self, timeout=60.0):
        deadline = time.time() + timeout
        retries = 0
        while time.time() < deadline:
            if self.proc.poll() is not None:
                if "in use by another netnsd" in self.log_tail(300) and retries < 20:
                    # Who holds the state lock after a kill -9?  Say so, then retry.
                    print("stress: state lock held by %s" % self.lock_holders(),
                          file=sys.stderr, flush=True)
                    retries += 1
                    time.sleep(0.1)
                    self.start(wait=False)
                    continue
                raise RuntimeError("netnsd exited with %d:\n%s" % (self.proc.returncode,
                                                                   self.log_tail()))
            try:
                c = crashlib.Conn(self.socket, timeout=10)
                c.call("daemon.ping")
                c.close()
                return
            except (OSError, ConnectionError, RuntimeError, ValueError):
                time.sleep(0.01)
        raise RuntimeError("netnsd did not become ready:\n" + self.log_tail())

    def conn(self, timeout=60.0):
        return crashlib.Conn(self.socket, timeout=timeout)

    def call(self, method, params=None):
        c = self.conn()
        try:
            return c.call(method, params)
        finally:
            c.close()

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait()

    def stop(self, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.proc.returncode if self.proc else None

    # Figures of the running daemon.
    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def mounts(self, substring=None):
        with open("/proc/%d/mountinfo" % self.proc.pid) as f:
            return sum(1 for line in f if substring is None or substring in line)


def shims_of(runtime_dir):
    """PIDs of netnsd-shim processes working for this runtime dir."""
    return [pid for pid, _ in crashlib.shims_of(runtime_dir)]


def host_links(prefix=None):
    links = crashlib.ip_json("link") or []
    return [l["ifname"] for l in links if prefix is None or l["ifname"].startswith(prefix)]


def run_netns(prefix=None):
    try:
        names = os.listdir("/run/netns")
    except FileNotFoundError:
        return []
    return [n for n in names if prefix is None or n.startswith(prefix)]


def cleanup(prefix, daemon=None):
    """Remove every namespace, host link and shim the prefix and daemon name."""
    if daemon is not None:
        daemon.kill9()
        for pid in shims_of(daemon.runtime_dir):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for name in run_netns(prefix):
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        try:
            os.unlink("/run/netns/" + name)
        except OSError:
            pass
    for name in host_links(prefix):
        subprocess.run(["ip", "link", "del", name], capture_output=True)
    for d in glob.glob("/etc/netns/%s*" % prefix):
        shutil.rmtree(d, ignore_errors=True)
    if daemon is not None:
        shutil.rmtree(daemon.tmp, ignore_errors=True)


def finish(daemon, prefix, namespaces):
    """Delete the namespaces through netnsd while it runs (so its shims stop too), stop
    it, then remove whatever the prefix still names."""
    try:
        if daemon.proc and daemon.proc.poll() is None:
            for name in namespaces:
                try:
                    daemon.call("netns.delete", {"name": name, "grace_ms": 0})
                except Exception:
                    pass
            daemon.stop()
    finally:
        cleanup(prefix, daemon)


def prefix_for(tag):
    return "%s%04x" % (tag, os.getpid() & 0xFFFF)


def emit(obj, path=None):
    text = json.dumps(obj, indent=1, sort_keys=True)
    print(text)
    if path:
        with open(path, "w") as f:
            f.write(text + "\n")
