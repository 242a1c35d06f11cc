"""Crash-consistency workload and invariants, shared by the failpoint walk
(tests/integration/test_failpoints.py), the kill -9 loop (tests/stress/kill9.py)
and the soak (tests/stress/soak.sh).

A Workload drives netnsd from several clients at once, each pipelining
requests on its own connection, and keeps a Model of what netnsd
acknowledged: an object whose creation was answered with success must exist,
one whose deletion was answered must be gone, and one whose request got no
answer (netnsd died first) may be either, but never half: check() then
learns which it is.  Objects are wired nodes (a namespace, a veth inside it
and a veth with one end in the host, an address, a route) and supervised
processes with a known exit code.

check() compares three views after a restart: the model, netnsd's (RPC) and
the kernel's (`ip -n NS -j ...`, /run/netns), plus netnsd's persisted state
files, and returns a list of violations (strings); empty is good.
"""

import json
import os
import random
import socket
import subprocess
import threading
import time

NSFS_DEV = os.stat("/proc/self/ns/net").st_dev
LINK_MARK = "netnsd"

PRESENT, ABSENT, UNKNOWN = "present", "absent", "unknown"


def ip_json(*args, netns=None):
    cmd = ["ip"] + (["-n", netns] if netns else []) + ["-j"] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return None
    out = p.stdout.strip()
    return json.loads(out) if out else []


def netns_mounted(name):
    try:
        return os.stat("/run/netns/" + name).st_dev == NSFS_DEV
    except OSError:
        return False


def read_state(state_dir):
    """netnsd's persisted desired state: {collection: {key: doc}} (snapshot + journal)."""
    colls = {}
    snap_seq = 0
    try:
        with open(os.path.join(state_dir, "state.json")) as f:
            doc = json.load(f)
        colls = doc["collections"]
        snap_seq = doc["seq"]
    except FileNotFoundError:
        pass
    try:
        with open(os.path.join(state_dir, "journal.jsonl")) as f:
            text = f.read()
    except FileNotFoundError:
        text = ""
    lines = text.split("\n")
    for line in lines[:-1]:  # a torn last line was never acknowledged
        rec = json.loads(line)
        if rec["seq"] <= snap_seq:
            continue
        c = colls.setdefault(rec["c"], {})
        if rec["op"] == "put":
            c[rec["k"]] = rec["v"]
        else:
            c.pop(rec["k"], None)
    return colls


