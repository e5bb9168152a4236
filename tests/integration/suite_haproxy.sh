#!/usr/bin/env bash
# HAProxy 2.6 (OpenSSL 3) terminating TLS and answering itself (`http-request return`, no backend).
#
#   bash suite_haproxy.sh /path/to/mtls-probe
#
# Three frontends, all `bind ... ssl crt server.pem ca-file client-ca-bundle.pem`:
#   REQ  verify required
#   OPT  verify optional ca-ignore-err all crt-ignore-err all; `http-request deny` (403) unless
#        { ssl_c_used } { ssl_c_verify 0 }
#   ST   like OPT, but `http-request return status 496` unless { ssl_c_used } and `status 495` unless
#        { ssl_c_verify 0 } (nginx's non-standard codes; HAProxy's `return` accepts them)
# Every frontend answers /forbidden with 403 (`http-request deny`) and everything else with 200 "ok".
#
# Observed on the wire (HAProxy 2.6.12, Debian 12). CertificateRequest in the handshake on every
# frontend, CA names = the subjects of ca-file (Test Root CA, Test Intermediate CA). TLS 1.2 and 1.3
# behave the same except where noted.
#
#   frontend  client cert      TLS 1.3                           TLS 1.2
#   REQ       none             alert certificate_required (116)  alert handshake_failure (40)
#   REQ       other CA         alert unknown_ca (48)             alert unknown_ca (48)
#   REQ       expired          alert certificate_expired (45)    alert certificate_expired (45)
#   REQ       good             200                               200
#   REQ       good /forbidden  403 (HAProxy's "Request forbidden by administrative rules." page)
#   OPT       none             403 (same page), no alert         403
#   OPT       other CA         403, no alert                     403
#   OPT       expired          403, no alert                     403
#   OPT       good             200                               200
#   ST        none             496 "SSL certificate required"    496
#   ST        other CA         495 "SSL certificate error"       495
#   ST        expired          495                               495
#   ST        good /forbidden  403                               403
# (The TLS 1.3 alerts arrive on the probe's first read, after its handshake completed.) HAProxy logs
# "SSL handshake failure" / "SSL client CA chain cannot be verified" / "SSL client certificate not
# trusted" for the REQ alerts.
#
# Target verdicts follow issue 9: OPT's 403 after a certificate it could not verify (other CA: issuer not
# in the CA list; expired) is client-cert-rejected, not http-error; a 403 after the good certificate
# stays http-error.
# shellcheck disable=SC2119  # assert_no_password takes an optional argument
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=lib_stacks.sh
source "$INTEG_DIR/lib_stacks.sh"

need_binary HAPROXY haproxy /usr/sbin/haproxy /usr/bin/haproxy
make_tmp
gen_pki

read -r P_REQ P_OPT P_ST < <(free_port 3)
mkdir -p "$TMP/haproxy-pem"
cat "$PKI/server-chain.pem" "$PKI/server.key" >"$TMP/haproxy-pem/server.pem"
bind_ssl="ssl crt $TMP/haproxy-pem/server.pem ca-file $PKI/client-ca-bundle.pem ssl-min-ver TLSv1.2"
ok_and_forbidden='  http-request deny deny_status 403 if { path_beg /forbidden }
  http-request return status 200 content-type text/plain string "ok\n"'
start_haproxy main "
frontend req
  bind 127.0.0.1:$P_REQ $bind_ssl verify required
$ok_and_forbidden
frontend opt
  bind 127.0.0.1:$P_OPT $bind_ssl verify optional ca-ignore-err all crt-ignore-err all
  http-request deny deny_status 403 unless { ssl_c_used } { ssl_c_verify 0 }
$ok_and_forbidden
frontend st
  bind 127.0.0.1:$P_ST $bind_ssl verify optional ca-ignore-err all crt-ignore-err all
  http-request return status 496 content-type text/plain string \"SSL certificate required\n\" unless { ssl_c_used }
  http-request return status 495 content-type text/plain string \"SSL certificate error\n\" unless { ssl_c_verify 0 }
$ok_and_forbidden
" "$P_REQ" "$P_OPT" "$P_ST"

REQ="https://localhost:$P_REQ"
OPT="https://localhost:$P_OPT"
ST="https://localhost:$P_ST"

