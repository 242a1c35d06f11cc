#!/usr/bin/env python3
"""netnsd-fd.py: descriptor passing with netnsd, in the Python standard library only.

    netnsd-fd.py [--socket PATH] links NAME
        Ask netnsd for namespace NAME as a descriptor (netns.open), setns()
        into it and print its links (socket.if_nameindex() after the switch),
        one "INDEX NAME" per line.  No path under /run/netns is used.

    netnsd-fd.py [--socket PATH] wait [--netns NAME] -- PROGRAM [ARG]...
        Start PROGRAM through netnsd (proc.spawn with "pidfd": true), wait
        for it through the pidfd it passed, then print its status (proc.get)
        as JSON.  The program is a child of netnsd's supervisor, not of this
        script, so the pidfd is only polled: it becomes readable when the
        program exits (waitid(P_PIDFD) is for one's own children).

Replies that carry descriptors must be read with recvmsg() (here
socket.recvmsg), never with plain read()/recv(): the kernel would close
the descriptors.  They arrive with the bytes of their reply line, or
earlier, never later, in the order of the lines that name them; "fd": I
in a result is the I-th descriptor of that line.

Exit status: 0, 1 when netnsd returned an error, 2 on usage errors.
"""

import array
import ctypes
import json
import os
import select
import socket
import sys

CLONE_NEWNET = 0x40000000
MAX_FDS = 64  # netnsd never passes more with one line


class Netnsd:
    """One connection: requests one at a time, replies with their descriptors."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        self.sock.connect(path)
        self.buf = b""
        self.fds = []  # received, not yet given to a line
        self.next_id = 1

    def _fill(self):
        cmsg_space = socket.CMSG_SPACE(MAX_FDS * array.array("i").itemsize)
        data, anc, flags, _ = self.sock.recvmsg(1 << 16, cmsg_space, socket.MSG_CMSG_CLOEXEC)
        if flags & socket.MSG_CTRUNC:
            raise OSError("descriptors were truncated (MSG_CTRUNC)")
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
                self.fds.extend(fds)
        if not data:
            raise ConnectionError("netnsd closed the connection")
        self.buf += data

    def call(self, method, params=None):
        """(result, descriptors of the reply line); raises RuntimeError on an error reply."""
        rid = self.next_id
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": rid, "method": method, "params": params or {}}
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            while b"\n" not in self.buf:
                self._fill()
            line, self.buf = self.buf.split(b"\n", 1)
            reply = json.loads(line)
            if reply.get("id") != rid:
                continue  # an event notification: not ours here
            if "error" in reply:
                raise RuntimeError("%s: %s" % (method, reply["error"].get("message")))
            result = reply["result"]
            # This script sends one request at a time, so every descriptor
            # received up to now belongs to this line.
            fds, self.fds = self.fds, []
            return result, fds


def setns(fd, nstype):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, nstype) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def cmd_links(conn, name):
    result, fds = conn.call("netns.open", {"name": name})
    fd = fds[result["fd"]]
    st = os.fstat(fd)
    if st.st_ino != result["inode"]:
        raise RuntimeError("descriptor inode %d, netnsd said %d" % (st.st_ino, result["inode"]))
    for other in fds:
        if other != fd:
            os.close(other)
    setns(fd, CLONE_NEWNET)  # this process is single-threaded: the whole of it moves
    os.close(fd)
    for index, ifname in socket.if_nameindex():
        print(index, ifname)
    return 0


def cmd_wait(conn, netns, argv):
    params = {"argv": argv, "pidfd": True}
    if netns:
        params["netns"] = netns
    result, fds = conn.call("proc.spawn", params)
    if result.get("pidfd") is None:
        # It ended before netnsd could open a pidfd: proc.get has its status already.
        status, _ = conn.call("proc.get", {"id": result["id"]})
    else:
        pidfd = fds[result["pidfd"]]
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        while not poller.poll():
            pass
        os.close(pidfd)
        # Exited; netnsd learns the status from the supervisor a moment later.
        status, _ = conn.call("proc.wait", {"id": result["id"]})
    print(json.dumps(status, sort_keys=True))
    return 0


def usage():
    sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
    return 2


def main(argv):
    path = os.environ.get("NETNSD_SOCKET", "/run/netnsd/netnsd.sock")
    if len(argv) >= 2 and argv[0] == "--socket":
        path, argv = argv[1], argv[2:]
    if not argv:
        return usage()
    try:
        conn = Netnsd(path)
        if argv[0] == "links" and len(argv) == 2:
            return cmd_links(conn, argv[1])
        if argv[0] == "wait":
            rest, netns = argv[1:], None
            if len(rest) >= 2 and rest[0] == "--netns":
                netns, rest = rest[1], rest[2:]
            if len(rest) >= 2 and rest[0] == "--":
                return cmd_wait(conn, netns, rest[1:])
        return usage()
    except (OSError, RuntimeError, ConnectionError) as e:
        sys.stderr.write("netnsd-fd.py: %s\n" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
