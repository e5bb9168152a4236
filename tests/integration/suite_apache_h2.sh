#!/usr/bin/env bash
# Apache 2.4 with mod_http2 (`Protocols h2 http/1.1`) and a per-location `SSLVerifyClient require`: over
# HTTP/2 Apache cannot ask for the certificate (no renegotiation under TLS 1.2, no post-handshake auth under
# TLS 1.3: RFC 9113 9.2.1, RFC 8740) and refuses the request with RST_STREAM HTTP_1_1_REQUIRED. The probe
# records the refusal and retries once over HTTP/1.1 on a new connection (as curl): the verdict is the
# retry's. --no-h1-retry makes the refusal the verdict (client-cert-required). One apache, two vhosts:
# TLS 1.3 only and TLS 1.2 only.
#
#   bash suite_apache_h2.sh /path/to/mtls-probe
# shellcheck disable=SC2119  # assert_no_password takes an optional argument
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_tmp
gen_pki

read -r L13 L12 < <(free_port 2)
common="SSLEngine on
  SSLCertificateFile $PKI/server-chain.pem
  SSLCertificateKeyFile $PKI/server.key
  SSLCACertificateFile $PKI/client-ca-bundle.pem
  SSLVerifyDepth 3
  <Location /secure>
    SSLVerifyClient require
  </Location>"
start_apache h2 "
LoadModule http2_module /usr/lib/apache2/modules/mod_http2.so
Protocols h2 http/1.1
Listen 127.0.0.1:$L13
Listen 127.0.0.1:$L12
<VirtualHost 127.0.0.1:$L13>
  $common
  SSLProtocol -all +TLSv1.3
</VirtualHost>
<VirtualHost 127.0.0.1:$L12>
  $common
  SSLProtocol -all +TLSv1.2
</VirtualHost>
" "$L13" "$L12"
mkdir -p "$LAST_DIR/htdocs/secure"
printf 'secret\n' >"$LAST_DIR/htdocs/secure/index.html"
chmod -R a+rX "$LAST_DIR/htdocs"

for tls in 1.3 1.2; do
  if [[ $tls == 1.3 ]]; then
    BASE="https://localhost:$L13"
    how="post-handshake auth"
    no_cert_alert=certificate_required
  else
    BASE="https://localhost:$L12"
    how="renegotiation"
    no_cert_alert=handshake_failure
  fi

  scenario "apache h2 TLS $tls: open path -> ok over HTTP/2, no retry"
  probe "${CACERT[@]}" "${ID_GOOD[@]}" "$BASE/"
  expect_verdict ok 0
  expect_json tls.version "TLSv$tls"
  expect_json http.version '"2"'
  expect_json http.h1_retry false
  expect_json http.h2_error null
  expect_json http.h2_refusal null

  scenario "apache h2 TLS $tls: /secure/ good certificate -> HTTP_1_1_REQUIRED, retried over HTTP/1.1 ($how): ok"
  probe "${CACERT[@]}" "${ID_GOOD[@]}" "$BASE/secure/"
  expect_verdict ok 0
  expect_json http.h1_retry true
  expect_json http.h2_error.name HTTP_1_1_REQUIRED
  expect_json http.h2_error.code 13
  expect_json http.h2_error.from server
  expect_json http.h2_refusal.h2_error.frame RST_STREAM
  expect_json http.h2_refusal.request_line "GET /secure/ HTTP/2"
  expect_json http.h2_refusal.tls_version "TLSv$tls"
  expect_json http.h2_refusal.client_cert_requested false
  expect_json http.version 1.1
  expect_json tls.alpn http/1.1
  expect_json tls.alpn_offered.0 http/1.1
  expect_json http.request_line "GET /secure/ HTTP/1.1"
  expect_json http.status 200
  expect_json tls.client_cert_requested true
  expect_json tls.client_cert_sent true
  expect_json_contains summary "HTTP_1_1_REQUIRED"
  expect_json_any_contains hints "which HTTP/2 cannot do; browsers and HTTP/2-only clients will fail here"
  assert_no_password

  scenario "apache h2 TLS $tls: /secure/ no certificate -> retried: the retry's client-cert-required (alert $no_cert_alert)"
  probe "${CACERT[@]}" "$BASE/secure/"
  expect_verdict client-cert-required 8
  expect_json http.h1_retry true
  expect_json http.h2_error.name HTTP_1_1_REQUIRED
  expect_json tls.alert.name "$no_cert_alert"
  expect_json tls.client_cert_sent false
  expect_json_any_contains hints "which HTTP/2 cannot do"

  scenario "apache h2 TLS $tls: /secure/ certificate from another CA -> retried: client-cert-rejected (unknown_ca)"
  probe "${CACERT[@]}" "${ID_OTHER[@]}" "$BASE/secure/"
  expect_verdict client-cert-rejected 9
  expect_json http.h1_retry true
  expect_json tls.alert.name unknown_ca
  expect_json tls.client_cert_sent true

  scenario "apache h2 TLS $tls: /secure/ --no-h1-retry -> the HTTP/2 refusal: client-cert-required"
  probe --no-h1-retry "${CACERT[@]}" "${ID_GOOD[@]}" "$BASE/secure/"
  expect_verdict client-cert-required 8
  expect_json http.h1_retry false
  expect_json http.h2_refusal null
  expect_json http.version '"2"'
  expect_json http.status null
  expect_json http.h2_error.name HTTP_1_1_REQUIRED
  expect_json http.h2_error.from server
  expect_json tls.client_cert_requested false
  expect_json_contains summary "cannot ask for it over HTTP/2"
  expect_json_any_contains hints "which HTTP/2 cannot do"

  scenario "apache h2 TLS $tls: /secure/ --http1.1 -> no HTTP/2 attempt, no retry: ok ($how)"
  probe --http1.1 "${CACERT[@]}" "${ID_GOOD[@]}" "$BASE/secure/"
  expect_verdict ok 0
  expect_json http.h1_retry false
  expect_json http.h2_error null
  expect_json http.version 1.1
  expect_json tls.client_cert_sent true
