# lib_stacks.sh — starters for the further server stacks (HAProxy, Caddy, lighttpd, node.js).
# shellcheck shell=bash
# shellcheck disable=SC2034  # LAST_PID / LAST_DIR are read by the suites
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
#   source "$(dirname "${BASH_SOURCE[0]}")/lib_stacks.sh"
#
# Like lib.sh's start_* helpers: every server runs in the foreground on 127.0.0.1, with its config,
# logs and state in its own directory under the suite's $TMP, is registered with track_pid (so lib.sh's
# cleanup stops it by pid) and is waited for with wait_port. Each sets LAST_PID and LAST_DIR.

# need_binary VAR NAME PATH... — sets VAR to the first executable PATH; exits the suite with 77 (ctest:
# skipped) when there is none. (Not used in $(...): an exit there would only leave the subshell.)
need_binary() {
  local var=$1 name=$2 p
  shift 2
  for p in "$@"; do
    if [[ -x $p ]]; then
      printf -v "$var" '%s' "$p"
      return 0
    fi
  done
  echo "SKIP: $name not installed (looked for: $*)" >&2
  exit 77
}

# start_haproxy NAME CONF_BODY WAIT_PORT... — CONF_BODY: frontends (mode http is the default).
# $LAST_DIR/server.pem is the server chain and key in one file, as `bind ... ssl crt` wants it.
start_haproxy() {
  local name=$1 body=$2
  shift 2
  local d="$TMP/haproxy-$name"
  mkdir -p "$d"
  cat >"$d/haproxy.cfg" <<EOF
global
  log stdout format raw local0 info
  maxconn 256
  tune.ssl.default-dh-param 2048
defaults
  log global
  mode http
  option httplog
  timeout connect 5s
  timeout client 10s
  timeout server 10s
  timeout http-request 10s
$body
EOF
  "$HAPROXY" -db -f "$d/haproxy.cfg" >"$d/log" 2>&1 &
  LAST_PID=$!
  LAST_DIR=$d
  track_pid "$LAST_PID" "haproxy-$name" "$d/log"
  local p
  for p in "$@"; do
    wait_port "$p" "$LAST_PID" || die "haproxy $name did not start"
  done
}

# start_caddy NAME CADDYFILE_SITES WAIT_PORT... — the global options block is written here: no admin
# endpoint, no automatic HTTPS, storage and HOME/XDG dirs inside $LAST_DIR, nothing installed into a
# trust store.
start_caddy() {
  local name=$1 sites=$2
  shift 2
  local d="$TMP/caddy-$name"
  mkdir -p "$d/home" "$d/config" "$d/data" "$d/storage"
  cat >"$d/Caddyfile" <<EOF
{
  admin off
  auto_https off
  skip_install_trust
  storage file_system $d/storage
  servers {
    protocols h1 h2
  }
  log {
    output stderr
    level DEBUG
  }
}
$sites
EOF
  HOME="$d/home" XDG_CONFIG_HOME="$d/config" XDG_DATA_HOME="$d/data" XDG_CACHE_HOME="$d/home/.cache" \
    "$CADDY" run --adapter caddyfile --config "$d/Caddyfile" >"$d/log" 2>&1 &
  LAST_PID=$!
  LAST_DIR=$d
  track_pid "$LAST_PID" "caddy-$name" "$d/log"
  local p
  for p in "$@"; do
    wait_port "$p" "$LAST_PID" 20 || die "caddy $name did not start"
  done
}