class Conn:
    """A pipelining JSON-RPC connection: send many, then read the answers."""

    def __init__(self, path, timeout=30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 1

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send_many(self, reqs):
        """reqs: [(method, params)]; returns their ids."""
        ids, lines = [], []
        for method, params in reqs:
            ids.append(self.next_id)
            lines.append(json.dumps({"jsonrpc": "2.0", "id": self.next_id,
                                     "method": method, "params": params}))
            self.next_id += 1
        self.sock.sendall(("\n".join(lines) + "\n").encode())
        return ids

    def recv(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, method, params=None):
        self.send_many([(method, params or {})])
        while True:
            m = self.recv()
            if "id" in m:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m["result"]


class Model:
    """What netnsd acknowledged.  Keys: ("netns", NAME), ("link", NS, NAME),
    ("addr", NS, DEV, CIDR), ("route", NS, DST); procs by id."""

    def __init__(self):
        self.lock = threading.Lock()
        self.objs = {}
        self.procs = {}  # id -> expected exit code
        self.proc_unknown = 0  # spawns never answered (their id is unknown)
        self.acked = 0

    def get(self, key):
        with self.lock:
            return self.objs.get(key, ABSENT)

    def set(self, key, value):
        with self.lock:
            if value == ABSENT:
                self.objs.pop(key, None)
            else:
                self.objs[key] = value


class Client(threading.Thread):
    """One workload client: its own namespaces, pipelined requests."""

    def __init__(self, wl, idx):
        super().__init__(daemon=True)
        self.wl, self.idx = wl, idx
        self.rng = random.Random(wl.seed * 1000 + idx)
        self.stop = False

    def ns_name(self, n):
        return "%sk%dx%s" % (self.wl.prefix, self.idx, n)

    def host_name(self, n):
        return ("%s%d%s" % (self.wl.prefix, self.idx, n))[:15]

    def run(self):
        try:
            conn = Conn(self.wl.socket)
        except OSError:
            return
        try:
            while not self.stop:
                self.round(conn)
        except (OSError, ConnectionError, ValueError):
            pass
        finally:
            conn.close()

    def node_requests(self, n):
        ns, host = self.ns_name(n), self.host_name(n)
        addr = "10.%d.%d.1/24" % (90 + self.idx, n % 250)
        return [
            (("netns", ns), "netns.add", {"name": ns}),
            (("link", ns, "a0"), "link.add",
             {"netns": ns, "name": "a0", "kind": "veth", "up": True,
              "peer": {"name": "b0", "up": True}}),
            (("link", ns, "h0"), "link.add",
             {"netns": ns, "name": "h0", "kind": "veth", "peer": {"name": host, "netns": None}}),
            (("addr", ns, "a0", addr), "addr.add", {"netns": ns, "dev": "a0", "address": addr}),
            (("route", ns, "10.250.0.0/16"), "route.add",
             {"netns": ns, "dst": "10.250.0.0/16", "dev": "a0"}),
        ]

    def round(self, conn):
        wl, m = self.wl, self.wl.model
        batch = []  # (key or None, method, params, on_ok)
        mine = [k for k in list(m.objs) if k[0] == "netns" and k[1].startswith(self.ns_name(""))]
        live = [k for k in mine if m.get(k) == PRESENT]
        if len(mine) >= wl.max_nodes or (live and self.rng.random() < 0.3):
            victims = live or mine
            key = self.rng.choice(victims)
            batch.append((key, "netns.delete", {"name": key[1], "grace_ms": 0}, ABSENT))
        else:
            n = self.rng.randrange(1000000)
            for key, method, params in self.node_requests(n):
                batch.append((key, method, params, PRESENT))
        if wl.proc_netns and self.rng.random() < 0.7:
            code = self.rng.randrange(1, 120)
            ms = self.rng.choice([0, 10, 100, 300, 1000])
            batch.append((None, "proc.spawn",
                          {"netns": wl.proc_netns,
                           "argv": ["sh", "-c", "sleep %.3f; exit %d" % (ms / 1000.0, code)]},
                          code))
        self.wl.run_batch(conn, batch)



class Workload:
    def __init__(self, socket_path, state_dir, prefix, clients=4, max_nodes=3, seed=1,
                 proc_netns=None):
        self.socket = socket_path
        self.state_dir = state_dir
        self.prefix = prefix
        self.nclients = clients
        self.max_nodes = max_nodes
        self.seed = seed
        self.proc_netns = proc_netns
        self.model = Model()
        self.threads = []

    def start(self):
        self.seed += 1
        self.threads = [Client(self, i) for i in range(self.nclients)]
        for t in self.threads:
            t.start()

    def stop(self, timeout=30):
        for t in self.threads:
            t.stop = True
        for t in self.threads:
            t.join(timeout)
        self.threads = []

    def run_batch(self, conn, batch):
        """Pipeline batch [(key or None for a spawn, method, params, want)] and record the
        answers in the model: want (PRESENT, ABSENT, or a spawn's exit code) on success,
        the previous value on an error, UNKNOWN while unanswered."""
        m = self.model
        prev = {}
        for key, method, params, want in batch:
            if key is not None:
                prev[key] = m.get(key)
                m.set(key, UNKNOWN)
            else:
                with m.lock:
                    m.proc_unknown += 1
        ids = conn.send_many([(method, params) for key, method, params, want in batch])
        answered = 0
        while answered < len(ids):
            msg = conn.recv()
            if "id" not in msg or msg["id"] not in ids:
                continue
            answered += 1
            key, method, params, want = batch[ids.index(msg["id"])]
            ok = "result" in msg
            if key is not None:
                if ok:
                    m.set(key, want)
                    if method == "netns.delete":
                        self.forget_inside(key[1])
                else:
                    m.set(key, prev[key])
            else:
                with m.lock:
                    m.proc_unknown -= 1
                    if ok:
                        m.procs[msg["result"]["id"]] = want
            with m.lock:
                m.acked += ok

    def scripted(self, conn):
        """A fixed mixed sequence (the failpoint walk): two wired nodes, one with
        /etc/netns files, processes, a deletion.  Raises when netnsd goes away."""
        c = Client(self, 0)
        first, second = c.node_requests(1), c.node_requests(2)
        ns1 = first[0][2]["name"]
        first[0][2]["resolv_conf"] = "nameserver 192.0.2.53\n"
        spawn = lambda code, ms: (None, "proc.spawn", {
            "netns": self.proc_netns,
            "argv": ["sh", "-c", "sleep %.3f; exit %d" % (ms / 1000.0, code)]}, code)
        self.run_batch(conn, [(k, m, p, PRESENT) for k, m, p in first])
        self.run_batch(conn, [spawn(7, 300), spawn(9, 0)])
        self.run_batch(conn, [(k, m, p, PRESENT) for k, m, p in second])
        self.run_batch(conn, [(("netns", ns1), "netns.delete", {"name": ns1, "grace_ms": 0},
                               ABSENT)])

    # -- invariants ----------------------------------------------------------------------------

    def check(self, conn, fix_unknown=True):
        """Violations (list of strings) of the model against netnsd, the kernel and the
        persisted state; unknown objects become what was found (when consistent)."""
        v = []
        m = self.model
        st = read_state(self.state_dir)
        st_ns = set(st.get("netns", {}))
        st_links = set(st.get("link", {}))
        st_addrs = set(st.get("addr", {}))
        st_routes = set(st.get("route", {}))
        listed = {n["name"]: n for n in conn.call("netns.list")["namespaces"]}
        mine = lambda name: name.startswith(self.prefix)

        # Namespaces: model, netnsd's view, the kernel and the state file agree.
        run_netns = set(n for n in os.listdir("/run/netns") if mine(n)) \
            if os.path.isdir("/run/netns") else set()
        names = set(k[1] for k in m.objs if k[0] == "netns") | run_netns | \
            set(n for n in st_ns if mine(n))
        names.discard(self.proc_netns)
        kernel_links = {}
        for name in sorted(names):
            key = ("netns", name)
            want = m.get(key)
            kern = netns_mounted(name)
            nd = listed.get(name)
            managed = bool(nd and nd.get("managed") and nd.get("mounted"))
            in_state = name in st_ns
            if kern and not in_state:
                v.append("netns %s: mounted in /run/netns but not in netnsd's state (orphan)"
                         % name)
            if in_state and not kern:
                v.append("netns %s: in the state but not mounted after restart" % name)
            if kern != managed:
                v.append("netns %s: kernel %s, netnsd says %s" % (name, kern, nd))
            if want == PRESENT and not kern:
                v.append("netns %s: acknowledged but lost" % name)
            elif want == ABSENT and kern:
                v.append("netns %s: deletion acknowledged but it is back" % name)
            elif want == UNKNOWN and fix_unknown:
                m.set(key, PRESENT if kern else ABSENT)
                if not kern:
                    self.forget_inside(name)
            if kern:
                kernel_links[name] = self.check_inside(conn, name, st_links, st_addrs,
                                                       st_routes, v, fix_unknown)
        # Objects inside namespaces that are gone must be gone from the model too.
        for key in list(m.objs):
            if key[0] != "netns" and not netns_mounted(key[1]):
                if m.get(key) == PRESENT:
                    v.append("%s: acknowledged but its namespace is gone" % (key,))
                m.set(key, ABSENT)
        # Host links marked as netnsd's that its state does not know.
        for l in ip_json("link") or []:
            name = l.get("ifname", "")
            if mine(name) and l.get("ifalias") == LINK_MARK and "/" + name not in st_links:
                v.append("host link %s: marked netnsd but not in its state (orphan)" % name)
        self.check_procs(conn, v, fix_unknown)
        return v

    def forget_inside(self, ns):
        m = self.model
        with m.lock:
            for k in [k for k in m.objs if k[0] != "netns" and k[1] == ns]:
                del m.objs[k]

    def check_inside(self, conn, ns, st_links, st_addrs, st_routes, v, fix_unknown):
        m = self.model
        kl = ip_json("addr", netns=ns) or []
        klinks = {l["ifname"]: l for l in ip_json("link", netns=ns) or []}
        kaddrs = set()
        for l in kl:
            for a in l.get("addr_info", []):
                kaddrs.add((l["ifname"], "%s/%s" % (a["local"], a["prefixlen"])))
        kroutes = set(r.get("dst") for r in ip_json("route", netns=ns) or [])
        nl = {l["name"]: l for l in conn.call("link.list", {"netns": ns})["links"]}
        na = set((a["dev"], a["address"]) for a in
                 conn.call("addr.list", {"netns": ns})["addresses"] if a.get("managed"))
        nr = set(r["dst"] for r in conn.call("route.list", {"netns": ns})["routes"]
                 if r.get("managed"))
        links_d = set(l for l, d in klinks.items() if d.get("ifalias") == LINK_MARK)
        for name in links_d:
            if "%s/%s" % (ns, name) not in st_links:
                v.append("link %s/%s: marked netnsd but not in its state (orphan)" % (ns, name))
        for dev, cidr in kaddrs:
            if dev != "lo" and cidr.startswith("10.") and "%s/%s/%s" % (ns, dev, cidr) \
                    not in st_addrs and (dev, cidr) not in na:
                v.append("addr %s/%s/%s: in the kernel, not in netnsd's state" % (ns, dev, cidr))
        for dst in kroutes:
            if dst == "10.250.0.0/16" and not any(k.startswith(ns + "/") and k.endswith(
                    "/" + dst + "/0") for k in st_routes):
                v.append("route %s %s: in the kernel, not in netnsd's state" % (ns, dst))
        for key in [k for k in list(m.objs) if k[0] != "netns" and k[1] == ns]:
            want = m.get(key)
            if key[0] == "link":
                kern, nd = key[2] in links_d, key[2] in nl
            elif key[0] == "addr":
                kern, nd = (key[2], key[3]) in kaddrs, (key[2], key[3]) in na
            else:
                kern, nd = key[2] in kroutes, key[2] in nr
            if kern != nd:
                v.append("%s: kernel %s, netnsd %s" % (key, kern, nd))
            if want == PRESENT and not kern:
                v.append("%s: acknowledged but lost" % (key,))
            elif want == ABSENT and kern:
                v.append("%s: deletion acknowledged but it is back" % (key,))
            elif want == UNKNOWN and fix_unknown:
                m.set(key, PRESENT if kern else ABSENT)
        return klinks

    def check_procs(self, conn, v, fix_unknown):
        m = self.model
        done = []
        for pid, code in list(m.procs.items()):
            try:
                p = conn.call("proc.get", {"id": pid})
            except RuntimeError as e:
                v.append("proc %s: acknowledged but lost (%s)" % (pid, e))
                del m.procs[pid]
                continue
            if p["state"] in ("lost", "failed"):
                v.append("proc %s: %s" % (pid, p["state"]))
                done.append(pid)
            elif p["state"] == "exited":
                if p.get("exit_code") != code:
                    v.append("proc %s: exit code %r, expected %d" % (pid, p.get("exit_code"),
                                                                     code))
                done.append(pid)
        # Ended processes whose spawn was never answered: they must not be lost either.
        for p in conn.call("proc.list")["processes"]:
            if p["id"] in m.procs:
                continue
            if p["state"] in ("lost", "failed"):
                v.append("proc %s (spawn unanswered): %s" % (p["id"], p["state"]))
            if p["state"] in ("lost", "failed", "exited"):
                done.append(p["id"])
        for pid in done:
            m.procs.pop(pid, None)
            try:
                conn.call("proc.delete", {"id": pid, "grace_ms": 0})
            except RuntimeError:
                pass
        if fix_unknown:
            m.proc_unknown = 0
        self.proc_known = set(m.procs)

    def orphan_shims(self, runtime_dir, conn):
        """Shims alive whose process netnsd does not list."""
        listed = set(p["id"] for p in conn.call("proc.list")["processes"])
        return ["shim %d for %s: running, not known to netnsd" % (pid, pid_id)
                for pid, pid_id in shims_of(runtime_dir) if pid_id not in listed]

    def final_check(self, conn, runtime_dir, wait_s=10):
        """check() and orphan_shims() after a restart, then again until the processes
        of the model ended (their exit codes are checked as they do)."""
        v = self.check(conn) + self.orphan_shims(runtime_dir, conn)
        deadline = time.time() + wait_s
        while self.model.procs and time.time() < deadline:
            time.sleep(0.2)
            v += self.check(conn)
        return v


def shims_of(runtime_dir):
    """(pid, process id) of the netnsd-shim processes working for this runtime dir."""
    out = []
    procs = os.path.join(runtime_dir, "procs") + "/"
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if len(argv) >= 2 and argv[0].endswith(b"netnsd-shim") and \
                argv[1].decode(errors="replace").startswith(procs):
            out.append((int(pid), os.path.basename(argv[1].decode(errors="replace"))))
    return out
