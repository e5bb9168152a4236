#!/usr/bin/env bash
# --cert-status: the server's stapled OCSP response for its certificate, against openssl s_server
# (-status_file), nginx (ssl_stapling_file) and serve --ocsp-staple. The responses are made offline here with
# `openssl ocsp` (good, revoked, unknown, signed by a CA we do not trust, expired via faketime); curl
# --cert-status is asked about the same servers and must agree.
#
#   bash suite_cert_status.sh /path/to/mtls-probe
# shellcheck disable=SC2119  # assert_no_password takes an optional argument
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_tmp
gen_pki
command -v faketime >/dev/null || die "faketime is needed (scripts/install-deps.sh installs it)"

# ---- the OCSP responses: openssl ocsp answers from an index (openssl ca's database format) -------------
O="$TMP/ocsp"
mkdir -p "$O"
serial=$(openssl x509 -in "$PKI/server.crt" -noout -serial | cut -d= -f2)
expiry=$(date -u -d "$(openssl x509 -in "$PKI/server.crt" -noout -enddate | cut -d= -f2)" +%y%m%d%H%M%SZ)
revoked_on=$(date -u -d '-1 day' +%y%m%d%H%M%SZ)
subject="/O=mtls-probe tests/CN=localhost"
printf 'V\t%s\t\t%s\tunknown\t%s\n' "$expiry" "$serial" "$subject" >"$O/good.idx"
printf 'R\t%s\t%s,keyCompromise\t%s\tunknown\t%s\n' "$expiry" "$revoked_on" "$serial" "$subject" >"$O/revoked.idx"
: >"$O/empty.idx" # the serial is not in it: status unknown
# respond INDEX OUT [SIGNER_CRT SIGNER_KEY] — the server's issuer signs by default
respond() {
  local index=$1 out=$2 crt=${3:-$PKI/intermediate-ca.crt} key=${4:-$PKI/intermediate-ca.key}
  openssl ocsp -index "$index" -rsigner "$crt" -rkey "$key" -CA "$PKI/intermediate-ca.crt" \
    -issuer "$PKI/intermediate-ca.crt" -cert "$PKI/server.crt" -respout "$out" -ndays 7 \
    >>"$O/ocsp.log" 2>&1 || die "openssl ocsp failed for $out: $(tail -3 "$O/ocsp.log")"
}
respond "$O/good.idx" "$O/good.der"
respond "$O/revoked.idx" "$O/revoked.der"
respond "$O/empty.idx" "$O/unknown.der"
respond "$O/good.idx" "$O/wrongkey.der" "$PKI/other-ca.crt" "$PKI/other-ca.key"
# Made three days ago, valid for one: nextUpdate two days past.
faketime -f '-3d' openssl ocsp -index "$O/good.idx" -rsigner "$PKI/intermediate-ca.crt" \
  -rkey "$PKI/intermediate-ca.key" -CA "$PKI/intermediate-ca.crt" -issuer "$PKI/intermediate-ca.crt" \
  -cert "$PKI/server.crt" -respout "$O/expired.der" -ndays 1 >>"$O/ocsp.log" 2>&1 || die "faketime openssl ocsp"

# ---- servers -----------------------------------------------------------------------------------------
read -r SGOOD SGOOD12 SNONE SREV SUNK SWRONG SEXP NGOOD NREV < <(free_port 9)
srv=(-cert "$PKI/server.crt" -key "$PKI/server.key" -cert_chain "$PKI/intermediate-ca.crt" -www)
start_s_server good "$SGOOD" "${srv[@]}" -status_file "$O/good.der"
start_s_server good12 "$SGOOD12" "${srv[@]}" -status_file "$O/good.der" -tls1_2
start_s_server none "$SNONE" "${srv[@]}"
start_s_server revoked "$SREV" "${srv[@]}" -status_file "$O/revoked.der" -status_verbose
REV_LOG="$LAST_DIR/log"
start_s_server unknown "$SUNK" "${srv[@]}" -status_file "$O/unknown.der"
start_s_server wrongkey "$SWRONG" "${srv[@]}" -status_file "$O/wrongkey.der"
start_s_server expired "$SEXP" "${srv[@]}" -status_file "$O/expired.der"
stapling_server() {  # stapling_server PORT FILE — an nginx server block stapling FILE
  printf '  server {\n    listen 127.0.0.1:%s ssl;\n%s\n    ssl_stapling on;\n    ssl_stapling_file %s;\n' \
    "$1" "$NGINX_TLS" "$2"
  printf '    location / { return 200 "stapled\\n"; }\n  }\n'
}
start_nginx stapling "$(stapling_server "$NGOOD" "$O/good.der")
$(stapling_server "$NREV" "$O/revoked.der")" "$NGOOD"
wait_port "$NREV" "$LAST_PID" || die "nginx did not listen on $NREV"
start_serve staple-good --cert "$PKI/server-chain.pem" --key "$PKI/server.key" --client-auth none \
  --ocsp-staple "$O/good.der"
