#!/usr/bin/env python3
"""Misbehaving servers on 127.0.0.1 for suite_hostile.sh (python3 standard library only).

  hostile_server.py --cert CHAIN.pem --key KEY.pem MODE=PORT [MODE=PORT ...]
  hostile_server.py gen-ca-bundle TEMPLATE.pem COUNT OUT.pem

One process serves every MODE on its own port (one thread per connection) and prints "ready" once all
ports are bound. Every sender is bounded (bytes, time, and it stops when the peer goes away), so a probe
that stops reading cannot keep this process busy.

Modes (TLS ones use --cert/--key; "after a good handshake" means a real TLS handshake first, then the
probe's request is read):
  silent            accept and never send anything (the connection stays open)
  drip-handshake    read the ClientHello, then send the real server flight one byte per second
  mid-handshake     read the ClientHello, send the first half of the real server flight, close
  garbage           plain: read, then send non-TLS garbage (up to 4 MB) and close
  bad-record        plain: read, send a TLS handshake record header announcing 65535 bytes, then junk
  alert-storm       TLS 1.2: read the ClientHello, then send plaintext warning alerts (unrecognized_name)
                    back to back, up to 100,000 of them
  alert-interleave  TLS 1.2: before every plaintext record of the server's handshake flights, send 4
                    warning alerts (one short of OpenSSL's limit of 5 in a row); then answer HTTP 200
  drip              after a good handshake: a valid 200 response, one byte per second
  tls-garbage       after a good handshake: non-HTTP garbage, then close
  endless-body      after a good handshake: 200 without Content-Length, then body bytes until the peer
                    leaves (at most 256 MB)
  endless-chunked   the same with Transfer-Encoding: chunked, chunks forever
  huge-length       the same with Content-Length: 1000000000000
  big-header-line   200, then one 1 MiB header line
  many-headers      200, then 100,000 short headers
  interim-storm     "HTTP/1.1 100 Continue" interim responses, forever (at most 256 MB)
  close-after-client-cert  TLS 1.2 with a CertificateRequest (--client-ca): once the client's answer to it
                    arrives, close the connection without an alert
  close-no-notify   after a good handshake: 200 without Content-Length, a short body, then a TCP close
                    without close_notify
"""
import base64
import socket
import ssl
import sys
import threading
import time

MAX_SEND = 256 * 1024 * 1024  # per connection, for every endless sender
CONN_LIFETIME = 40.0           # seconds: every handler gives up after this

OK_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n"
WARN_UNRECOGNIZED_NAME = b"\x15\x03\x03\x00\x02\x01\x70"  # alert record: warning(1) unrecognized_name(112)


class Gone(Exception):
    """The peer went away or the handler's budget ran out."""


class Conn:
    """A socket with a deadline for the whole connection."""

    def __init__(self, sock):
        self.sock = sock
        self.deadline = time.monotonic() + CONN_LIFETIME
        self.sent = 0

    def _left(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Gone("lifetime over")
        return left

    def recv(self, n=65536):
        self.sock.settimeout(min(self._left(), 10.0))
        try:
            data = self.sock.recv(n)
        except (OSError, socket.timeout) as e:
            raise Gone(str(e)) from e
        if not data:
            raise Gone("eof")
        return data

    def send(self, data):
        if self.sent + len(data) > MAX_SEND:
            raise Gone("send budget used up")
        self.sock.settimeout(min(self._left(), 10.0))
        try:
            self.sock.sendall(data)
        except (OSError, socket.timeout) as e:
            raise Gone(str(e)) from e
        self.sent += len(data)

    def read_record(self):
        """One TLS record (header + body) from the plain socket."""
        buf = b""
        while len(buf) < 5:
            buf += self.recv(5 - len(buf))
        need = 5 + int.from_bytes(buf[3:5], "big")
        while len(buf) < need:
            buf += self.recv(need - len(buf))
        return buf


def split_records(data):
    """Splits bytes that hold whole TLS records into a list of records."""
    out = []
    while len(data) >= 5:
        n = 5 + int.from_bytes(data[3:5], "big")
        out.append(data[:n])
        data = data[n:]
    if data:
        out.append(data)
    return out


class BioTls:
    """A server-side TLS connection driven through memory BIOs, so that the raw records can be inspected,
    delayed or mixed with extra records before they go out."""

    def __init__(self, conn, ctx, on_output=None):
        self.conn = conn
        self.inc = ssl.MemoryBIO()
        self.out = ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inc, self.out, server_side=True)
        self.on_output = on_output or conn.send

    def flush(self):
        data = self.out.read()
        if data:
            self.on_output(data)

    def handshake(self):
        while True:
            try:
                self.tls.do_handshake()
                self.flush()
                return
            except ssl.SSLWantReadError:
                self.flush()
            except ssl.SSLError as e:
                self.flush()
                raise Gone(f"handshake: {e}") from e
            self.inc.write(self.conn.recv())

    def read_request(self):
        buf = b""
        while b"\r\n\r\n" not in buf and len(buf) < 65536:
            try:
                buf += self.tls.read(65536)
            except ssl.SSLWantReadError:
                self.flush()
                self.inc.write(self.conn.recv())
            except ssl.SSLError as e:
                raise Gone(str(e)) from e
        return buf

    def write(self, data):
        self.tls.write(data)
        self.flush()


