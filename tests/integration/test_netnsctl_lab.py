#!/usr/bin/env python3
"""netnsctl lab and the impairment words of netnsctl link, against a real
netnsd and the real kernel.

The example labs of contrib/labs are applied with netnsctl alone, each with
a document prefix unique to this run (the harness's PREFIX and a letter), and
checked with the kernel's own view (`ip netns list`, `ip -j addr`, ping
between the lab's own addresses).  Then the plan diff after a change (+ ~ -
and its summary), a second apply ("no changes"), export -> plan ("no
changes"), the graph in dot (checked by a small parser, and by Graphviz when
`dot` is installed) and Mermaid, the progress line, destroy (nothing left in
the kernel), errors with their exit status and document path, and link
impairments read back from `tc -j qdisc show` and `netnsctl link show`.
The 1000-node star is left to test_topology.py and the benchmark: applying
it here would double this test's time without checking anything new in the
client.
"""

import json
import os
import re
import shutil
import subprocess

from netnsd_test import (NETNSCTL, PREFIX, TOP_SRCDIR, Daemon, Skip, ip_json, ip_netns_names, main, run,
                         test, tmpdir, uniq, wait_for)
import netnsctl_test
from netnsctl_test import table

LABS = os.path.join(TOP_SRCDIR, "contrib", "labs")
_tag = [0]
_daemon = []


def daemon():
    """One netnsd for these tests, with its own runtime directory."""
    if not _daemon:
        _daemon.append(Daemon("--runtime-dir", os.path.join(tmpdir(), "run")))
    return _daemon[0]


def ctl(*args, **kw):
    return netnsctl_test.ctl(*args, socket=daemon().socket, **kw)


def ok(*args, **kw):
    return netnsctl_test.ok(*args, socket=daemon().socket, **kw)


def fails(status, *args, **kw):
    return netnsctl_test.fails(status, *args, socket=daemon().socket, **kw)


def prefix():
    """A fresh document prefix (at most 8 bytes): PREFIX and one letter."""
    _tag[0] += 1
    return PREFIX + "abcdefghjkmnpqrstuvwxyz"[_tag[0] % 23]


def lab(name, pfx):
    with open(os.path.join(LABS, name)) as f:
        doc = json.load(f)
    doc["prefix"] = pfx
    doc["name"] = pfx + doc["name"]
    return doc


