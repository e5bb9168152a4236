#!/usr/bin/env bash
# Everything that is not about client certificates: DNS, TCP, timeouts, non-TLS peers, usage and
# identity errors (which must not open a connection), and servers that break HTTP after TLS.
#
#   bash suite_network.sh /path/to/mtls-probe
# shellcheck disable=SC2119  # assert_no_password takes an optional argument
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_tmp
gen_pki

read -r P_SILENT P_PLAIN P_GARBAGE P_REC P_TLSCLOSE P_TLSGARB P_TLSTRUNC P_CLOSED P_TRAILERS P_TFLOOD \
  < <(free_port 10)
# P_CLOSED: nothing listens there

start_python_listener \
  silent "$P_SILENT" silent \
  plain "$P_PLAIN" http-plain \
  garbage "$P_GARBAGE" garbage \
  record "$P_REC" record \
  tlsclose "$P_TLSCLOSE" tls-close \
  tlsgarbage "$P_TLSGARB" tls-garbage \
  tlstrunc "$P_TLSTRUNC" tls-truncated \
  trailers "$P_TRAILERS" tls-chunked-trailers \
  tflood "$P_TFLOOD" tls-chunked-trailer-flood
REC_FILE="${LISTENER_DIR[record]}/connections"

REC_URL="https://127.0.0.1:$P_REC/"

connections_before=0
mark_connections() { connections_before=$(wc -l <"$REC_FILE"); }
expect_no_connection() {
  sleep 0.05  # let the listener log a connection that raced the probe's exit
  local now
  now=$(wc -l <"$REC_FILE")
  if ((now == connections_before)); then
    _pass "no connection was opened"
  else
    _fail "no connection was opened ($((now - connections_before)) arrived)"
  fi
}
expect_connection() {  # positive control for the record listener
  sleep 0.05
  if (($(wc -l <"$REC_FILE") > connections_before)); then
    _pass "the record listener saw the connection"
  else
    _fail "the record listener saw the connection"
  fi
}

# --- DNS / TCP / timeouts --------------------------------------------------------------------------

# The lookup goes to a fake DNS server on 127.0.0.1 that answers NXDOMAIN, never to /etc/resolv.conf's.
start_fake_dns nx nxdomain
NX_PORT=$DNS_PORT

scenario "unresolvable name (.invalid) -> dns-failure"
probe --dns-servers "127.0.0.1:$NX_PORT" --max-time 10 "https://nonexistent.invalid/"
expect_verdict dns-failure 3
expect_json tls.version null
expect_json http.status null
expect_json timing_ms.connect null

scenario "closed port on 127.0.0.1 -> connect-failure"
probe "https://127.0.0.1:$P_CLOSED/"
expect_verdict connect-failure 4
expect_json tls.version null
expect_json timing_ms.tls null

scenario "closed port on localhost name -> connect-failure"
probe "https://localhost:$P_CLOSED/"
expect_verdict connect-failure 4
note_overhead

scenario "listener accepts and never answers, --max-time 2 -> timeout at 2 s (+ the margin)"
probe "${CACERT[@]}" --max-time 2 "https://127.0.0.1:$P_SILENT/"
expect_verdict timeout 5
expect_within 2
expect_json http.status null

scenario "listener accepts and never answers, --connect-timeout 1 -> timeout at 1 s (+ the margin)"
probe "${CACERT[@]}" --connect-timeout 1 "https://127.0.0.1:$P_SILENT/"
expect_verdict timeout 5
expect_within 1

scenario "listener accepts and never answers, -m 1 -> timeout"
probe "${CACERT[@]}" -m 1 "https://127.0.0.1:$P_SILENT/"
expect_verdict timeout 5
expect_within 1

# --- peer is not TLS -------------------------------------------------------------------------------

scenario "plain HTTP server on the port -> tls-handshake-failure"
probe "${CACERT[@]}" "https://127.0.0.1:$P_PLAIN/"
expect_verdict tls-handshake-failure 6
expect_json tls.version null
expect_json http.status null

scenario "peer answers non-TLS garbage -> tls-handshake-failure"
probe "${CACERT[@]}" "https://127.0.0.1:$P_GARBAGE/"
expect_verdict tls-handshake-failure 6

scenario "peer closes right after accept -> tls-handshake-failure"
mark_connections
probe "${CACERT[@]}" "$REC_URL"
expect_verdict tls-handshake-failure 6
expect_connection

# --- usage errors: no connection -------------------------------------------------------------------

scenario "http:// URL -> usage-error, JSON on stdout, no connection"
mark_connections
probe "http://127.0.0.1:$P_REC/"
expect_verdict usage-error 1
expect_no_connection

scenario "unknown option -> usage-error with JSON on stdout"
mark_connections
probe --definitely-not-an-option "$REC_URL"
expect_verdict usage-error 1
expect_no_connection

scenario "no URL -> usage-error"
probe
expect_verdict usage-error 1

scenario "malformed URL -> usage-error"
probe "https://"
expect_verdict usage-error 1

# A password in the URL is refused, and never echoed: not in the JSON url, the summary, nor the -v trace.
# The secret reaches only the probe's own command line (that is the case under test), never a helper's.
export MTLS_TEST_URL_SECRET="SECRETPW"
scenario "password in the URL -> usage-error, the password is not echoed"
mark_connections
probe "https://user:${MTLS_TEST_URL_SECRET}@127.0.0.1:1/"
expect_verdict usage-error 1
expect_json url "https://***@127.0.0.1:1/"
expect_json_contains summary "credentials"
expect_no_connection
assert_no_password MTLS_TEST_URL_SECRET

