#!/usr/bin/env python3
"""Bad input: a catalogue of malformed, invalid and hostile messages.

Every catalogue case is sent on a fresh connection, followed on the same
connection by a sentinel daemon.ping.  Each case proves that:
  - the exact replies arrive (one error, or one batch array) and nothing else:
    the next line is the sentinel's reply, so the connection survived too;
  - the error has the right code, id and error.data (kind, field);
  - the daemon still answers daemon.ping on a new connection;
  - nothing was created: no namespace trace with our prefix in `ip netns
    list`, /run/netns or /etc/netns;
  - the state files (state.json, journal.jsonl) are byte-for-byte unchanged.
Then: exact id echo (raw token text), batches and notifications, CRLF and
blank lines, the 64-character name boundary, and a replay of the example
exchanges in protocol/examples/*.jsonl.
"""

import glob
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import netnsd_test as T  # noqa: E402
from netnsd_test import test, uniq  # noqa: E402

P = T.PREFIX
PARSE, INVALID_REQ, NO_METHOD, INVALID_PARAMS = -32700, -32600, -32601, -32602
KINDS = {1: "not_found", 2: "exists", 3: "busy", 4: "invalid", 5: "permission", 6: "kernel",
         7: "io", 8: "limit", 9: "shutting_down", 10: "unsupported", 11: "timeout"}
AUTO = object()

_daemon = None


def daemon():
    global _daemon
    if _daemon is None or not _daemon.alive():
        _daemon = T.Daemon()
    return _daemon


def req(method, params=None, id=1, **extra):
    m = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        m["params"] = params
    m.update(extra)
    return m


def add(**params):
    """A netns.add whose other params are valid (a fresh prefixed name)."""
    p = {"name": uniq("b")}
    p.update(params)
    return req("netns.add", p)


def pid_max():
    with open("/proc/sys/kernel/pid_max") as f:
        return int(f.read())


PING = b'{"jsonrpc":"2.0","id":1,"method":"daemon.ping"}'
NAME65 = (P + "n" * 65)[:65]

