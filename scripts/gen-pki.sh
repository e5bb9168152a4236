#!/usr/bin/env bash
# gen-pki.sh OUTDIR — a throw-away test PKI for the integration tests (nothing is committed).
#
# The PKCS#12 password is taken from the environment variable MTLS_TEST_P12_PASSWORD (default: a fixed
# test value). It is handed to openssl as `env:VAR`, so it never appears on a command line or in output.
#
# Layout of OUTDIR (all keys EC P-256, unencrypted PEM):
#   root-ca.{crt,key}              "mtls-probe Test Root CA"
#   intermediate-ca.{crt,key}      "mtls-probe Test Intermediate CA" (signed by the root)
#   ca.pem                         the root alone: what a client passes to --cacert
#   client-ca-bundle.pem           root + intermediate: what a server trusts for client certificates
#   server.{crt,key}               CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1 (by the intermediate)
#   server-chain.pem               server leaf + intermediate
#   server-expired.{crt,key}, server-expired-chain.pem      valid 2020-01-01 .. 2021-01-01
#   server-wrongname.{crt,key}, server-wrongname-chain.pem  SAN DNS:wrong-name.example only
#   client-good.{crt,key}          EKU clientAuth (by the intermediate)
#   client-expired.{crt,key}       EKU clientAuth, valid 2020-01-01 .. 2021-01-01
#   client-notyet.{crt,key}        EKU clientAuth, valid 2090-01-01 .. 2091-01-01
#   client-serverauth.{crt,key}    EKU serverAuth only
#   other-ca.{crt,key}             "mtls-probe Other Root CA" (unrelated to the servers)
#   client-other.{crt,key}         EKU clientAuth, signed by the other CA
#   client-*-chain.pem             leaf + issuing CA (intermediate, or other CA)
#   client-good.p12                modern PKCS#12 (AES-256-CBC, PBKDF2, SHA-256 MAC) with the intermediate
#   client-good-legacy.p12         legacy PKCS#12 (RC2-40 / 3DES, SHA-1 MAC) with the intermediate
#   client-{expired,notyet,serverauth,other}.p12   modern PKCS#12 of the bad client identities
#   client-nokey.p12               certificates only, no private key (an identity error)
#   client-mismatch.key            a key that does not match client-good.crt (an identity error)
set -euo pipefail

