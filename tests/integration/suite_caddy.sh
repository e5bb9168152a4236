#!/usr/bin/env bash
# Caddy 2 (Go crypto/tls) with `tls { client_auth { ... } }` and static `respond` handlers.
#
#   bash suite_caddy.sh /path/to/mtls-probe
#
#   REQ  mode require_and_verify, trusted_ca_cert_file ca.pem (the root; the intermediate comes from the
#        client's chain)
#   OPT  mode verify_if_given, same CA; /needcert answers 403 "client certificate required" when no
#        certificate was given
# Both answer /forbidden with 403 and everything else with 200 "ok". The sites are addressed as
# https://localhost:PORT (SNI localhost; the probe resolves it with --resolve to 127.0.0.1) and
# https://127.0.0.1:PORT.
#
# Observed on the wire (Caddy 2.6.2 built with Go's crypto/tls, Debian 12). With SNI localhost: a
# CertificateRequest in the handshake whose CA list is the subject of trusted_ca_cert_file only
# (Test Root CA). TLS 1.2 and 1.3 behave the same; Go sends bad_certificate for every refusal (also for
# "no certificate" under TLS 1.3, where OpenSSL servers send certificate_required):
#
#   site  client cert           TLS 1.3 and TLS 1.2
#   REQ   none                  alert bad_certificate (42)   (TLS 1.3: on the probe's first read)
#   REQ   other CA              alert bad_certificate (42)
#   REQ   expired               alert bad_certificate (42)
#   REQ   good                  200 "ok"
#   REQ   good /forbidden       403, empty body
#   OPT   none                  200 "ok" (/needcert: 403 "client certificate required")
#   OPT   other CA / expired    alert bad_certificate (42) — verify_if_given still verifies in TLS
#   OPT   good /forbidden       403
# No SNI (URL https://127.0.0.1:PORT/): Caddy matches no TLS connection policy with client auth, sends
# NO CertificateRequest at all, completes the handshake and answers 421 Misdirected Request (empty
# body) to every request, with or without a client identity. With --servername localhost on the IP URL
# (SNI localhost, Host 127.0.0.1:PORT) it asks for and accepts the certificate, then answers 421
# ("strict SNI-Host enforcement because TLS client auth is configured").
# shellcheck disable=SC2119  # assert_no_password takes an optional argument
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=lib_stacks.sh
source "$INTEG_DIR/lib_stacks.sh"

need_binary CADDY caddy /usr/bin/caddy /usr/local/bin/caddy
make_tmp
gen_pki

read -r P_REQ P_OPT < <(free_port 2)
site() {  # site PORT MODE EXTRA_HANDLERS
  cat <<EOS
https://localhost:$1, https://127.0.0.1:$1 {
  bind 127.0.0.1
  tls $PKI/server-chain.pem $PKI/server.key {
    client_auth {
      mode $2
      trusted_ca_cert_file $PKI/ca.pem
    }
  }
$3
  respond /forbidden 403
  respond "ok" 200
}
EOS
}
start_caddy main "$(site "$P_REQ" require_and_verify "")
$(site "$P_OPT" verify_if_given '  @nocert {
    path /needcert
    expression {tls_client_subject} == null
  }
  respond @nocert "client certificate required" 403')" "$P_REQ" "$P_OPT"

REQ="https://localhost:$P_REQ"
OPT="https://localhost:$P_OPT"
R_REQ=(--resolve "localhost:$P_REQ:127.0.0.1")
R_OPT=(--resolve "localhost:$P_OPT:127.0.0.1")