def server_ctx(cert, key, tls12=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


# ------------------------------------------------------------------------------------------------
# handlers: each gets the accepted Conn and the options


def h_silent(conn, opts):
    with opts["lock"]:
        opts["held"].append(conn.sock)  # keep it open until the process ends
    raise Gone("held")


def first_flight(conn, opts, tls12=False):
    """Reads the ClientHello and returns the server's real first flight (bytes)."""
    hello = conn.read_record()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = server_ctx(opts["cert"], opts["key"], tls12).wrap_bio(inc, out, server_side=True)
    inc.write(hello)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    except ssl.SSLError as e:
        raise Gone(str(e)) from e
    return out.read()


def h_drip_handshake(conn, opts):
    flight = first_flight(conn, opts)
    for i in range(len(flight)):
        conn.send(flight[i:i + 1])
        time.sleep(1.0)


def h_mid_handshake(conn, opts):
    flight = first_flight(conn, opts)
    conn.send(flight[: max(1, len(flight) // 2)])


def h_garbage(conn, opts):
    conn.recv()
    junk = b"\x00\x01garbage\xff\xfe this is not TLS at all\r\n" * 1024
    for _ in range(4 * 1024 * 1024 // len(junk)):
        conn.send(junk)


def h_bad_record(conn, opts):
    conn.recv()
    conn.send(b"\x16\x03\x03\xff\xff" + b"\x42" * 65535)


def h_alert_storm(conn, opts):
    conn.read_record()  # the ClientHello
    batch = WARN_UNRECOGNIZED_NAME * 1000
    for _ in range(100):
        conn.send(batch)


def h_alert_interleave(conn, opts):
    state = {"ccs_sent": False}

    def send_with_alerts(data):
        for rec in split_records(data):
            if not state["ccs_sent"] and rec[0] in (20, 22):  # plaintext ChangeCipherSpec / handshake
                conn.send(WARN_UNRECOGNIZED_NAME * 4)
            if rec[0] == 20:
                state["ccs_sent"] = True
            conn.send(rec)

    t = BioTls(conn, server_ctx(opts["cert"], opts["key"], tls12=True), on_output=send_with_alerts)
    t.handshake()
    t.read_request()
    t.write(OK_RESPONSE)
    try:
        t.tls.unwrap()
    except (ssl.SSLError, ssl.SSLWantReadError):
        pass
    t.flush()


def after_handshake(conn, opts):
    t = BioTls(conn, server_ctx(opts["cert"], opts["key"]))
    t.handshake()
    t.read_request()
    return t


def endless(t, head, piece):
    t.write(head)
    for _ in range(MAX_SEND // len(piece)):
        t.write(piece)


def h_drip(conn, opts):
    t = after_handshake(conn, opts)
    for i in range(len(OK_RESPONSE)):
        t.write(OK_RESPONSE[i:i + 1])
        time.sleep(1.0)


def h_tls_garbage(conn, opts):
    t = after_handshake(conn, opts)
    t.write(b"\x00\x01\x02 NOT-HTTP garbage \xff\xfe\r\n\r\n" * 64)


def h_endless_body(conn, opts):
    endless(after_handshake(conn, opts), b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", b"x" * 16384)


def h_endless_chunked(conn, opts):
    endless(after_handshake(conn, opts), b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"4000\r\n" + b"y" * 0x4000 + b"\r\n")


def h_huge_length(conn, opts):
    endless(after_handshake(conn, opts), b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n",
            b"z" * 16384)


def h_big_header_line(conn, opts):
    t = after_handshake(conn, opts)
    t.write(b"HTTP/1.1 200 OK\r\nX-Big: ")
    for _ in range(64):
        t.write(b"a" * 16384)
    t.write(b"\r\nContent-Length: 0\r\n\r\n")


def h_many_headers(conn, opts):
    t = after_handshake(conn, opts)
    t.write(b"HTTP/1.1 200 OK\r\n")
    block = b"".join(b"X-H-%06d: v\r\n" % i for i in range(1000))
    for _ in range(100):
        t.write(block)
    t.write(b"Content-Length: 0\r\n\r\n")


def h_close_after_client_cert(conn, opts):
    ctx = server_ctx(opts["cert"], opts["key"], tls12=True)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cafile=opts["client_ca"])
    t = BioTls(conn, ctx)
    t.inc.write(conn.read_record())  # ClientHello
    try:
        t.tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    t.flush()               # ServerHello .. CertificateRequest .. ServerHelloDone
    conn.read_record()      # the client's answer starts with its Certificate: close without a word


def h_close_no_notify(conn, opts):
    t = after_handshake(conn, opts)
    t.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello, then a close without close_notify\n")


def h_interim_storm(conn, opts):
    endless(after_handshake(conn, opts), b"", b"HTTP/1.1 100 Continue\r\n\r\n" * 512)


HANDLERS = {
    "silent": h_silent,
    "drip-handshake": h_drip_handshake,
    "mid-handshake": h_mid_handshake,
    "garbage": h_garbage,
    "bad-record": h_bad_record,
    "alert-storm": h_alert_storm,
    "alert-interleave": h_alert_interleave,
    "drip": h_drip,
    "tls-garbage": h_tls_garbage,
    "endless-body": h_endless_body,
    "endless-chunked": h_endless_chunked,
    "huge-length": h_huge_length,
    "big-header-line": h_big_header_line,
    "many-headers": h_many_headers,
    "interim-storm": h_interim_storm,
    "close-after-client-cert": h_close_after_client_cert,
    "close-no-notify": h_close_no_notify,
}


def serve(argv):
    import argparse  # pylint: disable=import-outside-toplevel
    ap = argparse.ArgumentParser(prog="hostile_server.py")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--client-ca", help="CA bundle for the modes that request a client certificate")
    ap.add_argument("listeners", nargs="+", metavar="MODE=PORT")
    a = ap.parse_args(argv)
    opts = {"cert": a.cert, "key": a.key, "client_ca": a.client_ca, "lock": threading.Lock(), "held": []}

    def handle(mode, sock):
        conn = Conn(sock)
        try:
            HANDLERS[mode](conn, opts)
        except Gone:
            pass
        except Exception as e:  # noqa: BLE001 — log and go on serving
            print(f"{mode}: {type(e).__name__}: {e}", flush=True)
        if mode != "silent":
            try:
                sock.close()
            except OSError:
                pass

    def accept_loop(mode, srv):
        while True:
            sock, _ = srv.accept()
            threading.Thread(target=handle, args=(mode, sock), daemon=True).start()

    servers = []
    for item in a.listeners:
        mode, _, port = item.partition("=")
        if mode not in HANDLERS:
            sys.exit(f"unknown mode {mode}")
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", int(port)))
        srv.listen(16)
        servers.append((mode, srv))
    for mode, srv in servers:
        threading.Thread(target=accept_loop, args=(mode, srv), daemon=True).start()
    print("ready " + " ".join(a.listeners), flush=True)
    while True:
        time.sleep(3600)


def gen_ca_bundle(template, count, out_path):
    """COUNT (< 100,000) distinct self-signed CA certificates made from TEMPLATE, whose subject (= issuer)
    is the placeholder "CN=h00000": the placeholder is rewritten in the DER (same length, so the encoding
    stays valid). The signatures no longer verify, which does not matter for a CA *names* list: OpenSSL
    reads the names without checking signatures. The names are short on purpose: a CertificateRequest
    carries its CA list in a vector of at most 65535 bytes (RFC 5246 7.4.4, RFC 8446 4.2.4), so about 3,100
    such names fit (a server that lists more fails its own handshake with internal_error)."""
    with open(template, "rb") as f:
        pem = f.read()
    b64 = b"".join(line for line in pem.splitlines() if line and not line.startswith(b"-----"))
    der = base64.b64decode(b64)
    marker = b"h00000"
    if der.count(marker) < 2:
        sys.exit("template does not hold the placeholder CN in subject and issuer")
    with open(out_path, "wb") as f:
        for i in range(count):
            d = der.replace(marker, b"h%05d" % i)
            text = base64.encodebytes(d).replace(b"\n", b"")
            f.write(b"-----BEGIN CERTIFICATE-----\n")
            for j in range(0, len(text), 64):
                f.write(text[j:j + 64] + b"\n")
            f.write(b"-----END CERTIFICATE-----\n")


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "gen-ca-bundle":
        gen_ca_bundle(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return 0
    serve(sys.argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