# (description, request: bytes sent verbatim or a JSON value, expected code (an int,
#  a tuple of acceptable ints, or a list: one code per item of a batch reply),
#  detail: None, a field name (str), or a dict that error.data must contain,
#  [expected reply id; default: the request's id when it is a valid id, else null])
CASES = [
    # Framing and syntax.
    ("malformed JSON (double comma)", b'{"jsonrpc":"2.0",,"id":1}\n', PARSE, None),
    ("truncated JSON", PING[:30] + b"\n", PARSE, None),
    ("trailing garbage after the object", PING + b" x\n", PARSE, None),
    ("two objects on one line", PING + PING + b"\n", PARSE, None),
    ("single-quoted strings", b"{'jsonrpc':'2.0','id':1,'method':'daemon.ping'}\n", PARSE, None),
    ("a comment", b'/* hi */' + PING + b"\n", PARSE, None),
    ("NaN as id", b'{"jsonrpc":"2.0","id":NaN,"method":"daemon.ping"}\n', PARSE, None),
    ("UTF-8 byte order mark", b"\xef\xbb\xbf" + PING + b"\n", PARSE, None),
    ("invalid UTF-8 inside a string",
     b'{"jsonrpc":"2.0","id":"a\xff\xfe","method":"daemon.ping"}\n', PARSE, None),
    ("invalid UTF-8 outside strings", b"\xff\xfe" + PING + b"\n", PARSE, None),
    ("overlong UTF-8 encoding of '/'",
     b'{"jsonrpc":"2.0","id":"\xc0\xaf","method":"daemon.ping"}\n', PARSE, None),
    ("UTF-8 encoded surrogate",
     b'{"jsonrpc":"2.0","id":"\xed\xa0\x80","method":"daemon.ping"}\n', PARSE, None),
    ("lone surrogate escape",
     b'{"jsonrpc":"2.0","id":"\\ud800","method":"daemon.ping"}\n', PARSE, None),
    ("duplicate keys in the request",
     b'{"jsonrpc":"2.0","id":1,"id":2,"method":"daemon.ping"}\n', (PARSE, INVALID_REQ), None),
    ("duplicate keys in params",
     b'{"jsonrpc":"2.0","id":1,"method":"daemon.ping","params":{"x":1,"x":2}}\n',
     (PARSE, INVALID_REQ, INVALID_PARAMS), None, AUTO),
    ("100000 '[' characters", b"[" * 100000 + b"\n", PARSE, None),
    ("params nested 5000 objects deep",
     b'{"jsonrpc":"2.0","id":1,"method":"daemon.ping","params":' + b'{"a":' * 5000 + b"1"
     + b"}" * 5000 + b"}\n", (PARSE, INVALID_PARAMS), None, AUTO),
    ("\\u0000 inside a string (namespace name)",
     ('{"jsonrpc":"2.0","id":1,"method":"netns.add","params":{"name":"%s\\u0000x"}}\n'
      % P).encode(), (PARSE, INVALID_PARAMS), None, AUTO),
    ("\\u0000 inside resolv_conf",
     ('{"jsonrpc":"2.0","id":1,"method":"netns.add","params":{"name":"%s","resolv_conf":'
      '"nameserver 1.1.1.1\\u0000"}}\n' % uniq("z")).encode(), (PARSE, INVALID_PARAMS),
     None, AUTO),

    # Not a request object.
    ("a bare string", b'"daemon.ping"\n', INVALID_REQ, None),
    ("a bare number", b"42\n", INVALID_REQ, None),
    ("a bare null", b"null\n", INVALID_REQ, None),
    ("a bare true", b"true\n", INVALID_REQ, None),
    ("an empty batch []", b"[]\n", INVALID_REQ, None),
    ("a batch of three numbers", b"[1,2,3]\n", [INVALID_REQ] * 3, None),
    ("a batch holding an empty batch", b"[[]]\n", [INVALID_REQ], None),

    # The envelope.
    ("jsonrpc \"1.0\"", req("daemon.ping", jsonrpc="1.0"), INVALID_REQ, None),
    ("jsonrpc missing", {"id": 1, "method": "daemon.ping"}, INVALID_REQ, None),
    ("jsonrpc as a number", req("daemon.ping", jsonrpc=2.0), INVALID_REQ, None),
    ("method missing", {"jsonrpc": "2.0", "id": 1}, INVALID_REQ, None),
    ("method a number", req(5), INVALID_REQ, None),
    ("method null", req(None), INVALID_REQ, None),
    ("method a number, no id", {"jsonrpc": "2.0", "method": 5}, INVALID_REQ, None, None),
    ("params a string", req("daemon.ping", "x"), INVALID_REQ, None),
    ("params a number", req("daemon.ping", 3), INVALID_REQ, None),
    ("params null", {"jsonrpc": "2.0", "id": 1, "method": "daemon.ping", "params": None},
     INVALID_REQ, None),
    ("params an array", req("daemon.ping", []), INVALID_PARAMS, {"kind": "invalid"}),
    ("params an array of the right values", req("netns.get", [P]), INVALID_PARAMS,
     {"kind": "invalid"}),
    ("id an object", req("daemon.ping", id={}), INVALID_REQ, None, None),
    ("id an array", req("daemon.ping", id=[1]), INVALID_REQ, None, None),
    ("id a boolean", req("daemon.ping", id=True), INVALID_REQ, None, None),
    ("unknown member in the request", req("daemon.ping", extra=1), INVALID_REQ, None),
    ("integer id beyond 64 bits",
     b'{"jsonrpc":"2.0","id":18446744073709551616,"method":"daemon.ping"}\n',
     (PARSE, INVALID_REQ), None, None),

    # Methods.
    ("unknown method", req("netns.frobnicate"), NO_METHOD, None),
    ("empty method name", req(""), NO_METHOD, None),
    ("method names are case-sensitive", req("Daemon.Ping"), NO_METHOD, None),
    ("reserved rpc. prefix", req("rpc.nothing"), NO_METHOD, None),

    # Params of daemon.* methods.
    ("unknown param to daemon.ping", req("daemon.ping", {"verbose": True}), INVALID_PARAMS,
     "verbose"),
    ("unknown param to daemon.info", req("daemon.info", {"x": 1}), INVALID_PARAMS, "x"),
    ("huge (900 KiB) valid message with an unknown param",
     req("daemon.ping", {"padding": "x" * (900 << 10)}), INVALID_PARAMS, "padding"),

    # netns.add: every param with a wrong type.
    ("netns.add without params", req("netns.add"), INVALID_PARAMS, "name"),
    ("netns.add name a number", req("netns.add", {"name": 5}), INVALID_PARAMS, "name"),
    ("netns.add name null", req("netns.add", {"name": None}), INVALID_PARAMS, "name"),
    ("netns.add nsid a string", add(nsid="5"), INVALID_PARAMS, "nsid"),
    ("netns.add nsid a fraction", add(nsid=1.5), INVALID_PARAMS, "nsid"),
    ("netns.add nsid 1.0 (a real)", add(nsid=1.0), INVALID_PARAMS, "nsid"),
    ("netns.add nsid negative", add(nsid=-1), INVALID_PARAMS, "nsid"),
    ("netns.add nsid 2^31", add(nsid=2 ** 31), INVALID_PARAMS, "nsid"),
    ("netns.add nsid 2^63-1", add(nsid=2 ** 63 - 1), INVALID_PARAMS, "nsid"),
    ("netns.add sysctls an array", add(sysctls=[]), INVALID_PARAMS, "sysctls"),
    ("netns.add sysctls a string", add(sysctls="net.ipv4.ip_forward=1"), INVALID_PARAMS,
     "sysctls"),
    ("netns.add resolv_conf a number", add(resolv_conf=1), INVALID_PARAMS, "resolv_conf"),
    ("netns.add resolv_conf longer than 64 KiB", add(resolv_conf="#" * 65537), INVALID_PARAMS,
     "resolv_conf"),
    ("netns.add hosts a boolean", add(hosts=True), INVALID_PARAMS, "hosts"),
    ("netns.add hosts an object", add(hosts={}), INVALID_PARAMS, "hosts"),
    ("netns.add unknown param", add(color="blue"), INVALID_PARAMS, "color"),

    # Namespace names.
    ("name empty", req("netns.add", {"name": ""}), INVALID_PARAMS, "name"),
    ("name '.'", req("netns.add", {"name": "."}), INVALID_PARAMS, "name"),
    ("name '..'", req("netns.add", {"name": ".."}), INVALID_PARAMS, "name"),
    ("name with a slash", req("netns.add", {"name": P + "/b"}), INVALID_PARAMS, "name"),
    ("name '../' traversal", req("netns.add", {"name": "../" + P}), INVALID_PARAMS, "name"),
    ("name with a leading dash", req("netns.add", {"name": "-" + P}), INVALID_PARAMS, "name"),
    ("name with a leading dot", req("netns.add", {"name": "." + P}), INVALID_PARAMS, "name"),
    ("name of 65 characters", req("netns.add", {"name": NAME65}), INVALID_PARAMS, "name"),
    ("name with a space", req("netns.add", {"name": P + " x"}), INVALID_PARAMS, "name"),
    ("name with a newline (escaped)", req("netns.add", {"name": P + "\nx"}), INVALID_PARAMS,
     "name"),
    ("name with a tab", req("netns.add", {"name": P + "\tx"}), INVALID_PARAMS, "name"),
    ("name with DEL (raw byte)",
     ('{"jsonrpc":"2.0","id":1,"method":"netns.add","params":{"name":"%s\x7f"}}\n'
      % P).encode(), INVALID_PARAMS, "name"),
    ("name with DEL (\\u007f)",
     ('{"jsonrpc":"2.0","id":1,"method":"netns.add","params":{"name":"%s\\u007f"}}\n'
      % P).encode(), INVALID_PARAMS, "name"),
    ("name with non-ASCII \u00e9", req("netns.add", {"name": P + "\u00e9"}), INVALID_PARAMS,
     "name"),
    ("name with a colon", req("netns.add", {"name": P + ":x"}), INVALID_PARAMS, "name"),
    ("netns.get name '..'", req("netns.get", {"name": ".."}), INVALID_PARAMS, "name"),
    ("netns.delete name '../x'", req("netns.delete", {"name": "../" + P}), INVALID_PARAMS,
     "name"),
    ("netns.pids name '/'", req("netns.pids", {"name": "/"}), INVALID_PARAMS, "name"),

    # sysctls.
    ("sysctl outside net.", add(sysctls={"kernel.hostname": "x"}), INVALID_PARAMS,
     "sysctls.kernel.hostname"),
    ("sysctl with '..'", add(sysctls={"net.ipv4..ip_forward": 1}), INVALID_PARAMS,
     "sysctls.net.ipv4..ip_forward"),
    ("sysctl path traversal", add(sysctls={"net/../../kernel/hostname": "x"}), INVALID_PARAMS,
     "sysctls.net/../../kernel/hostname"),
    ("sysctl with a trailing dot", add(sysctls={"net.ipv4.": 1}), INVALID_PARAMS,
     "sysctls.net.ipv4."),
    ("sysctl with a space", add(sysctls={"net.ipv4.ip forward": 1}), INVALID_PARAMS,
     "sysctls.net.ipv4.ip forward"),
    ("sysctl value an array", add(sysctls={"net.ipv4.ip_forward": [1]}), INVALID_PARAMS,
     "sysctls.net.ipv4.ip_forward"),
    ("sysctl value an object", add(sysctls={"net.ipv4.ip_forward": {}}), INVALID_PARAMS,
     "sysctls.net.ipv4.ip_forward"),
    ("sysctl value null", add(sysctls={"net.ipv4.ip_forward": None}), INVALID_PARAMS,
     "sysctls.net.ipv4.ip_forward"),

    # netns.delete.
    ("grace_ms negative", req("netns.delete", {"name": P + "g", "grace_ms": -1}),
     INVALID_PARAMS, "grace_ms"),
    ("grace_ms huge", req("netns.delete", {"name": P + "g", "grace_ms": 2 ** 62}),
     INVALID_PARAMS, "grace_ms"),
    ("grace_ms above 10 minutes", req("netns.delete", {"name": P + "g", "grace_ms": 600001}),
     INVALID_PARAMS, "grace_ms"),
    ("grace_ms a string", req("netns.delete", {"name": P + "g", "grace_ms": "1"}),
     INVALID_PARAMS, "grace_ms"),
    ("netns.delete without name", req("netns.delete", {"grace_ms": 1}), INVALID_PARAMS,
     "name"),

    # netns.identify.
    ("identify pid 0", req("netns.identify", {"pid": 0}), INVALID_PARAMS, "pid"),
    ("identify pid -1", req("netns.identify", {"pid": -1}), INVALID_PARAMS, "pid"),
    ("identify pid a string", req("netns.identify", {"pid": "1"}), INVALID_PARAMS, "pid"),
    ("identify pid 2^31", req("netns.identify", {"pid": 2 ** 31}), INVALID_PARAMS, "pid"),
    ("identify without pid", req("netns.identify", {}), INVALID_PARAMS, "pid"),
    ("identify a nonexistent pid", req("netns.identify", {"pid": pid_max() + 1}), 1,
     {"kind": "not_found", "field": "pid"}),

    # Names that do not exist (application errors, nothing changes).
    ("netns.get of a missing namespace", req("netns.get", {"name": P + "missing"}), 1,
     {"kind": "not_found", "field": "name"}),
    ("netns.pids of a missing namespace", req("netns.pids", {"name": P + "missing"}), 1,
     {"kind": "not_found", "field": "name"}),
    ("netns.delete of a missing namespace", req("netns.delete", {"name": P + "missing"}), 1,
     {"kind": "not_found", "field": "name"}),
]


