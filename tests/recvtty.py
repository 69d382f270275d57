"""A console-socket receiver for the tests, like runc's recvtty: listen on a unix socket,
receive the pty master (SCM_RIGHTS), type INPUT into it, and copy everything the container
writes to OUT until the pty hangs up.

Usage: recvtty.py SOCKET OUT [INPUT]  (prints "ready" once listening)"""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
typed = sys.argv[3].encode() if len(sys.argv) > 3 else b""
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("ready", flush=True)
conn, _ = server.accept()
name, fds, _, _ = socket.recv_fds(conn, 4096, 1)
with open(out + ".name", "wb") as f:
    f.write(name + b" fds=%d" % len(fds))
master = fds[0]
if typed:
    os.write(master, typed)
with open(out, "wb") as f:
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: every holder of the peer is gone
            break
        if not chunk:
            break
        f.write(chunk)
        f.flush()
