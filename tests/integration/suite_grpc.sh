#!/usr/bin/env bash
# --grpc-health against a real gRPC server (Debian's python3-grpcio: gRPC C-core over OpenSSL) that
# requires client certificates (grpc_server.py), and against `mtls-probe serve --http2 --grpc-health`.
# grpc-core ends a connection whose client certificate is missing or does not verify with a plain TCP
# close, no alert (docs/server-stacks.md): under TLS 1.3 right after our Finished, under TLS 1.2 inside the
# handshake. The verdicts come from the TLS facts as for any server; only a standing connection reaches the
# gRPC rules (grpc-status, serving status).
#
#   bash suite_grpc.sh /path/to/mtls-probe
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_tmp
gen_pki

"$PY" -c 'import grpc' 2>/dev/null || die "python3-grpcio is not installed ($PY; scripts/install-deps.sh)"
d="$TMP/grpcio"
mkdir -p "$d"
"$PY" -I "$INTEG_DIR/grpc_server.py" --cert "$PKI/server-chain.pem" --key "$PKI/server.key" \
  --client-ca "$PKI/client-ca-bundle.pem" >"$d/out" 2>"$d/err" </dev/null &
GRPC_PID=$!
track_pid "$GRPC_PID" grpcio "$d/err"
for ((i = 0; i < 300; i++)); do
  read -r _ P_HEALTH P_BARE < <(grep '^ready ' "$d/out" 2>/dev/null) && break
  kill -0 "$GRPC_PID" 2>/dev/null || { cat "$d/err" >&2; die "grpc_server.py died"; }
  sleep 0.02
done
[[ -n ${P_BARE:-} ]] || die "grpc_server.py printed no ready line"
G="https://localhost:$P_HEALTH"

scenario "grpcio: no client certificate (TLS 1.3) -> client-cert-required (closed without an alert)"
probe --grpc-health "${CACERT[@]}" "$G"
expect_verdict client-cert-required 8
expect_json tls.version TLSv1.3
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent false
expect_json tls.alert null
expect_json tls.alpn h2
expect_json grpc null
expect_json_contains summary "without an alert"

scenario "grpcio: no client certificate (TLS 1.2) -> client-cert-required (closed inside the handshake)"
probe --grpc-health --tls-max 1.2 "${CACERT[@]}" "$G"
expect_verdict client-cert-required 8
expect_json tls.alert null
expect_json_contains summary "during the TLS handshake"

scenario "grpcio: certificate from another CA -> client-cert-rejected"
probe --grpc-health "${CACERT[@]}" "${ID_OTHER[@]}" "$G"
expect_verdict client-cert-rejected 9
expect_json tls.client_cert_sent true
expect_json client_cert.issuer_in_acceptable_ca_names false
expect_json grpc null

scenario "grpcio: good certificate, overall health -> ok, SERVING"
probe --grpc-health "${CACERT[@]}" "${ID_GOOD[@]}" "$G"
expect_verdict ok 0
expect_json http.version '"2"'
expect_json http.status 200
expect_json_contains http.request_line "POST /grpc.health.v1.Health/Check HTTP/2"
expect_json grpc.status 0
expect_json grpc.status_name OK
expect_json grpc.serving_status SERVING
expect_json grpc.message null
expect_json grpc.service '""'
expect_json_contains summary "says SERVING"
assert_no_password

scenario "grpcio: service \"down\" -> http-error, NOT_SERVING"
probe --grpc-health down "${CACERT[@]}" "${ID_GOOD[@]}" "$G"
expect_verdict http-error 10
expect_json grpc.status 0
expect_json grpc.serving_status NOT_SERVING
expect_json grpc.service down
expect_json_contains summary 'the service \"down\" reports NOT_SERVING' # as JSON spells it

scenario "grpcio: service \"forbidden\" -> http-error, PERMISSION_DENIED with the server's message"
probe "--grpc-health=forbidden" "${CACERT[@]}" "${ID_GOOD[@]}" "$G"
expect_verdict http-error 10
expect_json grpc.status 7
expect_json grpc.status_name PERMISSION_DENIED
expect_json_contains grpc.message "may not check"
expect_json grpc.serving_status null
expect_json_any_contains hints "look at the server's policy for this certificate's subject"

scenario "grpcio: a server without the health service -> http-error, UNIMPLEMENTED"
probe --grpc-health "${CACERT[@]}" "${ID_GOOD[@]}" "https://localhost:$P_BARE"
expect_verdict http-error 10
expect_json grpc.status 12
expect_json grpc.status_name UNIMPLEMENTED
expect_json_contains summary "has no health service"
expect_json_contains summary "the TLS and client-auth part succeeded"

scenario "grpcio: --grpc-health with -d -> usage-error"
probe --grpc-health -d x "$G"
expect_verdict usage-error 1
expect_json_contains usage_error "leave out -d and -X"

stop_pid "$GRPC_PID"

SERVE_TLS=(--cert "$PKI/server-chain.pem" --key "$PKI/server.key" --client-ca "$PKI/client-ca-bundle.pem")

start_serve grpc --http2 --grpc-health "${SERVE_TLS[@]}"
scenario "serve --http2 --grpc-health: good certificate -> ok, SERVING"
probe --grpc-health "${CACERT[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict ok 0
expect_json grpc.status 0
expect_json grpc.serving_status SERVING
expect_json grpc.trailers_only false

scenario "serve --http2 --grpc-health: a plain probe of another path is plain HTTP/2 (grpc null)"
probe "${CACERT[@]}" "${ID_GOOD[@]}" "${SERVE_URL}x"
expect_verdict ok 0
expect_json http.version '"2"'
expect_json grpc null
stop_pid "$SERVE_PID"

start_serve grpc7 --http2 --grpc-health --grpc-status 7 "${SERVE_TLS[@]}"
scenario "serve --grpc-status 7 -> http-error, PERMISSION_DENIED (trailers-only answer)"
probe --grpc-health "${CACERT[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict http-error 10
expect_json grpc.status 7
expect_json grpc.status_name PERMISSION_DENIED
expect_json grpc.trailers_only true
expect_json_contains grpc.message "--grpc-status 7"
stop_pid "$SERVE_PID"

start_serve h2 --http2 "${SERVE_TLS[@]}"
scenario "serve --http2 without --grpc-health: the answer is not gRPC -> protocol-error"
probe --grpc-health "${CACERT[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict protocol-error 11
expect_json grpc null
expect_json_contains summary "not application/grpc"

start_serve h1 "${SERVE_TLS[@]}"
scenario "serve without --http2: no h2 in ALPN -> protocol-error saying gRPC needs HTTP/2"
probe --grpc-health "${CACERT[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict protocol-error 11
expect_json http.version 1.1
expect_json_contains summary "did not agree to HTTP/2"

finish