def encode(request):
    if isinstance(request, bytes):
        return request
    return (json.dumps(request) + "\n").encode()


def valid_id(request):
    if isinstance(request, bytes):
        try:
            request = json.loads(request)
        except ValueError:
            return None
    if isinstance(request, dict):
        v = request.get("id")
        if isinstance(v, (str, int, float)) and not isinstance(v, bool):
            return v
    return None


class Invariants:
    """Kernel view and state files before a case, compared after it."""

    def __init__(self, d):
        self.d = d
        self.kernel = T.prefixed_kernel_names()
        self.state = T.state_files(d)

    def check(self):
        c = self.d.client()
        try:
            resp = c.request("daemon.ping", id="alive")
        finally:
            c.close()
        assert self.d.alive(), "netnsd died"
        assert resp == {"jsonrpc": "2.0", "id": "alive", "result": {"pong": True}}, resp
        now = T.prefixed_kernel_names()
        assert now == self.kernel, "kernel objects changed: %s" % sorted(now ^ self.kernel)
        state = T.state_files(self.d)
        for f in state:
            assert state[f] == self.state[f], "%s changed:\nbefore %r\nafter  %r" % (
                f, self.state[f], state[f])


def exchange(c, data, sentinel="sentinel"):
    """Send data then a ping with id SENTINEL; return the raw lines before its reply."""
    c.send_raw(data)
    c.send_raw('{"jsonrpc":"2.0","id":"%s","method":"daemon.ping"}\n' % sentinel)
    lines = []
    while True:
        line = c.recv_line()
        assert line is not None, "connection closed; replies so far: %r" % lines
        msg = json.loads(line)
        if isinstance(msg, dict) and msg.get("id") == sentinel and "result" in msg:
            return lines
        lines.append(line)
        assert len(lines) < 10, "too many replies: %r" % lines


