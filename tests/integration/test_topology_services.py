#!/usr/bin/env python3
"""Integration tests of the services of topologies (nodes[].services).

A lab with a service per node (a Python TCP echo server bound to the node's
address, a client reaching it from the other node through `ip netns exec`)
is applied, applied again (same pids), changed (only the changed service is
restarted), exported, and destroyed (payloads and shims gone).  A start
failure after other services started rolls them back, and a service the
failed apply had stopped for a change runs again as it was.  kill -9 of
netnsd: the services are adopted (same pids); a simulated reboot: they are
started again, still tagged with their topology.  kill -9 in the middle of
an apply that starts services: after the restart all of it or none.

Processes that outlive a netnsd are reparented to this test process, which
makes itself a child subreaper, ends them by pid and reaps them.
"""

import copy
import ctypes
import json
import os
import signal
import subprocess

from netnsd_test import (PREFIX, TOP_SRCDIR, Daemon, journal_state, kill_and_reap, main, proc_alive,
                         run, shims_of, simulate_reboot, test,
                         tmpdir, wait_for)

LABS = os.path.join(TOP_SRCDIR, "contrib", "labs")
PR_SET_CHILD_SUBREAPER = 36
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
_tag = [0]

ECHO = ("import socket,sys\n"
        "s=socket.socket()\n"
        "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
        "s.bind((sys.argv[1],int(sys.argv[2])))\n"
        "s.listen()\n"
        "while True:\n"
        " c,_=s.accept()\n"
        " c.sendall(sys.argv[3].encode()+c.recv(100))\n"
        " c.close()\n")

CLIENT = ("import socket,sys\n"
          "c=socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=2)\n"
          "c.sendall(b'ping')\n"
          "print(c.recv(100).decode())\n")


