#!/usr/bin/env python3
"""netnsd multi-host benchmark (issue 11): labs across simulated hosts.

Normally started by tests/bench/run-driver.sh multihost.  See
README.multihost for what is measured and how to read it.

Hosts: two simulated hosts (tests/lib/simhost.py: each a network + mount
namespace with its own /run and its own netnsd, state on a tmpfs-free temp
dir), on one veth underlay segment in 198.18.0.0/15.

Figures (same run, same machine):
  apply/destroy  contrib/labs/gen.py ring N (N routed nodes, N veth links,
                 a route each) applied by one topology.apply and removed by
                 one topology.destroy: on one host (all nodes on host a), and
                 across two (nodes 0..N/2-1 on a, the rest on b, so two ring
                 links cross hosts as VXLAN pairs).  Median of --runs.
  rtt            ping between two nodes joined by a veth on one host, and
                 between two nodes joined by a cross-host VXLAN pair (the
                 underlay is a veth pair through a bridge), --pings each at
                 10 ms intervals; the average RTT of each and the ratio.

Target (printed PASS/MISS; a MISS never fails the run): the two-host apply
within 1.5x of the one-host apply.  The last line of stdout is one JSON
object with every figure.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, HERE)

from benchlib import loadavg, log  # noqa: E402


def ring_doc(n, name, hosts):
    out = subprocess.run([sys.executable, os.path.join(TOP, "contrib", "labs", "gen.py"),
                          "ring", str(n)], check=True, capture_output=True, text=True).stdout
    doc = json.loads(out)
    doc["name"] = name
    for link in doc["links"]:
        for e in link["ends"]:
            e["ipv6_ll"] = False
    if hosts:
        for i, node in enumerate(doc["nodes"]):
            if i >= n // 2:
                node["host"] = "b"
    return doc


def timed(fn):
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


def avg_rtt(host, ns, dst, count):
    out = host.node(ns, "ping", "-q", "-c", str(count), "-i", "0.01", "-W", "2", dst).stdout
    m = re.search(r"= [\d.]+/([\d.]+)/", out)
    if not m:
        raise RuntimeError("no RTT in: " + out)
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--netnsd", help="the netnsd to run (default: $NETNSD or ./daemon/netnsd)")
    ap.add_argument("--nodes", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pings", type=int, default=200)
    ap.add_argument("--quick", action="store_true", help="20 nodes, 1 run, 20 pings")
    args = ap.parse_args()
    if args.quick:
        args.nodes, args.runs, args.pings = 20, 1, 20
    if os.geteuid() != 0:
        log("bench_multihost: SKIP: needs root")
        return 77

    if args.netnsd:
        os.environ["NETNSD"] = os.path.abspath(args.netnsd)
    import netnsd_test as T  # noqa: E402  (reads $NETNSD; installs its cleanup)
    import simhost  # noqa: E402

    sw = simhost.Switch()
    a, b = simhost.SimHost("a"), simhost.SimHost("b")
    ua, ub = sw.plug(a), sw.plug(b)
    a.call("peer.add", {"name": "b", "socket": b.socket,
                        "underlay": {"local": ua, "remote": ub, "dev": "ul0"}})
    log("load before: %s" % loadavg())

    fig = {"nodes": args.nodes, "runs": args.runs}
    for label, hosts in (("one_host", False), ("two_hosts", True)):
        applies, destroys = [], []
        for r in range(args.runs):
            name = "%sr%d%s" % (T.PREFIX, r, "m" if hosts else "s")
            doc = ring_doc(args.nodes, name, hosts)
            applies.append(timed(lambda: a.call("topology.apply", {"doc": doc})))
            if r == 0:
                # The lab works: the middle node pings its neighbour (across the
                # hosts in the two-host lab).
                mid = args.nodes // 2
                host = b if hosts else a
                host.node("r%d" % mid, "ping", "-c", "1", "-W", "2", "10.10.%d.1" % (mid - 1))
            destroys.append(timed(lambda: a.call("topology.destroy", {"name": name})))
            if a.netns_names() or b.netns_names():
                raise RuntimeError("destroy left namespaces behind")
        fig[label] = {"apply_s": statistics.median(applies),
                      "destroy_s": statistics.median(destroys)}
        log("%-9s apply %6.3f s  destroy %6.3f s  (median of %d, %d nodes)" %
            (label, fig[label]["apply_s"], fig[label]["destroy_s"], args.runs, args.nodes))
    fig["apply_ratio"] = fig["two_hosts"]["apply_s"] / fig["one_host"]["apply_s"]
    fig["destroy_ratio"] = fig["two_hosts"]["destroy_s"] / fig["one_host"]["destroy_s"]

    # RTT: veth on one host against the VXLAN pair across hosts.
    name = T.PREFIX + "rtt"
    doc = {"name": name, "nodes": [{"name": "v1"}, {"name": "v2"}, {"name": "x1"},
                                   {"name": "x2", "host": "b"}],
           "links": [{"ends": [{"node": "v1", "name": "e0", "addresses": ["10.91.0.1/24"]},
                               {"node": "v2", "name": "e0", "addresses": ["10.91.0.2/24"]}]},
                     {"ends": [{"node": "x1", "name": "e0", "addresses": ["10.92.0.1/24"]},
                               {"node": "x2", "name": "e0", "addresses": ["10.92.0.2/24"]}]}]}
    a.call("topology.apply", {"doc": doc})
    try:
        avg_rtt(a, "v1", "10.91.0.2", 3)  # neighbours resolved before timing
        avg_rtt(a, "x1", "10.92.0.2", 3)
        veth = avg_rtt(a, "v1", "10.91.0.2", args.pings)
        vxlan = avg_rtt(a, "x1", "10.92.0.2", args.pings)
    finally:
        a.call("topology.destroy", {"name": name})
    fig["rtt_ms"] = {"veth": veth, "vxlan": vxlan, "ratio": vxlan / veth}
    log("rtt       veth %.3f ms  vxlan %.3f ms  ratio %.2f (%d pings each)" %
        (veth, vxlan, vxlan / veth, args.pings))
    log("apply     two hosts / one host = %.2fx (target <= 1.5x): %s" %
        (fig["apply_ratio"], "PASS" if fig["apply_ratio"] <= 1.5 else "MISS"))
    log("destroy   two hosts / one host = %.2fx" % fig["destroy_ratio"])
    log("load after: %s" % loadavg())
    print(json.dumps(fig))
    return 0


if __name__ == "__main__":
    sys.exit(main())
