#!/usr/bin/env python3
"""(Re)writes the seed corpora in tests/fuzz/corpus/{url,resolve,header,http_response,http2_response,diagnosis}.

The identity seeds are made at fuzz time by make_identity_seeds.sh (certificates expire: none is kept in
the repo). Run from anywhere: python3 tests/fuzz/make_seeds.py
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    assert len(data) < 4096, (target, name, len(data))
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


URLS = {
    "plain": "https://example.com",
    "port_path_query_fragment": "https://example.com:8443/api/v1/health?verbose=1&x=%20#top",
    "ipv6_port": "https://[::1]:8443/",
    "ipv6_zone": "https://[fe80::1%25eth0]:8443/status",
    "ipv4": "https://127.0.0.1/",
    "upper_trailing_dot": "HTTPS://Example.COM.:443/Path",
    "query_only": "https://host.internal?x=1",
    "non_ascii_path": "https://xn--bcher-kva.example/b\u00fccher",
    "empty_port": "https://host:/",
    "http_refused": "http://example.com/",
    "userinfo_refused": "https://user:pw@example.com/",
    "no_scheme": "example.com:8443/x",
    "bad_ipv4": "https://127.1/",
    "hex_ipv4": "https://0x7f.0.0.1/",
    "ipv6_unbracketed": "https://::1:443/",
    "long_label": "https://" + "a" * 64 + ".example/",
    "space": "https://example.com/a b",
}

RESOLVES = {
    "v4": "example.com:443:127.0.0.1",
    "v6_and_v4": "example.com:8443:[::1],127.0.0.1",
    "wildcard": "*:443:10.0.0.1",
    "plus_bare_v6": "+api.example.com:443:::1",
    "bracket_host": "[::1]:443:127.0.0.1",
    "remove_refused": "-example.com:443",
    "port_zero": "host:0:1.2.3.4",
    "name_as_address": "host:443:localhost",
    "many": "h:1:" + ",".join("10.0.0.%d" % i for i in range(1, 70)),
    "zone": "h:443:[fe80::1%eth0]",
}

HEADERS = {
    "simple": "X-Api-Key: abc123",
    "replace_host": "Host: other.example",
    "remove_accept": "Accept:",
    "empty_value": "X-Empty;",
    "tab_value": "X-Tab:\tv\t",
    "utf8_value": "X-Name: J\u00fcrgen",
    "crlf_injection": "X-A: 1\r\nX-Injected: 2",
    "method_and_headers": "PATCH\nX-A: 1\nHost: h.example\nUser-Agent:\nConnection: keep-alive",
    "post_with_types": "POST\nContent-Type: application/json\nContent-Length: 5\nAuthorization: Bearer t",
    "bad_method": "GE T\nX: y",
    "bad_name": "Bad Name: v",
    "colon_in_name_semicolon": "X;: v",
}

NGINX_400 = (
    "<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n<body>\r\n"
    "<center><h1>400 Bad Request</h1></center>\r\n"
    "<center>No required SSL certificate was sent</center>\r\n"
    "<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n"
)


def resp(flags, body, splits=(), limits=None):
    """flags: bit 0 HEAD, bit 1 small limits; the split count goes in bits 4-6."""
    assert len(splits) <= 7
    head = bytes([(flags & 3) | (2 if limits else 0) | (len(splits) << 4)])
    if limits:
        head += bytes(limits)
    head += bytes(splits)
    return head + (body.encode("latin-1") if isinstance(body, str) else body)


RESPONSES = {
    "ok_content_length": resp(0, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"),
    "chunked_ext_trailers": resp(
        0,
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
        splits=(3, 20, 1, 1, 40, 2),
    ),
    "nginx_400_no_cert": resp(
        0,
        "HTTP/1.1 400 Bad Request\r\nServer: nginx/1.22.1\r\nDate: Sun, 23 Nov 2025 10:00:00 GMT\r\n"
        "Content-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
        % (len(NGINX_400), NGINX_400),
        splits=(17, 100),
    ),
    "continue_then_ok": resp(0, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    "head_response": resp(1, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"),
    "read_until_close": resp(0, "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody until the peer closes"),
    "no_content": resp(0, "HTTP/1.1 204 No Content\r\n\r\n"),
    "switching": resp(0, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"),
    "small_limits_chunked": resp(
        0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n",
        splits=(1, 2, 3, 4, 5, 6, 7), limits=(40, 4, 8, 6)),
    "small_limits_endless": resp(0, "HTTP/1.1 200 OK\r\n\r\n" + "x" * 300, limits=(30, 2, 10, 50)),
    "obs_fold_lf_only": resp(0, "HTTP/1.1 200 OK\nX-Long: a\n  b\n\tc\nContent-Length: 0\n\n"),
    "content_length_list": resp(0, "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc"),
    "conflicting_length": resp(0, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
    "bad_status": resp(0, "HTTP/1.1 20 OK\r\n\r\n"),
    "not_http_tls_alert": resp(0, b"\x15\x03\x03\x00\x02\x02\x28"),
    "chunk_overflow": resp(0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n"),
    "chunk_crlf_bad": resp(0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n"),
    "space_before_colon": resp(0, "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nhi"),
    "truncated_body": resp(0, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"),
    "status_prefix_split": resp(0, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
                                splits=(1, 1, 1, 1, 1, 1, 1)),
}


# ---- http2_response: flags, [body size / 512], [limits], [split lengths - 1], then the server's frames.
END_EOF, END_RESET, END_OPEN, END_FAILED = 0, 1, 2, 3


def h2(frames, end=END_EOF, body_units=None, limits=None, splits=(), trace=False):
    """body_units: the request body's size in 512-byte units (None: no body)."""
    assert len(splits) <= 7
    flags = (1 if body_units is not None else 0) | (2 if limits else 0) | (end << 2) | (len(splits) << 4)
    head = bytes([flags | (0x80 if trace else 0)])
    if body_units is not None:
        head += bytes([body_units])
    if limits:
        head += bytes(limits)
    head += bytes(s - 1 for s in splits)
    return head + b"".join(frames)


