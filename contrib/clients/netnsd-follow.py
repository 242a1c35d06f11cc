#!/usr/bin/env python3
"""netnsd-follow.py: follow netnsd's events and resume where it left off.

    netnsd-follow.py [--socket PATH] --cursor FILE [--topics T,T...] [--netns NAME]
                     [--resync] [--idle-exit SECONDS]

Prints every event as one JSON line on stdout.  After each event that has a
daemon-wide position (gseq) the cursor {"instance", "gseq"} is written to
FILE (atomically: temp file, rename).  Started again with the same FILE, it
subscribes with {since, instance} and netnsd first replays exactly the events
it missed, then live ones.  When netnsd cannot replay them all it says so
with a "gap" event, reported on stderr: N events no longer kept, or a cursor
from before a restart of netnsd (nothing known).  With --resync the
subscription also asks for the current state in that case (initial_state),
so what is printed converges on the kernel's state again.

--idle-exit stops after SECONDS without any event (for scripts and tests);
otherwise it runs until interrupted.  Python standard library only.
Exit status: 0, 1 on an error from netnsd or the connection, 2 on usage.
"""

import argparse
import json
import os
import socket
import sys


def load_cursor(path):
    try:
        with open(path) as f:
            c = json.load(f)
        return int(c["gseq"]), str(c["instance"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as e:
        raise SystemExit("netnsd-follow.py: unreadable cursor %s: %s" % (path, e))


def save_cursor(path, instance, gseq):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"instance": instance, "gseq": gseq}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def lines(sock):
    buf = b""
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield json.loads(line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--socket", default=os.environ.get("NETNSD_SOCKET",
                                                       "/run/netnsd/netnsd.sock"))
    ap.add_argument("--cursor", required=True)
    ap.add_argument("--topics")
    ap.add_argument("--netns")
    ap.add_argument("--resync", action="store_true")
    ap.add_argument("--idle-exit", type=float)
    args = ap.parse_args()

    params = {}
    if args.topics:
        params["topics"] = args.topics.split(",")
    if args.netns:
        params["netns"] = args.netns
    cursor = load_cursor(args.cursor)
    if cursor:
        params["since"], params["instance"] = cursor
        if args.resync:
            params["initial_state"] = True
    elif args.resync:
        params["initial_state"] = True

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        sock.connect(args.socket)
        sock.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "events.subscribe",
                                 "params": params}).encode() + b"\n")
        sock.settimeout(args.idle_exit)
        stream = lines(sock)
        reply = next(stream)
        if "error" in reply:
            sys.stderr.write("netnsd-follow.py: %s\n" % reply["error"].get("message"))
            return 1
        instance = reply["result"]["instance"]
        if not cursor or cursor[1] != instance:
            save_cursor(args.cursor, instance, reply["result"]["gseq"])
        for msg in stream:
            e = msg.get("params", {})
            if e.get("topic") == "daemon" and e.get("action") == "gap":
                if e.get("lost") is None:
                    sys.stderr.write("netnsd-follow.py: netnsd restarted since the cursor "
                                     "was saved; events in between are unknown\n")
                else:
                    sys.stderr.write("netnsd-follow.py: %d events are no longer kept by "
                                     "netnsd\n" % e["lost"])
            print(json.dumps(e, sort_keys=True), flush=True)
            if "gseq" in e:
                save_cursor(args.cursor, instance, e["gseq"])
    except socket.timeout:
        return 0
    except (OSError, StopIteration) as e:
        sys.stderr.write("netnsd-follow.py: %s\n" % (e or "netnsd closed the connection"))
        return 1
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
