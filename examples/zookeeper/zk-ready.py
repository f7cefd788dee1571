#!/usr/bin/env python3
"""Exit 0 once the ZooKeeper server at HOST:PORT serves (its `srvr` answer
names a Mode: leader or follower, i.e. it is in a quorum)."""
import socket
import sys

host, port = sys.argv[1].rsplit(":", 1)
try:
    with socket.create_connection((host, int(port)), timeout=1) as s:
        s.sendall(b"srvr")
        s.settimeout(1)
        out = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
except OSError:
    sys.exit(1)
sys.exit(0 if b"Mode: " in out else 1)
