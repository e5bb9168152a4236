#!/usr/bin/env bash
# valgrind memcheck over full probes against `mtls-probe serve`: 0 errors, 0 definitely lost.
# Skipped (exit 77) for a sanitizer build, which valgrind cannot run.
set -uo pipefail
PROBE=$(realpath "$1")
# shellcheck source=../../scripts/serve-url.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/serve-url.sh"
# (not `ldd | grep -q`: under pipefail, grep's early exit makes ldd die of SIGPIPE and the test false)
deps=$(ldd "$PROBE" 2>/dev/null || true)
# (clang links the sanitizer runtime statically, so ldd shows nothing: the build says so in the environment)
if [[ ${MTLS_PROBE_SANITIZED:-0} == 1 || $deps == *libasan* ]] || grep -qa __asan_init "$PROBE"; then
  echo "sanitizer build: valgrind does not run ASan binaries; skipped"
  exit 77
fi
command -v valgrind >/dev/null || { echo "valgrind is not installed"; echo "0 passed, 1 failed"; exit 1; }
WORK=$(mktemp -d)
SERVE_PID=""
cleanup() {
  [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
"$PROBE" serve --pki-dir "$WORK/pki" --port 0 --status-for-path /admin=403 >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVE_PID=$!
URL=$(serve_url "$WORK/serve.out") || { cat "$WORK/serve.log"; echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0
# run NAME EXPECTED_EXIT ARGS...: the probe under memcheck must give EXPECTED_EXIT and a clean report.
run() {
  local name=$1 want=$2
  shift 2
  local rc=0
  valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite --log-file="$WORK/$name.vg" "$PROBE" --json "$@" >"$WORK/$name.json" 2>/dev/null || rc=$?
  if [ "$rc" = "$want" ] && ! grep -q "definitely lost: [1-9]" "$WORK/$name.vg"; then
    echo "  ok   $name (exit $rc, memcheck clean)"
    passed=$((passed + 1))
  else
    echo "  FAIL $name: exit $rc (want $want)"
    sed 's/^/       /' "$WORK/$name.vg" | head -40
    failed=$((failed + 1))
  fi
}
CA=(--cacert "$WORK/pki/ca.pem")
ID=(--p12 "$WORK/pki/client.p12" --p12-password-file "$WORK/pki/client.pass")
run accepted 0 "${CA[@]}" "${ID[@]}" "$URL"
run required 8 "${CA[@]}" "$URL"
run rejected 9 "${CA[@]}" --p12 "$WORK/pki/other-client.p12" --p12-password-file "$WORK/pki/client.pass" "$URL"
run forbidden 10 "${CA[@]}" "${ID[@]}" "${URL}admin"
run untrusted 7 "${ID[@]}" "$URL"
run identity 2 --p12 "$WORK/pki/client.p12" --p12-password-file /dev/null "$URL"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
