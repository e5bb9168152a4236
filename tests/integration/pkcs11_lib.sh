# pkcs11_lib.sh — SoftHSM2 tokens for the PKCS#11 suites, made at test time in the suite's temp dir.
# shellcheck shell=bash disable=SC2034  # the variables set here are used by the suites that source this file
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
#   source "$(dirname "${BASH_SOURCE[0]}")/pkcs11_lib.sh"
#   make_tmp; gen_pki; p11_make_tokens
#
# p11_make_tokens makes $P11_DIR ($TMP/p11: SoftHSM's config and token directory, nothing outside the temp
# dir; SOFTHSM2_CONF is exported so that SoftHSM, also when loaded by p11-kit's proxy module, sees only these
# tokens) with:
#   token probe-rsa   client    id 01  RSA-2048 key pair + certificate (EKU clientAuth) by the test root CA
#                     stranger  id 02  P-256 key pair + certificate by the other (untrusted) root CA
#                     nosign    id 03  RSA-2048 key pair with CKA_SIGN false (decrypt only) + certificate
#                     mismatch  id 04  P-256 key pair + a certificate for another key (probe-ec's client)
#   token probe-ec    client    id 01  P-256 key pair + certificate by the test root CA
# Keys are generated on the token; the public key is read back and certified with the openssl CLI
# (x509 -req -force_pubkey); the certificate is written back with the key's label and id.
#
# PINs: random per run, only in exported environment variables (P11_PIN_ENV names the user PIN's,
# P11_WRONG_PIN_ENV a wrong one's) and in mode-600 files in $P11_DIR (P11_PIN_FILE, P11_WRONG_PIN_FILE).
# Tools get them as `--pin env:VAR` (pkcs11-tool) or GNUTLS_PIN (p11tool): never on a command line, never
# echoed; xtrace is off while they are handled. p11_no_pin_in FILE... checks that no PIN is in the files.

