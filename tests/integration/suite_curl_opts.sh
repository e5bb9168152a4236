#!/usr/bin/env bash
# curl's -K/--config, --interface and --connect-to against one real server (serve, the suite's PKI).
#
#   bash suite_curl_opts.sh /path/to/mtls-probe
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_tmp
gen_pki

start_serve main --cert "$PKI/server-chain.pem" --key "$PKI/server.key" \
  --client-ca "$PKI/client-ca-bundle.pem" --client-auth require
URL=${SERVE_URL/127.0.0.1/localhost}
PORT=${SERVE_URL##*:}
PORT=${PORT%%/*}

# A server certificate for example.test only (by the suite's intermediate CA), for --connect-to.
openssl req -new -key "$PKI/server.key" -subj "/CN=example.test" -out "$TMP/ex.csr" 2>/dev/null
printf 'subjectAltName=DNS:example.test\nextendedKeyUsage=serverAuth\n' >"$TMP/ex.ext"
openssl x509 -req -in "$TMP/ex.csr" -CA "$PKI/intermediate-ca.crt" -CAkey "$PKI/intermediate-ca.key" \
  -CAcreateserial -days 30 -extfile "$TMP/ex.ext" -out "$TMP/ex.crt" 2>/dev/null || die "example.test cert"
cat "$TMP/ex.crt" "$PKI/intermediate-ca.crt" >"$TMP/ex-chain.pem"
start_serve example --cert "$TMP/ex-chain.pem" --key "$PKI/server.key" --client-auth none
EX_PORT=${SERVE_URL##*:}
EX_PORT=${EX_PORT%%/*}

# --- -K/--config ---------------------------------------------------------------------------------

cat >"$TMP/id.conf" <<CONF
# identity, trust and the URL, in curl's syntax
p12 = "$PKI/client-good.p12"
--p12-password-env $PW_ENV
cacert: $PKI/ca.pem
url = $URL
CONF

scenario "-K FILE sets identity, cacert and url -> ok"
probe -K "$TMP/id.conf"
expect_verdict ok 0
expect_json tls.client_cert_sent true

scenario "-K FILE: a later command-line option wins over the file (--cacert of the wrong CA)"
probe -K "$TMP/id.conf" --cacert "$PKI/other-ca.crt"
expect_verdict server-cert-untrusted 7

# A CA file whose name needs quoting and escapes: a space, a '"' and a '\'.
mkdir -p "$TMP/dir with space"
cp "$PKI/ca.pem" "$TMP/dir with space/ca\\b\"q.pem"
cat >"$TMP/quoted.conf" <<CONF
	cacert   "$TMP/dir with space/ca\\\\b\\"q.pem"   
header = "X-Cfg:\tyes"
CONF
scenario "-K FILE: quoted value with spaces and curl escapes -> ok"
probe -K "$TMP/quoted.conf" "${ID_GOOD[@]}" "$URL"
expect_verdict ok 0

printf 'insecure\n\n# comment\nremote-name-all\n' >"$TMP/unknown.conf"
scenario "-K FILE: an option mtls-probe does not have -> usage-error naming FILE:LINE"
probe -K "$TMP/unknown.conf" "$URL"
expect_verdict usage-error 1
expect_json_contains summary "$TMP/unknown.conf:4:"
expect_json_contains summary "--remote-name-all"

# The password in the file: not on the process list, so no warning; never in any output (probe checks).
printf 'cert = "%s:%s"\ncert-type P12\ncacert %s\n' "$PKI/client-good.p12" "${!PW_ENV}" "$PKI/ca.pem" \
  >"$TMP/secret.conf"
scenario "-K FILE with cert FILE:PASSWORD -> ok, no process-list warning, password nowhere"
probe -K "$TMP/secret.conf" "$URL"
expect_verdict ok 0
expect_json_none_contains warnings "process list"
check "no process-list warning on stderr" bash -c "! grep -q 'process list' '$ERR'"
assert_no_password

scenario "control: the same password on the command line warns"
probe --cert "$PKI/client-good.p12:${!PW_ENV}" --cert-type P12 "${CACERT[@]}" "$URL"
expect_verdict ok 0
expect_json_any_contains warnings "process list"

printf 'cert = "%s:%s"\ncert-type P12\nnot-an-option x\n' "$PKI/client-good.p12" "${!PW_ENV}" >"$TMP/bad-secret.conf"
scenario "-K FILE with a password and an error -> usage-error, the password nowhere"
probe -K "$TMP/bad-secret.conf" "$URL"
expect_verdict usage-error 1
expect_json_contains summary "bad-secret.conf:3:"
assert_no_password

scenario "-K - reads stdin"
OUT="$TMP/stdin.out"
timeout -k 2 60 "$PROBE" --json -K - <"$TMP/id.conf" >"$OUT" 2>"$TMP/stdin.err"
RC=$?
_load_json
expect_verdict ok 0

printf '%s\n' "$URL" >"$TMP/targets"
printf 'p12 %s\np12-password-env %s\ncacert %s\n' "$PKI/client-good.p12" "$PW_ENV" "$PKI/ca.pem" >"$TMP/batch.conf"
scenario "batch -K FILE -> every target met"
timeout -k 2 60 "$PROBE" batch --no-progress -K "$TMP/batch.conf" "$TMP/targets" >"$TMP/batch.out" 2>&1
check "batch -K exits 0 (got $?)" test "$?" = 0
timeout -k 2 60 "$PROBE" batch --no-progress "$TMP/targets" >"$TMP/batch2.out" 2>&1
check "control: batch without -K does not meet (got $?)" test "$?" = 13

# --- --interface ---------------------------------------------------------------------------------

for iface in 127.0.0.1 lo if!lo host!localhost; do
  scenario "--interface $iface -> ok from 127.0.0.1"
  probe --interface "$iface" -4 "${ID_GOOD[@]}" "${CACERT[@]}" "$URL"
  expect_verdict ok 0
  expect_json connect.local_ip 127.0.0.1
  expect_json connect.interface "$iface"
done

for iface in 192.0.2.1 nosuchif0; do
  scenario "--interface $iface (not on this machine) -> connect-failure, nothing sent"
  probe --interface "$iface" "${ID_GOOD[@]}" "${CACERT[@]}" "$URL"
  expect_verdict connect-failure 4
  expect_json_not_null connect.bind_error
  expect_json_contains summary "could not bind to $iface"
  expect_json connect.attempts "[]"
done

# --- --connect-to --------------------------------------------------------------------------------

scenario "--connect-to example.test:443:127.0.0.1:PORT -> ok (SNI and name check for example.test)"
probe --connect-to "example.test:443:127.0.0.1:$EX_PORT" "${CACERT[@]}" "https://example.test/"
expect_verdict ok 0
expect_json tls.sni example.test
expect_json connect.address "127.0.0.1:$EX_PORT"
expect_json connect.connect_to.port "$EX_PORT"

scenario "--connect-to to the localhost server -> server-cert-untrusted (the name check stays example.test)"
probe --connect-to "example.test:443:127.0.0.1:$PORT" "${ID_GOOD[@]}" "${CACERT[@]}" "https://example.test/"
expect_verdict server-cert-untrusted 7

scenario "--connect-to a rule that does not match -> the URL's host (dns-failure, no lookup leaves loopback)"
start_fake_dns nx nxdomain
probe --dns-servers "127.0.0.1:$DNS_PORT" --connect-to "other.test:443:127.0.0.1:$EX_PORT" "${CACERT[@]}" \
  "https://example.test/"
expect_verdict dns-failure 3

finish