for v in 1.3 1.2; do
  T=(--tls-max "$v")
  if [[ $v == 1.3 ]]; then noalert=certificate_required; else noalert=handshake_failure; fi

  # --- REQ: verify required -> alerts ---------------------------------------------------------------
  stack_case "haproxy verify required, TLS $v: no certificate -> client-cert-required (alert $noalert)" \
    client-cert-required 8 "$noalert" null true false -- "${CACERT[@]}" "${T[@]}" "$REQ/"
  expect_json tls.version "TLSv$v"
  expect_json_any_contains tls.acceptable_ca_names "mtls-probe Test Root CA"
  expect_json_any_contains tls.acceptable_ca_names "mtls-probe Test Intermediate CA"

  stack_case "haproxy verify required, TLS $v: other CA -> client-cert-rejected (alert unknown_ca)" \
    client-cert-rejected 9 unknown_ca null true true -- "${CACERT[@]}" "${T[@]}" "${ID_OTHER[@]}" "$REQ/"
  expect_json client_cert.issuer_in_acceptable_ca_names false
  assert_no_password

  stack_case "haproxy verify required, TLS $v: expired -> client-cert-rejected (alert certificate_expired)" \
    client-cert-rejected 9 certificate_expired null true true -- "${CACERT[@]}" "${T[@]}" "${ID_EXPIRED[@]}" "$REQ/"

  stack_case "haproxy verify required, TLS $v: good certificate -> ok" \
    ok 0 null 200 true true -- "${CACERT[@]}" "${T[@]}" "${ID_GOOD[@]}" "$REQ/"
  expect_json tls.version "TLSv$v"
  expect_json client_cert.issuer_in_acceptable_ca_names true
  assert_no_password

  stack_case "haproxy verify required, TLS $v: good certificate, 403 path -> http-error" \
    http-error 10 null 403 true true -- "${CACERT[@]}" "${T[@]}" "${ID_GOOD[@]}" "$REQ/forbidden"

  # --- OPT: verify optional + ACL on ssl_c_verify -> 403 ---------------------------------------------
  stack_case "haproxy verify optional + ssl_c_verify ACL, TLS $v: no certificate, 403 -> client-cert-required" \
    client-cert-required 8 null 403 true false -- "${CACERT[@]}" "${T[@]}" "$OPT/"

  stack_case "haproxy verify optional + ssl_c_verify ACL, TLS $v: other CA, 403 -> client-cert-rejected [issue 9]" \
    client-cert-rejected 9 null 403 true true -- "${CACERT[@]}" "${T[@]}" "${ID_OTHER[@]}" "$OPT/"
  expect_json client_cert.issuer_in_acceptable_ca_names false

  stack_case "haproxy verify optional + ssl_c_verify ACL, TLS $v: expired, 403 -> client-cert-rejected [issue 9]" \
    client-cert-rejected 9 null 403 true true -- "${CACERT[@]}" "${T[@]}" "${ID_EXPIRED[@]}" "$OPT/"

  stack_case "haproxy verify optional + ssl_c_verify ACL, TLS $v: good certificate -> ok" \
    ok 0 null 200 true true -- "${CACERT[@]}" "${T[@]}" "${ID_GOOD[@]}" "$OPT/"

  stack_case "haproxy verify optional + ssl_c_verify ACL, TLS $v: good certificate, 403 path -> http-error" \
    http-error 10 null 403 true true -- "${CACERT[@]}" "${T[@]}" "${ID_GOOD[@]}" "$OPT/forbidden"

  # --- ST: 496 / 495 ------------------------------------------------------------------------------
  stack_case "haproxy return 496 without a certificate, TLS $v -> client-cert-required" \
    client-cert-required 8 null 496 true false -- "${CACERT[@]}" "${T[@]}" "$ST/"

  stack_case "haproxy return 495 for an unverified certificate, TLS $v: other CA -> client-cert-rejected" \
    client-cert-rejected 9 null 495 true true -- "${CACERT[@]}" "${T[@]}" "${ID_OTHER[@]}" "$ST/"

  stack_case "haproxy return 495 for an unverified certificate, TLS $v: expired -> client-cert-rejected" \
    client-cert-rejected 9 null 495 true true -- "${CACERT[@]}" "${T[@]}" "${ID_EXPIRED[@]}" "$ST/"

  stack_case "haproxy 495/496 frontend, TLS $v: good certificate, 403 path -> http-error" \
    http-error 10 null 403 true true -- "${CACERT[@]}" "${T[@]}" "${ID_GOOD[@]}" "$ST/forbidden"
done

finish
