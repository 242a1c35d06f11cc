#!/usr/bin/env python3
"""Memory that slow clients made netnsd hold goes back to the kernel.

Clients that pipeline requests without reading make netnsd queue replies
for them, up to half of --max-queued-bytes each (then it stops reading
them).  Those buffers grow by doubling; with glibc's floating mmap
threshold, from the second such burst on they came from the heap, each
growth step left its old copy behind as resident free heap (RSS about 1.75
times the bytes queued), and heap freed between live allocations stayed
resident after the clients left.  netnsd pins the threshold (daemon/main.c:
tune_malloc), so such buffers are mappings of their own.

Checked with the kernel's figures (RssAnon in /proc/PID/status), over three
bursts while other clients keep connections (and their buffers) open: at
the height of each burst RSS stays within 1.3 times the bytes queued, and
once the slow clients are gone it is back within 16 MiB of where it
started.  Not in a sanitizer build (ASan's allocator keeps freed memory in
its quarantine and ignores mallopt()).
"""

import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import netnsd_test as T  # noqa: E402
from netnsd_test import test, sanitized  # noqa: E402

SLOW = 10           # clients that never read, per burst
MAX_QUEUED = 16 << 20  # netnsd's default --max-queued-bytes: each is paused at half
QUEUED = SLOW * MAX_QUEUED // 2
MIB = 1 << 20
REQ = (json.dumps({"jsonrpc": "2.0", "id": 1, "method": "daemon.info"}) + "\n").encode()


def rss_anon(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no RssAnon in /proc/%d/status" % pid)


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
    if sanitized():
        raise T.Skip("sanitizer build: ASan's quarantine keeps freed memory resident")
    d = T.Daemon()
    pid = d.proc.pid
    keep = []
    try:
        base = rss_anon(pid)
        for burst in range(3):
            socks = []
            for _ in range(SLOW):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(d.socket)
                s.setblocking(False)
                socks.append(s)
                # A client that stays: its buffers sit between the slow ones' in the heap.
                k = d.client()
                k.call("daemon.info")
                keep.append(k)
            fill(d, socks)
            for k in keep:
                k.call("daemon.info")
            full = rss_anon(pid) - base
            print("# burst %d: RssAnon +%d MiB with about %d MiB queued" % (
                burst, full // MIB, QUEUED // MIB))
            # The burst happened (else this test proves nothing) ...
            assert full > QUEUED // 2, "RssAnon grew only %d MiB" % (full // MIB)
            # ... and costs about what it holds, not old copies too.
            assert full < QUEUED * 13 // 10, \
                "RssAnon +%d MiB for %d MiB queued" % (full // MIB, QUEUED // MIB)
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


if __name__ == "__main__":
    sys.exit(T.main())
