#!/usr/bin/env bash
# suite_inspect.sh PATH/TO/mtls-probe — `mtls-probe inspect` on the generated test PKI (no network): exit codes,
# the JSON fields, the findings, the text verdict line, and that no password or key bytes are printed.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_tmp
gen_pki

if [[ -z $PROBE || ! -x $PROBE ]]; then
  echo "FATAL: mtls-probe binary not found: '${PROBE}'" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
# Only the subcommand's own help has its exit-code footer (without it, "inspect" would be taken as a URL).
if ! "$PROBE" inspect --help 2>&1 | grep -q "usable for client authentication"; then
  echo "FATAL: $PROBE has no 'inspect' subcommand (add_inspect_command/run_inspect_command not wired?)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

# inspect ARGS... — runs "$PROBE" inspect --json ARGS in an empty working directory; sets OUT, ERR, RC, J[...]
# and checks that nothing secret was printed or written (as lib.sh's probe does).
inspect() {
  _run_inspect --json "$@"
  _load_json
  echo "  (inspect exit $RC in ${WALL_MS}ms)"
  _check_no_secrets
}

# inspect_text ARGS... — the same without --json (the human report); no JSON is loaded.
inspect_text() {
  _run_inspect "$@"
  J=()
  echo "  (inspect exit $RC in ${WALL_MS}ms)"
  _check_no_secrets
}

_run_inspect() {
  OUT="$TMP/probe.out"
  ERR="$TMP/probe.err"
  local cwd="$TMP/probe-cwd" t0 t1
  rm -rf "$cwd" && mkdir -p "$cwd"
  t0=$(date +%s%N)
  (cd "$cwd" && exec timeout -k 2 60 "$PROBE" inspect "$@" >"$OUT" 2>"$ERR" </dev/null)
  RC=$?
  t1=$(date +%s%N)
  WALL_MS=$(((t1 - t0) / 1000000))
}

expect_exit() {
  if [[ $RC == "$1" ]]; then _pass "exit code $1"; else _fail "exit code $1 (got $RC)" "$(_evidence)"; fi
}

