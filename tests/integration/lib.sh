# lib.sh — sourced by tests/integration/suite_*.sh and curl_compare.sh.
# shellcheck disable=SC2034  # the variables set here are used by the suites that source this file
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"     # $1 = path to the mtls-probe binary
#
# Real servers (nginx, apache2, openssl s_server, python listeners) run in the foreground on
# 127.0.0.1 high ports, each with its own config/pid/logs in the suite's temp dir, and are stopped by
# pid on exit (also on failure or interrupt). The PKI is generated per suite by scripts/gen-pki.sh.
#
# The PKCS#12 password lives only in the environment variable named by $PW_ENV; it is passed to the
# probe with --p12-password-env and must never show up in output (assert_no_password checks this).
# Do not `set -x` in suites.

set -u
set -o pipefail
# Traffic stays on loopback: a proxy from the CI's environment must not carry the suites' probes (or curl's)
# anywhere. suite_proxy sets these per probe.
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

PROBE=${1:-}
# Absolute: every probe runs in its own empty working directory.
if [[ -n $PROBE && -e $PROBE ]]; then PROBE=$(realpath "$PROBE"); fi
INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=${MTLS_PROBE_SOURCE_DIR:-$(cd "$INTEG_DIR/../.." && pwd)}
if [[ -x /usr/bin/python3 ]]; then PY=/usr/bin/python3; else PY=python3; fi
HELPER="$INTEG_DIR/helper.py"
# shellcheck source=nginx_conf.sh
source "$INTEG_DIR/nginx_conf.sh"

export MTLS_TEST_P12_PASSWORD=${MTLS_TEST_P12_PASSWORD:-mtls-probe-test-pw-7Qz}
PW_ENV=MTLS_TEST_P12_PASSWORD

PASS_COUNT=0
FAIL_COUNT=0
FAILED_CHECKS=()
SCENARIO="(none)"
declare -a _PIDS=()
declare -A _PID_NAME=()
declare -A _PID_LOG=()
TMP=""
PKI=""
SUITE_START_NS=$(date +%s%N)

# ---------------------------------------------------------------------------------------------------
# temp dir, cleanup, processes

