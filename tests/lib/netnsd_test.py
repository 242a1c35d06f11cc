"""Test harness for netnsd integration tests.

Starts real netnsd processes with every path overridden (--socket and
--state-dir in a private temporary directory), speaks JSON-RPC to them over
the Unix socket, names every kernel object with a prefix unique to this test
process, and removes those objects at exit even when a test fails.  Output is
TAP, one line per test function, so automake counts each case.
"""

import atexit
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

NETNSD = os.environ.get("NETNSD", os.path.abspath("daemon/netnsd"))
NETNSCTL = os.environ.get("NETNSCTL", os.path.abspath("client/netnsctl"))
TOP_SRCDIR = os.environ.get("TOP_SRCDIR", os.path.abspath("."))

# Short, so that prefix + a few characters still fits an interface name (15 bytes).
PREFIX = "t%04x%s" % (os.getpid() & 0xFFFF, random.choice("abcdefghjkmnpqrstuvwxyz"))
_counter = 0
_daemons = []
_tmpdirs = []


def uniq(tag=""):
    """A fresh name with this process's prefix (at most 15 bytes)."""
    global _counter
    _counter += 1
    return ("%s%s%d" % (PREFIX, tag, _counter))[:15]


def tmpdir():
    d = tempfile.mkdtemp(prefix="netnsd-test-")
    _tmpdirs.append(d)
    return d


class RpcError(Exception):
    def __init__(self, error):
        self.error = error
        self.code = error.get("code")
        self.data = error.get("data") or {}
        self.kind = self.data.get("kind")
        self.field = self.data.get("field")
        super().__init__("%s: %s (%s)" % (self.code, error.get("message"), self.data))


class Client:
    """One connection to a netnsd socket."""

    def __init__(self, path, timeout=20.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 1
        self.pending = []  # notifications that arrived while request() waited

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def send(self, obj):
        self.send_raw(json.dumps(obj) + "\n")

    def recv_line(self):
        """The next line (bytes), or None at EOF."""
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def recv(self):
        """The next message: a notification set aside by request() first."""
        if self.pending:
            return self.pending.pop(0)
        line = self.recv_line()
        return None if line is None else json.loads(line)

    def request(self, method, params=None, id=None):
        """Send one request and return the whole response object."""
        if id is None:
            id = self.next_id
            self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        while True:
            line = self.recv_line()
            if line is None:
                return None
            m = json.loads(line)
            # An event a subscription on this connection delivered meanwhile.
            if isinstance(m, dict) and "method" in m and "id" not in m:
                self.pending.append(m)
                continue
            return m

    def call(self, method, params=None):
        """The result of a call, or RpcError."""
        resp = self.request(method, params)
        if resp is None:
            raise ConnectionError("connection closed by netnsd")
        if "error" in resp:
            raise RpcError(resp["error"])
        return resp["result"]

    def expect_error(self, method, params=None):
        try:
            self.call(method, params)
        except RpcError as e:
            return e
        raise AssertionError("%s(%r) succeeded, expected an error" % (method, params))


class Daemon:
    """A netnsd process with private socket, state and runtime directories
    (a --runtime-dir in args is used instead of the private one)."""

    def __init__(self, *args, state_dir=None, env=None, start=True):
        self.dir = tmpdir()
        self.socket = os.path.join(self.dir, "netnsd.sock")
        self.state_dir = state_dir or os.path.join(self.dir, "state")
        self.runtime_dir = os.path.join(self.dir, "run")
        if "--runtime-dir" in args:
            self.runtime_dir = args[list(args).index("--runtime-dir") + 1]
        else:
            args = args + ("--runtime-dir", self.runtime_dir)
        self.args = list(args)
        self.env = env
        self.proc = None
        self.log_path = os.path.join(self.dir, "netnsd.log")
        _daemons.append(self)
        if start:
            self.start()

    def start(self, wait=True, extra=()):
        cmd = [NETNSD, "--socket", self.socket, "--state-dir", self.state_dir,
               "--log-level", "debug"] + self.args + list(extra)
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        env.pop("LISTEN_FDS", None)
        if self.env:
            env.update(self.env)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, env=env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=15.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("netnsd exited with %d:\n%s" % (self.proc.returncode, self.log_text()))
            try:
                c = Client(self.socket, timeout=5)
                c.call("daemon.ping")
                c.close()
                return
            except (OSError, ConnectionError):
                time.sleep(0.02)
        raise RuntimeError("netnsd did not become ready:\n" + self.log_text())

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def client(self):
        return Client(self.socket)

    def call(self, method, params=None):
        c = self.client()
        try:
            return c.call(method, params)
        finally:
            c.close()

    def expect_error(self, method, params=None):
        c = self.client()
        try:
            return c.expect_error(method, params)
        finally:
            c.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """Signal netnsd and return its exit status."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def restart(self):
        self.stop()
        return self.start()


def run(cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def ip_json(*args, netns=None):
    cmd = ["ip"] + (["-n", netns] if netns else []) + ["-j"] + list(args)
    out = run(cmd).stdout.strip()
    return json.loads(out) if out else []


def ip_netns_names():
    out = run(["ip", "netns", "list"]).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def netns_mounted(name):
    """True when /run/netns/NAME is an nsfs mount (what `ip netns` relies on)."""
    try:
        return os.stat("/run/netns/" + name).st_dev == os.stat("/proc/self/ns/net").st_dev
    except OSError:
        return False


def file_bytes(path):
    """A file's bytes; a directory's sorted names, NUL-separated; None when absent."""
    try:
        if os.path.isdir(path):
            return b"\0".join(n.encode() for n in sorted(os.listdir(path)))
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def journal_state(d):
    """The desired state as netnsd would load it: snapshot plus journal."""
    colls = {}
    try:
        with open(os.path.join(d.state_dir, "state.json")) as f:
            snap = json.load(f)
        colls = snap["collections"]
        seq = snap["seq"]
    except FileNotFoundError:
        seq = 0
    try:
        with open(os.path.join(d.state_dir, "journal.jsonl")) as f:
            for line in f:
                if not line.endswith("\n"):
                    break
                rec = json.loads(line)
                if rec["seq"] <= seq:
                    continue
                c = colls.setdefault(rec["c"], {})
                if rec["op"] == "put":
                    c[rec["k"]] = rec["v"]
                else:
                    c.pop(rec["k"], None)
    except FileNotFoundError:
        pass
    return {k: v for k, v in colls.items() if v}


def proc_alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def wait_for(pred, timeout=10.0, interval=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


def shims_of(d):
    """Live netnsd-shim processes working in d's runtime dir (by their command line)."""
    out = []
    for n in os.listdir("/proc"):
        if not n.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % n, "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0")[:-1]]
        except OSError:
            continue
        if len(argv) == 2 and argv[0].endswith("netnsd-shim") and \
                argv[1].startswith(d.runtime_dir + "/"):
            out.append(int(n))
    return out