def frame(ftype, flags, stream, payload=b""):
    """RFC 9113 4.1: 24-bit length, type, flags, 31-bit stream id, payload."""
    return len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + stream.to_bytes(4, "big") + payload


F_DATA, F_HEADERS, F_PRIORITY, F_RST_STREAM, F_SETTINGS, F_PUSH_PROMISE, F_PING, F_GOAWAY, F_WINDOW_UPDATE, F_CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED = 0x1, 0x1, 0x4, 0x8


def lit(name, value):
    """HPACK literal field without indexing, new name (RFC 7541 6.2.2), short strings only."""
    n, v = name.encode(), value.encode()
    return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v


def setting(ident, value):
    return ident.to_bytes(2, "big") + value.to_bytes(4, "big")


PREFACE = frame(F_SETTINGS, 0, 0, setting(3, 100) + setting(4, 65535)) + frame(F_SETTINGS, ACK, 0)
STATUS_200 = b"\x88"  # indexed :status 200
OK_HEADERS = frame(F_HEADERS, END_HEADERS, 1, STATUS_200 + lit("content-type", "text/plain") + lit("server", "fuzz"))


F_DATA_END = frame(F_DATA, END_STREAM, 1, b"end")


def continuation_run(fields, per_frame, end_stream=False):
    block = STATUS_200 + b"".join(lit("x-%d" % i, "v" * (i % 7)) for i in range(fields))
    chunks = [block[i:i + per_frame] for i in range(0, len(block), per_frame)]
    out = [frame(F_HEADERS, (END_STREAM if end_stream else 0) | (END_HEADERS if len(chunks) == 1 else 0), 1,
                 chunks[0])]
    for i, c in enumerate(chunks[1:], start=1):
        out.append(frame(F_CONTINUATION, END_HEADERS if i == len(chunks) - 1 else 0, 1, c))
    return out


