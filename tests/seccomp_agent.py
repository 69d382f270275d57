"""A seccomp notify agent for the tests: listen on a unix socket, receive the runtime's
ContainerProcessState with the listener fd (SCM_RIGHTS), answer every notified syscall with
the value 4242, and record the state it got.

Usage: seccomp_agent.py SOCKET STATE_OUT COUNT  (prints "ready" once listening)"""
import fcntl
import json
import socket
import struct
import sys

NOTIF_RECV = 0xC0502100  # _IOWR('!', 0, struct seccomp_notif), 80 bytes
NOTIF_SEND = 0xC0182101  # _IOWR('!', 1, struct seccomp_notif_resp), 24 bytes

path, state_out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("ready", flush=True)
conn, _ = server.accept()
message, fds, _, _ = socket.recv_fds(conn, 65536, 1)
with open(state_out, "w") as f:
    json.dump({"state": json.loads(message), "fds": len(fds)}, f)
for _ in range(count):
    notif = bytearray(80)
    fcntl.ioctl(fds[0], NOTIF_RECV, notif)
    notif_id = struct.unpack_from("<Q", notif, 0)[0]
    fcntl.ioctl(fds[0], NOTIF_SEND, bytearray(struct.pack("<QqiI", notif_id, 4242, 0, 0)))
