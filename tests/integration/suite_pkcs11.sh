#!/usr/bin/env bash
# Client keys on PKCS#11 tokens: SoftHSM2 tokens made at test time (pkcs11_lib.sh), reached through p11-kit's
# proxy module (the default) or through the shim module (tests/support/pkcs11_shim.c), which makes a token
# behave like a smart card: a PIN retry counter that locks, and (MTLS_SHIM_NO_PSS=1) no RSA-PSS. The shim is
# checked with pkcs11-tool first, then the probe: RSA and EC keys against nginx, Apache and serve, the
# identity errors (each problem code, and that a wrong PIN is tried once and a locked PIN not at all), RSA-PSS
# refused by an old card under TLS 1.3 and PKCS#1 v1.5 under TLS 1.2, inspect on a token, and that no PIN is
# in any output.
#
#   bash suite_pkcs11.sh /path/to/mtls-probe /path/to/mtls_pkcs11_shim.so
# shellcheck disable=SC2119  # assert_no_password takes an optional argument
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=pkcs11_lib.sh
source "$INTEG_DIR/pkcs11_lib.sh"

SHIM=${2:-${MTLS_PKCS11_SHIM:-}}
if [[ -z $PROBE || ! -x $PROBE ]]; then
  echo "FATAL: mtls-probe binary not found: '${PROBE}'" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
if [[ -z $SHIM || ! -f $SHIM ]]; then
  echo "FATAL: the PKCS#11 shim module was not given or not built: '${SHIM}' (tests/CMakeLists.txt builds it" \
    "where p11-kit-1 is found: libp11-kit-dev)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
SHIM=$(realpath "$SHIM")
p11_require_tools

make_tmp
gen_pki
p11_make_tokens