# The finding codes of the last run, sorted, space-separated.
_codes() {
  local i out=()
  for ((i = 0; ; i++)); do
    [[ -n ${J[findings.$i.code]+x} ]] || break
    out+=("${J[findings.$i.code]//\"/}")
  done
  if ((${#out[@]})); then printf '%s\n' "${out[@]}" | sort | tr '\n' ' ' | sed 's/ $//'; fi
}

# expect_findings CODE... — exactly these finding codes (in any order; none when no argument)
expect_findings() {
  local want got
  want=$(if (($#)); then printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'; fi)
  got=$(_codes)
  if [[ $got == "$want" ]]; then
    _pass "findings == [${want}]"
  else
    _fail "findings == [${want}] (got [${got}])" "$(_evidence)"
  fi
}

# expect_finding_severity CODE SEVERITY — the first finding with CODE has SEVERITY
expect_finding_severity() {
  local i
  for ((i = 0; ; i++)); do
    [[ -n ${J[findings.$i.code]+x} ]] || break
    if [[ ${J[findings.$i.code]} == "\"$1\"" ]]; then
      expect_json "findings.$i.severity" "$2"
      expect_json_not_null "findings.$i.hint"
      return
    fi
  done
  _fail "finding $1 present (for its severity)" "$(_evidence)"
}

# expect_ok / expect_identity_error — verdict, exit code, one JSON object
expect_ok() { expect_verdict ok 0; }
expect_identity_error() { expect_verdict identity-error 2; }

expect_first_line() {
  local line
  line=$(head -n 1 "$OUT")
  if [[ $line == "$1"* ]]; then _pass "first line starts with '$1'"; else _fail "first line starts with '$1' (got '$line')"; fi
}

P12PW=(--p12-password-env "$PW_ENV")

# ---------------------------------------------------------------------------------------------------------
scenario "modern PKCS#12 with its intermediate, verified to the root"
inspect "$PKI/client-good.p12" "${P12PW[@]}" --cacert "$PKI/ca.pem"
expect_ok
expect_findings
expect_json file "$PKI/client-good.p12"
expect_json format pkcs12
expect_json pkcs12.legacy false
expect_json pkcs12.key_encryption "PBES2 / AES-256-CBC, PBKDF2 HMAC-SHA256"
expect_json pkcs12.cert_encryption "PBES2 / AES-256-CBC, PBKDF2 HMAC-SHA256"
expect_json pkcs12.mac_algorithm HMAC-SHA256
expect_json pkcs12.mac_iterations 2048
expect_json certificate.subject "CN=good-client,O=mtls-probe tests"
expect_json certificate.issuer "CN=mtls-probe Test Intermediate CA,O=mtls-probe tests"
expect_json certificate.signature_algorithm ecdsa-with-SHA256
expect_json certificate.extended_key_usage.0 clientAuth
expect_json certificate.key_usage.0 digitalSignature
expect_json_not_null certificate.sha256_fingerprint
expect_json certificate.expired false
expect_json key.type EC
expect_json key.bits 256
expect_json key.curve P-256
expect_json key.matches_certificate true
expect_json chain.0.subject "CN=mtls-probe Test Intermediate CA,O=mtls-probe tests"
expect_json chain.0.in_path true
expect_json chain_status.leaf_issuer_carried true
expect_json chain_status.reaches_root false
expect_json verification.verified true
expect_json verification.error null
expect_json identity_error null

fp=$(openssl x509 -in "$PKI/client-good.crt" -noout -fingerprint -sha256 | sed 's/^.*=//')
expect_json certificate.sha256_fingerprint "$fp"

scenario "the same identity as a text report"
inspect_text "$PKI/client-good.p12" "${P12PW[@]}" --cacert "$PKI/ca.pem"
expect_exit 0
expect_first_line "✓ usable for client authentication (exit 0)  $PKI/client-good.p12"
check "text report shows the PKCS#12 algorithms" grep -q "AES-256-CBC" "$OUT"
check "text report shows the verification" grep -q "verified to" "$OUT"

scenario "legacy PKCS#12 (RC2-40 / 3DES, SHA-1 MAC): usable, with a warning"
inspect "$PKI/client-good-legacy.p12" "${P12PW[@]}"
expect_ok
expect_findings legacy-pkcs12
expect_finding_severity legacy-pkcs12 warning
expect_json pkcs12.legacy true
expect_json pkcs12.cert_encryption pbeWithSHA1And40BitRC2-CBC
expect_json pkcs12.key_encryption pbeWithSHA1And3-KeyTripleDES-CBC
expect_json pkcs12.mac_algorithm HMAC-SHA1

scenario "legacy PKCS#12 where OpenSSL's legacy provider cannot be loaded"
OPENSSL_MODULES="$TMP/no-modules-here" OPENSSL_CONF=/dev/null inspect "$PKI/client-good-legacy.p12" "${P12PW[@]}"
expect_identity_error
expect_findings legacy-pkcs12 legacy-unavailable
expect_json identity_error.problem legacy-unavailable
expect_json pkcs12.legacy true
expect_json pkcs12.cert_encryption pbeWithSHA1And40BitRC2-CBC

scenario "expired client certificate"
inspect "$PKI/client-expired.p12" "${P12PW[@]}"
expect_identity_error
expect_findings expired
expect_finding_severity expired error
expect_json certificate.expired true
expect_json_contains summary expired

scenario "expired client certificate as text"
inspect_text "$PKI/client-expired.p12" "${P12PW[@]}"
expect_exit 2
expect_first_line "✗ identity-error (exit 2)  $PKI/client-expired.p12"
check "text report lists the finding" grep -q "\[expired\]" "$OUT"
check "text report has a hint" grep -q "hint:" "$OUT"

scenario "not yet valid client certificate"
inspect "$PKI/client-notyet.p12" "${P12PW[@]}"
expect_identity_error
expect_findings not-yet-valid
expect_json certificate.not_yet_valid true

scenario "serverAuth-only certificate, verified for client authentication"
inspect "$PKI/client-serverauth.p12" "${P12PW[@]}" --cacert "$PKI/ca.pem"
expect_identity_error
expect_findings no-client-auth-eku verify-failed
expect_json certificate.client_auth_eku false
expect_json verification.verified false
expect_json_contains verification.error purpose

scenario "certificate of another CA against the test root"
inspect "$PKI/client-other.p12" "${P12PW[@]}" --cacert "$PKI/ca.pem"
expect_identity_error
expect_findings verify-failed
expect_json verification.verified false
expect_json chain_status.reaches_root true
expect_json_not_null verification.error

scenario "the other CA's certificate on its own: nothing wrong with it"
inspect "$PKI/client-other.p12" "${P12PW[@]}" --cacert "$PKI/other-ca.crt"
expect_ok
expect_findings
expect_json verification.verified true

scenario "PKCS#12 without a private key"
inspect "$PKI/client-nokey.p12" "${P12PW[@]}"
expect_identity_error
expect_findings no-private-key
expect_json identity_error.problem no-private-key
expect_json certificate.subject "CN=good-client,O=mtls-probe tests"
expect_json key null

scenario "PEM certificate and key, no chain carried"
inspect "$PKI/client-good.crt" --key "$PKI/client-good.key"
expect_ok
expect_findings chain-incomplete
expect_finding_severity chain-incomplete warning
expect_json format pem
expect_json pkcs12 null
expect_json chain_status.leaf_issuer_carried false

scenario "PEM certificate with its chain"
inspect "$PKI/client-good-chain.pem" --key "$PKI/client-good.key" --cacert "$PKI/ca.pem"
expect_ok
expect_findings
expect_json verification.verified true

scenario "PEM certificate without the intermediate: verifies with the CA bundle"
inspect "$PKI/client-good.crt" --key "$PKI/client-good.key" --cacert "$PKI/client-ca-bundle.pem"
expect_ok
expect_findings chain-incomplete
expect_json verification.verified true

scenario "PEM key that does not match the certificate"
inspect "$PKI/client-good-chain.pem" --key "$PKI/client-mismatch.key"
expect_identity_error
expect_findings key-mismatch
expect_json key.matches_certificate false
expect_json certificate.subject "CN=good-client,O=mtls-probe tests"

scenario "PEM certificate without a key"
inspect "$PKI/client-good-chain.pem"
expect_identity_error
expect_findings no-private-key

scenario "wrong password"
export MTLS_INSPECT_WRONG_PW="not-the-password"
inspect "$PKI/client-good.p12" --p12-password-env MTLS_INSPECT_WRONG_PW
expect_identity_error
expect_findings wrong-password
expect_json identity_error.problem wrong-password
expect_json certificate null
expect_json pkcs12.mac_algorithm HMAC-SHA256
unset MTLS_INSPECT_WRONG_PW

scenario "password from a file"
pwfile="$TMP/p12.pass"
printf '%s\n' "$MTLS_TEST_P12_PASSWORD" >"$pwfile"
inspect "$PKI/client-good.p12" --p12-password-file "$pwfile"
expect_ok
rm -f "$pwfile"

scenario "--cert-type P12 on a file named .pem, and --p12"
cp "$PKI/client-good.p12" "$TMP/disguised.pem"
inspect --cert "$TMP/disguised.pem" --cert-type P12 "${P12PW[@]}"
expect_ok
expect_json format pkcs12
inspect --p12 "$PKI/client-good.p12" "${P12PW[@]}"
expect_ok
inspect "$TMP/disguised.pem" "${P12PW[@]}"
expect_ok
expect_json format pkcs12

scenario "--pass works and warns (a throw-away password that may be seen)"
openssl pkcs12 -export -in "$PKI/client-good.crt" -inkey "$PKI/client-good.key" \
  -certfile "$PKI/intermediate-ca.crt" -passout pass:visible-in-ps -out "$TMP/visible.p12"
inspect "$TMP/visible.p12" --pass visible-in-ps
expect_ok
check "stderr warns about the process list" grep -q "process list" "$ERR"
check "stdout does not contain the --pass password" bash -c '! grep -qF visible-in-ps "$1"' _ "$OUT"
expect_json_any_contains warnings "process list"

scenario "missing file"
inspect "$TMP/no-such-file.p12" "${P12PW[@]}"
expect_identity_error
expect_findings file-missing
expect_json format pkcs12

scenario "usage errors exit 1 with one JSON object"
inspect
expect_verdict usage-error 1
inspect "$PKI/client-good.p12" --pass x "${P12PW[@]}"
expect_verdict usage-error 1
inspect "$PKI/client-good.p12" "${P12PW[@]}" --cacert "$TMP/no-such-ca.pem"
expect_verdict usage-error 1
expect_json_contains error cacert
# an option CLI11 does not know: still inspect's own JSON (not the probe's), naming the option
inspect "$PKI/client-good.p12" --bogus-option
expect_verdict usage-error 1
expect_json_contains error "--bogus-option"
check "inspect's schema (certificate, findings), not the probe's (no tls object)" \
  bash -c "grep -q '\"findings\"' '$OUT' && ! grep -q '\"tls\"' '$OUT'"

scenario "serve: a usage error is told on stderr (serve has no JSON), exit 1, nothing on stdout"
OUT="$TMP/probe.out"
ERR="$TMP/probe.err"
timeout -k 2 20 "$PROBE" serve --json >"$OUT" 2>"$ERR" </dev/null
RC=$?
check "exit 1 (got $RC)" test "$RC" = 1
check "stdout is empty" test ! -s "$OUT"
check "stderr names serve and the option" grep -q "mtls-probe serve: .*--json" "$ERR"

scenario "--json given before the subcommand"
OUT="$TMP/probe.out"
ERR="$TMP/probe.err"
(cd "$TMP" && timeout -k 2 60 "$PROBE" --json inspect "$PKI/client-good.p12" "${P12PW[@]}" >"$OUT" 2>"$ERR" </dev/null)
RC=$?
_load_json
expect_verdict ok 0

finish
