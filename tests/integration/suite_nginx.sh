#!/usr/bin/env bash
# nginx 1.22 with ssl_verify_client on / optional. nginx never aborts the handshake for a client
# certificate problem: it answers HTTP 400 with "No required SSL certificate was sent" or
# "The SSL certificate error", which the probe must map to client-cert-required / client-cert-rejected.
#
#   bash suite_nginx.sh /path/to/mtls-probe
# shellcheck disable=SC2119  # assert_no_password takes an optional argument
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_tmp
gen_pki

read -r P_ON P_OPT < <(free_port 2)
tls_common="
$NGINX_TLS"
start_nginx main "
  server {
    listen 127.0.0.1:$P_ON ssl;
    $tls_common
    ssl_verify_client on;
    location / { return 200 \"ok\n\"; }
    location /forbidden { return 403; }
    location /login-redirect { return 302 https://sso.example/login?from=mtls; }
  }
  server {
    listen 127.0.0.1:$P_OPT ssl;
    $tls_common
    ssl_verify_client optional;
    location / { return 200 \"ok\n\"; }
  }
" "$P_ON"
wait_port "$P_OPT" "$LAST_PID" || die "nginx optional server not listening"

ON="https://localhost:$P_ON"
OPT="https://localhost:$P_OPT"

scenario "nginx verify on: good client .p12 -> ok"
probe "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict ok 0
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent true
expect_json tls.alert null
expect_json http.status 200
expect_json server_cert.verify_error null
expect_json_any_contains tls.acceptable_ca_names "mtls-probe Test Root CA"
expect_json_any_contains tls.acceptable_ca_names "mtls-probe Test Intermediate CA"
expect_json client_cert.issuer_in_acceptable_ca_names true
expect_json_contains client_cert.subject "good-client"
expect_json_not_null tls.cipher
expect_json_not_null timing_ms.tls
expect_json_not_null timing_ms.total
assert_no_password

scenario "nginx verify on: no client certificate -> client-cert-required (HTTP 400 'No required SSL certificate was sent')"
probe "${CACERT[@]}" "$ON/"
expect_verdict client-cert-required 8
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent false
expect_json tls.alert null
expect_json http.status 400

scenario "nginx verify on: client certificate from another CA -> client-cert-rejected (HTTP 400 'The SSL certificate error')"
probe "${CACERT[@]}" "${ID_OTHER[@]}" "$ON/"
expect_verdict client-cert-rejected 9
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent true
expect_json http.status 400
expect_json client_cert.issuer_in_acceptable_ca_names false
assert_no_password

scenario "nginx verify on: expired client certificate -> client-cert-rejected"
probe "${CACERT[@]}" "${ID_EXPIRED[@]}" "$ON/"
expect_verdict client-cert-rejected 9
expect_json tls.client_cert_sent true
expect_json http.status 400

scenario "nginx verify on: not-yet-valid client certificate -> client-cert-rejected"
probe "${CACERT[@]}" "${ID_NOTYET[@]}" "$ON/"
expect_verdict client-cert-rejected 9
expect_json http.status 400

scenario "nginx verify on: serverAuth-only EKU client certificate -> client-cert-rejected"
probe "${CACERT[@]}" "${ID_SERVERAUTH[@]}" "$ON/"
expect_verdict client-cert-rejected 9
expect_json http.status 400

scenario "nginx verify on: good certificate, location returns 403 -> http-error (not a certificate problem)"
probe "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/forbidden"
expect_verdict http-error 10
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent true
expect_json tls.alert null
expect_json http.status 403

scenario "nginx verify on: good certificate, 302 to a login page -> ok, the Location shown (issue 9)"
probe "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/login-redirect"
expect_verdict ok 0
expect_json http.status 302
expect_json http.location "https://sso.example/login?from=mtls"
expect_json_contains summary "redirecting to https://sso.example/login?from=mtls"
expect_json_any_contains hints "login or error page"
expect_json client_cert.other_clients_would_send true

scenario "nginx verify optional: no client certificate -> ok"
probe "${CACERT[@]}" "$OPT/"
expect_verdict ok 0
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent false
expect_json http.status 200

scenario "nginx verify optional: good certificate -> ok"
probe "${CACERT[@]}" "${ID_GOOD[@]}" "$OPT/"
expect_verdict ok 0
expect_json tls.client_cert_sent true

scenario "nginx verify on: legacy .p12 (RC2-40/3DES, SHA-1 MAC) -> ok"
probe "${CACERT[@]}" "${ID_LEGACY[@]}" "$ON/"
expect_verdict ok 0
expect_json tls.client_cert_sent true
expect_json http.status 200
assert_no_password

scenario "nginx verify on: PEM --cert/--key -> ok"
probe "${CACERT[@]}" "${PEM_GOOD[@]}" "$ON/"
expect_verdict ok 0
expect_json tls.client_cert_sent true
expect_json http.status 200

scenario "nginx verify on: curl spelling --cert X.p12 --cert-type P12 -> ok"
probe "${CACERT[@]}" --cert "$PKI/client-good.p12" --cert-type P12 --p12-password-env "$PW_ENV" "$ON/"
expect_verdict ok 0
expect_json tls.client_cert_sent true
assert_no_password

scenario "nginx verify on: --no-cert with an identity configured -> client-cert-required"
probe "${CACERT[@]}" "${ID_GOOD[@]}" --no-cert "$ON/"
expect_verdict client-cert-required 8
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent false
expect_json http.status 400
assert_no_password

scenario "nginx verify on, TLS 1.2: no client certificate -> client-cert-required"
probe "${CACERT[@]}" --tls-max 1.2 "$ON/"
expect_verdict client-cert-required 8
expect_json tls.version TLSv1.2
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent false
expect_json http.status 400

scenario "nginx verify on, TLS 1.2: good certificate -> ok"
probe "${CACERT[@]}" --tls-max 1.2 "${ID_GOOD[@]}" "$ON/"
expect_verdict ok 0
expect_json tls.version TLSv1.2
expect_json tls.client_cert_sent true

scenario "nginx verify on, TLS 1.2: other-CA certificate -> client-cert-rejected"
probe "${CACERT[@]}" --tls-max 1.2 "${ID_OTHER[@]}" "$ON/"
expect_verdict client-cert-rejected 9
expect_json http.status 400

scenario "nginx verify on: human mode uses the same exit code"
if [[ -x $PROBE ]]; then
  timeout -k 2 60 "$PROBE" "${CACERT[@]}" "$ON/" >"$TMP/human.out" 2>"$TMP/human.err" </dev/null
  hrc=$?
else
  hrc=127
fi
if [[ $hrc == 8 ]]; then _pass "human mode exit code 8"; else _fail "human mode exit code 8 (got $hrc)"; fi

finish
