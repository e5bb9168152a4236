#!/usr/bin/env bash
# `mtls-probe serve` must reproduce what real servers do: the same probe against nginx / apache2 and against
# serve staging the same behaviour (same PKI, same client CA list) must give the same verdict, exit code,
# alert, HTTP status and client-certificate facts.
#
#   bash suite_agree.sh /path/to/mtls-probe
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_tmp
gen_pki

read -r N_ON A13 A12 AL13 AL12 < <(free_port 5)

# ---- the real servers
start_nginx main "
  server {
    listen 127.0.0.1:$N_ON ssl;
$NGINX_TLS
    ssl_verify_client on;
    location / { return 200 \"ok\n\"; }
    location /forbidden { return 403; }
  }
" "$N_ON"
common="SSLEngine on
  SSLCertificateFile $PKI/server-chain.pem
  SSLCertificateKeyFile $PKI/server.key
  SSLCACertificateFile $PKI/client-ca-bundle.pem
  SSLVerifyDepth 3"
start_apache main "
Listen 127.0.0.1:$A13
Listen 127.0.0.1:$A12
Listen 127.0.0.1:$AL13
Listen 127.0.0.1:$AL12
<VirtualHost 127.0.0.1:$A13>
  $common
  SSLProtocol -all +TLSv1.3
  SSLVerifyClient require
</VirtualHost>
<VirtualHost 127.0.0.1:$A12>
  $common
  SSLProtocol -all +TLSv1.2
  SSLVerifyClient require
</VirtualHost>
<VirtualHost 127.0.0.1:$AL13>
  $common
  SSLProtocol -all +TLSv1.3
  <Location />
    SSLVerifyClient require
  </Location>
</VirtualHost>
<VirtualHost 127.0.0.1:$AL12>
  $common
  SSLProtocol -all +TLSv1.2
  <Location />
    SSLVerifyClient require
  </Location>
</VirtualHost>
" "$A13" "$A12" "$AL13" "$AL12"

# ---- serve staging the same behaviours with the same PKI
# serve_as VAR ARGS...: start_serve (lib.sh) with the suite's PKI; stores its URL in VAR.
serve_as() {
  local var=$1
  shift
  start_serve "$var" --cert "$PKI/server-chain.pem" --key "$PKI/server.key" \
    --client-ca "$PKI/client-ca-bundle.pem" "$@"
  # the server certificate is for localhost: keep the name, reach serve's address
  printf -v "$var" '%s' "${SERVE_URL/127.0.0.1/localhost}"
}
serve_as S_NGINX --nginx-style --status-for-path /forbidden=403
serve_as S13 --client-auth require --tls-max 1.3 --tls-min 1.3
serve_as S12 --client-auth require --tls-max 1.2
serve_as SL13 --client-auth require --client-auth-path / --tls-min 1.3
serve_as SL12 --client-auth require --client-auth-path / --tls-max 1.2

FIELDS=(verdict exit_code tls.version tls.alert.name tls.alert.from tls.client_cert_requested
  tls.client_cert_sent tls.client_cert_request_phase http.status client_cert.issuer_in_acceptable_ca_names)

# agree TITLE REAL_URL SERVE_URL ARGS...: probes both with ARGS and compares FIELDS.
agree() {
  local title=$1 real=$2 staged=$3
  shift 3
  scenario "$title"
  probe "${CACERT[@]}" "$@" "$real"
  local -A want=()
  local f
  for f in "${FIELDS[@]}"; do want[$f]=${J[$f]-<missing>}; done
  local real_summary="verdict ${J[verdict]-?} alert ${J[tls.alert.name]-?} status ${J[http.status]-?}"
  probe "${CACERT[@]}" "$@" "$staged"
  for f in "${FIELDS[@]}"; do
    if [[ ${J[$f]-<missing>} == "${want[$f]}" ]]; then
      _pass "serve agrees on $f (${want[$f]})"
    else
      _fail "serve agrees on $f: real server ${want[$f]}, serve ${J[$f]-<missing>}" "$real_summary"
    fi
  done
}

for id in GOOD NONE OTHER EXPIRED; do
  case $id in
    GOOD) args=("${ID_GOOD[@]}") ;;
    NONE) args=() ;;
    OTHER) args=("${ID_OTHER[@]}") ;;
    EXPIRED) args=("${ID_EXPIRED[@]}") ;;
  esac
  agree "nginx ssl_verify_client on vs serve --nginx-style: $id" "https://localhost:$N_ON/" "$S_NGINX" "${args[@]}"
  agree "apache vhost require TLS 1.3 vs serve require: $id" "https://localhost:$A13/" "$S13" "${args[@]}"
  agree "apache vhost require TLS 1.2 vs serve require --tls-max 1.2: $id" "https://localhost:$A12/" "$S12" "${args[@]}"
done
agree "apache vhost require TLS 1.3 vs serve: serverAuth-only certificate" "https://localhost:$A13/" "$S13" "${ID_SERVERAUTH[@]}"
agree "nginx 403 location vs serve --status-for-path: good certificate" "https://localhost:$N_ON/forbidden" \
  "${S_NGINX}forbidden" "${ID_GOOD[@]}"
for id in GOOD NONE OTHER; do
  case $id in
    GOOD) args=("${ID_GOOD[@]}") ;;
    NONE) args=() ;;
    OTHER) args=("${ID_OTHER[@]}") ;;
  esac
  agree "apache <Location> TLS 1.3 (post-handshake) vs serve --client-auth-path: $id" \
    "https://localhost:$AL13/" "$SL13" "${args[@]}"
  expect_json tls.client_cert_request_phase post-handshake
  agree "apache <Location> TLS 1.2 (renegotiation) vs serve --client-auth-path --tls-max 1.2: $id" \
    "https://localhost:$AL12/" "$SL12" "${args[@]}"
  expect_json tls.client_cert_request_phase renegotiation
done

finish
