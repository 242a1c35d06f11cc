#!/usr/bin/env python3
"""netnsctl end to end: every command against a real netnsd, checked against
the kernel's own view (ip netns, /run/netns, /etc/netns) and against the
daemon's results; --json output, exit statuses 0/1/2, call, help, version and
the bash completion."""

import json
import os
import re
import socket
import subprocess

from netnsd_test import (NETNSCTL, TOP_SRCDIR, Daemon, file_bytes, ip_json,
                         ip_netns_names, main, netns_mounted, run, test, tmpdir, uniq,
                         wait_for, free_nsid)
from netnsctl_test import daemon, fails, ok, one_json, table  # noqa: E402















def kv_lines(text):
    """'key: value' lines (indented continuation lines are skipped) as a list of pairs."""
    out = []
    for line in text.splitlines():
        if line.startswith(" "):
            continue
        k, _, v = line.partition(":")
        out.append((k, v.strip()))
    return out


@test
def test_version():
    """--version and -V print the package version, no daemon needed"""
    with open(os.path.join(TOP_SRCDIR, "configure.ac")) as f:
        version = re.search(r"AC_INIT\(\[netnsd\], \[([^]]+)\]", f.read()).group(1)
    for opt in ("--version", "-V"):
        out = ok(opt, socket="/nonexistent/netnsd.sock")
        assert out == "netnsctl %s\n" % version, out


@test
def test_help():
    """--help at every level exits 0 and names every command and subcommand"""
    nosock = "/nonexistent/netnsd.sock"
    top = ok("--help", socket=nosock)
    assert top == ok("-h", socket=nosock) == ok("help", socket=nosock)
    for word in ("netns", "info", "ping", "call", "help", "--socket", "--json", "--netns",
                 "--version", "Exit status", "NETNSD_SOCKET", "/run/netnsd/netnsd.sock"):
        assert word in top, word
    subs = ("add", "delete", "list", "show", "pids", "identify")
    netns_help = ok("netns", "--help", socket=nosock)
    assert netns_help == ok("help", "netns", socket=nosock) == ok("netns", "-h", socket=nosock)
    for sub in subs:
        assert ("netnsctl netns %s" % sub) in netns_help, sub
        sub_help = ok("netns", sub, "--help", socket=nosock)
        assert sub_help == ok("help", "netns", sub, socket=nosock)
        assert ("netnsctl netns %s" % sub) in sub_help, sub_help
    assert "Examples:" in netns_help and "Exit status" in netns_help
    # Aliases reach the same help.
    assert ok("netns", "del", "--help", socket=nosock) == ok("netns", "delete", "--help",
                                                           socket=nosock)
    assert ok("netns", "ls", "--help", socket=nosock) == ok("netns", "list", "--help",
                                                          socket=nosock)
    for cmd in ("info", "ping", "call"):
        h = ok(cmd, "--help", socket=nosock)
        assert h == ok("help", cmd, socket=nosock)
        assert ("%s" % cmd) in h.splitlines()[0], h


@test
def test_usage_errors():
    """unknown commands, options and malformed arguments exit 2 with a hint"""
    name = uniq("u")
    cases = [
        (), ("bogus",), ("--bogus", "ping"), ("-x", "ping"), ("netns", "bogus"),
        ("netns", "add"), ("netns", "add", name, "nsid"), ("netns", "add", name, "nsid", "x"),
        ("netns", "add", name, "nsid", "-1"), ("netns", "add", name, "frob", "1"),
        ("netns", "add", name, "sysctl", "novalue"),
        ("netns", "add", name, "sysctl", "net.a=1", "sysctl", "net.a=2"),
        ("netns", "delete"), ("netns", "delete", name, "grace"),
        ("netns", "delete", name, "grace", "soon"), ("netns", "show"),
        ("netns", "show", name, "extra"), ("netns", "pids"), ("netns", "identify", "x"),
        ("netns", "identify", "0"), ("netns", "list", "extra"), ("info", "x"),
        ("ping", "x"), ("call",), ("call", "daemon.ping", "{not json"),
        ("call", "daemon.ping", "{}", "extra"), ("help", "bogus"),
        ("-n", name, "netns", "list"),
    ]
    for args in cases:
        err = fails(2, *args)
        assert "Try 'netnsctl" in err and "--help'" in err, (args, err)
    err = fails(2, "-s")
    assert "needs an argument" in err, err
    # Nothing reached the kernel.
    assert name not in ip_netns_names()


