#!/usr/bin/env bash
# Apache 2.4 mod_ssl. Vhost-level `SSLVerifyClient require` decides in the handshake (TLS alerts);
# per-location `SSLVerifyClient require` asks after the handshake: TLS 1.3 post-handshake auth,
# TLS 1.2 renegotiation.
#
#   bash suite_apache.sh /path/to/mtls-probe
# shellcheck disable=SC2119  # assert_no_password takes an optional argument
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_tmp
gen_pki

# P13/P12: vhost require, TLS 1.3 / TLS 1.2 only
# L13/L12: <Location /secure> require, TLS 1.3 only (post-handshake auth) / TLS 1.2 only (renegotiation)
read -r P13 P12 L13 L12 < <(free_port 4)
common="SSLEngine on
  SSLCertificateFile $PKI/server-chain.pem
  SSLCertificateKeyFile $PKI/server.key
  SSLCACertificateFile $PKI/client-ca-bundle.pem
  SSLVerifyDepth 3
  <Location /denied>
    Require all denied
  </Location>"
start_apache main "
Listen 127.0.0.1:$P13
Listen 127.0.0.1:$P12
Listen 127.0.0.1:$L13
Listen 127.0.0.1:$L12
<VirtualHost 127.0.0.1:$P13>
  $common
  SSLProtocol -all +TLSv1.3
  SSLVerifyClient require
</VirtualHost>
<VirtualHost 127.0.0.1:$P12>
  $common
  SSLProtocol -all +TLSv1.2
  SSLVerifyClient require
</VirtualHost>
<VirtualHost 127.0.0.1:$L13>
  $common
  SSLProtocol -all +TLSv1.3
  <Location /secure>
    SSLVerifyClient require
  </Location>
</VirtualHost>
<VirtualHost 127.0.0.1:$L12>
  $common
  SSLProtocol -all +TLSv1.2
  <Location /secure>
    SSLVerifyClient require
  </Location>
</VirtualHost>
" "$P13" "$P12" "$L13" "$L12"
mkdir -p "$LAST_DIR/htdocs/secure"
printf 'secret\n' >"$LAST_DIR/htdocs/secure/index.html"
chmod -R a+rX "$LAST_DIR/htdocs"

V13="https://localhost:$P13"
V12="https://localhost:$P12"
LOC13="https://localhost:$L13"
LOC12="https://localhost:$L12"

# --- vhost-level SSLVerifyClient require -----------------------------------------------------------

scenario "apache vhost require, TLS 1.3: good certificate -> ok"
probe "${CACERT[@]}" "${ID_GOOD[@]}" "$V13/"
expect_verdict ok 0
expect_json tls.version TLSv1.3
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent true
expect_json tls.alert null
expect_json http.status 200
expect_json_any_contains tls.acceptable_ca_names "mtls-probe Test Intermediate CA"
assert_no_password

scenario "apache vhost require, TLS 1.3: no certificate -> client-cert-required (alert certificate_required)"
probe "${CACERT[@]}" "$V13/"
expect_verdict client-cert-required 8
expect_json tls.version TLSv1.3
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent false
expect_json tls.alert.name certificate_required
expect_json tls.alert.code 116
expect_json tls.alert.from server
expect_json http.status null

scenario "apache vhost require, TLS 1.2: no certificate -> client-cert-required (alert handshake_failure)"
probe "${CACERT[@]}" "$V12/"
expect_verdict client-cert-required 8
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent false
expect_json tls.alert.name handshake_failure
expect_json tls.alert.code 40
expect_json tls.alert.from server

