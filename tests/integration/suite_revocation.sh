#!/usr/bin/env bash
# suite_revocation.sh PATH/TO/mtls-probe — revocation of the client certificate, with real components on
# loopback: `openssl ocsp` as the responder the certificates' AIA names, python's http.server for the CRLs
# their CDPs name, a closed port, a listener that never answers; `inspect --check-revocation` (PEM and
# PKCS#12), --crl, --ocsp-url; probes against `serve --crl`, `serve --ocsp-url`, Apache
# (SSLCARevocationCheck chain) and nginx (ssl_crl), each with and without --check-revocation.
# shellcheck disable=SC2119  # assert_no_password takes an optional argument
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_tmp
PKI="$TMP/rpki" # _check_no_secrets looks for this PKI's private keys in every output
mkdir -p "$PKI"
read -r OCSP_PORT HTTP_PORT DOWN_PORT SILENT_PORT APACHE_PORT NGINX_PORT BADSIG_PORT < <(free_port 7)
OCSP="http://127.0.0.1:$OCSP_PORT"
CRLS="http://127.0.0.1:$HTTP_PORT"

# ---- the PKI: root -> intermediate -> client certificates, each client naming a responder and a CRL
cd "$PKI" || die "no PKI dir"
ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
# issue NAME SERIAL ISSUER EXTENSIONS — NAME.key/NAME.pem, signed by ISSUER.pem/ISSUER.key
issue() {
  local name=$1 serial=$2 issuer=$3 ext=$4
  ec_key "$name.key"
  printf '%b' "$ext" >"$name.ext"
  openssl req -new -key "$name.key" -subj "/O=mtls-probe revocation test/CN=$name" -out "$name.csr" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" -set_serial "0x$serial" \
    -days 30 -extfile "$name.ext" -out "$name.pem" 2>/dev/null || die "cannot issue $name"
}
ec_key root.key
openssl req -x509 -key root.key -subj "/O=mtls-probe revocation test/CN=Rev Root" -days 30 -out root.pem \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null ||
  die "cannot make the root"
CA_EXT='basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n'
issue inter 0100 root "${CA_EXT}crlDistributionPoints=URI:$CRLS/root.crl\n"
issue server 0200 root 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
CLIENT_EXT='extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n'
aia_cdp() { printf '%sauthorityInfoAccess=OCSP;URI:%s\\ncrlDistributionPoints=URI:%s\\n' "$CLIENT_EXT" "$1" "$2"; }
issue good 1001 inter "$(aia_cdp "$OCSP" "$CRLS/ca.crl")"
issue revoked 1002 inter "$(aia_cdp "$OCSP" "$CRLS/ca.crl")"
issue unknown 1003 inter "$(aia_cdp "$OCSP" "$CRLS/ca.crl")"
issue down 1004 inter "$(aia_cdp "http://127.0.0.1:$DOWN_PORT/" "http://127.0.0.1:$DOWN_PORT/ca.crl")"
issue silent 1005 inter "$(aia_cdp "http://127.0.0.1:$SILENT_PORT/" "$CRLS/ca.crl")"
issue bigcrl 1006 inter "$(aia_cdp "$OCSP" "$CRLS/big.crl")"
for c in good revoked unknown down silent bigcrl; do cat "$c.pem" inter.pem >"$c-chain.pem"; done
openssl pkcs12 -export -in good.pem -inkey good.key -certfile inter.pem -passout "env:$PW_ENV" \
  -out good.p12 2>/dev/null || die "cannot make good.p12"
cat inter.pem root.pem >client-ca.pem

