#!/usr/bin/env python3
"""Helpers for the integration suites (used through lib.sh).

  helper.py one-object FILE                 FILE holds exactly one JSON object and nothing else
  helper.py get-eq FILE PATH VALUE          dotted PATH equals VALUE (VALUE parsed as JSON if it can be)
  helper.py get-contains FILE PATH SUB      string at PATH contains SUB (case-insensitive)
  helper.py get-in FILE PATH V1 V2 ...      value at PATH equals one of the values
  helper.py any-contains FILE PATH SUB      array at PATH has a string element containing SUB
  helper.py not-null FILE PATH              value at PATH exists and is not null
  helper.py get FILE PATH                   print the value at PATH as JSON (for tables)
  helper.py no-secret ENVVAR FILE...        none of the FILEs contains the value of ENVVAR
  helper.py listen --port P --mode M ...    hostile/odd listeners on 127.0.0.1 (see lib.sh)
"""
import argparse
import json
import os
import socket
import ssl
import sys
import threading

_MISSING = object()


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    text = data.decode("utf-8")
    return json.loads(text)


def get_path(doc, path):
    cur = doc
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return _MISSING
    return cur


def parse_value(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def same(a, b):
    # JSON true must not equal 1, false must not equal 0
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def cmd_one_object(args):
    with open(args[0], "rb") as f:
        data = f.read()
    if not data.strip():
        return "stdout is empty"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"stdout is not UTF-8: {e}"
    dec = json.JSONDecoder()
    s = text.lstrip()
    try:
        obj, end = dec.raw_decode(s)
    except ValueError as e:
        return f"stdout is not JSON: {e}"
    if not isinstance(obj, dict):
        return f"top-level value is {type(obj).__name__}, not an object"
    if s[end:].strip():
        return f"extra output after the JSON object: {s[end:end + 80]!r}"
    return None


def with_doc(fn):
    def run(args):
        try:
            doc = load(args[0])
        except Exception as e:  # noqa: BLE001
            return f"no JSON: {e}"
        return fn(doc, args[1:])
    return run


@with_doc
def cmd_get_eq(doc, args):
    path, want = args[0], parse_value(args[1])
    got = get_path(doc, path)
    if got is _MISSING:
        return f"field {path} missing"
    if not same(got, want):
        return f"got {json.dumps(got)}"
    return None


@with_doc
def cmd_get_contains(doc, args):
    path, sub = args
    got = get_path(doc, path)
    if got is _MISSING:
        return f"field {path} missing"
    if not isinstance(got, str):
        return f"got {json.dumps(got)}, not a string"
    if sub.lower() not in got.lower():
        return f"got {json.dumps(got)}"
    return None


@with_doc
def cmd_get_in(doc, args):
    path, wants = args[0], [parse_value(v) for v in args[1:]]
    got = get_path(doc, path)
    if got is _MISSING:
        return f"field {path} missing"
    if not any(same(got, w) for w in wants):
        return f"got {json.dumps(got)}"
    return None


@with_doc
def cmd_any_contains(doc, args):
    path, sub = args
    got = get_path(doc, path)
    if got is _MISSING:
        return f"field {path} missing"
    if not isinstance(got, list):
        return f"got {json.dumps(got)}, not an array"
    if not any(isinstance(x, str) and sub.lower() in x.lower() for x in got):
        return f"got {json.dumps(got)}"
    return None


@with_doc
def cmd_not_null(doc, args):
    got = get_path(doc, args[0])
    if got is _MISSING:
        return f"field {args[0]} missing"
    if got is None:
        return "got null"
    return None


def cmd_get(args):
    try:
        doc = load(args[0])
    except Exception:  # noqa: BLE001
        print("<no json>")
        return None
    got = get_path(doc, args[1])
    print("<missing>" if got is _MISSING else json.dumps(got))
    return None


def cmd_no_secret(args):
    secret = os.environ.get(args[0], "")
    if not secret:
        return f"environment variable {args[0]} is empty"
    for path in args[1:]:
        try:
            with open(path, "rb") as f:
                if secret.encode() in f.read():
                    return f"secret found in {os.path.basename(path)}"
        except FileNotFoundError:
            pass
    return None


# ------------------------------------------------------------------------------------------------
# listeners

def listen(argv):
    ap = argparse.ArgumentParser(prog="helper.py listen")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", required=True,
                    choices=["silent", "http-plain", "garbage", "record", "tls-close", "tls-garbage",
                             "tls-truncated"])
    ap.add_argument("--record")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    a = ap.parse_args(argv)

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", a.port))
    srv.listen(16)

    ctx = None
    if a.mode.startswith("tls-"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)

    held = []  # 'silent' keeps accepted sockets open for the process lifetime
    lock = threading.Lock()

    def record():
        if a.record:
            with lock, open(a.record, "a") as f:
                f.write("connection\n")

    def read_some(conn, timeout=5.0):
        conn.settimeout(timeout)
        try:
            return conn.recv(65536)
        except (OSError, socket.timeout):
            return b""

    def read_request(conn, timeout=5.0):
        conn.settimeout(timeout)
        buf = b""
        try:
            while b"\r\n\r\n" not in buf and len(buf) < 65536:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                buf += chunk
        except (OSError, socket.timeout, ssl.SSLError):
            pass
        return buf

    def handle(conn):
        try:
            record()
            if a.mode == "silent":
                with lock:
                    held.append(conn)
                return
            if a.mode == "record":
                conn.close()
                return
            if a.mode == "http-plain":
                read_some(conn)
                conn.sendall(b"HTTP/1.0 200 OK\r\n\r\nhello")
            elif a.mode == "garbage":
                read_some(conn)
                conn.sendall(b"\x00\x01garbage\xff\xfe this is not TLS\r\n" * 4)
            else:
                conn.settimeout(5.0)
                try:
                    tconn = ctx.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    print(f"handshake failed: {e}", flush=True)
                    conn.close()
                    return
                req = read_request(tconn)
                print(f"request: {req[:60]!r}", flush=True)
                if a.mode == "tls-garbage":
                    tconn.sendall(b"\x00\x01\x02 NOT-HTTP garbage \xff\xfe\r\n\r\n")
                elif a.mode == "tls-truncated":
                    tconn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n"
                                  b"Content-Type: text/plain\r\n\r\nonly a few bytes")
                # tls-close: no answer at all
                try:
                    tconn.unwrap()
                except (ssl.SSLError, OSError):
                    pass
                tconn.close()
                return
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        finally:
            if a.mode != "silent":
                try:
                    conn.close()
                except OSError:
                    pass

    print(f"ready {a.mode} on 127.0.0.1:{a.port}", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "listen":
        listen(args)
        return 0
    fn = {
        "one-object": cmd_one_object,
        "get-eq": cmd_get_eq,
        "get-contains": cmd_get_contains,
        "get-in": cmd_get_in,
        "get": cmd_get,
        "any-contains": cmd_any_contains,
        "not-null": cmd_not_null,
        "no-secret": cmd_no_secret,
    }.get(cmd)
    if fn is None:
        print(f"unknown command {cmd}", file=sys.stderr)
        return 2
    msg = fn(args)
    if msg:
        print(msg)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
