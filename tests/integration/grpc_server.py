#!/usr/bin/env python3
"""A real gRPC server (Debian's python3-grpcio, gRPC C-core) that requires client certificates.

Two servers in one process, both with grpc.ssl_server_credentials(..., require_client_auth=True):
  * the first answers grpc.health.v1.Health/Check: service "" -> SERVING, "down" -> NOT_SERVING,
    "forbidden" -> PERMISSION_DENIED (context.abort), anything else -> NOT_FOUND (as the standard
    health servicer answers an unknown service);
  * the second registers no method at all: every call is UNIMPLEMENTED.
The health service's Python package is not in Debian, so the handler is generic, with identity (bytes)
serializers, and the few protobuf bytes are encoded by hand.

Prints "ready HEALTH_PORT BARE_PORT" once both listen on 127.0.0.1; runs until SIGTERM/SIGINT.
"""
import argparse
import signal
import sys
import threading
from concurrent import futures

import grpc

HEALTH_CHECK = "/grpc.health.v1.Health/Check"
SERVING, NOT_SERVING = 1, 2


def read_varint(data, pos):
    value, shift = 0, 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def service_of(request):
    """HealthCheckRequest {string service = 1}: the service name ("" when absent)."""
    pos, service = 0, ""
    while pos < len(request):
        key, pos = read_varint(request, pos)
        wire = key & 7
        if wire == 0:
            _, pos = read_varint(request, pos)
        elif wire == 2:
            length, pos = read_varint(request, pos)
            if key >> 3 == 1:
                service = request[pos:pos + length].decode("utf-8", "replace")
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ValueError("bad wire type")
    return service


def health_response(status):
    """HealthCheckResponse {ServingStatus status = 1}."""
    return bytes([0x08, status])


def check(request, context):
    try:
        service = service_of(request)
    except ValueError:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "malformed HealthCheckRequest")
    if service == "":
        return health_response(SERVING)
    if service == "down":
        return health_response(NOT_SERVING)
    if service == "forbidden":
        context.abort(grpc.StatusCode.PERMISSION_DENIED, "policy: this client may not check \"forbidden\"")
    context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")


class HealthHandler(grpc.GenericRpcHandler):
    def service(self, handler_call_details):
        if handler_call_details.method == HEALTH_CHECK:
            return grpc.unary_unary_rpc_method_handler(check)  # no (de)serializers: bytes in, bytes out
        return None


def start(credentials, handlers):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=handlers)
    port = server.add_secure_port("127.0.0.1:0", credentials)
    if port == 0:
        sys.exit("cannot listen on 127.0.0.1")
    server.start()
    return server, port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True, help="server certificate chain (PEM)")
    ap.add_argument("--key", required=True, help="server key (PEM)")
    ap.add_argument("--client-ca", required=True, help="CA bundle that issues client certificates (PEM)")
    args = ap.parse_args()
    with open(args.key, "rb") as f:
        key = f.read()
    with open(args.cert, "rb") as f:
        chain = f.read()
    with open(args.client_ca, "rb") as f:
        client_ca = f.read()
    credentials = grpc.ssl_server_credentials([(key, chain)], root_certificates=client_ca,
                                              require_client_auth=True)
    health, health_port = start(credentials, [HealthHandler()])
    bare, bare_port = start(credentials, [])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"ready {health_port} {bare_port}", flush=True)
    stop.wait()
    health.stop(0)
    bare.stop(0)


if __name__ == "__main__":
    main()
