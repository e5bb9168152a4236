#!/usr/bin/env bash
# nginx 1.22 with `listen ... ssl http2` and ssl_verify_client on: the probe offers h2,http/1.1 by default
# (as curl), nginx picks h2, and the verdicts are HTTP/1.1's: nginx answers a missing or refused client
# certificate with HTTP 400 over HTTP/2 too. Each case also with --http1.1 (http.version "1.1"), and the
# ALPN options (--http2, --http2-only, --alpn) against a server that speaks only HTTP/1.1.
#
#   bash suite_http2.sh /path/to/mtls-probe
# shellcheck disable=SC2119  # assert_no_password takes an optional argument
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_tmp
gen_pki

read -r P_H2 P_H1 < <(free_port 2)
tls_common="
$NGINX_TLS
    ssl_verify_client on;
    location / { return 200 \"ok\n\"; }
    location /forbidden { return 403; }"
start_nginx h2 "
  server {
    listen 127.0.0.1:$P_H2 ssl http2;
    $tls_common
  }
  server {
    listen 127.0.0.1:$P_H1 ssl;
    $tls_common
  }
" "$P_H2"
wait_port "$P_H1" "$LAST_PID" || die "nginx HTTP/1.1 server not listening"

H2="https://localhost:$P_H2"
H1="https://localhost:$P_H1"

for mode in h2 http1.1; do
  opts=()
  version=2
  alpn=h2
  want_version='"2"'  # a JSON string, not the number 2
  if [[ $mode == http1.1 ]]; then opts=(--http1.1); version=1.1; alpn=http/1.1; want_version=1.1; fi

  scenario "nginx http2 [$mode]: good client .p12 -> ok over HTTP/$version"
  probe "${opts[@]}" "${CACERT[@]}" "${ID_GOOD[@]}" "$H2/"
  expect_verdict ok 0
  expect_json http.status 200
  expect_json http.version "$want_version"
  expect_json tls.alpn "$alpn"
  expect_json tls.client_cert_sent true
  expect_json http.h2_error null
  expect_json_contains http.request_line "HTTP/$version"
  assert_no_password

  scenario "nginx http2 [$mode]: no client certificate -> client-cert-required (HTTP 400)"
  probe "${opts[@]}" "${CACERT[@]}" "$H2/"
  expect_verdict client-cert-required 8
  expect_json http.status 400
  expect_json http.version "$want_version"
  expect_json tls.client_cert_sent false

  scenario "nginx http2 [$mode]: certificate from another CA -> client-cert-rejected (HTTP 400)"
  probe "${opts[@]}" "${CACERT[@]}" "${ID_OTHER[@]}" "$H2/"
  expect_verdict client-cert-rejected 9
  expect_json http.status 400
  expect_json http.version "$want_version"

  scenario "nginx http2 [$mode]: good certificate, location returns 403 -> http-error"
  probe "${opts[@]}" "${CACERT[@]}" "${ID_GOOD[@]}" "$H2/forbidden"
  expect_verdict http-error 10
  expect_json http.status 403
  expect_json http.version "$want_version"
  expect_json tls.client_cert_sent true

  scenario "nginx http2 [$mode], TLS 1.2: good certificate -> ok"
  probe "${opts[@]}" --tls-max 1.2 "${CACERT[@]}" "${ID_GOOD[@]}" "$H2/"
  expect_verdict ok 0
  expect_json tls.version TLSv1.2
  expect_json http.version "$want_version"
done

# expect_alpn_offered JSON_ARRAY — tls.alpn_offered exactly (compact JSON, as the helper flattens arrays)
expect_alpn_offered() {
  if [[ ${J[tls.alpn_offered]-} == "$1" ]]; then
    _pass "tls.alpn_offered == $1"
  else
    _fail "tls.alpn_offered == $1 (got ${J[tls.alpn_offered]-missing})"
  fi
}

scenario "ALPN offer: default h2,http/1.1; --http1.1 http/1.1; --http2-only h2; --alpn as given"
probe "${CACERT[@]}" "${ID_GOOD[@]}" "$H2/"
expect_alpn_offered '["h2","http/1.1"]'
probe --http1.1 "${CACERT[@]}" "${ID_GOOD[@]}" "$H2/"
expect_alpn_offered '["http/1.1"]'
probe --http2-only "${CACERT[@]}" "${ID_GOOD[@]}" "$H2/"
expect_verdict ok 0
expect_alpn_offered '["h2"]'
expect_json http.version '"2"'
probe --alpn h2,http/1.1 "${CACERT[@]}" "${ID_GOOD[@]}" "$H2/"
expect_verdict ok 0
expect_json tls.alpn h2

scenario "--http2 against an HTTP/1.1-only server: ok over HTTP/1.1, noted in the report"
probe --http2 "${CACERT[@]}" "${ID_GOOD[@]}" "$H1/"
expect_verdict ok 0
expect_json http.version 1.1
expect_json tls.alpn http/1.1
if [[ -x $PROBE ]]; then
  timeout -k 2 60 "$PROBE" --http2 "${CACERT[@]}" "${ID_GOOD[@]}" "$H1/" >"$TMP/fallback.out" 2>&1 </dev/null
fi
if grep -q "HTTP/2 was asked for, the server picked HTTP/1.1" "$TMP/fallback.out"; then
  _pass "--http2 fallback noted in the report"
else
  _fail "--http2 fallback noted in the report"
fi

# ---- broken HTTP/2 peers (a python listener that picks h2 in ALPN, then misbehaves)
read -r P_SILENT P_GOAWAY P_RST P_GARBAGE P_HEADERS P_ENDLESS P_WINDOW0 P_CONNWINDOW < <(free_port 8)
start_python_listener silent "$P_SILENT" tls-h2-silent goaway "$P_GOAWAY" tls-h2-goaway \
  rst "$P_RST" tls-h2-rst garbage "$P_GARBAGE" tls-h2-garbage headers "$P_HEADERS" tls-h2-headers \
  endless "$P_ENDLESS" tls-h2-endless window0 "$P_WINDOW0" tls-h2-window0 connwindow "$P_CONNWINDOW" \
  tls-h2-connwindow

scenario "h2 peer that sends no SETTINGS and no response -> timeout (max-time)"
probe --max-time 2 "${CACERT[@]}" "https://localhost:$P_SILENT/"
expect_verdict timeout 5
expect_json http.version '"2"'
expect_json_contains summary "max-time"

scenario "h2 peer sends GOAWAY PROTOCOL_ERROR -> protocol-error naming it"
probe "${CACERT[@]}" "https://localhost:$P_GOAWAY/"
expect_verdict protocol-error 11
expect_json http.h2_error.name PROTOCOL_ERROR
expect_json http.h2_error.code 1
expect_json http.h2_error.from server
expect_json_contains summary "GOAWAY PROTOCOL_ERROR"

scenario "h2 peer sends RST_STREAM REFUSED_STREAM -> protocol-error naming it"
probe "${CACERT[@]}" "https://localhost:$P_RST/"
expect_verdict protocol-error 11
expect_json http.h2_error.name REFUSED_STREAM
expect_json http.h2_error.from server
expect_json_contains summary "RST_STREAM REFUSED_STREAM"

scenario "h2 peer answers in HTTP/1.1 bytes -> protocol-error, our GOAWAY PROTOCOL_ERROR"
probe "${CACERT[@]}" "https://localhost:$P_GARBAGE/"
expect_verdict protocol-error 11
expect_json http.h2_error.from client
expect_json_contains summary "broke HTTP/2"

scenario "h2 peer sends 100,000 header fields via CONTINUATION -> protocol-error at the header cap"
probe "${CACERT[@]}" "https://localhost:$P_HEADERS/"
expect_verdict protocol-error 11
expect_json_contains http.error "more than 256 headers"
expect_json http.status null

scenario "h2 peer sends DATA that never ends -> ok at the 1 MiB body cap, not at max-time"
t0=$(date +%s)
probe -m 10 "${CACERT[@]}" "https://localhost:$P_ENDLESS/"
t1=$(date +%s)
expect_verdict ok 0
expect_json http.status 200
expect_json http.error null
expect_json http.body_bytes $((1024 * 1024))
if ((t1 - t0 < 8)); then _pass "stopped at the cap ($((t1 - t0)) s)"; else _fail "stopped at the cap (took $((t1 - t0)) s)"; fi

# A request body larger than the 65,535 bytes any HTTP/2 peer may send before a WINDOW_UPDATE.
BIG_BODY=$(head -c 100000 /dev/zero | tr '\0' x)

scenario "h2 peer with SETTINGS_INITIAL_WINDOW_SIZE 0, no WINDOW_UPDATE -> timeout naming the stream window"
probe -m 2 -d "$BIG_BODY" "${CACERT[@]}" "https://localhost:$P_WINDOW0/"
expect_verdict timeout 5
expect_within 2  # at --max-time, not a hang
expect_json http.h2_window_stall.window stream
expect_json http.h2_window_stall.server_initial_window 0
expect_json http.h2_window_stall.body_bytes 100000
expect_json http.request_sent false
expect_json_contains summary "flow-control window never opened for the request body"

scenario "h2 peer whose connection window never opens past 65,535 bytes -> timeout naming the connection window"
probe -m 2 -d "$BIG_BODY" "${CACERT[@]}" "https://localhost:$P_CONNWINDOW/"
expect_verdict timeout 5
expect_within 2
expect_json http.h2_window_stall.window connection
expect_json http.h2_window_stall.body_bytes_sent 65535
expect_json_contains summary "connection window stayed at 0"

# ---- a server that accepts none of the offered protocols: openssl s_server -alpn h2 sends alert 120
read -r P_ALPN < <(free_port 1)
start_s_server alpn "$P_ALPN" -cert "$PKI/server-chain.pem" -key "$PKI/server.key" -alpn h2 -www

scenario "h2-only server, --http1.1 -> alert 120 no_application_protocol, the hint names the offer"
probe --http1.1 "${CACERT[@]}" "https://localhost:$P_ALPN/"
expect_verdict tls-handshake-failure 6
expect_json tls.alert.code 120
expect_json tls.alert.name no_application_protocol
expect_json_any_contains hints "offered in ALPN (http/1.1)"
expect_json_any_contains hints "need h2"

# ---- mtls-probe serve --http2: a post-handshake-auth location refuses HTTP/2 with HTTP_1_1_REQUIRED
start_serve h2pha --http2 --pki-dir "$TMP/serve-pki" --client-auth post-handshake --client-auth-path /secure
SP="$TMP/serve-pki"
SERVE_ID=(--cacert "$SP/ca.pem" --p12 "$SP/client.p12" --p12-password-file "$SP/client.pass")

scenario "serve --http2: open path -> ok over HTTP/2"
probe "${SERVE_ID[@]}" "${SERVE_URL}open"
expect_verdict ok 0
expect_json http.version '"2"'
expect_json tls.alpn h2

scenario "serve --http2, post-handshake path -> RST_STREAM HTTP_1_1_REQUIRED, retried over HTTP/1.1: ok"
probe "${SERVE_ID[@]}" "${SERVE_URL}secure/x"
expect_verdict ok 0
expect_json http.h1_retry true
expect_json http.h2_error.name HTTP_1_1_REQUIRED
expect_json http.h2_error.code 13
expect_json http.h2_error.from server
expect_json http.version 1.1
expect_json tls.client_cert_sent true
expect_json_any_contains hints "which HTTP/2 cannot do"

scenario "serve --http2, post-handshake path, --no-h1-retry -> the refusal: client-cert-required"
probe --no-h1-retry "${SERVE_ID[@]}" "${SERVE_URL}secure/x"
expect_verdict client-cert-required 8
expect_json http.h1_retry false
expect_json http.version '"2"'
expect_json http.h2_error.name HTTP_1_1_REQUIRED
expect_json http.h2_error.code 13
expect_json http.h2_error.from server
expect_json_any_contains hints "which HTTP/2 cannot do"

scenario "serve --http2, post-handshake path with --http1.1 -> ok (the certificate asked for after the handshake)"
probe --http1.1 "${SERVE_ID[@]}" "${SERVE_URL}secure/x"
expect_verdict ok 0
expect_json http.version 1.1
expect_json tls.client_cert_sent true

scenario "-v shows HTTP/2 frames (type, stream, flags), never payloads"
if [[ -x $PROBE ]]; then
  timeout -k 2 60 "$PROBE" -v "${CACERT[@]}" "${ID_GOOD[@]}" "$H2/" >"$TMP/v.out" 2>"$TMP/v.err" </dev/null
fi
if grep -q "h2 > HEADERS stream 1" "$TMP/v.err" && grep -q "h2 < SETTINGS stream 0" "$TMP/v.err" &&
  grep -q "h2 < DATA stream 1" "$TMP/v.err"; then
  _pass "-v trace has HTTP/2 frames"
else
  _fail "-v trace has HTTP/2 frames ($(grep -c 'h2 ' "$TMP/v.err" 2>/dev/null) lines)"
fi

finish