def prefix():
    _tag[0] += 1
    return PREFIX + "SVCXYZ"[_tag[0] % 6] + str(_tag[0] // 6)


def echo(addr, tag):
    return {"name": "echo", "argv": ["python3", "-c", ECHO, addr, "7007", tag],
            "stdout": "null", "stderr": "null"}


def lab(pfx):
    """blue/red with an echo server in each node."""
    with open(os.path.join(LABS, "blue-red.json")) as f:
        doc = json.load(f)
    doc["prefix"] = pfx
    doc["name"] = pfx + doc["name"]
    doc["nodes"][0]["services"] = [echo("10.1.1.1", "blue:")]
    doc["nodes"][1]["services"] = [echo("10.1.1.2", "red:")]
    return doc


def daemon():
    rdir = os.path.join(tmpdir(), "run")
    d = Daemon("--runtime-dir", rdir)
    d.runtime_dir = rdir
    return d


def ask_echo(from_ns, addr):
    """What the echo server at addr answers a client in from_ns, or None."""
    r = subprocess.run(["ip", "netns", "exec", from_ns, "python3", "-c", CLIENT, addr, "7007"],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def echo_answers(from_ns, addr, want):
    return wait_for(lambda: ask_echo(from_ns, addr) == want, timeout=20, interval=0.1)


def services(d, topo):
    """name -> proc.list entry of the services of topology topo."""
    return {p["name"]: p for p in d.call("proc.list")["processes"] if p.get("topology") == topo}


def pids(d, topo):
    return {n: p["pid"] for n, p in services(d, topo).items()}




def reap_ours():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return




def all_gone(d, pid_list):
    reap_ours()
    return not any(proc_alive(p) for p in pid_list) and not shims_of(d)


def namespaces(pfx):
    return sorted(n.split()[0] for n in run(["ip", "netns", "list"]).stdout.splitlines()
                  if n.startswith(pfx))


def destroy(d, doc, pfx, others=()):
    """Destroy the lab: its namespaces, its services' payloads and shims gone; stop d."""
    last = list(pids(d, doc["name"]).values()) + list(others)
    d.call("topology.destroy", {"name": doc["name"]})
    assert wait_for(lambda: not namespaces(pfx), timeout=20), namespaces(pfx)
    assert wait_for(lambda: all_gone(d, last), timeout=15), shims_of(d)
    assert not [p for p in d.call("proc.list")["processes"] if p.get("topology") == doc["name"]]
    assert "service" not in journal_state(d), journal_state(d).get("service")
    d.stop()


@test
def test_lab_with_services():
    """echo servers per node: reach, re-apply keeps pids, a change restarts one, destroy"""
    d = daemon()
    pfx = prefix()
    doc = lab(pfx)
    blue, red = pfx + "blue", pfx + "red"
    plan = d.call("topology.plan", {"doc": doc})
    svc_steps = sorted((s["action"], s["key"]) for s in plan["steps"] if s["kind"] == "service")
    assert svc_steps == [("create", blue + "/echo"), ("create", red + "/echo")], plan
    r = d.call("topology.apply", {"doc": doc})
    assert r["create"] == plan["create"], r
    # Steps run services last: after the namespaces, links and addresses.
    kinds = [s["kind"] for s in r["steps"]]
    assert kinds[-2:] == ["service", "service"], kinds
    procs = services(d, doc["name"])
    assert sorted(procs) == [blue + ".echo", red + ".echo"], procs
    for p in procs.values():
        assert p["state"] == "running" and p["service"] and p["restart"] == "always", p
        assert proc_alive(p["pid"]), p
    assert procs[red + ".echo"]["netns"] == red
    assert echo_answers(blue, "10.1.1.2", "red:ping"), ask_echo(blue, "10.1.1.2")
    assert echo_answers(red, "10.1.1.1", "blue:ping"), ask_echo(red, "10.1.1.1")
    got = d.call("topology.get", {"name": doc["name"]})
    assert sorted(got["objects"]["service"]) == [blue + "/echo", red + "/echo"], got
    before = pids(d, doc["name"])

    # Again: nothing changes, the same processes run.
    r = d.call("topology.apply", {"doc": doc})
    assert r["changed"] == 0, r
    assert pids(d, doc["name"]) == before
    # proc.delete of a lab's service is refused: the topology owns it.
    e = d.expect_error("proc.delete", {"id": blue + ".echo"})
    assert e.kind == "busy" and e.field == "id", e
    assert pids(d, doc["name"]) == before

    # One service changed: only it is restarted.
    changed = copy.deepcopy(doc)
    changed["nodes"][0]["services"][0]["argv"][-1] = "BLUE:"
    plan = d.call("topology.plan", {"doc": changed})
    assert [(s["action"], s["kind"], s["key"], s.get("fields")) for s in plan["steps"]] == \
        [("change", "service", blue + "/echo", ["argv"])], plan
    d.call("topology.apply", {"doc": changed})
    now = pids(d, doc["name"])
    assert now[red + ".echo"] == before[red + ".echo"], (before, now)
    assert now[blue + ".echo"] != before[blue + ".echo"], (before, now)
    assert wait_for(lambda: not proc_alive(before[blue + ".echo"]), timeout=10)
    assert echo_answers(red, "10.1.1.1", "BLUE:ping"), ask_echo(red, "10.1.1.1")
    assert d.call("topology.export", {"name": doc["name"]})["doc"] == changed

    # A service removed from the document is stopped and forgotten.
    fewer = copy.deepcopy(changed)
    del fewer["nodes"][0]["services"]
    r = d.call("topology.apply", {"doc": fewer})
    assert [(s["action"], s["key"]) for s in r["steps"]] == [("delete", blue + "/echo")], r
    assert sorted(pids(d, doc["name"])) == [red + ".echo"]
    assert wait_for(lambda: not proc_alive(now[blue + ".echo"]), timeout=10)
    assert blue + ".echo" not in [p["name"] for p in d.call("proc.list")["processes"]]

    destroy(d, doc, pfx)


@test
def test_destroy_refused_for_other_processes():
    """a process that is not the lab's own blocks destroy; the lab's services do not"""
    d = daemon()
    pfx = prefix()
    doc = lab(pfx)
    d.call("topology.apply", {"doc": doc})
    other = d.call("proc.spawn", {"netns": pfx + "blue", "argv": ["sleep", "300"]})
    e = d.expect_error("topology.destroy", {"name": doc["name"]})
    assert e.kind == "busy", e
    assert len(pids(d, doc["name"])) == 2
    d.call("proc.delete", {"id": other["id"], "grace_ms": 0})
    destroy(d, doc, pfx, [other["pid"]])


@test
def test_failed_start_rolls_back():
    """a service that cannot start undoes the apply: others stopped, changed one restored"""
    d = daemon()
    pfx = prefix()
    doc = lab(pfx)
    blue, red = pfx + "blue", pfx + "red"

    # From nothing: the first services start, the last cannot; nothing is left.
    bad = copy.deepcopy(doc)
    bad["nodes"][1]["services"].append({"name": "zz", "argv": ["/nonexistent/program"]})
    e = d.expect_error("topology.apply", {"doc": bad})
    assert e.field == "doc.nodes[1].services[1].argv", e
    assert "/nonexistent/program" in e.error["message"], e
    assert wait_for(lambda: all_gone(d, []), timeout=15), shims_of(d)
    assert not namespaces(pfx), namespaces(pfx)
    assert not d.call("proc.list")["processes"]
    assert not journal_state(d).get("service") and not journal_state(d).get("txn"), journal_state(d)

    # A change whose new service fails: the changed one runs again as it was.
    d.call("topology.apply", {"doc": doc})
    assert echo_answers(blue, "10.1.1.2", "red:ping")
    st_before = journal_state(d)
    before = pids(d, doc["name"])
    bad = copy.deepcopy(doc)
    bad["nodes"][1]["services"][0]["argv"][-1] = "RED:"
    bad["nodes"][1]["services"].append({"name": "zz", "argv": ["/nonexistent/program"]})
    e = d.expect_error("topology.apply", {"doc": bad})
    assert e.field == "doc.nodes[1].services[1].argv", e
    assert journal_state(d) == st_before, (journal_state(d), st_before)
    assert wait_for(lambda: sorted(pids(d, doc["name"])) == [blue + ".echo", red + ".echo"] and
                    all(p["state"] == "running" for p in services(d, doc["name"]).values()),
                    timeout=15), services(d, doc["name"])
    now = pids(d, doc["name"])
    assert now[blue + ".echo"] == before[blue + ".echo"]
    assert now[red + ".echo"] != before[red + ".echo"]
    assert echo_answers(blue, "10.1.1.2", "red:ping"), ask_echo(blue, "10.1.1.2")
    assert d.call("topology.plan", {"doc": doc})["changed"] == 0
    destroy(d, doc, pfx)




@test
def test_restart_adopts_and_reboot_restarts():
    """kill -9 of netnsd: services adopted (same pids); reboot: started again, still tagged"""
    d = daemon()
    pfx = prefix()
    doc = lab(pfx)
    blue = pfx + "blue"
    d.call("topology.apply", {"doc": doc})
    before = pids(d, doc["name"])
    assert len(before) == 2
    d.kill9()
    reap_ours()
    d.start()
    procs = services(d, doc["name"])
    assert {n: p["pid"] for n, p in procs.items()} == before, (procs, before)
    assert all(p["adopted"] and p["state"] == "running" for p in procs.values()), procs
    assert d.call("topology.plan", {"doc": doc})["changed"] == 0
    assert echo_answers(blue, "10.1.1.2", "red:ping")

    simulate_reboot(d, namespaces(pfx))
    d.start()
    assert wait_for(lambda: len(services(d, doc["name"])) == 2, timeout=15), \
        d.call("proc.list")
    procs = services(d, doc["name"])
    assert not set(p["pid"] for p in procs.values()) & set(before.values()), procs
    assert all(not p["adopted"] for p in procs.values()), procs
    assert echo_answers(blue, "10.1.1.2", "red:ping"), ask_echo(blue, "10.1.1.2")
    assert d.call("topology.plan", {"doc": doc})["changed"] == 0
    destroy(d, doc, pfx)


@test
def test_kill9_while_starting_services():
    """kill -9 while an apply starts services; after the restart all of it or none"""
    d = daemon()
    pfx = prefix()
    n = 40
    doc = {"name": pfx + "many", "prefix": pfx,
           "nodes": [{"name": "n%d" % i,
                      "services": [{"name": "s", "argv": ["sleep", "300"],
                                    "stdout": "null", "stderr": "null"}]}
                     for i in range(n)]}
    a = d.client()
    a.send({"jsonrpc": "2.0", "id": 1, "method": "topology.apply", "params": {"doc": doc}})
    assert wait_for(lambda: len(shims_of(d)) >= 3, timeout=60), "no service started"
    d.kill9()
    started = len(shims_of(d))
    a.close()
    reap_ours()
    d.start()
    st = journal_state(d)
    assert "txn" not in st, st.get("txn")
    topos = [t["name"] for t in d.call("topology.list")["topologies"]]
    print("# after kill -9 with %d shims: %s" % (
        started, "committed" if doc["name"] in topos else "rolled back"))
    if doc["name"] in topos:
        assert len(services(d, doc["name"])) == n
        destroy(d, doc, pfx)
        return
    assert not [k for k in st.get("service", {}) if k.startswith(pfx)], st.get("service")
    assert wait_for(lambda: all_gone(d, []), timeout=30), shims_of(d)
    assert wait_for(lambda: not namespaces(pfx), timeout=20), namespaces(pfx)
    assert not [p for p in d.call("proc.list")["processes"] if p["state"] == "running"]
    d.stop()


if __name__ == "__main__":
    raise SystemExit(main())
