#!/usr/bin/env bash
# mtls-probe batch: many targets in one process against real loopback servers (`serve` with different
# --client-auth modes, a silent TCP listener for a hanging target): one JSON Lines object per target line,
# verdicts and met flags, a malformed line reported with its line number while the others run, the hanging
# target does not hold the fast ones (margins measured in the same run), exit codes 0 / 13 / 1, --shard
# over 3 shards covers every line exactly once, each identity file loaded once (-v), no password anywhere;
# --junit (parsed with xml.etree), --metrics (every line against the exposition grammar), --warn-days and
# --fail-on-warn, the files renamed into place, the progress line only on a terminal.
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

# --- output files: --junit, --metrics, --warn-days, --fail-on-warn, the progress line ------------------
scenario "--junit, --metrics and --warn-days on a mixed run: well-formed files, written atomically"
REFUSED_PORT=$(free_port)
REPORTS="$TMP/reports"
mkdir -p "$REPORTS"
{
  echo "# output options"
  echo "${URL_REQ} name=good"
  echo "${URL_NONE} name=plain no-cert"
  echo "${URL_REQ} name=unmet expect=http-error"
  echo "https://127.0.0.1:${REFUSED_PORT}/ name=refused no-cert expect=connect-failure"
  echo "${URL_REQ} name=bad colour=red"
  echo "${URL_REQ} name=expired p12=$PKI_DIR/expired-client.p12 expect=client-cert-rejected"
  printf '%s name=x<&>"q'"'"'\x1bz\\ no-cert\n' "${URL_NONE}"
} >"$TMP/out.txt"
batch_run "$TMP/out.out" batch --json --junit "$REPORTS/junit.xml" --metrics "$REPORTS/metrics.prom" \
  --warn-days 36500 "${GLOBAL[@]}" "$TMP/out.txt"
