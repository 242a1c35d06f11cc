#!/usr/bin/env python3
"""Generate the large example labs: ring.json (N routed nodes in a ring) and
star.json (N nodes on one bridge in a hub namespace).

    contrib/labs/gen.py ring 100 > contrib/labs/ring100.json
    contrib/labs/gen.py star 1000 > contrib/labs/star1000.json

Addresses are in 10.0.0.0/8, inside the lab's own namespaces only.
"""
import json
import sys


def ring(n):
    """Node i: eth0 towards i-1, eth1 towards i+1 on 10.10.i.0/30-style /24s;
    every node forwards and sends all of 10.10.0.0/16 clockwise, so node 0
    reaches node n/2 over n/2 hops and the answer comes back the other way."""
    if n > 250:
        raise SystemExit("ring: at most 250 nodes (one /24 per link in 10.10.0.0/16)")
    sysctls = {"net.ipv4.ip_forward": 1, "net.ipv4.conf.all.rp_filter": 0,
               "net.ipv4.conf.default.rp_filter": 0}
    nodes = [{"name": "r%d" % i, "sysctls": sysctls,
              "routes": [{"dst": "10.10.0.0/16", "via": "10.10.%d.2" % i}]}
             for i in range(n)]
    links = [{"ends": [{"node": "r%d" % i, "name": "eth1", "addresses": ["10.10.%d.1/24" % i]},
                       {"node": "r%d" % ((i + 1) % n), "name": "eth0",
                        "addresses": ["10.10.%d.2/24" % i]}]}
             for i in range(n)]
    return {"name": "ring%d" % n, "nodes": nodes, "links": links}


def star(n):
    """A hub namespace with bridge br0 and n nodes on it, 10.20.0.0/16."""
    if n > 60000:
        raise SystemExit("star: at most 60000 nodes")
    members = [{"node": "s%d" % i, "name": "eth0",
                "addresses": ["10.20.%d.%d/16" % ((i + 1) // 256, (i + 1) % 256)]}
               for i in range(n)]
    nodes = [{"name": "hub"}] + [{"name": "s%d" % i} for i in range(n)]
    return {"name": "star%d" % n, "nodes": nodes,
            "bridges": [{"name": "br0", "node": "hub", "members": members}]}


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("ring", "star"):
        raise SystemExit("usage: gen.py ring|star N")
    doc = (ring if sys.argv[1] == "ring" else star)(int(sys.argv[2]))
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")
