#!/usr/bin/env bash
# Through HTTP proxies (CONNECT), on loopback: tinyproxy and squid in front of nginx with
# ssl_verify_client on. Every client-auth verdict is the same through the tunnel as without it; what goes
# wrong before the tunnel stands is the proxy's (proxy-error, exit 12): 407 with and without credentials,
# a destination port the proxy's policy refuses (squid allows CONNECT to 443 only unless told), a proxy
# port with nothing behind it, a proxy that hangs after CONNECT, one that is not HTTP. The environment
# variables (https_proxy, HTTPS_PROXY, all_proxy, no_proxy, NO_PROXY) and their precedence. No proxy
# password in any output.
#
#   bash suite_proxy.sh /path/to/mtls-probe
# shellcheck disable=SC2119  # assert_no_password takes an optional argument
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

command -v tinyproxy >/dev/null || die "tinyproxy is not installed (scripts/install-deps.sh installs it)"
command -v squid >/dev/null || die "squid is not installed (scripts/install-deps.sh installs squid-openssl)"

make_tmp
gen_pki

read -r P_ON P_DENIED P_TINY P_TINY_AUTH P_SQUID P_DEAD P_HANG P_GARBAGE P_CLOSE P_CHATTY < <(free_port 10)
read -r P_SQUID_TLS P_SQUID_MTLS P_BUMP < <(free_port 3)
start_nginx main "
  server {
    listen 127.0.0.1:$P_ON ssl;
    $NGINX_TLS
    ssl_verify_client on;
    location / { return 200 \"ok\n\"; }
    location /forbidden { return 403; }
  }
  server {
    listen 127.0.0.1:$P_DENIED ssl;
    $NGINX_TLS
    location / { return 200 \"ok\n\"; }
  }
" "$P_ON"

# A proxy user with a password that must never show: given by environment variable only.
PROXY_PASSWORD="pr0xy-Secr3t-$RANDOM"
export PROXY_PASSWORD

# start_tinyproxy NAME PORT [EXTRA_CONF]
start_tinyproxy() {
  local name=$1 port=$2 extra=${3:-}
  local d="$TMP/tinyproxy-$name"
  mkdir -p "$d"
  chmod 777 "$d"
  local user_lines=""
  [[ $(id -u) == 0 ]] && user_lines=$'User nobody\nGroup nogroup'
  cat >"$d/tinyproxy.conf" <<EOF
$user_lines
Port $port
Listen 127.0.0.1
Timeout 10
MaxClients 16
LogLevel Info
LogFile "$d/tinyproxy.log"
$extra
EOF
  tinyproxy -d -c "$d/tinyproxy.conf" >"$d/stdout.log" 2>&1 &
  LAST_PID=$!
  track_pid "$LAST_PID" "tinyproxy-$name" "$d/tinyproxy.log"
  wait_port "$port" "$LAST_PID" || { cat "$d/stdout.log" >&2; die "tinyproxy $name did not start"; }
}

# start_squid NAME PORT ALLOWED_PORT [LISTEN_LINE] — CONNECT allowed to 443 and ALLOWED_PORT only (squid's
# default policy, opened for our one test port). LISTEN_LINE replaces "http_port 127.0.0.1:PORT" (an
# https_port: squid as an HTTPS proxy, TLS from the client to the proxy).
start_squid() {
  local name=$1 port=$2 allowed=$3 listen=${4:-"http_port 127.0.0.1:$2"}
  local d="$TMP/squid-$name"
  mkdir -p "$d"
  chmod 777 "$d"
  local user_line=""
  [[ $(id -u) == 0 ]] && user_line="cache_effective_user proxy"
  cat >"$d/squid.conf" <<EOF
$listen
acl SSL_ports port 443 $allowed
acl CONNECT method CONNECT
acl loopback src 127.0.0.1/32
http_access deny CONNECT !SSL_ports
http_access allow loopback
http_access deny all
cache deny all
cache_mem 4 MB
access_log stdio:$d/access.log
cache_log $d/cache.log
pid_filename $d/squid.pid
coredump_dir $d
netdb_filename none
shutdown_lifetime 0 seconds
dns_nameservers 127.0.0.1
hosts_file /etc/hosts
$user_line
EOF
  squid -N -f "$d/squid.conf" >"$d/stdout.log" 2>&1 &
  LAST_PID=$!
  track_pid "$LAST_PID" "squid-$name" "$d/cache.log"
  wait_port "$port" "$LAST_PID" || { cat "$d/stdout.log" "$d/cache.log" >&2; die "squid $name did not start"; }
}

start_tinyproxy open "$P_TINY"
start_tinyproxy auth "$P_TINY_AUTH" "BasicAuth probe-user $PROXY_PASSWORD"
start_squid main "$P_SQUID" "$P_ON"
chmod -R a+rX "$PKI"  # squid reads its certificate as the proxy user
start_squid tls "$P_SQUID_TLS" "$P_ON" \
  "https_port 127.0.0.1:$P_SQUID_TLS tls-cert=$PKI/server-chain.pem tls-key=$PKI/server.key"
start_squid mtls "$P_SQUID_MTLS" "$P_ON" \
  "https_port 127.0.0.1:$P_SQUID_MTLS tls-cert=$PKI/server-chain.pem tls-key=$PKI/server.key clientca=$PKI/client-ca-bundle.pem"
# squid ssl-bump: a TLS-inspecting proxy with its own CA, made here, minting a certificate per host.
BUMP_DIR="$TMP/squid-bump"
mkdir -p "$BUMP_DIR"
chmod 777 "$BUMP_DIR"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/O=Corp Security/CN=Corp TLS Inspection CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$BUMP_DIR/ca.key" -out "$BUMP_DIR/ca.crt" 2>/dev/null ||
  die "cannot make the inspection CA"
cat "$BUMP_DIR/ca.crt" "$BUMP_DIR/ca.key" >"$BUMP_DIR/ca.pem"
chmod 644 "$BUMP_DIR/ca.pem"
/usr/lib/squid/security_file_certgen -c -s "$BUMP_DIR/ssl_db" -M 4MB >/dev/null 2>&1 || die "security_file_certgen failed"
[[ $(id -u) == 0 ]] && chown -R proxy "$BUMP_DIR/ssl_db"
start_squid bump "$P_BUMP" "$P_ON" "http_port 127.0.0.1:$P_BUMP ssl-bump tls-cert=$BUMP_DIR/ca.pem generate-host-certificates=on dynamic_cert_mem_cache_size=4MB
sslcrtd_program /usr/lib/squid/security_file_certgen -s $BUMP_DIR/ssl_db -M 4MB
sslcrtd_children 2 startup=1 idle=1
acl step1 at_step SslBump1
ssl_bump peek step1
ssl_bump bump all
tls_outgoing_options cafile=$PKI/ca.pem"

start_python_listener hang "$P_HANG" silent garbage "$P_GARBAGE" garbage close "$P_CLOSE" record \
  chatty "$P_CHATTY" http-plain

# The origin by name: the proxy resolves it (from /etc/hosts), the probe does not.
ON="https://localhost:$P_ON"
TINY="http://127.0.0.1:$P_TINY"
SQUID="http://127.0.0.1:$P_SQUID"

# ---- every client-auth verdict is the same through the tunnel
for proxy in tinyproxy squid; do
  if [[ $proxy == tinyproxy ]]; then PX=$TINY; else PX=$SQUID; fi

  scenario "$proxy: good client certificate through the tunnel -> ok"
  probe -x "$PX" "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
  expect_verdict ok 0
  expect_json proxy.url "$PX"
  expect_json proxy.source --proxy
  expect_json proxy.connect_status 200
  expect_json proxy.tunnel_established true
  expect_json dns.of_proxy true
  expect_json connect.address "127.0.0.1:${PX##*:}"
  expect_json tls.client_cert_sent true
  expect_json http.status 200
  expect_json_not_null proxy.timing_ms

  scenario "$proxy: no client certificate -> client-cert-required, as without a proxy"
  probe -x "$PX" "${CACERT[@]}" "$ON/"
  expect_verdict client-cert-required 8
  expect_json proxy.connect_status 200

  scenario "$proxy: certificate from another CA -> client-cert-rejected, as without a proxy"
  probe -x "$PX" "${CACERT[@]}" "${ID_OTHER[@]}" "$ON/"
  expect_verdict client-cert-rejected 9

  scenario "$proxy: good certificate, 403 from the application -> http-error"
  probe -x "$PX" "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/forbidden"
  expect_verdict http-error 10
done

scenario "squid: CONNECT to a port its policy does not allow -> proxy-error 403 naming the destination"
probe -x "$SQUID" "${CACERT[@]}" "${ID_GOOD[@]}" "https://localhost:$P_DENIED/"
expect_verdict proxy-error 12
expect_json proxy.connect_status 403
expect_json proxy.tunnel_established false
expect_json_contains summary "localhost:$P_DENIED"
expect_json_any_contains hints "--noproxy localhost"
expect_json tls.attempted false

# ---- proxy authentication (tinyproxy BasicAuth)
scenario "proxy wants credentials, none given -> proxy-error 407 naming Basic"
probe -x "http://127.0.0.1:$P_TINY_AUTH" "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict proxy-error 12
expect_json proxy.connect_status 407
expect_json proxy.credentials_sent false
expect_json_contains summary "requires authentication"
expect_json_contains summary "Basic"
expect_json_any_contains hints "--proxy-user"

scenario "proxy credentials from --proxy-password-env -> through the tunnel, ok; no password anywhere"
probe -x "http://127.0.0.1:$P_TINY_AUTH" --proxy-user probe-user --proxy-password-env PROXY_PASSWORD \
  "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict ok 0
expect_json proxy.credentials_sent true
expect_json proxy.connect_status 200
assert_no_password PROXY_PASSWORD

# tinyproxy 1.11 answers wrong credentials with 401 and WWW-Authenticate (not 407): seen on the wire.
scenario "wrong proxy password -> proxy-error, the credentials were refused (tinyproxy: 401)"
WRONG_PROXY_PASSWORD="not-the-password-$RANDOM"
export WRONG_PROXY_PASSWORD
probe -x "http://127.0.0.1:$P_TINY_AUTH" --proxy-user probe-user --proxy-password-env WRONG_PROXY_PASSWORD \
  "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict proxy-error 12
expect_json proxy.connect_status 401
expect_json proxy.credentials_sent true
expect_json_contains summary "refused the credentials"
assert_no_password WRONG_PROXY_PASSWORD

scenario "-v with proxy credentials: the trace names the header, never its value"
if [[ -x $PROBE ]]; then
  timeout -k 2 60 "$PROBE" -v -x "http://127.0.0.1:$P_TINY_AUTH" --proxy-user probe-user \
    --proxy-password-env PROXY_PASSWORD "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/" >"$TMP/v.out" 2>"$TMP/v.err" </dev/null
fi
if grep -q "CONNECT localhost:$P_ON HTTP/1.1 (with Proxy-Authorization)" "$TMP/v.err" &&
  ! grep -qF "$PROXY_PASSWORD" "$TMP/v.out" "$TMP/v.err" &&
  ! grep -q "$(printf 'probe-user:%s' "$PROXY_PASSWORD" | base64)" "$TMP/v.out" "$TMP/v.err"; then
  _pass "-v trace shows CONNECT, no credentials"
else
  _fail "-v trace shows CONNECT, no credentials"
fi

# ---- proxies that fail before the tunnel
scenario "nothing listens at the proxy's port -> proxy-error, not connect-failure"
probe -x "http://127.0.0.1:$P_DEAD" "${CACERT[@]}" "$ON/"
expect_verdict proxy-error 12
expect_json connect.address null
expect_json_contains summary "proxy"

scenario "a proxy that never answers CONNECT -> proxy-error at --connect-timeout, in phase proxy"
t0=$(date +%s)
probe --connect-timeout 2 -x "http://127.0.0.1:$P_HANG" "${CACERT[@]}" "$ON/"
t1=$(date +%s)
expect_verdict proxy-error 12
expect_json timed_out_in proxy
expect_json_contains summary "did not answer CONNECT"
if ((t1 - t0 < 8)); then _pass "bounded by --connect-timeout ($((t1 - t0)) s)"; else _fail "took $((t1 - t0)) s"; fi

scenario "a 'proxy' that answers non-HTTP bytes -> proxy-error, not HTTP"
probe -x "http://127.0.0.1:$P_GARBAGE" "${CACERT[@]}" "$ON/"
expect_verdict proxy-error 12
expect_json_contains proxy.error "not HTTP"

scenario "a proxy that closes without answering -> proxy-error saying so"
probe -x "http://127.0.0.1:$P_CLOSE" "${CACERT[@]}" "$ON/"
expect_verdict proxy-error 12
expect_json_contains proxy.error "without answering CONNECT"

scenario "a proxy that answers 200 and then talks first -> proxy-error, before any TLS"
probe -x "http://127.0.0.1:$P_CHATTY" "${CACERT[@]}" "$ON/"
expect_verdict proxy-error 12
expect_json_contains proxy.error "before the TLS handshake"
expect_json tls.attempted false

# ---- HTTPS proxies: TLS to the proxy, then CONNECT inside it, then TLS to the server inside that
SQUID_TLS="https://127.0.0.1:$P_SQUID_TLS"
SQUID_MTLS="https://127.0.0.1:$P_SQUID_MTLS"
PROXY_CA=(--proxy-cacert "$PKI/ca.pem")
PROXY_ID=(--proxy-cert "$PKI/client-good-chain.pem" --proxy-key "$PKI/client-good.key")

scenario "https:// proxy with its CA: TLS in TLS, good client certificate -> ok"
probe -x "$SQUID_TLS" "${PROXY_CA[@]}" "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict ok 0
expect_json proxy.tls.handshake_completed true
expect_json proxy.tls.verify_error null
expect_json_contains proxy.tls.cert_subject "localhost"
expect_json proxy.connect_status 200
expect_json tls.client_cert_sent true
expect_json http.status 200

scenario "https:// proxy, no client certificate for the server -> client-cert-required, as without a proxy"
probe -x "$SQUID_TLS" "${PROXY_CA[@]}" "${CACERT[@]}" "$ON/"
expect_verdict client-cert-required 8
expect_json proxy.tls.handshake_completed true

scenario "https:// proxy whose CA we were not given -> proxy-error naming --proxy-cacert"
probe -x "$SQUID_TLS" "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict proxy-error 12
expect_json_not_null proxy.tls.verify_error
expect_json proxy.tunnel_established false
expect_json_any_contains hints "--proxy-cacert"
expect_json tls.attempted false

scenario "https:// proxy, --proxy-insecure looks past its certificate -> ok"
probe -x "$SQUID_TLS" --proxy-insecure "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict ok 0
expect_json_not_null proxy.tls.verify_error

scenario "https:// proxy that wants a client certificate of its own, none given -> proxy-error naming --proxy-cert"
probe -x "$SQUID_MTLS" "${PROXY_CA[@]}" "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict proxy-error 12
expect_json proxy.tls.client_cert_requested true
expect_json proxy.tls.client_cert_sent false
expect_json_any_contains hints "--proxy-cert"

scenario "https:// proxy with its client certificate, and the server's through the tunnel -> ok"
probe -x "$SQUID_MTLS" "${PROXY_CA[@]}" "${PROXY_ID[@]}" "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict ok 0
expect_json proxy.tls.client_cert_sent true
expect_json tls.client_cert_sent true

scenario "https:// proxy given a client certificate from another CA -> proxy-error, refused by the proxy"
probe -x "$SQUID_MTLS" "${PROXY_CA[@]}" --proxy-cert "$PKI/client-other-chain.pem" --proxy-key "$PKI/client-other.key" \
  "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict proxy-error 12
expect_json proxy.tls.client_cert_sent true
expect_json_contains summary "refused the client certificate given with --proxy-cert"

scenario "-x https:// at a plain HTTP proxy port -> proxy-error, is it an HTTPS proxy?"
probe --connect-timeout 2 -x "https://127.0.0.1:$P_TINY" "${PROXY_CA[@]}" "${CACERT[@]}" "$ON/"
expect_verdict proxy-error 12
expect_json proxy.tls.handshake_completed false

# ---- a TLS-inspecting proxy (squid ssl-bump): our certificate goes to the proxy, never to the server
BUMP="http://127.0.0.1:$P_BUMP"

scenario "intercepting proxy, its CA not trusted -> server-cert-untrusted, interception named with both issuers"
probe -x "$BUMP" "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict server-cert-untrusted 7
expect_json proxy.tls_interception.suspected true
expect_json_contains proxy.tls_interception.issuer "Corp TLS Inspection CA"
expect_json proxy.direct_path.reachable true
expect_json_contains proxy.direct_path.server_cert_issuer "mtls-probe Test Intermediate CA"
expect_json_any_contains proxy.tls_interception.evidence "probed directly"
expect_json_any_contains hints "TLS-inspecting proxy terminated the connection"
expect_json_any_contains hints "inspection bypass"

scenario "intercepting proxy with -k -> the server's 400 relayed: client-cert-required, and why: the proxy took the TLS"
probe -k -x "$BUMP" "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict client-cert-required 8
expect_json tls.client_cert_requested false
expect_json proxy.tls_interception.suspected true
expect_json_any_contains proxy.tls_interception.evidence "yet the TLS peer never asked"
expect_json_any_contains proxy.tls_interception.evidence "directly, the server asks for a client certificate"
expect_json_any_contains hints "your client certificate is presented to the proxy, not to the server"
expect_json_none_contains hints "client authentication is not enabled"

scenario "an honest proxy is not suspected (squid without ssl-bump)"
probe -x "$SQUID" "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict ok 0
expect_json proxy.tls_interception.suspected false
expect_json proxy.direct_path null

# ---- the environment, with curl's precedence
scenario "HTTPS_PROXY is used when no -x is given"
HTTPS_PROXY=$TINY probe "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict ok 0
expect_json proxy.source HTTPS_PROXY

scenario "https_proxy wins over HTTPS_PROXY and all_proxy"
https_proxy=$SQUID HTTPS_PROXY="http://127.0.0.1:$P_DEAD" all_proxy="http://127.0.0.1:$P_DEAD" \
  probe "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict ok 0
expect_json proxy.source https_proxy
expect_json proxy.url "$SQUID"

scenario "ALL_PROXY is the last resort"
ALL_PROXY=$TINY probe "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict ok 0
expect_json proxy.source ALL_PROXY

scenario "http_proxy is not for https:// URLs (as curl)"
http_proxy="http://127.0.0.1:$P_DEAD" HTTP_PROXY="http://127.0.0.1:$P_DEAD" probe "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict ok 0
expect_json proxy null

scenario "-x wins over the environment"
HTTPS_PROXY="http://127.0.0.1:$P_DEAD" probe -x "$TINY" "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict ok 0
expect_json proxy.source --proxy

scenario "-x \"\" turns the environment's proxy off"
HTTPS_PROXY="http://127.0.0.1:$P_DEAD" probe -x "" "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict ok 0
expect_json proxy null

scenario "NO_PROXY matching the host -> direct, and the report says why"
HTTPS_PROXY="http://127.0.0.1:$P_DEAD" NO_PROXY="example.test, localhost" probe "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict ok 0
expect_json proxy null
expect_json proxy_bypassed_by NO_PROXY

scenario "no_proxy is read before NO_PROXY"
HTTPS_PROXY=$TINY no_proxy="example.test" NO_PROXY="localhost" probe "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict ok 0
expect_json proxy.source HTTPS_PROXY

scenario "--noproxy wins over no_proxy; --noproxy \"\" proxies every host"
HTTPS_PROXY=$TINY no_proxy="localhost" probe --noproxy "" "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict ok 0
expect_json proxy.source HTTPS_PROXY
HTTPS_PROXY="http://127.0.0.1:$P_DEAD" probe --noproxy "*" "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/"
expect_verdict ok 0
expect_json proxy null

scenario "a proxy URL the probe cannot use -> usage-error naming where it came from"
HTTPS_PROXY="socks5://127.0.0.1:$P_DEAD" probe "${CACERT[@]}" "$ON/"
expect_verdict usage-error 1
expect_json_contains usage_error HTTPS_PROXY

scenario "text report through a proxy has a Proxy section"
if [[ -x $PROBE ]]; then
  timeout -k 2 60 "$PROBE" -x "$SQUID" "${CACERT[@]}" "${ID_GOOD[@]}" "$ON/" >"$TMP/text.out" 2>&1 </dev/null
fi
if grep -q "^  Proxy" "$TMP/text.out" && grep -q "CONNECT localhost:$P_ON -> 200" "$TMP/text.out"; then
  _pass "Proxy section with the CONNECT answer"
else
  _fail "Proxy section with the CONNECT answer: $(cat "$TMP/text.out")"
fi

finish