@test
def test_no_daemon():
    """no daemon at the socket: exit 1 with a message naming the socket"""
    d = tmpdir()
    missing = os.path.join(d, "missing.sock")
    err = fails(1, "ping", socket=missing)
    assert missing in err and "No such file or directory" in err and "netnsd running" in err, err
    # A socket nobody listens on.
    dead = os.path.join(d, "dead.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(dead)
    try:
        err = fails(1, "netns", "list", socket=dead)
        assert dead in err and "Connection refused" in err, err
    finally:
        s.close()
    # NETNSD_SOCKET is the default when -s is not given.
    err = fails(1, "ping", socket="", env={"NETNSD_SOCKET": missing})
    assert missing in err, err
    ok("ping", socket="", env={"NETNSD_SOCKET": daemon().socket})


@test
def test_ping_info():
    """ping and info, in text and as JSON that matches daemon.info"""
    d = daemon()
    out = ok("ping")
    assert out.startswith("pong from %s" % d.socket), out
    assert one_json(ok("--json", "ping")) == {"pong": True}
    info = dict(kv_lines(ok("info")))
    assert info["pid"] == str(d.proc.pid), info
    assert info["socket"] == d.socket, info
    assert info["state dir"] == d.state_dir, info
    assert re.match(r"\d+ adopted, \d+ recreated, \d+ failed$", info["restore"]), info
    for section in ("counts", "limits", "state"):
        assert info[section] == "", info
    j = one_json(ok("info", "--json"))
    ref = d.call("daemon.info")
    assert j["pid"] == ref["pid"] == d.proc.pid and j["version"] == ref["version"]
    assert j["limits"] == ref["limits"] and j["state_dir"] == d.state_dir
    assert info["version"] == ref["version"]


@test
def test_add_show_list_delete():
    """netns add with every option, then show, list and delete, seen by the kernel"""
    d = daemon()
    name = uniq("a")
    work = tmpdir()
    resolv = os.path.join(work, "resolv.conf")
    with open(resolv, "w") as f:
        f.write("nameserver 192.0.2.53\nsearch example.test\n")
    hosts = "192.0.2.1 gateway\n192.0.2.2 peer peer.example.test\n"
    nsid = free_nsid()
    out = ok("netns", "add", name, "nsid", str(nsid), "sysctl", "net.ipv4.ip_forward=1",
             "sysctl", "net.ipv4.conf.all.rp_filter=2", "resolv-conf", resolv, "hosts", "-",
             input=hosts)
    assert out == "", out
    # The kernel's view.
    assert name in ip_netns_names() and netns_mounted(name)
    ids = {e["name"]: e.get("id") for e in ip_json("netns", "list")}
    assert ids[name] == nsid, ids[name]
    fwd = run(["ip", "netns", "exec", name, "cat", "/proc/sys/net/ipv4/ip_forward"]).stdout
    assert fwd.strip() == "1", fwd
    assert file_bytes("/etc/netns/%s/hosts" % name) == hosts.encode()
    assert file_bytes("/etc/netns/%s/resolv.conf" % name) == file_bytes(resolv)

    # show: key: value lines, files indented below their key.
    text = ok("netns", "show", name)
    pairs = kv_lines(text)
    kv = dict(pairs)
    assert kv["name"] == name and kv["managed"] == "yes" and kv["mounted"] == "yes", text
    assert kv["nsid"] == str(nsid) and kv["inode"] == str(os.stat("/run/netns/" + name).st_ino)
    assert ("sysctl", "net.ipv4.ip_forward=1") in pairs, text
    assert ("sysctl", "net.ipv4.conf.all.rp_filter=2") in pairs, text
    assert "\nhosts:\n    192.0.2.1 gateway\n    192.0.2.2 peer peer.example.test\n" in text, text
    assert "\nresolv-conf:\n    nameserver 192.0.2.53\n" in text, text
    shown = one_json(ok("--json", "netns", "show", name))
    assert shown == d.call("netns.get", {"name": name}), shown
    assert shown["hosts"] == hosts and shown["created"] == kv["created"]

    # list: aligned table, JSON, names only; an `ip netns add` namespace is unmanaged.
    other = uniq("o")
    run(["ip", "netns", "add", other])
    cols, rows = table(ok("netns", "list"))
    assert cols == ["NAME", "MANAGED", "NSID", "CREATED"], cols
    by_name = {r["NAME"]: r for r in rows}
    assert by_name[name] == {"NAME": name, "MANAGED": "yes", "NSID": str(nsid),
                             "CREATED": kv["created"]}, by_name[name]
    assert by_name[other]["MANAGED"] == "no" and by_name[other]["CREATED"] == "-"
    # Other tests on this machine add and remove namespaces meanwhile: compare ours only.
    ours = lambda *args: [r for r in table(ok(*args))[1] if r["NAME"] in (name, other)]
    assert ours("netns", "ls") == ours("netns", "list") == ours("netns") == \
        [by_name[n] for n in sorted((name, other))]
    listed = one_json(ok("-j", "netns", "list"))
    assert {"namespaces"} == set(listed)
    mine = lambda res: [e for e in res["namespaces"] if e["name"] in (name, other)]
    assert mine(listed) == mine(d.call("netns.list")), listed
    names = ok("netns", "list", "--names").splitlines()
    assert name in names and other in names

    # An unmanaged namespace is never deleted.
    err = fails(1, "netns", "delete", other)
    assert "field: name" in err, err
    assert other in ip_netns_names() and netns_mounted(other)
    run(["ip", "netns", "del", other])

    # delete: no processes, nothing printed; everything gone from the kernel.
    assert ok("netns", "delete", name) == ""
    assert name not in ip_netns_names() and not os.path.exists("/run/netns/" + name)
    assert not os.path.exists("/etc/netns/" + name)
    err = fails(1, "netns", "show", name)
    assert name in err and "(field: name)" in err, err


@test
def test_daemon_errors():
    """errors from the daemon exit 1 with its message and field on stderr"""
    name = uniq("e")
    ok("netns", "add", name)
    err = fails(1, "netns", "add", name)
    assert err == "netnsctl: Namespace '%s' already exists (field: name)\n" % name, err
    # Validation happens in the daemon: invalid name, nsid out of range, foreign sysctl.
    err = fails(1, "netns", "add", "bad/name")
    assert "(field: name)" in err, err
    err = fails(1, "netns", "add", uniq("e"), "sysctl", "kernel.hostname=x")
    assert "(field: sysctls" in err, err
    err = fails(1, "netns", "pids", uniq("none"))
    assert "(field: name)" in err, err
    err = fails(1, "netns", "add", uniq("e"), "hosts", "/nonexistent/hosts")
    assert "/nonexistent/hosts" in err and "No such file" in err, err
    assert ok("netns", "del", name) == ""
    assert name not in ip_netns_names()


@test
def test_pids_identify_delete_grace():
    """pids and identify name a process inside; delete terminates it"""
    name = uniq("p")
    ok("netns", "add", name)
    proc = subprocess.Popen(["ip", "netns", "exec", name, "sleep", "60"])
    try:
        pid = str(proc.pid)
        assert wait_for(lambda: pid in ok("netns", "pids", name).splitlines()), \
            ok("netns", "pids", name)
        j = one_json(ok("--json", "netns", "pids", name))
        assert j["name"] == name and proc.pid in j["pids"]
        assert ok("netns", "identify", pid) == name + "\n"
        j = one_json(ok("netns", "identify", pid, "--json"))
        assert j == {"pid": proc.pid, "names": [name]}, j
        out = ok("netns", "delete", name, "grace", "5000")
        assert re.search(r"^terminated: .*\b%s\b" % pid, out, re.M), out
        assert proc.wait(timeout=30) != 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert name not in ip_netns_names()
    err = fails(1, "netns", "identify", "2147483647")
    assert "(field: pid)" in err, err


@test
def test_unmounted_marked():
    """a managed namespace unmounted behind netnsd's back is marked in list and show"""
    name = uniq("m")
    ok("netns", "add", name)
    run(["umount", "/run/netns/" + name])
    os.unlink("/run/netns/" + name)
    assert name not in ip_netns_names()
    _, rows = table(ok("netns", "list"))
    row = [r for r in rows if r["NAME"] == name]
    assert row and row[0]["MANAGED"] == "yes (unmounted)", row
    kv = dict(kv_lines(ok("netns", "show", name)))
    assert kv["managed"] == "yes (unmounted)" and kv["mounted"] == "no", kv
    ok("netns", "delete", name)
    assert name not in ok("netns", "list", "--names").splitlines()


@test
def test_call():
    """call with params from the argument and from stdin prints the raw result"""
    d = daemon()
    name = uniq("c")
    nsid = free_nsid()
    res = one_json(ok("call", "netns.add", json.dumps({"name": name, "nsid": nsid})))
    assert res["name"] == name and res["nsid"] == nsid and res["managed"] is True
    assert name in ip_netns_names()
    got = one_json(ok("call", "netns.get", "-", input=json.dumps({"name": name})))
    assert got == d.call("netns.get", {"name": name})
    assert one_json(ok("call", "daemon.ping")) == {"pong": True}
    # --json changes nothing for call.
    assert one_json(ok("-j", "call", "daemon.ping")) == {"pong": True}
    doc = one_json(ok("call", "rpc.discover"))
    assert "netns.add" in [m["name"] for m in doc["methods"]]
    err = fails(1, "call", "no.such.method")
    assert "Method not found" in err and "no.such.method" in err, err
    err = fails(1, "call", "netns.get", '{"name": "%s", "bogus": 1}' % name)
    assert "(field: bogus)" in err, err
    err = fails(2, "call", "netns.get", "-", input="{")
    assert "not JSON" in err, err
    res = one_json(ok("call", "netns.delete", json.dumps({"name": name})))
    assert res["name"] == name
    assert name not in ip_netns_names()


@test
def test_long_reply():
    """a reply line longer than 1 MiB is read whole"""
    d = Daemon("--max-message-bytes", str(4 << 20))
    name = uniq("l")
    work = tmpdir()
    hosts = "".join("192.0.2.%d host%06d.example.test\n" % (i % 250 + 1, i)
                    for i in range(40000))
    hosts = hosts[: hosts.rindex("\n", 0, (1 << 20) - 100) + 1]
    assert len(hosts) > 1000000
    path = os.path.join(work, "hosts")
    with open(path, "w") as f:
        f.write(hosts)
    ok("netns", "add", name, "hosts", path, socket=d.socket)
    assert file_bytes("/etc/netns/%s/hosts" % name) == hosts.encode()
    shown = one_json(ok("-j", "netns", "show", name, socket=d.socket))
    assert shown["hosts"] == hosts
    text = ok("netns", "show", name, socket=d.socket)
    assert text.count("\n    ") == hosts.count("\n")
    ok("netns", "delete", name, socket=d.socket)
    assert name not in ip_netns_names()


@test
def test_bash_completion():
    """the bash completion offers commands, subcommands and the daemon's names"""
    d = daemon()
    name = uniq("b")
    ok("netns", "add", name)
    script = os.path.join(TOP_SRCDIR, "contrib", "bash-completion", "netnsctl")

    def complete(*words):
        prog = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); '
                '_netnsctl; printf "%s\\n" "${COMPREPLY[@]}"')
        out = run(["bash", "-c", prog, "bash", script, NETNSCTL] + list(words)).stdout
        return [w for w in out.splitlines() if w]

    try:
        assert complete("") == ["netns", "link", "addr", "route", "proc", "lab", "peer", "exec", "monitor", "info", "ping", "call", "help"]
        assert "--socket" in complete("-")
        assert complete("-s", d.socket, "netns", "sh") == ["show"]
        assert name in complete("-s", d.socket, "netns", "show", "")
        assert complete("-s", d.socket, "netns", "delete", name[:-1]) == [name]
        assert complete("-s", d.socket, "netns", "add", "x", "") == \
            ["nsid", "sysctl", "resolv-conf", "hosts"]
        assert "--names" in complete("-s", d.socket, "netns", "list", "-")
        assert "netns.add" in complete("-s", d.socket, "call", "netns.")
    finally:
        ok("netns", "delete", name)


if __name__ == "__main__":
    raise SystemExit(main())
