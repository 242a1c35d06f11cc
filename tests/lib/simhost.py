"""Simulated hosts for multi-host tests and benchmarks.

A simulated host is a network namespace with its own mount namespace, in
which /run is a private tmpfs (so /run/netns is its own), held open by a
small holder process; its netnsd runs inside both namespaces (nsenter) with
its own socket, state and runtime directories in the test's temp dir.  Hosts
are joined by veth underlays with addresses from 198.18.0.0/15 (the
benchmarking range), configured only inside the simulated hosts.  Nothing
here touches the real host's interfaces, routes or /run/netns: the veth ends
are made with prefixed names and moved into the simulated hosts at once.
"""

import os
import signal
import subprocess
import time

import netnsd_test as T

_hosts = []


class SimHost(T.Daemon):
    """A netnsd in a namespace pair of its own, with a holder that outlives it."""

    def __init__(self, tag, *args):
        self.tag = tag
        self.holder = subprocess.Popen(
            ["unshare", "--net", "--mount", "--propagation", "private", "sh", "-c",
             "mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -p /run/netns && "
             "ip link set lo up && echo ready && exec sleep 1000000"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.holder.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError("simulated host %s did not start: %s" %
                               (tag, self.holder.stderr.read().decode(errors="replace")))
        _hosts.append(self)
        super().__init__(*args, start=False)
        self.runtime_dir = os.path.join(self.dir, "run")
        self.start()

    def nsenter(self, mount=True):
        return ["nsenter", "-t", str(self.holder.pid), "-n"] + (["-m"] if mount else [])

    def start(self, wait=True, extra=()):
        cmd = self.nsenter() + [T.NETNSD, "--socket", self.socket, "--state-dir",
                                self.state_dir, "--runtime-dir", self.runtime_dir,
                                "--log-level", "debug"] + self.args + list(extra)
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        env.pop("LISTEN_FDS", None)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, env=env)
        if wait:
            self.wait_ready()
        return self

    def sh(self, *cmd, check=True):
        """Run a command inside the simulated host (its net and mount namespaces)."""
        return T.run(self.nsenter() + list(cmd), check=check)

    def node(self, ns, *cmd, check=True):
        """Run a command inside namespace ns of this host."""
        return self.sh("ip", "netns", "exec", ns, *cmd, check=check)

    def netns_names(self):
        out = self.sh("ip", "netns", "list").stdout
        return sorted(line.split()[0] for line in out.splitlines() if line.strip())

    def links(self, ns=None):
        return T.json.loads(self.sh("ip", *(["-n", ns] if ns else []), "-j", "link").stdout
                            or "[]")

    def destroy(self):
        if self.alive():
            try:
                self.stop(signal.SIGKILL, timeout=5)
            except Exception:
                pass
        if self.holder.poll() is None:
            # The node namespaces' mounts live in the holder's mount namespace
            # and go with it; their devices go with the network namespaces.
            self.holder.kill()
            self.holder.wait()


class Switch:
    """An underlay segment: a bridge in a namespace of its own; hosts plug in with a veth."""

    def __init__(self, mtu=1500):
        self.holder = subprocess.Popen(
            ["unshare", "--net", "sh", "-c",
             "ip link add br0 type bridge && ip link set br0 up && echo ready && "
             "exec sleep 1000000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if self.holder.stdout.readline().strip() != b"ready":
            raise RuntimeError("switch did not start: %s" %
                               self.holder.stderr.read().decode(errors="replace"))
        _hosts.append(self)
        self.mtu = mtu
        self.net = "198.18.%d" % ((os.getpid() + len(_hosts)) % 250 + 1)
        self.count = 0

    def sh(self, *cmd, check=True):
        return T.run(["nsenter", "-t", str(self.holder.pid), "-n"] + list(cmd), check=check)

    def plug(self, host, dev="ul0"):
        """Give host an underlay interface dev on this segment; returns its address."""
        self.count += 1
        ea, eb = T.uniq("ua"), T.uniq("ub")
        T.run(["ip", "link", "add", ea, "mtu", str(self.mtu), "type", "veth", "peer", "name",
               eb, "mtu", str(self.mtu)])
        try:
            T.run(["ip", "link", "set", ea, "netns", str(host.holder.pid), "name", dev])
            T.run(["ip", "link", "set", eb, "netns", str(self.holder.pid)])
        except Exception:
            T.run(["ip", "link", "del", ea], check=False)
            T.run(["ip", "link", "del", eb], check=False)
            raise
        self.sh("ip", "link", "set", eb, "master", "br0", "up")
        addr = "%s.%d" % (self.net, self.count)
        host.sh("ip", "addr", "add", addr + "/24", "dev", dev)
        host.sh("ip", "link", "set", dev, "up")
        return addr

    def destroy(self):
        if self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait()


def cleanup():
    for h in _hosts:
        try:
            h.destroy()
        except Exception:
            pass


T.atexit.register(cleanup)