def check_error(msg, code, detail, want_id, request=None):
    assert isinstance(msg, dict), msg
    assert set(msg) == {"jsonrpc", "id", "error"}, msg
    assert msg["jsonrpc"] == "2.0", msg
    err = msg["error"]
    assert set(err) <= {"code", "message", "data"}, msg
    assert isinstance(err.get("message"), str) and err["message"], msg
    codes = code if isinstance(code, tuple) else (code,)
    assert err.get("code") in codes, "code %r, expected %r: %s" % (err.get("code"), codes, msg)
    if want_id is AUTO:
        want_id = None if err["code"] == PARSE else valid_id(request)
    assert msg["id"] == want_id and type(msg["id"]) is type(want_id), \
        "id %r, expected %r" % (msg["id"], want_id)
    data = err.get("data")
    if err["code"] == INVALID_PARAMS:
        assert isinstance(data, dict) and data.get("kind") == "invalid", msg
    if err["code"] > 0:
        assert isinstance(data, dict) and data.get("kind") == KINDS.get(err["code"]), msg
    if detail is None:
        return
    if isinstance(detail, str):
        detail = {"field": detail}
    if err["code"] == INVALID_PARAMS or err["code"] > 0 or len(codes) == 1:
        for k, v in detail.items():
            assert isinstance(data, dict) and data.get(k) == v, \
                "error.data.%s: expected %r in %s" % (k, v, msg)