# A failing check prints the probe's evidence (lib.sh's _evidence): with the PINs blanked, as lib.sh blanks
# the .p12 password, so that not even a failure prints one.
eval "$(declare -f _evidence | sed '1s/^_evidence/_lib_evidence/')"
_evidence() {
  local text
  text=$(_lib_evidence)
  text=${text//"${!P11_PIN_ENV}"/<REDACTED>}
  text=${text//"${!P11_WRONG_PIN_ENV}"/<REDACTED>}
  printf '%s\n' "${text//"${!P11_SO_PIN_ENV}"/<REDACTED>}"
}

# Every stdout and stderr of the tool in this suite, for the closing PIN check.
ALL_OUTPUT="$TMP/all-output"
: >"$ALL_OUTPUT"
p11_probe() {
  probe "$@"
  cat "$OUT" "$ERR" >>"$ALL_OUTPUT"
}

# p11_inspect ARGS... — `mtls-probe inspect --json ARGS` in an empty working directory (as probe does)
p11_inspect() {
  OUT="$TMP/probe.out"
  ERR="$TMP/probe.err"
  local cwd="$TMP/probe-cwd" t0
  rm -rf "$cwd" && mkdir -p "$cwd"
  t0=$(date +%s%N)
  (cd "$cwd" && exec timeout -k 2 60 "$PROBE" inspect --json "$@" >"$OUT" 2>"$ERR" </dev/null)
  RC=$?
  WALL_MS=$((($(date +%s%N) - t0) / 1000000))
  _load_json
  echo "  (inspect exit $RC in ${WALL_MS}ms)"
  _check_no_secrets
  cat "$OUT" "$ERR" >>"$ALL_OUTPUT"
}

expect_exit() {
  if [[ $RC == "$1" ]]; then _pass "exit code $1"; else _fail "exit code $1 (got $RC)" "$(_evidence)"; fi
}

# shim_card STATE_FILE [no-pss] — the next runs that load $SHIM see a card over SoftHSM whose counters are in
# STATE_FILE (started empty unless the caller preset it)
shim_card() {
  export MTLS_SHIM_TARGET="$SOFTHSM_MODULE" MTLS_SHIM_STATE=$1 MTLS_SHIM_MAX_TRIES=3
  if [[ ${2:-} == no-pss ]]; then export MTLS_SHIM_NO_PSS=1; else unset MTLS_SHIM_NO_PSS; fi
}
# shim_counter FILE failures|logins — the card's counter (0 when the file does not exist yet)
shim_counter() {
  local n
  n=$(sed -n "s/^$2 \([0-9]*\)$/\1/p" "$1" 2>/dev/null)
  echo "${n:-0}"
}
expect_counter() {  # expect_counter FILE failures|logins N WHAT
  local got
  got=$(shim_counter "$1" "$2")
  if [[ $got == "$3" ]]; then _pass "$4 ($2 == $3)"; else _fail "$4 ($2 == $3, got $got)" "$(_evidence)"; fi
}

# shim_tool ARGS... — pkcs11-tool through the shim; what it printed is in $P11_TOOL_LOG (PIN-free: PINs go in
# as env:VAR), which expect_tool_log greps
P11_TOOL_LOG="$TMP/pkcs11-tool.log"
shim_tool() {
  pkcs11-tool --module "$SHIM" "$@" >"$P11_TOOL_LOG" 2>&1
}
expect_tool_log() {  # expect_tool_log WHAT EXTENDED_REGEX [absent]
  local found=0
  grep -qE "$2" "$P11_TOOL_LOG" && found=1
  if [[ ${3:-} == absent ]]; then found=$((1 - found)); fi
  if ((found)); then _pass "$1"; else _fail "$1" "$(head -c 600 "$P11_TOOL_LOG")"; fi
}

# ---------------------------------------------------------------------------------------------------
# The shim models a card (pkcs11-tool, before the probe relies on it)

scenario "shim: forwards to SoftHSM (pkcs11-tool -T through the shim lists the suite's tokens)"
shim_card "$TMP/shim-selfcheck"
shim_tool -T
expect_tool_log "token probe-rsa listed" 'token label +: probe-rsa$'
expect_tool_log "token probe-ec listed" 'token label +: probe-ec$'
expect_tool_log "no PIN flag on a fresh card" 'count low|final user PIN try|PIN locked' absent

scenario "shim: two wrong PINs -> counted, token info says final try; the right PIN resets the counter"
for _ in 1 2; do shim_tool --token-label probe-ec --login --pin "env:$P11_WRONG_PIN_ENV" -O; done
expect_tool_log "the wrong PIN is CKR_PIN_INCORRECT" 'CKR_PIN_INCORRECT'
expect_counter "$TMP/shim-selfcheck" failures 2 "two failures counted"
expect_counter "$TMP/shim-selfcheck" logins 2 "two C_Login calls counted"
shim_tool -T
expect_tool_log "token flags: user PIN count low" 'token flags.*user PIN count low'
expect_tool_log "token flags: final user PIN try" 'token flags.*final user PIN try'
shim_tool --token-label probe-ec --login --pin "env:$P11_PIN_ENV" -O
expect_tool_log "the right PIN logs in (the certificate object is listed)" 'Certificate Object'
expect_counter "$TMP/shim-selfcheck" failures 0 "a success resets the failures"

scenario "shim: at MAX_TRIES failures the PIN is locked, even the right PIN is refused"
printf 'failures 3\nlogins 0\n' >"$TMP/shim-selfcheck"
shim_tool -T
expect_tool_log "token flags: user PIN locked" 'token flags.*user PIN locked'
shim_tool --token-label probe-ec --login --pin "env:$P11_PIN_ENV" -O
expect_tool_log "the right PIN gets CKR_PIN_LOCKED" 'CKR_PIN_LOCKED'
expect_counter "$TMP/shim-selfcheck" logins 1 "the refused C_Login is counted"

scenario "shim: pkcs11-spy between pkcs11-tool and the shim sees as many C_Login calls as the shim counts"
# The spy's log has the PIN in it: only counted here, never printed, and deleted at once.
shim_card "$TMP/shim-spy"
SPY_LOG="$TMP/spy.log"
PKCS11SPY="$SHIM" PKCS11SPY_OUTPUT="$SPY_LOG" pkcs11-tool --module "$P11_SPY_MODULE" --token-label probe-ec \
  --login --pin "env:$P11_WRONG_PIN_ENV" -O >/dev/null 2>&1
spy_logins=$(grep -c 'C_Login' "$SPY_LOG" 2>/dev/null)
rm -f "$SPY_LOG"
if [[ $spy_logins == 1 && $(shim_counter "$TMP/shim-spy" logins) == 1 ]]; then
  _pass "spy: 1 C_Login, shim: logins 1"
else
  _fail "spy: 1 C_Login, shim: logins 1 (spy ${spy_logins:-none}, shim $(shim_counter "$TMP/shim-spy" logins))"
fi

scenario "shim: MTLS_SHIM_NO_PSS=1 hides RSA-PSS (and raw RSA) and refuses to sign with it"
shim_card "$TMP/shim-mech"
shim_tool --token-label probe-rsa -M
expect_tool_log "without NO_PSS the token lists RSA-PKCS-PSS" '^ *RSA-PKCS-PSS'
shim_card "$TMP/shim-mech" no-pss
shim_tool --token-label probe-rsa -M
expect_tool_log "with NO_PSS no RSA-PKCS-PSS is listed" 'RSA-PKCS-PSS' absent
expect_tool_log "with NO_PSS no raw RSA (RSA-X-509) is listed" 'RSA-X-509' absent
expect_tool_log "with NO_PSS RSA-PKCS (PKCS#1 v1.5) is still listed" '^ *RSA-PKCS([, ]|$)'
printf '%032d' 0 >"$TMP/sign-input"  # RSA-PKCS-PSS signs a digest: 32 bytes for SHA-256
shim_tool --token-label probe-rsa --login --pin "env:$P11_PIN_ENV" --sign --id 01 -m RSA-PKCS-PSS \
  --hash-algorithm SHA256 --mgf MGF1-SHA256 -i "$TMP/sign-input" -o "$TMP/sign-output"
expect_tool_log "signing with RSA-PKCS-PSS is CKR_MECHANISM_INVALID" 'CKR_MECHANISM_INVALID'
shim_tool --token-label probe-rsa --login --pin "env:$P11_PIN_ENV" --sign --id 01 -m SHA256-RSA-PKCS \
  -i "$TMP/sign-input" -o "$TMP/sign-output"
expect_tool_log "signing with SHA256-RSA-PKCS still works" 'CKR_' absent
check "a SHA256-RSA-PKCS signature was written" test -s "$TMP/sign-output"
unset MTLS_SHIM_NO_PSS

# ---------------------------------------------------------------------------------------------------
# Servers: nginx (ssl_verify_client on: decides at the HTTP layer), Apache (SSLVerifyClient require: TLS
# alerts), serve (with a 403 path), and a recording listener that must never see a connection from a probe
# whose identity cannot be loaded.

read -r P_NGINX P_APACHE P_RECORD < <(free_port 3)
start_nginx main "
  server {
    listen 127.0.0.1:$P_NGINX ssl;
$NGINX_TLS
    ssl_verify_client on;
    location / { return 200 \"ok\n\"; }
  }
" "$P_NGINX"
start_apache main "
Listen 127.0.0.1:$P_APACHE
<VirtualHost 127.0.0.1:$P_APACHE>
  SSLEngine on
  SSLCertificateFile $PKI/server-chain.pem
  SSLCertificateKeyFile $PKI/server.key
  SSLCACertificateFile $PKI/client-ca-bundle.pem
  SSLVerifyDepth 3
  SSLProtocol -all +TLSv1.2 +TLSv1.3
  SSLVerifyClient require
</VirtualHost>
" "$P_APACHE"
start_serve main --cert "$PKI/server-chain.pem" --key "$PKI/server.key" --client-ca "$PKI/ca.pem" \
  --status-for-path /forbidden=403
start_python_listener record "$P_RECORD" record
NGINX_URL="https://localhost:$P_NGINX/"
APACHE_URL="https://localhost:$P_APACHE/"
RECORD_URL="https://127.0.0.1:$P_RECORD/"
RECORD_LOG="${LISTENER_DIR[record]}/connections"

RSA_URI='pkcs11:token=probe-rsa;object=client'
EC_URI='pkcs11:token=probe-ec;object=client'
PIN_FILE=(--pin-file "$P11_PIN_FILE")

# expect_json_lacks FIELD_PATH TEXT — the field (if present) does not contain TEXT (case-insensitive)
expect_json_lacks() {
  local got=${J[$1]-}
  if [[ ${got,,} != *"${2,,}"* ]]; then
    _pass "$1 does not contain '$2'"
  else
    _fail "$1 does not contain '$2' (got ${J[$1]})" "$(_evidence)"
  fi
}

# expect_pkcs11_identity URI TOKEN OBJECT KEY_TYPE [MODULE] — the identity.pkcs11 object of the last probe
# (the URI as given: these carry no pin-value)
expect_pkcs11_identity() {
  expect_json identity.source pkcs11
  expect_json identity.pkcs11.module "${5:-$P11_PROXY_MODULE}"
  expect_json identity.pkcs11.uri "$1"
  expect_json identity.pkcs11.token_label "$2"
  expect_json identity.pkcs11.object_label "$3"
  expect_json identity.pkcs11.key_type "$4"
  expect_json identity.pkcs11.backend engine
}

# expect_identity_problem PROBLEM PHASE — identity-error (exit 2) with identity.error.{problem,phase}
expect_identity_problem() {
  expect_verdict identity-error 2
  expect_json identity.error.problem "$1"
  expect_json identity.error.phase "$2"
}

# ---------------------------------------------------------------------------------------------------
# Keys on the token that work

scenario "RSA key (--cert URI --pin-file) against nginx ssl_verify_client on -> ok"
p11_probe "${CACERT[@]}" --cert "$RSA_URI" "${PIN_FILE[@]}" "$NGINX_URL"
expect_verdict ok 0
expect_pkcs11_identity "$RSA_URI" probe-rsa client RSA
expect_json tls.client_cert_sent true
expect_json_contains client_cert.subject "pkcs11 RSA client"
expect_json http.status 200

scenario "EC key (--cert URI --pin-env) against nginx -> ok"
p11_probe "${CACERT[@]}" --cert "$EC_URI" --pin-env "$P11_PIN_ENV" "$NGINX_URL"
expect_verdict ok 0
expect_pkcs11_identity "$EC_URI" probe-ec client EC
expect_json_contains client_cert.subject "pkcs11 EC client"

scenario "RSA key against Apache SSLVerifyClient require -> ok"
p11_probe "${CACERT[@]}" --cert "$RSA_URI" "${PIN_FILE[@]}" "$APACHE_URL"
expect_verdict ok 0
expect_json tls.client_cert_sent true
expect_json identity.pkcs11.key_type RSA

scenario "EC key named by --key alone against Apache -> ok"
p11_probe "${CACERT[@]}" --key "$EC_URI" "${PIN_FILE[@]}" "$APACHE_URL"
expect_verdict ok 0
expect_pkcs11_identity "$EC_URI" probe-ec client EC
expect_json tls.client_cert_sent true

scenario "RSA key with --key-type ENG against serve -> ok"
p11_probe "${CACERT[@]}" --cert "$RSA_URI" --key-type ENG "${PIN_FILE[@]}" "$SERVE_URL"
expect_verdict ok 0
expect_json identity.pkcs11.backend engine

scenario "EC key through the shim module (--pkcs11-module) against serve -> ok, the card saw a login"
shim_card "$TMP/shim-ok"
p11_probe "${CACERT[@]}" --cert "$EC_URI" --pkcs11-module "$SHIM" "${PIN_FILE[@]}" "$SERVE_URL"
expect_verdict ok 0
expect_pkcs11_identity "$EC_URI" probe-ec client EC "$SHIM"
check "the key was used through the shim (C_Login calls: $(shim_counter "$TMP/shim-ok" logins))" \
  test "$(shim_counter "$TMP/shim-ok" logins)" -ge 1
expect_counter "$TMP/shim-ok" failures 0 "no failure"

scenario "a card that counted a wrong PIN before (count low), the right PIN -> ok, pin_count_low reported"
printf 'failures 1\nlogins 1\n' >"$TMP/shim-low"
shim_card "$TMP/shim-low"
p11_probe "${CACERT[@]}" --cert "$EC_URI" --pkcs11-module "$SHIM" "${PIN_FILE[@]}" "$SERVE_URL"
expect_verdict ok 0
expect_json identity.pkcs11.pin_count_low true
expect_counter "$TMP/shim-low" failures 0 "the success reset the card's counter"

scenario "--key-type PROV is accepted (not a usage error)"
p11_probe "${CACERT[@]}" --cert "$EC_URI" --key-type PROV "${PIN_FILE[@]}" "$SERVE_URL"
expect_one_json
check "exit code is not 1 (usage-error)" test "$RC" != 1
expect_json_in verdict ok identity-error

scenario "serve answers 403 after accepting the token's certificate -> http-error"
p11_probe "${CACERT[@]}" --cert "$RSA_URI" "${PIN_FILE[@]}" "${SERVE_URL}forbidden"
expect_verdict http-error 10
expect_json tls.client_cert_sent true
expect_json http.status 403

scenario "the token's 'stranger' certificate (untrusted CA) -> client-cert-rejected"
p11_probe "${CACERT[@]}" --cert 'pkcs11:token=probe-rsa;object=stranger' "${PIN_FILE[@]}" "$SERVE_URL"
expect_verdict client-cert-rejected 9
expect_json tls.client_cert_sent true
expect_json identity.pkcs11.object_label stranger

# ---------------------------------------------------------------------------------------------------
# Identity errors: exit 2 before any connection (the recording listener must stay untouched)

scenario "wrong PIN (card through the shim) -> wrong-pin, and the card saw exactly one login"
shim_card "$TMP/shim-wrong"
p11_probe "${CACERT[@]}" --cert "$RSA_URI" --pkcs11-module "$SHIM" --pin-file "$P11_WRONG_PIN_FILE" "$RECORD_URL"
expect_identity_problem wrong-pin load
expect_counter "$TMP/shim-wrong" logins 1 "the wrong PIN was tried exactly once"
expect_counter "$TMP/shim-wrong" failures 1 "the card counted one failure"

scenario "locked PIN (card at its retry limit) -> pin-locked, and no C_Login at all"
printf 'failures 3\nlogins 0\n' >"$TMP/shim-locked"
shim_card "$TMP/shim-locked"
p11_probe "${CACERT[@]}" --cert "$RSA_URI" --pkcs11-module "$SHIM" "${PIN_FILE[@]}" "$RECORD_URL"
expect_identity_problem pin-locked load
expect_counter "$TMP/shim-locked" logins 0 "the locked card got no C_Login"

scenario "no PIN given for a token that needs one -> pin-needed"
p11_probe "${CACERT[@]}" --cert "$RSA_URI" "$RECORD_URL"
expect_identity_problem pin-needed load

scenario "a pin-value in the URI is never printed: not in identity.pkcs11.uri, not anywhere"
MTLS_TEST_PKCS11_DECOY="decoy-$(openssl rand -hex 6)"
export MTLS_TEST_PKCS11_DECOY
p11_probe "${CACERT[@]}" --cert "$EC_URI?pin-value=$MTLS_TEST_PKCS11_DECOY" "$RECORD_URL"
expect_one_json
# refused (usage-error: a pin-value on the command line is in the process list), or taken as a (wrong) PIN
expect_json_in verdict usage-error identity-error
expect_json_lacks identity.pkcs11.uri pin-value
assert_no_password MTLS_TEST_PKCS11_DECOY

scenario "an object the token does not have -> object-not-found"
p11_probe "${CACERT[@]}" --cert 'pkcs11:token=probe-rsa;object=no-such-object' "${PIN_FILE[@]}" "$RECORD_URL"
expect_identity_problem object-not-found load

scenario "a token that is not there -> token-absent"
p11_probe "${CACERT[@]}" --cert 'pkcs11:token=no-such-token;object=client' "${PIN_FILE[@]}" "$RECORD_URL"
expect_identity_problem token-absent load

scenario "a --pkcs11-module path that does not exist -> pkcs11-module-not-found"
p11_probe "${CACERT[@]}" --cert "$RSA_URI" --pkcs11-module "$TMP/no-such-module.so" "${PIN_FILE[@]}" "$RECORD_URL"
expect_identity_problem pkcs11-module-not-found load

scenario "a key with CKA_SIGN false (decrypt only) -> key-cannot-sign"
p11_probe "${CACERT[@]}" --cert 'pkcs11:token=probe-rsa;object=nosign' "${PIN_FILE[@]}" "$RECORD_URL"
expect_identity_problem key-cannot-sign load

scenario "none of the identity errors above opened a connection"
if [[ ! -s $RECORD_LOG ]]; then
  _pass "the recording listener saw no connection"
else
  _fail "the recording listener saw no connection ($(wc -l <"$RECORD_LOG") connections)"
fi

# ---------------------------------------------------------------------------------------------------
# An old card without RSA-PSS: TLS 1.3 needs PSS for an RSA key (CertificateVerify); TLS 1.2 can use
# PKCS#1 v1.5, if the client offers only what the card can sign.

scenario "card without RSA-PSS, RSA key, TLS 1.3 -> mechanism-unsupported in CertificateVerify"
shim_card "$TMP/shim-nopss" no-pss
p11_probe "${CACERT[@]}" --cert "$RSA_URI" --pkcs11-module "$SHIM" "${PIN_FILE[@]}" --tls-min 1.3 "$SERVE_URL"
expect_identity_problem mechanism-unsupported CertificateVerify

scenario "the same card with --tls-max 1.2 -> ok (PKCS#1 v1.5)"
p11_probe "${CACERT[@]}" --cert "$RSA_URI" --pkcs11-module "$SHIM" "${PIN_FILE[@]}" --tls-max 1.2 "$SERVE_URL"
expect_verdict ok 0
expect_json tls.version TLSv1.2
expect_json tls.client_cert_sent true

scenario "card without RSA-PSS, EC key, TLS 1.3 -> ok (ECDSA needs no PSS)"
p11_probe "${CACERT[@]}" --cert "$EC_URI" --pkcs11-module "$SHIM" "${PIN_FILE[@]}" --tls-min 1.3 "$SERVE_URL"
expect_verdict ok 0
expect_json tls.version TLSv1.3
unset MTLS_SHIM_NO_PSS

# ---------------------------------------------------------------------------------------------------
# inspect on a token

# expect_object CLASS LABEL ID KEY_TYPE — objects[] of the last inspect has an element with these fields
# (KEY_TYPE null for a certificate)
expect_object() {
  local i want="{class: $1, label: $2, id: $3, key_type: $4}"
  for ((i = 0; ; i++)); do
    [[ -n ${J[objects.$i.class]+x} ]] || break
    if [[ ${J[objects.$i.class]} == "\"$1\"" && ${J[objects.$i.label]-} == "\"$2\"" &&
      ${J[objects.$i.id]-} == "\"$3\"" && ${J[objects.$i.key_type]-} == "$(_canon "$4")" ]]; then
      _pass "objects has $want"
      return
    fi
  done
  _fail "objects has $want (got ${J[objects]-<missing>})" "$(_evidence)"
}

scenario "inspect 'pkcs11:token=probe-ec' --pin-file -> its certificate and keys, key matches certificate"
p11_inspect 'pkcs11:token=probe-ec' "${PIN_FILE[@]}"
expect_exit 0
expect_one_json
expect_json format pkcs11
expect_object certificate client 01 null
expect_object public-key client 01 EC
expect_object private-key client 01 EC
expect_json key_matches_certificate true

scenario "inspect 'pkcs11:token=probe-ec' without a PIN -> public objects only, key_matches_certificate null"
p11_inspect 'pkcs11:token=probe-ec'
expect_json format pkcs11
expect_object certificate client 01 null
expect_json_none_contains objects private-key
expect_json key_matches_certificate null

scenario "inspect the 'mismatch' object (a key with another key's certificate) -> key_matches_certificate false"
p11_inspect 'pkcs11:token=probe-rsa;object=mismatch' --pkcs11-module "$P11_PROXY_MODULE" "${PIN_FILE[@]}"
expect_exit 2
expect_json format pkcs11
expect_json key_matches_certificate false

# ---------------------------------------------------------------------------------------------------

scenario "no PIN (right, wrong or SO) in any stdout, stderr or JSON of this suite"
if [[ ! -s $ALL_OUTPUT ]]; then
  _fail "the outputs were collected (none found)"
elif p11_no_pin_in "$ALL_OUTPUT"; then
  _pass "no PIN in $(wc -c <"$ALL_OUTPUT") bytes of output"
else
  _fail "no PIN in the collected output (a PIN was found; not printed here)"
fi

finish
