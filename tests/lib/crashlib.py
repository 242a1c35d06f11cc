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
processes with a known exit code.  A second scripted workload (lab_setup()
and lab_script(), for the failpoint walk) renames a link, moves one to
another namespace, adds an address and a route, applies a small topology
(two nodes, a veth, addresses, a route, a service) and destroys it.

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
# Route destinations the workloads add (others in a namespace are the kernel's own).
OUR_ROUTES = ("10.250.0.0/16", "10.252.0.0/16")


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
        # Keys of one object under its old and new name (a rename or move): whatever
        # was answered, exactly one of them exists once its namespace does.
        self.one_of = []
        self.labs = {}  # topology name -> what the lab is made of (lab_doc())

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
              "peer": {"name": "b0", "netns": ns, "up": True}}),
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

    def run_one(self, conn, method, params, changes):
        """Send one request whose success sets every key of changes ({key: want}); the
        keys are UNKNOWN until it is answered, back as they were on an error.  Returns
        whether it succeeded; raises when netnsd goes away."""
        m = self.model
        prev = {k: m.get(k) for k in changes}
        for k in changes:
            m.set(k, UNKNOWN)
        msg = None
        for i in conn.send_many([(method, params)]):
            while msg is None or msg.get("id") != i:
                msg = conn.recv()
        ok = "result" in msg
        for k, want in changes.items():
            m.set(k, want if ok else prev[k])
        with m.lock:
            m.acked += ok
        if not ok:
            raise RuntimeError("%s: %s" % (method, msg["error"]))
        return ok

    def lab_names(self):
        return self.prefix + "la", self.prefix + "lb", self.prefix + "lab"

    def lab_doc(self):
        """A small topology: two nodes, a veth with addresses, a route and a service."""
        name = self.prefix + "lab"
        return {
            "name": name, "prefix": self.prefix,
            "nodes": [
                {"name": "n1", "routes": [{"dst": "10.252.0.0/16", "via": "10.253.0.2"}]},
                {"name": "n2", "services": [{"name": "svc", "argv": ["sleep", "3600"],
                                             "stdout": "null", "stderr": "null"}]}],
            "links": [{"ends": [
                {"node": "n1", "name": "e0", "addresses": ["10.253.0.1/24"]},
                {"node": "n2", "name": "e0", "addresses": ["10.253.0.2/24"]}]}],
        }

    def lab_setup(self, conn):
        """What lab_script() starts from, made by a netnsd that is not armed: two
        namespaces and a veth pair in the first."""
        a, b, _ = self.lab_names()
        self.run_one(conn, "netns.add", {"name": a}, {("netns", a): PRESENT})
        self.run_one(conn, "netns.add", {"name": b}, {("netns", b): PRESENT})
        # l0 stays down: older kernels refuse to rename a link that is up (EBUSY).
        self.run_one(conn, "link.add", {"netns": a, "name": "l0", "kind": "veth",
                                        "peer": {"name": "l1", "netns": a, "up": True}},
                     {("link", a, "l0"): PRESENT, ("link", a, "l1"): PRESENT})

    def lab_script(self, conn):
        """Rename, move, an address and a route, a topology applied and destroyed.
        Raises when netnsd goes away."""
        a, b, name = self.lab_names()
        m = self.model
        m.one_of.append((("link", a, "l0"), ("link", a, "r0")))
        self.run_one(conn, "link.set", {"netns": a, "name": "l0", "rename": "r0"},
                     {("link", a, "l0"): ABSENT, ("link", a, "r0"): PRESENT})
        m.one_of.append((("link", a, "l1"), ("link", b, "l1")))
        self.run_one(conn, "link.set", {"netns": a, "name": "l1", "move_to": b, "up": True},
                     {("link", a, "l1"): ABSENT, ("link", b, "l1"): PRESENT})
        self.run_one(conn, "addr.add", {"netns": b, "dev": "l1", "address": "10.251.0.1/24"},
                     {("addr", b, "l1", "10.251.0.1/24"): PRESENT})
        self.run_one(conn, "route.add", {"netns": b, "dst": "10.250.0.0/16", "via": "10.251.0.2"},
                     {("route", b, "10.250.0.0/16"): PRESENT})
        doc = self.lab_doc()
        n1, n2 = self.prefix + "n1", self.prefix + "n2"
        m.labs[name] = {"namespaces": [n1, n2], "links": [(n1, "e0"), (n2, "e0")],
                        "addrs": [(n1, "e0", "10.253.0.1/24"), (n2, "e0", "10.253.0.2/24")],
                        "routes": [(n1, "10.252.0.0/16")], "services": [n2 + ".svc"]}
        lab = {("topology", name): PRESENT, ("netns", n1): PRESENT, ("netns", n2): PRESENT}
        self.run_one(conn, "topology.apply", {"doc": doc}, lab)
        self.run_one(conn, "topology.destroy", {"name": name},
                     {k: ABSENT for k in lab})

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
        self.kernel_marked = set()
        for name in sorted(names):
            key = ("netns", name)
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
            if self.judge(key, kern, "netns " + name, v, fix_unknown) == ABSENT:
                self.forget_inside(name)
            if kern:
                kernel_links[name] = self.check_inside(conn, name, st_links, st_addrs,
                                                       st_routes, v, fix_unknown)
        # A renamed or moved link is under exactly one of its names.
        for group in m.one_of:
            if not any(netns_mounted(k[1]) for k in group):
                continue
            there = [k for k in group if (k[1], k[2]) in self.kernel_marked]
            if len(there) != 1:
                v.append("link under %d of its names %s after restart: %s"
                         % (len(there), [k[1:] for k in group], [k[1:] for k in there]))
        v += self.check_labs(conn, st, fix_unknown)
        # Objects inside namespaces that are gone must be gone from the model too.
        for key in list(m.objs):
            if key[0] not in ("netns", "topology") and not netns_mounted(key[1]):
                if m.get(key) == PRESENT:
                    v.append("%s: acknowledged but its namespace is gone" % (key,))
                m.set(key, ABSENT)
        # Host links marked as netnsd's that its state does not know.  The host end of a
        # veth whose namespace a crashed netns.delete unmounted goes with that namespace,
        # but only once the kernel has freed it (an RCU grace period or more later, the
        # reply waited for it): give it time.
        deadline = time.time() + 10
        while True:
            orphans = [l.get("ifname", "") for l in ip_json("link") or []
                       if mine(l.get("ifname", "")) and l.get("ifalias") == LINK_MARK and
                       "/" + l.get("ifname", "") not in st_links]
            if not orphans or time.time() >= deadline:
                break
            time.sleep(0.2)
        for name in orphans:
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
        self.kernel_marked |= set((ns, l) for l in links_d)
        for name in links_d:
            if "%s/%s" % (ns, name) not in st_links:
                v.append("link %s/%s: marked netnsd but not in its state (orphan)" % (ns, name))
        # What the state holds here, the kernel has (restored or adopted at start).
        for k in st_links:
            if k.startswith(ns + "/") and k[len(ns) + 1:] not in klinks:
                v.append("link %s: in netnsd's state, not in the kernel after restart" % k)
        for k in st_addrs:
            parts = k.split("/")
            if k.startswith(ns + "/") and len(parts) >= 4 and \
                    (parts[1], "/".join(parts[2:4])) not in kaddrs:
                v.append("addr %s: in netnsd's state, not in the kernel after restart" % k)
        for dev, cidr in kaddrs:
            if dev != "lo" and cidr.startswith("10.") and "%s/%s/%s" % (ns, dev, cidr) \
                    not in st_addrs and (dev, cidr) not in na:
                v.append("addr %s/%s/%s: in the kernel, not in netnsd's state" % (ns, dev, cidr))
        for dst in kroutes:
            if dst in OUR_ROUTES and not any(k.startswith(ns + "/") and k.endswith(
                    "/" + dst + "/0") for k in st_routes):
                v.append("route %s %s: in the kernel, not in netnsd's state" % (ns, dst))
        for k in st_routes:
            parts = k.split("/")
            if k.startswith(ns + "/") and len(parts) >= 5 and parts[1] == "254" and \
                    "/".join(parts[2:4]) not in kroutes:
                v.append("route %s: in netnsd's state, not in the kernel after restart" % k)
        for key in [k for k in list(m.objs) if k[0] != "netns" and k[1] == ns]:
            if key[0] == "link":
                kern, nd = key[2] in links_d, key[2] in nl
            elif key[0] == "addr":
                kern, nd = (key[2], key[3]) in kaddrs, (key[2], key[3]) in na
            else:
                kern, nd = key[2] in kroutes, key[2] in nr
            if kern != nd:
                v.append("%s: kernel %s, netnsd %s" % (key, kern, nd))
            self.judge(key, kern, str(key), v, fix_unknown)
        return klinks

    def lab_view(self, conn, st, name, lab):
        """Which parts of lab exist after a restart: {part: bool} over netnsd's view, its
        state and the kernel, with its service processes as proc.list shows them."""
        try:
            conn.call("topology.get", {"name": name})
            got = True
        except RuntimeError:
            got = False
        parts = {"topology.get": got, "state record": name in st.get("topology", {})}
        for ns in lab["namespaces"]:
            parts["netns " + ns] = netns_mounted(ns)
        for coll in ("netns", "link", "addr", "route", "service"):
            for k, doc in st.get(coll, {}).items():
                if doc.get("topology") == name:
                    parts["stored %s %s" % (coll, k)] = True
        for ns, dev in lab["links"]:
            l = [x for x in (ip_json("link", netns=ns) if netns_mounted(ns) else None) or []
                 if x.get("ifname") == dev]
            parts["link %s/%s" % (ns, dev)] = bool(l) and l[0].get("ifalias") == LINK_MARK
        for ns, dev, cidr in lab["addrs"]:
            have = set()
            for l in (ip_json("addr", netns=ns) if netns_mounted(ns) else None) or []:
                for a in l.get("addr_info", []):
                    have.add((l["ifname"], "%s/%s" % (a["local"], a["prefixlen"])))
            parts["addr %s/%s/%s" % (ns, dev, cidr)] = (dev, cidr) in have
        for ns, dst in lab["routes"]:
            rts = (ip_json("route", netns=ns) if netns_mounted(ns) else None) or []
            parts["route %s %s" % (ns, dst)] = any(r.get("dst") == dst for r in rts)
        procs = {p["name"]: p for p in conn.call("proc.list")["processes"]
                 if p.get("topology") == name}
        for svc in lab["services"]:
            parts["service " + svc] = procs.get(svc, {}).get("state") == "running"
        extra = sorted(n for n, p in procs.items() if n not in lab["services"] and
                       p.get("state") == "running")
        if extra:
            parts["unknown services %s" % extra] = True
        return parts

    def check_labs(self, conn, st, fix_unknown, wait_s=10):
        """A topology is whole or absent after a restart, never half; acknowledged
        applies and destroys hold.  Services of a rolled back apply are stopped
        asynchronously: wait up to wait_s for the view to settle."""
        m = self.model
        v = []
        if st.get("txn"):
            v.append("unfinished topology transactions after restart: %s" % sorted(st["txn"]))
        for name, lab in m.labs.items():
            key = ("topology", name)
            want = m.get(key)
            deadline = time.time() + wait_s
            while True:
                parts = self.lab_view(conn, read_state(self.state_dir), name, lab)
                present = [p for p, there in parts.items() if there]
                whole = len(present) == len(parts)
                if (whole or not present) and (want == UNKNOWN or whole == (want == PRESENT)):
                    break
                if time.time() >= deadline:
                    break
                time.sleep(0.2)
            if not whole and present:
                v.append("topology %s half there after restart: has %s; lacks %s" % (
                    name, present, sorted(p for p, there in parts.items() if not there)))
            elif self.judge(key, whole, "topology " + name, v, fix_unknown):
                for ns in lab["namespaces"]:
                    m.set(("netns", ns), m.get(key))
        return v

    def judge(self, key, there, what, v, fix_unknown):
        """Hold the model's key against whether it is there after a restart: an
        acknowledged creation or deletion must have lasted (else a violation in v); an
        unanswered one becomes what was found, which is returned (None otherwise)."""
        want = self.model.get(key)
        if want == PRESENT and not there:
            v.append("%s: acknowledged but lost" % what)
        elif want == ABSENT and there:
            v.append("%s: deletion acknowledged but it is back" % what)
        elif want == UNKNOWN and fix_unknown:
            self.model.set(key, PRESENT if there else ABSENT)
            return self.model.get(key)
        return None

    def cleanup(self, conn):
        """Delete through netnsd everything the model holds (topologies first)."""
        for key in list(self.model.objs):
            if key[0] == "topology" and self.model.get(key) == PRESENT:
                conn.call("topology.destroy", {"name": key[1]})
                self.model.set(key, ABSENT)
                for ns in self.model.labs.get(key[1], {}).get("namespaces", []):
                    self.model.set(("netns", ns), ABSENT)
        for key in list(self.model.objs):
            if key[0] == "netns" and self.model.get(key) == PRESENT:
                conn.call("netns.delete", {"name": key[1], "grace_ms": 0})

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
