#!/usr/bin/env bash
# openssl s_server (-www): client certificate required in the handshake (-Verify 1
# -verify_return_error), server-certificate trust failures, and protocol-version mismatch.
#
#   bash suite_s_server.sh /path/to/mtls-probe
# shellcheck disable=SC2119  # assert_no_password takes an optional argument
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_tmp
gen_pki

# S13 / S12: require a client certificate, TLS 1.3 (default) / -tls1_2
# SPLAIN: no client auth, -tls1_2 only; S13ONLY: no client auth, -tls1_3 only
# SEXP: expired server certificate; SWN: server certificate for wrong-name.example
# SNONAMES: requires a client certificate but lists no CA names (-no_ca_names)
# SOLD: TLS 1.0 only (old ciphers allowed), no client auth
read -r S13 S12 SPLAIN S13ONLY SEXP SWN SNONAMES SOLD < <(free_port 8)

srv=(-cert "$PKI/server.crt" -key "$PKI/server.key" -cert_chain "$PKI/intermediate-ca.crt")
verify=(-Verify 1 -verify_return_error -CAfile "$PKI/client-ca-bundle.pem")
start_s_server req13 "$S13" "${srv[@]}" "${verify[@]}" -www
start_s_server req12 "$S12" "${srv[@]}" "${verify[@]}" -www -tls1_2
start_s_server plain12 "$SPLAIN" "${srv[@]}" -www -tls1_2
start_s_server plain13 "$S13ONLY" "${srv[@]}" -www -tls1_3
start_s_server nonames "$SNONAMES" "${srv[@]}" "${verify[@]}" -no_ca_names -www
start_s_server expired "$SEXP" -cert "$PKI/server-expired.crt" -key "$PKI/server-expired.key" \
  -cert_chain "$PKI/intermediate-ca.crt" -www
start_s_server old10 "$SOLD" "${srv[@]}" -www -tls1 -cipher 'DEFAULT:@SECLEVEL=0'
start_s_server wrongname "$SWN" -cert "$PKI/server-wrongname.crt" -key "$PKI/server-wrongname.key" \
  -cert_chain "$PKI/intermediate-ca.crt" -www

# --- client certificate required in the handshake --------------------------------------------------
for v in 13 12; do
  if [[ $v == 13 ]]; then
    url="https://localhost:$S13/"; ver=TLSv1.3; none_alert=certificate_required
  else
    url="https://localhost:$S12/"; ver=TLSv1.2; none_alert=handshake_failure
  fi

  scenario "s_server -Verify 1, $ver: good certificate -> ok"
  probe "${CACERT[@]}" "${ID_GOOD[@]}" "$url"
  expect_verdict ok 0
  expect_json tls.version "$ver"
  expect_json tls.client_cert_requested true
  expect_json tls.client_cert_sent true
  expect_json http.status 200
  assert_no_password

  scenario "s_server -Verify 1, $ver: no certificate -> client-cert-required ($none_alert)"
  probe "${CACERT[@]}" "$url"
  expect_verdict client-cert-required 8
  expect_json tls.client_cert_requested true
  expect_json tls.client_cert_sent false
  expect_json tls.alert.name "$none_alert"
  expect_json tls.alert.from server

  scenario "s_server -Verify 1, $ver: other-CA certificate -> client-cert-rejected (unknown_ca)"
  probe "${CACERT[@]}" "${ID_OTHER[@]}" "$url"
  expect_verdict client-cert-rejected 9
  expect_json tls.client_cert_sent true
  expect_json tls.alert.name unknown_ca
  expect_json tls.alert.from server

  scenario "s_server -Verify 1, $ver: expired certificate -> client-cert-rejected (certificate_expired)"
  probe "${CACERT[@]}" "${ID_EXPIRED[@]}" "$url"
  expect_verdict client-cert-rejected 9
  expect_json tls.alert.name certificate_expired
done

scenario "s_server -Verify 1, TLS 1.3: legacy .p12 -> ok"
probe "${CACERT[@]}" "${ID_LEGACY[@]}" "https://localhost:$S13/"
expect_verdict ok 0
assert_no_password

scenario "s_server -Verify 1 -no_ca_names: good certificate -> ok, acceptable_ca_names == []"
probe "${CACERT[@]}" "${ID_GOOD[@]}" "https://localhost:$SNONAMES/"
expect_verdict ok 0
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent true
expect_json tls.acceptable_ca_names "[]"