expect_rc 13
jq_check "7 objects" 'len(rows) == 7'
jq_check "expiry_warning in every object: set exactly where a certificate was seen or in use" \
  'all("expiry_warning" in r for r in rows)
   and sorted(k for k, v in by.items() if v["expiry_warning"]) == sorted(["good", "plain", "unmet", "expired", "x<&>\"q'"'"'\u001bz\\"])
   and by["refused"]["expiry_warning"] is None and by["bad"]["expiry_warning"] is None'
jq_check "a warning names the certificate, its not_after and the days left" \
  'all(set(r["expiry_warning"]) == {"certificate", "not_after", "days_left"} and isinstance(r["expiry_warning"]["days_left"], int)
       for r in rows if r["expiry_warning"])
   and by["plain"]["expiry_warning"]["certificate"] == "server"
   and by["plain"]["expiry_warning"]["not_after"] == by["plain"]["server_cert"]["not_after"]'
jq_check "the expired client certificate: client, days_left < 0" \
  'by["expired"]["expiry_warning"]["certificate"] == "client" and by["expired"]["expiry_warning"]["days_left"] < 0
   and by["expired"]["met"]'
check "the temp files are gone (renamed into place)" \
  test "$(cd "$REPORTS" && ls -A | sort | tr '\n' ' ')" = "junit.xml metrics.prom "
if msg=$("$PY" -I "$HELPER" no-secrets "$PW_ENV" "$TMP/batch-cwd" "$PKI_DIR" "$REPORTS/junit.xml" \
  "$REPORTS/metrics.prom" 2>&1); then
  _pass "no password or private key bytes in the JUnit and metrics files"
else
  _fail "no password or private key bytes in the JUnit and metrics files" "$msg"
fi
cp "$OUT" "$TMP/out.jsonl"
if msg=$("$PY" -I - "$REPORTS/junit.xml" "$TMP/out.jsonl" <<'PYEOF'
import json, sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
rows = [json.loads(l) for l in open(sys.argv[2])]
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
assert len(suites) == 1, "one testsuite, got %d" % len(suites)
suite = suites[0]
cases = suite.findall("testcase")
unmet = [r for r in rows if not r["met"]]
assert suite.get("name") == "mtls-probe batch", suite.get("name")
assert int(suite.get("tests")) == len(cases) == 7, (suite.get("tests"), len(cases))
assert int(suite.get("failures")) == len(unmet) == 2, suite.get("failures")
float(suite.get("time"))
by = {c.get("name"): c for c in cases}
for r in rows:
    name = r["name"]
    if name.startswith("x<&>"):
        name = name.replace("\x1b", "\\x1b")  # control characters are written visibly
    c = by[name]
    assert c.get("classname") == "mtls-probe.batch"
    assert abs(float(c.get("time")) - (r["timing_ms"]["total"] or 0) / 1000) < 0.002, (c.get("time"), r["timing_ms"])
    fails = c.findall("failure")
    assert len(fails) == (0 if r["met"] else 1), name
    if fails:
        assert fails[0].get("message") == r["summary"], (fails[0].get("message"), r["summary"])
        text = fails[0].text or ""
        assert r["verdict"] in text and "expected" in text, text[:200]
        for h in r["hints"]:
            assert h.split()[0] in text, (h, text[:300])
    props = {p.get("name"): p.get("value") for p in c.iter("property")}
    assert props["line"] == str(r["line"]) and props["verdict"] == r["verdict"], props
    outs = c.findall("system-out")
    if r["expiry_warning"]:
        assert len(outs) == 1 and "expire" in outs[0].text, name
        assert props["expiry_warning.days_left"] == str(r["expiry_warning"]["days_left"])
    else:
        assert not outs and "expiry_warning.days_left" not in props, name
print(len(cases), "testcases")
PYEOF
); then
  _pass "JUnit parses (xml.etree): 1 suite, a testcase per target line, a failure per unmet one ($msg)"
else
  _fail "JUnit parses (xml.etree): 1 suite, a testcase per target line, a failure per unmet one" "$msg"
fi
if msg=$("$PY" -I - "$REPORTS/metrics.prom" "$TMP/out.jsonl" <<'PYEOF'
import json, re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert lines[-1] == "", "ends with a newline"
lines = lines[:-1]
name = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
lval = r'"(?:[^"\\\n]|\\[\\"n])*"'
label = r"[a-zA-Z_][a-zA-Z0-9_]*=" + lval
value = r"(?:[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?Inf|NaN)"
sample = re.compile("^(" + name + r")(?:\{(" + label + "(?:," + label + r")*,?)\})? (" + value + ")(?: -?[0-9]+)?$")
help_re = re.compile("^# HELP (" + name + r") (?:[^\\\n]|\\[\\n])*$")
type_re = re.compile("^# TYPE (" + name + ") (counter|gauge|histogram|summary|untyped)$")
helps, types, samples, order = {}, {}, [], []
for l in lines:
    m = help_re.match(l) or type_re.match(l)
    if m:
        d = helps if l.startswith("# HELP") else types
        assert m.group(1) not in d, "HELP/TYPE twice: " + l
        d[m.group(1)] = l
        if l.startswith("# TYPE"):
            order.append(m.group(1))
        continue
    m = sample.match(l)
    assert m, "not exposition format: " + repr(l)
    assert m.group(1) == order[-1], "a sample outside its family: " + l
    labels = dict((k, v.encode().decode("unicode_escape") if False else v)
                  for k, v in re.findall("([a-zA-Z_][a-zA-Z0-9_]*)=(" + lval + ")", m.group(2) or ""))
    unq = {k: re.sub(r'\\(.)', lambda x: {"n": "\n"}.get(x.group(1), x.group(1)), v[1:-1]) for k, v in labels.items()}
    samples.append((m.group(1), unq, m.group(3)))
fams = ["mtls_probe_success", "mtls_probe_expectation_met", "mtls_probe_exit_code",
        "mtls_probe_phase_duration_seconds", "mtls_probe_server_cert_expiry_timestamp_seconds",
        "mtls_probe_client_cert_expiry_timestamp_seconds"]
assert set(helps) == set(types) == set(fams), sorted(types)
def get(fam, target, **kw):
    found = [v for f, l, v in samples if f == fam and l["target"] == target
             and all(l.get(k) == w for k, w in kw.items())]
    return found[0] if len(found) == 1 else (None if not found else found)
rows = {r["name"]: r for r in (json.loads(l) for l in open(sys.argv[2]))}
for n, r in rows.items():
    assert get("mtls_probe_success", n, line=str(r["line"]), verdict=r["verdict"]) == ("1" if r["verdict"] == "ok" else "0"), n
    assert get("mtls_probe_expectation_met", n, line=str(r["line"])) == ("1" if r["met"] else "0"), n
    assert get("mtls_probe_exit_code", n, verdict=r["verdict"]) == str(r["exit_code"]), n
    for ph, key in [("dns", "dns"), ("connect", "connect"), ("tls", "tls"), ("http", "ttfb"), ("total", "total")]:
        v = get("mtls_probe_phase_duration_seconds", n, phase=ph)
        want = r["timing_ms"][key]
        assert (v is None) == (want is None), (n, ph, v, want)
        if v is not None:
            assert abs(float(v) - want / 1000) < 1e-5, (n, ph, v, want)
# a met target and an unmet one, family by family
assert get("mtls_probe_success", "good", verdict="ok") == "1"
assert get("mtls_probe_expectation_met", "good") == "1" and get("mtls_probe_exit_code", "good") == "0"
assert get("mtls_probe_phase_duration_seconds", "good", phase="tls") is not None
assert get("mtls_probe_phase_duration_seconds", "good", phase="http") is not None
import calendar, time
na = rows["good"]["server_cert"]["not_after"]
assert get("mtls_probe_server_cert_expiry_timestamp_seconds", "good") == str(calendar.timegm(time.strptime(na, "%Y-%m-%dT%H:%M:%SZ")))
assert get("mtls_probe_client_cert_expiry_timestamp_seconds", "good") is not None
assert get("mtls_probe_success", "unmet", verdict="ok") == "1" and get("mtls_probe_expectation_met", "unmet") == "0"
assert get("mtls_probe_success", "bad", verdict="usage-error") == "0" and get("mtls_probe_exit_code", "bad") == "1"
assert get("mtls_probe_phase_duration_seconds", "bad", phase="dns") is None
assert get("mtls_probe_phase_duration_seconds", "refused", phase="tls") is None
assert get("mtls_probe_server_cert_expiry_timestamp_seconds", "refused") is None
assert get("mtls_probe_client_cert_expiry_timestamp_seconds", "plain") is None  # no-cert: none in use
assert get("mtls_probe_success", "x<&>\"q'\x1bz\\") == "1"  # escaped label values round-trip
print(len(samples), "samples")
PYEOF
); then
  _pass "every metrics line is exposition format; families once; values of met and unmet targets ($msg)"
else
  _fail "every metrics line is exposition format; families once; values of met and unmet targets" "$msg"
fi

scenario "--warn-days: text notes; --fail-on-warn exits 13 when a target has a warning"
batch_run "$TMP/warn-text.out" batch --warn-days 36500 "${GLOBAL[@]}" "$TMP/met.txt"
expect_rc 0
check "a row carries the note" grep -qE '^✓ good .*⚠ (server|client) certificate expires in [0-9]+ days$' "$OUT"
check "the met targets with a warning are listed after the table" \
  grep -qE '^6 met with a certificate warning:$' "$OUT"
check "summary counts the warnings" grep -qE '^6 targets: 6 met, 0 unmet, 6 certificate warnings, in ' "$OUT"
batch_run "$TMP/warn-fail.out" batch --json --warn-days 36500 --fail-on-warn "${GLOBAL[@]}" "$TMP/met.txt"
expect_rc 13
jq_check "every target met, each with a warning" 'len(rows) == 6 and all(r["met"] and r["expiry_warning"] for r in rows)'
batch_run "$TMP/warn-none.out" batch --json --warn-days 1 --fail-on-warn "${GLOBAL[@]}" "$TMP/met.txt"
expect_rc 0
jq_check "--warn-days 1: no certificate expires that soon, expiry_warning null" \
  'all(r["expiry_warning"] is None for r in rows)'
batch_run "$TMP/nowarn.out" batch --json "${GLOBAL[@]}" "$TMP/met.txt"
jq_check "without --warn-days: expiry_warning null" 'all(r["expiry_warning"] is None for r in rows)'
batch_run "$TMP/failwarn-alone.out" batch --json --fail-on-warn "${GLOBAL[@]}" "$TMP/met.txt"
expect_rc 1
jq_check "--fail-on-warn without --warn-days: a usage error" \
  'len(rows) == 1 and rows[0]["verdict"] == "usage-error" and "--warn-days" in rows[0]["usage_error"]'
batch_run "$TMP/badjunit.out" batch --json --junit "$TMP/no-such-dir/j.xml" "${GLOBAL[@]}" "$TMP/met.txt"
expect_rc 1
jq_check "--junit in a missing directory: a usage error before anything runs" \
  'len(rows) == 1 and rows[0]["verdict"] == "usage-error" and "no-such-dir" in rows[0]["usage_error"]'
# killed while a target hangs: no report, and no hidden temp file left in the report directory
KILLED="$TMP/killed-reports"
mkdir -p "$KILLED"
echo "https://127.0.0.1:${HANG_PORT}/ name=hang max-time=${HANG_S} expect=timeout" >"$TMP/killed.txt"
(cd "$TMP/batch-cwd" && exec "$PROBE" batch --json --junit "$KILLED/j.xml" --metrics "$KILLED/m.prom" \
  "${GLOBAL[@]}" "$TMP/killed.txt" >/dev/null 2>&1) &
KILLED_PID=$!
sleep 0.5
kill -TERM "$KILLED_PID"
wait "$KILLED_PID" 2>/dev/null
check "a batch killed midway leaves nothing in the --junit/--metrics directory" \
  test -z "$(ls -A "$KILLED")"

scenario "the progress line: on a terminal only, cleared before the summary; never with NO_COLOR, --no-progress, -v"
# progress_check yes|no [KEY=VALUE...] -- ARGS...: runs `mtls-probe ARGS` (NO_COLOR unset unless given) with
# stderr on a pseudo-terminal; "yes": the progress line was drawn with \r, reached N/N and was blanked at
# the end; "no": no progress line at all
progress_check() {
  "$PY" -I - "$PROBE" "$@" <<'PYEOF'
import os, pty, re, subprocess, sys
probe, want, args = sys.argv[1], sys.argv[2], sys.argv[3:]
sep = args.index("--")
env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
for kv in args[:sep]:
    k, _, v = kv.partition("=")
    env[k] = v
master, slave = pty.openpty()
p = subprocess.Popen([probe] + args[sep + 1:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                     stderr=slave, env=env, cwd="/")
os.close(slave)
out = p.stdout.read().decode()
chunks = []
while True:
    try:
        b = os.read(master, 65536)
    except OSError:
        break
    if not b:
        break
    chunks.append(b)
p.wait(timeout=60)
err = b"".join(chunks).decode("utf-8", "replace")
n = len(out.splitlines())
if want == "yes":
    ok = ("\r%d/%d done" % (n, n)) in err and re.search(r"\r +\r$", err) is not None and "\r" not in out
elif want == "ticks":
    # while the hanging target runs alone, nothing finishes, yet the rate and ETA are redrawn
    waiting = set(re.findall(r"\r(%d/%d done[^\r]*)" % (n - 1, n), err))
    ok = len(waiting) >= 3
else:
    ok = re.search(r"[0-9]+/[0-9]+ done", err) is None
if not ok:
    print(repr(err[-400:]))
sys.exit(0 if ok and p.returncode == 0 else 1)
PYEOF
}
if msg=$(progress_check yes -- batch --json "${GLOBAL[@]}" "$TMP/met.txt"); then
  _pass "drawn on a terminal (6/6 done, redrawn with \\r) and blanked at the end"
else
  _fail "drawn on a terminal (6/6 done, redrawn with \\r) and blanked at the end" "$msg"
fi
if msg=$(progress_check no NO_COLOR=1 -- batch --json "${GLOBAL[@]}" "$TMP/met.txt"); then
  _pass "no progress line with NO_COLOR=1"
else
  _fail "no progress line with NO_COLOR=1" "$msg"
fi
if msg=$(progress_check yes NO_COLOR= -- batch --json "${GLOBAL[@]}" "$TMP/met.txt"); then
  _pass "an empty NO_COLOR counts as unset"
else
  _fail "an empty NO_COLOR counts as unset" "$msg"
fi
if msg=$(progress_check no -- batch --json --no-progress "${GLOBAL[@]}" "$TMP/met.txt"); then
  _pass "no progress line with --no-progress"
else
  _fail "no progress line with --no-progress" "$msg"
fi
if msg=$(progress_check no -- -v batch --json "${GLOBAL[@]}" "$TMP/met.txt"); then
  _pass "no progress line with -v"
else
  _fail "no progress line with -v" "$msg"
fi
check "no progress line when stderr is not a terminal" bash -c "! grep -q ' done' '$TMP/warn-fail.out.err'"
# one fast target and one that hangs for HANG_S: the line keeps moving (4 redraws a second) meanwhile
{ sed -n 2p "$TMP/met.txt"
  echo "https://127.0.0.1:${HANG_PORT}/ name=hang max-time=${HANG_S} connect-timeout=${HANG_S} expect=timeout"
} >"$TMP/ticks.txt"
if msg=$(progress_check ticks -- batch --json "${GLOBAL[@]}" "$TMP/ticks.txt"); then
  _pass "redrawn on a timer while a target hangs (rate and ETA move with no target finishing)"
else
  _fail "redrawn on a timer while a target hangs (rate and ETA move with no target finishing)" "$msg"
fi

finish
