#!/usr/bin/env bash
# suite_exit_codes.sh PATH/TO/mtls-probe — the front end's rules of docs/exit-codes.md, one subcommand at a
# time: exit codes, where a usage error goes (the probe: its report on stdout; inspect: its own JSON with
# --json, else stderr; serve: stderr, nothing on stdout), serve's own codes (2 identity, 4 cannot listen),
# probe options before a subcommand, the --help footers, and NO_COLOR on a terminal (probe, inspect, serve).
# Only loopback: the probes go to a closed port on 127.0.0.1.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

if [[ -z $PROBE || ! -x $PROBE ]]; then
  echo "FATAL: mtls-probe binary not found: '${PROBE}'" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
make_tmp
gen_pki
P12PW=(--p12-password-env "$PW_ENV")

# run ARGS... — "$PROBE" ARGS with stdin closed; sets OUT, ERR, RC (no JSON loaded).
run() {
  OUT="$TMP/run.out"
  ERR="$TMP/run.err"
  (cd "$TMP" && exec timeout -k 2 60 "$PROBE" "$@" >"$OUT" 2>"$ERR" </dev/null)
  RC=$?
  echo "  (exit $RC: mtls-probe $*)"
}

expect_rc() {
  if [[ $RC == "$1" ]]; then _pass "exit code $1"; else _fail "exit code $1 (got $RC)" "$(_evidence)"; fi
}
stdout_empty() { check "nothing on stdout" test ! -s "$OUT"; }
stderr_empty() { check "nothing on stderr" test ! -s "$ERR"; }
stderr_has() { check "stderr: $1" grep -qF -- "$1" "$ERR"; }
# The schema of the JSON on stdout: inspect's has "findings" and no "tls"; the probe's the other way round.
json_is_inspects() {
  _load_json
  expect_one_json
  check "inspect's JSON schema (findings, no tls)" bash -c "grep -q '\"findings\"' '$OUT' && ! grep -q '\"tls\"' '$OUT'"
}
json_is_probes() {
  _load_json
  expect_one_json
  check "the probe's JSON schema (tls, no findings)" bash -c "grep -q '\"tls\"' '$OUT' && ! grep -q '\"findings\"' '$OUT'"
}