# openssl ca's database: the responder's and the CRLs' source. 1003 is not in it (the responder does not
# know it); 1002 is revoked for keyCompromise.
subj() { openssl x509 -in "$1.pem" -noout -subject -nameopt compat | sed 's/^subject=//'; }
EXP=$(date -u -d '+30 days' +%y%m%d%H%M%SZ)
REV_AT=$(date -u -d '-1 hour' +%y%m%d%H%M%SZ)
{
  printf 'V\t%s\t\t1001\tunknown\t%s\n' "$EXP" "$(subj good)"
  printf 'R\t%s\t%s,keyCompromise\t1002\tunknown\t%s\n' "$EXP" "$REV_AT" "$(subj revoked)"
  printf 'V\t%s\t\t1004\tunknown\t%s\n' "$EXP" "$(subj down)"
  printf 'V\t%s\t\t1005\tunknown\t%s\n' "$EXP" "$(subj silent)"
  printf 'V\t%s\t\t1006\tunknown\t%s\n' "$EXP" "$(subj bigcrl)"
} >inter-index.txt
printf 'V\t%s\t\t0100\tunknown\t%s\n' "$EXP" "$(subj inter)" >root-index.txt
# gen_crl CA INDEX OUT
gen_crl() {
  cat >"$1-ca.cnf" <<EOF
[ca]
default_ca = d
[d]
database = $PKI/$2
crlnumber = $PKI/$1-crlnumber
default_md = sha256
default_crl_days = 7
crl_extensions = e
[e]
authorityKeyIdentifier = keyid
EOF
  echo 01 >"$1-crlnumber"
  openssl ca -batch -config "$1-ca.cnf" -gencrl -keyfile "$1.key" -cert "$1.pem" -out "$3" 2>"$1-crl.log" ||
    { cat "$1-crl.log" >&2; die "cannot make the CRL of $1"; }
}
gen_crl inter inter-index.txt ca.crl.pem
gen_crl root root-index.txt root.crl.pem
mkdir -p "$TMP/www"
openssl crl -in ca.crl.pem -outform DER -out "$TMP/www/ca.crl"
openssl crl -in root.crl.pem -outform DER -out "$TMP/www/root.crl"
cp ca.crl.pem "$TMP/ca-local.crl.pem"
cp "$TMP/www/ca.crl" "$TMP/ca-local.crl"
# One byte more than the 10 MiB a CRL may have (its Content-Length refuses it before it is read).
head -c $((10 * 1024 * 1024 + 1)) /dev/zero >"$TMP/www/big.crl"
cat ca.crl.pem root.crl.pem >crl-chain.pem
cd "$TMP" || die "no temp dir"

# ---- the servers, each started once
start_ocsp_responder inter "$OCSP_PORT" "$PKI/inter-index.txt" "$PKI/inter.pem" "$PKI/inter.pem" "$PKI/inter.key"
# A responder that signs with the root's key: neither the issuer nor a responder the issuer delegated.
start_ocsp_responder badsig "$BADSIG_PORT" "$PKI/inter-index.txt" "$PKI/inter.pem" "$PKI/root.pem" "$PKI/root.key"
"$PY" -I -m http.server --bind 127.0.0.1 --directory "$TMP/www" "$HTTP_PORT" >"$TMP/http.log" 2>&1 &
track_pid $! http-crl "$TMP/http.log"
wait_port "$HTTP_PORT" $! || die "the CRL server did not start"
start_python_listener silent "$SILENT_PORT" silent

# inspect ARGS... — `inspect --json ARGS` in an empty directory; OUT, ERR, RC, WALL_MS, J[...]
inspect() {
  OUT="$TMP/probe.out" ERR="$TMP/probe.err"
  local cwd="$TMP/probe-cwd" t0 t1
  rm -rf "$cwd" && mkdir -p "$cwd"
  t0=$(date +%s%N)
  (cd "$cwd" && exec timeout -k 2 60 "$PROBE" inspect --json "$@" >"$OUT" 2>"$ERR" </dev/null)
  RC=$?
  t1=$(date +%s%N)
  WALL_MS=$(((t1 - t0) / 1000000))
  _load_json
  echo "  (inspect exit $RC in ${WALL_MS}ms)"
  _check_no_secrets
}
expect_exit() { if [[ $RC == "$1" ]]; then _pass "exit code $1"; else _fail "exit code $1 (got $RC)" "$(_evidence)"; fi; }
pem_id() { echo --cert "$PKI/$1-chain.pem" --key "$PKI/$1.key"; }
# shellcheck disable=SC2207
ROOT=(--cacert "$PKI/root.pem")

