#!/usr/bin/env bash
# Speed, measured side by side in one run (machines are noisy: read ratios, not absolute numbers).
#   1. Google Benchmark micro-benchmarks of the CPU-bound parts (parser, diagnosis, printers).
#   2. hyperfine: a whole mTLS probe against `mtls-probe serve` on 127.0.0.1, mtls-probe vs curl, same
#      identity, same server, interleaved runs. Prints the ratio.
# Usage: scripts/bench.sh [RUNS]   (default 50)
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
echo "== one full mTLS probe (TLS 1.3, client certificate, GET), mtls-probe vs curl, $RUNS runs each"
hyperfine --warmup 5 --runs "$RUNS" -N --export-json "$WORK/h.json" \
  -n mtls-probe "$PROBE --json --cacert $P/ca.pem --cert $P/client.pem --key $P/client.key $URL" \
  -n curl "curl -sS -o /dev/null --cacert $P/ca.pem --cert $P/client.pem --key $P/client.key $URL"
python3 - "$WORK/h.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
p, c = r["mtls-probe"], r["curl"]
print(f"mean: mtls-probe {p['mean']*1000:.2f} ms, curl {c['mean']*1000:.2f} ms; "
      f"ratio mtls-probe/curl = {p['mean']/c['mean']:.2f}")
PY
