#!/usr/bin/env bash
# mtls-probe batch: many targets in one process against real loopback servers (`serve` with different
# --client-auth modes, a silent TCP listener for a hanging target): one JSON Lines object per target line,
# verdicts and met flags, a malformed line reported with its line number while the others run, the hanging
# target does not hold the fast ones (margins measured in the same run), exit codes 0 / 13 / 1, --shard
# over 3 shards covers every line exactly once, each identity file loaded once (-v), no password anywhere.
#
#   bash suite_batch.sh /path/to/mtls-probe
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

if ! "$PROBE" batch --help 2>&1 </dev/null | grep -q -- "--shard"; then
  echo "FATAL: '$PROBE batch --help' failed: the batch subcommand is not available" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
make_tmp
PKI_DIR="$TMP/serve-pki"
SERVE_PKI=(--pki-dir "$PKI_DIR")

start_serve require "${SERVE_PKI[@]}" --client-auth require
URL_REQ=$SERVE_URL
PORT_REQ=$(sed -E 's|https://127\.0\.0\.1:([0-9]+)/|\1|' <<<"$URL_REQ")
start_serve none "${SERVE_PKI[@]}" --client-auth none
URL_NONE=$SERVE_URL
start_serve forbidden "${SERVE_PKI[@]}" --status 403
URL_403=$SERVE_URL
HANG_PORT=$(free_port)
start_python_listener hang "$HANG_PORT" silent
HANG_S=3

MTLS_TEST_P12_PASSWORD=$(head -n 1 "$PKI_DIR/client.pass")
export MTLS_TEST_P12_PASSWORD
GLOBAL=(--cacert "$PKI_DIR/ca.pem" --p12 "$PKI_DIR/client.p12" --p12-password-env "$PW_ENV")

# batch_run OUTFILE ARGS... — runs `mtls-probe ARGS` in an empty working directory with stdin from
# $BATCH_STDIN (default /dev/null); stdout lines are stamped with their arrival time (ms since start) into
# OUTFILE.stamped and kept as they are in OUTFILE; stderr in OUTFILE.err; exit code in RC, wall time in
# WALL_MS; BATCH_SOFT_NOFILE=N starts the probe with that soft descriptor limit. Then checks that no password or key bytes were printed and nothing was written.
batch_run() {
  local out=$1 t0 t1 cwd="$TMP/batch-cwd"
  shift
  rm -rf "$cwd" && mkdir -p "$cwd"
  t0=$(date +%s%N)
  (cd "$cwd" && { [[ -z ${BATCH_SOFT_NOFILE:-} ]] || ulimit -Sn "$BATCH_SOFT_NOFILE"; } &&
    exec timeout -k 2 60 "$PROBE" "$@" <"${BATCH_STDIN:-/dev/null}" 2>"$out.err") |
    "$PY" -I -c '
import sys, time
t0 = time.monotonic()
raw, stamped = open(sys.argv[1], "w"), open(sys.argv[1] + ".stamped", "w")
for line in sys.stdin:
    raw.write(line)
    stamped.write("%d\t%s" % ((time.monotonic() - t0) * 1000, line))
' "$out"
  RC=${PIPESTATUS[0]}
  t1=$(date +%s%N)
  WALL_MS=$(((t1 - t0) / 1000000))
  OUT=$out
  ERR=$out.err
  echo "  (batch exit $RC in ${WALL_MS}ms)"
  local msg
  if msg=$("$PY" -I "$HELPER" no-secrets "$PW_ENV" "$cwd" "$PKI_DIR" "$out" "$out.err" 2>&1); then
    _pass "no password or private key bytes in stdout/stderr, no file written"
  else
    _fail "no password or private key bytes in stdout/stderr, no file written ($msg)"
  fi
}