stop_all() {
  local pid
  for pid in "${_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null; fi
  done
  for pid in "${_PIDS[@]}"; do
    # bounded wait (~3 s) then KILL, so a hung server cannot hang the suite
    local i
    for ((i = 0; i < 60; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; fi
    wait "$pid" 2>/dev/null
  done
  _PIDS=()
}

stop_pid() {  # stop_pid PID — stop one server started by this suite
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  local rest=() p
  for p in "${_PIDS[@]}"; do [[ $p == "$pid" ]] || rest+=("$p"); done
  _PIDS=("${rest[@]}")
}

_cleanup() {
  local rc=$?
  stop_all
  _release_ports 2>/dev/null
  if [[ -n $TMP && -d $TMP ]]; then
    if [[ ${KEEP_TMP:-0} == 1 ]]; then
      echo "kept temp dir: $TMP" >&2
    else
      rm -rf "$TMP"
    fi
  fi
  return $rc
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

make_tmp() {
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/mtls-integ.XXXXXX")
  chmod 755 "$TMP"
}

# track_pid PID NAME LOGFILE
track_pid() {
  _PIDS+=("$1")
  _PID_NAME[$1]=$2
  _PID_LOG[$1]=${3:-}
}

# gen_pki — makes $PKI and the identity argument arrays used by the suites:
#   CACERT       --cacert <root>                  (trust for the test servers)
#   ID_GOOD      modern .p12 of the good client   ID_LEGACY  legacy .p12 of the same client
#   ID_OTHER / ID_EXPIRED / ID_NOTYET / ID_SERVERAUTH   .p12 of the bad client identities
#   PEM_GOOD     --cert client-good.crt --key client-good.key
gen_pki() {
  PKI="$TMP/pki"
  if ! bash "$SRC_DIR/scripts/gen-pki.sh" "$PKI" >"$TMP/gen-pki.log" 2>&1; then
    echo "FATAL: gen-pki.sh failed:" >&2
    cat "$TMP/gen-pki.log" >&2
    exit 2
  fi
  CACERT=(--cacert "$PKI/ca.pem")
  ID_GOOD=(--p12 "$PKI/client-good.p12" --p12-password-env "$PW_ENV")
  ID_LEGACY=(--p12 "$PKI/client-good-legacy.p12" --p12-password-env "$PW_ENV")
  ID_OTHER=(--p12 "$PKI/client-other.p12" --p12-password-env "$PW_ENV")
  ID_EXPIRED=(--p12 "$PKI/client-expired.p12" --p12-password-env "$PW_ENV")
  ID_NOTYET=(--p12 "$PKI/client-notyet.p12" --p12-password-env "$PW_ENV")
  ID_SERVERAUTH=(--p12 "$PKI/client-serverauth.p12" --p12-password-env "$PW_ENV")
  PEM_GOOD=(--cert "$PKI/client-good.crt" --key "$PKI/client-good.key")
  # An nginx server block's TLS lines for this PKI (server chain, TLS 1.2-1.3, the client CA bundle);
  # the suites add ssl_verify_client and their locations.
  NGINX_TLS="    server_name localhost;
    ssl_certificate $PKI/server-chain.pem;
    ssl_certificate_key $PKI/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_client_certificate $PKI/client-ca-bundle.pem;
    ssl_verify_depth 3;"
}

# free_port [N] — prints N (default 1) distinct TCP ports that are free on 127.0.0.1 now and reserved for
# this suite until it exits. They are picked at random below the kernel's ephemeral range (so an outgoing
# connection cannot take one before our server binds it), checked by binding them, and claimed with an
# atomic mkdir in $PORT_LOCK_DIR, so that suites running at once (ctest -j) never pick the same port even
# when a server (nginx, apache2, s_server) cannot bind port 0 and tell us which one it got. A claim whose
# owner is gone is taken over; _cleanup releases ours.
PORT_LOCK_DIR=${MTLS_PROBE_PORT_LOCKS:-${TMPDIR:-/tmp}/mtls-probe-port-locks}
SUITE_PID=$$
free_port() {
  "$PY" -I - "${1:-1}" "$PORT_LOCK_DIR" "$SUITE_PID" <<'PYEOF'
import os, random, shutil, socket, sys
want, lock_dir, owner = int(sys.argv[1]), sys.argv[2], sys.argv[3]
os.makedirs(lock_dir, mode=0o777, exist_ok=True)
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
lo, hi = 20000, max(low, 20000 + 2000)

def alive(pid):
    try:
        os.kill(int(pid), 0)
        return True
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True

def claim(port):
    path = os.path.join(lock_dir, str(port))
    for _ in range(2):
        try:
            os.mkdir(path)
        except FileExistsError:
            try:
                holder = open(os.path.join(path, "owner")).read().strip()
            except OSError:
                return False  # being claimed right now
            if alive(holder):
                return False
            shutil.rmtree(path, ignore_errors=True)  # stale: its suite is gone
            continue
        with open(os.path.join(path, "owner"), "w") as f:
            f.write(owner)
        return True
    return False

picked = []
for _ in range(5000):
    if len(picked) == want:
        break
    p = random.randrange(lo, hi)
    if p in picked:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    if claim(p):
        picked.append(p)
if len(picked) < want:
    sys.exit("no free ports found")
print(" ".join(map(str, picked)))
PYEOF
}

_release_ports() {  # removes this suite's claims (see free_port)
  local d
  for d in "$PORT_LOCK_DIR"/*/; do
    [[ -f ${d}owner && $(<"${d}owner") == "$SUITE_PID" ]] && rm -rf "$d"
  done
}

port_open() {  # port_open PORT — true if 127.0.0.1:PORT accepts a TCP connection
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_port() {  # wait_port PORT PID [SECONDS] — until the port accepts, the process dies, or timeout
  local port=$1 pid=$2 secs=${3:-10} i
  for ((i = 0; i < secs * 20; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "FATAL: ${_PID_NAME[$pid]:-server} (pid $pid) exited before listening on $port" >&2
      [[ -n ${_PID_LOG[$pid]:-} && -f ${_PID_LOG[$pid]} ]] && tail -n 30 "${_PID_LOG[$pid]}" >&2
      return 1
    fi
    port_open "$port" && return 0
    sleep 0.05
  done
  echo "FATAL: ${_PID_NAME[$pid]:-server} not listening on $port after ${secs}s" >&2
  [[ -n ${_PID_LOG[$pid]:-} && -f ${_PID_LOG[$pid]} ]] && tail -n 30 "${_PID_LOG[$pid]}" >&2
  return 1
}

die() { echo "FATAL: $*" >&2; exit 2; }

# probe_is_sanitized — true for an ASan/UBSan build of $PROBE: ctest says so (MTLS_PROBE_SANITIZED, set
# from the CMake option); run by hand, the binary tells: gcc links libasan dynamically, clang statically.
probe_is_sanitized() {
  case ${MTLS_PROBE_SANITIZED:-} in
    1) return 0 ;;
    0) return 1 ;;
  esac
  local deps
  deps=$(ldd "$PROBE" 2>/dev/null || true)  # not `ldd | grep -q`: SIGPIPE under pipefail
  [[ $deps == *libasan* || $deps == *libubsan* ]] || grep -qa __asan_init "$PROBE"
}

# ---------------------------------------------------------------------------------------------------
# servers. Each start_* sets LAST_PID and LAST_DIR; the caller passes the port(s) inside the config.

# start_nginx NAME CONF_BODY WAIT_PORT — CONF_BODY is the inside of the http { } block.
start_nginx() {
  local name=$1 body=$2 port=$3
  local d="$TMP/nginx-$name"
  mkdir -p "$d/logs" "$d/tmp"
  chmod 755 "$d" "$d/logs" "$d/tmp"
  nginx_conf "$d" 1 64 info "$body" >"$d/nginx.conf"
  /usr/sbin/nginx -p "$d" -e "$d/logs/error.log" -c "$d/nginx.conf" -g 'daemon off;' \
    >"$d/logs/stdout.log" 2>&1 &
  LAST_PID=$!
  LAST_DIR=$d
  track_pid "$LAST_PID" "nginx-$name" "$d/logs/error.log"
  wait_port "$port" "$LAST_PID" || die "nginx $name did not start"
}

# start_apache NAME CONF_BODY WAIT_PORT... — CONF_BODY: Listen lines and vhosts.
start_apache() {
  local name=$1 body=$2
  shift 2
  local d="$TMP/apache-$name"
  mkdir -p "$d/logs" "$d/run" "$d/htdocs"
  chmod 755 "$d" "$d/logs" "$d/run" "$d/htdocs"
  printf 'hello from apache\n' >"$d/htdocs/index.html"
  chmod 644 "$d/htdocs/index.html"
  local m=/usr/lib/apache2/modules
  local user_lines=""
  if [[ $(id -u) == 0 ]]; then
    user_lines=$'User www-data\nGroup www-data'
    id www-data >/dev/null 2>&1 || user_lines=$'User nobody\nGroup nogroup'
  fi
  cat >"$d/httpd.conf" <<EOF
ServerRoot "$d"
ServerName localhost
LoadModule mpm_event_module $m/mod_mpm_event.so
LoadModule authz_core_module $m/mod_authz_core.so
LoadModule mime_module $m/mod_mime.so
LoadModule dir_module $m/mod_dir.so
LoadModule socache_shmcb_module $m/mod_socache_shmcb.so
LoadModule ssl_module $m/mod_ssl.so
$user_lines
PidFile $d/run/httpd.pid
DefaultRuntimeDir $d/run
Mutex file:$d/run default
ErrorLog $d/logs/error.log
LogLevel info ssl:info
LogFormat "%h %l %u %t \"%r\" %>s %b" common
CustomLog $d/logs/access.log common
StartServers 1
ServerLimit 1
ThreadsPerChild 16
MaxRequestWorkers 16
Timeout 10
KeepAlive Off
TypesConfig /dev/null
AddType text/html .html
DirectoryIndex index.html
DocumentRoot "$d/htdocs"
<Directory />
  Require all granted
</Directory>
SSLSessionCache shmcb:$d/run/ssl_scache(512000)
SSLRandomSeed startup builtin
$body
EOF
  /usr/sbin/apache2 -d "$d" -f "$d/httpd.conf" -DFOREGROUND >"$d/logs/stdout.log" 2>&1 &
  LAST_PID=$!
  LAST_DIR=$d
  track_pid "$LAST_PID" "apache-$name" "$d/logs/error.log"
  local p
  for p in "$@"; do
    wait_port "$p" "$LAST_PID" || { cat "$d/logs/stdout.log" >&2; die "apache $name did not start"; }
  done
}

# start_s_server NAME PORT ARGS... — openssl s_server on 127.0.0.1:PORT
start_s_server() {
  local name=$1 port=$2
  shift 2
  local d="$TMP/s_server-$name"
  mkdir -p "$d"
  # stdin from a fifo-less source that stays open: s_server quits on EOF of stdin in some modes
  openssl s_server -accept "127.0.0.1:$port" "$@" </dev/null >"$d/log" 2>&1 &
  LAST_PID=$!
  LAST_DIR=$d
  track_pid "$LAST_PID" "s_server-$name" "$d/log"
  wait_port "$port" "$LAST_PID" || die "s_server $name did not start"
}

# start_python_listener NAME PORT MODE [NAME PORT MODE]... — starts all, then waits until each is
# ready. Sets LISTENER_DIR[NAME] (its dir; 'record' mode logs to LISTENER_DIR[NAME]/connections).
# Modes (see helper.py):
#   silent        accept and never answer (hold the connection open)
#   http-plain    plain TCP: on any input, answer "HTTP/1.0 200 OK\r\n\r\nhello" and close
#   garbage       plain TCP: on any input, answer non-TLS bytes and close
#   record        plain TCP: record every accepted connection in DIR/connections, then close
#   tls-close     TLS (server-chain.pem): complete the handshake, read the request, close without answering
#   tls-garbage   TLS: complete the handshake, read the request, answer non-HTTP garbage, close
#   tls-truncated TLS: answer a response whose body is shorter than its Content-Length, close
#   tls-h2-*      TLS with ALPN h2, then a broken HTTP/2 peer: -silent (no SETTINGS, no answer), -goaway
#                 (GOAWAY PROTOCOL_ERROR), -rst (RST_STREAM REFUSED_STREAM), -garbage (HTTP/1.1 bytes),
#                 -headers (100,000 header fields through CONTINUATION), -endless (DATA that never ends)
declare -A LISTENER_DIR=()
start_python_listener() {
  local started=() name port mode d pid
  while (($# >= 3)); do
    name=$1 port=$2 mode=$3
    shift 3
    d="$TMP/py-$name"
    mkdir -p "$d"
    : >"$d/connections"
    "$PY" -I "$HELPER" listen --port "$port" --mode "$mode" --record "$d/connections" \
      --cert "$PKI/server-chain.pem" --key "$PKI/server.key" >"$d/log" 2>&1 &
    pid=$!
    track_pid "$pid" "py-$name" "$d/log"
    LISTENER_DIR[$name]=$d
    LAST_PID=$pid
    LAST_DIR=$d
    started+=("$pid:$d")
  done
  # wait on the ready line, not by connecting: a connection would count in 'record' mode
  local entry i
  for entry in "${started[@]}"; do
    pid=${entry%%:*} d=${entry#*:}
    for ((i = 0; i < 200; i++)); do
      grep -q '^ready' "$d/log" 2>/dev/null && break
      kill -0 "$pid" 2>/dev/null || { cat "$d/log" >&2; die "python listener ${_PID_NAME[$pid]} died"; }
      sleep 0.02
    done
    ((i < 200)) || die "python listener ${_PID_NAME[$pid]} not ready"
  done
}

# start_serve NAME ARGS... — `mtls-probe serve --port 0 ARGS` in the background (binary: $SERVE_BIN, else
# $PROBE); waits for its "listening on" line. Sets SERVE_PID, SERVE_URL (https://127.0.0.1:PORT/),
# SERVE_OUT (stdout) and SERVE_LOG (stderr). Port 0: the kernel picks the port, serve prints it.
start_serve() {
  local name=$1 i
  shift
  local d="$TMP/serve-$name"
  mkdir -p "$d"
  SERVE_OUT="$d/out"
  SERVE_LOG="$d/err"
  SERVE_URL=""
  "${SERVE_BIN:-$PROBE}" serve --port 0 "$@" >"$SERVE_OUT" 2>"$SERVE_LOG" </dev/null &
  SERVE_PID=$!
  track_pid "$SERVE_PID" "serve-$name" "$SERVE_LOG"
  for ((i = 0; i < 200; i++)); do
    SERVE_URL=$(sed -n 's/^listening on \(https:\/\/.*\)$/\1/p' "$SERVE_OUT")
    [[ -n $SERVE_URL ]] && return 0
    if ! kill -0 "$SERVE_PID" 2>/dev/null; then
      cat "$SERVE_LOG" >&2
      die "serve $name exited before listening"
    fi
    sleep 0.05
  done
  cat "$SERVE_LOG" >&2
  die "serve $name printed no 'listening on' line"
}

# start_ocsp_responder NAME PORT INDEX CA_CERT SIGNER_CERT SIGNER_KEY — `openssl ocsp` answering for the CA
# whose certificates INDEX (openssl ca's index.txt) lists, signed by SIGNER (the CA, or a responder it
# delegated). OpenSSL 3.0's -port takes a number only (it listens on every address); the suites ask it on
# 127.0.0.1. Ready when it logs so, never by connecting: an empty connection (wait_port's) leaves
# OpenSSL 3.0's responder stuck for good. Sets LAST_PID, LAST_DIR (its log: LAST_DIR/log).
start_ocsp_responder() {
  local name=$1 port=$2 index=$3 ca=$4 signer=$5 key=$6
  local d="$TMP/ocsp-$name"
  mkdir -p "$d"
  openssl ocsp -index "$index" -port "$port" -CA "$ca" -rsigner "$signer" -rkey "$key" -nmin 60 \
    </dev/null >"$d/log" 2>&1 &
  LAST_PID=$!
  LAST_DIR=$d
  track_pid "$LAST_PID" "ocsp-$name" "$d/log"
  local i
  for ((i = 0; i < 200; i++)); do
    grep -q 'waiting for OCSP client connections' "$d/log" 2>/dev/null && return 0
    kill -0 "$LAST_PID" 2>/dev/null || { cat "$d/log" >&2; die "OCSP responder $name exited"; }
    sleep 0.05
  done
  die "OCSP responder $name is not ready"
}

# start_fake_dns NAME MODE — fake_dns.py (nxdomain | silent) on 127.0.0.1 in the background; sets DNS_PORT,
# DNS_LOG. Probes that must fail a lookup point --dns-servers at it: no query ever leaves loopback.
start_fake_dns() {
  local name=$1 mode=$2 d="$TMP/dns-$1" i pid
  mkdir -p "$d"
  DNS_LOG="$d/queries"
  : >"$DNS_LOG"
  "$PY" -I "$INTEG_DIR/fake_dns.py" --mode "$mode" --log "$DNS_LOG" >"$d/out" 2>"$d/err" </dev/null &
  pid=$!
  track_pid "$pid" "dns-$name" "$d/err"
  for ((i = 0; i < 200; i++)); do
    DNS_PORT=$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$d/out")
    [[ -n $DNS_PORT ]] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$d/err" >&2; die "fake DNS server $name died"; }
    sleep 0.02
  done
  die "fake DNS server $name printed no ready line"
}

# ---------------------------------------------------------------------------------------------------
# probing and assertions
#
# After each probe, helper.py flattens stdout once into "path<TAB>compact-json" lines (J[path]);
# the expect_* functions then compare in bash, so a check costs no extra process.

# scenario "TITLE" — names the following checks in the output
scenario() {
  SCENARIO=$1
  echo "--- $SCENARIO"
}

# probe ARGS... — runs "$PROBE" --json ARGS, capturing stdout ($OUT), stderr ($ERR), exit code
# ($RC) and wall time in ms ($WALL_MS). Always returns 0.
OUT=""
ERR=""
RC=0
WALL_MS=0
ONE_OBJECT_MSG=""
declare -A J=()
probe() {
  OUT="$TMP/probe.out"
  ERR="$TMP/probe.err"
  local t0 t1
  t0=$(date +%s%N)
  if [[ -z $PROBE || ! -x $PROBE ]]; then
    : >"$OUT"
    echo "probe binary not found: '${PROBE}'" >"$ERR"
    RC=127
  else
    # hard guard: a hung probe must not hang the suite. Every probe runs with -v (the most it ever
    # prints) in an empty working directory, so that _check_no_secrets can see all it wrote.
    local cwd="$TMP/probe-cwd"
    rm -rf "$cwd" && mkdir -p "$cwd"
    (cd "$cwd" && exec timeout -k 2 60 "$PROBE" -v --json "$@" >"$OUT" 2>"$ERR" </dev/null)
    RC=$?
  fi
  t1=$(date +%s%N)
  WALL_MS=$(((t1 - t0) / 1000000))
  _load_json
  echo "  (probe exit $RC in ${WALL_MS}ms)"
  _check_no_secrets
  return 0
}

# _check_no_secrets — after every probe: neither the test password nor any fragment of any private key
# of the suite's PKI (or of SECRET_KEY_DIRS, colon-separated) is in stdout/stderr, and no file was written.
_check_no_secrets() {
  local msg
  if msg=$("$PY" -I "$HELPER" no-secrets "$PW_ENV" "$TMP/probe-cwd" "${PKI:-}:${SECRET_KEY_DIRS:-}" \
    "$OUT" "$ERR" 2>&1); then
    _pass "no password or private key bytes in the output (-v --json), no file written"
  else
    _fail "no password or private key bytes in the output (-v --json), no file written ($msg)"
  fi
}

_load_json() {
  J=()
  ONE_OBJECT_MSG="not checked"
  local key val
  while IFS=$'\t' read -r key val; do
    if [[ $key == __one_object__ ]]; then
      ONE_OBJECT_MSG=$val
    else
      J[$key]=$val
    fi
  done < <("$PY" -I "$HELPER" flatten "$OUT")
}

_pass() {
  PASS_COUNT=$((PASS_COUNT + 1))
  echo "  ok   $1"
}

_fail() {
  FAIL_COUNT=$((FAIL_COUNT + 1))
  FAILED_CHECKS+=("$SCENARIO: $1")
  echo "  FAIL $1"
  if [[ -n ${2:-} ]]; then
    printf '%s\n' "$2" | sed 's/^/       /'
  fi
}

# _evidence — the main facts of the last probe for a failing check (password-free: the password never
# reaches the probe's command line, and redaction happens inside bash)
_evidence() {
  local text k facts=""
  for k in verdict exit_code summary tls.version tls.alert tls.client_cert_requested \
    tls.client_cert_sent http.status server_cert.verify_error usage_error identity.error; do
    [[ -n ${J[$k]+x} ]] && facts+="$k=${J[$k]}  "
  done
  text="exit=$RC wall=${WALL_MS}ms  $facts
stderr: $(tail -c 400 "$ERR" 2>/dev/null)"
  [[ -z ${J[verdict]+x} ]] && text+="
stdout: $(head -c 400 "$OUT" 2>/dev/null)"
  printf '%s\n' "${text//"$MTLS_TEST_P12_PASSWORD"/<REDACTED>}"
}

# check NAME CMD... — generic: passes when CMD succeeds
check() {
  local name=$1
  shift
  if "$@"; then _pass "$name"; else _fail "$name" "$(_evidence)"; fi
}

# _canon VALUE — the compact JSON text for an expected VALUE: true/false/null/integers/[]/{} as they
# are, an already quoted "string" as it is, anything else as a JSON string
_canon() {
  local v=$1
  if [[ $v =~ ^(true|false|null|-?[0-9]+)$ || $v =~ ^\".*\"$ || $v == "[]" || $v == "{}" ]]; then
    printf '%s' "$v"
  else
    v=${v//\\/\\\\}
    v=${v//\"/\\\"}
    printf '"%s"' "$v"
  fi
}

# expect_one_json — stdout is exactly one JSON object (and nothing else)
expect_one_json() {
  if [[ $ONE_OBJECT_MSG == ok ]]; then
    _pass "stdout is exactly one JSON object"
  else
    _fail "stdout is exactly one JSON object ($ONE_OBJECT_MSG)" "$(_evidence)"
  fi
}

# expect_json FIELD_PATH VALUE — dotted path (tls.alert.name); VALUE true/false/null/number/string
expect_json() {
  local path=$1 want
  want=$(_canon "$2")
  if [[ -z ${J[$path]+x} ]]; then
    _fail "$path == $2 (field missing)" "$(_evidence)"
  elif [[ ${J[$path]} == "$want" ]]; then
    _pass "$path == $2"
  else
    _fail "$path == $2 (got ${J[$path]})" "$(_evidence)"
  fi
}

# expect_json_contains FIELD_PATH SUBSTRING — string field contains SUBSTRING (case-insensitive)
expect_json_contains() {
  local path=$1 want=$2
  local got=${J[$path]-}
  if [[ -z ${J[$path]+x} ]]; then
    _fail "$path contains '$want' (field missing)" "$(_evidence)"
  elif [[ $got != \"* ]]; then
    _fail "$path contains '$want' (got $got, not a string)" "$(_evidence)"
  elif [[ ${got,,} == *"${want,,}"* ]]; then
    _pass "$path contains '$want'"
  else
    _fail "$path contains '$want' (got $got)" "$(_evidence)"
  fi
}

# expect_json_any_contains FIELD_PATH SUBSTRING — array of strings has an element containing SUBSTRING
expect_json_any_contains() {
  local path=$1 want=$2 i
  if [[ -z ${J[$path]+x} ]]; then
    _fail "$path has an element containing '$want' (field missing)" "$(_evidence)"
    return
  fi
  for ((i = 0; ; i++)); do
    [[ -n ${J[$path.$i]+x} ]] || break
    if [[ ${J[$path.$i]} == \"* && ${J[$path.$i],,} == *"${want,,}"* ]]; then
      _pass "$path has an element containing '$want'"
      return
    fi
  done
  _fail "$path has an element containing '$want' (got ${J[$path]})" "$(_evidence)"
}

# expect_json_none_contains ARRAY_PATH TEXT — no element of the array contains TEXT (case-insensitive)
expect_json_none_contains() {
  local path=$1 unwanted=$2 i
  for ((i = 0; ; i++)); do
    [[ -n ${J[$path.$i]+x} ]] || break
    if [[ ${J[$path.$i],,} == *"${unwanted,,}"* ]]; then
      _fail "no element of $path contains '$unwanted' (element $i does)" "$(_evidence)"
      return
    fi
  done
  _pass "no element of $path contains '$unwanted'"
}

# expect_json_not_null FIELD_PATH
expect_json_not_null() {
  local path=$1
  if [[ -z ${J[$path]+x} ]]; then
    _fail "$path is not null (field missing)" "$(_evidence)"
  elif [[ ${J[$path]} == null ]]; then
    _fail "$path is not null (got null)" "$(_evidence)"
  else
    _pass "$path is not null"
  fi
}

# expect_json_in FIELD_PATH V1 V2 ... — the field equals one of the values
expect_json_in() {
  local path=$1 v
  shift
  if [[ -n ${J[$path]+x} ]]; then
    for v in "$@"; do
      if [[ ${J[$path]} == "$(_canon "$v")" ]]; then
        _pass "$path in {$*}"
        return
      fi
    done
  fi
  _fail "$path in {$*} (got ${J[$path]-<missing>})" "$(_evidence)"
}

# expect_verdict VERDICT CODE — stdout is one JSON object, exit code, .verdict, .exit_code == $?
expect_verdict() {
  local verdict=$1 code=$2
  expect_one_json
  if [[ $RC == "$code" ]]; then
    _pass "exit code $code"
  else
    _fail "exit code $code (got $RC)" "$(_evidence)"
  fi
  expect_json verdict "$verdict"
  expect_json exit_code "$RC"
}

# assert_no_password [ENVVAR] — stdout/stderr of the last probe do not contain the value of ENVVAR
# (default: the test .p12 password). The comparison runs in helper.py, so the password is never
# put on a command line.
assert_no_password() {
  local var=${1:-$PW_ENV} msg
  if msg=$("$PY" -I "$HELPER" no-secret "$var" "$OUT" "$ERR" 2>&1); then
    _pass "password (\$$var) does not appear in stdout/stderr"
  else
    _fail "password (\$$var) does not appear in stdout/stderr ($msg)"
  fi
}

# expect_wall_below MS — the last probe took less than MS milliseconds
expect_wall_below() {
  if ((WALL_MS < $1)); then
    _pass "wall time ${WALL_MS}ms < $1ms"
  else
    _fail "wall time ${WALL_MS}ms < $1ms" "$(_evidence)"
  fi
}

# Time bounds are margins measured in the same run, never figures tuned to one machine:
# note_overhead records the last probe's wall time (a probe that ends at once: a refused connection, a
# local server's answer) as the cost of starting and ending a probe here; expect_within SECONDS then
# allows SECONDS plus max(1 s, 3 x that cost).
PROBE_OVERHEAD_MS=0
note_overhead() {
  ((WALL_MS > PROBE_OVERHEAD_MS)) && PROBE_OVERHEAD_MS=$WALL_MS
  echo "  (probe overhead measured: ${PROBE_OVERHEAD_MS}ms)"
}
expect_within() {
  local margin=$((3 * PROBE_OVERHEAD_MS > 1000 ? 3 * PROBE_OVERHEAD_MS : 1000))
  expect_wall_below $(($1 * 1000 + margin))
}

# finish — prints exactly one summary line `N passed, M failed` and exits non-zero on failure
finish() {
  local t_end elapsed
  t_end=$(date +%s%N)
  elapsed=$(((t_end - SUITE_START_NS) / 1000000))
  if ((FAIL_COUNT > 0)); then
    echo "failed checks:"
    local f
    for f in "${FAILED_CHECKS[@]}"; do echo "  - $f"; done
  fi
  echo "suite time: $((elapsed / 1000)).$(printf '%03d' $((elapsed % 1000)))s" >&2
  echo "$PASS_COUNT passed, $FAIL_COUNT failed"
  if ((FAIL_COUNT > 0)); then exit 1; fi
  exit 0
}
