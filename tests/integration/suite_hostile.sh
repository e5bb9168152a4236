#!/usr/bin/env bash
# Hostile peers (issue 4): servers that stall, drip, cut the handshake, speak garbage, flood the HTTP
# parser, list thousands of CA names, send 100-deep chains, renegotiate over and over, or storm alerts.
# Every probe must end in the contract's verdict within --max-time plus a margin, within a memory bound,
# without a crash (or a sanitizer report, on a sanitizer build).
#
# The bounds are measured in the same run, never tuned to one machine: a baseline probe (a good mTLS GET
# against a plain s_server) runs first, several times, with the same binary.
#  * memory: every probe's peak RSS may exceed the baseline's by at most RSS_GROWTH_LIMIT_KB (24 MB); on a
#    normal build it must also stay below RSS_ABS_LIMIT_KB (32 MB; a probe needs ~10-12 MB). Under ASan
#    every probe starts at ~50 MB (shadow memory, quarantine), so there only the growth bound applies. The
#    suite prints which bounds applied.
#  * time: --max-time + max(1 s, 3 x the baseline's wall time) (process start and exit are part of a
#    probe's wall time, and are slow under a sanitizer or on a loaded machine).
# Servers: tests/integration/hostile_server.py (python3 ssl/socket; one process, one port per mode) and
# openssl s_server (the CA-names list, deep chains, and renegotiation, which python's ssl cannot do).
# Peak RSS comes from GNU time (/usr/bin/time -f %M, Debian package "time"); without it, from VmHWM
# sampled in /proc while the probe runs.
# shellcheck disable=SC2119  # assert_no_password takes an optional argument
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

HOSTILE="$INTEG_DIR/hostile_server.py"
RSS_GROWTH_LIMIT_KB=$((24 * 1024))
RSS_ABS_LIMIT_KB=$((32 * 1024))
if probe_is_sanitized; then RSS_ABS_LIMIT_KB=0; fi  # 0: no absolute bound (set after the baseline)
BASE_RSS_KB=0
BASE_WALL_MS=0
ROWS=()  # the scenario table printed at the end

make_tmp
gen_pki

# ---------------------------------------------------------------------------------------------------
# measuring probe: like probe() in lib.sh (-v --json, empty cwd, secrets check), plus the peak RSS

RSS_KB=0
_hprobe_run() {  # sets RC, WALL_MS, RSS_KB
  OUT="$TMP/probe.out"
  ERR="$TMP/probe.err"
  local cwd="$TMP/probe-cwd" t0 t1
  rm -rf "$cwd" && mkdir -p "$cwd"
  RSS_KB=0
  t0=$(date +%s%N)
  if [[ -x /usr/bin/time ]]; then
    # time -> timeout -> probe: wait4's ru_maxrss covers the waited-for descendants, so this is the
    # probe's peak (timeout's own ~1 MB never exceeds it)
    (cd "$cwd" && exec /usr/bin/time -f '%M' -o "$TMP/rss" timeout -k 2 60 "$PROBE" -v --json "$@" \
      >"$OUT" 2>"$ERR" </dev/null)
    RC=$?
    RSS_KB=$(tail -n 1 "$TMP/rss" 2>/dev/null)
    [[ $RSS_KB =~ ^[0-9]+$ ]] || RSS_KB=0
  else
    (cd "$cwd" && exec "$PROBE" -v --json "$@" >"$OUT" 2>"$ERR" </dev/null) &
    local pid=$! i k v rest
    for ((i = 0; i < 3000; i++)); do  # 60 s at most
      while read -r k v rest; do
        [[ $k == VmHWM: ]] && ((v > RSS_KB)) && RSS_KB=$v
      done <"/proc/$pid/status" 2>/dev/null
      kill -0 "$pid" 2>/dev/null || break
      [[ $(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) == Z ]] && break
      sleep 0.02
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid"
    RC=$?
  fi
  t1=$(date +%s%N)
  WALL_MS=$(((t1 - t0) / 1000000))
}