scenario "password with a '/' in the URL (mangled authority) -> usage-error, not echoed"
probe "https://user:pa/${MTLS_TEST_URL_SECRET}@127.0.0.1:1/"
expect_verdict usage-error 1
expect_json url "https://***@127.0.0.1:1/"
assert_no_password MTLS_TEST_URL_SECRET

scenario "a second URL with a password (CLI11's 'not expected' message) -> usage-error, not echoed"
probe "https://127.0.0.1:1/" "https://user:${MTLS_TEST_URL_SECRET}@127.0.0.1:1/"
expect_verdict usage-error 1
assert_no_password MTLS_TEST_URL_SECRET

scenario "invalid --tls-min value -> usage-error"
mark_connections
probe --tls-min 9.9 "$REC_URL"
expect_verdict usage-error 1
expect_no_connection

# --- identity errors: no connection, no password in the output -------------------------------------

export MTLS_TEST_WRONG_PASSWORD="wrong-pw-Xy91-should-not-leak"

scenario "wrong .p12 password -> identity-error, password not in output, no connection"
mark_connections
probe "${CACERT[@]}" --p12 "$PKI/client-good.p12" --p12-password-env MTLS_TEST_WRONG_PASSWORD "$REC_URL"
expect_verdict identity-error 2
expect_no_connection
assert_no_password MTLS_TEST_WRONG_PASSWORD
assert_no_password

scenario "wrong password for a legacy .p12 -> identity-error (not a format error)"
mark_connections
probe "${CACERT[@]}" --p12 "$PKI/client-good-legacy.p12" --p12-password-env MTLS_TEST_WRONG_PASSWORD "$REC_URL"
expect_verdict identity-error 2
expect_no_connection

scenario "password via --p12-password-file -> reaches the server (record listener: tls-handshake-failure)"
pwfile="$TMP/p12-password"
printf '%s\n' "$MTLS_TEST_P12_PASSWORD" >"$pwfile"  # printf is a builtin: not on a command line
chmod 600 "$pwfile"
probe "${CACERT[@]}" --p12 "$PKI/client-good.p12" --p12-password-file "$pwfile" "$REC_URL"
expect_verdict tls-handshake-failure 6
assert_no_password

scenario "missing .p12 file -> identity-error, no connection"
mark_connections
probe "${CACERT[@]}" --p12 "$TMP/does-not-exist.p12" --p12-password-env "$PW_ENV" "$REC_URL"
expect_verdict identity-error 2
expect_no_connection

scenario ".p12 without a private key -> identity-error, no connection"
mark_connections
probe "${CACERT[@]}" --p12 "$PKI/client-nokey.p12" --p12-password-env "$PW_ENV" "$REC_URL"
expect_verdict identity-error 2
expect_no_connection
assert_no_password

scenario "PEM key does not match the certificate -> identity-error, no connection"
mark_connections
probe "${CACERT[@]}" --cert "$PKI/client-good.crt" --key "$PKI/client-mismatch.key" "$REC_URL"
expect_verdict identity-error 2
expect_no_connection

scenario "missing PEM key file -> identity-error, no connection"
mark_connections
probe "${CACERT[@]}" --cert "$PKI/client-good.crt" --key "$TMP/nope.key" "$REC_URL"
expect_verdict identity-error 2
expect_no_connection

scenario "not a PKCS#12 file (a PEM cert given as --p12) -> identity-error, no connection"
mark_connections
probe "${CACERT[@]}" --p12 "$PKI/client-good.crt" --p12-password-env "$PW_ENV" "$REC_URL"
expect_verdict identity-error 2
expect_no_connection

# --- protocol errors after a good TLS handshake ----------------------------------------------------

scenario "TLS server closes without any HTTP response -> protocol-error"
probe "${CACERT[@]}" "https://localhost:$P_TLSCLOSE/"
expect_verdict protocol-error 11
expect_json_not_null tls.version
expect_json tls.alert null
expect_json http.status null

scenario "TLS server answers garbage instead of HTTP -> protocol-error"
probe "${CACERT[@]}" "https://localhost:$P_TLSGARB/"
expect_verdict protocol-error 11
expect_json_not_null tls.version

scenario "TLS server closes before the announced Content-Length -> protocol-error"
probe "${CACERT[@]}" "https://localhost:$P_TLSTRUNC/"
expect_verdict protocol-error 11

scenario "HTTP/1.1 chunked response with trailers -> ok, http.trailers has them in order"
probe "${CACERT[@]}" "https://localhost:$P_TRAILERS/"
expect_verdict ok 0
expect_json http.version 1.1
expect_json http.body_bytes 5
expect_json http.trailers.0.name X-Checksum
expect_json http.trailers.0.value sha256=abc
expect_json http.trailers.1.name Grpc-Status
expect_json http.trailers.1.value '"0"'

scenario "HTTP/1.1 chunked response with 1,000 trailer fields -> protocol-error at the count cap"
probe "${CACERT[@]}" "https://localhost:$P_TFLOOD/"
expect_verdict protocol-error 11
expect_json_contains http.error "more than 256 trailers"

finish