# jq_check NAME PYTHON_EXPR — evaluates PYTHON_EXPR with `rows` (the JSON objects of $OUT, in order),
# `by` (name -> object) and `stamps` (name -> arrival ms); passes when it is true
jq_check() {
  local name=$1 expr=$2 msg
  if msg=$("$PY" -I - "$OUT" "$expr" <<'PYEOF'
import json, sys
out, expr = sys.argv[1], sys.argv[2]
rows, by, stamps = [], {}, {}
for raw in open(out + ".stamped"):
    ms, text = raw.split("\t", 1)
    obj = json.loads(text)
    if not isinstance(obj, dict):
        raise SystemExit("not an object: " + text[:80])
    rows.append(obj)
    key = obj.get("name") or str(obj.get("line"))
    by[key] = obj
    stamps[key] = int(ms)
ok = eval("(\n" + expr + "\n)")  # pylint: disable=eval-used
if not ok:
    print({k: (v.get("verdict"), v.get("met"), stamps.get(k)) for k, v in by.items()})
sys.exit(0 if ok else 1)
PYEOF
  ); then
    _pass "$name"
  else
    _fail "$name" "$msg
stderr: $(tail -c 600 "$ERR")"
  fi
}

expect_rc() {
  if [[ $RC == "$1" ]]; then _pass "exit code $1"; else _fail "exit code $1 (got $RC)" "$(tail -c 600 "$ERR")"; fi
}

# --- every line met: exit 0, and the fast targets' time as the margin of the timing checks below ------
scenario "all targets meet their expectation: exit 0, one JSON object per line"
cat >"$TMP/met.txt" <<EOF2
# fast targets, every one meets its expectation
${URL_REQ} name=good
${URL_REQ}path name=nocert no-cert expect=client-cert-required,client-cert-rejected

${URL_REQ} name=other p12=$PKI_DIR/other-client.p12 expect=client-cert-rejected
${URL_NONE} name=plain
${URL_403} name=forbidden expect=http-error
https://api.test:${PORT_REQ}/ name=resolved resolve=api.test:${PORT_REQ}:127.0.0.1 servername=localhost
EOF2
batch_run "$TMP/met.out" batch --json -j 8 "${GLOBAL[@]}" "$TMP/met.txt"
expect_rc 0
FAST_MS=$WALL_MS
jq_check "6 objects, one per target line" 'len(rows) == 6'
jq_check "each has line, name, expected (array), met and the contract fields" \
  'all(isinstance(r["line"], int) and isinstance(r["expected"], list) and isinstance(r["met"], bool)
       and "name" in r and "verdict" in r and "exit_code" in r and "url" in r and "tls" in r
       and "timing_ms" in r and "hints" in r and "summary" in r for r in rows)'
jq_check "line numbers are the file's (comments and blank lines counted)" \
  'sorted(r["line"] for r in rows) == [2, 3, 5, 6, 7, 8]'
jq_check "good: ok over TLS, client certificate sent" \
  'by["good"]["verdict"] == "ok" and by["good"]["met"] and by["good"]["tls"]["client_cert_sent"] is True'
jq_check "nocert: client-cert-required, met against a list of two" \
  'by["nocert"]["verdict"] == "client-cert-required" and by["nocert"]["met"]
   and by["nocert"]["expected"] == ["client-cert-required", "client-cert-rejected"]'
jq_check "other (line p12=): client-cert-rejected, met" \
  'by["other"]["verdict"] == "client-cert-rejected" and by["other"]["met"]'
jq_check "plain and forbidden: ok and http-error (status 403)" \
  'by["plain"]["verdict"] == "ok" and by["forbidden"]["verdict"] == "http-error"
   and by["forbidden"]["http"]["status"] == 403 and by["forbidden"]["met"]'
jq_check "resolved (resolve=, servername=): ok" 'by["resolved"]["verdict"] == "ok"'
jq_check "exit_code of each object is its verdict's" \
  'all(r["exit_code"] == {"ok": 0, "client-cert-required": 8, "client-cert-rejected": 9,
       "http-error": 10}[r["verdict"]] for r in rows)'

scenario "each identity file is loaded once (visible in -v), trace lines tagged per target"
batch_run "$TMP/trace.out" -v batch --json "${GLOBAL[@]}" "$TMP/met.txt"
expect_rc 0
check "client.p12 loaded once" test "$(grep -c "loading client identity $PKI_DIR/client.p12 " "$ERR")" = 1
check "other-client.p12 loaded once" \
  test "$(grep -c "loading client identity $PKI_DIR/other-client.p12 " "$ERR")" = 1
