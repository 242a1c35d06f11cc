#!/usr/bin/env python3
"""Where a running netnsd's memory is: heap in use against RSS, and the
buffers that account for it, read with gdb (a diagnostic, not a test).

    tests/stress/memprobe.py PID [PID ...]        one JSON line per PID

gdb attaches for a moment (netnsd stops for well under a second), calls
glibc's mallinfo2() and walks netnsd's own tables (connections and their
input/output buffers, the event ring), then detaches.  Needs gdb and a
netnsd built with debug info (the default -g); the figures from glibc also
need libc6-dbg (Debian), without it they are absent.  Fields (bytes):

  heap_in_use    malloc'd and not freed (mallinfo2 uordblks + hblkhd)
  heap_free      free inside the arenas, kept by malloc (fordblks)
  heap_mmap      of heap_in_use, chunks of their own mmap (hblkhd)
  heap_top_pad   free at the top of the main arena, trimmable (keepcost)
  conns          connections; out_queued: reply/event bytes not yet sent;
                 out_cap / in_cap: what their output / input buffers hold;
                 conns_queued_over_1m: how many have more than 1 MiB unsent;
                 queued_top: the 8 largest unsent amounts
  subscriptions, ring_events, ring_bytes: the event bus

used by tests/stress/soak.py (--gdb-probe) when daemon.info has no memory
object.
"""

import json
import subprocess
import sys
import tempfile

GDB_SCRIPT = r"""
import gdb, json
out = {}
try:
    m = gdb.parse_and_eval("mallinfo2()")
    out["heap_in_use"] = int(m["uordblks"]) + int(m["hblkhd"])
    out["heap_free"] = int(m["fordblks"])
    out["heap_mmap"] = int(m["hblkhd"])
    out["heap_top_pad"] = int(m["keepcost"])
except gdb.error as e:
    out["heap_error"] = str(e)
try:
    c = gdb.parse_and_eval("'rpc.c'::rpc.conns")
    n = unsent = ocap = icap = 0
    each = []
    while int(c) != 0:
        n += 1
        u = int(c["out_len"]) - int(c["out_off"])
        unsent += u
        each.append(u)
        ocap += int(c["out_cap"])
        icap += int(c["in_cap"])
        c = c["next"]
    each.sort(reverse=True)
    out.update(conns=n, out_queued=unsent, out_cap=ocap, in_cap=icap,
               conns_queued_over_1m=sum(1 for u in each if u > 1 << 20),
               queued_top=each[:8])
    s = gdb.parse_and_eval("'events.c'::bus.stats")
    out.update(subscriptions=int(s["subscriptions"]), ring_events=int(s["ring_events"]),
               ring_bytes=int(s["ring_bytes"]))
except gdb.error as e:
    out["tables_error"] = str(e)
print("MEMPROBE " + json.dumps(out))
"""


def probe(pid, timeout=60):
    """A dict of the figures above for netnsd PID ({} when gdb is missing or failed)."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", prefix="memprobe-") as script:
        script.write(GDB_SCRIPT)
        script.flush()
        try:
            p = subprocess.run(["gdb", "-p", str(pid), "-batch", "-nx", "-x", script.name],
                               capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            return {}
    for line in p.stdout.splitlines():
        if line.startswith("MEMPROBE "):
            return json.loads(line[len("MEMPROBE "):])
    return {}


def proc_status(pid):
    """VmRSS, RssAnon, RssFile (KiB) from /proc/PID/status."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k = line.split(":")[0]
            if k in ("VmRSS", "RssAnon", "RssFile", "VmData"):
                out[k] = int(line.split()[1])
    return out


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__.split("\n\n")[1])
    for a in sys.argv[1:]:
        d = proc_status(int(a))
        d.update(probe(int(a)))
        print(json.dumps(d, sort_keys=True))
