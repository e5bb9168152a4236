#!/usr/bin/env bash
# mtls-probe serve: every mode, probed with `mtls-probe --json` (verdicts per the contract), cross-checked
# with curl / openssl s_client where the probe cannot stage the case, plus serve's own log lines, --once,
# SIGTERM/SIGINT, a silent client, garbage input and bad options.
#
#   bash suite_serve.sh /path/to/mtls-probe
# MTLS_PROBE_SERVE_BIN=/other/binary runs `serve` from another build of the same code (development only).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

SERVE_BIN=${MTLS_PROBE_SERVE_BIN:-$PROBE}
if ! "$SERVE_BIN" serve --help 2>&1 </dev/null | grep -q -- "--client-auth"; then
  echo "FATAL: '$SERVE_BIN serve --help' failed: the serve subcommand is not available" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
make_tmp
PKI_DIR="$TMP/serve-pki"

# start_serve (lib.sh) runs $SERVE_BIN.

# expect_log TEXT — serve's stderr (SERVE_LOG) contains TEXT; waits up to 2 s (the server logs after it
# answered, so the probe may finish first)
expect_log() {
  local text=$1 i
  for ((i = 0; i < 40; i++)); do
    grep -qF -- "$text" "$SERVE_LOG" && { _pass "serve log: $text"; return 0; }
    sleep 0.05
  done
  _fail "serve log: $text" "$(tail -n 15 "$SERVE_LOG")"
}

# expect_json_value FIELD_PATH JSON — the field equals the JSON value (arrays and objects included)
expect_json_value() {
  local path=$1 want=$2 msg
  if msg=$("$PY" - "$OUT" "$path" "$want" <<'PYEOF'
import json, sys
doc, path, want = json.load(open(sys.argv[1])), sys.argv[2], json.loads(sys.argv[3])
for part in path.split("."):
    doc = doc.get(part, "<missing>") if isinstance(doc, dict) else "<missing>"
print(json.dumps(doc))
sys.exit(0 if doc == want else 1)
PYEOF
  ); then
    _pass "$path == $want"
  else
    _fail "$path == $want (got $msg)" "$(_evidence)"
  fi
}