check "trace lines carry the target's tag" grep -q '^\* \[good\] ' "$ERR"
check "trace of the resolved target is tagged too" grep -q '^\* \[resolved\] ' "$ERR"

# --- a hanging target, a malformed line, an unmet expectation: exit 13 -------------------------------
scenario "mixed: a hanging target, a malformed line and an unmet one; the others do not wait"
cp "$TMP/met.txt" "$TMP/mixed.txt"
cat >>"$TMP/mixed.txt" <<EOF2
https://127.0.0.1:${HANG_PORT}/ name=hang max-time=${HANG_S} connect-timeout=${HANG_S} expect=timeout
${URL_REQ} name=bad colour=red
${URL_REQ} name=unmet expect=http-error
EOF2
# the hanging target first in the file: it takes its slot at once and holds it to its deadline
{ sed -n 9p "$TMP/mixed.txt"; sed '9d' "$TMP/mixed.txt"; } >"$TMP/mixed2.txt"
batch_run "$TMP/mixed.out" batch --json -j 4 "${GLOBAL[@]}" "$TMP/mixed2.txt"
expect_rc 13
jq_check "9 objects: every line has its result" 'len(rows) == 9'
jq_check "the malformed line is usage-error, met false, with its line number and what is wrong" \
  'by["bad"]["verdict"] == "usage-error" and by["bad"]["met"] is False and by["bad"]["line"] == 10
   and "line 10" in by["bad"]["usage_error"] and "colour" in by["bad"]["usage_error"]
   and by["bad"]["exit_code"] == 1'
jq_check "unmet: ok where http-error was expected, met false" \
  'by["unmet"]["verdict"] == "ok" and by["unmet"]["met"] is False and by["unmet"]["expected"] == ["http-error"]'
jq_check "hang: timeout at its own max-time (never before), met" \
  "by['hang']['verdict'] == 'timeout' and by['hang']['met'] and by['hang']['timing_ms']['total'] >= ${HANG_S}000"
jq_check "hang is the last to finish" 'rows[-1]["name"] == "hang"'
jq_check "the fast targets all finish before the hanging one's deadline" \
  "max(v for k, v in stamps.items() if k != 'hang') < ${HANG_S}000"
margin=$((3 * FAST_MS > 1000 ? 3 * FAST_MS : 1000))
jq_check "the fast targets finish within the all-fast run's time plus its margin (${FAST_MS}ms + ${margin}ms)" \
  "max(v for k, v in stamps.items() if k != 'hang') < ${FAST_MS} + ${margin}"
jq_check "the other lines still ran and met" \
  'all(by[n]["met"] for n in ["good", "nocert", "other", "plain", "forbidden", "resolved"])'

scenario "text table: a row per target, the failures again, a summary line"
batch_run "$TMP/text.out" batch "${GLOBAL[@]}" "$TMP/mixed.txt"
expect_rc 13
check "a row with ✓ for good" grep -qE '^✓ good +ok ' "$OUT"
check "a row with ✗ for unmet" grep -qE '^✗ unmet +ok +http-error' "$OUT"
check "the failures again, with line numbers" grep -qF "✗ bad (line 10): usage-error, expected ok" "$OUT"
check "a failure's summary names what is wrong" grep -qF "unknown key 'colour'" "$OUT"
check "summary line" grep -qE '^9 targets: 7 met, 2 unmet, in [0-9]+\.[0-9] s$' "$OUT"

# --- usage errors of the whole run: exit 1 --------------------------------------------------------------
scenario "an unreadable targets file is a usage error of the run"
batch_run "$TMP/nofile.out" batch --json "${GLOBAL[@]}" "$TMP/no-such-targets.txt"
expect_rc 1
jq_check "one usage-error object" 'len(rows) == 1 and rows[0]["verdict"] == "usage-error"'
batch_run "$TMP/nofile-text.out" batch "${GLOBAL[@]}" "$TMP/no-such-targets.txt"
expect_rc 1
check "the message on stderr names the file" grep -qF "no-such-targets.txt" "$ERR"

