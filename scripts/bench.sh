#!/usr/bin/env bash
# Speed, measured side by side in one run (machines are noisy: read ratios, not absolute numbers).
#   1. Google Benchmark micro-benchmarks of the CPU-bound parts (parser, diagnosis, printers).
#   2. hyperfine: mtls-probe vs curl, same identity, same server (`mtls-probe serve` on 127.0.0.1),
#      interleaved runs, one hyperfine run per case; prints each ratio against issue 10's target: a whole
#      mTLS probe, the system trust store (no --cacert), a DNS failure, a .p12 identity with --cacert.
#   3. (optional, SECTIONS=... batch) issue 11: `mtls-probe batch -j 64` vs `xargs -P 64 curl` against one
#      loopback nginx (ssl_verify_client on, a .p12 identity): throughput, client CPU per probe, CPU per probe
#      against a crypto floor from `openssl speed`, peak RSS at -j 1/64/256. See docs/performance.md.
# Usage: scripts/bench.sh [RUNS]   (default 50)
#   BASELINE=/path/to/an/older/mtls-probe scripts/bench.sh   adds that build to every hyperfine run ("before"),
#   so before, after and curl are measured side by side in one run.
#   SECTIONS="micro probe batch"   which sections run (default "micro probe": the two above, unchanged);
#                                  SECTIONS=batch runs the batch section alone (no Google Benchmark build).
#   BATCH_N=1000 BATCH_J=64 BATCH_REPS=3   the batch section's probes per run, -j / -P, interleaved repetitions.
#   PROBE=/path/to/mtls-probe      use that build instead of building one.
#   SECTIONS=profile [PROFILE_TOOL=callgrind|perf] [PROFILE_N=50|1000] [PROFILE_KEEP=FILE]   one batch -j 8
#                                  run under callgrind or perf: the top inclusive functions.
#   SECTIONS=h2 [H2_ROUNDS=5] [H2_CALLGRIND_RUNS=3]   issue 12: one probe --http2 vs one probe --http1.1
#                                  against one loopback nginx (listen ... ssl http2, ssl_verify_client on):
#                                  hyperfine wall medians over alternating rounds, and callgrind instruction
#                                  counts of the probe process; ratio h2/h1 against the target <= 1.10.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=serve-url.sh
source scripts/serve-url.sh
# shellcheck source=../tests/integration/nginx_conf.sh
source tests/integration/nginx_conf.sh
RUNS=${1:-50}
SECTIONS=${SECTIONS:-micro probe}
has_section() { case " $SECTIONS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
if has_section micro; then
  BUILD_DIR=build-bench bash scripts/build.sh -DMTLS_PROBE_BENCH=ON -DMTLS_PROBE_TESTS=OFF >/dev/null
  PROBE=${PROBE:-build-bench/mtls-probe}
elif [ -z "${PROBE:-}" ]; then
  BUILD_DIR=build-bench-tool bash scripts/build.sh -DMTLS_PROBE_TESTS=OFF >/dev/null
  PROBE=build-bench-tool/mtls-probe
fi

if has_section micro; then
  echo "== micro-benchmarks"
  build-bench/tests/bench/mtls_probe_bench --benchmark_min_time=0.2
fi

WORK=$(mktemp -d)
SERVE_PID=""
NGINX_PID=""
NGINX_H2_PID=""
cleanup() {
  [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  [ -n "$NGINX_H2_PID" ] && kill "$NGINX_H2_PID" 2>/dev/null && wait "$NGINX_H2_PID" 2>/dev/null
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

# The probe comparisons (issue 10): one hyperfine run per case.
probe_section() {
  command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
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
}

# ---- The batch section (issue 11): many probes in one run, against one loopback nginx -------------------
BATCH_N=${BATCH_N:-1000}
BATCH_J=${BATCH_J:-64}
BATCH_REPS=${BATCH_REPS:-3}

# start_bench_nginx [DIR [LISTEN_FLAGS]] — nginx on 127.0.0.1, a free high port, ssl_verify_client on, serve's
# PKI; logs and pid file in $WORK/DIR (default nginx); LISTEN_FLAGS go on the listen line (e.g. http2); sets
# NGINX_PID and NGINX_URL. Stopped by its pid in cleanup().
start_bench_nginx() {
  local d="$WORK/${1:-nginx}" flags=${2:-} port i
  mkdir -p "$d/logs" "$d/tmp"
  chmod 755 "$d" "$d/logs" "$d/tmp"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  nginx_conf "$d" 2 4096 warn "  keepalive_timeout 0;
  server {
    listen 127.0.0.1:$port ssl $flags backlog=1024;
    server_name localhost;
    ssl_certificate $P/server.pem;
    ssl_certificate_key $P/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_client_certificate $P/ca.pem;
    ssl_verify_client on;
    location / { return 200 \"ok\\n\"; }
  }" >"$d/nginx.conf"
  /usr/sbin/nginx -p "$d" -e "$d/logs/error.log" -c "$d/nginx.conf" -g 'daemon off;' >"$d/logs/stdout.log" 2>&1 &
  NGINX_PID=$!
  NGINX_URL="https://127.0.0.1:$port/"
  for ((i = 0; i < 100; i++)); do
    kill -0 "$NGINX_PID" 2>/dev/null || { cat "$d/logs/error.log" "$d/logs/stdout.log"; return 1; }
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nginx is not listening on $port"
  return 1
}

# timed LABEL J CMD... — runs CMD under /usr/bin/time (wall; user and sys of the whole process tree, every
# reaped child included; peak RSS of its largest process) and appends
# "LABEL J wall user sys maxrss_kb exit_code" to $WORK/batch-runs.
timed() {
  local label=$1 j=$2 rc=0
  shift 2
  /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.out" "$@" || rc=$?
  echo "$label $j $(tail -n 1 "$WORK/time.out") $rc" >>"$WORK/batch-runs"
}

batch_section() {
  local n=$BATCH_N j=$BATCH_J r
  start_bench_nginx || { echo "== batch: nginx did not start"; return 1; }
  for ((r = 0; r < n; r++)); do echo "$NGINX_URL"; done >"$WORK/targets.txt"
  : >"$WORK/batch-runs"
  local probe_args=(--cacert "$P/ca.pem" --p12 "$P/client.p12" --p12-password-file "$P/client.pass")
  # -f: an HTTP status >= 400 (nginx's 400 for a missing or refused certificate) is a curl failure too
  local curl_args=(-sS -f -o /dev/null --cacert "$P/ca.pem" --cert "$P/client.p12" --cert-type P12
    -K "$WORK/curl-p12.cfg")
  echo "== batch (issue 11): $n probes of $NGINX_URL (nginx, ssl_verify_client on, .p12 identity)," \
    "mtls-probe batch -j $j vs xargs -P $j -n 1 curl, $BATCH_REPS interleaved runs each; $(nproc) cores"
  openssl speed -seconds 1 ecdhp256 ecdsap256 >"$WORK/speed.out" 2>/dev/null
  # one warm-up of each (page cache, nginx's workers), not counted
  "$PROBE" batch -j "$j" "${probe_args[@]}" "$WORK/targets.txt" >/dev/null 2>&1 || true
  head -n 20 "$WORK/targets.txt" | xargs -P "$j" -n 1 curl "${curl_args[@]}" 2>/dev/null || true
  for ((r = 0; r < BATCH_REPS; r++)); do
    timed batch "$j" "$PROBE" batch -j "$j" "${probe_args[@]}" "$WORK/targets.txt" >"$WORK/batch-$j.out" 2>&1
    timed curl "$j" xargs -P "$j" -n 1 curl "${curl_args[@]}" <"$WORK/targets.txt" 2>>"$WORK/curl.err"
  done
  # peak RSS at -j 1 and 256 (-j $j: the runs above) over max(N, 256) targets, so 256 are in flight at once;
  # and one curl probe's
  local rss_n=$((n > 256 ? n : 256))
  for ((r = 0; r < rss_n; r++)); do echo "$NGINX_URL"; done >"$WORK/targets-rss.txt"
  timed batch 1 "$PROBE" batch -j 1 "${probe_args[@]}" "$WORK/targets-rss.txt" >"$WORK/batch-1.out" 2>&1
  timed batch 256 "$PROBE" batch -j 256 "${probe_args[@]}" "$WORK/targets-rss.txt" >"$WORK/batch-256.out" 2>&1
  for ((r = 0; r < BATCH_REPS; r++)); do
    timed curl1 1 curl "${curl_args[@]}" "$NGINX_URL" 2>>"$WORK/curl.err"
  done
  python3 - "$WORK" "$n" "$j" "$rss_n" <<'PY'
import re, statistics, sys
work, n, j, rss_n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
runs = [l.split() for l in open(f"{work}/batch-runs")]
def rows(label, jj):
    return [dict(wall=float(x[2]), cpu=float(x[3]) + float(x[4]), sys=float(x[4]), rss=int(x[5]), rc=int(x[6]))
            for x in runs if x[0] == label and int(x[1]) == jj]
def med(rs, k):
    return statistics.median(r[k] for r in rs)
def verdict(ok):
    return "met" if ok else "MISSED"

b, c, b1, b256, c1 = rows("batch", j), rows("curl", j), rows("batch", 1), rows("batch", 256), rows("curl1", 1)
valid = True
for jj in sorted({1, j, 256}):
    out = open(f"{work}/batch-{jj}.out").read()
    m = re.search(r"(\d+) targets: (\d+) met", out)
    want = n if jj == j else rss_n
    for r in rows("batch", jj):
        if r["rc"] != 0 or not m or int(m.group(2)) != want:
            valid = False
            print(f"INVALID: mtls-probe batch -j {jj} exited {r['rc']} ({m.group(0) if m else 'no summary'}),"
                  f" not 0 with all {want} targets ok")
for name, rs in ((f"xargs -P {j} curl", c), ("curl (single probe)", c1)):
    bad = [r["rc"] for r in rs if r["rc"] != 0]
    if bad:
        valid = False
        print(f"INVALID: {name} exited {bad[0]}: at least one curl failed")
if not valid:
    err = open(f"{work}/curl.err").read().strip().splitlines()
    if err:
        print("  curl said: " + err[0])
    print("INVALID RUN: a probe failed, so the figures below mean nothing")

def fmt(rs):
    return ", ".join(f"{r['wall']:.2f}/{r['cpu']:.2f}/{r['rss']}" for r in rs)
print(f"runs (wall s / user+sys s / peak RSS KB): mtls-probe batch -j {j}: {fmt(b)}; xargs -P {j} curl: {fmt(c)}")
bw, cw, bc, cc = med(b, "wall"), med(c, "wall"), med(b, "cpu"), med(c, "cpu")
print(f"1. wall (median): mtls-probe {bw:.2f} s ({n / bw:.0f} probes/s), curl {cw:.2f} s ({n / cw:.0f} probes/s);"
      f" throughput mtls-probe/curl = {cw / bw:.2f}x (target >= 5x: {verdict(cw / bw >= 5)})")
bpp, cpp = bc / n * 1e6, cc / n * 1e6
print(f"   client CPU per probe (user+sys, median): mtls-probe {bpp:.0f} us (sys {med(b, 'sys') / n * 1e6:.0f}),"
      f" curl {cpp:.0f} us (sys {med(c, 'sys') / n * 1e6:.0f});"
      f" ratio mtls-probe/curl = {bpp / cpp:.3f} (target <= 0.10: {verdict(bpp / cpp <= 0.10)})")

speed = open(f"{work}/speed.out").read()
sign_s, verify_s = map(float, re.search(r"ecdsa \(nistp256\)\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", speed).groups())
ecdh_s = float(re.search(r"ecdh \(nistp256\)\s+\S+s\s+([\d.]+)", speed).group(1))
# the client verifies each certificate the server sends (signed by the next one, the last by the CA) and
# the server's CertificateVerify; it signs its own CertificateVerify; it derives one ECDHE secret
verifies = open(f"{work}/pki/server.pem").read().count("BEGIN CERTIFICATE") + 1
floor = (1 / ecdh_s + verifies / verify_s + 1 / sign_s) * 1e6
print(f"2. crypto floor per handshake (openssl speed: ECDH P-256 {ecdh_s:.0f}/s, ECDSA P-256 sign {sign_s:.0f}/s,"
      f" verify {verify_s:.0f}/s): 1 ECDH + {verifies} verify + 1 sign = {floor:.0f} us;"
      f" mtls-probe CPU per probe / floor = {bpp / floor:.2f} (target <= 2: {verdict(bpp / floor <= 2)})")
r1, rj, r256, rc1 = med(b1, "rss"), med(b, "rss"), med(b256, "rss"), med(c1, "rss")
per = (r256 - r1) / 255
print(f"3. peak RSS: mtls-probe batch -j 1 {r1} KB, -j {j} {rj:.0f} KB ({n} targets), -j 256 {r256} KB"
      f" (-j 1 and 256 over {rss_n} targets);"
      f" (RSS@256 - RSS@1)/255 = {per:.1f} KB per extra connection (target < 200: {verdict(per < 200)})")
print(f"   RSS@-j1 {r1} KB vs one curl probe {rc1:.0f} KB: ratio {r1 / rc1:.2f} (target <= 1: {verdict(r1 <= rc1)})")
sys.exit(0 if valid else 1)
PY
}

# The profile section: one `mtls-probe batch -j 8` over PROFILE_N targets against the same nginx, either
# under callgrind (PROFILE_TOOL=callgrind, default; 50 targets; instructions, so a busy machine does not change
# them, but valgrind's CPU lacks some extensions OpenSSL's fastest code paths use) or sampled natively by
# perf (PROFILE_TOOL=perf; 1000 targets; cpu-clock samples with call graphs). Prints the top inclusive
# functions; PROFILE_KEEP=FILE keeps callgrind.out / perf.data.
profile_section() {
  local tool=${PROFILE_TOOL:-callgrind} n r rc=0
  n=${PROFILE_N:-$([ "$tool" = perf ] && echo 1000 || echo 50)}
  command -v "$( [ "$tool" = perf ] && echo perf || echo valgrind)" >/dev/null ||
    { echo "== profile: skipped (no $tool)"; return 0; }
  [ -n "$NGINX_PID" ] || start_bench_nginx || { echo "== profile: nginx did not start"; return 1; }
  for ((r = 0; r < n; r++)); do echo "$NGINX_URL"; done >"$WORK/profile-targets.txt"
  local cmd=("$PROBE" batch -j 8 --cacert "$P/ca.pem" --p12 "$P/client.p12" --p12-password-file "$P/client.pass"
    "$WORK/profile-targets.txt")
  echo "== profile: $tool, mtls-probe batch -j 8 over $n targets of $NGINX_URL"
  if [ "$tool" = perf ]; then
    perf record -q -e cpu-clock -F 999 --call-graph dwarf,16384 -o "$WORK/perf.data" -- "${cmd[@]}" \
      >"$WORK/profile.out" \
      2>"$WORK/perf.err" || rc=$?
  else
    valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" "${cmd[@]}" >"$WORK/profile.out" \
      2>"$WORK/valgrind.err" || rc=$?
  fi
  tail -n 1 "$WORK/profile.out"
  [ "$rc" = 0 ] || echo "INVALID: batch under $tool exited $rc: the profile is not of $n good probes"
  if [ "$tool" = perf ]; then
    [ -z "${PROFILE_KEEP:-}" ] || cp "$WORK/perf.data" "$PROFILE_KEEP"
    perf report -i "$WORK/perf.data" --children --stdio -g none --sort symbol --percent-limit 1 2>/dev/null |
      grep -v '^#' | grep -v '^$' >"$WORK/annotate.txt" || true
    head -n 60 "$WORK/annotate.txt"
  else
    grep -E '^==[0-9]+== (Collected|Events)' "$WORK/valgrind.err" || true
    [ -z "${PROFILE_KEEP:-}" ] || cp "$WORK/callgrind.out" "$PROFILE_KEEP"
    callgrind_annotate --inclusive=yes "$WORK/callgrind.out" >"$WORK/annotate.txt" 2>/dev/null || true
    sed -n '/file:function/,$p' "$WORK/annotate.txt" | sed -n '3,62p'
  fi
}

# ---- The h2 section (issue 12): one HTTP/2 probe vs one HTTP/1.1 probe, same nginx, same identity -------
# Wall: H2_ROUNDS hyperfine runs that alternate which protocol goes first, RUNS runs of each in all; the
# medians of every run's time. Instructions: callgrind's total for the probe process, H2_CALLGRIND_RUNS runs
# each (median; instruction counts do not depend on how busy the machine is, wall times do).
h2_section() {
  local rounds=${H2_ROUNDS:-5} cg_runs=${H2_CALLGRIND_RUNS:-3} r proto
  command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
  local save_pid=$NGINX_PID save_url=${NGINX_URL:-}
  start_bench_nginx nginx-h2 http2 || { echo "== h2: nginx did not start"; return 1; }
  NGINX_H2_PID=$NGINX_PID
  local url=$NGINX_URL
  NGINX_PID=$save_pid NGINX_URL=$save_url
  local id_args=(--cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key")
  local id="${id_args[*]}"  # for hyperfine's command strings ($WORK is a mktemp path: no spaces)
  echo "== h2 (issue 12): one probe --http2 vs one probe --http1.1 of $url (nginx listen ssl http2," \
    "ssl_verify_client on, PEM identity); $rounds alternating hyperfine rounds, $RUNS runs each in all"
  # Both must be good probes of the version they name, or the figures compare nothing.
  for proto in http2 http1.1; do
    "$PROBE" --json "--$proto" "${id_args[@]}" "$url" >"$WORK/h2-check-$proto.json" 2>&1 || true
  done
  python3 - "$WORK" <<'PY' || return 1
import json, sys
for proto, version in (("http2", "2"), ("http1.1", "1.1")):
    j = json.load(open(f"{sys.argv[1]}/h2-check-{proto}.json"))
    if j["verdict"] != "ok" or j["http"]["version"] != version:
        sys.exit(f"INVALID: --{proto} gave {j['verdict']} over HTTP/{j['http']['version']}, not ok over {version}")
PY
  local per_round=$(((RUNS + rounds - 1) / rounds))
  for ((r = 0; r < rounds; r++)); do
    local cmds=(-n h2 "$PROBE --json --http2 $id $url" -n h1 "$PROBE --json --http1.1 $id $url")
    ((r % 2 == 0)) || cmds=(-n h1 "$PROBE --json --http1.1 $id $url" -n h2 "$PROBE --json --http2 $id $url")
    hyperfine --warmup 3 --runs "$per_round" -N --style none --export-json "$WORK/h2-round-$r.json" \
      "${cmds[@]}" >/dev/null
  done
  local n
  if command -v valgrind >/dev/null; then
    for ((n = 0; n < cg_runs; n++)); do
      for proto in http2 http1.1; do
        valgrind --tool=callgrind --callgrind-out-file="$WORK/cg-$proto-$n.out" \
          "$PROBE" --json "--$proto" "${id_args[@]}" "$url" >/dev/null 2>"$WORK/cg-$proto-$n.err" || true
      done
    done
  fi
  python3 - "$WORK" "$rounds" "$cg_runs" <<'PY'
import glob, json, re, statistics, sys
work, rounds, cg_runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
times = {"h2": [], "h1": []}
for path in sorted(glob.glob(f"{work}/h2-round-*.json")):
    for res in json.load(open(path))["results"]:
        times[res["command"]] += res["times"]
def verdict(ratio):
    return "met" if ratio <= 1.10 else "MISSED"
h2, h1 = statistics.median(times["h2"]), statistics.median(times["h1"])
print(f"wall (median of {len(times['h2'])} / {len(times['h1'])} runs): --http2 {h2 * 1000:.2f} ms,"
      f" --http1.1 {h1 * 1000:.2f} ms; ratio h2/h1 = {h2 / h1:.3f} (target <= 1.10: {verdict(h2 / h1)})")
def instructions(proto):
    out = []
    for n in range(cg_runs):
        try:
            err = open(f"{work}/cg-{proto}-{n}.err").read()
        except OSError:
            continue
        m = re.search(r"Collected : (\d+)", err)
        if m:
            out.append(int(m.group(1)))
    return out
i2, i1 = instructions("http2"), instructions("http1.1")
if i2 and i1:
    m2, m1 = statistics.median(i2), statistics.median(i1)
    print(f"instructions (callgrind, median of {len(i2)} / {len(i1)}): --http2 {m2 / 1e6:.2f} M,"
          f" --http1.1 {m1 / 1e6:.2f} M; ratio h2/h1 = {m2 / m1:.3f} (target <= 1.10: {verdict(m2 / m1)})")
else:
    print("instructions: skipped (no valgrind, or callgrind printed no total)")
PY
}

if has_section probe; then probe_section; fi
if has_section h2; then h2_section; fi
if has_section batch; then batch_section; fi
if has_section profile; then profile_section; fi
