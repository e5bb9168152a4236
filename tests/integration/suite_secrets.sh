#!/usr/bin/env bash
# Secrets on the probe's own command line: every spelling of a password option (--cert FILE:PW with '='
# or apart, -EFILE:PW, -E FILE:PW, --pass PW, --pass=PW) is blanked in argv, so /proc/PID/cmdline of the
# running probe no longer shows it. Each probe hangs in the TLS phase against a silent listener while its
# command line is read, then it is stopped.
#
#   bash suite_secrets.sh /path/to/mtls-probe
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_tmp
gen_pki

read -r P_SILENT < <(free_port 1)
start_python_listener silent "$P_SILENT" silent
SILENT_URL="https://127.0.0.1:$P_SILENT/"
CONN_FILE="${LISTENER_DIR[silent]}/connections"

# _find_probe_pid — the mtls-probe process that probe() runs (its executable is $PROBE, its working
# directory probe()'s own), or nothing
_find_probe_pid() {
  local d
  for d in /proc/[0-9]*; do
    [[ $(readlink "$d/exe" 2>/dev/null) == "$PROBE" ]] || continue
    [[ $(readlink "$d/cwd" 2>/dev/null) == "$TMP/probe-cwd" ]] || continue
    echo "${d#/proc/}"
    return 0
  done
  return 1
}

# expect_cmdline_blanked WHAT ARGS... — runs probe ARGS against the silent listener in the background;
# once the listener has its connection (argv was blanked long before: identity loading comes first),
# copies /proc/PID/cmdline of the probe to a file and checks there that the password ($PW_ENV, compared
# by helper.py: never on a command line of ours) is gone and the file name is still there. Then stops
# the probe and waits for probe() to finish.
expect_cmdline_blanked() {
  local what=$1 before pid="" i bg
  shift
  before=$(wc -l <"$CONN_FILE")
  probe "$@" "$SILENT_URL" >"$TMP/bg-probe.log" 2>&1 &
  bg=$!
  for ((i = 0; i < 200; i++)); do
    if (($(wc -l <"$CONN_FILE") > before)); then
      pid=$(_find_probe_pid) && break
    fi
    sleep 0.05
  done
  if [[ -z $pid ]]; then
    _fail "$what: the probe connected to the silent listener" "$(cat "$TMP/bg-probe.log")"
    kill -TERM "$bg" 2>/dev/null
    wait "$bg" 2>/dev/null
    return
  fi
  tr '\0' ' ' <"/proc/$pid/cmdline" >"$TMP/cmdline"
  if "$PY" -I "$HELPER" no-secret "$PW_ENV" "$TMP/cmdline" >/dev/null 2>&1; then
    _pass "$what: /proc/PID/cmdline does not show the password"
  else
    _fail "$what: /proc/PID/cmdline does not show the password"
  fi
  local shown
  shown=$(<"$TMP/cmdline")
  if [[ $shown == *client-good.p12* && $shown == *'****'* ]]; then
    _pass "$what: the file name is still there, the password is overwritten with '*'"
  else
    # redacted inside bash: the password is never on a command line of ours
    _fail "$what: the file name is still there, the password is overwritten with '*'" \
      "${shown//"$MTLS_TEST_P12_PASSWORD"/<REDACTED>}"
  fi
  kill -TERM "$pid" 2>/dev/null
  wait "$bg" 2>/dev/null
  # what the stopped probe printed (probe() ran in the background subshell): no password either
  OUT="$TMP/probe.out"
  ERR="$TMP/probe.err"
  assert_no_password
}

P12="$PKI/client-good.p12"

scenario "--cert=FILE:PW (P12) -> blanked in /proc/PID/cmdline"
expect_cmdline_blanked "--cert=FILE:PW" "${CACERT[@]}" "--cert=$P12:$MTLS_TEST_P12_PASSWORD" --cert-type P12

scenario "--cert FILE:PW (P12) -> blanked"
expect_cmdline_blanked "--cert FILE:PW" "${CACERT[@]}" --cert "$P12:$MTLS_TEST_P12_PASSWORD" --cert-type P12

scenario "-EFILE:PW (P12) -> blanked"
expect_cmdline_blanked "-EFILE:PW" "${CACERT[@]}" "-E$P12:$MTLS_TEST_P12_PASSWORD" --cert-type P12

scenario "-E FILE:PW (P12) -> blanked"
expect_cmdline_blanked "-E FILE:PW" "${CACERT[@]}" -E "$P12:$MTLS_TEST_P12_PASSWORD" --cert-type P12

scenario "-kEFILE:PW (after a flag) -> blanked"
expect_cmdline_blanked "-kEFILE:PW" "${CACERT[@]}" "-kE$P12:$MTLS_TEST_P12_PASSWORD" --cert-type P12

scenario "--p12 FILE --pass PW -> blanked"
expect_cmdline_blanked "--pass PW" "${CACERT[@]}" --p12 "$P12" --pass "$MTLS_TEST_P12_PASSWORD"

scenario "--p12 FILE --pass=PW -> blanked"
expect_cmdline_blanked "--pass=PW" "${CACERT[@]}" --p12 "$P12" "--pass=$MTLS_TEST_P12_PASSWORD"

scenario "the warning about the process list is still given (--cert FILE:PW)"
probe "${CACERT[@]}" --connect-timeout 1 --cert "$P12:$MTLS_TEST_P12_PASSWORD" --cert-type P12 "$SILENT_URL"
expect_verdict timeout 5
check "stderr warns that the password is visible in the process list" grep -q "process list" "$ERR"
assert_no_password

# --- -v shows the HTTP exchange as curl -v does, never a credential value ----------------------------
start_serve trace --cert "$PKI/server-chain.pem" --key "$PKI/server.key" --client-ca "$PKI/ca.pem"
SERVE_HOSTPORT=${SERVE_URL#https://}
SERVE_HOSTPORT=${SERVE_HOSTPORT%/}

export MTLS_TEST_HEADER_SECRET="hdr-secret-Vq83"
scenario "-v: request and response headers on stderr, Authorization and Cookie values redacted"
probe "${CACERT[@]}" "${ID_GOOD[@]}" -H "Authorization: Bearer ${MTLS_TEST_HEADER_SECRET}" \
  -H "Cookie: sid=${MTLS_TEST_HEADER_SECRET}" -H "X-Probe-Test: visible" "${SERVE_URL}trace"
expect_verdict ok 0
check "stderr has '> GET /trace HTTP/1.1'" grep -qF "* > GET /trace HTTP/1.1" "$ERR"
check "stderr has '> Host: $SERVE_HOSTPORT'" grep -qF "* > Host: $SERVE_HOSTPORT" "$ERR"
check "stderr has '> X-Probe-Test: visible'" grep -qF "* > X-Probe-Test: visible" "$ERR"
check "stderr has '> Authorization: <redacted>'" grep -qF "* > Authorization: <redacted>" "$ERR"
check "stderr has '> Cookie: <redacted>'" grep -qF "* > Cookie: <redacted>" "$ERR"
check "stderr has '< HTTP/1.1 200 OK'" grep -qF "* < HTTP/1.1 200 OK" "$ERR"
check "stderr has a response header line" grep -qE '^\* < Content-Type: ' "$ERR"
assert_no_password MTLS_TEST_HEADER_SECRET
stop_pid "$SERVE_PID"

finish