batch_run "$TMP/dir.out" batch "${GLOBAL[@]}" "$TMP"
expect_rc 1
check "a directory as the targets file: a usage error naming it" grep -qF "is a directory" "$ERR"

scenario "a bad global option is a usage error of the run"
batch_run "$TMP/badopt.out" batch --json --tls-min 9 "${GLOBAL[@]}" "$TMP/met.txt"
expect_rc 1
jq_check "one usage-error object" 'len(rows) == 1 and rows[0]["verdict"] == "usage-error"'
batch_run "$TMP/badj.out" batch --json -j 0 "${GLOBAL[@]}" "$TMP/met.txt"
expect_rc 1
batch_run "$TMP/badshard.out" batch --json --shard 4/3 "${GLOBAL[@]}" "$TMP/met.txt"
expect_rc 1
batch_run "$TMP/badflag.out" batch --json --no-such-flag "${GLOBAL[@]}" "$TMP/met.txt"
expect_rc 1
jq_check "an unknown option: one usage-error object" 'len(rows) == 1 and rows[0]["verdict"] == "usage-error"'

scenario "a password on the command line (--pass) warns, and is never printed"
batch_run "$TMP/pass.out" -v batch --json --cacert "$PKI_DIR/ca.pem" --p12 "$PKI_DIR/client.p12" \
  --pass "$MTLS_TEST_P12_PASSWORD" "$TMP/met.txt"
expect_rc 0
check "the --pass warning is on stderr" grep -qF "visible to other users in the process list" "$ERR"

# --- stdin, -j 512, shards -------------------------------------------------------------------------------
scenario "targets from stdin (-)"
BATCH_STDIN="$TMP/met.txt" batch_run "$TMP/stdin.out" --json batch "${GLOBAL[@]}" -  # --json before batch
expect_rc 0
jq_check "6 objects" 'len(rows) == 6'

scenario "-j 512 with 600 targets: the soft descriptor limit is raised to the hard one when needed"
for i in $(seq 1 600); do echo "${URL_REQ} name=m$i"; done >"$TMP/600.txt"
if (($(ulimit -Hn) >= 4096)); then
  BATCH_SOFT_NOFILE=256 batch_run "$TMP/600.out" batch --json -j 512 "${GLOBAL[@]}" "$TMP/600.txt"
  expect_rc 0
  jq_check "600 objects, all ok and met" 'len(rows) == 600 and all(r["verdict"] == "ok" and r["met"] for r in rows)'
else
  echo "  (skipped: hard RLIMIT_NOFILE $(ulimit -Hn) < 4096)"
fi

scenario "--shard K/3 over 3 shards covers every line exactly once"
{
  echo "# many targets"
  for i in $(seq 1 20); do
    echo "${URL_REQ} name=t$i"
    ((i % 5 == 0)) && echo "" && echo "# comment $i"
  done
  echo "${URL_REQ} name=broken expect=nonsense"
} >"$TMP/many.txt"
batch_run "$TMP/all.out" batch --json -j 512 "${GLOBAL[@]}" "$TMP/many.txt"
expect_rc 13
cp "$OUT" "$TMP/all.jsonl"
: >"$TMP/shards.jsonl"
for k in 1 2 3; do
  batch_run "$TMP/shard$k.out" batch --json --shard "$k/3" "${GLOBAL[@]}" "$TMP/many.txt"
  cat "$TMP/shard$k.out" >>"$TMP/shards.jsonl"
done
if msg=$("$PY" -I - "$TMP/all.jsonl" "$TMP/shards.jsonl" <<'PYEOF'
import json, sys
whole = sorted(json.loads(l)["line"] for l in open(sys.argv[1]))
parts = sorted(json.loads(l)["line"] for l in open(sys.argv[2]))
print(len(whole), len(parts))
sys.exit(0 if whole == parts and len(set(parts)) == len(parts) == 21 else 1)
PYEOF
); then
  _pass "the 3 shards' lines are the whole run's, each once ($msg)"
else
  _fail "the 3 shards' lines are the whole run's, each once" "$msg"
fi

finish
