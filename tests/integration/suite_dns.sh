#!/usr/bin/env bash
# Name lookup (c-ares) and every address (Happy Eyeballs): localhost as ::1 and 127.0.0.1, -4 / -6,
# connect.attempts, a name under .invalid and a DNS server that never answers. No real DNS server is ever
# asked: every lookup goes to a fake server on 127.0.0.1 (fake_dns.py) through --dns-servers, or needs no
# lookup at all (localhost, IP literals).
#
#   bash suite_dns.sh /path/to/mtls-probe
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_tmp
PKI_DIR="$TMP/serve-pki"


# start_serve NAME ARGS... — `mtls-probe serve --port 0 --pki-dir $PKI_DIR ARGS`; sets SERVE_PID, SERVE_PORT.
start_serve() {
  local name=$1 d="$TMP/serve-$1" i url
  shift
  mkdir -p "$d"
  "$PROBE" serve --port 0 --pki-dir "$PKI_DIR" "$@" >"$d/out" 2>"$d/err" </dev/null &
  SERVE_PID=$!
  track_pid "$SERVE_PID" "serve-$name" "$d/err"
  for ((i = 0; i < 200; i++)); do
    url=$(sed -n 's/^listening on \(https:\/\/.*\)$/\1/p' "$d/out")
    if [[ -n $url ]]; then
      SERVE_PORT=${url##*:}
      SERVE_PORT=${SERVE_PORT%/}
      return 0
    fi
    kill -0 "$SERVE_PID" 2>/dev/null || { cat "$d/err" >&2; die "serve $name exited before listening"; }
    sleep 0.05
  done
  die "serve $name printed no 'listening on' line"
}

have_ipv6_loopback() {
  "$PY" -I -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null
}

# expect_threads_during PID COUNT — while the probe PID waits on its lookup, it runs COUNT thread(s)
expect_threads_during() {
  local n
  n=$(find "/proc/$1/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  if ((n == $2)); then
    _pass "the probe runs $2 thread(s) while it waits on DNS"
  else
    _fail "the probe runs $2 thread(s) while it waits on DNS (it runs $n)"
  fi
}

# --- a name under .invalid, a DNS server that never answers -----------------------------------------

start_fake_dns nx nxdomain
NX_SERVER="127.0.0.1:$DNS_PORT"
NX_LOG=$DNS_LOG

scenario "name under .invalid, DNS answers NXDOMAIN -> dns-failure at once"
probe --dns-servers "$NX_SERVER" --max-time 10 "https://nonexistent.invalid/"
expect_verdict dns-failure 3
expect_json dns.error "Name or service not known"
expect_json timing_ms.connect null
expect_json connect.attempts '[]'
expect_wall_below 3000
check "the fake DNS server was asked (not the system's)" grep -q "nonexistent.invalid" "$NX_LOG"

scenario "bad --dns-servers -> usage-error (never the system's servers instead)"
probe --dns-servers "127.0.0.1:" "https://nonexistent.invalid/"
expect_verdict usage-error 1

start_fake_dns silent silent
SILENT_SERVER="127.0.0.1:$DNS_PORT"
SILENT_LOG=$DNS_LOG

scenario "DNS server never answers, --connect-timeout 1 -> timeout in phase dns at 1 s (+ the margin)"
probe --dns-servers "$SILENT_SERVER" --connect-timeout 1 "https://nothing-here.invalid/"
expect_verdict timeout 5
expect_json timed_out_in dns
expect_json timeout_limit "--connect-timeout 1s"
expect_within 1
if ((WALL_MS >= 950)); then _pass "not before the deadline (${WALL_MS}ms)"; else _fail "ended at ${WALL_MS}ms, before 1 s"; fi
check "the silent DNS server was asked" grep -q "nothing-here.invalid" "$SILENT_LOG"

scenario "DNS server never answers: no helper thread, the probe exits by itself"
"$PROBE" --json --dns-servers "$SILENT_SERVER" --connect-timeout 2 "https://still-nothing.invalid/" \
  >"$TMP/bg.out" 2>"$TMP/bg.err" </dev/null &
bg=$!
sleep 0.7
expect_threads_during "$bg" 1
wait "$bg"
rc=$?
if ((rc == 5)); then _pass "exit 5 (timeout) by itself"; else _fail "exit $rc, want 5"; fi

# --- localhost: ::1 and 127.0.0.1, Happy Eyeballs ------------------------------------------------------

start_serve v4 --bind 127.0.0.1
V4_PORT=$SERVE_PORT
V4_PID=$SERVE_PID
MTLS_TEST_P12_PASSWORD=$(head -n 1 "$PKI_DIR/client.pass")
export MTLS_TEST_P12_PASSWORD
CA=(--cacert "$PKI_DIR/ca.pem")
ID_GOOD=(--p12 "$PKI_DIR/client.p12" --p12-password-file "$PKI_DIR/client.pass")
SECRET_KEY_DIRS=$PKI_DIR

scenario "serve on 127.0.0.1 only, probed as localhost -> ok, every attempt recorded"
probe "${CA[@]}" "${ID_GOOD[@]}" --dns-servers "$NX_SERVER" "https://localhost:$V4_PORT/"
expect_verdict ok 0
expect_json dns.addresses.0 "::1"
expect_json dns.addresses.1 "127.0.0.1"
expect_json connect.address "127.0.0.1:$V4_PORT"
if have_ipv6_loopback; then
  expect_json connect.attempts.0.address "[::1]:$V4_PORT"
  expect_json connect.attempts.0.family ipv6
  expect_json connect.attempts.0.result refused
  expect_json connect.attempts.1.result connected
fi
check "localhost needed no DNS query" bash -c '! grep -q localhost "$1"' _ "$NX_LOG"

scenario "the text report lists the attempt that did not connect"
if have_ipv6_loopback; then
  "$PROBE" "${CA[@]}" "${ID_GOOD[@]}" "https://localhost:$V4_PORT/" >"$TMP/text.out" 2>&1 </dev/null
  check "TCP section: tried [::1]:$V4_PORT: connection refused" \
    grep -qE "tried \[::1\]:$V4_PORT: connection refused \([0-9.]+ ms\)" "$TMP/text.out"
else
  echo "  (skipped: ::1 is not configured)"
fi

scenario "-6 against a server on 127.0.0.1 only -> connect-failure"
probe "${CA[@]}" "${ID_GOOD[@]}" -6 "https://localhost:$V4_PORT/"
expect_verdict connect-failure 4
expect_json dns.addresses.0 "::1"
expect_json connect.attempts.0.family ipv6

scenario "-6 with an IPv4 literal -> dns-failure (no IPv6 address)"
probe "${CA[@]}" -6 "https://127.0.0.1:$V4_PORT/"
expect_verdict dns-failure 3
stop_pid "$V4_PID"

if have_ipv6_loopback; then
  start_serve v6 --bind ::1
  V6_PORT=$SERVE_PORT

  scenario "serve on [::1] only, probed as localhost -> ok via ::1"
  probe "${CA[@]}" "${ID_GOOD[@]}" "https://localhost:$V6_PORT/"
  expect_verdict ok 0
  expect_json connect.address "[::1]:$V6_PORT"
  expect_json connect.attempts.0.address "[::1]:$V6_PORT"
  expect_json connect.attempts.0.family ipv6
  expect_json connect.attempts.0.result connected

  scenario "-4 against serve on [::1] only -> connect-failure"
  probe "${CA[@]}" "${ID_GOOD[@]}" -4 "https://localhost:$V6_PORT/"
  expect_verdict connect-failure 4
  expect_json connect.attempts.0.address "127.0.0.1:$V6_PORT"
  expect_json connect.attempts.0.result refused

  scenario "-6 against serve on [::1] only -> ok"
  probe "${CA[@]}" "${ID_GOOD[@]}" -6 "https://localhost:$V6_PORT/"
  expect_verdict ok 0
  expect_json connect.address "[::1]:$V6_PORT"
else
  scenario "IPv6 scenarios"
  echo "  (skipped: ::1 is not configured on this machine)"
fi

finish