def write(doc):
    path = os.path.join(tmpdir(), "lab.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def prefixed_namespaces(pfx):
    return sorted(n for n in ip_netns_names() if n.startswith(pfx))


def prefixed_host_links(pfx):
    return sorted(l["ifname"] for l in ip_json("link") if l["ifname"].startswith(pfx))


def gone(pfx):
    return not prefixed_namespaces(pfx) and not prefixed_host_links(pfx)


def addrs(ns, dev):
    return sorted("%s/%d" % (a["local"], a["prefixlen"])
                  for l in ip_json("addr", "show", "dev", dev, netns=ns)
                  for a in l.get("addr_info", []) if a.get("scope") != "link")


def ping(ns, addr):
    cmd = ["ip", "netns", "exec", ns, "ping", "-c1", "-W2", addr]
    return wait_for(lambda: subprocess.run(cmd, capture_output=True).returncode == 0,
                    timeout=10, interval=0.2)


STEP = re.compile(r"^([+~-]) (netns|link |addr |route|service) (\S+)(?:: (.*))?$")


def diff_lines(text):
    """The step lines of a plan/apply diff as (sign, kind, key, detail), and the summary."""
    lines = text.splitlines()
    steps = []
    for ln in lines[:-1]:
        m = STEP.match(ln)
        assert m, "not a step line: %r\n%s" % (ln, text)
        steps.append((m.group(1), m.group(2).strip(), m.group(3), m.group(4)))
    return steps, lines[-1]


def kinds_grouped(steps):
    order = ["netns", "link", "addr", "route", "service"]
    seen = [order.index(k) for _, k, _, _ in steps]
    return seen == sorted(seen)


@test
def test_apply_examples():
    """each small example lab: plan, apply (kernel checked, ping), apply again, list, show"""
    for name, ends in (("blue-red.json", [("blue", "10.1.1.2"), ("red", "10.1.1.1")]),
                       ("core-bridge.json", [("n1", "10.0.0.2"), ("n2", "10.0.0.1")]),
                       ("echo-service.json", [("client", "10.2.2.2")])):
        pfx = prefix()
        doc = lab(name, pfx)
        path = write(doc)
        steps, summary = diff_lines(ok("lab", "plan", path))
        assert all(s == "+" for s, _, _, _ in steps), steps
        assert kinds_grouped(steps), steps
        assert summary == "%d to create, 0 to change, 0 to delete" % len(steps), summary
        assert not prefixed_namespaces(pfx), "plan changed the kernel"
        out = ok("lab", "apply", path)
        steps2, summary = diff_lines(out)
        assert steps2 == steps, (steps, steps2)
        assert summary == "%d created, 0 changed, 0 deleted" % len(steps), summary
        assert prefixed_namespaces(pfx) == sorted(pfx + n["name"] for n in doc["nodes"])
        for node, peer in ends:
            assert ping(pfx + node, peer), "%s cannot ping %s" % (node, peer)
        if name == "echo-service.json":
            client = ["ip", "netns", "exec", pfx + "client", "python3", "-c",
                      "import socket\nc=socket.create_connection(('10.2.2.2',7),timeout=2)\n"
                      "c.sendall(b'hello')\nprint(c.recv(99).decode())"]
            assert wait_for(lambda: subprocess.run(client, capture_output=True, text=True)
                            .stdout == "hello\n", timeout=20), "the echo service does not answer"
            assert "services: echo" in ok("lab", "graph", doc["name"])
        assert ok("lab", "apply", path) == "no changes\n"
        cols, rows = table(ok("lab", "list"))
        assert cols == ["NAME", "NAMESPACES", "LINKS", "ADDRESSES", "ROUTES", "SERVICES",
                        "APPLIED"], cols
        row = [r for r in rows if r["NAME"] == doc["name"]]
        assert len(row) == 1, rows
        got = daemon().call("topology.get", {"name": doc["name"]})
        assert row[0]["NAMESPACES"] == str(len(got["objects"]["netns"])), (row, got)
        assert row[0]["LINKS"] == str(len(got["objects"]["link"])), (row, got)
        assert row[0]["SERVICES"] == str(len(got["objects"]["service"])), (row, got)
        assert row[0]["APPLIED"] == got["applied"]
        assert doc["name"] in ok("lab", "list", "--names").split()
        show = ok("lab", "show", doc["name"])
        kv = dict(re.match(r"^(\w+):\s+(.*)$", ln).groups() for ln in show.splitlines()
                  if not ln.startswith(" ") and ln != "objects:")
        assert kv["name"] == doc["name"] and kv["prefix"] == pfx and kv["busy"] == "no", kv
        assert kv["netns"] == str(len(doc["nodes"])), kv
        listed = [ln.split() for ln in show.splitlines() if ln.startswith("    ")]
        assert sorted(k for kind, k in listed if kind == "netns") == \
            sorted(got["objects"]["netns"]), listed
        assert len(listed) == sum(len(v) for v in got["objects"].values()), listed
        ok("lab", "destroy", doc["name"])
        assert wait_for(lambda: gone(pfx)), (prefixed_namespaces(pfx), prefixed_host_links(pfx))


@test
def test_ring_stdin_progress():
    """the 100-node ring from stdin with --progress: progress lines, routes, then destroy"""
    pfx = prefix()
    doc = lab("ring100.json", pfx)
    # Bytes: text mode would turn the carriage returns into newlines.
    p = subprocess.run([NETNSCTL, "-s", daemon().socket, "lab", "apply", "-", "--progress"],
                       input=json.dumps(doc).encode(), capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr
    steps, summary = diff_lines(p.stdout.decode())
    stderr = p.stderr.decode()
    assert kinds_grouped(steps)
    assert summary == "%d created, 0 changed, 0 deleted" % len(steps), summary
    assert len([s for s in steps if s[1] == "route"]) == 100, summary
    # Carriage-return updates from the topology events, ended by a newline.
    updates = stderr.split("\r")
    assert updates[0] == "", repr(stderr[:200])
    assert re.fullmatch(r"applying lab %s: 0/\d+ steps" % re.escape(doc["name"]), updates[1]), \
        repr(updates[1])
    assert updates[-1].startswith("applying lab %s: done" % doc["name"]), repr(updates[-1])
    assert stderr.endswith("\n") and stderr.count("\n") == 1, repr(stderr[-200:])
    assert len(prefixed_namespaces(pfx)) == 100
    assert ping(pfx + "r0", "10.10.50.1"), "r0 cannot reach r50 around the ring"
    # Not a terminal and no --progress: nothing on stderr.
    p = ctl("lab", "destroy", doc["name"])
    assert p.returncode == 0 and p.stderr == "", p.stderr
    steps, summary = diff_lines(p.stdout)
    assert all(s == "-" for s, _, _, _ in steps), steps
    assert summary == "0 created, 0 changed, %d deleted" % len(steps), summary
    assert wait_for(lambda: gone(pfx)), prefixed_namespaces(pfx)


@test
def test_plan_diff_and_reapply():
    """a changed document: + ~ - lines grouped by kind, the summary, then no changes"""
    pfx = prefix()
    doc = lab("core-bridge.json", pfx)
    ok("lab", "apply", write(doc))
    members = doc["bridges"][0]["members"]
    members[0]["mtu"] = 1400                    # ~ link
    members[1]["addresses"] = []                # - addr
    doc["nodes"].append({"name": "n3"})         # + netns
    path = write(doc)
    plan = ok("lab", "plan", path)
    steps, summary = diff_lines(plan)
    assert kinds_grouped(steps), plan
    assert ("+", "netns", pfx + "n3", None) in steps, plan
    assert ("-", "addr", "%sn2/eth0/10.0.0.2/24" % pfx, None) in steps, plan
    assert ("~", "link", "%sn1/eth0" % pfx, "mtu") in steps, plan
    # What sits on the changed link is made again, and says why.
    again = [s for s in steps if s[0] == "~" and s[2] == "%sn1/eth0/10.0.0.1/24" % pfx]
    assert again and "made again" in again[0][3], plan
    n = {c: len([s for s in steps if s[0] == c]) for c in "+~-"}
    assert summary == "%d to create, %d to change, %d to delete" % (n["+"], n["~"], n["-"]), plan
    raw = json.loads(ok("--json", "lab", "plan", path))
    assert (raw["create"], raw["change"], raw["delete"]) == (n["+"], n["~"], n["-"]), raw
    # The plan changed nothing; the apply does what it said.
    assert addrs(pfx + "n2", "eth0") == ["10.0.0.2/24"]
    steps2, summary = diff_lines(ok("lab", "apply", path))
    assert steps2 == steps
    assert summary == "%d created, %d changed, %d deleted" % (n["+"], n["~"], n["-"]), summary
    assert addrs(pfx + "n2", "eth0") == []
    assert ip_json("link", "show", "dev", "eth0", netns=pfx + "n1")[0]["mtu"] == 1400
    assert pfx + "n3" in prefixed_namespaces(pfx)
    assert ok("lab", "plan", path) == "no changes\n"
    assert ok("lab", "apply", path) == "no changes\n"
    # An impairment alone is changed in place.
    members[1]["impair"] = {"rate_kbit": 1000}
    steps, summary = diff_lines(ok("lab", "plan", write(doc)))
    assert steps == [("~", "link", "%sn2/eth0" % pfx, "impair (in place)")], steps
    assert summary == "0 to create, 1 to change, 0 to delete", summary
    ok("lab", "destroy", doc["name"])
    assert wait_for(lambda: gone(pfx))


@test
def test_export_round_trip():
    """export prints the document, indented; planning it again says no changes"""
    pfx = prefix()
    doc = lab("core-bridge.json", pfx)
    doc["bridges"][0]["members"][0]["impair"] = {"rate_kbit": 2000}
    ok("lab", "apply", write(doc))
    text = ok("lab", "export", doc["name"])
    assert text.startswith("{\n  \""), text[:40]
    exported = json.loads(text)
    assert exported["name"] == doc["name"] and exported["prefix"] == pfx, exported
    assert ok("lab", "plan", write(exported)) == "no changes\n"
    assert ok("lab", "plan", "-", input=text) == "no changes\n"
    assert ok("lab", "apply", "-", input=text) == "no changes\n"
    raw = json.loads(ok("--json", "lab", "export", doc["name"]))
    assert raw == {"name": doc["name"], "doc": exported}, raw
    ok("lab", "destroy", doc["name"])
    assert wait_for(lambda: gone(pfx))


def parse_dot(text):
    """A small parser for the dot netnsctl writes: (name, nodes {id: attrs}, edges)."""
    lines = text.splitlines()
    m = re.fullmatch(r'graph "((?:[^"\\]|\\.)*)" \{', lines[0])
    assert m, lines[0]
    assert lines[-1] == "}", lines[-1]
    assert lines[1] == "\tnode [shape=box];", lines[1]
    attr = r'\[((?:[a-z]+=(?:"(?:[^"\\]|\\.)*"|[a-z]+)(?:, )?)+)\];'
    nodes, edges = {}, []

    def attrs(s):
        return {k: v.strip('"') for k, v in re.findall(r'([a-z]+)=("(?:[^"\\]|\\.)*"|[a-z]+)', s)}

    for ln in lines[2:-1]:
        e = re.fullmatch(r"\t(\w+) -- (\w+) " + attr, ln)
        n = re.fullmatch(r"\t(\w+) " + attr, ln)
        if e:
            edges.append((e.group(1), e.group(2), attrs(e.group(3))))
        elif n:
            assert n.group(1) not in nodes, "node %s twice" % n.group(1)
            nodes[n.group(1)] = attrs(n.group(2))
        else:
            raise AssertionError("not a dot statement: %r" % ln)
    for a, b, _ in edges:
        assert a in nodes and b in nodes, "edge %s -- %s to an undeclared node" % (a, b)
    return m.group(1), nodes, edges


@test
def test_graph():
    """lab graph: dot (parsed; dot -Tsvg when installed) and Mermaid, with impairments"""
    pfx = prefix()
    doc = lab("core-bridge.json", pfx)
    doc["nodes"].append({"name": "n3"})
    doc["links"] = [{"ends": [
        {"node": "n1", "name": "eth1", "addresses": ["10.2.0.1/24"],
         "impair": {"rate_kbit": 1000}},
        {"node": "n3", "name": "eth1", "addresses": ["10.2.0.3/24"]}]}]
    ok("lab", "apply", write(doc))
    dot = ok("lab", "graph", doc["name"])
    assert dot == ok("lab", "graph", doc["name"], "format", "dot")
    name, nodes, edges = parse_dot(dot)
    assert name == doc["name"]
    boxes = {k: v for k, v in nodes.items() if "shape" not in v}
    bridges = {k: v for k, v in nodes.items() if v.get("shape") == "ellipse"}
    assert sorted(v["label"] for v in boxes.values()) == \
        ["n%d\\n(%sn%d)" % (i, pfx, i) for i in (1, 2, 3)], boxes
    assert [v["label"] for v in bridges.values()] == ["%sb.1.1\\nbridge" % pfx], bridges
    ids = {v["label"].split("\\n")[0]: k for k, v in nodes.items()}
    veth = [e for e in edges if bridges.keys().isdisjoint(e[:2])]
    assert len(veth) == 1 and {veth[0][0], veth[0][1]} == {ids["n1"], ids["n3"]}, edges
    assert veth[0][2]["label"] == "eth1 10.2.0.1/24 (rate 1mbit)\\neth1 10.2.0.3/24", veth
    members = sorted((e[0], e[2]["label"]) for e in edges if e[1] in bridges)
    assert members == [(ids["n1"], "eth0 10.0.0.1/24\\nport %sn1.0.1" % pfx),
                       (ids["n2"], "eth0 10.0.0.2/24\\nport %sn2.0.1" % pfx)], members
    if shutil.which("dot"):
        svg = run(["dot", "-Tsvg"], input=dot).stdout
        assert "<svg" in svg and svg.count("class=\"edge\"") == 3, svg[:300]
    mer = ok("lab", "graph", doc["name"], "format", "mermaid")
    lines = mer.splitlines()
    assert lines[0] == "graph LR", lines[0]
    decl = {}
    links = []
    for ln in lines[1:]:
        n = re.fullmatch(r'    (\w+)(\["|\(\[")([^"]*)("\]|"\]\))', ln)
        e = re.fullmatch(r'    (\w+) ---\|"([^"]*)"\| (\w+)', ln)
        if n:
            decl[n.group(1)] = n.group(3)
        elif e:
            links.append((e.group(1), e.group(3), e.group(2)))
        else:
            raise AssertionError("not a Mermaid statement: %r" % ln)
    assert len(decl) == 4 and len(links) == 3, mer
    assert all(a in decl and b in decl for a, b, _ in links), mer
    assert "eth1 10.2.0.1/24 (rate 1mbit)<br/>eth1 10.2.0.3/24" in [l[2] for l in links], mer
    assert json.loads(ok("--json", "lab", "graph", doc["name"]))["name"] == doc["name"]
    ok("lab", "destroy", doc["name"])
    assert wait_for(lambda: gone(pfx))


@test
def test_destroy_leaves_nothing():
    """destroy: every namespace and host link of the lab gone, the lab forgotten"""
    pfx = prefix()
    doc = lab("core-bridge.json", pfx)
    ok("lab", "apply", write(doc))
    assert prefixed_host_links(pfx), "the lab made no host links?"
    steps, summary = diff_lines(ok("lab", "destroy", doc["name"]))
    assert all(s == "-" for s, _, _, _ in steps) and kinds_grouped(steps), steps
    assert summary == "0 created, 0 changed, %d deleted" % len(steps), summary
    assert gone(pfx), (prefixed_namespaces(pfx), prefixed_host_links(pfx))
    assert doc["name"] not in ok("lab", "list", "--names").split()
    err = fails(1, "lab", "show", doc["name"])
    assert "(field: name)" in err, err
    fails(1, "lab", "destroy", doc["name"])


@test
def test_errors():
    """bad documents exit 1 naming the path; usage errors exit 2; nothing is made"""
    pfx = prefix()
    doc = lab("blue-red.json", pfx)
    doc["nodes"][0]["bogus"] = 1
    err = fails(1, "lab", "plan", write(doc))
    assert err.rstrip().endswith("(field: doc.nodes[0].bogus)"), err
    doc = lab("blue-red.json", pfx)
    doc["links"][0]["ends"][1]["node"] = "nowhere"
    err = fails(1, "lab", "apply", write(doc))
    assert "(field: doc.links[0].ends[1].node)" in err, err
    err = fails(1, "lab", "apply", "-", input="{\"name\": ")
    assert "standard input is not a JSON document" in err, err
    err = fails(1, "lab", "plan", "/nonexistent/lab.json")
    assert "/nonexistent/lab.json" in err, err
    # Two documents naming themselves differently.
    err = fails(1, "lab", "plan", write(lab("blue-red.json", pfx)), "name", pfx + "other")
    assert "(field: name)" in err or "(field: doc.name)" in err, err
    for args in (("lab", "plan"), ("lab", "apply", "a", "b"), ("lab", "destroy"),
                 ("lab", "destroy", "a", "b"), ("lab", "graph", "x", "format", "png"),
                 ("lab", "graph", "x", "format"), ("lab", "export"), ("lab", "list", "x"),
                 ("lab", "apply", "x", "--progress=yes"), ("lab", "bogus")):
        err = fails(2, *args)
        assert "Try 'netnsctl lab" in err, (args, err)
    assert not prefixed_namespaces(pfx)


def qdisc(ns, dev):
    q = [x for x in json.loads(run(["tc", "-j", "-n", ns, "qdisc", "show", "dev", dev]).stdout)
         if x.get("root")]
    return q[0] if q else None


def link_show(ns, dev):
    text = ok("-n", ns, "link", "show", dev)
    return dict(re.match(r"^(\w+):\s+(.*)$", ln).groups() for ln in text.splitlines())


@test
def test_link_impair():
    """link set/add impairments: tc's view, link show, link list's IMPAIR column, noimpair"""
    if not shutil.which("tc"):
        raise Skip("tc (iproute2) is not installed: no kernel view of qdiscs")
    ns = uniq("q")
    ok("netns", "add", ns)
    ok("-n", ns, "link", "add", "a0", "type", "veth", "up", "rate", "2mbit",
       "peer", "a1", "up", "rate", "3mbit")
    q0, q1 = qdisc(ns, "a0"), qdisc(ns, "a1")
    assert q0["kind"] == "tbf" and q0["options"]["rate"] == 250000, q0
    assert q1["kind"] == "tbf" and q1["options"]["rate"] == 375000, q1
    ok("-n", ns, "link", "set", "a0", "rate", "1mbit")
    q0 = qdisc(ns, "a0")
    assert q0["kind"] == "tbf" and q0["options"]["rate"] == 125000, q0
    kv = link_show(ns, "a0")
    assert kv["impair"] == "rate 1mbit" and kv["name"] == "a0" and kv["namespace"] == ns, kv
    assert kv["peer"] == "a1@" + ns and kv["kind"] == "veth", kv
    got = json.loads(ok("--json", "-n", ns, "link", "show", "dev", "a0"))
    assert got["impair"] == {"rate_kbit": 1000}, got
    cols, rows = table(ok("-n", ns, "link", "list"))
    assert cols[-1] == "IMPAIR", cols
    assert {r["NAME"]: r["IMPAIR"] for r in rows} == \
        {"lo": "-", "a0": "rate 1mbit", "a1": "rate 3mbit"}, rows
    # netem (delay, loss ...): applied where the kernel has it, else refused changing nothing.
    p = ctl("-n", ns, "link", "set", "a0", "delay", "10ms", "jitter", "2ms", "loss", "1%")
    if p.returncode == 0:
        q0 = qdisc(ns, "a0")
        assert q0["kind"] == "netem", q0
        assert link_show(ns, "a0")["impair"] == "delay 10ms jitter 2ms loss 1%"
    else:
        assert p.returncode == 1 and "(field: impair)" in p.stderr, p.stderr
        assert qdisc(ns, "a0")["options"]["rate"] == 125000
    ok("-n", ns, "link", "set", "a0", "noimpair")
    q0 = qdisc(ns, "a0")
    assert q0 is None or q0["kind"] not in ("tbf", "netem"), q0
    assert link_show(ns, "a0")["impair"] == "none"
    ok("-n", ns, "link", "set", "a1", "noimpair")
    cols, _ = table(ok("-n", ns, "link", "list"))
    assert "IMPAIR" not in cols, cols
    # tc's units, checked before anything is sent.
    for words in (("delay", "10"), ("rate", "1500bit"), ("rate", "fast"), ("loss", "1 %"),
                  ("noimpair", "rate", "1mbit"), ("rate", "1mbit", "rate", "2mbit")):
        err = fails(2, "-n", ns, "link", "set", "a0", *words)
        assert "link set:" in err, err
    assert link_show(ns, "a0")["impair"] == "none"
    err = fails(1, "-n", ns, "link", "show", "nosuch")
    assert "(field: name)" in err, err
    ok("netns", "delete", ns)


if __name__ == "__main__":
    raise SystemExit(main())
