#!/usr/bin/env bash
# curl_compare.sh [/path/to/mtls-probe] — NOT part of CI (not named suite_*).
#
# Starts the same servers as the suites and runs each scenario with curl (and, when a probe binary is
# given, with the probe), then prints a markdown table:
#   scenario | expected probe verdict | probe (exit verdict) | curl exit + message | curl http code
# The .p12 password reaches curl through a config file (-K) written by a bash builtin, so it is never
# on a command line, and it is redacted from curl's messages before printing.
# shellcheck disable=SC2119  # assert_no_password takes an optional argument
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "${1:-}"

make_tmp
gen_pki

read -r N_ON N_OPT A13 A12 L13 L12 S13 S12 SPLAIN S13ONLY SEXP SWN \
  P_SILENT P_PLAIN P_GARBAGE P_TLSCLOSE P_TLSGARB P_TLSTRUNC P_CLOSED < <(free_port 19)

tls_common="
$NGINX_TLS"
start_nginx main "
  server { listen 127.0.0.1:$N_ON ssl; $tls_common ssl_verify_client on;
           location / { return 200 \"ok\n\"; } location /forbidden { return 403; } }
  server { listen 127.0.0.1:$N_OPT ssl; $tls_common ssl_verify_client optional;
           location / { return 200 \"ok\n\"; } }
" "$N_ON"

acommon="SSLEngine on
  SSLCertificateFile $PKI/server-chain.pem
  SSLCertificateKeyFile $PKI/server.key
  SSLCACertificateFile $PKI/client-ca-bundle.pem
  SSLVerifyDepth 3
  <Location /denied>
    Require all denied
  </Location>"
start_apache main "
Listen 127.0.0.1:$A13
Listen 127.0.0.1:$A12
Listen 127.0.0.1:$L13
Listen 127.0.0.1:$L12
<VirtualHost 127.0.0.1:$A13>
  $acommon
  SSLProtocol -all +TLSv1.3
  SSLVerifyClient require
</VirtualHost>
<VirtualHost 127.0.0.1:$A12>
  $acommon
  SSLProtocol -all +TLSv1.2
  SSLVerifyClient require
</VirtualHost>
<VirtualHost 127.0.0.1:$L13>
  $acommon
  SSLProtocol -all +TLSv1.3
  <Location /secure>
    SSLVerifyClient require
  </Location>
</VirtualHost>
<VirtualHost 127.0.0.1:$L12>
  $acommon
  SSLProtocol -all +TLSv1.2
  <Location /secure>
    SSLVerifyClient require
  </Location>
</VirtualHost>
" "$A13" "$A12" "$L13" "$L12"
mkdir -p "$LAST_DIR/htdocs/secure"
printf 'secret\n' >"$LAST_DIR/htdocs/secure/index.html"
chmod -R a+rX "$LAST_DIR/htdocs"

srv=(-cert "$PKI/server.crt" -key "$PKI/server.key" -cert_chain "$PKI/intermediate-ca.crt")
verify=(-Verify 1 -verify_return_error -CAfile "$PKI/client-ca-bundle.pem")
start_s_server req13 "$S13" "${srv[@]}" "${verify[@]}" -www
start_s_server req12 "$S12" "${srv[@]}" "${verify[@]}" -www -tls1_2
start_s_server plain12 "$SPLAIN" "${srv[@]}" -www -tls1_2
start_s_server plain13 "$S13ONLY" "${srv[@]}" -www -tls1_3
start_s_server expired "$SEXP" -cert "$PKI/server-expired.crt" -key "$PKI/server-expired.key" \
  -cert_chain "$PKI/intermediate-ca.crt" -www
start_s_server wrongname "$SWN" -cert "$PKI/server-wrongname.crt" -key "$PKI/server-wrongname.key" \
  -cert_chain "$PKI/intermediate-ca.crt" -www

start_python_listener \
  silent "$P_SILENT" silent \
  plain "$P_PLAIN" http-plain \
  garbage "$P_GARBAGE" garbage \
  tlsclose "$P_TLSCLOSE" tls-close \
  tlsgarbage "$P_TLSGARB" tls-garbage \
  tlstrunc "$P_TLSTRUNC" tls-truncated

export MTLS_TEST_WRONG_PASSWORD="wrong-pw-Xy91-should-not-leak"

# curl config files carrying the identity (written with printf, a builtin)
curl_p12_cfg() {  # curl_p12_cfg NAME FILE PASSWORD_VALUE
  printf 'cert-type = "P12"\ncert = "%s:%s"\n' "$2" "$3" >"$TMP/curl-$1.cfg"
  chmod 600 "$TMP/curl-$1.cfg"
}
curl_p12_cfg good "$PKI/client-good.p12" "$MTLS_TEST_P12_PASSWORD"
curl_p12_cfg legacy "$PKI/client-good-legacy.p12" "$MTLS_TEST_P12_PASSWORD"
curl_p12_cfg other "$PKI/client-other.p12" "$MTLS_TEST_P12_PASSWORD"
curl_p12_cfg expired "$PKI/client-expired.p12" "$MTLS_TEST_P12_PASSWORD"
curl_p12_cfg notyet "$PKI/client-notyet.p12" "$MTLS_TEST_P12_PASSWORD"
curl_p12_cfg serverauth "$PKI/client-serverauth.p12" "$MTLS_TEST_P12_PASSWORD"
curl_p12_cfg wrongpw "$PKI/client-good.p12" "$MTLS_TEST_WRONG_PASSWORD"
curl_p12_cfg missing "$TMP/does-not-exist.p12" "$MTLS_TEST_P12_PASSWORD"
: >"$TMP/curl-none.cfg"

ident_probe() {  # the probe's identity arguments for IDENT
  case $1 in
    none) ;;
    pem) printf '%s\n' --cert "$PKI/client-good.crt" --key "$PKI/client-good.key" ;;
    good) printf '%s\n' --p12 "$PKI/client-good.p12" --p12-password-env "$PW_ENV" ;;
    legacy) printf '%s\n' --p12 "$PKI/client-good-legacy.p12" --p12-password-env "$PW_ENV" ;;
    wrongpw) printf '%s\n' --p12 "$PKI/client-good.p12" --p12-password-env MTLS_TEST_WRONG_PASSWORD ;;
    missing) printf '%s\n' --p12 "$TMP/does-not-exist.p12" --p12-password-env "$PW_ENV" ;;
    nocert) printf '%s\n' --p12 "$PKI/client-good.p12" --p12-password-env "$PW_ENV" --no-cert ;;
    *) printf '%s\n' --p12 "$PKI/client-$1.p12" --p12-password-env "$PW_ENV" ;;
  esac
}
ident_curl() {  # curl's identity arguments for IDENT
  case $1 in
    none | nocert) printf '%s\n' -K "$TMP/curl-none.cfg" ;;
    pem) printf '%s\n' --cert "$PKI/client-good.crt" --key "$PKI/client-good.key" ;;
    *) printf '%s\n' -K "$TMP/curl-$1.cfg" ;;
  esac
}

