#!/usr/bin/env bash
# --as openssl|strict against `mtls-probe serve`: OpenSSL (the default, as curl) sends the configured
# certificate even when its issuer is not in the server's CA list; --as strict behaves like Java, Go, .NET,
# GnuTLS, browsers and URLSession and sends an empty Certificate then (but sends when the list is empty).
#
#   bash suite_strict.sh /path/to/mtls-probe
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_tmp
PKI_DIR="$TMP/serve-pki"


start_serve require13 --pki-dir "$PKI_DIR" --client-auth require
# the generated password is the secret every probe's output is checked for
MTLS_TEST_P12_PASSWORD=$(head -n 1 "$PKI_DIR/client.pass")
export MTLS_TEST_P12_PASSWORD
CA=(--cacert "$PKI_DIR/ca.pem")
ID_GOOD=(--p12 "$PKI_DIR/client.p12" --p12-password-file "$PKI_DIR/client.pass")
ID_OTHER=(--p12 "$PKI_DIR/other-client.p12" --p12-password-file "$PKI_DIR/client.pass")

# --- TLS 1.3, the server lists its CA ---------------------------------------------------------------
scenario "TLS 1.3, other-CA identity, default (--as openssl) -> sent anyway, client-cert-rejected"
probe "${CA[@]}" "${ID_OTHER[@]}" "$SERVE_URL"
expect_verdict client-cert-rejected 9
expect_json tls.client_cert_sent true
expect_json client_behaviour openssl
expect_json client_cert.withheld_by_strict_selection false
expect_json client_cert.issuer_in_acceptable_ca_names false

scenario "TLS 1.3, other-CA identity, explicit --as openssl -> the same"
probe --as openssl "${CA[@]}" "${ID_OTHER[@]}" "$SERVE_URL"
expect_verdict client-cert-rejected 9
expect_json tls.client_cert_sent true

scenario "TLS 1.3, other-CA identity, --as strict -> nothing sent, client-cert-required"
probe --as strict "${CA[@]}" "${ID_OTHER[@]}" "$SERVE_URL"
expect_verdict client-cert-required 8
expect_json tls.client_cert_sent false
expect_json tls.client_cert_requested true
expect_json client_behaviour strict
expect_json client_cert.withheld_by_strict_selection true
expect_json_any_contains hints "--as strict"
check "-v trace says why the certificate was withheld" grep -q "empty Certificate (--as strict" "$ERR"

scenario "TLS 1.3, good identity, --as strict -> ok"
probe --as strict "${CA[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict ok 0
expect_json tls.client_cert_sent true
expect_json client_cert.withheld_by_strict_selection false
stop_pid "$SERVE_PID"

# --- TLS 1.2 ----------------------------------------------------------------------------------------
start_serve require12 --pki-dir "$PKI_DIR" --client-auth require --tls-max 1.2
scenario "TLS 1.2, other-CA identity, --as strict -> nothing sent, client-cert-required"
probe --as strict "${CA[@]}" "${ID_OTHER[@]}" "$SERVE_URL"
expect_verdict client-cert-required 8
expect_json tls.version TLSv1.2
expect_json tls.client_cert_sent false
expect_json client_cert.withheld_by_strict_selection true

scenario "TLS 1.2, other-CA identity, default -> client-cert-rejected"
probe "${CA[@]}" "${ID_OTHER[@]}" "$SERVE_URL"
expect_verdict client-cert-rejected 9
expect_json tls.client_cert_sent true
stop_pid "$SERVE_PID"

# --- an empty CA list: strict clients send their certificate ----------------------------------------
start_serve nocanames --pki-dir "$PKI_DIR" --client-auth require --no-ca-names
scenario "no CA names, other-CA identity, --as strict -> sent (as Java and Go do), client-cert-rejected"
probe --as strict "${CA[@]}" "${ID_OTHER[@]}" "$SERVE_URL"
expect_verdict client-cert-rejected 9
expect_json tls.client_cert_sent true
expect_json client_cert.withheld_by_strict_selection false

scenario "no CA names, good identity, --as strict -> ok"
probe --as strict "${CA[@]}" "${ID_GOOD[@]}" "$SERVE_URL"
expect_verdict ok 0
stop_pid "$SERVE_PID"

scenario "--as with an unknown value -> usage-error"
probe --as java "${CA[@]}" "https://127.0.0.1:1/"
expect_verdict usage-error 1

finish
