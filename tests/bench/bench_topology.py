#!/usr/bin/env python3
"""netnsd topology benchmark (issue 8): applying and destroying whole labs.

Normally started by tests/bench/run-driver.sh topology, which builds
lab-floor.  See README.topology for what is measured and how to read it.

Labs:
  star N   N nodes on one bridge in the host: per node a namespace (lo up),
           a veth (eth0 inside with 10.O.X.Y/16, the host end on the bridge),
           both ends up and without IPv6 link-local addresses: exactly what
           lab-floor builds, so the floor is the same job.
  ring N   N routed nodes in a ring (contrib/labs/gen.py ring): per node a
           namespace with ip_forward, two veth ends with an address each and
           one static route.  No floor program exists for it; it is compared
           with ip -batch and a shell script.

Methods (same run, same machine):
  floor      lab-floor.c (star only): the fewest syscalls and rtnetlink
             messages; teardown unmounts and waits for the kernel.
  netnsd     one topology.apply of the lab's document on a fresh netnsd
             (state on disk), one topology.destroy.
  ip -batch  one `ip -batch` for the host side and one `ip -n NS -batch` per
             namespace; teardown one `ip -batch` of `netns del`.
  shell      a seed-style sh -e script, one ip process per command.
Plus: topology.plan of the unchanged largest star (median of 5).

Targets (printed PASS/MISS; a MISS never fails the run): apply of the star
at the largest N within 2.5x of the floor; netnsd's per-node apply cost at the
largest N within 1.3x of the smallest; destroy within 2x of the floor's
teardown; plan of an unchanged largest star under 100 ms.  The last line of
stdout is one JSON object with every figure.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Broken, loadavg, log, rpc_call, settle, task_sched_ns  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
P = "bt%04x" % (os.getpid() & 0xFFFF)


def star_doc(n, tag, octet):
    """The lab-floor star as a topology: namespaces P+tag+"n"+I, host ends P+tag+"h"+I."""
    members = [{"node": "n%d" % i, "name": "eth0", "port": "h%d" % i, "ipv6_ll": False,
                "addresses": ["10.%d.%d.%d/16" % (octet, (i + 1) // 256, (i + 1) % 256)]}
               for i in range(n)]
    return {"name": P + tag + "star", "prefix": P + tag,
            "nodes": [{"name": "n%d" % i} for i in range(n)],
            "bridges": [{"name": "br", "members": members}]}


def ring_doc(n, tag):
    out = subprocess.run([sys.executable, os.path.join(TOP, "contrib", "labs", "gen.py"), "ring",
                          str(n)], check=True, capture_output=True, text=True).stdout
    doc = json.loads(out)
    doc["prefix"] = P + tag
    doc["name"] = P + tag + "ring"
    for link in doc["links"]:
        for e in link["ends"]:
            e["ipv6_ll"] = False
    return doc


def namespaces(prefix):
    try:
        return [n for n in os.listdir("/run/netns") if n.startswith(prefix)]
    except FileNotFoundError:
        return []


def host_links(prefix):
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    names = []
    for line in out.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name.startswith(prefix):
            names.append(name)
    return names


def wait_gone(prefix, timeout=120):
    t0 = time.monotonic()
    while namespaces(prefix) or host_links(prefix):
        if time.monotonic() - t0 > timeout:
            raise Broken("objects with prefix %s still there after %ds" % (prefix, timeout))
        time.sleep(0.001)


def cleanup(prefix):
    for ns in namespaces(prefix):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    for l in host_links(prefix):
        subprocess.run(["ip", "link", "del", l], capture_output=True)


def run(cmd, what, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise Broken("%s failed: %s" % (what, (p.stderr or p.stdout)[-500:]))
    return p


class Netnsd:
    def __init__(self, binary, base):
        self.dir = tempfile.mkdtemp(prefix="netnsd-bench-topo-", dir=base)
        self.sock = os.path.join(self.dir, "netnsd.sock")
        self.log = open(os.path.join(self.dir, "netnsd.log"), "wb")
        self.proc = subprocess.Popen(
            [binary, "--socket", self.sock, "--state-dir", os.path.join(self.dir, "state"),
             "--runtime-dir", os.path.join(self.dir, "run"), "--log-level", "notice",
             "--max-namespaces", "100000"],
            stdout=self.log, stderr=self.log)
        t0 = time.monotonic()
        while True:
            try:
                rpc_call(self.sock, "daemon.ping", timeout=5)
                break
            except (OSError, Broken):
                if self.proc.poll() is not None or time.monotonic() - t0 > 15:
                    raise Broken("netnsd did not start (see %s)" % self.dir)
                time.sleep(0.02)

    def call(self, method, params=None):
        return rpc_call(self.sock, method, params, timeout=900)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def timed(fn):
    t0 = time.monotonic()
    r = fn()
    return time.monotonic() - t0, r


def bench_floor(args, n, tag, octet):
    prefix = P + tag
    br = prefix + "br"
    run(["ip", "link", "add", br, "type", "bridge"], "bridge")
    run(["ip", "link", "set", br, "up"], "bridge up")
    try:
        p = run([os.path.join(args.bin_dir, "lab-floor"), "build", prefix + "n", str(n), br,
                 str(octet)], "lab-floor build")
        build = json.loads(p.stdout.strip().splitlines()[-1])
        settle(args.settle)
        p = run([os.path.join(args.bin_dir, "lab-floor"), "delete", prefix + "n", str(n),
                 "--mode", "wait"], "lab-floor delete")
        delete = json.loads(p.stdout.strip().splitlines()[-1])
    finally:
        subprocess.run(["ip", "link", "del", br], capture_output=True)
        cleanup(prefix)
    return build["total_ns"] / 1e9, delete["total_ns"] / 1e9


def bench_netnsd(args, d, doc, plan_reps=0):
    prefix = doc["prefix"]
    cpu0, _ = task_sched_ns(d.proc.pid)
    t_apply, r = timed(lambda: d.call("topology.apply", {"doc": doc}))
    cpu1, _ = task_sched_ns(d.proc.pid)
    if r["changed"] == 0:
        raise Broken("apply changed nothing")
    plans = []
    for _ in range(plan_reps):
        t, p = timed(lambda: d.call("topology.plan", {"doc": doc}))
        if p["changed"] != 0:
            raise Broken("plan of the unchanged lab is not empty")
        plans.append(t)
    settle(args.settle)
    t_destroy, _ = timed(lambda: (d.call("topology.destroy", {"name": doc["name"]}),
                                  wait_gone(prefix)))
    return t_apply, t_destroy, (cpu1 - cpu0) / 1e9, sorted(plans)


def star_ip_lines(doc):
    """(host batch, {ns: batch}) for the star."""
    prefix = doc["prefix"]
    br = prefix + "br"
    host = ["link add %s type bridge" % br, "link set %s up" % br]
    inside = {}
    for m in doc["bridges"][0]["members"]:
        ns, h = prefix + m["node"], prefix + m["port"]
        host += ["netns add %s" % ns,
                 "link add %s type veth peer name eth0 netns %s" % (h, ns),
                 "link set %s master %s addrgenmode none up" % (h, br)]
        inside[ns] = ["link set lo up", "link set eth0 addrgenmode none up",
                      "addr add %s dev eth0" % m["addresses"][0]]
    return host, inside


def ring_ip_lines(doc):
    prefix = doc["prefix"]
    host, inside = [], {}
    for n in doc["nodes"]:
        ns = prefix + n["name"]
        host.append("netns add %s" % ns)
        inside[ns] = ["link set lo up"]
    for i, l in enumerate(doc["links"]):
        a, b = l["ends"]
        tmp = "%sx%d" % (prefix, i)
        host += ["link add %s type veth peer name %s netns %s" % (tmp, b["name"], prefix + b["node"]),
                 "link set %s netns %s name %s" % (tmp, prefix + a["node"], a["name"])]
        for e in (a, b):
            ns = prefix + e["node"]
            inside[ns] += ["link set %s addrgenmode none up" % e["name"],
                           "addr add %s dev %s" % (e["addresses"][0], e["name"])]
    for n in doc["nodes"]:
        ns = prefix + n["name"]
        inside[ns] += ["route add %s via %s" % (r["dst"], r["via"]) for r in n["routes"]]
    sysctls = {n["name"]: n.get("sysctls", {}) for n in doc["nodes"]}
    return host, inside, sysctls


def ip_batch_build(host, inside, workdir, sysctls=None):
    path = os.path.join(workdir, "host.batch")
    with open(path, "w") as f:
        f.write("\n".join(host) + "\n")
    run(["ip", "-batch", path], "ip -batch (host)")
    for ns, lines in inside.items():
        if sysctls:
            for k, v in sysctls.get(ns, {}).items():
                run(["ip", "netns", "exec", ns, "sysctl", "-qw", "%s=%s" % (k, v)], "sysctl")
        p = os.path.join(workdir, "ns.batch")
        with open(p, "w") as f:
            f.write("\n".join(lines) + "\n")
        run(["ip", "-n", ns, "-batch", p], "ip -n %s -batch" % ns)


def ip_batch_destroy(prefix, workdir, extra=()):
    path = os.path.join(workdir, "del.batch")
    with open(path, "w") as f:
        f.write("\n".join(["netns del %s" % ns for ns in namespaces(prefix)] +
                          ["link del %s" % l for l in extra]) + "\n")
    run(["ip", "-batch", path], "ip -batch (delete)")
    wait_gone(prefix)


def shell_script(host, inside, sysctls=None):
    """Seed style: one ip process per command (what people type)."""
    lines = ["set -e"]
    lines += ["ip %s" % l for l in host]
    for ns, cmds in inside.items():
        for k, v in (sysctls or {}).get(ns, {}).items():
            lines.append("ip netns exec %s sysctl -qw %s=%s" % (ns, k, v))
        lines += ["ip -n %s %s" % (ns, c) for c in cmds]
    return "\n".join(lines) + "\n"


def bench_ip(args, lines_fn, doc, shell):
    prefix = doc["prefix"]
    work = tempfile.mkdtemp(prefix="netnsd-bench-ip-")
    res = lines_fn(doc)
    host, inside = res[0], res[1]
    sysctls = {prefix + k: v for k, v in res[2].items()} if len(res) > 2 else None
    extra = [prefix + "br"] if doc.get("bridges") else []
    try:
        if shell:
            path = os.path.join(work, "lab.sh")
            with open(path, "w") as f:
                f.write(shell_script(host, inside, sysctls))
            t_build, _ = timed(lambda: run(["sh", path], "shell script"))
        else:
            t_build, _ = timed(lambda: ip_batch_build(host, inside, work, sysctls))
        settle(args.settle)
        t_del, _ = timed(lambda: ip_batch_destroy(prefix, work, extra))
    finally:
        cleanup(prefix)
        shutil.rmtree(work, ignore_errors=True)
    return t_build, t_del


def ratio(a, b):
    return a / b if b else float("inf")


def verdict(ok):
    return "PASS" if ok else "MISS"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--netnsd", required=True)
    ap.add_argument("--bin-dir", required=True, help="directory holding lab-floor")
    ap.add_argument("--sizes", default="100,1000", help="star sizes (default 100,1000)")
    ap.add_argument("--ring", type=int, default=100, help="ring size (default 100; 0: none)")
    ap.add_argument("--shell-max", type=int, default=100,
                    help="largest N for the shell script (default 100: it takes minutes)")
    ap.add_argument("--settle", type=float, default=0.5)
    ap.add_argument("--state-dir-base", default="/var/tmp")
    ap.add_argument("--quick", action="store_true", help="smoke run: stars of 10 and 50, ring 10")
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.ring = "10,50", 10
    sizes = [int(x) for x in args.sizes.split(",")]
    if os.geteuid() != 0:
        log("bench_topology: SKIP: needs root")
        return 77
    results = {"sizes": sizes, "load_before": loadavg(), "star": {}, "ring": {}}
    d = None
    try:
        d = Netnsd(args.netnsd, args.state_dir_base)
        for i, n in enumerate(sizes):
            row = {}
            log("star %d: floor" % n)
            settle(args.settle)
            row["floor"] = bench_floor(args, n, "f%d" % i, 71)
            log("star %d: netnsd" % n)
            settle(args.settle)
            a, dd, cpu, plans = bench_netnsd(args, d, star_doc(n, "n%d" % i, 72),
                                             5 if n == max(sizes) else 0)
            row["netnsd"] = (a, dd)
            row["netnsd_cpu_apply"] = cpu
            if plans:
                results["plan_unchanged_s"] = plans[len(plans) // 2]
            log("star %d: ip -batch" % n)
            settle(args.settle)
            row["ip_batch"] = bench_ip(args, star_ip_lines, star_doc(n, "b%d" % i, 73), False)
            if n <= args.shell_max:
                log("star %d: shell" % n)
                settle(args.settle)
                row["shell"] = bench_ip(args, star_ip_lines, star_doc(n, "s%d" % i, 74), True)
            results["star"][n] = row
        if args.ring:
            n = args.ring
            row = {}
            log("ring %d: netnsd" % n)
            settle(args.settle)
            a, dd, cpu, _ = bench_netnsd(args, d, ring_doc(n, "rn"))
            row["netnsd"] = (a, dd)
            log("ring %d: ip -batch" % n)
            settle(args.settle)
            row["ip_batch"] = bench_ip(args, ring_ip_lines, ring_doc(n, "rb"), False)
            if n <= args.shell_max:
                log("ring %d: shell" % n)
                settle(args.settle)
                row["shell"] = bench_ip(args, ring_ip_lines, ring_doc(n, "rs"), True)
            results["ring"][n] = row
    except Broken as e:
        log("bench_topology: broken: %s" % e)
        return 1
    finally:
        if d:
            d.stop()
        cleanup(P)

    print("Topology benchmark (pid prefix %s), load before: %s" % (P, results["load_before"]))
    print("\n%-28s %14s %14s %14s %14s" % ("lab / method", "apply ms/node", "destroy ms/node",
                                           "apply total s", "destroy total s"))
    for kind in ("star", "ring"):
        for n, row in results[kind].items():
            for method in ("floor", "netnsd", "ip_batch", "shell"):
                if method in row:
                    b, t = row[method]
                    print("%-28s %14.3f %14.3f %14.2f %14.2f" % (
                        "%s %d / %s" % (kind, n, method), b * 1000 / n, t * 1000 / n, b, t))
    big, small = max(sizes), min(sizes)
    star = results["star"]
    checks = []
    ra = ratio(star[big]["netnsd"][0], star[big]["floor"][0])
    checks.append(("apply star %d vs floor" % big, ra, 2.5, ra <= 2.5))
    flat = ratio(star[big]["netnsd"][0] / big, star[small]["netnsd"][0] / small)
    checks.append(("netnsd per-node apply, N=%d vs N=%d" % (big, small), flat, 1.3, flat <= 1.3))
    rd = ratio(star[big]["netnsd"][1], star[big]["floor"][1])
    checks.append(("destroy star %d vs floor" % big, rd, 2.0, rd <= 2.0))
    plan_ms = results.get("plan_unchanged_s", 0) * 1000
    checks.append(("plan unchanged star %d, ms" % big, plan_ms, 100, plan_ms < 100))
    print("\nTargets")
    for name, value, target, ok in checks:
        print("  %-44s %8.2f (target %s) %s" % (name, value, target, verdict(ok)))
    print("\nInformational ratios")
    for kind in ("star", "ring"):
        for n, row in results[kind].items():
            for m in ("ip_batch", "shell"):
                if m in row:
                    print("  %s %d: %s / netnsd: apply %.2fx, destroy %.2fx" % (
                        kind, n, m, ratio(row[m][0], row["netnsd"][0]),
                        ratio(row[m][1], row["netnsd"][1])))
    for n in sizes:
        print("  netnsd CPU of the star %d apply: %.2f s, %.3f ms/node (wall %.2f s)" % (
            n, star[n]["netnsd_cpu_apply"], star[n]["netnsd_cpu_apply"] * 1000 / n,
            star[n]["netnsd"][0]))
    print("  per-node CPU, N=%d vs N=%d: %.2f (the wall-clock ratio above includes the "
          "kernel's own scaling and other users' load)" % (
              big, small, ratio(star[big]["netnsd_cpu_apply"] / big,
                                star[small]["netnsd_cpu_apply"] / small)))
    print("  floor per-node build, N=%d vs N=%d: %.2f" % (
        big, small, ratio(star[big]["floor"][0] / big, star[small]["floor"][0] / small)))
    results["checks"] = [{"name": c[0], "value": c[1], "target": c[2], "ok": c[3]} for c in checks]
    results["load_after"] = loadavg()
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
