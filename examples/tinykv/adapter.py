#!/usr/bin/env python3
"""faultline client adapter for tinykv: JSON lines in on stdin, one answer
line out on stdout per request. It talks to its own node
($FAULTLINE_NODE), or with --primary to the first node of $FAULTLINE_NODES.

Test knobs (environment): TINYKV_CRASH_EVERY=N exits without answering
every N-th request; TINYKV_HANG_EVERY=N never answers the N-th request.
"""
import json
import os
import socket
import sys
import time

addr = os.environ["FAULTLINE_NODE"]
if "--primary" in sys.argv:
    addr = os.environ["FAULTLINE_NODES"].split(",")[0]
host, port = addr.rsplit(":", 1)
crash = int(os.environ.get("TINYKV_CRASH_EVERY", "0"))
hang = int(os.environ.get("TINYKV_HANG_EVERY", "0"))
conn = None
n = 0

for line in sys.stdin:
    n += 1
    if crash and n % crash == 0:
        os._exit(3)
    if hang and n % hang == 0:
        time.sleep(3600)
    req = json.loads(line)
    try:
        if conn is None:
            conn = socket.create_connection((host, int(port)), timeout=1).makefile("rw")
    except OSError as e:
        # Never sent: certainly not applied.
        print(json.dumps({"type": "fail", "error": "connect: %s" % e}), flush=True)
        continue
    try:
        conn.write(line if line.endswith("\n") else line + "\n")
        conn.flush()
        answer = conn.readline()
        if not answer:
            raise OSError("connection closed")
        print(answer.strip(), flush=True)
    except OSError as e:
        conn = None
        # Sent, maybe applied; a read changed nothing.
        kind = "fail" if req["f"] == "get" else "info"
        print(json.dumps({"type": kind, "error": str(e)}), flush=True)
