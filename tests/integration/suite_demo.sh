#!/usr/bin/env bash
# The README's main-job command (scripts/demo.sh) works and shows the verdicts users meet, in order.
#   bash suite_demo.sh /path/to/mtls-probe
set -uo pipefail
PROBE=$(realpath "$1")
SRC=${MTLS_PROBE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
passed=0 failed=0
check() {  # check DESCRIPTION COMMAND...
  if "${@:2}"; then
    echo "  ok   $1"
    passed=$((passed + 1))
  else
    echo "  FAIL $1"
    failed=$((failed + 1))
  fi
}
rc=0
BUILD_DIR=$(dirname "$PROBE") timeout 120 bash "$SRC/scripts/demo.sh" >"$out" 2>&1 || rc=$?
check "demo.sh exits 0" test "$rc" = 0
want=("✓ ok (exit 0)" "✗ client-cert-required (exit 8)" "✗ client-cert-required (exit 8)"
  "✗ client-cert-rejected (exit 9)" "✗ http-error (exit 10)" "✓ ok (exit 0)" "✗ server-cert-untrusted (exit 7)")
mapfile -t got < <(grep -E '^(✓|✗) ' "$out" | sed 's/  https.*//')
check "seven verdicts in the demo's order (got: ${got[*]})" test "${got[*]}" = "${want[*]}"
check "JSON lines: ok, client-cert-required, client-cert-rejected, http-error" \
  bash -c "grep -A4 '=== the same as JSON' '$out' | grep -cE '^  (ok|client-cert-required|client-cert-rejected|http-error) +exit (0|8|9|10) ' | grep -qx 4"
check "no exit code disagrees with its JSON" bash -c "! grep -q 'differs from the JSON' '$out'"
check "the admin's log line for a missing certificate" grep -q "peer did not return a certificate" "$out"
# The demo's own servers: their command lines name the demo's PKI dir (other suites may run serve meanwhile).
demo_pki=$(grep -o -m 1 -- '--cacert [^ ]*/ca.pem' "$out" | sed 's/^--cacert //; s/\/ca.pem$//')
check "the demo's PKI dir is in its output" test -n "$demo_pki"
check "no serve process of the demo left behind" bash -c "! pgrep -f -- \"[s]erve --pki-dir $demo_pki \" >/dev/null"  # [s]: not this bash -c itself
[ "$failed" = 0 ] || sed 's/^/    | /' "$out" | tail -40
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