for v in 1.3 1.2; do
  T=(--tls-max "$v")

  stack_case "caddy require_and_verify, TLS $v: no certificate -> client-cert-required (alert bad_certificate)" \
    client-cert-required 8 bad_certificate null true false -- "${CACERT[@]}" "${R_REQ[@]}" "${T[@]}" "$REQ/"
  expect_json tls.version "TLSv$v"
  expect_json_any_contains tls.acceptable_ca_names "mtls-probe Test Root CA"
  expect_json tls.sni localhost

  stack_case "caddy require_and_verify, TLS $v: other CA -> client-cert-rejected (alert bad_certificate)" \
    client-cert-rejected 9 bad_certificate null true true -- "${CACERT[@]}" "${R_REQ[@]}" "${T[@]}" "${ID_OTHER[@]}" "$REQ/"
  expect_json client_cert.issuer_in_acceptable_ca_names false
  assert_no_password

  stack_case "caddy require_and_verify, TLS $v: expired -> client-cert-rejected (alert bad_certificate)" \
    client-cert-rejected 9 bad_certificate null true true -- "${CACERT[@]}" "${R_REQ[@]}" "${T[@]}" "${ID_EXPIRED[@]}" "$REQ/"

  stack_case "caddy require_and_verify, TLS $v: good certificate -> ok" \
    ok 0 null 200 true true -- "${CACERT[@]}" "${R_REQ[@]}" "${T[@]}" "${ID_GOOD[@]}" "$REQ/"
  expect_json http.body_excerpt ok
  assert_no_password

  stack_case "caddy require_and_verify, TLS $v: good certificate, 403 path -> http-error" \
    http-error 10 null 403 true true -- "${CACERT[@]}" "${R_REQ[@]}" "${T[@]}" "${ID_GOOD[@]}" "$REQ/forbidden"

  stack_case "caddy verify_if_given, TLS $v: no certificate -> ok" \
    ok 0 null 200 true false -- "${CACERT[@]}" "${R_OPT[@]}" "${T[@]}" "$OPT/"

  stack_case "caddy verify_if_given, TLS $v: no certificate, 403 'client certificate required' -> client-cert-required" \
    client-cert-required 8 null 403 true false -- "${CACERT[@]}" "${R_OPT[@]}" "${T[@]}" "$OPT/needcert"

  stack_case "caddy verify_if_given, TLS $v: other CA -> client-cert-rejected (alert bad_certificate)" \
    client-cert-rejected 9 bad_certificate null true true -- "${CACERT[@]}" "${R_OPT[@]}" "${T[@]}" "${ID_OTHER[@]}" "$OPT/"

  stack_case "caddy verify_if_given, TLS $v: expired -> client-cert-rejected (alert bad_certificate)" \
    client-cert-rejected 9 bad_certificate null true true -- "${CACERT[@]}" "${R_OPT[@]}" "${T[@]}" "${ID_EXPIRED[@]}" "$OPT/"

  stack_case "caddy verify_if_given, TLS $v: good certificate -> ok" \
    ok 0 null 200 true true -- "${CACERT[@]}" "${R_OPT[@]}" "${T[@]}" "${ID_GOOD[@]}" "$OPT/needcert"

  stack_case "caddy verify_if_given, TLS $v: good certificate, 403 path -> http-error" \
    http-error 10 null 403 true true -- "${CACERT[@]}" "${R_OPT[@]}" "${T[@]}" "${ID_GOOD[@]}" "$OPT/forbidden"
done

# --- no SNI: the URL is an IP address --------------------------------------------------------------
for v in 1.3 1.2; do
  T=(--tls-max "$v")
  stack_case "caddy require_and_verify, TLS $v, IP URL (no SNI), good certificate -> http-error 421 with an SNI hint" \
    http-error 10 null 421 false false -- "${CACERT[@]}" "${T[@]}" "${ID_GOOD[@]}" "https://127.0.0.1:$P_REQ/"
  expect_json tls.sni null
  expect_json_any_contains hints "SNI"
  expect_json_any_contains hints "--servername"
done

# SNI localhost, Host 127.0.0.1:PORT: Caddy asks for and accepts the certificate, then refuses the
# request because SNI and Host differ ("strict SNI-Host enforcement because TLS client auth is configured").
stack_case "caddy require_and_verify, IP URL with --servername localhost, good certificate -> http-error 421 naming the SNI" \
  http-error 10 null 421 true true -- "${CACERT[@]}" --servername localhost "${ID_GOOD[@]}" "https://127.0.0.1:$P_REQ/"
expect_json tls.sni localhost
expect_json_any_contains hints "SNI"
expect_json_any_contains hints "localhost"

finish