def _ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def kill_and_reap(pid, timeout=10.0):
    """SIGKILL pid and wait until it is gone, reaping it if it is (or becomes, as an
    orphan given to us as a subreaper) our child; other children are left alone."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return

    def gone():
        if _ppid(pid) == os.getpid():
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        return not proc_alive(pid)
    wait_for(gone, timeout=timeout)


def simulate_reboot(d, namespaces):
    """What a reboot leaves of netnsd's world: kill -9 netnsd, end every shim and
    payload, drop the runtime dir and the namespaces' mounts."""
    d.kill9()
    for shim in shims_of(d):
        try:
            with open("/proc/%d/task/%d/children" % (shim, shim)) as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            kids = []
        kill_and_reap(shim)
        for pid in kids:
            kill_and_reap(pid)
    assert not shims_of(d)
    shutil.rmtree(d.runtime_dir)
    for ns in namespaces:
        run(["ip", "netns", "del", ns])
        assert not netns_mounted(ns)


def reap_children(timeout=3.0):
    """Reap our exited children (and, as a subreaper, the orphans given to us) until
    none is left or the time is up."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.05)


def cleanup():
    """Stop our daemons, remove our namespaces, links and temp dirs."""
    for d in _daemons:
        if d.alive():
            try:
                d.stop(signal.SIGKILL, timeout=5)
            except Exception:
                pass
    for name in ip_netns_names():
        if name.startswith(PREFIX):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
    try:
        for link in ip_json("link"):
            if link.get("ifname", "").startswith(PREFIX):
                subprocess.run(["ip", "link", "del", link["ifname"]], capture_output=True)
    except Exception:
        pass
    for d in os.listdir("/etc/netns") if os.path.isdir("/etc/netns") else []:
        if d.startswith(PREFIX):
            shutil.rmtree(os.path.join("/etc/netns", d), ignore_errors=True)
    for d in _tmpdirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(cleanup)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(99))

_tests = []


def test(fn):
    """Register a test function (runs in definition order)."""
    _tests.append(fn)
    return fn


class Skip(Exception):
    pass


def main():
    """Run the registered tests and print TAP; exit 1 if any failed."""
    if os.geteuid() != 0:
        print("1..0 # SKIP netnsd integration tests need root")
        return 0
    if not os.access(NETNSD, os.X_OK):
        print("1..0 # SKIP %s is not built" % NETNSD)
        return 0
    print("1..%d" % len(_tests))
    failed = 0
    for i, fn in enumerate(_tests, 1):
        name = fn.__name__
        doc = (fn.__doc__ or "").strip().splitlines()
        desc = name + (" - " + doc[0] if doc else "")
        t0 = time.time()
        try:
            fn()
            print("ok %d - %s" % (i, desc))
        except Skip as e:
            print("ok %d - %s # SKIP %s" % (i, desc, e))
        except Exception:
            failed += 1
            print("not ok %d - %s" % (i, desc))
            for line in traceback.format_exc().splitlines():
                print("# " + line)
            for d in _daemons:
                if d.proc:
                    print("# --- netnsd log (%s) ---" % d.dir)
                    for line in d.log_text().splitlines()[-30:]:
                        print("# " + line)
        sys.stdout.flush()
        if os.environ.get("NETNSD_TEST_TIMING"):
            print("# %.2fs" % (time.time() - t0))
    return 1 if failed else 0


# --- Helpers for bad-input, limits and example tests. ---

class RawNumber(str):
    """A JSON number kept as the exact text of its token."""


def loads_raw_numbers(text):
    """Parse JSON keeping every number (and NaN/Infinity) as RawNumber text."""
    return json.loads(text, parse_int=RawNumber, parse_float=RawNumber,
                      parse_constant=RawNumber)


def prefixed_kernel_names(prefix=None):
    """Every namespace trace containing PREFIX: `ip netns list`, /run/netns, /etc/netns."""
    prefix = prefix or PREFIX
    found = set()
    for name in ip_netns_names():
        if prefix in name:
            found.add("ip:" + name)
    for d in ("/run/netns", "/etc/netns"):
        try:
            for name in os.listdir(d):
                if prefix in name:
                    found.add(d + "/" + name)
        except FileNotFoundError:
            pass
    return found


def state_files(daemon):
    """{file: bytes or None} for the state files of a daemon (None: absent)."""
    return {name: file_bytes(os.path.join(daemon.state_dir, name))
            for name in ("state.json", "journal.jsonl")}


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


WILDCARD = "*"


def json_match(expected, actual, path="$", open_objects=False):
    """None when actual matches expected, else a description of the first difference.

    "*" matches any value that is present; a string ending in "*" matches any
    string with that prefix.  Objects must have the same keys (with open_objects,
    actual may have more: fields can be added); arrays the same length, element
    by element.
    """
    if expected == WILDCARD:
        return None
    if isinstance(expected, str) and expected.endswith(WILDCARD):
        if isinstance(actual, str) and actual.startswith(expected[:-1]):
            return None
        return "%s: %r does not start with %r" % (path, actual, expected[:-1])
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return "%s: expected an object, got %r" % (path, actual)
        if set(expected) != set(actual) and not (open_objects and set(expected) <= set(actual)):
            return "%s: keys %s != expected %s" % (path, sorted(actual), sorted(expected))
        for k in expected:
            err = json_match(expected[k], actual[k], "%s.%s" % (path, k), open_objects)
            if err:
                return err
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return "%s: expected %d items, got %r" % (path, len(expected), actual)
        for i, (e, a) in enumerate(zip(expected, actual)):
            err = json_match(e, a, "%s[%d]" % (path, i), open_objects)
            if err:
                return err
        return None
    if type(expected) is not type(actual) or expected != actual:
        return "%s: %r != expected %r" % (path, actual, expected)
    return None


def free_nsid():
    """An nsid no namespace has in the host (nsids are global there, and the
    kernel hands out low ones by itself when veth peers cross namespaces)."""
    taken = set()
    for line in run(["ip", "netns", "list-id"]).stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nsid" and parts[1].isdigit():
            taken.add(int(parts[1]))
    while True:
        n = random.randrange(100000, 2 ** 31 - 1)
        if n not in taken:
            return n


def sanitized(path=NETNSD):
    """True when the binary was built with AddressSanitizer: memory figures
    then include ASan's quarantine, and valgrind cannot run it."""
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False
