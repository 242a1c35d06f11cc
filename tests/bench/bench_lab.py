#!/usr/bin/env python3
"""netnsd lab benchmark (issue 3): build and tear down N lab nodes on one
bridge, with netnsd and with the tools people use today, against the raw
kernel floor.  See tests/bench/README.lab.

Normally started by tests/bench/run-driver.sh lab, which builds lab-floor:
    bench_lab.py --netnsd PATH --bin-dir DIR [options]

A node is a namespace with lo up, a veth pair (eth0 inside, the host end
enslaved to one shared bridge, both up), IPv6 address generation off on both
ends (so no DAD, router solicitations or MLD skew the run) and a unique
10.O.X.Y/16 on eth0.  No address is added in the host.

Prints tables and PASS/MISS per target, then one JSON line (the last line of
stdout).  Exit status: 0 when the run completed (whatever the targets say),
1 when something broke, 77 when it cannot run here (not root).
"""

import argparse
import json
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from benchlib import Broken, SETTLE, fs_of, loadavg, log, rpc_call, settle, task_sched_ns

PREFIX = "bl%04x" % (os.getpid() & 0xFFFF)
RUN_DIR = "/run/netns"
SYS_NET = "/sys/class/net"

# Variants: key, tag (one letter of every name it makes), address octet, label.
VARIANTS = [
    ("floor", "f", 11, "floor: lab-floor.c (syscalls + batched rtnetlink)"),
    ("netnsd_pipe", "p", 12, "netnsd, pipelined on 1 connection"),
    ("netnsd_batch", "b", 13, "netnsd, JSON-RPC batches"),
    ("netnsd_ll", "v", 14, "netnsd, pipelined, ipv6_ll left on"),
    ("ip_batch", "i", 15, "ip -batch (host) + ip -n NS -batch"),
    ("shell", "s", 16, "shell loop, one ip per command"),
]
LABEL = {k: label for k, _, _, label in VARIANTS}
TAG = {k: t for k, t, _, _ in VARIANTS}
OCTET = {k: o for k, _, o, _ in VARIANTS}
# Extra teardown floors (informational): the same build, other ways to remove.
FLOOR_MODES = ("wait", "explicit", "group")

TARGETS = {
    "build_vs_floor": 3.0,      # netnsd build <= 3x the floor
    "shell_vs_netnsd": 20.0,    # the shell loop >= 20x slower than netnsd
    "teardown_vs_floor": 2.0,   # netnsd teardown <= 2x the floor
    "scaling": 1.3,             # per-node cost at the large N <= 1.3x the small N ("flat")
}


# ---------------------------------------------------------------- names

def ns_name(tag, i):
    return "%s%sn%d" % (PREFIX, tag, i)


def host_name(tag, i):
    return "%s%sh%d" % (PREFIX, tag, i)


def bridge_name(tag):
    return "%s%sbr" % (PREFIX, tag)


def address(octet, i):
    h = i + 1
    return "10.%d.%d.%d" % (octet, h >> 8, h & 255)


def our_namespaces(tag=""):
    try:
        return [n for n in os.listdir(RUN_DIR) if n.startswith(PREFIX + tag)]
    except FileNotFoundError:
        return []


def link_exists(name):
    """Whether the kernel still resolves the name (its sysfs entry may outlive
    that by a moment while the device is being unregistered)."""
    try:
        socket.if_nametoindex(name)
        return True
    except OSError:
        return False


def our_links(tag=""):
    return [n for n in os.listdir(SYS_NET) if n.startswith(PREFIX + tag) and link_exists(n)]


# ---------------------------------------------------------------- helpers

def run(cmd, what, timeout=300, check=True):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise Broken("%s failed (exit %d): %s" % (what, p.returncode, p.stderr.strip()[-1500:]))
    return p


def ip_json(*args):
    p = run(["ip", "-j"] + list(args), "ip -j %s" % " ".join(args))
    return json.loads(p.stdout or "[]")


def proc_stat():
    """(non-idle jiffies, softirq jiffies, all jiffies) over all CPUs."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (v + [0] * 8)[:8]
    busy = user + nice + system + irq + softirq + steal
    return busy, softirq, busy + idle + iowait


def kthreads_cpu_ns():
    """CPU time so far of all kernel threads (children of kthreadd): the
    workers and ksoftirqd that do the kernel's asynchronous share."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid, "rb") as f:
                st = f.read()
            if st[st.rindex(b")") + 2:].split()[1] != b"2" and pid != "2":
                continue
            with open("/proc/%s/schedstat" % pid) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total


def link_packets(names):
    """Sum of rx + tx packets of the given host devices."""
    total = 0
    for n in names:
        for d in ("rx_packets", "tx_packets"):
            try:
                with open("%s/%s/statistics/%s" % (SYS_NET, n, d)) as f:
                    total += int(f.read())
            except OSError:
                pass
    return total