scenario "inspect: good (PEM with its intermediate): OCSP and CRL say good, the intermediate's CRL too"
# shellcheck disable=SC2046
inspect $(pem_id good) "${ROOT[@]}" --check-revocation
expect_exit 0
expect_json verdict ok
expect_json revocation.0.depth 0
expect_json revocation.0.serial "\"1001\""
expect_json revocation.0.issuer_known true
expect_json revocation.0.ocsp.status good
expect_json revocation.0.ocsp.source "$OCSP"
expect_json revocation.0.ocsp.nonce_verified true
expect_json revocation.0.crl.status good
expect_json revocation.0.crl.source "$CRLS/ca.crl"
expect_json revocation.1.subject "CN=inter,O=mtls-probe revocation test"
expect_json revocation.1.ocsp.status not-available
expect_json revocation.1.crl.status good
expect_json revocation.1.crl.source "$CRLS/root.crl"

scenario "inspect: the same identity as PKCS#12"
inspect --p12 "$PKI/good.p12" --p12-password-env "$PW_ENV" "${ROOT[@]}" --check-revocation
expect_exit 0
expect_json revocation.0.ocsp.status good
expect_json revocation.0.crl.status good
assert_no_password

scenario "inspect without --check-revocation: nothing is asked"
# shellcheck disable=SC2046
inspect $(pem_id good) "${ROOT[@]}"
expect_json revocation null

scenario "inspect: revoked (keyCompromise): the identity is unusable (exit 2)"
# shellcheck disable=SC2046
inspect $(pem_id revoked) "${ROOT[@]}" --check-revocation
expect_exit 2
expect_json verdict identity-error
expect_json revocation.0.ocsp.status revoked
expect_json revocation.0.ocsp.reason keyCompromise
expect_json revocation.0.crl.status revoked
expect_json revocation.0.crl.reason keyCompromise
check "revoked_at is ISO 8601 UTC (an hour ago)" \
  grep -Eq "\"revoked_at\": \"$(date -u -d '-1 hour' +%Y-%m-%d)T[0-9:]{8}Z\"" "$OUT"
expect_json findings.0.code revoked
expect_json_contains summary "revoked"

scenario "inspect: a certificate the responder does not know"
# shellcheck disable=SC2046
inspect $(pem_id unknown) "${ROOT[@]}" --check-revocation
expect_exit 0
expect_json revocation.0.ocsp.status unknown
expect_json revocation.0.crl.status good
expect_json_contains summary "warning"

scenario "inspect: responder and CRL server down (closed port): refused, at once"
# shellcheck disable=SC2046
inspect $(pem_id down) "${ROOT[@]}" --check-revocation --revocation-timeout 2
expect_exit 0
expect_json revocation.0.ocsp.status unreachable
expect_json revocation.0.ocsp.failure refused
expect_json revocation.0.crl.status unreachable
expect_json revocation.0.crl.failure refused
note_overhead # a run that waits for nothing: the margin of the timeout check below

scenario "inspect: a responder that accepts and never answers: bounded by --revocation-timeout 2"
# shellcheck disable=SC2046
inspect $(pem_id silent) "${ROOT[@]}" --check-revocation --revocation-timeout 2
expect_json revocation.0.ocsp.status unreachable
expect_json revocation.0.ocsp.failure timeout
expect_json revocation.0.crl.status good
check "it waited for the timeout (>= 2 s)" test "$WALL_MS" -ge 2000
expect_within 2

scenario "inspect: a CRL above 10 MiB is refused"
# shellcheck disable=SC2046
inspect $(pem_id bigcrl) "${ROOT[@]}" --check-revocation
expect_json revocation.0.crl.status unreachable
expect_json revocation.0.crl.failure too-large
expect_json revocation.0.ocsp.status good

scenario "inspect --crl FILE (PEM, then DER): offline, instead of the CDP"
# shellcheck disable=SC2046
inspect $(pem_id revoked) "${ROOT[@]}" --check-revocation --crl "$TMP/ca-local.crl.pem" \
  --ocsp-url "http://127.0.0.1:$DOWN_PORT/"