RESPONSES_H2 = {
    "ok_headers_data": h2([PREFACE, OK_HEADERS, frame(F_DATA, END_STREAM, 1, b"hello")], splits=(9, 30, 9, 5)),
    "ok_traced": h2([PREFACE, OK_HEADERS, frame(F_DATA, 0, 1, b"hel"), frame(F_DATA, END_STREAM, 1, b"lo")],
                    trace=True),
    "ok_bytewise": h2([PREFACE, OK_HEADERS, frame(F_DATA, END_STREAM, 1, b"ok")], splits=(1,) * 7),
    "ok_trailers": h2([PREFACE, OK_HEADERS, frame(F_DATA, 0, 1, b"\x00\x00\x00\x00\x00"),
                       frame(F_HEADERS, END_HEADERS | END_STREAM, 1, lit("grpc-status", "0") + lit("grpc-message", "ok"))],
                      trace=True),
    "ok_padded_data": h2([PREFACE, OK_HEADERS, frame(F_DATA, END_STREAM | PADDED, 1, b"\x04body" + b"\x00" * 4)]),
    "interim_100_then_200": h2([PREFACE, frame(F_HEADERS, END_HEADERS, 1, b"\x08\x03100"), OK_HEADERS,
                                frame(F_DATA, END_STREAM, 1, b"after 100")]),
    "headers_only_end_stream": h2([PREFACE, frame(F_HEADERS, END_HEADERS | END_STREAM, 1, b"\x8d")]),  # :status 404
    "goaway_protocol_error": h2([frame(F_SETTINGS, 0, 0), frame(F_GOAWAY, 0, 0, (0).to_bytes(4, "big") +
                                                              (1).to_bytes(4, "big") + b"debug data")]),
    "goaway_after_response": h2([PREFACE, OK_HEADERS, frame(F_DATA, END_STREAM, 1, b"x"),
                                 frame(F_GOAWAY, 0, 0, (1).to_bytes(4, "big") + (0).to_bytes(4, "big"))]),
    "rst_http_1_1_required": h2([PREFACE, frame(F_RST_STREAM, 0, 1, (0xd).to_bytes(4, "big"))], trace=True),
    "rst_refused_stream": h2([frame(F_SETTINGS, 0, 0), frame(F_RST_STREAM, 0, 1, (7).to_bytes(4, "big"))]),
    "rst_after_headers": h2([PREFACE, OK_HEADERS, frame(F_RST_STREAM, 0, 1, (2).to_bytes(4, "big"))], end=END_RESET),
    "continuation_run": h2([PREFACE] + continuation_run(60, 100) + [frame(F_DATA, END_STREAM, 1, b"c")]),
    "continuation_run_over_caps": h2([PREFACE] + continuation_run(40, 50, end_stream=True),
                                     limits=(40, 12, 16, 40), splits=(30, 17, 60)),
    "continuation_run_over_count_cap": h2([PREFACE] + continuation_run(40, 60) + [F_DATA_END],
                                          limits=(255, 12, 16, 40)),
    # nghttp2 (Debian's 1.52) ends the session after 8 CONTINUATION frames: a flood is its error, not ours
    "continuation_flood": h2([PREFACE] + continuation_run(60, 20)),
    "continuation_wrong_stream": h2([PREFACE, frame(F_HEADERS, 0, 1, STATUS_200), frame(F_CONTINUATION, END_HEADERS, 3,
                                                                                      lit("a", "b"))]),
    "window0_body": h2([frame(F_SETTINGS, 0, 0, setting(4, 0)), frame(F_SETTINGS, ACK, 0),
                        frame(F_WINDOW_UPDATE, 0, 0, (1 << 24).to_bytes(4, "big"))], end=END_OPEN, body_units=200),
    "connection_window_body": h2([frame(F_SETTINGS, 0, 0, setting(4, 1 << 20)), frame(F_SETTINGS, ACK, 0)],
                                 end=END_OPEN, body_units=200),
    "window_opens_late": h2([frame(F_SETTINGS, 0, 0, setting(4, 0)), frame(F_WINDOW_UPDATE, 0, 1, (100).to_bytes(4, "big")),
                             OK_HEADERS, frame(F_DATA, END_STREAM, 1, b"done")], body_units=1),
    "small_limits_endless_data": h2([PREFACE, OK_HEADERS] + [frame(F_DATA, 0, 1, b"d" * 70)] * 8,
                                    limits=(200, 15, 20, 150)),
    "ping_priority_unknown": h2([PREFACE, frame(F_PING, 0, 0, b"12345678"), frame(F_PRIORITY, 0, 1, bytes(5)),
                                 frame(0x42, 0, 0, b"unknown"), OK_HEADERS, frame(F_DATA, END_STREAM, 1, b"p")],
                                trace=True),
    "push_promise_refused": h2([PREFACE, frame(F_PUSH_PROMISE, END_HEADERS, 1, (2).to_bytes(4, "big") + STATUS_200)]),
    "silent_after_settings": h2([PREFACE], end=END_OPEN),
    "tls_failure_mid_body": h2([PREFACE, OK_HEADERS, frame(F_DATA, 0, 1, b"partial")], end=END_FAILED),
    "http1_bytes": h2([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]),
}


def main():
    for name, u in URLS.items():
        write("url", name, u)
    for name, r in RESOLVES.items():
        write("resolve", name, r)
    for name, h in HEADERS.items():
        write("header", name, h)
    for name, r in RESPONSES.items():
        write("http_response", name, r)
    for name, r in RESPONSES_H2.items():
        write("http2_response", name, r)
    rng = random.Random(4)
    for i in range(8):
        write("diagnosis", "random_%d" % i, bytes(rng.randrange(256) for _ in range(64 << (i % 5))))
    write("diagnosis", "zeros", bytes(256))
    write("diagnosis", "ones", b"\xff" * 256)


if __name__ == "__main__":
    main()
