#!/usr/bin/env bash
# Seeds for the identity fuzz target, made at run time with the openssl CLI (no certificate that expires
# is kept in the repo). Every protected file uses the password "x", which the target also tries.
#   bash tests/fuzz/make_identity_seeds.sh OUTDIR
set -euo pipefail
out=$1
mkdir -p "$out"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cd "$t"
q() { "$@" >/dev/null 2>&1; }
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 \
  -subj /CN=seed-ca
q openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr -subj /CN=seed
printf 'extendedKeyUsage=clientAuth\n' >ext
q openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 2 -extfile ext
q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key
p12() { q openssl pkcs12 -export -in leaf.pem "$@"; }
p12 -inkey leaf.key -certfile ca.pem -passout pass:x -out "$out/p12_aes_pw_x_chain.p12"
p12 -nokeys -passout pass:x -out "$out/p12_cert_only.p12"
p12 -inkey leaf.key -passout pass: -out "$out/p12_empty_password.p12"
p12 -inkey leaf.key -legacy -passout pass:x -out "$out/p12_legacy_rc2_pw_x.p12"
p12 -inkey leaf.key -nomac -passout pass:x -out "$out/p12_nomac_pw_x.p12"
p12 -inkey leaf.key -iter 1 -maciter -passout pass:x -out "$out/p12_pw_x_iter1.p12"
p12 -inkey leaf.key -keypbe NONE -certpbe NONE -passout pass: -out "$out/p12_unencrypted.p12"
cat leaf.pem leaf.key ca.pem >"$out/pem_cert_key_chain.pem"
cp leaf.pem "$out/pem_cert_no_key.pem"
cat leaf.pem other.key >"$out/pem_key_mismatch.pem"
cp leaf.key "$out/pem_key_no_cert.pem"
# the target splits its input at a line "=KEY=" into a certificate file and a key file
q openssl pkcs8 -topk8 -in leaf.key -passout pass:x -out enc8.key
{ cat leaf.pem; echo "=KEY="; cat enc8.key; } >"$out/pem_split_pkcs8_enc_pw_x.pem"
q openssl ec -in leaf.key -aes256 -passout pass:x -out enctrad.key
{ cat leaf.pem; echo "=KEY="; cat enctrad.key; } >"$out/pem_split_traditional_enc_pw_x.pem"
q openssl x509 -in leaf.pem -outform DER -out leaf.der
q openssl pkey -in leaf.key -outform DER -out leaf.kder
{ cat leaf.der; echo; echo "=KEY="; cat leaf.kder; } >"$out/der_cert_split_der_key.bin"