scenario "s_server -Verify 1 -no_ca_names: no certificate -> client-cert-required"
probe "${CACERT[@]}" "https://localhost:$SNONAMES/"
expect_verdict client-cert-required 8
expect_json tls.acceptable_ca_names "[]"

# --- server certificate trust ----------------------------------------------------------------------

scenario "server presents an expired certificate -> server-cert-untrusted"
probe "${CACERT[@]}" "https://localhost:$SEXP/"
expect_verdict server-cert-untrusted 7
expect_json_not_null server_cert
expect_json_contains server_cert.verify_error "expired"
expect_json http.status null

scenario "server certificate for another name -> server-cert-untrusted"
probe "${CACERT[@]}" "https://localhost:$SWN/"
expect_verdict server-cert-untrusted 7
expect_json_contains server_cert.verify_error "mismatch"
expect_json_contains server_cert.subject "wrong-name.example"

scenario "server certificate for another name, 127.0.0.1 URL -> server-cert-untrusted"
probe "${CACERT[@]}" "https://127.0.0.1:$SWN/"
expect_verdict server-cert-untrusted 7

scenario "--servername wrong-name.example against that server -> ok (SNI and name check override)"
probe "${CACERT[@]}" --servername wrong-name.example "https://localhost:$SWN/"
expect_verdict ok 0
expect_json server_cert.verify_error null

scenario "--resolve wrong-name.example:PORT:127.0.0.1 -> ok"
probe "${CACERT[@]}" --resolve "wrong-name.example:$SWN:127.0.0.1" "https://wrong-name.example:$SWN/"
expect_verdict ok 0

scenario "-H 'X-Probe-Test: 1' right before the URL -> ok (a repeatable option must not swallow the URL)"
probe "${CACERT[@]}" -H 'X-Probe-Test: 1' "https://localhost:$SPLAIN/"
expect_verdict ok 0

scenario "good server, IP address URL (SAN IP:127.0.0.1) -> ok"
probe "${CACERT[@]}" "https://127.0.0.1:$SPLAIN/"
expect_verdict ok 0
expect_json tls.client_cert_requested false

scenario "no --cacert: test CA is not in the system roots -> server-cert-untrusted"
probe "https://localhost:$SPLAIN/"
expect_verdict server-cert-untrusted 7
expect_json_contains server_cert.verify_error "issuer"

scenario "no --cacert but -k -> ok (verification off on request)"
probe -k "https://localhost:$SPLAIN/"
expect_verdict ok 0
expect_json http.status 200

scenario "expired server certificate with -k -> ok"
probe -k "https://localhost:$SEXP/"
expect_verdict ok 0

scenario "--insecure with wrong-name certificate -> ok"
probe --insecure "https://localhost:$SWN/"
expect_verdict ok 0

# --- protocol versions -----------------------------------------------------------------------------

scenario "server TLS 1.2 only, probe --tls-min 1.3 -> tls-handshake-failure"
probe "${CACERT[@]}" --tls-min 1.3 "https://localhost:$SPLAIN/"
expect_verdict tls-handshake-failure 6
expect_json tls.alert.name protocol_version
expect_json tls.alert.from server
expect_json http.status null

scenario "server TLS 1.3 only, probe --tls-max 1.2 -> tls-handshake-failure"
probe "${CACERT[@]}" --tls-max 1.2 "https://localhost:$S13ONLY/"
expect_verdict tls-handshake-failure 6
expect_json tls.alert.name protocol_version

scenario "server TLS 1.0 only, probe defaults -> tls-handshake-failure (below 1.2 is refused by default)"
probe "${CACERT[@]}" "https://localhost:$SOLD/"
expect_verdict tls-handshake-failure 6
expect_json tls.alert.name protocol_version

scenario "server TLS 1.0 only, probe --tls-min 1.0 (explicit) -> ok"
probe "${CACERT[@]}" --tls-min 1.0 "https://localhost:$SOLD/"
expect_verdict ok 0
expect_json tls.version TLSv1

scenario "--tls-max 1.1 without --tls-min -> usage-error, no connection"
probe "${CACERT[@]}" --tls-max 1.1 "https://localhost:$SOLD/"
expect_verdict usage-error 1

scenario "server TLS 1.3 only, probe defaults -> ok"
probe "${CACERT[@]}" "https://localhost:$S13ONLY/"
expect_verdict ok 0
expect_json tls.version TLSv1.3

finish