def task_cpu_ns(pid):
    return task_sched_ns(pid)[0]


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def self_cpu():
    """CPU time of this process (all its threads), s."""
    return time.process_time()


# ---------------------------------------------------------------- netnsd

class Netnsd:
    def __init__(self, path, state_base, tmp):
        self.state_dir = tempfile.mkdtemp(prefix="netnsd-lab-state-", dir=state_base)
        self.sock = os.path.join(tmp, "netnsd.sock")
        self.log_path = os.path.join(tmp, "netnsd.log")
        self.log = open(self.log_path, "ab")
        env = dict(os.environ)
        for k in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "WATCHDOG_USEC"):
            env.pop(k, None)
        self.proc = subprocess.Popen([path, "--socket", self.sock, "--state-dir", self.state_dir,
                                      "--runtime-dir", os.path.join(tmp, "run")],
                                     stdout=self.log, stderr=self.log, env=env)
        deadline = time.monotonic() + 15
        while True:
            if self.proc.poll() is not None:
                raise Broken("netnsd exited with %d: %s" % (self.proc.returncode, self.log_tail()))
            try:
                self.call("daemon.ping")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise Broken("netnsd did not answer: %s" % self.log_tail())
                time.sleep(0.02)

    def log_tail(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-1500:]
        except OSError:
            return ""

    def call(self, method, params=None):
        return rpc_call(self.sock, method, params)


    def cpu_ns(self):
        return task_cpu_ns(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def pipeline(sock_path, payload, expect):
    """Write payload (bytes, many NDJSON lines) on one connection while
    reading replies; return (seconds, replies) once `expect` reply lines came.
    The writer is a thread that writes 64 KiB chunks; the reader keeps the
    lines as bytes and looks only for errors (the kernel's view is checked
    afterwards)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.connect(sock_path)
    s.settimeout(120)
    errors = []

    def writer():
        view = memoryview(payload)
        try:
            for off in range(0, len(view), 65536):
                s.sendall(view[off:off + 65536])
        except OSError as e:
            errors.append("write: %s" % e)

    t0 = time.perf_counter()
    w = threading.Thread(target=writer)
    w.start()
    got = 0
    buf = b""
    lines = []
    try:
        while got < expect:
            chunk = s.recv(1 << 20)
            if not chunk:
                raise Broken("netnsd closed the connection after %d of %d replies (%s)"
                             % (got, expect, errors))
            buf += chunk
            if b"\n" in chunk:
                parts = buf.split(b"\n")
                buf = parts.pop()
                lines.extend(parts)
                got = len(lines)
        dt = time.perf_counter() - t0
    finally:
        w.join()
        s.close()
    if errors:
        raise Broken("; ".join(errors))
    for line in lines:
        if b'"error"' in line:
            raise Broken("netnsd replied with an error: %s" % line[:600].decode(errors="replace"))
    return dt, lines


class Pinger:
    """daemon.ping on a second connection every 10 ms while a netnsd phase
    runs: how long other clients wait while netnsd builds or tears down."""

    def __init__(self, sock_path):
        self.sock_path = sock_path
        self.lat = []
        self.stop_ev = threading.Event()
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(120)
        s.connect(self.sock_path)
        f = s.makefile("rb")
        i = 0
        try:
            while not self.stop_ev.is_set():
                i += 1
                t0 = time.perf_counter()
                s.sendall(b'{"jsonrpc":"2.0","id":%d,"method":"daemon.ping"}\n' % i)
                if not f.readline():
                    break
                self.lat.append((time.perf_counter() - t0) * 1e3)
                self.stop_ev.wait(0.01)
        except OSError:
            pass
        finally:
            s.close()

    def stop(self):
        self.stop_ev.set()
        self.t.join(130)
        v = sorted(self.lat)
        if not v:
            return {"pings": 0}
        return {"pings": len(v), "ping_p50_ms": v[len(v) // 2],
                "ping_p99_ms": v[min(len(v) - 1, int(len(v) * 0.99))], "ping_max_ms": v[-1]}


# ---------------------------------------------------------------- the bench

class Bench:
    def __init__(self, args, tmp):
        self.args = args
        self.tmp = tmp
        self.floor = os.path.join(args.bin_dir, "lab-floor")
        if not os.access(self.floor, os.X_OK):
            raise Broken("missing executable %s" % self.floor)
        self.netnsd = None
        self.samples = {}   # (variant, n, op) -> [wall us per node]
        self.cpu = {}       # (variant, n, op) -> [CPU us per node of the doer(s)]
        self.extra = {}     # (variant, n, op) -> [dict of extra figures]
        self.settling = {}  # (variant, n) -> [dict]
        self.baseline = []  # [dict] idle samples of the settle window
        self.group = 0x4E000000 | (os.getpid() & 0xFFFFFF)

    # -- recording

    def add(self, variant, n, op, seconds, cpu_seconds, extra=None):
        self.samples.setdefault((variant, n, op), []).append(seconds * 1e6 / n)
        self.cpu.setdefault((variant, n, op), []).append(cpu_seconds * 1e6 / n)
        if extra:
            self.extra.setdefault((variant, n, op), []).append(extra)

    # -- the settle window: what the machine spends after a build

    def window(self, hosts, pid=None, w=None):
        w = w or self.args.window
        b0, s0, a0 = proc_stat()
        p0 = link_packets(hosts)
        c0 = task_cpu_ns(pid) if pid else 0
        k0 = kthreads_cpu_ns()
        time.sleep(w)
        b1, s1, a1 = proc_stat()
        k1 = kthreads_cpu_ns()
        p1 = link_packets(hosts)
        c1 = task_cpu_ns(pid) if pid else 0
        hz = os.sysconf("SC_CLK_TCK")
        return {"busy_ms": (b1 - b0) * 1000.0 / hz, "softirq_ms": (s1 - s0) * 1000.0 / hz,
                "all_ms": (a1 - a0) * 1000.0 / hz, "packets": p1 - p0,
                "kthreads_ms": (k1 - k0) / 1e6,
                "netnsd_ms": (c1 - c0) / 1e6 if pid else None, "window_s": w}

    def measure_baseline(self):
        self.baseline.append(self.window([]))

    # -- kernel view

    def verify_built(self, variant, n, ll_off=True):
        tag = TAG[variant]
        got = sum(1 for x in our_namespaces(tag + "n"))
        if got != n:
            raise Broken("%s: %d namespaces in %s, expected %d" % (variant, got, RUN_DIR, n))
        br = bridge_name(tag)
        ports = ip_json("-d", "link", "show", "master", br)
        up = [p for p in ports if "UP" in p.get("flags", [])]
        if len(ports) != n or len(up) != n:
            raise Broken("%s: bridge %s has %d ports (%d up), expected %d"
                         % (variant, br, len(ports), len(up), n))
        if ll_off:
            modes = [p.get("inet6_addr_gen_mode") for p in ports]
            bad = [m for m in modes if m != "none"]
            if bad:
                raise Broken("%s: %d host ends have IPv6 address generation %r"
                             % (variant, len(bad), bad[0]))
        for i in sorted({0, n // 2, n - 1}):
            ns = ns_name(tag, i)
            links = {l["ifname"]: l for l in ip_json("-n", ns, "addr", "show")}
            eth0, lo = links.get("eth0"), links.get("lo")
            if not eth0 or not lo or "UP" not in eth0["flags"] or "UP" not in lo["flags"]:
                raise Broken("%s: node %s: eth0/lo missing or down: %r" % (variant, ns, links))
            v4 = [a["local"] + "/" + str(a["prefixlen"]) for a in eth0.get("addr_info", [])
                  if a.get("family") == "inet"]
            want = address(OCTET[variant], i) + "/16"
            if v4 != [want]:
                raise Broken("%s: node %s: eth0 has %r, expected %s" % (variant, ns, v4, want))
            ll = [a for a in eth0.get("addr_info", []) if a.get("family") == "inet6"]
            if ll_off and ll:
                raise Broken("%s: node %s: eth0 has IPv6 addresses %r" % (variant, ns, ll))

    def verify_gone(self, variant):
        tag = TAG[variant]
        left_ns = our_namespaces(tag + "n")
        left_links = [x for x in our_links(tag + "h")]
        if left_ns or left_links:
            raise Broken("%s teardown left %d namespaces and %d host ends (%s)"
                         % (variant, len(left_ns), len(left_links),
                            (left_ns + left_links)[:3]))

    def wait_hosts_gone(self, tag, n, t0, limit=60):
        """Seconds from t0 until no host end of tag is left (polled every ms,
        like lab-floor's wait mode)."""
        left = [host_name(tag, i) for i in range(n)]
        while True:
            left = [h for h in left if link_exists(h)]
            if not left:
                return time.perf_counter() - t0
            if time.perf_counter() - t0 > limit:
                raise Broken("%d host ends of %s still there after %d s" % (len(left), tag, limit))
            time.sleep(0.001)

    # -- bridges

    def make_bridge(self, variant):
        br = bridge_name(TAG[variant])
        if variant.startswith("netnsd"):
            self.netnsd.call("link.add", {"name": br, "kind": "bridge", "up": True,
                                          "ipv6_ll": False})
        else:
            run(["ip", "link", "add", br, "type", "bridge", "forward_delay", "0"], "make bridge")
            run(["ip", "link", "set", br, "addrgenmode", "none", "up"], "bridge up")

    def drop_bridge(self, variant):
        br = bridge_name(TAG[variant])
        if not os.path.exists(os.path.join(SYS_NET, br)):
            return
        if variant.startswith("netnsd"):
            self.netnsd.call("link.delete", {"name": br})
        else:
            run(["ip", "link", "del", br], "delete bridge")

    # -- the variants

    def netnsd_requests(self, variant, n, op):
        tag = TAG[variant]
        ll = variant != "netnsd_ll"
        br = bridge_name(tag)
        reqs = []
        for i in range(n):
            ns = ns_name(tag, i)
            if op == "build":
                link = {"netns": ns, "name": "eth0", "kind": "veth", "up": True,
                        "peer": {"name": host_name(tag, i), "netns": None, "master": br,
                                 "up": True}}
                if ll:
                    link["ipv6_ll"] = False
                    link["peer"]["ipv6_ll"] = False
                reqs.append(("netns.add", {"name": ns}))
                reqs.append(("link.add", link))
                reqs.append(("addr.add", {"netns": ns, "dev": "eth0",
                                          "address": address(OCTET[variant], i) + "/16"}))
            else:
                reqs.append(("netns.delete", {"name": ns}))
        msgs = [{"jsonrpc": "2.0", "id": k + 1, "method": m, "params": p}
                for k, (m, p) in enumerate(reqs)]
        if variant == "netnsd_batch":
            b = self.args.batch
            chunks = [msgs[k:k + b] for k in range(0, len(msgs), b)]
            lines = [json.dumps(c, separators=(",", ":")) for c in chunks]
        else:
            lines = [json.dumps(m, separators=(",", ":")) for m in msgs]
        return ("\n".join(lines) + "\n").encode(), len(lines)

    def do_netnsd(self, variant, n, op):
        payload, expect = self.netnsd_requests(variant, n, op)
        cpu0, wait0 = task_sched_ns(self.netnsd.proc.pid)
        c0 = self_cpu()
        pinger = Pinger(self.netnsd.sock) if self.args.ping else None
        try:
            dt, _ = pipeline(self.netnsd.sock, payload, expect)
        finally:
            pings = pinger.stop() if pinger else {}
        client = self_cpu() - c0
        cpu1, wait1 = task_sched_ns(self.netnsd.proc.pid)
        extra = {"client_cpu_us_per_node": client * 1e6 / n,
                 "runq_wait_us_per_node": (wait1 - wait0) / 1e3 / n}
        extra.update(pings)
        return dt, (cpu1 - cpu0) / 1e9, extra

    def do_floor(self, variant, n, op, mode="wait"):
        tag = TAG[variant]
        if op == "build":
            cmd = [self.floor, "build", PREFIX + tag + "n", str(n), bridge_name(tag),
                   str(OCTET[variant]), "--group", str(self.group)]
        else:
            cmd = [self.floor, "delete", PREFIX + tag + "n", str(n), "--mode", mode,
                   "--group", str(self.group)]
        p = run(cmd, "lab-floor %s" % op)
        res = json.loads(p.stdout.strip().splitlines()[-1])
        steps = {k: v / 1e3 / n for k, v in res["steps_ns"].items()}
        return res["total_ns"] / 1e9, res["cpu_ns"] / 1e9, {
            "steps_us_per_node": steps, "runq_wait_us_per_node": res["runq_wait_ns"] / 1e3 / n}

    def do_shell(self, variant, n, op):
        tag = TAG[variant]
        br = bridge_name(tag)
        script = os.path.join(self.tmp, "shell-%s.sh" % op)
        with open(script, "w") as f:
            for i in range(n):
                ns, h = ns_name(tag, i), host_name(tag, i)
                if op == "build":
                    f.write("ip netns add %s\n" % ns)
                    f.write("ip link add %s type veth peer name eth0 netns %s\n" % (h, ns))
                    f.write("ip link set %s master %s addrgenmode none\n" % (h, br))
                    f.write("ip -n %s addr add %s/16 dev eth0\n" % (ns, address(OCTET[variant], i)))
                    f.write("ip -n %s link set eth0 addrgenmode none up\n" % ns)
                    f.write("ip link set %s up\n" % h)
                    f.write("ip -n %s link set lo up\n" % ns)
                else:
                    f.write("ip netns del %s\n" % ns)
        return self.run_script(["sh", "-e", script], tag, n, op)

    def do_ip_batch(self, variant, n, op):
        tag = TAG[variant]
        br = bridge_name(tag)
        d = os.path.join(self.tmp, "ipb-%s" % op)
        os.makedirs(d, exist_ok=True)
        script = os.path.join(d, "run.sh")
        host = os.path.join(d, "host.batch")
        with open(host, "w") as f:
            for i in range(n):
                ns, h = ns_name(tag, i), host_name(tag, i)
                if op == "build":
                    f.write("netns add %s\n" % ns)
                    f.write("link add %s type veth peer name eth0 netns %s\n" % (h, ns))
                    # eth0 is still down, so no carrier yet: no IPv6 link-local.
                    f.write("link set %s master %s addrgenmode none up\n" % (h, br))
                else:
                    f.write("netns del %s\n" % ns)
        with open(script, "w") as f:
            f.write("ip -batch %s\n" % host)
            if op == "build":
                # iproute2 6.1 has no per-line "-n NS" in batch files; one
                # `ip -n NS -batch` per namespace is the fewest processes.
                for i in range(n):
                    ns = ns_name(tag, i)
                    nb = os.path.join(d, "%d.batch" % i)
                    with open(nb, "w") as g:
                        g.write("link set lo up\n")
                        g.write("link set eth0 addrgenmode none\n")  # before up: the host end has carrier
                        g.write("link set eth0 up\n")
                        g.write("addr add %s/16 dev eth0\n" % address(OCTET[variant], i))
                    f.write("ip -n %s -batch %s\n" % (ns, nb))
        return self.run_script(["sh", "-e", script], tag, n, op)

    def run_script(self, cmd, tag, n, op):
        c0 = children_cpu()
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        cmd_s = time.perf_counter() - t0
        cpu = children_cpu() - c0
        if p.returncode != 0:
            raise Broken("%s failed: %s" % (" ".join(cmd), p.stderr.strip()[-800:]))
        extra = {}
        dt = cmd_s
        if op == "teardown":
            # ip netns del only unmounts; the kernel removes the host ends with
            # the namespace, later.  Count until they are gone, as for the floor.
            dt = self.wait_hosts_gone(tag, n, t0)
        extra["cmd_s"] = cmd_s
        return dt, cpu, extra

    def phase(self, variant, n, op, mode="wait"):
        if variant == "floor":
            return self.do_floor(variant, n, op, mode)
        if variant.startswith("netnsd"):
            return self.do_netnsd(variant, n, op)
        if variant == "shell":
            return self.do_shell(variant, n, op)
        if variant == "ip_batch":
            return self.do_ip_batch(variant, n, op)
        raise AssertionError(variant)

    def one(self, variant, n, floor_mode="wait", record_as=None, sample_window=True):
        key = record_as or variant
        tag = TAG[variant]
        self.make_bridge(variant)
        try:
            settle(self.args.settle, quiet_s=0.3, max_s=4.0, step_s=0.03)
            if sample_window:
                before = self.window([], None, self.args.window / 3)
            log("  N=%-4d %-22s build ..." % (n, key))
            dt, cpu, extra = self.phase(variant, n, "build")
            self.add(key, n, "build", dt, cpu, extra)
            if sample_window:
                hosts = [host_name(tag, i) for i in range(n)]
                pid = self.netnsd.proc.pid if variant.startswith("netnsd") else None
                w = self.window(hosts, pid)
                w["before"] = before
                self.settling.setdefault((key, n), []).append(w)
            self.verify_built(variant, n, ll_off=variant != "netnsd_ll")
            settle(self.args.settle, quiet_s=0.3, max_s=4.0, step_s=0.03)
            log("  N=%-4d %-22s teardown ..." % (n, key))
            dt, cpu, extra = self.phase(variant, n, "teardown", floor_mode)
            self.add(key, n, "teardown", dt, cpu, extra)
            self.verify_gone(variant)
        finally:
            self.drop_bridge(variant)

    def run(self):
        self.measure_baseline()
        order = [v for v in self.args.variants]
        for n in self.args.sizes:
            reps = self.args.reps_small if n == min(self.args.sizes) else self.args.reps_large
            for r in range(reps):
                k = r % len(order)
                for v in order[k:] + order[:k]:
                    self.one(v, n)
            if "floor" in order and self.args.floor_modes:
                # One DELLINK per host end costs the same per node at every N
                # (tens of ms, see the report): measured at the smallest N only.
                for mode in FLOOR_MODES[1:] if n == min(self.args.sizes) else FLOOR_MODES[2:]:
                    self.one("floor", n, floor_mode=mode, record_as="floor_" + mode,
                             sample_window=False)
        self.measure_baseline()


# ------------------------------------------------------------- reporting

def fmt(v, spec="%.0f", none="-"):
    return none if v is None else spec % v


def verdict(ok):
    return "PASS" if ok else "MISS"


def report(b, env):
    out = []
    p = out.append
    sizes = b.args.sizes
    best = {k: min(v) for k, v in b.samples.items()}
    cpu = {k: min(v) for k, v in b.cpu.items()}
    small, large = min(sizes), max(sizes)
    keys = [v for v in b.args.variants] + (
        ["floor_" + m for m in FLOOR_MODES[1:]] if "floor" in b.args.variants and b.args.floor_modes else [])
    labels = dict(LABEL)
    labels["floor_explicit"] = "floor, teardown: one DELLINK per host end"
    labels["floor_group"] = "floor, teardown: one DELLINK for a device group"
    labels["floor"] = "floor: lab-floor.c (teardown: umount, wait)"

    # Every floor run builds the same way: the floor build is the best of them.
    for n in sizes:
        fb = [best[(k, n, "build")] for k in ("floor", "floor_explicit", "floor_group")
              if (k, n, "build") in best]
        fc = [cpu[(k, n, "build")] for k in ("floor", "floor_explicit", "floor_group")
              if (k, n, "build") in cpu]
        if fb:
            best[("floor_any", n, "build")] = min(fb)
            cpu[("floor_any", n, "build")] = min(fc)

    def m(v, n, op):
        return best.get((v, n, op))

    p("")
    p("netnsd lab benchmark: %s" % env["summary"])
    p("")
    p("Wall-clock us per node (best of %d at N=%d, %d at N=%d; build = namespace + lo up +"
      % (b.args.reps_small, small, b.args.reps_large, large))
    p("veth to the bridge + address + links up; teardown = until namespaces and host ends are gone)")
    hdr = "%-48s" % "variant" + "".join("%11s%11s" % ("build N=%d" % n, "tdown N=%d" % n) for n in sizes)
    p(hdr)
    for v in keys:
        row = "%-48s" % labels[v]
        for n in sizes:
            row += "%11s%11s" % (fmt(m(v, n, "build")), fmt(m(v, n, "teardown")))
        p(row)
    p("")
    p("CPU us per node of the doer (netnsd: its own threads; ip: sh and every ip; floor: itself;")
    p("the kernel's workers are in none of them)")
    p(hdr)
    for v in keys:
        row = "%-48s" % labels[v]
        for n in sizes:
            row += "%11s%11s" % (fmt(cpu.get((v, n, "build"))), fmt(cpu.get((v, n, "teardown"))))
        p(row)
    for v in ("netnsd_pipe", "netnsd_batch"):
        ex = [e["client_cpu_us_per_node"] for n in sizes for e in b.extra.get((v, n, "build"), [])]
        if ex:
            p("  (%s: the Python client itself used %.0f-%.0f CPU us per node)" % (v, min(ex), max(ex)))
    p("")
    p("Run-queue wait us per node (median): time the doer was runnable while other tasks had")
    p("the CPUs.  Large values mean the wall clock above measures the machine's other load.")
    p(hdr)
    for v in keys:
        if not (v.startswith("netnsd") or v.startswith("floor")):
            continue
        row = "%-48s" % labels[v]
        for n in sizes:
            for op in ("build", "teardown"):
                ex = [e.get("runq_wait_us_per_node") for e in b.extra.get((v, n, op), [])]
                ex = [x for x in ex if x is not None]
                row += "%11s" % fmt(statistics.median(ex) if ex else None)
        p(row)
    p("")
    p("daemon.ping on a second connection every 10 ms during each netnsd phase (worst run):")
    p("%-48s%6s%10s%14s%14s%14s" % ("variant", "N", "phase", "pings", "p99 ms", "max ms"))
    for v in keys:
        if not v.startswith("netnsd"):
            continue
        for n in sizes:
            for op in ("build", "teardown"):
                ex = [e for e in b.extra.get((v, n, op), []) if e.get("pings")]
                if not ex:
                    continue
                p("%-48s%6d%10s%14d%14s%14s" % (
                    labels[v], n, op, min(e["pings"] for e in ex),
                    fmt(max(e["ping_p99_ms"] for e in ex), "%.1f"),
                    fmt(max(e["ping_max_ms"] for e in ex), "%.1f")))

    # Settling.
    p("")
    base = b.baseline
    base_busy = statistics.median([x["busy_ms"] for x in base]) if base else 0
    base_soft = statistics.median([x["softirq_ms"] for x in base]) if base else 0
    all_ms = statistics.median([x["all_ms"] for x in base]) if base else 0
    base_k = statistics.median([x["kthreads_ms"] for x in base]) if base else 0
    p("Settling: the %.1f s right after each build (median of the runs), whole machine, CPU-ms:"
      % b.args.window)
    p("busy = non-idle (/proc/stat), '+' = minus %.1f x the same measure taken for %.1f s just"
      % (3.0, b.args.window / 3))
    p("before the build (other users' load; at start of run: busy %.0f of %.0f, softirq %.0f,"
      % (base_busy, all_ms, base_soft))
    p("kthreads %.0f); softirq (packet processing, timers); kthreads = all kernel threads"
      % base_k)
    p("(kworkers, ksoftirqd); packets = rx+tx on the host ends (IPv6 chatter the bridge floods);")
    p("netnsd = CPU-ms of netnsd itself (the model follows every kernel message).")
    p("%-48s%6s%10s%10s%10s%10s%12s%10s" % ("variant", "N", "busy", "+busy", "+softirq",
                                             "+kthreads", "packets", "netnsd"))
    for v in b.args.variants:
        for n in sizes:
            s = b.settling.get((v, n))
            if not s:
                continue
            med = lambda k: statistics.median([x[k] for x in s]) if s[0][k] is not None else None
            exc = lambda k: statistics.median([x[k] - 3.0 * x["before"][k] for x in s])
            p("%-48s%6d%10s%10s%10s%10s%12s%10s" % (
                labels[v], n, fmt(med("busy_ms")), fmt(exc("busy_ms")), fmt(exc("softirq_ms")),
                fmt(exc("kthreads_ms")), fmt(med("packets")), fmt(med("netnsd_ms"))))

    # Ratios and targets.
    p("")
    p("Ratios (wall clock; CPU ratio in brackets where it means something)")
    results = []

    def ratio(a, bb):
        return a / bb if a is not None and bb else None

    def target(name, value, ok, text):
        results.append({"target": name, "value": value, "pass": ok})
        p("  %-62s %8s  %s" % (text, fmt(value, "%.2f"), verdict(ok) if value is not None else "n/a"))

    floor_td = {}
    for n in sizes:
        cands = [m(k, n, "teardown") for k in ("floor", "floor_explicit", "floor_group")]
        cands = [c for c in cands if c is not None]
        floor_td[n] = min(cands) if cands else None
    for n in sizes:
        p(" N=%d" % n)
        for v in ("netnsd_pipe", "netnsd_batch"):
            if (v, n, "build") not in best:
                continue
            r = ratio(m(v, n, "build"), m("floor_any", n, "build"))
            cr = ratio(cpu.get((v, n, "build")), cpu.get(("floor_any", n, "build")))
            target("build_vs_floor", r, r is not None and r <= TARGETS["build_vs_floor"],
                   "%s build / best floor build (<= %.0fx) [cpu %s]" % (v, TARGETS["build_vs_floor"],
                                                                fmt(cr, "%.1f")))
        bestn = min([x for x in (m("netnsd_pipe", n, "build"), m("netnsd_batch", n, "build"))
                     if x is not None] or [None]) if any(
            (v, n, "build") in best for v in ("netnsd_pipe", "netnsd_batch")) else None
        r = ratio(m("shell", n, "build"), bestn)
        bestc = min([cpu[(v, n, "build")] for v in ("netnsd_pipe", "netnsd_batch")
                     if (v, n, "build") in cpu] or [0])
        cr = ratio(cpu.get(("shell", n, "build")), bestc)
        target("shell_vs_netnsd", r, r is not None and r >= TARGETS["shell_vs_netnsd"],
               "shell-loop build / best netnsd build (>= %.0fx) [cpu %s]"
               % (TARGETS["shell_vs_netnsd"], fmt(cr, "%.1f")))
        r = ratio(m("ip_batch", n, "build"), bestn)
        p("  %-62s %8s" % ("ip-batch build / netnsd build (info)", fmt(r, "%.2f")))
        for v in ("netnsd_pipe", "netnsd_batch"):
            if (v, n, "teardown") not in best:
                continue
            r = ratio(m(v, n, "teardown"), floor_td[n])
            target("teardown_vs_floor", r, r is not None and r <= TARGETS["teardown_vs_floor"],
                   "%s teardown / best floor teardown (<= %.0fx)" % (v, TARGETS["teardown_vs_floor"]))
        r = ratio(m("shell", n, "teardown"), m("netnsd_pipe", n, "teardown"))
        p("  %-62s %8s" % ("shell-loop teardown / netnsd teardown (info)", fmt(r, "%.2f")))
        r = ratio(m("ip_batch", n, "teardown"), m("netnsd_pipe", n, "teardown"))
        p("  %-62s %8s" % ("ip-batch teardown / netnsd teardown (info)", fmt(r, "%.2f")))
        r = ratio(m("netnsd_ll", n, "build"), m("netnsd_pipe", n, "build"))
        p("  %-62s %8s" % ("netnsd build with ipv6_ll on / off (info)", fmt(r, "%.2f")))
    if len(sizes) > 1:
        p(" Scaling, per-node cost at N=%d / N=%d (flat: <= %.1fx) [CPU ratio]"
          % (large, small, TARGETS["scaling"]))
        for v in keys + ["floor_any"]:
            for op in ("build", "teardown"):
                r = ratio(m(v, large, op), m(v, small, op))
                if r is None:
                    continue
                cr = ratio(cpu.get((v, large, op)), cpu.get((v, small, op)))
                name = "%s %s [cpu %s]" % ("floor (best of all floor runs)" if v == "floor_any" else v,
                                          op, fmt(cr, "%.2f"))
                if v in ("netnsd_pipe", "netnsd_batch"):
                    target("scaling", r, r <= TARGETS["scaling"], name)
                else:
                    p("  %-62s %8s" % (name + " (info)", fmt(r, "%.2f")))

    # Floor steps.
    p("")
    p("Floor split, us per node (best run): build = ns (unshare + bind mount + socket) / host")
    p("(NEWLINK veth + SETLINK, batched) / inside (lo up, addrgen, eth0 up, address); teardown by mode")
    for key in ("floor", "floor_explicit", "floor_group"):
        for n in sizes:
            for op in ("build", "teardown"):
                ex = b.extra.get((key, n, op))
                if not ex:
                    continue
                sb = min(ex, key=lambda e: sum(e["steps_us_per_node"].values()))["steps_us_per_node"]
                p("  %-16s N=%-4d %-9s %s" % (key, n, op,
                                              "  ".join("%s %.0f" % kv for kv in sb.items())))
    passed = sum(1 for r in results if r["pass"])
    p("")
    p("Targets: %d PASS, %d MISS" % (passed, len(results) - passed))
    print("\n".join(out))
    doc = {
        "bench": "lab", "env": env, "targets": TARGETS, "results": results,
        "us_per_node": {"%s/%d/%s" % k: v for k, v in b.samples.items()},
        "cpu_us_per_node": {"%s/%d/%s" % k: v for k, v in b.cpu.items()},
        "extra": {"%s/%d/%s" % k: v for k, v in b.extra.items()},
        "settling": {"%s/%d" % k: v for k, v in b.settling.items()},
        "baseline": b.baseline, "settle": SETTLE,
    }
    print(json.dumps(doc, separators=(",", ":")))


# ----------------------------------------------------------------- main

def cleanup():
    """Remove everything with our prefix (best effort): namespaces first (the
    host ends go with them), then bridges, then whatever is left."""
    for ns in our_namespaces():
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
    for _ in range(100):
        left = our_links()
        if not left:
            break
        for l in left:
            if l.endswith("br") or _ > 50:
                subprocess.run(["ip", "link", "del", l], stderr=subprocess.DEVNULL)
        time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--netnsd", required=True)
    ap.add_argument("--bin-dir", required=True, help="directory holding lab-floor")
    ap.add_argument("--sizes", default="100,500", help="node counts (default 100,500)")
    ap.add_argument("--reps-small", type=int, default=2, help="runs at the smallest N (default 2)")
    ap.add_argument("--reps-large", type=int, default=1, help="runs at the other sizes (default 1)")
    ap.add_argument("--variants", default=",".join(k for k, _, _, _ in VARIANTS),
                    help="comma-separated subset of: %s" % ", ".join(k for k, _, _, _ in VARIANTS))
    ap.add_argument("--no-floor-modes", dest="floor_modes", action="store_false",
                    help="skip the extra floor teardowns (explicit DELLINK, device group)")
    ap.add_argument("--no-ping", dest="ping", action="store_false",
                    help="no daemon.ping on a second connection during netnsd phases")
    ap.add_argument("--batch", type=int, default=64, help="requests per JSON-RPC batch (default 64)")
    ap.add_argument("--window", type=float, default=3.0, help="settling window after a build, s")
    ap.add_argument("--settle", type=float, default=0.5, help="minimum pause before a phase, s")
    ap.add_argument("--state-dir-base", default="/var/tmp")
    ap.add_argument("--quick", action="store_true", help="smoke run: N=10,50, 1 run, 1 s window")
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.reps_small, args.window, args.settle = "10,50", 1, 1.0, 0.2
    args.sizes = sorted(int(x) for x in args.sizes.split(","))
    args.variants = [v for v in args.variants.split(",") if v]
    for v in args.variants:
        if v not in TAG:
            ap.error("unknown variant %s" % v)
    if max(args.sizes) > 65000:
        ap.error("at most 65000 nodes (addresses are 10.O.X.Y/16)")
    if os.geteuid() != 0:
        log("bench_lab: SKIP: needs root")
        return 77

    tmp = tempfile.mkdtemp(prefix="netnsd-lab-")
    b = None
    status = 0

    def on_signal(sig, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        b = Bench(args, tmp)
        env = {
            "kernel": platform.release(), "cpus": os.cpu_count(),
            "load_start": loadavg(), "prefix": PREFIX,
            "ip": run(["ip", "-V"], "ip -V").stdout.strip(),
            "state_fs": "%s (%s)" % fs_of(args.state_dir_base)[1::-1],
        }
        b.netnsd = Netnsd(args.netnsd, args.state_dir_base, tmp)
        t0 = time.monotonic()
        b.run()
        env["load_end"] = loadavg()
        env["elapsed_s"] = round(time.monotonic() - t0, 1)
        env["summary"] = ("kernel %s, %d CPUs, load %s -> %s, %s, netnsd state on %s, %.0f s"
                          % (env["kernel"], env["cpus"], env["load_start"], env["load_end"],
                             env["ip"], env["state_fs"], env["elapsed_s"]))
        report(b, env)
    except Broken as e:
        log("bench_lab: BROKEN: %s" % e)
        status = 1
    except KeyboardInterrupt:
        log("bench_lab: interrupted")
        status = 130
    finally:
        if b and b.netnsd:
            b.netnsd.stop()
        cleanup()
        subprocess.run(["rm", "-rf", tmp])
        if b and b.netnsd:
            subprocess.run(["rm", "-rf", b.netnsd.state_dir])
    return status


if __name__ == "__main__":
    sys.exit(main())