def run_case(desc, request, code, detail, want_id=AUTO):
    d = daemon()
    inv = Invariants(d)
    c = d.client()
    try:
        lines = exchange(c, encode(request))
    finally:
        c.close()
    assert len(lines) == 1, "expected exactly one reply line, got %r" % lines
    msg = json.loads(lines[0])
    if isinstance(code, list):
        assert isinstance(msg, list) and len(msg) == len(code), \
            "expected a batch reply of %d items: %r" % (len(code), msg)
        for m, k in zip(msg, code):
            check_error(m, k, detail, None)
    else:
        check_error(msg, code, detail, want_id, request)
    inv.check()


def _register(i, case):
    def fn():
        run_case(*case)
    fn.__name__ = "case%02d" % i
    fn.__doc__ = case[0]
    test(fn)


assert len(CASES) >= 40
for _i, _case in enumerate(CASES, 1):
    _register(_i, _case)


# Ids.

ID_TOKENS = ['"abc"', '""', '"\u00e9\u2603"', '"with \\"quotes\\" and \\\\"', "-7", "0",
             "9007199254740992", "-9007199254740992", "9223372036854775807", "1.5", "0.1",
             "-2.25e-7", "1e300", "1.0", "null"]


@test
def ids_echoed_exactly():
    """string, negative, 0, 2^53, int64 max, 1.5, 0.1, -2.25e-7, 1e300 and null ids are echoed token for token"""
    d = daemon()
    inv = Invariants(d)
    c = d.client()
    problems = []
    for tok in ID_TOKENS:
        for method, key in (("daemon.ping", "result"), ("no.such.method", "error")):
            c.send_raw('{"jsonrpc":"2.0","id":%s,"method":"%s"}\n' % (tok, method))
            line = c.recv_line()
            assert line is not None, "connection closed after id %s" % tok
            reply = T.loads_raw_numbers(line.decode())
            got = reply.get("id")
            if isinstance(got, T.RawNumber):
                ok = got == tok
            else:
                ok = got == json.loads(tok) and not isinstance(json.loads(tok), (int, float))
            if not ok or key not in reply:
                problems.append("id %s: %s -> %s" % (tok, method, line.decode()))
    c.close()
    assert not problems, "\n".join(problems)
    inv.check()