_hprobe_after() {
  _load_json
  echo "  (probe exit $RC in ${WALL_MS}ms, peak RSS ${RSS_KB} KB)"
  _check_no_secrets
  ROWS+=("$(printf '%-64s %-22s %6sms %6s KB' "${SCENARIO:0:64}" "${J[verdict]//\"/}" "$WALL_MS" "$RSS_KB")")
}

# hprobe ARGS... — probe() of lib.sh (-v --json, empty cwd, secrets check) plus the peak RSS ($RSS_KB)
hprobe() {
  _hprobe_run "$@"
  _hprobe_after
}

# hprobe_bg ARGS... / hprobe_join — the same, with the probe in the background meanwhile (BG_PID)
hprobe_bg() {
  rm -f "$TMP/bg.vars"
  (
    _hprobe_run "$@"
    printf 'RC=%d WALL_MS=%d RSS_KB=%d\n' "$RC" "$WALL_MS" "$RSS_KB" >"$TMP/bg.vars"
  ) &
  BG_PID=$!
}
hprobe_join() {
  wait "$BG_PID"
  local kv
  read -r -a kv <"$TMP/bg.vars"
  RC=${kv[0]#RC=} WALL_MS=${kv[1]#WALL_MS=} RSS_KB=${kv[2]#RSS_KB=}
  _hprobe_after
}

# expect_bounded MAX_TIME_S — the hostile-peer invariants: done within MAX_TIME + the margin, peak RSS
# within the bounds measured against the baseline, no crash (signal exit, sanitizer report)
expect_bounded() {
  local limit_ms=$(($1 * 1000 + WALL_MARGIN_MS))
  expect_wall_below "$limit_ms"
  local growth=$((RSS_KB - BASE_RSS_KB))
  if ((RSS_KB > 0 && growth <= RSS_GROWTH_LIMIT_KB)); then
    _pass "peak RSS ${RSS_KB} KB: ${growth} KB over the baseline's ${BASE_RSS_KB} KB <= ${RSS_GROWTH_LIMIT_KB} KB"
  else
    _fail "peak RSS ${RSS_KB} KB: ${growth} KB over the baseline's ${BASE_RSS_KB} KB <= ${RSS_GROWTH_LIMIT_KB} KB (0: not measured)" "$(_evidence)"
  fi
  if ((RSS_ABS_LIMIT_KB > 0)); then
    if ((RSS_KB > 0 && RSS_KB < RSS_ABS_LIMIT_KB)); then
      _pass "peak RSS ${RSS_KB} KB < ${RSS_ABS_LIMIT_KB} KB"
    else
      _fail "peak RSS ${RSS_KB} KB < ${RSS_ABS_LIMIT_KB} KB (0: not measured)" "$(_evidence)"
    fi
  fi
  if ((RC < 124)) && ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:|Segmentation fault' "$ERR"; then
    _pass "no crash, no sanitizer report"
  else
    _fail "no crash, no sanitizer report (exit $RC)" "$(_evidence)"
  fi
}

# expect_stops_early MAX_TIME_S — the probe stopped on its own (a cap, a parse error), long before
# --max-time: under half of it
expect_stops_early() {
  expect_wall_below $(($1 * 1000 / 2))
}

# expect_json_le FIELD_PATH N — a numeric field is <= N
expect_json_le() {
  local path=$1 max=$2 got=${J[$1]-}
  if [[ $got =~ ^[0-9]+$ ]] && ((got <= max)); then
    _pass "$path = $got <= $max"
  else
    _fail "$path <= $max (got ${got:-<missing>})" "$(_evidence)"
  fi
}

# expect_array_len FIELD_PATH N — the array has exactly N elements
expect_array_len() {
  local path=$1 n=$2
  if [[ -n ${J[$path.$((n - 1))]+x} && -z ${J[$path.$n]+x} ]]; then
    _pass "$path has $n elements"
  else
    local i=0
    while [[ -n ${J[$path.$i]+x} ]]; do i=$((i + 1)); done
    _fail "$path has $n elements (got $i)" "$(_evidence)"
  fi
}

# ---------------------------------------------------------------------------------------------------
# servers

MODES=(silent drip-handshake mid-handshake close-after-client-cert garbage bad-record alert-storm
  alert-interleave drip tls-garbage close-no-notify endless-body endless-chunked huge-length
  big-header-line many-headers interim-storm)
read -r -a PORTS < <(free_port $((${#MODES[@]} + 8)))
declare -A HP=()
listeners=()
for i in "${!MODES[@]}"; do
  HP[${MODES[$i]}]=${PORTS[$i]}
  listeners+=("${MODES[$i]}=${PORTS[$i]}")
done
P_CANAMES13=${PORTS[-8]} P_CANAMES12=${PORTS[-7]} P_DEEP40=${PORTS[-6]} P_DEEP100=${PORTS[-5]}
P_DEEP101=${PORTS[-4]} P_RENEG=${PORTS[-3]} P_RENEG_STORM=${PORTS[-2]} P_BASE=${PORTS[-1]}

hd="$TMP/hostile"
mkdir -p "$hd"
"$PY" -I "$HOSTILE" --cert "$PKI/server-chain.pem" --key "$PKI/server.key" \
  --client-ca "$PKI/client-ca-bundle.pem" "${listeners[@]}" >"$hd/log" 2>&1 &
HOSTILE_PID=$!
track_pid "$HOSTILE_PID" hostile_server "$hd/log"
for ((i = 0; i < 250; i++)); do
  grep -q '^ready' "$hd/log" 2>/dev/null && break
  kill -0 "$HOSTILE_PID" 2>/dev/null || { cat "$hd/log" >&2; die "hostile_server.py died"; }
  sleep 0.02
done
((i < 250)) || die "hostile_server.py not ready"
url() { echo "https://localhost:${HP[$1]}/"; }

# --- a CA list of thousands of names. The names are short (CN=h00000): the list is a vector of at most
# 65535 bytes in TLS, and a server with more fails its own handshake (internal_error), so ~3,100 is the
# most a CertificateRequest can carry. 3000 made-up names (+ the real root and intermediate at the end,
# on the TLS 1.3 server): more than the probe keeps (1024), but the issuer match must still see them all.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$hd/tmpl.key" \
  -subj "/CN=h00000" -days 3650 -out "$hd/tmpl.pem" 2>/dev/null || die "template CA"
"$PY" -I "$HOSTILE" gen-ca-bundle "$hd/tmpl.pem" 3000 "$hd/ca-names.pem" || die "gen-ca-bundle"
cat "$hd/ca-names.pem" "$PKI/client-ca-bundle.pem" >"$hd/ca-names-plus-real.pem"
srv=(-cert "$PKI/server.crt" -key "$PKI/server.key" -cert_chain "$PKI/intermediate-ca.crt")
start_s_server canames13 "$P_CANAMES13" "${srv[@]}" -CAfile "$hd/ca-names-plus-real.pem" \
  -Verify 1 -verify_return_error -www
start_s_server canames12 "$P_CANAMES12" "${srv[@]}" -CAfile "$hd/ca-names.pem" \
  -Verify 1 -verify_return_error -www -tls1_2

# --- server chains: root -> 101 intermediates (one throw-away key for all, SKID = AKID everywhere;
# chain building goes by name); leaves under intermediate 40, 100 and 101.
mkdir -p "$hd/deep"
(
  cd "$hd/deep" || exit 1
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k.key 2>/dev/null || exit 1
  openssl req -x509 -new -key k.key -subj "/CN=deep root" -days 3650 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out c0.crt 2>/dev/null || exit 1
  for ((i = 1; i <= 101; i++)); do
    openssl req -new -key k.key -subj "/CN=deep ca $i" -days 3650 -CA "c$((i - 1)).crt" -CAkey k.key \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out "c$i.crt" 2>/dev/null || exit 1
  done
  for d in 40 100 101; do
    openssl req -new -key k.key -subj "/CN=localhost" -days 3650 -CA "c$d.crt" -CAkey k.key \
      -addext "basicConstraints=critical,CA:FALSE" -addext "extendedKeyUsage=serverAuth" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -out "leaf$d.crt" 2>/dev/null || exit 1
    : >"chain$d.pem"
    for ((i = d; i >= 1; i--)); do cat "c$i.crt" >>"chain$d.pem"; done
  done
) || die "could not generate the deep chains"
for d in 40 100 101; do
  port_var=P_DEEP$d
  start_s_server "deep$d" "${!port_var}" -cert "$hd/deep/leaf$d.crt" -key "$hd/deep/k.key" \
    -cert_chain "$hd/deep/chain$d.pem" -www
done

# --- renegotiation: interactive s_server (no -www) reads commands from stdin: "r" sends a HelloRequest,
# "R" one that also asks for a client certificate, other lines go to the client as data. Stdin is a fifo
# held open by this shell (fd 7/8). -no_ticket -no_cache make every renegotiation a full handshake.
# start_reneg NAME PORT FD — sets LAST_LOG
start_reneg() {
  local name=$1 port=$2 fd=$3 d="$TMP/s_server-$1" i
  mkdir -p "$d"
  mkfifo "$d/stdin"
  eval "exec $fd<>\"$d/stdin\""
  openssl s_server -accept "127.0.0.1:$port" "${srv[@]}" -CAfile "$PKI/client-ca-bundle.pem" -tls1_2 \
    -no_ticket -no_cache <"$d/stdin" >"$d/log" 2>&1 &
  LAST_PID=$!
  LAST_LOG="$d/log"
  track_pid "$LAST_PID" "s_server-$name" "$d/log"
  # not wait_port: a test connection would be served interactively
  for ((i = 0; i < 200; i++)); do
    grep -q '^ACCEPT' "$d/log" 2>/dev/null && return 0
    kill -0 "$LAST_PID" 2>/dev/null || break
    sleep 0.02
  done
  cat "$d/log" >&2
  die "s_server $name did not start"
}
start_reneg reneg "$P_RENEG" 7
RENEG_LOG=$LAST_LOG
start_reneg renegstorm "$P_RENEG_STORM" 8
RENEG_STORM_LOG=$LAST_LOG

# wait_request LOG — until s_server printed the probe's request line (at most 5 s)
wait_request() {
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q '^GET / HTTP/1.1' "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# ===================================================================================================
# the baseline the bounds are measured against: a good mTLS GET of a small page, the same binary, 3 times
start_s_server baseline "$P_BASE" "${srv[@]}" -CAfile "$PKI/client-ca-bundle.pem" -Verify 1 \
  -verify_return_error -www
scenario "baseline: good certificate against a plain s_server -> ok (x3: the bounds' reference)"
for _ in 1 2 3; do
  hprobe "${CACERT[@]}" "${ID_GOOD[@]}" -m 10 "https://localhost:$P_BASE/"
  expect_verdict ok 0
  ((RSS_KB > BASE_RSS_KB)) && BASE_RSS_KB=$RSS_KB
  ((WALL_MS > BASE_WALL_MS)) && BASE_WALL_MS=$WALL_MS
done
((BASE_RSS_KB > 0)) || die "the baseline probe's peak RSS could not be measured"
WALL_MARGIN_MS=$((3 * BASE_WALL_MS > 1000 ? 3 * BASE_WALL_MS : 1000))
if ((RSS_ABS_LIMIT_KB > 0)); then
  echo "bounds: peak RSS <= baseline ${BASE_RSS_KB} KB + ${RSS_GROWTH_LIMIT_KB} KB and < ${RSS_ABS_LIMIT_KB} KB" \
    "(normal build); wall <= --max-time + ${WALL_MARGIN_MS} ms"
else
  echo "bounds: peak RSS <= baseline ${BASE_RSS_KB} KB + ${RSS_GROWTH_LIMIT_KB} KB (sanitizer build: no" \
    "absolute bound); wall <= --max-time + ${WALL_MARGIN_MS} ms"
fi

# ===================================================================================================
# stalls

scenario "accepts and never speaks, -m 2 -> timeout (tls phase)"
hprobe "${CACERT[@]}" -m 2 "$(url silent)"
expect_verdict timeout 5
expect_json timed_out_in tls
expect_bounded 2

scenario "drips the real ServerHello flight one byte per second, -m 2 -> timeout (tls phase)"
hprobe "${CACERT[@]}" -m 2 "$(url drip-handshake)"
expect_verdict timeout 5
expect_json timed_out_in tls
expect_bounded 2

scenario "good handshake, then a valid 200 response one byte per second, -m 2 -> timeout (http phase)"
hprobe "${CACERT[@]}" -m 2 "$(url drip)"
expect_verdict timeout 5
expect_json timed_out_in http
expect_json tls.version TLSv1.3
expect_bounded 2

# ===================================================================================================
# the TLS layer broken

scenario "closes mid-handshake (half the server flight, then FIN) -> tls-handshake-failure"
hprobe "${CACERT[@]}" -m 5 "$(url mid-handshake)"
expect_verdict tls-handshake-failure 6
expect_json tls.version TLSv1.3  # the ServerHello arrived before the close
expect_json tls.alert null  # the peer sent none (and we answered the EOF with none: no decode_error)
expect_json_contains summary "closed the connection during the TLS handshake"
expect_bounded 5

scenario "TLS 1.2 server closes when our certificate arrives, with an identity -> client-cert-rejected"
hprobe "${CACERT[@]}" "${ID_GOOD[@]}" -m 5 "$(url close-after-client-cert)"
expect_verdict client-cert-rejected 9
expect_json tls.client_cert_sent true
expect_json tls.alert null
expect_bounded 5

scenario "TLS 1.2 server closes when our (empty) certificate arrives, no identity -> client-cert-required"
hprobe "${CACERT[@]}" -m 5 "$(url close-after-client-cert)"
expect_verdict client-cert-required 8
expect_json tls.client_cert_requested true
expect_json tls.client_cert_sent false
expect_bounded 5

scenario "garbage instead of TLS (4 MB of it) -> tls-handshake-failure"
hprobe "${CACERT[@]}" -m 5 "$(url garbage)"
expect_verdict tls-handshake-failure 6
expect_json tls.version null
expect_bounded 5

scenario "a TLS record header announcing 65535 bytes, then junk -> tls-handshake-failure"
hprobe "${CACERT[@]}" -m 5 "$(url bad-record)"
expect_verdict tls-handshake-failure 6
expect_bounded 5

scenario "alert storm: 100,000 warning alerts instead of a ServerHello -> tls-handshake-failure (ours)"
# OpenSSL gives up at the 5th warning in a row and sends unexpected_message ("too many warn alerts")
hprobe "${CACERT[@]}" -m 10 "$(url alert-storm)"
expect_verdict tls-handshake-failure 6
expect_json tls.alert.name unexpected_message
expect_json tls.alert.from client
expect_bounded 10
expect_stops_early 10

scenario "4 warning alerts before every TLS 1.2 handshake record, then 200 -> ok (warnings are not fatal)"
hprobe "${CACERT[@]}" -m 5 "$(url alert-interleave)"
expect_verdict ok 0
expect_json tls.version TLSv1.2
expect_json tls.alert null
expect_json http.status 200
expect_json tls.alerts.0.name unrecognized_name
expect_json tls.alerts.0.fatal false
expect_bounded 5

# ===================================================================================================
# HTTP broken after a good handshake

scenario "garbage instead of HTTP after a good handshake -> protocol-error"
hprobe "${CACERT[@]}" -m 5 "$(url tls-garbage)"
expect_verdict protocol-error 11
expect_json_not_null tls.version
expect_json_contains http.error "not an HTTP response"
expect_bounded 5

scenario "200, read-until-close body, TCP close without close_notify -> ok (an EOF, as curl/OpenSSL 1.1)"
hprobe "${CACERT[@]}" -m 5 "$(url close-no-notify)"
expect_verdict ok 0
expect_json http.status 200
expect_json tls.alert null
expect_bounded 5

for mode in endless-body endless-chunked huge-length; do
  scenario "$mode: 200 and a body that never ends -> ok at the 1 MiB body cap, fast"
  hprobe "${CACERT[@]}" -m 10 "$(url "$mode")"
  expect_verdict ok 0
  expect_json http.status 200
  expect_json http.error null
  expect_json_le http.body_bytes $((1024 * 1024))
  expect_bounded 10
  expect_stops_early 10  # stops at the cap, not at --max-time
done

scenario "a 1 MiB header line -> protocol-error"
hprobe "${CACERT[@]}" -m 10 "$(url big-header-line)"
expect_verdict protocol-error 11
expect_json_contains http.error "exceed"
expect_bounded 10
expect_stops_early 10

scenario "100,000 headers -> protocol-error"
hprobe "${CACERT[@]}" -m 10 "$(url many-headers)"
expect_verdict protocol-error 11
expect_json_contains http.error "headers"
expect_bounded 10
expect_stops_early 10

scenario "endless '100 Continue' interim responses -> protocol-error"
hprobe "${CACERT[@]}" -m 10 "$(url interim-storm)"
expect_verdict protocol-error 11
expect_json http.status null
expect_bounded 10
expect_stops_early 10

# ===================================================================================================
# a CertificateRequest with 3000 CA names (s_server -CAfile, -Verify 1 -verify_return_error)

scenario "3000 CA names + the real CAs at the end, TLS 1.3, no certificate -> client-cert-required"
hprobe "${CACERT[@]}" -m 5 "https://localhost:$P_CANAMES13/"
expect_verdict client-cert-required 8
expect_json tls.client_cert_requested true
expect_json tls.alert.name certificate_required
expect_array_len tls.acceptable_ca_names 1024  # the probe keeps at most 1024
expect_bounded 5

scenario "3000 CA names + the real CAs at the end, TLS 1.3, good certificate -> ok, issuer found past 1024"
hprobe "${CACERT[@]}" "${ID_GOOD[@]}" -m 5 "https://localhost:$P_CANAMES13/"
expect_verdict ok 0
expect_json tls.client_cert_sent true
expect_json client_cert.issuer_in_acceptable_ca_names true
expect_array_len tls.acceptable_ca_names 1024
expect_bounded 5

scenario "3000 made-up CA names, TLS 1.2, no certificate -> client-cert-required"
hprobe "${CACERT[@]}" -m 5 "https://localhost:$P_CANAMES12/"
expect_verdict client-cert-required 8
expect_json tls.version TLSv1.2  # negotiated before the handshake failed
expect_json tls.alert.name handshake_failure
expect_array_len tls.acceptable_ca_names 1024
expect_bounded 5

scenario "3000 made-up CA names, TLS 1.2, good certificate (issuer not listed) -> client-cert-rejected"
hprobe "${CACERT[@]}" "${ID_GOOD[@]}" -m 5 "https://localhost:$P_CANAMES12/"
expect_verdict client-cert-rejected 9
expect_json tls.alert.name unknown_ca
expect_json client_cert.issuer_in_acceptable_ca_names false
expect_bounded 5

# ===================================================================================================
# deep server chains. OpenSSL's default verify depth is 100: the leaf, at most 100 intermediates, and
# the trust anchor (SSL_CTX_set_verify_depth(3)); the probe keeps that default.

scenario "server chain of 40 intermediates, --cacert root -> ok"
hprobe --cacert "$hd/deep/c0.crt" -m 5 "https://localhost:$P_DEEP40/"
expect_verdict ok 0
expect_json server_cert.verify_error null
expect_bounded 5

scenario "server chain of 100 intermediates (the default depth limit) -> ok"
hprobe --cacert "$hd/deep/c0.crt" -m 5 "https://localhost:$P_DEEP100/"
expect_verdict ok 0
expect_bounded 5

scenario "server chain of 101 intermediates -> server-cert-untrusted (certificate chain too long)"
hprobe --cacert "$hd/deep/c0.crt" -m 5 "https://localhost:$P_DEEP101/"
expect_verdict server-cert-untrusted 7
expect_json_contains server_cert.verify_error "chain too long"
expect_bounded 5

# ===================================================================================================
# renegotiation (TLS 1.2, s_server driven through its stdin)

scenario "10 server renegotiations (one asking for a certificate) before the response -> ok"
hprobe_bg "${CACERT[@]}" -m 5 "https://localhost:$P_RENEG/"
if wait_request "$RENEG_LOG"; then
  for ((i = 1; i <= 10; i++)); do
    if ((i == 5)); then printf 'R\n' >&7; else printf 'r\n' >&7; fi
    sleep 0.1  # one command per read of s_server's stdin
  done
  printf 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n' >&7
fi
hprobe_join
expect_verdict ok 0
expect_json tls.version TLSv1.2
expect_json tls.client_cert_requested true
expect_json tls.client_cert_request_phase renegotiation
expect_json http.status 200
check "the probe went through 10 renegotiations (HelloRequest x10 in the -v trace)" \
  test "$(grep -c 'HelloRequest' "$ERR")" -ge 10
expect_bounded 5

scenario "renegotiation every 50 ms and never a response, -m 2 -> timeout (http phase)"
hprobe_bg "${CACERT[@]}" -m 2 "https://localhost:$P_RENEG_STORM/"
if wait_request "$RENEG_STORM_LOG"; then
  for ((i = 0; i < 80; i++)); do  # at most 4 s; stops when the probe is gone
    kill -0 "$BG_PID" 2>/dev/null || break
    printf 'r\n' >&8
    sleep 0.05
  done
fi
hprobe_join
expect_verdict timeout 5
expect_json timed_out_in http
check "the probe went through renegotiations (HelloRequest in the -v trace)" grep -q 'HelloRequest' "$ERR"
expect_bounded 2

exec 7>&- 8>&-

echo
printf '%-64s %-22s %8s %9s\n' scenario verdict wall "peak RSS"
printf '%s\n' "${ROWS[@]}"
finish