SERVE_GOOD=$SERVE_URL
start_serve staple-revoked --cert "$PKI/server-chain.pem" --key "$PKI/server.key" --client-auth none \
  --ocsp-staple "$O/revoked.der"
SERVE_REVOKED=$SERVE_URL

# curl_agrees URL WANT_RC [curl args...] — curl --cert-status exits WANT_RC (0 or 91) on the same server.
curl_agrees() {
  local url=$1 want=$2 rc
  shift 2
  curl -sS --noproxy '*' --cert-status "$@" -o /dev/null "$url" 2>"$TMP/curl.err"
  rc=$?
  if [[ $rc == "$want" ]]; then
    _pass "curl --cert-status agrees: exit $rc ($(head -c 120 "$TMP/curl.err"))"
  else
    _fail "curl --cert-status agrees: exit $want (got $rc: $(head -c 200 "$TMP/curl.err"))" "$(_evidence)"
  fi
}
# expect_status_failure PROBLEM — the verdict and facts of a --cert-status failure in the handshake
expect_status_failure() {
  expect_verdict server-cert-untrusted 7
  expect_json server_cert.ocsp.problem "$1"
  expect_json tls.alert.code 113
  expect_json tls.alert.from client
  expect_json http.status null
  expect_json_contains summary "is not trusted"
}
status_calls() { grep -c 'cert_status: callback called' "$1"; }

# ---- good --------------------------------------------------------------------------------------------
scenario "s_server staples a good response (TLS 1.3) -> ok, with the evidence"
probe --cert-status "${CACERT[@]}" "https://localhost:$SGOOD/"
expect_verdict ok 0
expect_json server_cert.verify_error null
expect_json server_cert.ocsp.requested true
expect_json server_cert.ocsp.stapled true
expect_json server_cert.ocsp.response_status successful
expect_json server_cert.ocsp.verified true
expect_json server_cert.ocsp.cert_status good
expect_json_contains server_cert.ocsp.responder "CN=mtls-probe Test Intermediate CA"
expect_json_not_null server_cert.ocsp.this_update
expect_json_not_null server_cert.ocsp.next_update
expect_json server_cert.ocsp.error null
curl_agrees "https://localhost:$SGOOD/" 0 --cacert "$PKI/ca.pem"

scenario "the text report's TLS evidence says it"
"$PROBE" --cert-status "${CACERT[@]}" "https://localhost:$SGOOD/" >"$TMP/text.out" 2>&1
check "text: certificate status line" grep -q 'certificate status (OCSP, --cert-status): good' "$TMP/text.out"
tr -s ' \n' ' ' <"$TMP/text.out" >"$TMP/text.joined" # the report wraps long lines at 80 columns
check "text: who signed it" grep -q 'stapled response from CN=mtls-probe Test Intermediate CA.* (signature verified)' \
  "$TMP/text.joined"

scenario "s_server staples a good response (TLS 1.2, CertificateStatus message) -> ok"
probe --cert-status "${CACERT[@]}" "https://localhost:$SGOOD12/"
expect_verdict ok 0
expect_json tls.version TLSv1.2
expect_json server_cert.ocsp.cert_status good

scenario "without --cert-status nothing is asked for: ocsp null, the server's status callback not called"
before=$(status_calls "$REV_LOG")
probe "${CACERT[@]}" "https://localhost:$SREV/"
expect_verdict ok 0
expect_json server_cert.ocsp null
check "s_server saw no status_request (callback calls stayed at $before)" test "$(status_calls "$REV_LOG")" -eq "$before"
probe --cert-status "${CACERT[@]}" "https://localhost:$SREV/"
check "with --cert-status it did (callback calls now $(status_calls "$REV_LOG"), were $before)" \
  test "$(status_calls "$REV_LOG")" -gt "$before"

# ---- failures ----------------------------------------------------------------------------------------
scenario "no response stapled -> server-cert-untrusted, nothing sent"
probe --cert-status "${CACERT[@]}" "${ID_GOOD[@]}" "https://localhost:$SNONE/"
expect_status_failure not-stapled
expect_json server_cert.verify_error "no OCSP response stapled (--cert-status)"
expect_json server_cert.ocsp.stapled false
expect_json tls.client_cert_sent false
expect_json_any_contains hints "enable stapling"
assert_no_password
curl_agrees "https://localhost:$SNONE/" 91 --cacert "$PKI/ca.pem"