for v in 13 12; do
  if [[ $v == 13 ]]; then url=$V13; ver=TLSv1.3; else url=$V12; ver=TLSv1.2; fi

  scenario "apache vhost require, $ver: other-CA certificate -> client-cert-rejected (unknown_ca)"
  probe "${CACERT[@]}" "${ID_OTHER[@]}" "$url/"
  expect_verdict client-cert-rejected 9
  expect_json tls.client_cert_requested true
  expect_json tls.client_cert_sent true
  expect_json tls.alert.name unknown_ca
  expect_json tls.alert.from server
  expect_json client_cert.issuer_in_acceptable_ca_names false

  scenario "apache vhost require, $ver: expired certificate -> client-cert-rejected (certificate_expired)"
  probe "${CACERT[@]}" "${ID_EXPIRED[@]}" "$url/"
  expect_verdict client-cert-rejected 9
  expect_json tls.client_cert_sent true
  expect_json tls.alert.name certificate_expired
  expect_json tls.alert.from server

  scenario "apache vhost require, $ver: not-yet-valid certificate -> client-cert-rejected (bad_certificate)"
  probe "${CACERT[@]}" "${ID_NOTYET[@]}" "$url/"
  expect_verdict client-cert-rejected 9
  expect_json tls.alert.name bad_certificate

  scenario "apache vhost require, $ver: serverAuth-only EKU -> client-cert-rejected (unsupported_certificate)"
  probe "${CACERT[@]}" "${ID_SERVERAUTH[@]}" "$url/"
  expect_verdict client-cert-rejected 9
  expect_json tls.client_cert_sent true
  expect_json tls.alert.name unsupported_certificate

  scenario "apache vhost require, $ver: good certificate -> ok"
  probe "${CACERT[@]}" "${ID_GOOD[@]}" "$url/"
  expect_verdict ok 0
  expect_json tls.version "$ver"
  expect_json http.status 200

  scenario "apache vhost require, $ver: good certificate, 'Require all denied' -> http-error 403"
  probe "${CACERT[@]}" "${ID_GOOD[@]}" "$url/denied"
  expect_verdict http-error 10
  expect_json tls.client_cert_requested true
  expect_json tls.client_cert_sent true
  expect_json tls.alert null
  expect_json http.status 403
done

scenario "apache vhost require, TLS 1.3: legacy .p12 -> ok"
probe "${CACERT[@]}" "${ID_LEGACY[@]}" "$V13/"
expect_verdict ok 0
assert_no_password

scenario "apache vhost require, TLS 1.3: --no-cert with identity -> client-cert-required"
probe "${CACERT[@]}" "${ID_GOOD[@]}" --no-cert "$V13/"
expect_verdict client-cert-required 8
expect_json tls.client_cert_sent false
expect_json tls.alert.name certificate_required

# --- per-location SSLVerifyClient require ----------------------------------------------------------

scenario "apache per-location, TLS 1.3: path outside /secure, identity configured -> ok, not requested"
probe "${CACERT[@]}" "${ID_GOOD[@]}" "$LOC13/"
expect_verdict ok 0
expect_json tls.client_cert_requested false
expect_json tls.client_cert_sent false
expect_json http.status 200

scenario "apache per-location, TLS 1.3: /secure/ good certificate -> ok (post-handshake auth)"
probe "${CACERT[@]}" "${ID_GOOD[@]}" "$LOC13/secure/"
expect_verdict ok 0
expect_json tls.version TLSv1.3
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent true
expect_json tls.alert null
expect_json http.status 200
assert_no_password

scenario "apache per-location, TLS 1.3: /secure/ no certificate -> client-cert-required (Apache: alert certificate_required after PHA)"
probe "${CACERT[@]}" "$LOC13/secure/"
expect_verdict client-cert-required 8
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent false
expect_json tls.alert.name certificate_required
expect_json tls.alert.from server

scenario "apache per-location, TLS 1.3: /secure/ other-CA certificate -> client-cert-rejected (unknown_ca after PHA)"
probe "${CACERT[@]}" "${ID_OTHER[@]}" "$LOC13/secure/"
expect_verdict client-cert-rejected 9
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent true
expect_json tls.alert.name unknown_ca

scenario "apache per-location, TLS 1.2: /secure/ good certificate -> ok (renegotiation)"
probe "${CACERT[@]}" "${ID_GOOD[@]}" "$LOC12/secure/"
expect_verdict ok 0
expect_json tls.version TLSv1.2
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent true
expect_json http.status 200

scenario "apache per-location, TLS 1.2: /secure/ no certificate -> client-cert-required (Apache: alert handshake_failure in renegotiation)"
probe "${CACERT[@]}" "$LOC12/secure/"
expect_verdict client-cert-required 8
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent false
expect_json tls.alert.name handshake_failure
expect_json tls.alert.from server

scenario "apache per-location, TLS 1.2: /secure/ expired certificate -> client-cert-rejected (certificate_expired in renegotiation)"
probe "${CACERT[@]}" "${ID_EXPIRED[@]}" "$LOC12/secure/"
expect_verdict client-cert-rejected 9
expect_json tls.client_cert_sent true
expect_json tls.alert.name certificate_expired

scenario "apache per-location, TLS 1.3: /denied with good certificate (not requested) -> http-error 403"
probe "${CACERT[@]}" "${ID_GOOD[@]}" "$LOC13/denied"
expect_verdict http-error 10
expect_json http.status 403
expect_json tls.alert null

finish