# expect_exit PID MAX_MS WANT_RC — the process ends within MAX_MS with exit code WANT_RC
expect_exit() {
  local pid=$1 max_ms=$2 want=$3 i rc
  for ((i = 0; i < max_ms / 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    _fail "serve (pid $pid) exits within ${max_ms}ms" "$(tail -n 5 "$SERVE_LOG")"
    return
  fi
  wait "$pid"
  rc=$?
  if [[ $rc == "$want" ]]; then _pass "serve exits with $want within ${max_ms}ms"; else _fail "serve exit code $want (got $rc)"; fi
}

# --- the generated PKI ------------------------------------------------------------------------------
scenario "serve with no identity generates a PKI and prints how to probe it"
start_serve pki --pki-dir "$PKI_DIR"
check "server.pem, client.p12 and client.pass exist" test -s "$PKI_DIR/server.pem" -a -s "$PKI_DIR/client.p12" \
  -a -s "$PKI_DIR/client.pass"
check "client.pass is 0600" test "$(stat -c %a "$PKI_DIR/client.pass")" = 600
check "stdout has the mtls-probe command line" grep -qF \
  "mtls-probe --cacert $PKI_DIR/ca.pem --p12 $PKI_DIR/client.p12 --p12-password-file $PKI_DIR/client.pass https://127.0.0.1:" \
  "$SERVE_OUT"
check "listening line is the last line and names 127.0.0.1" grep -qE '^listening on https://127\.0\.0\.1:[0-9]+/$' \
  "$SERVE_OUT"
# the generated password is a secret: it must not show up in the probe's output either
MTLS_TEST_P12_PASSWORD=$(head -n 1 "$PKI_DIR/client.pass")
export MTLS_TEST_P12_PASSWORD
check "the password is not printed by serve" bash -c '! grep -qF -- "$1" "$2" "$3"' _ "$MTLS_TEST_P12_PASSWORD" \
  "$SERVE_OUT" "$SERVE_LOG"
stop_pid "$SERVE_PID"

CA=(--cacert "$PKI_DIR/ca.pem")
ID_GOOD=(--p12 "$PKI_DIR/client.p12" --p12-password-file "$PKI_DIR/client.pass")
ID_OTHER=(--p12 "$PKI_DIR/other-client.p12" --p12-password-file "$PKI_DIR/client.pass")
ID_EXPIRED=(--p12 "$PKI_DIR/expired-client.p12" --p12-password-file "$PKI_DIR/client.pass")
ID_SERVERAUTH=(--p12 "$PKI_DIR/serverauth-client.p12" --p12-password-file "$PKI_DIR/client.pass")
SERVE_PKI=(--pki-dir "$PKI_DIR")

# --- require, TLS 1.3 -------------------------------------------------------------------------------
start_serve require "${SERVE_PKI[@]}" --client-auth require
check "a second start re-uses the PKI" grep -q "re-used" "$SERVE_OUT"

scenario "require, TLS 1.3: good certificate -> ok"
probe "${CA[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict ok 0
expect_json tls.version TLSv1.3
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent true
expect_json http.status 200
expect_json_value tls.acceptable_ca_names '["CN=mtls-probe serve CA,O=mtls-probe serve"]'
assert_no_password
expect_log 'client certificate subject "CN=mtls-probe client,O=mtls-probe serve"'
expect_log '"GET / HTTP/1.1" 200'

scenario "require, TLS 1.3: no certificate -> client-cert-required (certificate_required)"
probe "${CA[@]}" "$SERVE_URL"
expect_verdict client-cert-required 8
expect_json tls.alert.name certificate_required
expect_json tls.alert.from server
expect_log "peer did not return a certificate -- No CAs known to server for verification?"

scenario "require, TLS 1.3: other-CA certificate -> client-cert-rejected (unknown_ca)"
probe "${CA[@]}" "${ID_OTHER[@]}" "$SERVE_URL"
expect_verdict client-cert-rejected 9
expect_json tls.client_cert_sent true
expect_json tls.alert.name unknown_ca
expect_log "client SSL certificate verify error: (20:unable to get local issuer certificate)"

scenario "require, TLS 1.3: expired certificate -> client-cert-rejected (certificate_expired)"
probe "${CA[@]}" "${ID_EXPIRED[@]}" "$SERVE_URL"
expect_verdict client-cert-rejected 9
expect_json tls.alert.name certificate_expired
expect_log "client SSL certificate verify error: (10:certificate has expired)"

scenario "require, TLS 1.3: serverAuth-only certificate -> client-cert-rejected (unsupported_certificate)"
probe "${CA[@]}" "${ID_SERVERAUTH[@]}" "$SERVE_URL"
expect_verdict client-cert-rejected 9
expect_json tls.alert.name unsupported_certificate
expect_log "(26:unsuitable certificate purpose)"

scenario "require: probe without --cacert -> server-cert-untrusted, the CA list still recorded (issue 9)"
probe "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict server-cert-untrusted 7
expect_json tls.client_cert_requested true
expect_json_value tls.acceptable_ca_names '["CN=mtls-probe serve CA,O=mtls-probe serve"]'
expect_json client_cert.issuer_in_acceptable_ca_names true
expect_log "client sent alert unknown_ca (48) (the client does not accept this server's certificate)"

scenario "require: garbage, plain HTTP and an early close do not hurt the server"
"$PY" - "${SERVE_URL}" <<'EOF'
import socket, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
for payload in (b"\x16\x03\x01\x00\x05hello", b"\x00" * 64 + b"garbage", b"", b"\x16\x03"):
    s = socket.create_connection((u.hostname, u.port), timeout=3)
    if payload:
        s.sendall(payload)
    s.close()
EOF
plain=$(curl -sS --max-time 5 "http://${SERVE_URL#https://}" 2>&1)
check "plain HTTP gets a plain 400 page" grep -q "speaking plain HTTP to an SSL-enabled server port" <<<"$plain"
expect_log "client sent plain HTTP request to HTTPS port"
probe "${CA[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict ok 0
note_overhead
check "serve is still running" kill -0 "$SERVE_PID"

scenario "require: a silent client does not block others"
exec 7<>"/dev/tcp/127.0.0.1/$(sed 's/.*:\([0-9]*\)\/$/\1/' <<<"$SERVE_URL")"
probe "${CA[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict ok 0
expect_within 0  # as fast as an unhindered probe (+ the margin), not after the silent client's timeout
exec 7>&-

scenario "require: curl sees the TLS 1.3 rejection on the read path (exit 56)"
curl -sS --max-time 5 --cacert "$PKI_DIR/ca.pem" "$SERVE_URL" >/dev/null 2>"$TMP/curl.err"
rc=$?
check "curl exit 56 (got $rc)" test "$rc" = 56
check "curl names the alert" grep -q "alert certificate required" "$TMP/curl.err"

scenario "SIGTERM stops serve cleanly"
kill -TERM "$SERVE_PID"
expect_exit "$SERVE_PID" 3000 0
expect_log "stopped"

# --- require, TLS 1.2 -------------------------------------------------------------------------------
start_serve require12 "${SERVE_PKI[@]}" --tls-max 1.2
scenario "require, --tls-max 1.2: no certificate -> client-cert-required (handshake_failure)"
probe "${CA[@]}" "$SERVE_URL"
expect_verdict client-cert-required 8
expect_json tls.alert.name handshake_failure
scenario "require, --tls-max 1.2: good certificate -> ok"
probe "${CA[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict ok 0
expect_json tls.version TLSv1.2
scenario "require, --tls-max 1.2: other CA -> client-cert-rejected (unknown_ca)"
probe "${CA[@]}" "${ID_OTHER[@]}" "$SERVE_URL"
expect_verdict client-cert-rejected 9
expect_json tls.alert.name unknown_ca
scenario "SIGINT stops serve cleanly"
kill -INT "$SERVE_PID"
expect_exit "$SERVE_PID" 3000 0

# --- 403 after successful client authentication -----------------------------------------------------
start_serve status403 "${SERVE_PKI[@]}" --status 403 --status-for-path /public=200 --status-for-path /public/gone=404
scenario "--status 403: good certificate -> http-error (an authorization decision)"
probe "${CA[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict http-error 10
expect_json http.status 403
expect_json tls.client_cert_sent true
expect_json tls.alert null
expect_log '"GET / HTTP/1.1" 403 (client certificate "CN=mtls-probe client,O=mtls-probe serve")'
scenario "--status-for-path /public=200: ok there"
probe "${CA[@]}" "${ID_GOOD[@]}" "${SERVE_URL}public/page"
expect_verdict ok 0
scenario "--status-for-path: the longest prefix wins"
probe "${CA[@]}" "${ID_GOOD[@]}" "${SERVE_URL}public/gone/x"
expect_verdict http-error 10
expect_json http.status 404
stop_pid "$SERVE_PID"

# --- nginx style ------------------------------------------------------------------------------------
start_serve nginx "${SERVE_PKI[@]}" --nginx-style
scenario "--nginx-style: no certificate -> client-cert-required with HTTP 400"
probe "${CA[@]}" "$SERVE_URL"
expect_verdict client-cert-required 8
expect_json http.status 400
expect_json tls.alert null
expect_json_contains http.body_excerpt "400 No required SSL certificate was sent"
expect_log "client sent no required SSL certificate while reading client request headers"
scenario "--nginx-style: other-CA certificate -> client-cert-rejected with HTTP 400"
probe "${CA[@]}" "${ID_OTHER[@]}" "$SERVE_URL"
expect_verdict client-cert-rejected 9
expect_json http.status 400
expect_json_contains http.body_excerpt "400 The SSL certificate error"
expect_log "client SSL certificate verify error: (21:unable to verify the first certificate) while reading client request headers"
scenario "--nginx-style: good certificate -> ok"
probe "${CA[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict ok 0
scenario "--nginx-style: curl sees exit 0 and the 400 page, as with nginx"
body=$(curl -sS --max-time 5 --cacert "$PKI_DIR/ca.pem" "$SERVE_URL")
rc=$?
check "curl exit 0 (got $rc)" test "$rc" = 0
check "nginx's page" grep -qF "<head><title>400 No required SSL certificate was sent</title></head>" <<<"$body"
stop_pid "$SERVE_PID"

# --- post-handshake authentication (TLS 1.3) and renegotiation (TLS 1.2) -----------------------------
start_serve pha "${SERVE_PKI[@]}" --client-auth post-handshake --client-auth-path /secure
scenario "post-handshake, TLS 1.3: outside the prefix no certificate is asked for"
probe "${CA[@]}" "${ID_GOOD[@]}" "${SERVE_URL}open"
expect_verdict ok 0
expect_json tls.client_cert_requested false
scenario "post-handshake, TLS 1.3: good certificate under the prefix -> ok, requested after the handshake"
probe "${CA[@]}" "${ID_GOOD[@]}" "${SERVE_URL}secure/page"
expect_verdict ok 0
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent true
expect_json http.status 200
expect_log "client certificate accepted after the handshake (TLS 1.3 post-handshake auth)"
scenario "post-handshake, TLS 1.3: no certificate -> client-cert-required"
probe "${CA[@]}" "${SERVE_URL}secure/page"
expect_verdict client-cert-required 8
expect_json tls.client_cert_requested true
expect_log "AH10159: verify client post handshake failed"
scenario "post-handshake, TLS 1.3: other CA -> client-cert-rejected (unknown_ca)"
probe "${CA[@]}" "${ID_OTHER[@]}" "${SERVE_URL}secure/page"
expect_verdict client-cert-rejected 9
expect_json tls.alert.name unknown_ca
scenario "post-handshake, TLS 1.3: a client without PHA gets Apache's 403"
out=$(printf 'GET /secure/x HTTP/1.1\r\nHost: localhost\r\n\r\n' |
  timeout 10 openssl s_client -quiet -connect "$(sed 's|https://\(.*\)/$|\1|' <<<"$SERVE_URL")" \
    -CAfile "$PKI_DIR/ca.pem" -cert "$PKI_DIR/client.pem" -key "$PKI_DIR/client.key" 2>/dev/null)
check "HTTP 403" grep -q "^HTTP/1.1 403 Forbidden" <<<"$out"
check "Cannot perform Post-Handshake Authentication" grep -q "Cannot perform Post-Handshake Authentication" <<<"$out"
expect_log "AH10158: cannot perform post-handshake authentication"
scenario "post-handshake, TLS 1.3: openssl s_client -enable_pha -> 200"
out=$(printf 'GET /secure/x HTTP/1.1\r\nHost: localhost\r\n\r\n' |
  timeout 10 openssl s_client -quiet -enable_pha -connect "$(sed 's|https://\(.*\)/$|\1|' <<<"$SERVE_URL")" \
    -CAfile "$PKI_DIR/ca.pem" -cert "$PKI_DIR/client.pem" -key "$PKI_DIR/client.key" 2>/dev/null)
check "HTTP 200" grep -q "^HTTP/1.1 200 OK" <<<"$out"
stop_pid "$SERVE_PID"

start_serve reneg "${SERVE_PKI[@]}" --client-auth post-handshake --tls-max 1.2
scenario "post-handshake, --tls-max 1.2 (renegotiation): good certificate -> ok"
probe "${CA[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict ok 0
expect_json tls.version TLSv1.2
expect_json tls.client_cert_requested true
expect_json tls.renegotiation_requested true
expect_json http.status 200
expect_log "client certificate accepted by renegotiation (TLS 1.2)"
scenario "post-handshake, --tls-max 1.2 (renegotiation): no certificate -> client-cert-required"
probe "${CA[@]}" "$SERVE_URL"
expect_verdict client-cert-required 8
expect_log "AH02261: Re-negotiation handshake failed"
stop_pid "$SERVE_PID"

scenario "--client-auth require --client-auth-path: per-location, like Apache's <Location>"
start_serve location "${SERVE_PKI[@]}" --client-auth require --client-auth-path /admin
probe "${CA[@]}" "${SERVE_URL}"
expect_verdict ok 0
expect_json tls.client_cert_requested false
probe "${CA[@]}" "${ID_GOOD[@]}" "${SERVE_URL}admin/"
expect_verdict ok 0
expect_json tls.client_cert_requested true
stop_pid "$SERVE_PID"

# --- CA names, optional, none -----------------------------------------------------------------------
start_serve nocanames "${SERVE_PKI[@]}" --no-ca-names
scenario "--no-ca-names: the server lists no CA"
probe "${CA[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict ok 0
expect_json_value tls.acceptable_ca_names '[]'
expect_json tls.client_cert_requested true
scenario "--no-ca-names: no certificate -> client-cert-required, Apache's log line"
probe "${CA[@]}" "$SERVE_URL"
expect_verdict client-cert-required 8
expect_log "peer did not return a certificate -- No CAs known to server for verification?"
stop_pid "$SERVE_PID"

start_serve optional "${SERVE_PKI[@]}" --client-auth optional
scenario "--client-auth optional: no certificate is fine"
probe "${CA[@]}" "$SERVE_URL"
expect_verdict ok 0
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent false
scenario "--client-auth optional: a bad certificate is still refused"
probe "${CA[@]}" "${ID_OTHER[@]}" "$SERVE_URL"
expect_verdict client-cert-rejected 9
stop_pid "$SERVE_PID"

# --- optional-no-verify (node's rejectUnauthorized: false, nginx optional_no_ca) ----------------------
start_serve nocheck "${SERVE_PKI[@]}" --client-auth optional-no-verify --status-if-unverified 401
scenario "optional-no-verify + --status-if-unverified 401: good certificate -> ok"
probe "${CA[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict ok 0
expect_json tls.client_cert_requested true
expect_json_value tls.acceptable_ca_names '["CN=mtls-probe serve CA,O=mtls-probe serve"]'
expect_json http.status 200
scenario "optional-no-verify + --status-if-unverified 401: other-CA certificate -> HTTP 401 naming the problem"
probe "${CA[@]}" "${ID_OTHER[@]}" "$SERVE_URL"
# issue 9: the application refused a certificate the server could not verify (issuer not listed)
expect_verdict client-cert-rejected 9
expect_json client_cert.other_clients_would_send false
expect_json_contains summary "application refused it with HTTP 401"
expect_json http.status 401
expect_json tls.client_cert_sent true
expect_json tls.alert null
expect_json_contains http.body_excerpt "client certificate not verified: unable to get local issuer certificate"
expect_log "client SSL certificate verify error: (20:unable to get local issuer certificate) while reading client request headers"
expect_log '"GET / HTTP/1.1" 401 (client certificate not verified: unable to get local issuer certificate)'
scenario "optional-no-verify + --status-if-unverified 401: no certificate -> client-cert-required (401)"
probe "${CA[@]}" "$SERVE_URL"
expect_verdict client-cert-required 8
expect_json http.status 401
expect_json tls.client_cert_sent false
expect_json_contains http.body_excerpt "no client certificate"
expect_log '"GET / HTTP/1.1" 401 (no client certificate)'
stop_pid "$SERVE_PID"

scenario "optional-no-verify without --status-if-unverified: the TLS layer lets a bad certificate through"
start_serve nocheck200 "${SERVE_PKI[@]}" --client-auth optional-no-verify
probe "${CA[@]}" "${ID_OTHER[@]}" "$SERVE_URL"
expect_json http.status 200
expect_json tls.alert null
expect_json_contains http.body_excerpt "client certificate verified: no (20:unable to get local issuer certificate)"
stop_pid "$SERVE_PID"

# --- --close-without-alert (GnuTLS servers, node with rejectUnauthorized: true) ----------------------
start_serve noalert "${SERVE_PKI[@]}" --close-without-alert
scenario "--close-without-alert, TLS 1.3: good certificate -> ok"
probe "${CA[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict ok 0
scenario "--close-without-alert, TLS 1.3: no certificate -> the connection just ends (no alert, no HTTP)"
probe "${CA[@]}" "$SERVE_URL"
expect_verdict client-cert-required 8
expect_json_contains summary "without an alert"
expect_json tls.version TLSv1.3
expect_json tls.alert null
expect_json http.status null
expect_json tls.client_cert_requested true
expect_log "peer did not return a certificate: closed the connection without an alert after the handshake"
scenario "--close-without-alert, TLS 1.3: other-CA certificate -> the connection just ends"
probe "${CA[@]}" "${ID_OTHER[@]}" "$SERVE_URL"
expect_verdict client-cert-rejected 9
expect_json_contains summary "right after the TLS handshake without an alert"
expect_json tls.alert null
expect_json http.status null
expect_json tls.client_cert_sent true
expect_log "client SSL certificate verify error: (20:unable to get local issuer certificate), depth 0"
scenario "--close-without-alert, --tls-max 1.2: no certificate -> client-cert-required (closed in the handshake)"
probe "${CA[@]}" --tls-max 1.2 "$SERVE_URL"
expect_verdict client-cert-required 8
expect_json tls.alert null
expect_json http.status null
expect_log "closed the connection without an alert before sending Finished (TLS 1.2)"
scenario "--close-without-alert, --tls-max 1.2: other-CA certificate -> no alert"
probe "${CA[@]}" --tls-max 1.2 "${ID_OTHER[@]}" "$SERVE_URL"
expect_verdict client-cert-rejected 9
expect_json_contains summary "during the TLS handshake without an alert"
expect_json tls.alert null
expect_json tls.client_cert_sent true
stop_pid "$SERVE_PID"

start_serve none "${SERVE_PKI[@]}" --client-auth none
scenario "--client-auth none: nothing is asked"
probe "${CA[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict ok 0
expect_json tls.client_cert_requested false
stop_pid "$SERVE_PID"

# --- identities given on the command line, IPv6 ------------------------------------------------------
scenario "--p12 server identity with --p12-password-env, --client-ca"
export SERVE_TEST_P12_PW="serve-pw-$RANDOM$RANDOM"
openssl pkcs12 -export -in "$PKI_DIR/server.pem" -inkey "$PKI_DIR/server.key" -out "$TMP/server.p12" \
  -passout env:SERVE_TEST_P12_PW 2>/dev/null
start_serve p12 --p12 "$TMP/server.p12" --p12-password-env SERVE_TEST_P12_PW --client-ca "$PKI_DIR/ca.pem"
check "no PKI help when an identity is given" bash -c '! grep -q "probe it" "$1"' _ "$SERVE_OUT"
probe "${CA[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict ok 0
stop_pid "$SERVE_PID"

scenario "--cert/--key server identity with --client-ca of the other CA"
start_serve pem --cert "$PKI_DIR/server.pem" --key "$PKI_DIR/server.key" --client-ca "$PKI_DIR/other-ca.pem"
probe "${CA[@]}" "${ID_OTHER[@]}" "$SERVE_URL"
expect_verdict ok 0
expect_json_value tls.acceptable_ca_names '["CN=mtls-probe serve other CA,O=mtls-probe serve"]'
probe "${CA[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict client-cert-rejected 9
stop_pid "$SERVE_PID"

if "$PY" -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
  scenario "--bind ::1: bracketed listening line, probe over IPv6"
  start_serve ipv6 "${SERVE_PKI[@]}" --bind ::1
  check "listening on https://[::1]:PORT/" grep -qE '^listening on https://\[::1\]:[0-9]+/$' "$SERVE_OUT"
  probe "${CA[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
  expect_verdict ok 0
  stop_pid "$SERVE_PID"
else
  echo "  (skipped: no IPv6 loopback here)"
fi

# --- --once and bad options -------------------------------------------------------------------------
scenario "--once: serves one connection, then exits 0"
start_serve once "${SERVE_PKI[@]}" --once
probe "${CA[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict ok 0
expect_exit "$SERVE_PID" 3000 0

scenario "bad serve options are usage errors"
"$SERVE_BIN" serve --status-for-path nope=403 >/dev/null 2>"$TMP/bad.err" </dev/null
check "--status-for-path without '/' -> exit 1" test $? = 1
check "the message names the option" grep -q -- "--status-for-path" "$TMP/bad.err"
"$SERVE_BIN" serve --client-auth optional --client-auth-path /x --pki-dir "$PKI_DIR" >/dev/null 2>&1 </dev/null
check "--client-auth-path with optional -> exit 1" test $? = 1
"$SERVE_BIN" serve --status-if-unverified 401 --pki-dir "$PKI_DIR" >/dev/null 2>"$TMP/bad.err" </dev/null
check "--status-if-unverified with require -> exit 1" test $? = 1
check "the message names the option" grep -q -- "--status-if-unverified needs" "$TMP/bad.err"
"$SERVE_BIN" serve --client-auth optional-no-verify --close-without-alert --pki-dir "$PKI_DIR" >/dev/null \
  2>"$TMP/bad.err" </dev/null
check "--close-without-alert with optional-no-verify -> exit 1" test $? = 1
"$SERVE_BIN" serve --client-auth optional-no-verify --status-if-unverified 99 --pki-dir "$PKI_DIR" >/dev/null \
  2>&1 </dev/null
check "--status-if-unverified 99 -> exit 1" test $? = 1
check "serve --help documents the new options" bash -c '"$1" serve --help | grep -q -- "--close-without-alert" &&
  "$1" serve --help | grep -q -- "--status-if-unverified" && "$1" serve --help | grep -q -- "optional-no-verify"' _ "$SERVE_BIN"
"$SERVE_BIN" serve --cert /nonexistent.pem --key /nonexistent.key --client-ca "$PKI_DIR/ca.pem" >/dev/null \
  2>"$TMP/bad.err" </dev/null
check "missing server certificate -> exit 2" test $? = 2
check "the message names the file" grep -q "/nonexistent.pem" "$TMP/bad.err"

finish
