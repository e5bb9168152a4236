#!/usr/bin/env bash
# SSLKEYLOGFILE, as curl and browsers: the probe appends its TLS secrets in the NSS key log format, warns on
# stderr, and a capture of the probe taken on loopback (tshark) decrypts with that file: the HTTP request
# and the server's 403 are readable, for HTTP/1.1 and HTTP/2, through a proxy too (both TLS sessions).
#
#   bash suite_keylog.sh /path/to/mtls-probe
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

command -v tshark >/dev/null || die "tshark is not installed (scripts/install-deps.sh installs it)"

make_tmp
gen_pki

read -r P_ON < <(free_port 1)
start_nginx main "
  server {
    listen 127.0.0.1:$P_ON ssl http2;
    $NGINX_TLS
    ssl_verify_client on;
    location / { return 200 \"ok\n\"; }
    location /secret-path { return 403; }
  }
" "$P_ON"

KEYLOG="$TMP/keys.log"
CAP="$TMP/cap.pcapng"

# capture_once PROTO_FLAG — runs one probe with SSLKEYLOGFILE under a loopback capture of its port
capture_once() {
  rm -f "$CAP"
  tshark -q -i lo -f "tcp port $P_ON" -w "$CAP" >"$TMP/tshark.log" 2>&1 &
  local cap_pid=$!
  track_pid "$cap_pid" tshark "$TMP/tshark.log"
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q "Capturing on" "$TMP/tshark.log" 2>/dev/null && break
    sleep 0.05
  done
  sleep 0.3  # the capture filter is live a moment after the message
  SSLKEYLOGFILE=$KEYLOG probe "$1" "${CACERT[@]}" "${ID_GOOD[@]}" "https://localhost:$P_ON/secret-path"
  sleep 0.3
  kill -INT "$cap_pid" 2>/dev/null
  wait "$cap_pid" 2>/dev/null
}

# capture_probe PROTO_FLAG — as capture_once, again (up to 3 times) when a slow machine's capture began after
# the probe's ClientHello: what is tested is the key log, not how fast tshark starts.
capture_probe() {
  local attempt
  for attempt in 1 2 3; do
    capture_once "$1"
    [[ $(tshark -r "$CAP" -Y "tls.handshake.type == 1" 2>/dev/null | wc -l) -ge 1 ]] && return 0
    echo "  (the capture missed the ClientHello, attempt $attempt: capturing again)"
  done
}

scenario "SSLKEYLOGFILE over HTTP/1.1: secrets written, warned on stderr, the capture decrypts"
rm -f "$KEYLOG"
capture_probe --http1.1
expect_verdict http-error 10
if grep -q "^CLIENT_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]\{64\} [0-9a-f]\+$" "$KEYLOG" &&
  grep -q "^CLIENT_TRAFFIC_SECRET_0 " "$KEYLOG"; then
  _pass "NSS key log lines written"
else
  _fail "NSS key log lines written ($(wc -l <"$KEYLOG" 2>/dev/null) lines)"
fi
if [[ $(stat -c %a "$KEYLOG") == 600 ]]; then _pass "key log is 0600"; else _fail "key log mode $(stat -c %a "$KEYLOG")"; fi
if grep -q "SSLKEYLOGFILE is set" "$ERR"; then _pass "warned on stderr"; else _fail "warned on stderr"; fi
plain=$(tshark -r "$CAP" -o "tls.keylog_file:$KEYLOG" -Y http -T fields -e http.request.uri -e http.response.code 2>/dev/null | tr '\n' ' ')
without=$(tshark -r "$CAP" -Y http -T fields -e http.request.uri 2>/dev/null | tr -d '\n')
if [[ $plain == *"/secret-path"* && $plain == *403* && -z $without ]]; then
  _pass "tshark decrypts the request and the 403 with the key log, and not without it"
else
  _fail "tshark decrypts with the key log (with: '$plain', without: '$without')"
fi

scenario "SSLKEYLOGFILE over HTTP/2: the HEADERS frames decrypt"
rm -f "$KEYLOG"
capture_probe --http2
expect_verdict http-error 10
h2=$(tshark -r "$CAP" -o "tls.keylog_file:$KEYLOG" -Y http2 -T fields -e http2.headers.path -e http2.headers.status 2>/dev/null | tr '\n' ' ')
if [[ $h2 == *"/secret-path"* && $h2 == *403* ]]; then
  _pass "tshark decrypts the HTTP/2 request and status"
else
  _fail "tshark decrypts the HTTP/2 request and status (got '$h2')"
fi

scenario "an SSLKEYLOGFILE that cannot be opened -> usage-error naming it, no connection"
SSLKEYLOGFILE="$TMP/no-such-dir/keys.log" probe "${CACERT[@]}" "${ID_GOOD[@]}" "https://localhost:$P_ON/"
expect_verdict usage-error 1
expect_json_contains usage_error "SSLKEYLOGFILE"

finish