@test
def ids_echoed_in_batch():
    """ids of every kind are echoed inside a batch reply too"""
    d = daemon()
    inv = Invariants(d)
    toks = [t for t in ID_TOKENS if t != "null"]
    batch = "[" + ",".join('{"jsonrpc":"2.0","id":%s,"method":"daemon.ping"}' % t
                           for t in toks) + "]\n"
    c = d.client()
    lines = exchange(c, batch.encode())
    c.close()
    assert len(lines) == 1, lines
    got = sorted(str(m["id"]) if isinstance(m["id"], T.RawNumber) else json.dumps(m["id"])
                 for m in T.loads_raw_numbers(lines[0].decode()))
    want = sorted(t if not t.startswith('"') else json.dumps(json.loads(t)) for t in toks)
    assert got == want, "%s != %s" % (got, want)
    inv.check()


# Batches and notifications.

@test
def mixed_batch():
    """a batch of valid, invalid and notification items: one reply per non-notification, matched by id"""
    d = daemon()
    inv = Invariants(d)
    batch = [
        req("daemon.ping", id=1),
        {"jsonrpc": "2.0", "method": "daemon.ping"},                # notification
        req("nope", id="two"),                                       # -32601
        req(7, id=3),                                                # -32600, id echoed
        req("daemon.ping", {"x": 1}, id=4),                          # -32602
        {"jsonrpc": "2.0", "method": "nope"},                        # notification, unknown
        5,                                                           # -32600, id null
        req("netns.get", {"name": P + "nothere"}, id=6),             # not_found
        {"jsonrpc": "2.0", "method": "netns.add", "params": {"name": 1}},  # notification
    ]
    c = d.client()
    lines = exchange(c, encode(batch))
    c.close()
    assert len(lines) == 1, lines
    replies = json.loads(lines[0])
    assert isinstance(replies, list) and len(replies) == 6, replies
    by_id = {}
    for r in replies:
        assert r.get("jsonrpc") == "2.0", r
        by_id.setdefault(json.dumps(r["id"]), []).append(r)
    assert sorted(by_id) == sorted(['1', '"two"', '3', '4', 'null', '6']), sorted(by_id)
    assert by_id["1"][0]["result"] == {"pong": True}
    assert by_id['"two"'][0]["error"]["code"] == NO_METHOD
    assert by_id["3"][0]["error"]["code"] == INVALID_REQ
    assert by_id["4"][0]["error"]["code"] == INVALID_PARAMS
    assert by_id["4"][0]["error"]["data"]["field"] == "x"
    assert by_id["null"][0]["error"]["code"] == INVALID_REQ
    assert by_id["6"][0]["error"]["code"] == 1
    inv.check()


