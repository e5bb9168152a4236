#!/usr/bin/env python3
"""Helpers for the integration suites (used through lib.sh).

  helper.py flatten FILE                    one-object check, then "path<TAB>compact JSON" per node
  helper.py one-object FILE                 FILE holds exactly one JSON object and nothing else
  helper.py no-secret ENVVAR FILE...        none of the FILEs contains the value of ENVVAR
  helper.py listen --port P --mode M ...    odd/hostile listeners on 127.0.0.1 (modes: see lib.sh)
"""
import json
import os
import sys


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    text = data.decode("utf-8")
    return json.loads(text)


def one_object(path):
    """None when the file holds exactly one JSON object and nothing else, else the problem."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return f"cannot read stdout: {e}"
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


def cmd_one_object(args):
    return one_object(args[0])


def cmd_flatten(args):
    """Print `__one_object__<TAB>ok|problem`, then `path<TAB>compact JSON` for every node."""
    problem = one_object(args[0])
    print(f"__one_object__\t{problem or 'ok'}".replace("\n", " "))
    try:
        doc = load(args[0])
    except Exception:  # noqa: BLE001
        return None

    def walk(prefix, node):
        if prefix:
            print(f"{prefix}\t{json.dumps(node, separators=(',', ':'), sort_keys=True)}")
        if isinstance(node, dict):
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(f"{prefix}.{i}" if prefix else str(i), v)

    walk("", doc)
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


def _key_fragments(key_dirs):
    """Every private key PEM below key_dirs -> its base64 lines and 24-byte windows of its DER."""
    import base64  # pylint: disable=import-outside-toplevel
    lines, windows = set(), set()
    for d in key_dirs:
        for root, _, files in os.walk(d):
            for name in files:
                path = os.path.join(root, name)
                try:
                    with open(path, "rb") as f:
                        text = f.read(1 << 20)
                except OSError:
                    continue
                if b"PRIVATE KEY-----" not in text:
                    continue
                inside, b64 = False, b""
                for raw in text.splitlines():
                    line = raw.strip()
                    if line.startswith(b"-----BEGIN") and b"PRIVATE KEY" in line:
                        inside, b64 = True, b""
                    elif line.startswith(b"-----END"):
                        inside = False
                        try:
                            der = base64.b64decode(b64)
                        except ValueError:
                            der = b""
                        for i in range(0, max(0, len(der) - 24)):
                            windows.add(der[i:i + 24])
                    elif inside and b":" not in line:
                        b64 += line
                        if len(line) >= 16:
                            lines.add(line)
    return lines, windows


def cmd_no_secrets(args):
    """no-secrets PWVAR CWD KEYDIRS(colon-separated) FILE...: no password, no key bytes, nothing written."""
    pw_var, cwd, key_dirs, paths = args[0], args[1], args[2], args[3:]
    secret = os.environ.get(pw_var, "").encode()
    lines, windows = _key_fragments([d for d in key_dirs.split(":") if d and os.path.isdir(d)])
    for path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue
        name = os.path.basename(path)
        if secret and secret in data:
            return f"the password appears in {name}"
        for line in lines:
            if line in data:
                return f"a line of a private key PEM appears in {name}"
        for w in windows:
            if w in data:
                return f"private key bytes appear in {name}"
    if os.path.isdir(cwd) and os.listdir(cwd):
        return f"the probe wrote files: {sorted(os.listdir(cwd))[:5]}"
    return None


# ------------------------------------------------------------------------------------------------
# listeners

def listen(argv):
    import argparse  # pylint: disable=import-outside-toplevel
    import socket  # pylint: disable=import-outside-toplevel
    import ssl  # pylint: disable=import-outside-toplevel
    import threading  # pylint: disable=import-outside-toplevel
    import time  # pylint: disable=import-outside-toplevel

    ap = argparse.ArgumentParser(prog="helper.py listen")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", required=True,
                    choices=["silent", "http-plain", "garbage", "record", "tls-close", "tls-garbage",
                             "tls-truncated", "tls-h2-silent", "tls-h2-goaway", "tls-h2-rst", "tls-h2-garbage", "tls-h2-headers",
                             "tls-h2-endless", "tls-h2-window0", "tls-h2-connwindow", "tls-chunked-trailers",
                             "tls-chunked-trailer-flood"])
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
        if a.mode.startswith("tls-h2-"):
            ctx.set_alpn_protocols(["h2"])  # picked when offered: the client speaks HTTP/2 to us

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

    # Raw HTTP/2 frames (RFC 9113 4.1: 24-bit length, type, flags, 31-bit stream id, payload).
    def frame(ftype, flags, stream, payload=b""):
        return len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + stream.to_bytes(4, "big") + payload

    def h2_answer(tconn, mode):
        read_some(tconn, 2.0)  # the client's preface, SETTINGS and HEADERS
        if mode == "tls-h2-silent":  # no SETTINGS, no response: the client's deadline ends it
            time.sleep(8)
        elif mode == "tls-h2-goaway":  # SETTINGS, then GOAWAY PROTOCOL_ERROR (last stream 0)
            tconn.sendall(frame(4, 0, 0) + frame(7, 0, 0, (0).to_bytes(4, "big") + (1).to_bytes(4, "big")))
            read_some(tconn, 1.0)
        elif mode == "tls-h2-rst":  # SETTINGS, then RST_STREAM REFUSED_STREAM on stream 1
            tconn.sendall(frame(4, 0, 0) + frame(3, 0, 1, (7).to_bytes(4, "big")))
            read_some(tconn, 1.0)
        elif mode == "tls-h2-headers":  # :status 200, then 100,000 header fields through CONTINUATION
            block = b"\x88" + b"\x00\x01x\x01y" * 100000  # HPACK: static :status 200; literal "x: y"
            chunks = [block[i:i + 16384] for i in range(0, len(block), 16384)]
            out = frame(4, 0, 0) + frame(1, 0, 1, chunks[0])
            for i, c in enumerate(chunks[1:], start=1):
                out += frame(9, 4 if i == len(chunks) - 1 else 0, 1, c)
            try:
                tconn.sendall(out)
            except OSError:
                pass
            read_some(tconn, 1.0)
        elif mode == "tls-h2-endless":  # :status 200, then DATA that never ends (4 MiB, or until closed)
            try:
                tconn.sendall(frame(4, 0, 0) + frame(4, 1, 0) + frame(1, 4, 1, b"\x88"))
                chunk = frame(0, 0, 1, b"x" * 16384)
                for _ in range(256):
                    tconn.sendall(chunk)
            except OSError:
                pass
        elif mode in ("tls-h2-window0", "tls-h2-connwindow"):
            # A window that never opens for the request body, then silence until the client gives up.
            # window0: SETTINGS_INITIAL_WINDOW_SIZE 0 (the connection's window opened wide, so only the
            # stream's is shut); connwindow: the stream's window is 1 MiB but the connection's stays at its
            # initial 65,535 bytes, no WINDOW_UPDATE for stream 0.
            initial = 0 if mode == "tls-h2-window0" else 1 << 20
            out = frame(4, 0, 0, (4).to_bytes(2, "big") + initial.to_bytes(4, "big")) + frame(4, 1, 0)
            if mode == "tls-h2-window0":
                out += frame(8, 0, 0, (1 << 24).to_bytes(4, "big"))
            tconn.sendall(out)
            deadline = time.monotonic() + 8
            tconn.settimeout(0.5)
            while time.monotonic() < deadline:  # read (and drop) what comes, never send a WINDOW_UPDATE
                try:
                    if not tconn.recv(65536):
                        break
                except socket.timeout:
                    continue
                except (OSError, ssl.SSLError):
                    break
        else:  # tls-h2-garbage: not HTTP/2 frames at all
            tconn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            read_some(tconn, 1.0)
        try:
            tconn.close()
        except OSError:
            pass

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
                if a.mode.startswith("tls-h2-"):
                    h2_answer(tconn, a.mode)
                    return
                req = read_request(tconn)
                print(f"request: {req[:60]!r}", flush=True)
                if a.mode == "tls-garbage":
                    tconn.sendall(b"\x00\x01\x02 NOT-HTTP garbage \xff\xfe\r\n\r\n")
                elif a.mode == "tls-chunked-trailers":  # a chunked body, then two trailer fields
                    tconn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
                                  b"5\r\nhello\r\n0\r\nX-Checksum: sha256=abc\r\nGrpc-Status: 0\r\n\r\n")
                elif a.mode == "tls-chunked-trailer-flood":  # 1,000 trailer fields: past the header count cap
                    tconn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n" +
                                  b"X-T: t\r\n" * 1000 + b"\r\n")
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
        "flatten": cmd_flatten,
        "no-secret": cmd_no_secret,
        "no-secrets": cmd_no_secrets,
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