ROWS=()
# row "SCENARIO" EXPECTED IDENT URL [shared options...] — shared options use the probe's spelling;
# --tls-min 1.3 becomes curl's --tlsv1.3
row() {
  local name=$1 expected=$2 ident=$3 url=$4
  shift 4
  local shared=("$@") curl_shared=() i
  for ((i = 0; i < ${#shared[@]}; i++)); do
    if [[ ${shared[i]} == --tls-min ]]; then
      curl_shared+=("--tlsv${shared[i + 1]}")
      i=$((i + 1))
    else
      curl_shared+=("${shared[i]}")
    fi
  done
  local pargs cargs
  mapfile -t pargs < <(ident_probe "$ident")
  mapfile -t cargs < <(ident_curl "$ident")

  local probe_cell="-"
  if [[ -n $PROBE && -x $PROBE ]]; then
    probe "${shared[@]}" "${pargs[@]}" "$url" >/dev/null
    probe_cell="$RC ${J[verdict]:-?}"
    probe_cell=${probe_cell//\"/}
    if [[ $probe_cell != "$RC $expected" ]]; then probe_cell="**$probe_cell** (want $expected)"; fi
  fi

  local code crc msg
  code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "${curl_shared[@]}" "${cargs[@]}" "$url" \
    2>"$TMP/curl.err" </dev/null)
  crc=$?
  msg=$(head -n 1 "$TMP/curl.err")
  msg=${msg//"$MTLS_TEST_P12_PASSWORD"/<REDACTED>}
  msg=${msg//"$MTLS_TEST_WRONG_PASSWORD"/<REDACTED>}
  msg=${msg//|/\\|}
  [[ -z $msg ]] && msg="(no message)"
  ROWS+=("| $name | $expected | $probe_cell | $crc: $msg | $code |")
  echo "done: $name" >&2
}

C=(--cacert "$PKI/ca.pem")
# nginx
row "nginx on: good .p12" ok good "https://localhost:$N_ON/" "${C[@]}"
row "nginx on: no cert" client-cert-required none "https://localhost:$N_ON/" "${C[@]}"
row "nginx on: other-CA cert" client-cert-rejected other "https://localhost:$N_ON/" "${C[@]}"
row "nginx on: expired cert" client-cert-rejected expired "https://localhost:$N_ON/" "${C[@]}"
row "nginx on: not-yet-valid cert" client-cert-rejected notyet "https://localhost:$N_ON/" "${C[@]}"
row "nginx on: serverAuth-only EKU" client-cert-rejected serverauth "https://localhost:$N_ON/" "${C[@]}"
row "nginx on: good cert, 403 location" http-error good "https://localhost:$N_ON/forbidden" "${C[@]}"
row "nginx optional: no cert" ok none "https://localhost:$N_OPT/" "${C[@]}"
row "nginx on: legacy .p12" ok legacy "https://localhost:$N_ON/" "${C[@]}"
row "nginx on: PEM cert/key" ok pem "https://localhost:$N_ON/" "${C[@]}"
row "nginx on: --no-cert (curl: no identity)" client-cert-required nocert "https://localhost:$N_ON/" "${C[@]}"
row "nginx on, TLS 1.2: no cert" client-cert-required none "https://localhost:$N_ON/" "${C[@]}" --tls-max 1.2
# apache
for v in 13 12; do
  if [[ $v == 13 ]]; then a=$A13 t="TLS 1.3"; else a=$A12 t="TLS 1.2"; fi
  row "apache vhost require $t: good" ok good "https://localhost:$a/" "${C[@]}"
  row "apache vhost require $t: no cert" client-cert-required none "https://localhost:$a/" "${C[@]}"
  row "apache vhost require $t: other CA" client-cert-rejected other "https://localhost:$a/" "${C[@]}"
  row "apache vhost require $t: expired" client-cert-rejected expired "https://localhost:$a/" "${C[@]}"
  row "apache vhost require $t: not yet valid" client-cert-rejected notyet "https://localhost:$a/" "${C[@]}"
  row "apache vhost require $t: serverAuth EKU" client-cert-rejected serverauth "https://localhost:$a/" "${C[@]}"
  row "apache vhost require $t: good, Require all denied" http-error good "https://localhost:$a/denied" "${C[@]}"
done
row "apache <Location> TLS 1.3 (PHA): good" ok good "https://localhost:$L13/secure/" "${C[@]}"
row "apache <Location> TLS 1.3 (PHA): no cert" client-cert-required none "https://localhost:$L13/secure/" "${C[@]}"
row "apache <Location> TLS 1.3 (PHA): other CA" client-cert-rejected other "https://localhost:$L13/secure/" "${C[@]}"
row "apache <Location> TLS 1.2 (reneg): good" ok good "https://localhost:$L12/secure/" "${C[@]}"
row "apache <Location> TLS 1.2 (reneg): no cert" client-cert-required none "https://localhost:$L12/secure/" "${C[@]}"
row "apache <Location> TLS 1.2 (reneg): expired" client-cert-rejected expired "https://localhost:$L12/secure/" "${C[@]}"
# s_server
for v in 13 12; do
  if [[ $v == 13 ]]; then s=$S13 t="TLS 1.3"; else s=$S12 t="TLS 1.2"; fi
  row "s_server -Verify 1 $t: good" ok good "https://localhost:$s/" "${C[@]}"
  row "s_server -Verify 1 $t: no cert" client-cert-required none "https://localhost:$s/" "${C[@]}"
  row "s_server -Verify 1 $t: other CA" client-cert-rejected other "https://localhost:$s/" "${C[@]}"
  row "s_server -Verify 1 $t: expired" client-cert-rejected expired "https://localhost:$s/" "${C[@]}"
done
row "server cert expired" server-cert-untrusted none "https://localhost:$SEXP/" "${C[@]}"
row "server cert for wrong name" server-cert-untrusted none "https://localhost:$SWN/" "${C[@]}"
row "no --cacert (private CA)" server-cert-untrusted none "https://localhost:$SPLAIN/"
row "no --cacert, -k" ok none "https://localhost:$SPLAIN/" -k
row "server TLS1.2 only, --tls-min 1.3" tls-handshake-failure none "https://localhost:$SPLAIN/" "${C[@]}" --tls-min 1.3
row "server TLS1.3 only, --tls-max 1.2" tls-handshake-failure none "https://localhost:$S13ONLY/" "${C[@]}" --tls-max 1.2
# network and hostile peers
# (no DNS-failure row: curl cannot be pointed at a local DNS server, and a real lookup would leave loopback;
# suite_dns.sh covers the probe's side with a fake server on 127.0.0.1)
row "closed port" connect-failure none "https://127.0.0.1:$P_CLOSED/"
row "accept, never answer, --max-time 2" timeout none "https://127.0.0.1:$P_SILENT/" "${C[@]}" --max-time 2
row "plain HTTP on the port" tls-handshake-failure none "https://127.0.0.1:$P_PLAIN/" "${C[@]}"
row "non-TLS garbage" tls-handshake-failure none "https://127.0.0.1:$P_GARBAGE/" "${C[@]}"
row "wrong .p12 password" identity-error wrongpw "https://localhost:$N_ON/" "${C[@]}"
row "missing .p12 file" identity-error missing "https://localhost:$N_ON/" "${C[@]}"
row "TLS ok, closed without response" protocol-error none "https://localhost:$P_TLSCLOSE/" "${C[@]}"
row "TLS ok, garbage instead of HTTP" protocol-error none "https://localhost:$P_TLSGARB/" "${C[@]}"
row "TLS ok, body shorter than Content-Length" protocol-error none "https://localhost:$P_TLSTRUNC/" "${C[@]}"

echo "| scenario | expected probe verdict | probe: exit verdict | curl 7.88: exit: message | curl http_code |"
echo "|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
