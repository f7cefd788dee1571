#!/usr/bin/env python3
"""tinykv: a deliberately NON-replicated key/value node for faultline's
`--system` tests. Every node is independent (no replication at all): a
client bound to node 2 never sees a write made on node 1, which is exactly
the stale read faultline must catch. Bound to one node only (the primary
configuration) it is linearizable, and it survives kill -9: each write is
in its data file before it is acknowledged.

Protocol: one JSON object per line, the same as faultline's adapter
protocol: {"f": "get|put|cas|append", "key": .., "value": ..} answered by
{"type": "ok|fail", "value": ..}.

usage: tinykv.py --listen HOST:PORT --data DIR
"""
import argparse
import json
import os
import socketserver
import threading

LOCK = threading.Lock()
KV = {}
PATH = None


def save():
    tmp = PATH + ".tmp"
    with open(tmp, "w") as f:
        json.dump(KV, f)
    os.replace(tmp, PATH)


def apply(r):
    f, key, value = r.get("f"), r.get("key"), r.get("value")
    with LOCK:
        if f == "get":
            return {"type": "ok", "value": KV.get(key)}
        if f == "put":
            KV[key] = value
        elif f == "append":
            KV[key] = (KV.get(key) or "") + value
        elif f == "cas":
            expected, new = value
            if KV.get(key) != expected:
                return {"type": "fail", "error": "cas: the value differs"}
            KV[key] = new
        else:
            return {"type": "fail", "error": "unknown f %r" % f}
        save()
        return {"type": "ok"}


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            answer = apply(json.loads(line))
            self.wfile.write((json.dumps(answer) + "\n").encode())
            self.wfile.flush()


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    global PATH, KV
    p = argparse.ArgumentParser()
    p.add_argument("--listen", required=True)
    p.add_argument("--data", required=True)
    a = p.parse_args()
    os.makedirs(a.data, exist_ok=True)
    PATH = os.path.join(a.data, "kv.json")
    if os.path.exists(PATH):
        with open(PATH) as f:
            KV = json.load(f)
    host, port = a.listen.rsplit(":", 1)
    print("tinykv serving on %s, data %s, %d key(s)" % (a.listen, a.data, len(KV)), flush=True)
    Server((host, int(port)), Handler).serve_forever()


if __name__ == "__main__":
    main()