@test
def notification_batch_gets_no_reply():
    """a batch of notifications only (even failing ones) gets no reply at all"""
    d = daemon()
    inv = Invariants(d)
    batch = [{"jsonrpc": "2.0", "method": "daemon.ping"},
             {"jsonrpc": "2.0", "method": "no.such"},
             {"jsonrpc": "2.0", "method": "daemon.ping", "params": {"bad": 1}},
             {"jsonrpc": "2.0", "method": "netns.get", "params": {"name": P + "nothere"}}]
    c = d.client()
    assert exchange(c, encode(batch), sentinel="after-batch") == []
    c.close()
    inv.check()


@test
def notifications_get_no_reply():
    """single notifications get no reply, even an unknown method or invalid params"""
    d = daemon()
    inv = Invariants(d)
    c = d.client()
    for n in ({"jsonrpc": "2.0", "method": "daemon.ping"},
              {"jsonrpc": "2.0", "method": "no.such"},
              {"jsonrpc": "2.0", "method": "daemon.ping", "params": {"bad": 1}},
              {"jsonrpc": "2.0", "method": "netns.add", "params": {"name": ".."}}):
        assert exchange(c, encode(n), sentinel="after-%s" % n["method"]) == [], n
    c.close()
    inv.check()


@test
def crlf_line_endings():
    """requests ending in CRLF are accepted (the \\r is JSON whitespace)"""
    d = daemon()
    inv = Invariants(d)
    c = d.client()
    lines = exchange(c, PING + b"\r\n" + PING.replace(b'"id":1', b'"id":2') + b"\r\n")
    c.close()
    assert [json.loads(x) for x in lines] == [
        {"jsonrpc": "2.0", "id": 1, "result": {"pong": True}},
        {"jsonrpc": "2.0", "id": 2, "result": {"pong": True}}], lines
    inv.check()


@test
def blank_lines_ignored():
    """empty and whitespace-only lines (LF, CRLF, spaces, tabs) produce no reply"""
    d = daemon()
    inv = Invariants(d)
    c = d.client()
    assert exchange(c, b"\n\r\n   \n\t\n \t\r\n\n\n") == []
    lines = exchange(c, b"\n\n" + PING + b"\n\n")
    assert [json.loads(x) for x in lines] == [
        {"jsonrpc": "2.0", "id": 1, "result": {"pong": True}}], lines
    c.close()
    inv.check()


@test
def bytes_split_across_writes():
    """a request arriving one byte at a time is still one request"""
    d = daemon()
    inv = Invariants(d)
    c = d.client()
    for b in PING:
        c.send_raw(bytes([b]))
    lines = exchange(c, b"\n")
    assert [json.loads(x) for x in lines] == [
        {"jsonrpc": "2.0", "id": 1, "result": {"pong": True}}], lines
    c.close()
    inv.check()


@test
def name_of_64_characters_is_accepted():
    """a 64-character name is valid (65 is not): created, mounted, listed, deleted"""
    d = daemon()
    name = (P + "s" * 64)[:64]
    assert len(name) == 64
    try:
        r = d.call("netns.add", {"name": name})
        assert r["name"] == name and r["managed"] and r["mounted"], r
        assert T.netns_mounted(name)
        assert name in T.ip_netns_names()
        assert d.call("netns.get", {"name": name})["managed"]
        d.call("netns.delete", {"name": name})
        assert not T.netns_mounted(name)
        assert name not in T.ip_netns_names()
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


@test
def unmanaged_namespace_is_left_alone():
    """add over a namespace `ip netns add` made -> exists; delete -> permission; it stays"""
    d = daemon()
    name = uniq("u")
    T.run(["ip", "netns", "add", name])
    try:
        inv = Invariants(d)
        e = d.expect_error("netns.add", {"name": name})
        assert (e.code, e.kind, e.field) == (2, "exists", "name"), e
        e = d.expect_error("netns.delete", {"name": name})
        assert (e.code, e.kind, e.field) == (5, "permission", "name"), e
        g = d.call("netns.get", {"name": name})
        assert not g["managed"] and g["mounted"], g
        assert T.netns_mounted(name)
        inv.check()
    finally:
        T.run(["ip", "netns", "del", name], check=False)


# Example exchanges (protocol/examples/*.jsonl).