out=${1:?usage: gen-pki.sh OUTDIR}
mkdir -p "$out"
cd "$out"
: "${MTLS_TEST_P12_PASSWORD:=mtls-probe-test-pw-7Qz}"
export MTLS_TEST_P12_PASSWORD

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# One openssl-ca configuration for all three CAs; the CA files are chosen per call with -cert/-keyfile.
mkdir -p .ca
: > .ca/index.txt
echo 1000 > .ca/serial
cat > .ca/ca.cnf <<'EOF'
[ ca ]
default_ca = test_ca
[ test_ca ]
dir             = .ca
database        = .ca/index.txt
serial          = .ca/serial
new_certs_dir   = .ca
default_md      = sha256
default_days    = 3650
policy          = policy_any
unique_subject  = no
copy_extensions = none
email_in_dn     = no
[ policy_any ]
commonName       = supplied
organizationName = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_root ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
[ v3_intermediate ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
[ v3_server ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
[ v3_server_wrongname ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:wrong-name.example
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
[ v3_client ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
[ v3_client_serverauth ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EOF

# sign NAME SUBJECT EXT ISSUER_CRT ISSUER_KEY [extra openssl-ca args (dates)]
sign() {
  local name=$1 subj=$2 ext=$3 icrt=$4 ikey=$5
  shift 5
  newkey "$name.key"
  openssl req -new -config .ca/ca.cnf -key "$name.key" -subj "$subj" -out ".ca/$name.csr"
  openssl ca -batch -notext -preserveDN -config .ca/ca.cnf -cert "$icrt" -keyfile "$ikey" -extensions "$ext" \
    -in ".ca/$name.csr" -out "$name.crt" "$@" 2>/dev/null
}

# Roots (self-signed through openssl ca -selfsign so they carry the same extensions layout).
selfsigned_root() {
  local name=$1 subj=$2
  newkey "$name.key"
  openssl req -new -config .ca/ca.cnf -key "$name.key" -subj "$subj" -out ".ca/$name.csr"
  openssl ca -batch -notext -preserveDN -selfsign -config .ca/ca.cnf -keyfile "$name.key" -extensions v3_root \
    -in ".ca/$name.csr" -out "$name.crt" -startdate 20200101000000Z -days 7300 2>/dev/null
}

selfsigned_root root-ca "/O=mtls-probe tests/CN=mtls-probe Test Root CA"
selfsigned_root other-ca "/O=mtls-probe tests/CN=mtls-probe Other Root CA"
sign intermediate-ca "/O=mtls-probe tests/CN=mtls-probe Test Intermediate CA" v3_intermediate \
  root-ca.crt root-ca.key -startdate 20200101000000Z -days 7000

I=(intermediate-ca.crt intermediate-ca.key)
PAST=(-startdate 20200101000000Z -enddate 20210101000000Z)
FUTURE=(-startdate 20900101000000Z -enddate 20910101000000Z)

sign server            "/O=mtls-probe tests/CN=localhost"            v3_server            "${I[@]}"
sign server-expired    "/O=mtls-probe tests/CN=localhost"            v3_server            "${I[@]}" "${PAST[@]}"
sign server-wrongname  "/O=mtls-probe tests/CN=wrong-name.example"   v3_server_wrongname  "${I[@]}"
sign client-good       "/O=mtls-probe tests/CN=good-client"          v3_client            "${I[@]}"
sign client-expired    "/O=mtls-probe tests/CN=expired-client"       v3_client            "${I[@]}" "${PAST[@]}"
sign client-notyet     "/O=mtls-probe tests/CN=not-yet-valid-client" v3_client            "${I[@]}" "${FUTURE[@]}"
sign client-serverauth "/O=mtls-probe tests/CN=serverauth-only-client" v3_client_serverauth "${I[@]}"
sign client-other      "/O=mtls-probe tests/CN=other-ca-client"      v3_client            other-ca.crt other-ca.key

cp root-ca.crt ca.pem
cat root-ca.crt intermediate-ca.crt > client-ca-bundle.pem
for s in server server-expired server-wrongname; do
  cat "$s.crt" intermediate-ca.crt > "$s-chain.pem"
done
for c in client-good client-expired client-notyet client-serverauth; do
  cat "$c.crt" intermediate-ca.crt > "$c-chain.pem"
done
cat client-other.crt other-ca.crt > client-other-chain.pem

p12() {  # p12 NAME OUTFILE ISSUER [extra args]
  local name=$1 outf=$2 issuer=$3
  shift 3
  openssl pkcs12 -export -in "$name.crt" -inkey "$name.key" -certfile "$issuer" -name "$name" \
    -passout env:MTLS_TEST_P12_PASSWORD -out "$outf" "$@"
}
p12 client-good       client-good.p12        intermediate-ca.crt
p12 client-good       client-good-legacy.p12 intermediate-ca.crt -legacy
p12 client-expired    client-expired.p12     intermediate-ca.crt
p12 client-notyet     client-notyet.p12      intermediate-ca.crt
p12 client-serverauth client-serverauth.p12  intermediate-ca.crt
p12 client-other      client-other.p12       other-ca.crt
openssl pkcs12 -export -nokeys -in client-good.crt -certfile intermediate-ca.crt \
  -passout env:MTLS_TEST_P12_PASSWORD -out client-nokey.p12
newkey client-mismatch.key

rm -rf .ca
# Throw-away material, readable by the unprivileged worker processes of nginx/apache.
chmod 755 .
chmod 644 ./*