expect_json revocation.0.crl.status revoked
expect_json revocation.0.crl.source "$TMP/ca-local.crl.pem"
expect_json revocation.0.ocsp.failure refused
# shellcheck disable=SC2046
inspect $(pem_id revoked) "${ROOT[@]}" --check-revocation --crl "$TMP/ca-local.crl"
expect_json revocation.0.crl.status revoked
expect_json revocation.0.crl.source "$TMP/ca-local.crl"

scenario "inspect --ocsp-url: overrides the AIA (the 'down' certificate asks the working responder)"
# shellcheck disable=SC2046
inspect $(pem_id down) "${ROOT[@]}" --check-revocation --ocsp-url "$OCSP"
expect_json revocation.0.ocsp.status good
expect_json revocation.0.ocsp.source "$OCSP"

scenario "inspect: an OCSP answer signed by someone else than the issuer is not believed"
# shellcheck disable=SC2046
inspect $(pem_id revoked) "${ROOT[@]}" --check-revocation --ocsp-url "http://127.0.0.1:$BADSIG_PORT/"
expect_json revocation.0.ocsp.status unreachable
expect_json revocation.0.ocsp.failure signature-invalid
expect_json revocation.0.crl.status revoked

scenario "inspect: usage errors"
# shellcheck disable=SC2046
inspect $(pem_id good) --crl "$TMP/ca-local.crl"
expect_exit 1
expect_json_contains error "go with --check-revocation"
# shellcheck disable=SC2046
inspect $(pem_id good) --check-revocation --ocsp-url https://127.0.0.1/
expect_exit 1
# shellcheck disable=SC2046
inspect $(pem_id good) --check-revocation --crl "$TMP/www/big.crl"
expect_exit 1

scenario "inspect text report: the REVOCATION section"
(cd "$TMP" && "$PROBE" inspect $(pem_id revoked) "${ROOT[@]}" --check-revocation >"$TMP/inspect.txt" 2>&1)
check "REVOCATION section with the OCSP answer" grep -Eq "REVOCATION +CN=revoked" "$TMP/inspect.txt"
check "OCSP line says revoked ... keyCompromise" grep -Eq "OCSP +revoked on .*, keyCompromise" "$TMP/inspect.txt"

# ---- probes: the servers that check revocation
# probe_as NAME URL ARGS... — a probe with NAME's PEM identity, trusting the root
probe_as() {
  local name=$1 url=$2
  shift 2
  # shellcheck disable=SC2046
  probe "$url" $(pem_id "$name") "${ROOT[@]}" "$@"
}

start_serve crl --cert "$PKI/server.pem" --key "$PKI/server.key" --client-ca "$PKI/client-ca.pem" \
  --crl "$PKI/ca.crl.pem"
SERVE_CRL=$SERVE_URL
start_serve ocsp --cert "$PKI/server.pem" --key "$PKI/server.key" --client-ca "$PKI/client-ca.pem" \
  --ocsp-url "$OCSP"
SERVE_OCSP=$SERVE_URL SERVE_OCSP_LOG=$SERVE_LOG
start_serve ocspdown --cert "$PKI/server.pem" --key "$PKI/server.key" --client-ca "$PKI/client-ca.pem" \
  --ocsp-url "http://127.0.0.1:$DOWN_PORT/"
SERVE_DOWN=$SERVE_URL SERVE_DOWN_LOG=$SERVE_LOG

scenario "serve --crl: a good client is served"
probe_as good "$SERVE_CRL"
expect_verdict ok 0
expect_json revocation null

scenario "serve --crl: a revoked client gets alert 44; the summary says the server considers it revoked"
probe_as revoked "$SERVE_CRL"
expect_verdict client-cert-rejected 9
expect_json tls.alert.code 44
expect_json_contains summary "considers your certificate revoked"