done

scenario "apache h2: --http2-only -> no HTTP/1.1 to retry with: client-cert-required"
probe --http2-only "${CACERT[@]}" "${ID_GOOD[@]}" "https://localhost:$L13/secure/"
expect_verdict client-cert-required 8
expect_json http.h1_retry false
expect_json http.h2_error.name HTTP_1_1_REQUIRED
expect_json_any_contains hints "HTTP/1.1 was not offered (h2)"

# The text report shows both attempts: the refused HTTP/2 one, then the retry's sections.
scenario "apache h2: the text report shows the HTTP/2 attempt and the HTTP/1.1 retry"
if [[ -x $PROBE ]]; then
  timeout -k 2 60 "$PROBE" "${CACERT[@]}" "${ID_GOOD[@]}" "https://localhost:$L13/secure/" \
    >"$TMP/text.out" 2>"$TMP/text.err" </dev/null
fi
for want in "HTTP/2  first attempt: GET /secure/ HTTP/2" "to 127.0.0.1:$L13 over TLSv1.3, ALPN h2" \
  "refused: RST_STREAM HTTP_1_1_REQUIRED (0xd) from the server" \
  "retried once over HTTP/1.1 on a new connection" "GET /secure/ HTTP/1.1" "status 200"; do
  if grep -qF -- "$want" "$TMP/text.out"; then
    _pass "text report has '$want'"
  else
    _fail "text report has '$want'" "$(cat "$TMP/text.out" "$TMP/text.err" 2>/dev/null | tail -c 1500)"
  fi
done

# batch runs the same probe code: a line is retried the same way.
scenario "apache h2: batch lines retry as a single probe does"
cat >"$TMP/targets.txt" <<EOF
https://localhost:$L13/secure/ name=pha expect=ok
https://localhost:$L12/secure/ name=reneg expect=ok
EOF
rm -rf "$TMP/batch-cwd" && mkdir -p "$TMP/batch-cwd"
(cd "$TMP/batch-cwd" && exec timeout -k 2 60 "$PROBE" batch --json "${CACERT[@]}" "${ID_GOOD[@]}" \
  "$TMP/targets.txt" >"$TMP/batch.out" 2>"$TMP/batch.err" </dev/null)
RC=$?
if "$PY" -I - "$TMP/batch.out" <<'PYEOF'; then
import json, sys
rows = {r["name"]: r for r in map(json.loads, open(sys.argv[1]))}
ok = len(rows) == 2 and all(
    r["verdict"] == "ok" and r["met"] and r["http"]["h1_retry"] is True
    and r["http"]["h2_error"]["name"] == "HTTP_1_1_REQUIRED" and r["http"]["version"] == "1.1"
    for r in rows.values())
sys.exit(0 if ok else 1)
PYEOF
  _pass "batch: both lines ok after a retry (exit $RC)"
else
  _fail "batch: both lines ok after a retry (exit $RC)" "$(head -c 1500 "$TMP/batch.out"; tail -c 400 "$TMP/batch.err")"
fi
if [[ $RC == 0 ]]; then _pass "batch exit 0"; else _fail "batch exit 0 (got $RC)"; fi
if msg=$("$PY" -I "$HELPER" no-secrets "$PW_ENV" "$TMP/batch-cwd" "$PKI" "$TMP/batch.out" "$TMP/batch.err" 2>&1); then
  _pass "batch: no password or private key bytes in stdout/stderr, no file written"
else
  _fail "batch: no password or private key bytes in stdout/stderr, no file written ($msg)"
fi

finish