SOFTHSM_MODULE=${MTLS_SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
P11_PROXY_MODULE=/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so
P11_SPY_MODULE=/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so
P11_PIN_ENV=MTLS_TEST_PKCS11_PIN
P11_WRONG_PIN_ENV=MTLS_TEST_PKCS11_WRONG_PIN
P11_SO_PIN_ENV=MTLS_TEST_PKCS11_SO_PIN
P11_DIR=""
P11_PIN_FILE=""
P11_WRONG_PIN_FILE=""
P11_SERIAL=4096  # serial numbers of the certificates the fixture issues

# p11_require_tools — the packages of scripts/install-deps.sh that the fixture needs, or a FATAL
p11_require_tools() {
  local missing=() f
  for f in "$SOFTHSM_MODULE" "$P11_PROXY_MODULE" "$P11_SPY_MODULE" /usr/bin/pkcs11-tool /usr/bin/p11tool; do
    [[ -e $f ]] || missing+=("$f")
  done
  if ((${#missing[@]})); then
    echo "FATAL: missing ${missing[*]} (scripts/install-deps.sh: softhsm2 opensc gnutls-bin p11-kit-modules)" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
}

# _p11_tool ARGS... — pkcs11-tool on SoftHSM; its output goes to $P11_DIR/fixture.log (no PIN is in it:
# PINs are passed as env:VAR)
_p11_tool() {
  pkcs11-tool --module "$SOFTHSM_MODULE" "$@" >>"$P11_DIR/fixture.log" 2>&1
}

# _p11_new_pins — random PINs into the environment and into mode-600 files; xtrace off meanwhile
_p11_new_pins() {
  local had_x=0
  [[ $- == *x* ]] && had_x=1
  set +x
  local old_umask
  old_umask=$(umask)
  umask 077
  export "$P11_PIN_ENV=pin-$(openssl rand -hex 6)"
  export "$P11_WRONG_PIN_ENV=wrong-$(openssl rand -hex 6)"
  export "$P11_SO_PIN_ENV=so-$(openssl rand -hex 6)"
  P11_PIN_FILE="$P11_DIR/pin"
  P11_WRONG_PIN_FILE="$P11_DIR/wrong-pin"
  printf '%s\n' "${!P11_PIN_ENV}" >"$P11_PIN_FILE"
  printf '%s\n' "${!P11_WRONG_PIN_ENV}" >"$P11_WRONG_PIN_FILE"
  chmod 600 "$P11_PIN_FILE" "$P11_WRONG_PIN_FILE"
  umask "$old_umask"
  ((had_x)) && set -x
  return 0
}

# _p11_init_token LABEL — initialises SoftHSM's free slot as LABEL with the SO PIN and the user PIN
_p11_init_token() {
  local label=$1 slot
  slot=$(pkcs11-tool --module "$SOFTHSM_MODULE" -L 2>/dev/null |
    awk '/^Slot/ {id=$3} /uninitialized/ {gsub(/[():]/, "", id); print id; exit}')
  [[ -n $slot ]] || die "pkcs11 fixture: SoftHSM has no free slot for $label"
  _p11_tool --slot "$slot" --init-token --label "$label" --so-pin "env:$P11_SO_PIN_ENV" ||
    die "pkcs11 fixture: init-token $label failed (see $P11_DIR/fixture.log)"
  _p11_tool --token-label "$label" --login --login-type so --so-pin "env:$P11_SO_PIN_ENV" \
    --init-pin --pin "env:$P11_PIN_ENV" || die "pkcs11 fixture: init-pin $label failed"
}

# _p11_keypair TOKEN LABEL ID KEY_TYPE — a signing key pair generated on the token (pkcs11-tool)
_p11_keypair() {
  _p11_tool --token-label "$1" --login --pin "env:$P11_PIN_ENV" --keypairgen --key-type "$4" \
    --label "$2" --id "$3" --usage-sign || die "pkcs11 fixture: keypairgen $1/$2 failed"
}

# _p11_decrypt_only_keypair TOKEN LABEL ID — an RSA-2048 key pair whose private key has CKA_SIGN false.
# pkcs11-tool --usage-decrypt does not do it: it sets CKA_DECRYPT and leaves CKA_SIGN to the module, and
# SoftHSM's default is true ("Usage: decrypt, sign, unwrap"). p11tool --mark-decrypt sets CKA_SIGN false.
_p11_decrypt_only_keypair() {
  local had_x=0
  [[ $- == *x* ]] && had_x=1
  set +x
  GNUTLS_PIN=${!P11_PIN_ENV} p11tool --provider "$SOFTHSM_MODULE" --login --generate-privkey rsa --bits 2048 \
    --label "$2" --id "$3" --mark-decrypt "pkcs11:token=$1" >>"$P11_DIR/fixture.log" 2>&1 ||
    die "pkcs11 fixture: p11tool generate $1/$2 failed"
  ((had_x)) && set -x
  # the case is meaningless unless the token says so
  local usage
  usage=$(pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "$1" --login --pin "env:$P11_PIN_ENV" -O \
    --type privkey 2>/dev/null | grep -A3 "label: *$2\$" | grep 'Usage:')
  [[ $usage == *decrypt* && $usage != *sign* ]] || die "pkcs11 fixture: $1/$2 is not decrypt-only: $usage"
}

# _p11_certify TOKEN LABEL ID ISSUER_CRT ISSUER_KEY CN — reads the public key of TOKEN/ID and issues a
# client certificate for it (EKU clientAuth, as gen-pki's client certificates) into $P11_DIR/TOKEN-LABEL.der.
# The one request ($P11_DIR/req.csr) is signed by a throw-away key; -force_pubkey and -subj put the token's
# key and the name in the certificate.
_p11_certify() {
  local token=$1 label=$2 id=$3 icrt=$4 ikey=$5 cn=$6 base="$P11_DIR/$1-$2"
  _p11_tool --token-label "$token" --read-object --type pubkey --id "$id" -o "$base.pub.der" ||
    die "pkcs11 fixture: reading the public key of $token/$label failed"
  if [[ ! -f $P11_DIR/req.csr ]]; then
    openssl req -new -config "$P11_DIR/x509.cnf" -key "$PKI/client-good.key" -out "$P11_DIR/req.csr" \
      2>>"$P11_DIR/fixture.log" || die "pkcs11 fixture: the certificate request failed"
  fi
  openssl x509 -req -in "$P11_DIR/req.csr" -subj "/CN=$cn" -CA "$icrt" -CAkey "$ikey" \
    -force_pubkey "$base.pub.der" -set_serial "$((P11_SERIAL += 1))" -days 365 -sha256 \
    -extfile "$P11_DIR/x509.cnf" -extensions v3_client -outform DER -out "$base.der" \
    >>"$P11_DIR/fixture.log" 2>&1 || die "pkcs11 fixture: issuing $token/$label failed"
}

# _p11_write_cert TOKEN LABEL ID CERT_DER — the certificate as a token object with the key's label and id
_p11_write_cert() {
  _p11_tool --token-label "$1" --login --pin "env:$P11_PIN_ENV" --write-object "$4" --type cert \
    --label "$2" --id "$3" || die "pkcs11 fixture: writing the certificate $1/$2 failed"
}

p11_make_tokens() {
  [[ -n $PKI ]] || die "p11_make_tokens: run gen_pki first"
  P11_DIR="$TMP/p11"
  mkdir -p "$P11_DIR/tokens"
  chmod 700 "$P11_DIR"
  : >"$P11_DIR/fixture.log"
  cat >"$P11_DIR/softhsm2.conf" <<EOF
directories.tokendir = $P11_DIR/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
  export SOFTHSM2_CONF="$P11_DIR/softhsm2.conf"
  cat >"$P11_DIR/x509.cnf" <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_client ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EOF
  _p11_new_pins
  local root_crt="$PKI/root-ca.crt" root_key="$PKI/root-ca.key"

  _p11_init_token probe-rsa
  _p11_init_token probe-ec
  _p11_keypair probe-rsa client 01 rsa:2048
  _p11_keypair probe-rsa stranger 02 EC:prime256v1
  _p11_decrypt_only_keypair probe-rsa nosign 03
  _p11_keypair probe-rsa mismatch 04 EC:prime256v1
  _p11_keypair probe-ec client 01 EC:prime256v1

  _p11_certify probe-rsa client 01 "$root_crt" "$root_key" "pkcs11 RSA client"
  _p11_certify probe-rsa stranger 02 "$PKI/other-ca.crt" "$PKI/other-ca.key" "pkcs11 stranger"
  _p11_certify probe-rsa nosign 03 "$root_crt" "$root_key" "pkcs11 decrypt-only client"
  _p11_certify probe-ec client 01 "$root_crt" "$root_key" "pkcs11 EC client"
  _p11_write_cert probe-rsa client 01 "$P11_DIR/probe-rsa-client.der"
  _p11_write_cert probe-rsa stranger 02 "$P11_DIR/probe-rsa-stranger.der"
  _p11_write_cert probe-rsa nosign 03 "$P11_DIR/probe-rsa-nosign.der"
  _p11_write_cert probe-rsa mismatch 04 "$P11_DIR/probe-ec-client.der"
  _p11_write_cert probe-ec client 01 "$P11_DIR/probe-ec-client.der"
}

# p11_no_pin_in FILE... — true when none of the FILEs contains any of the suite's PINs (compared by
# helper.py, so a PIN never reaches a command line)
p11_no_pin_in() {
  "$PY" -I "$HELPER" no-secret "$P11_PIN_ENV" "$@" >/dev/null 2>&1 &&
    "$PY" -I "$HELPER" no-secret "$P11_WRONG_PIN_ENV" "$@" >/dev/null 2>&1 &&
    "$PY" -I "$HELPER" no-secret "$P11_SO_PIN_ENV" "$@" >/dev/null 2>&1
}