scenario "serve --crl + --check-revocation: the responder agrees"
probe_as revoked "$SERVE_CRL" --check-revocation
expect_json tls.alert.code 44
expect_json_contains summary "The OCSP responder agrees: revoked on"
expect_json_contains summary "keyCompromise"
expect_json revocation.0.ocsp.status revoked

scenario "serve --ocsp-url: good served, revoked gets alert 44 (serve asked the responder)"
probe_as good "$SERVE_OCSP"
expect_verdict ok 0
probe_as revoked "$SERVE_OCSP" --check-revocation
expect_verdict client-cert-rejected 9
expect_json tls.alert.code 44
expect_json_contains summary "agrees: revoked"
check "serve's log names the OCSP answer" grep -q "OCSP $OCSP: revoked on .*certificate_revoked" "$SERVE_OCSP_LOG"

scenario "serve --ocsp-url to a closed port: fails closed with certificate_unknown, and says why"
probe_as good "$SERVE_DOWN"
expect_verdict client-cert-rejected 9
expect_json tls.alert.code 46
check "serve's log says the responder refused" grep -q "unreachable (refused).*certificate_unknown" "$SERVE_DOWN_LOG"

scenario "Apache SSLCARevocationCheck chain: revoked -> alert 44"
start_apache rev "
Listen 127.0.0.1:$APACHE_PORT
<VirtualHost 127.0.0.1:$APACHE_PORT>
  SSLEngine on
  SSLCertificateFile $PKI/server.pem
  SSLCertificateKeyFile $PKI/server.key
  SSLCACertificateFile $PKI/client-ca.pem
  SSLVerifyClient require
  SSLVerifyDepth 3
  SSLCARevocationCheck chain
  SSLCARevocationFile $PKI/crl-chain.pem
</VirtualHost>" "$APACHE_PORT"
probe_as good "https://127.0.0.1:$APACHE_PORT/"
expect_verdict ok 0
probe_as revoked "https://127.0.0.1:$APACHE_PORT/"
expect_verdict client-cert-rejected 9
expect_json tls.alert.code 44
expect_json_contains summary "considers your certificate revoked"
probe_as revoked "https://127.0.0.1:$APACHE_PORT/" --check-revocation
expect_json tls.alert.code 44
expect_json_contains summary "agrees: revoked on"

scenario "nginx ssl_crl: revoked -> the handshake completes, HTTP 400 'The SSL certificate error'"
start_nginx rev "
  server {
    listen 127.0.0.1:$NGINX_PORT ssl;
    server_name localhost;
    ssl_certificate $PKI/server.pem;
    ssl_certificate_key $PKI/server.key;
    ssl_client_certificate $PKI/client-ca.pem;
    ssl_verify_client on;
    ssl_verify_depth 3;
    ssl_crl $PKI/crl-chain.pem;
    location / { return 200 \"ok\n\"; }
  }" "$NGINX_PORT"
probe_as good "https://127.0.0.1:$NGINX_PORT/"
expect_verdict ok 0
probe_as revoked "https://127.0.0.1:$NGINX_PORT/"
expect_verdict client-cert-rejected 9
expect_json tls.alert null
expect_json http.status 400
expect_json_none_contains hints "responder"
probe_as revoked "https://127.0.0.1:$NGINX_PORT/" --check-revocation
expect_json http.status 400
expect_json_any_contains hints "says your certificate is revoked"
check "nginx's log says the certificate is revoked" grep -q "certificate revoked" "$LAST_DIR/logs/error.log"

scenario "probe: usage errors"
probe "https://127.0.0.1:$NGINX_PORT/" --check-revocation
expect_verdict usage-error 1
probe_as good "https://127.0.0.1:$NGINX_PORT/" --ocsp-url "$OCSP"
expect_verdict usage-error 1
printf 'https://127.0.0.1:%s/\n' "$NGINX_PORT" >"$TMP/targets.txt"
"$PROBE" batch --json --check-revocation "$TMP/targets.txt" >"$TMP/batch.out" 2>&1
check "batch --check-revocation is a usage error (exit 1), not silently ignored" test $? -eq 1
check "  and says so" grep -q "not a batch option" "$TMP/batch.out"

finish
