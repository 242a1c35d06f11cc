#!/usr/bin/env python3
"""Integration tests of access control by peer credentials.

Clients run in forked children that drop to uid/gid 65534 (and optionally
keep one supplementary group), so the daemon sees real SO_PEERCRED values.
"""

import atexit
import grp
import json
import os
import stat
import subprocess
import sys
import traceback

from netnsd_test import (Client, Daemon, file_bytes, main, netns_mounted, run, test, uniq)

NOBODY = 65534


def as_user(fn, uid=NOBODY, gid=NOBODY, groups=()):
    """Run fn() in a child with those credentials; return what it returned (JSON-able)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.setgroups(list(groups))
            os.setgid(gid)
            os.setuid(uid)
            out = {"ok": fn()}
        except BaseException as e:
            out = {"exception": "%s: %s" % (type(e).__name__, e),
                   "traceback": traceback.format_exc()}
        with os.fdopen(w, "w") as f:
            json.dump(out, f)
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    out = json.loads(data)
    if "exception" in out:
        raise AssertionError("in the child: " + out["exception"] + "\n" + out["traceback"])
    return out["ok"]


def open_to_all(d):
    """Let any uid reach D's socket (the test's stand-in for SocketMode/group)."""
    os.chmod(d.dir, 0o755)
    os.chmod(d.socket, 0o666)


def state_files(d):
    return {f: file_bytes(os.path.join(d.state_dir, f)) for f in sorted(os.listdir(d.state_dir))}


def make_group():
    name = uniq("g")
    run(["groupadd", "--system", name])
    atexit.register(lambda: subprocess.run(["groupdel", name], capture_output=True))
    return name, grp.getgrnam(name).gr_gid


def sample_params(method, existing, fresh):
    return {
        "netns.add": {"name": fresh},
        "netns.delete": {"name": existing},
        "netns.get": {"name": existing},
        "netns.pids": {"name": existing},
        "netns.identify": {"pid": 1},
    }.get(method, {})


@test
def test_unprivileged_refused():
    """An unprivileged peer gets permission (code 5) for every method, and nothing changes."""
    d = Daemon()
    existing, fresh = uniq("e"), uniq("f")
    d.call("netns.add", {"name": existing})
    methods = [m["name"] for m in d.call("rpc.discover")["methods"]]
    assert "daemon.ping" in methods and "netns.add" in methods, methods
    open_to_all(d)
    before = state_files(d)
    ino = os.stat("/run/netns/" + existing).st_ino

    def child():
        c = Client(d.socket)
        out = {}
        for m in methods + ["no.such.method"]:
            out[m] = c.request(m, sample_params(m, existing, fresh))
        c.send([{"jsonrpc": "2.0", "id": "b1", "method": "daemon.ping"},
                {"jsonrpc": "2.0", "id": "b2", "method": "netns.add",
                 "params": {"name": fresh}}])
        out["batch"] = c.recv()
        c.close()
        return out

    out = as_user(child)
    for m in methods + ["no.such.method"]:
        err = out[m].get("error")
        assert err and err["code"] == 5 and err["data"]["kind"] == "permission", (m, out[m])
        assert "result" not in out[m], (m, out[m])
    assert sorted(r["id"] for r in out["batch"]) == ["b1", "b2"], out["batch"]
    for r in out["batch"]:
        assert r["error"]["code"] == 5 and r["error"]["data"]["kind"] == "permission", r
    assert not os.path.lexists("/run/netns/" + fresh)
    assert not os.path.exists("/etc/netns/" + fresh)
    assert netns_mounted(existing) and os.stat("/run/netns/" + existing).st_ino == ino
    assert state_files(d) == before
    assert d.call("netns.get", {"name": existing})["managed"] is True
    # Root still is served on the same daemon.
    assert d.call("daemon.ping") == {"pong": True}


@test
def test_unprivileged_notification_unanswered():
    """A notification from an unprivileged peer gets no reply and does nothing."""
    d = Daemon()
    name = uniq("n")
    open_to_all(d)

    def child():
        c = Client(d.socket)
        c.send({"jsonrpc": "2.0", "method": "netns.add", "params": {"name": name}})
        c.send({"jsonrpc": "2.0", "method": "daemon.ping"})
        c.send({"jsonrpc": "2.0", "id": 7, "method": "daemon.ping"})
        first = c.recv()
        c.close()
        return first

    first = as_user(child)
    assert first["id"] == 7 and first["error"]["code"] == 5, first
    assert not os.path.lexists("/run/netns/" + name)
    assert d.expect_error("netns.get", {"name": name}).kind == "not_found"


@test
def test_socket_mode_keeps_others_out():
    """Without the test opening it up, an unprivileged user cannot even connect."""
    d = Daemon()
    os.chmod(d.dir, 0o755)
    mode = stat.S_IMODE(os.stat(d.socket).st_mode)
    assert mode & 0o007 == 0, oct(mode)

    def child():
        try:
            Client(d.socket).close()
            return "connected"
        except PermissionError:
            return "refused"

    assert as_user(child) == "refused"


@test
def test_admin_group_allowed():
    """A member of --admin-group is served, through the socket's own group and mode."""
    gname, gid = make_group()
    try:
        d = Daemon("--admin-group", gname)
        os.chmod(d.dir, 0o755)  # only the directory; the socket is as netnsd made it
        st = os.stat(d.socket)
        assert st.st_gid == gid, (st.st_gid, gid)
        assert stat.S_IMODE(st.st_mode) & 0o060 == 0o060, oct(st.st_mode)
        assert stat.S_IMODE(st.st_mode) & 0o007 == 0, oct(st.st_mode)
        name = uniq("m")

        def member():
            c = Client(d.socket)
            out = {"ping": c.call("daemon.ping"),
                   "add": c.call("netns.add", {"name": name})}
            c.close()
            return out

        out = as_user(member, groups=[gid])
        assert out["ping"] == {"pong": True}, out
        assert out["add"]["managed"] is True, out
        assert netns_mounted(name)

        def primary():
            c = Client(d.socket)
            out = {"get": c.call("netns.get", {"name": name}),
                   "delete": c.call("netns.delete", {"name": name})}
            c.close()
            return out

        out = as_user(primary, gid=gid, groups=[])
        assert out["get"]["managed"] is True and out["delete"]["name"] == name, out
        assert not os.path.lexists("/run/netns/" + name)

        # Someone outside the group is refused even when the socket is reachable.
        os.chmod(d.socket, 0o666)

        def outsider():
            c = Client(d.socket)
            r = c.request("daemon.ping")
            c.close()
            return r

        r = as_user(outsider)
        assert r["error"]["code"] == 5 and r["error"]["data"]["kind"] == "permission", r
        assert d.stop() == 0
    finally:
        subprocess.run(["groupdel", gname], capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