# pty_run [ENV=VALUE...] -- ARGS... — runs "$PROBE" ARGS with stdout and stderr on a pseudo-terminal (what a
# person at a terminal sees) and writes what it printed to $OUT. serve is stopped with SIGTERM once it has
# logged that it is serving.
pty_run() {
  OUT="$TMP/pty.out"
  "$PY" -I - "$PROBE" "$OUT" "$@" <<'PYEOF'
import os, pty, select, signal, sys, time
probe, out, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
env = dict(os.environ)
env.pop("NO_COLOR", None)
while rest and rest[0] != "--":
    k, v = rest.pop(0).split("=", 1)
    env[k] = v
args = rest[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execve(probe, [probe] + args, env)
data, deadline, stopped = b"", time.time() + 30, False
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    if not stopped and b" serving https://" in data:
        os.kill(pid, signal.SIGTERM)
        stopped = True
os.waitpid(pid, 0)
open(out, "wb").write(data)
PYEOF
}
has_esc() { grep -q $'\x1b\[' "$OUT"; }
no_esc() { ! grep -q $'\x1b\[' "$OUT"; }

CLOSED=$(free_port)  # nothing listens there: the probe's connect-failure, on loopback
URL="https://127.0.0.1:$CLOSED/"

# ---------------------------------------------------------------------------------------------------------
scenario "probe: a usage error is its report on stdout, exit 1 (text)"
run --bogus-option "$URL"
expect_rc 1
check "the report's verdict line" grep -q "usage-error (exit 1)" "$OUT"
stderr_empty

scenario "probe: a usage error is its report on stdout, exit 1 (--json)"
run --json --bogus-option "$URL"
expect_rc 1
json_is_probes
expect_json verdict usage-error
expect_json exit_code 1
stderr_empty

scenario "probe: two password sources are a usage error, an unreadable one an identity error"
run --json --p12 "$PKI/client-good.p12" --pass x "${P12PW[@]}" "$URL"
expect_rc 1
_load_json
expect_json verdict usage-error
run --json --p12 "$PKI/client-good.p12" --p12-password-env MTLS_EXIT_CODES_NOT_SET "$URL"
expect_rc 2
_load_json
expect_json verdict identity-error

scenario "probe: the exit code is the verdict's (connect-failure on a closed loopback port)"
run --json --cacert "$PKI/ca.pem" "$URL"
expect_rc 4
_load_json
expect_json verdict connect-failure

scenario "probe: --help lists the exit codes and points to the subcommands' rules"
run --help
expect_rc 0
check "footer: exit codes" grep -q "Exit codes: 0 ok, 1 usage-error" "$OUT"
check "footer: docs/exit-codes.md" grep -q "docs/exit-codes.md" "$OUT"

# ---------------------------------------------------------------------------------------------------------
scenario "inspect --json --bogus: inspect's JSON (not the probe's), exit 1"
run inspect --json --bogus-option "$PKI/client-good.p12"
expect_rc 1
json_is_inspects
expect_json verdict usage-error
expect_json exit_code 1
expect_json_contains error "--bogus-option"
stderr_empty

scenario "mtls-probe --json inspect --bogus: the same"
run --json inspect --bogus-option "$PKI/client-good.p12"
expect_rc 1
json_is_inspects
expect_json verdict usage-error

scenario "inspect --bogus without --json: the message on stderr, nothing on stdout, exit 1"
run inspect --bogus-option "$PKI/client-good.p12"
expect_rc 1
stdout_empty
stderr_has "mtls-probe inspect: "
stderr_has "--bogus-option"

scenario "inspect: a probe option before the subcommand is a usage error of inspect"
run -k inspect "$PKI/client-good.p12" "${P12PW[@]}"
expect_rc 1
stdout_empty
stderr_has "mtls-probe inspect: --insecure is an option of the probe"
run --json -k inspect "$PKI/client-good.p12" "${P12PW[@]}"
expect_rc 1
json_is_inspects
expect_json verdict usage-error

scenario "inspect: 0 usable, 2 not usable, in text and JSON"
run inspect "$PKI/client-good.p12" "${P12PW[@]}"
expect_rc 0
run inspect --json "$PKI/client-expired.p12" "${P12PW[@]}"
expect_rc 2
json_is_inspects
expect_json verdict identity-error
run inspect --json "$PKI/client-good.p12" --p12-password-env MTLS_EXIT_CODES_NOT_SET
expect_rc 2
_load_json
expect_json findings.0.code password-source

scenario "inspect --help states its rule"
run inspect --help
expect_rc 0
check "footer: exit codes" grep -q "Exit codes: 0 usable for client authentication, 1 usage-error, 2 identity-error" "$OUT"
check "footer: --json for every outcome" grep -q "With --json every outcome" "$OUT"

# ---------------------------------------------------------------------------------------------------------
scenario "serve --json: an unknown option of serve, told on stderr, nothing on stdout, exit 1"
run serve --json
expect_rc 1
stdout_empty
stderr_has "mtls-probe serve: "
stderr_has "--json"

scenario "mtls-probe --json serve: no probe JSON either, a usage error of serve"
run --json serve
expect_rc 1
stdout_empty
stderr_has "mtls-probe serve: --json is an option of the probe"

scenario "serve: bad options and a --bind that is not an address are usage errors (exit 1)"
run serve --status 99 --pki-dir "$TMP/serve-pki"
expect_rc 1
stdout_empty
run serve --bind localhost --pki-dir "$TMP/serve-pki"
expect_rc 1
stderr_has "not a numeric"
run serve --p12-password-env "$PW_ENV" --p12-password-file /dev/null --p12 "$PKI/client-good.p12"
expect_rc 1
stderr_has "give the password once"

scenario "serve: its own identity unusable is exit 2"
run serve --cert "$TMP/nonexistent.pem" --key "$TMP/nonexistent.key" --client-ca "$PKI/ca.pem"
expect_rc 2
stderr_has "nonexistent.pem"
run serve --p12 "$PKI/client-good.p12" --p12-password-env MTLS_EXIT_CODES_NOT_SET --client-ca "$PKI/ca.pem"
expect_rc 2

scenario "serve on an occupied port: exit 4 (cannot listen), not 2"
start_serve first --pki-dir "$TMP/serve-pki"
BUSY=${SERVE_URL##*:}
BUSY=${BUSY%/}
run serve --pki-dir "$TMP/serve-pki" --port "$BUSY"
expect_rc 4
stdout_empty
stderr_has "cannot bind 127.0.0.1:$BUSY"
stop_pid "$SERVE_PID"

scenario "batch --bogus without --json: the message on stderr, nothing on stdout, exit 1"
run batch --bogus-option "$TMP/targets.txt"
expect_rc 1
stdout_empty
stderr_has "mtls-probe batch: "
stderr_has "--bogus-option"

scenario "batch --json --bogus: one JSON object on stdout, exit 1"
run batch --json --bogus-option "$TMP/targets.txt"
expect_rc 1
check "stdout is one JSON object" python3 -c 'import json,sys; json.loads(open(sys.argv[1]).read())' "$OUT"
stderr_empty

scenario "batch: an unreadable targets file is a usage error of the run"
run batch "$TMP/no-such-targets.txt"
expect_rc 1
stderr_has "no-such-targets.txt"

scenario "batch: a probe option before the subcommand is a usage error; -v and --json are honoured there"
run -k batch "$TMP/no-such-targets.txt"
expect_rc 1
stderr_has "option of the probe, not of 'batch'"

scenario "batch --help states its codes"
run batch --help
expect_rc 0
check "footer: 13" grep -q "13 at least one did not" "$OUT"

scenario "serve --help states its codes"
run serve --help
expect_rc 0
check "footer: 4 cannot listen" grep -q "4 cannot listen" "$OUT"

# ---------------------------------------------------------------------------------------------------------
scenario "NO_COLOR: the probe's report is coloured on a terminal, plain with NO_COLOR"
pty_run -- --cacert "$PKI/ca.pem" "$URL"
check "colour on a terminal" has_esc
pty_run NO_COLOR=1 -- --cacert "$PKI/ca.pem" "$URL"
check "no colour with NO_COLOR=1" no_esc
check "the report is still there" grep -q "connect-failure" "$OUT"

scenario "NO_COLOR: inspect's report is coloured on a terminal, plain with NO_COLOR"
pty_run -- inspect "$PKI/client-good.p12" "${P12PW[@]}"
check "colour on a terminal" has_esc
pty_run NO_COLOR=1 -- inspect "$PKI/client-good.p12" "${P12PW[@]}"
check "no colour with NO_COLOR=1" no_esc
check "the report is still there" grep -q "usable for client authentication" "$OUT"

scenario "NO_COLOR: serve's log is coloured on a terminal, plain with NO_COLOR"
pty_run -- serve --pki-dir "$TMP/serve-pki"
check "colour on a terminal" has_esc
pty_run NO_COLOR=1 -- serve --pki-dir "$TMP/serve-pki"
check "no colour with NO_COLOR=1" no_esc
check "the log is still there" grep -q "\[info\] serving" "$OUT"

finish
