#!/usr/bin/env python3
"""faultline client adapter for ZooKeeper, using kazoo (PyPI).

One adapter per client process, bound to one server ($FAULTLINE_NODE) as a
Jepsen client is. Keys are znodes /faultline/<key>; values are JSON.
  get     plain read (served by the connected server: NOT linearizable),
          or with --sync a sync() first (the server catches up with the
          leader before reading).
  put     set, or create when absent
  cas     get + versioned set: [expected, new] (expected null: create)
  append  versioned read-modify-write, retried on a version race
A read that errs is `fail` (it changed nothing); a write that errs after
it may have been sent is `info`.
"""
import json
import logging
import os
import sys

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError

logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
SYNC = "--sync" in sys.argv
ROOT = "/faultline"
zk = None


def client():
    global zk
    if zk is None:
        c = KazooClient(hosts=os.environ["FAULTLINE_NODE"], timeout=4.0,
                        connection_retry=None, command_retry=None)
        c.start(timeout=2)
        c.ensure_path(ROOT)
        zk = c
    return zk


def enc(v):
    return json.dumps(v).encode()


def read(c, path):
    try:
        data, stat = c.get(path)
        return json.loads(data), stat.version
    except NoNodeError:
        return None, None


def handle(r):
    f, key, value = r["f"], r["key"], r.get("value")
    path = "%s/%s" % (ROOT, key)
    try:
        c = client()
    except Exception as e:  # never connected: nothing was sent
        return {"type": "fail", "error": "connect: %s" % e}
    try:
        if f == "get":
            if SYNC:
                c.sync(path)
            return {"type": "ok", "value": read(c, path)[0]}
        if f == "put":
            try:
                c.set(path, enc(value))
            except NoNodeError:
                try:
                    c.create(path, enc(value))
                except NodeExistsError:
                    c.set(path, enc(value))
            return {"type": "ok"}
        if f == "cas":
            expected, new = value
            if expected is None:
                try:
                    c.create(path, enc(new))
                    return {"type": "ok"}
                except NodeExistsError:
                    return {"type": "fail", "error": "cas: the key exists"}
            current, version = read(c, path)
            if version is None or current != expected:
                return {"type": "fail", "error": "cas: the value is %r" % (current,)}
            try:
                c.set(path, enc(new), version=version)
                return {"type": "ok"}
            except BadVersionError:
                return {"type": "fail", "error": "cas: the value changed"}
        if f == "append":
            while True:
                current, version = read(c, path)
                try:
                    if version is None:
                        c.create(path, enc(value))
                    else:
                        c.set(path, enc((current or "") + value), version=version)
                    return {"type": "ok"}
                except (BadVersionError, NodeExistsError):
                    continue
        return {"type": "fail", "error": "unknown f %r" % f}
    except Exception as e:
        return {"type": "fail" if f == "get" else "info", "error": "%s: %s" % (type(e).__name__, e)}


for line in sys.stdin:
    print(json.dumps(handle(json.loads(line))), flush=True)
