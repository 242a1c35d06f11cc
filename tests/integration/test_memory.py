#!/usr/bin/env python3
"""Memory that slow clients made netnsd hold goes back to the kernel.

Clients that pipeline requests without reading make netnsd queue replies
for them, up to half of --max-queued-bytes each (then it stops reading
them; all together stay under --max-queued-total-bytes here).  Those
buffers grow by doubling; with glibc's floating mmap threshold, from the
second such burst on they came from the heap, each growth step left its old
copy behind as resident free heap (RSS about 1.7 times the bytes queued),
and heap freed between live allocations stayed resident after the clients
left.  netnsd pins the threshold (daemon/main.c: tune_malloc), so such
buffers are mappings of their own, and gives a buffer back once it drained
(daemon/rpc.c).

Checked with the kernel's figures (RssAnon in /proc/PID/status) against
the bytes queued (daemon.info's memory.queued_bytes):
- over three bursts of clients that never read, while other clients keep
  connections open: at the height of each burst RSS grew by at most 1.3
  times the bytes queued, and once the slow clients are gone it is back
  within 16 MiB of where it started;
- clients that fell behind, then read all they were owed and stay
  connected: RSS back within 16 MiB.
Not in a sanitizer build (ASan's allocator keeps freed memory in its
quarantine and ignores mallopt()).
"""

import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import netnsd_test as T  # noqa: E402
from netnsd_test import test, sanitized  # noqa: E402

SLOW = 6  # clients that never read, per burst
MAX_QUEUED = 16 << 20  # netnsd's default --max-queued-bytes: each is paused at half
QUEUED = SLOW * MAX_QUEUED // 2  # 48 MiB, under the default --max-queued-total-bytes
MIB = 1 << 20
REQ = (json.dumps({"jsonrpc": "2.0", "id": 1, "method": "daemon.info"}) + "\n").encode()


def rss_anon(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no RssAnon in /proc/%d/status" % pid)


def start():
    """A netnsd (not in a sanitizer build) and its RssAnon to compare with."""
    if sanitized():
        raise T.Skip("sanitizer build: ASan's quarantine keeps freed memory resident")
    d = T.Daemon()
    return d, d.proc.pid, rss_anon(d.proc.pid)


def connect_slow(d, n):
    """n connections that will write without reading (non-blocking)."""
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(d.socket)
        s.setblocking(False)
        socks.append(s)
    return socks


def queued_bytes(client):
    """Bytes netnsd has queued for all clients (daemon.info), or what the slow clients
    must have when an older netnsd does not say."""
    return client.call("daemon.info").get("memory", {}).get("queued_bytes", QUEUED)


def fill(d, socks):
    """Pipeline daemon.info on socks without reading until netnsd stopped reading all of
    them (nothing more goes in for a while: their socket buffers are full).  Returns how
    many requests each was sent (whole lines: a cut one is completed)."""
    chunk = REQ * 200
    sent = [0] * len(socks)
    quiet_since = None
    while True:
        progress = 0
        for i, s in enumerate(socks):
            try:
                n = s.send(chunk)
            except BlockingIOError:
                continue
            sent[i] += n
            progress += n
        if progress:
            quiet_since = None
            continue
        if quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 3:
            break
        time.sleep(0.1)
    for i, s in enumerate(socks):
        rest = -sent[i] % len(REQ)
        if rest:
            s.setblocking(True)
            s.sendall(REQ[len(REQ) - rest:])
            s.setblocking(False)
            sent[i] += rest
    return [n // len(REQ) for n in sent]


@test
def slow_clients_memory_returned():
    """buffers of clients that never read are mappings, returned when they go"""
    d, pid, base = start()
    keep = []
    try:
        for burst in range(3):
            socks = connect_slow(d, SLOW)
            for _ in range(SLOW):
                # Clients that stay: their buffers sit between the slow ones' in the heap.
                k = d.client()
                k.call("daemon.info")
                keep.append(k)
            fill(d, socks)
            for k in keep:
                k.call("daemon.info")
            queued = queued_bytes(keep[0])
            full = rss_anon(pid) - base
            print("# burst %d: RssAnon +%d MiB with %d MiB queued" % (
                burst, full // MIB, queued // MIB))
            # The burst happened (else this test proves nothing) ...
            assert queued > QUEUED // 2 and full > QUEUED // 2, \
                "only %d MiB queued, RssAnon +%d MiB" % (queued // MIB, full // MIB)
            # ... and costs about what it holds, not old copies too.
            assert full < queued * 13 // 10, \
                "RssAnon +%d MiB for %d MiB queued" % (full // MIB, queued // MIB)
            for s in socks:
                s.close()
            # netnsd saw them go; one more round trip and their buffers were freed.
            assert T.wait_for(lambda: d.call("daemon.info")["counts"]["connections"] ==
                              len(keep) + 1, timeout=60), "the slow clients are still there"
            d.call("daemon.ping")
            after = rss_anon(pid) - base
            print("# burst %d: RssAnon +%d MiB after the slow clients left" % (
                burst, after // MIB))
            assert after < 16 * MIB, "RssAnon still +%d MiB after the slow clients left" % (
                after // MIB)
    finally:
        for k in keep:
            k.close()
    assert d.call("daemon.ping")["pong"]
    assert d.stop() == 0


@test
def caught_up_clients_memory_returned():
    """a client that caught up with its replies does not keep its burst's buffer"""
    d, pid, base = start()
    socks = connect_slow(d, SLOW)
    try:
        owed = fill(d, socks)
        full = rss_anon(pid) - base
        print("# behind: RssAnon +%d MiB" % (full // MIB))
        assert full > QUEUED // 2, "RssAnon grew only %d MiB" % (full // MIB)
        # Each reads every reply it was owed (netnsd reads the rest of its requests
        # meanwhile) and stays connected, with nothing queued.
        for s, n in zip(socks, owed):
            s.setblocking(True)
            s.settimeout(60)
            got = 0
            while got < n:
                data = s.recv(1 << 20)
                assert data, "netnsd hung up"
                got += data.count(b"\n")
        c = d.client()
        assert c.call("daemon.info")["counts"]["connections"] == SLOW + 1
        c.close()
        after = rss_anon(pid) - base
        print("# caught up: RssAnon +%d MiB" % (after // MIB))
        assert after < 16 * MIB, "RssAnon still +%d MiB" % (after // MIB)
    finally:
        for s in socks:
            s.close()
    assert d.stop() == 0


if __name__ == "__main__":
    sys.exit(T.main())
