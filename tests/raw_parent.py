#!/usr/bin/env python3
"""A deliberately small parent for ocinit's protocol v2, in Python: it proves the protocol needs
nothing Rust-specific, and it can misbehave on purpose (truncated or oversized frames, EOF).

usage: raw_parent.py OCINIT MODE [ARG...]
  eof                    close the channel before sending anything
  short-header           send 2 bytes of a header, then close
  truncated              announce 100 bytes, send 10, close
  oversized              announce a frame one byte over the 1 MiB limit
  trailing               send a config frame and one more byte in the same write
  frame FILE [REPLY]     send FILE as the config; answer `ready` with REPLY (default {"type":"run"})
  die FILE TYPE          send FILE as the config, then die (no reply, no cleanup) when the init
                         sends a TYPE message (`start`: right after spawning, before the config)
Prints every frame the init sends, one JSON object a line, then `exit N` (N < 0: signal); a `pid`
frame is printed with the sender's pid from its credentials (SCM_CREDENTIALS) as "pid".
RAW_PARENT_WRAPPER=PROGRAM runs the init through PROGRAM (an emulator: qemu-aarch64-static);
RAW_PARENT_PDEATHSIG=N gives the init parent-death signal N (prctl in the child before exec);
RAW_PARENT_EXIT_AT_EOF=1 prints `init PID` and exits at once when the control channel closes
(the user process runs), instead of waiting for the init; the init's stdout and stderr are then /dev/null.
"""
import ctypes
import json
import os
import socket
import struct
import subprocess
import sys
import time

MAX_CONFIG = 1 << 20


def frame(data):
    return struct.pack("<I", len(data)) + data


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_header(sock):
    """The 4-byte header of the next frame and the pid of its sender (SCM_CREDENTIALS)."""
    buf, sender = b"", None
    while len(buf) < 4:
        chunk, ancillary, _, _ = sock.recvmsg(4 - len(buf), socket.CMSG_SPACE(12))
        if not chunk:
            return None, None
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                sender = struct.unpack("iII", data[:12])[0]
        buf += chunk
    return buf, sender


def main():
    init, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    # Every frame comes with its sender's credentials: the `pid` frame's pid is there.
    parent.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    env = {"_OCINIT_PROTOCOL": "2", "_OCINIT_CONTROL": str(child.fileno())}
    # RAW_PARENT_TYPE=exec: the init type for a process in a running container.
    if os.environ.get("RAW_PARENT_TYPE"):
        env["_OCINIT_TYPE"] = os.environ["RAW_PARENT_TYPE"]
    pdeathsig = int(os.environ.get("RAW_PARENT_PDEATHSIG", "0"))

    def give_pdeathsig():
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, pdeathsig, 0, 0, 0)

    wrapper = [os.environ["RAW_PARENT_WRAPPER"]] if os.environ.get("RAW_PARENT_WRAPPER") else []
    proc = subprocess.Popen(wrapper + [init], env=env, pass_fds=[child.fileno()], cwd=os.getcwd(),
                            stdin=subprocess.DEVNULL,
                            # A process that outlives us must not hold our caller's pipes.
                            stdout=subprocess.DEVNULL if os.environ.get("RAW_PARENT_EXIT_AT_EOF") else None,
                            stderr=subprocess.DEVNULL if os.environ.get("RAW_PARENT_EXIT_AT_EOF") else None,
                            preexec_fn=give_pdeathsig if pdeathsig else None)
    child.close()
    reply = b'{"type":"run"}'
    if mode == "eof":
        pass
    elif mode == "short-header":
        parent.sendall(b"\x05\x00")
    elif mode == "truncated":
        parent.sendall(struct.pack("<I", 100) + b'{"ociVersi')
    elif mode == "oversized":
        parent.sendall(struct.pack("<I", MAX_CONFIG + 1))
    elif mode == "trailing":
        parent.sendall(frame(b"{}") + b"{")
    elif mode == "die":
        print("init", proc.pid, flush=True)
        if args[1] == "start":
            os._exit(0)
        with open(args[0], "rb") as f:
            parent.sendall(frame(f.read()))
    elif mode == "frame":
        with open(args[0], "rb") as f:
            parent.sendall(frame(f.read()))
        if len(args) > 1:
            reply = args[1].encode()
    else:
        sys.exit("unknown mode " + mode)
    if mode not in ("frame", "die"):
        parent.shutdown(socket.SHUT_WR)
    parent.settimeout(10)
    while True:
        header, sender = read_header(parent)
        if header is None:
            break
        (length,) = struct.unpack("<I", header)
        payload = read_exact(parent, length)
        if payload is None:
            print("truncated frame from init")
            break
        msg = json.loads(payload)
        if msg.get("type") == "pid":
            msg["pid"] = sender
        print(json.dumps(msg, sort_keys=True), flush=True)
        if mode == "die" and msg.get("type") == args[1]:
            os._exit(0)
        if msg.get("type") == "ready":
            # RAW_PARENT_DELAY_RUN=SECONDS holds the reply back (tests widen a window with it).
            time.sleep(float(os.environ.get("RAW_PARENT_DELAY_RUN", "0")))
            parent.sendall(frame(reply))
    if os.environ.get("RAW_PARENT_EXIT_AT_EOF"):
        print("init", proc.pid, flush=True)
        os._exit(0)
    print("exit", proc.wait(timeout=10), flush=True)


main()
