#!/usr/bin/env python3
"""A fake DNS server on 127.0.0.1 (UDP and TCP) for the DNS suites: never a real one.

  fake_dns.py --mode nxdomain|silent --log FILE
    nxdomain: answers every query NXDOMAIN (rcode 3); silent: reads and never answers.
Prints "ready PORT" on stdout once bound (UDP and TCP on the same port); logs each query name to FILE.
"""
import argparse
import selectors
import socket
import struct


def qname(packet):
    labels, i = [], 12
    while i < len(packet) and packet[i] != 0:
        n = packet[i]
        labels.append(packet[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    return ".".join(labels), i + 5  # name, end of the question (QTYPE, QCLASS)


def nxdomain(query):
    _, end = qname(query)
    (qid,) = struct.unpack("!H", query[:2])
    rd = query[2] & 0x01
    header = struct.pack("!HBBHHHH", qid, 0x80 | rd, 0x80 | 3, 1, 0, 0, 0)
    return header + query[12:end]


def bind_pair():
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind(("127.0.0.1", port))
        except OSError:
            udp.close()
            tcp.close()
            continue
        tcp.listen(8)
        return udp, tcp, port
    raise SystemExit("no free port for UDP and TCP")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["nxdomain", "silent"], required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    udp, tcp, port = bind_pair()
    log = open(a.log, "a", buffering=1)
    print(f"ready {port}", flush=True)
    sel = selectors.DefaultSelector()
    sel.register(udp, selectors.EVENT_READ, "udp")
    sel.register(tcp, selectors.EVENT_READ, "tcp")
    held = []  # silent mode keeps TCP connections open, unanswered
    while True:
        for key, _ in sel.select():
            if key.data == "udp":
                data, peer = udp.recvfrom(4096)
                log.write(f"udp {qname(data)[0]}\n")
                if a.mode == "nxdomain":
                    udp.sendto(nxdomain(data), peer)
            elif key.data == "tcp":
                conn, _ = tcp.accept()
                sel.register(conn, selectors.EVENT_READ, "conn")
            else:
                conn = key.fileobj
                data = conn.recv(4096)
                if not data:
                    sel.unregister(conn)
                    conn.close()
                    continue
                log.write(f"tcp {qname(data[2:])[0]}\n")
                if a.mode == "nxdomain":
                    reply = nxdomain(data[2:])
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
                else:
                    held.append(conn)


if __name__ == "__main__":
    main()
