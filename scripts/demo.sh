#!/usr/bin/env bash
# The main job, end to end: builds mtls-probe if needed, stands up `mtls-probe serve` on 127.0.0.1 in the
# behaviours users meet, probes each, and shows the verdicts. Everything stays on loopback; every server
# started here is stopped by its pid.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=serve-url.sh
source scripts/serve-url.sh
BUILD_DIR=${BUILD_DIR:-build}
PROBE="$BUILD_DIR/mtls-probe"

# The first run builds mtls-probe, and only it (not the unit tests), showing cmake's progress on stderr.
build_probe() {
  if ! command -v cmake >/dev/null || ! dpkg -s libcli11-dev >/dev/null 2>&1; then
    echo "demo: installing the build dependencies (apt-get)..." >&2
    bash scripts/install-deps.sh >&2
  fi
  echo "demo: configuring $BUILD_DIR (cmake)..." >&2
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMTLS_PROBE_WERROR=ON >&2
  echo "demo: building mtls-probe (this takes a few minutes the first time)..." >&2
  cmake --build "$BUILD_DIR" --target mtls-probe -j"$(nproc)" >&2
  echo "demo: built $PROBE" >&2
}
if [ ! -x "$PROBE" ]; then build_probe; fi

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

PKI="$WORK/pki"
# start_serve NAME ARGS...: starts a server, waits for its "listening on" line, sets URL.
start_serve() {
  local name=$1
  shift
  "$PROBE" serve --pki-dir "$PKI" --port 0 "$@" >"$WORK/$name.out" 2>"$WORK/$name.log" &
  PIDS+=($!)
  URL=$(serve_url "$WORK/$name.out") && return 0
  echo "serve ($name) did not start:" >&2
  cat "$WORK/$name.log" >&2
  exit 1
}

show() {
  local title=$1
  shift
  printf '\n\033[1m=== %s\033[0m\n$ mtls-probe %s\n' "$title" "$*"
  local rc=0
  "$PROBE" "$@" || rc=$?
  echo "(exit $rc)"
}

start_serve require --client-auth require
REQUIRE_URL=$URL
start_serve forbidden --client-auth require --status-for-path /admin=403
FORBIDDEN_URL=$URL
start_serve nginx --nginx-style
NGINX_URL=$URL
start_serve pha --client-auth require --client-auth-path /secure
PHA_URL=$URL

TRUST=(--cacert "$PKI/ca.pem")
ID=(--p12 "$PKI/client.p12" --p12-password-file "$PKI/client.pass")
OTHER=(--p12 "$PKI/other-client.p12" --p12-password-file "$PKI/client.pass")

show "accepted: the right certificate" "${TRUST[@]}" "${ID[@]}" "$REQUIRE_URL"
show "no certificate: the server requires one (TLS 1.3 alert)" "${TRUST[@]}" "$REQUIRE_URL"
show "no certificate, nginx style: HTTP 400 instead of an alert" "${TRUST[@]}" "$NGINX_URL"
show "a certificate from another CA" "${TRUST[@]}" "${OTHER[@]}" "$REQUIRE_URL"
show "403 after a good certificate: authorization, not the certificate" "${TRUST[@]}" "${ID[@]}" "${FORBIDDEN_URL}admin"
show "per-path client auth (TLS 1.3 post-handshake authentication)" "${TRUST[@]}" "${ID[@]}" "${PHA_URL}secure/"
show "the server's certificate is not trusted (no --cacert)" "${ID[@]}" "$REQUIRE_URL"
printf '\n=== the same as JSON for CI: verdict, exit code, tls.alert\n'
json_line() {
  local rc=0 out
  out=$("$PROBE" --json "$@") || rc=$?
  printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
a = d["tls"]["alert"]
print("  %-22s exit %-3s alert %s" % (d["verdict"], d["exit_code"], a["name"] if a else None))'
  [ "$rc" -eq "$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["exit_code"])')" ] ||
    echo "  (exit code $rc differs from the JSON!)"
}
json_line "${TRUST[@]}" "${ID[@]}" "$REQUIRE_URL"
json_line "${TRUST[@]}" "$REQUIRE_URL"
json_line "${TRUST[@]}" "${OTHER[@]}" "$REQUIRE_URL"
json_line "${TRUST[@]}" "${ID[@]}" "${FORBIDDEN_URL}admin"
printf '\nserver log of the require server (what its admin sees):\n'
sed 's/^/  /' "$WORK/require.log"