# start_lighttpd NAME PORT CONF_BODY — one lighttpd (mod_gnutls) on 127.0.0.1:PORT. CONF_BODY: the
# ssl.* and module settings (server.modules is set here: mod_gnutls first, then mod_access, mod_auth).
# $LAST_DIR/htdocs/index.html says "ok"; /forbidden/ exists too (the suites deny it by config).
start_lighttpd() {
  local name=$1 port=$2 body=$3
  local d="$TMP/lighttpd-$name"
  mkdir -p "$d/htdocs/forbidden" "$d/run" "$d/upload"
  printf 'ok\n' >"$d/htdocs/index.html"
  printf 'secret\n' >"$d/htdocs/forbidden/index.html"
  chmod -R a+rX "$d"
  cat >"$d/lighttpd.conf" <<EOF
server.modules = ( "mod_gnutls", "mod_access", "mod_auth", "mod_setenv" )
server.bind = "127.0.0.1"
server.port = $port
server.document-root = "$d/htdocs"
server.errorlog = "$d/error.log"
server.pid-file = "$d/run/lighttpd.pid"
server.upload-dirs = ( "$d/upload" )
server.max-keep-alive-requests = 0
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/plain" )
debug.log-request-handling = "disable"
$body
EOF
  # lighttpd 1.4.69's mod_gnutls dies of SIGSEGV on SIGTERM once it has refused a client certificate
  # (exit 139, after "server stopped"). A small bash wrapper takes the TERM, stops lighttpd and keeps
  # the crash notice in $d/log instead of the suite's output.
  # shellcheck disable=SC2016  # expanded by the wrapper shell
  "$BASH" -c 'trap "kill -TERM \$c 2>/dev/null; wait \$c; exit 0" TERM INT; "$0" -D -f "$1" & c=$!; wait $c' \
    "$LIGHTTPD" "$d/lighttpd.conf" >"$d/log" 2>&1 &
  LAST_PID=$!
  LAST_DIR=$d
  track_pid "$LAST_PID" "lighttpd-$name" "$d/error.log"
  wait_port "$port" "$LAST_PID" || { cat "$d/log" >&2; die "lighttpd $name did not start"; }
}

# start_node NAME SCRIPT ARGS... — runs `node SCRIPT ARGS...`; the script listens on 127.0.0.1 port 0
# and prints "listening PORT" on stdout. Sets NODE_PORT to that port.
start_node() {
  local name=$1 script=$2
  shift 2
  local d="$TMP/node-$name"
  mkdir -p "$d"
  HOME="$d" "$NODE" "$script" "$@" >"$d/log" 2>&1 &
  LAST_PID=$!
  LAST_DIR=$d
  track_pid "$LAST_PID" "node-$name" "$d/log"
  local i line
  NODE_PORT=""
  for ((i = 0; i < 400; i++)); do
    line=$(grep -m1 '^listening ' "$d/log" 2>/dev/null)
    if [[ -n $line ]]; then
      NODE_PORT=${line#listening }
      break
    fi
    kill -0 "$LAST_PID" 2>/dev/null || { cat "$d/log" >&2; die "node $name exited before listening"; }
    sleep 0.025
  done
  [[ -n $NODE_PORT ]] || { cat "$d/log" >&2; die "node $name did not print its port"; }
  wait_port "$NODE_PORT" "$LAST_PID" || die "node $name not listening on $NODE_PORT"
}

# stack_case TITLE VERDICT CODE ALERT STATUS REQUESTED SENT -- PROBE_ARGS...
# One probe and the checks every stack scenario makes:
#   VERDICT CODE   expect_verdict
#   ALERT          tls.alert: "null" (no fatal alert at all), an alert name (then it must come from the
#                  server), or "-" (not checked)
#   STATUS         http.status: a number, "null", or "-"
#   REQUESTED SENT tls.client_cert_requested / tls.client_cert_sent: true, false, or "-"
stack_case() {
  local title=$1 verdict=$2 code=$3 alert=$4 status=$5 requested=$6 sent=$7
  shift 7
  [[ ${1:-} == -- ]] && shift
  scenario "$title"
  probe -m 10 "$@"
  expect_verdict "$verdict" "$code"
  case $alert in
    -) ;;
    null) expect_json tls.alert null ;;
    *)
      expect_json tls.alert.name "$alert"
      expect_json tls.alert.from server
      ;;
  esac
  [[ $status == - ]] || expect_json http.status "$status"
  [[ $requested == - ]] || expect_json tls.client_cert_requested "$requested"
  [[ $sent == - ]] || expect_json tls.client_cert_sent "$sent"
}