def free_nsid():
    """An nsid no namespace has in the host namespace (nsids are global there)."""
    used = {e.get("nsid") for e in T.ip_json("netns", "list-id")}
    while True:
        n = random.randint(1 << 20, (1 << 31) - 1)
        if n not in used:
            return n


def substitute(v, subst):
    """The string "$NSID" becomes the number subst["$NSID"]; "$NS" inside strings a name."""
    if isinstance(v, str):
        if v == "$NSID":
            return subst["$NSID"]
        return v.replace("$NS", subst["$NS"])
    if isinstance(v, list):
        return [substitute(x, subst) for x in v]
    if isinstance(v, dict):
        return {substitute(k, subst): substitute(x, subst) for k, x in v.items()}
    return v


def match_response(expected, actual, path="$"):
    """The envelope and error objects must match exactly; a result may hold
    fields the example does not show (fields can be added to results)."""
    if not (isinstance(expected, dict) and isinstance(actual, dict)):
        return T.json_match(expected, actual, path)
    if set(expected) != set(actual):
        return "%s: keys %s != expected %s" % (path, sorted(actual), sorted(expected))
    for k in expected:
        err = T.json_match(expected[k], actual[k], "%s.%s" % (path, k), open_objects=k == "result")
        if err:
            return err
    return None


def match_reply(request, expected, actual):
    """Batch replies may come in any order: match them by id."""
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return "expected %d replies, got %d" % (len(expected), len(actual))
        if isinstance(request, list):
            key = lambda m: json.dumps(m.get("id") if isinstance(m, dict) else None)  # noqa: E731
            expected, actual = sorted(expected, key=key), sorted(actual, key=key)
        for i, (e, a) in enumerate(zip(expected, actual)):
            err = match_response(e, a, "$[%d]" % i)
            if err:
                return err
        return None
    return match_response(expected, actual)


@test
def examples_replay():
    """every exchange in protocol/examples/*.jsonl gives the documented response"""
    files = sorted(glob.glob(os.path.join(T.TOP_SRCDIR, "protocol", "examples", "*.jsonl")))
    assert files, "no examples in protocol/examples"
    d = T.Daemon()
    ns = P + "ex"
    subst = {"$NS": ns, "$NSID": free_nsid()}
    problems, count = [], 0
    for path in files:
        c = d.client()
        with open(path, encoding="utf-8") as f:
            for lineno, text in enumerate(f, 1):
                if not text.strip():
                    continue
                where = "%s:%d" % (os.path.basename(path), lineno)
                ex = json.loads(text)
                assert set(ex) == {"description", "request", "response"}, where
                request = substitute(ex["request"], subst)
                expected = substitute(ex["response"], subst)
                if isinstance(request, str):
                    data = request.encode() + (b"" if request.endswith("\n") else b"\n")
                    parsed = None
                    try:
                        parsed = json.loads(request)
                    except ValueError:
                        pass
                else:
                    data, parsed = encode(request), request
                count += 1
                if expected is None:
                    lines = exchange(c, data, sentinel="example-sentinel")
                    if lines:
                        problems.append("%s (%s): expected no reply, got %r"
                                        % (where, ex["description"], lines))
                    continue
                # Read the reply before the sentinel: a change is answered only
                # once it is durable, so a later ping may overtake it.
                c.send_raw(data)
                lines = [c.recv_line()]
                assert lines[0] is not None, "%s: connection closed" % where
                more = exchange(c, b"", sentinel="example-sentinel")
                if more:
                    problems.append("%s (%s): more than one reply: %r"
                                    % (where, ex["description"], lines + more))
                    continue
                err = match_reply(parsed, expected, json.loads(lines[0]))
                if err:
                    problems.append("%s (%s): %s\n  got %s" % (where, ex["description"], err,
                                                               lines[0].decode()))
        c.close()
    assert count >= 10, "only %d examples" % count
    assert not problems, "\n".join(problems)
    assert not T.prefixed_kernel_names(ns), "examples left namespaces behind"


if __name__ == "__main__":
    sys.exit(T.main())
