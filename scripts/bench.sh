#!/usr/bin/env bash
# Speed, measured side by side in one run (machines are noisy: read ratios, not absolute numbers).
#   1. Google Benchmark micro-benchmarks of the CPU-bound parts (parser, diagnosis, printers).
#   2. hyperfine: mtls-probe vs curl, same identity, same server (`mtls-probe serve` on 127.0.0.1),
#      interleaved runs, one hyperfine run per case; prints each ratio against issue 10's target: a whole
#      mTLS probe, the system trust store (no --cacert), a DNS failure, a .p12 identity with --cacert.
# Usage: scripts/bench.sh [RUNS]   (default 50)
#   BASELINE=/path/to/an/older/mtls-probe scripts/bench.sh   adds that build to every hyperfine run ("before"),
#   so before, after and curl are measured side by side in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=serve-url.sh
source scripts/serve-url.sh
RUNS=${1:-50}
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
BUILD_DIR=build-bench bash scripts/build.sh -DMTLS_PROBE_BENCH=ON -DMTLS_PROBE_TESTS=OFF >/dev/null
PROBE=build-bench/mtls-probe

echo "== micro-benchmarks"
build-bench/tests/bench/mtls_probe_bench --benchmark_min_time=0.2

WORK=$(mktemp -d)
SERVE_PID=""
cleanup() {
  [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
"$PROBE" serve --pki-dir "$WORK/pki" --port 0 >"$WORK/serve.out" 2>/dev/null &
SERVE_PID=$!
URL=$(serve_url "$WORK/serve.out") || { echo "serve did not start"; exit 1; }
P="$WORK/pki"
# curl reads the .p12 password from a config file: never on a command line (nor in hyperfine's output).
printf 'pass = "%s"\n' "$(head -n 1 "$P/client.pass")" >"$WORK/curl-p12.cfg"
chmod 600 "$WORK/curl-p12.cfg"

# compare NAME TARGET PROBE_ARGS -- CURL_ARGS — one hyperfine run, mtls-probe vs curl interleaved; prints
# the ratio of mean wall times against issue 10's target. Failing commands (untrusted server, DNS) count.
RUNNER=""  # a prefix for hyperfine itself, so that both tools run inside it unwrapped (see the DNS case)
BASELINE=${BASELINE:-}
compare() {
  local name=$1 target=$2 probe_args=() curl_args=()
  shift 2
  while [ "$1" != -- ]; do probe_args+=("$1"); shift; done
  shift
  curl_args=("$@")
  echo "== $name, mtls-probe vs curl, $RUNS runs each (target: ratio <= $target)"
  local before=()
  [ -n "$BASELINE" ] && before=(-n before "$BASELINE --json ${probe_args[*]}")
  $RUNNER hyperfine --warmup 5 --runs "$RUNS" -N -i --style basic --export-json "$WORK/h.json" \
    -n mtls-probe "$PROBE --json ${probe_args[*]}" "${before[@]}" -n curl "curl -sS -o /dev/null ${curl_args[*]}"
  python3 - "$WORK/h.json" "$name" "$target" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
p, c = r["mtls-probe"], r["curl"]
ratio, target = p["mean"] / c["mean"], float(sys.argv[3])
print(f"{sys.argv[2]}: mean mtls-probe {p['mean']*1000:.2f} ms, curl {c['mean']*1000:.2f} ms; "
      f"ratio mtls-probe/curl = {ratio:.2f} (target <= {target:.2f}: {'met' if ratio <= target else 'MISSED'})")
if "before" in r:
    b = r["before"]
    print(f"  before: mean {b['mean']*1000:.2f} ms, ratio before/curl = {b['mean'] / c['mean']:.2f}; "
          f"after/before = {p['mean'] / b['mean']:.2f}")
PY
}

compare "one full mTLS probe (TLS 1.3, client certificate, GET)" 1.00 \
  --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" "$URL" -- \
  --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" "$URL"
compare "system trust store (no --cacert: server-cert-untrusted / curl exit 60)" 0.30 \
  --cert "$P/client.pem" --key "$P/client.key" "$URL" -- \
  --cert "$P/client.pem" --key "$P/client.key" "$URL"
# The DNS failure runs in a network namespace of its own with no interface up (unshare -n): the resolver's
# server is unreachable, so the lookup fails at once for both tools and no query leaves this machine.
# hyperfine itself runs in the namespace, so neither tool is timed with a wrapper's start-up.
if unshare -n true 2>/dev/null; then
  RUNNER="unshare -n" compare "DNS failure (no reachable DNS server, in an empty network namespace)" 0.30 \
    https://nonexistent.invalid/ -- https://nonexistent.invalid/
else
  echo "== DNS failure: skipped (unshare -n is not permitted here; a real lookup would leave loopback)"
fi
compare ".p12 identity with --cacert" 0.80 \
  --cacert "$P/ca.pem" --p12 "$P/client.p12" --p12-password-file "$P/client.pass" "$URL" -- \
  --cacert "$P/ca.pem" --cert "$P/client.p12" --cert-type P12 -K "$WORK/curl-p12.cfg" "$URL"