scenario "revoked -> server-cert-untrusted, with reason and time"
probe --cert-status "${CACERT[@]}" "https://localhost:$SREV/"
expect_status_failure revoked
expect_json_contains server_cert.verify_error "OCSP: certificate revoked (keyCompromise, $(date -u -d '-1 day' +%Y-%m-%d)"
expect_json server_cert.ocsp.cert_status revoked
expect_json server_cert.ocsp.reason keyCompromise
expect_json_not_null server_cert.ocsp.revoked_at
curl_agrees "https://localhost:$SREV/" 91 --cacert "$PKI/ca.pem"

scenario "-k does not skip --cert-status (as curl)"
probe -k --cert-status "${CACERT[@]}" "https://localhost:$SREV/"
expect_status_failure revoked
expect_json_any_contains hints "-k does not skip --cert-status"
curl_agrees "https://localhost:$SREV/" 91 -k --cacert "$PKI/ca.pem"

scenario "-k without the CA: the response's signer is not trusted either (as curl)"
probe -k --cert-status "https://localhost:$SGOOD/"
expect_status_failure bad-signature
curl_agrees "https://localhost:$SGOOD/" 91 -k

scenario "unknown -> server-cert-untrusted"
probe --cert-status "${CACERT[@]}" "https://localhost:$SUNK/"
expect_status_failure unknown
expect_json server_cert.verify_error "OCSP: certificate status unknown to the responder"
curl_agrees "https://localhost:$SUNK/" 91 --cacert "$PKI/ca.pem"

scenario "signed by a CA we do not trust -> server-cert-untrusted"
probe --cert-status "${CACERT[@]}" "https://localhost:$SWRONG/"
expect_status_failure bad-signature
expect_json server_cert.ocsp.verified false
expect_json_contains server_cert.verify_error "signature does not verify"
curl_agrees "https://localhost:$SWRONG/" 91 --cacert "$PKI/ca.pem"

scenario "expired (nextUpdate two days past) -> server-cert-untrusted"
probe --cert-status "${CACERT[@]}" "https://localhost:$SEXP/"
expect_status_failure expired
expect_json_contains server_cert.verify_error "OCSP: the response has expired (nextUpdate $(date -u -d '-2 days' +%Y-%m-%d)"
curl_agrees "https://localhost:$SEXP/" 91 --cacert "$PKI/ca.pem"

# ---- nginx and serve ---------------------------------------------------------------------------------
scenario "nginx ssl_stapling_file good -> ok; revoked -> server-cert-untrusted"
probe --cert-status "${CACERT[@]}" "https://localhost:$NGOOD/"
expect_verdict ok 0
expect_json server_cert.ocsp.cert_status good
curl_agrees "https://localhost:$NGOOD/" 0 --cacert "$PKI/ca.pem"
probe --cert-status "${CACERT[@]}" "https://localhost:$NREV/"
expect_status_failure revoked
curl_agrees "https://localhost:$NREV/" 91 --cacert "$PKI/ca.pem"

scenario "serve --ocsp-staple good -> ok; revoked -> server-cert-untrusted"
probe --cert-status "${CACERT[@]}" "$SERVE_GOOD"
expect_verdict ok 0
expect_json server_cert.ocsp.cert_status good
curl_agrees "$SERVE_GOOD" 0 --cacert "$PKI/ca.pem"
probe --cert-status "${CACERT[@]}" "$SERVE_REVOKED"
expect_status_failure revoked
curl_agrees "$SERVE_REVOKED" 91 --cacert "$PKI/ca.pem"

scenario "batch --cert-status: every line is checked (good -> ok, revoked -> server-cert-untrusted)"
printf 'https://localhost:%s/ name=good\nhttps://localhost:%s/ name=revoked expect=server-cert-untrusted\n' \
  "$SGOOD" "$SREV" >"$TMP/targets.txt"
"$PROBE" batch --json --cert-status "${CACERT[@]}" "$TMP/targets.txt" </dev/null >"$TMP/batch.out" 2>"$TMP/batch.err"
RC=$?
check "batch exit 0: both lines met (got $RC)" test "$RC" -eq 0
check "the revoked line's verdict" grep -q '"name":"revoked".*"verdict":"server-cert-untrusted"\|"verdict":"server-cert-untrusted".*"name":"revoked"' \
  "$TMP/batch.out"

scenario "serve --ocsp-staple with a file that is no OCSP response -> exit 2"
printf 'not der' >"$TMP/bad.der"
"$PROBE" serve --port 0 --cert "$PKI/server-chain.pem" --key "$PKI/server.key" --client-auth none --ocsp-staple "$TMP/bad.der" \
  </dev/null >"$TMP/bad.out" 2>"$TMP/bad.err"
RC=$?
check "exit 2 (got $RC)" test "$RC" -eq 2
check "the message names the file" grep -q "bad.der is not a DER OCSP response" "$TMP/bad.err"

finish
