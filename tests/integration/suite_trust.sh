#!/usr/bin/env bash
# System trust without --cacert: the hashed CA directory ($SSL_CERT_DIR, subject-hash links as
# `openssl rehash` makes them) verifies a server whose root is in it, and only then; the bundle file
# ($SSL_CERT_FILE) is the fallback where no directory has hash links; the store is loaded only when a
# probe reaches TLS. Against `mtls-probe serve` with a server certificate from a CA made here.
#
#   bash suite_trust.sh /path/to/mtls-probe
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_tmp
C="$TMP/ca"
mkdir -p "$C"
# A root and a server certificate for 127.0.0.1 that it issues; an unrelated root for the negative case.
ossl() { (cd "$C" && openssl "$@") >>"$TMP/openssl.log" 2>&1 || die "openssl $1 failed: $(tail -n 5 "$TMP/openssl.log")"; }
EC=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
ossl req -x509 "${EC[@]}" -keyout root.key -out root.pem -days 2 -subj "/O=Trust Suite/CN=Trust Suite Root" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
ossl req -x509 "${EC[@]}" -keyout other.key -out other.pem -days 2 -subj "/O=Trust Suite/CN=Unrelated Root" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
ossl req "${EC[@]}" -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >"$C/server.ext"
ossl x509 -req -in server.csr -CA root.pem -CAkey root.key -set_serial 0x5151 -days 2 -extfile server.ext \
  -out server.pem
SECRET_KEY_DIRS="$C"  # the probe must never print any of these keys

# hashed_dir NAME PEM... — a directory holding the PEMs and their subject-hash links
hashed_dir() {
  local d="$TMP/$1"
  shift
  mkdir -p "$d"
  cp "$@" "$d/"
  openssl rehash "$d" >>"$TMP/openssl.log" 2>&1 || die "openssl rehash $d failed"
  compgen -G "$d/*.0" >/dev/null || die "openssl rehash made no hash links in $d"
  echo "$d"
}
WITH_ROOT=$(hashed_dir with-root "$C/root.pem")
WITHOUT_ROOT=$(hashed_dir without-root "$C/other.pem")
NO_LINKS="$TMP/no-links"
mkdir -p "$NO_LINKS"
cp "$C/root.pem" "$NO_LINKS/"  # a PEM but no hash link: OpenSSL's directory lookup cannot find it
EMPTY_FILE="$TMP/empty.pem"
: >"$EMPTY_FILE"

"$PROBE" serve --port 0 --cert "$C/server.pem" --key "$C/server.key" --client-auth none \
  >"$TMP/serve.out" 2>"$TMP/serve.err" </dev/null &
SERVE_PID=$!
track_pid "$SERVE_PID" serve "$TMP/serve.err"
source "$SRC_DIR/scripts/serve-url.sh"
URL=$(serve_url "$TMP/serve.out") || die "serve did not start: $(cat "$TMP/serve.err")"

# trust_probe DIR FILE ARGS... — probe with SSL_CERT_DIR / SSL_CERT_FILE set ("-": leave unset)
trust_probe() {
  local dir=$1 file=$2
  shift 2
  unset SSL_CERT_DIR SSL_CERT_FILE
  [[ $dir == - ]] || export SSL_CERT_DIR=$dir
  [[ $file == - ]] || export SSL_CERT_FILE=$file
  probe "$@"
  unset SSL_CERT_DIR SSL_CERT_FILE
}
expect_stderr() { check "stderr says: $1" grep -qF -- "$1" "$ERR"; }
expect_stderr_not() { check "stderr does not say: $1" bash -c '! grep -qF -- "$1" "$2"' _ "$1" "$ERR"; }

scenario "hashed SSL_CERT_DIR holding the root, SSL_CERT_FILE empty -> ok"
trust_probe "$WITH_ROOT" "$EMPTY_FILE" "$URL"
expect_verdict ok 0
expect_json server_cert.verify_code 0
expect_stderr "trust: hashed CA directory $WITH_ROOT"

scenario "hashed SSL_CERT_DIR without the root, SSL_CERT_FILE missing -> server-cert-untrusted"
trust_probe "$WITHOUT_ROOT" "$TMP/does-not-exist.pem" "$URL"
expect_verdict server-cert-untrusted 7
expect_stderr "trust: hashed CA directory $WITHOUT_ROOT"

scenario "SSL_CERT_DIR as a list: the root in the second directory -> ok"
trust_probe "$WITHOUT_ROOT:$WITH_ROOT" "$EMPTY_FILE" "$URL"
expect_verdict ok 0

scenario "no hash links anywhere: the bundle (SSL_CERT_FILE) is read instead -> ok"
trust_probe "$NO_LINKS" "$C/root.pem" "$URL"
expect_verdict ok 0
expect_stderr "trust: reading the CA bundle $C/root.pem"
expect_stderr "trust: no hashed CA directory"

scenario "no hash links and an empty bundle -> server-cert-untrusted"
trust_probe "$NO_LINKS" "$EMPTY_FILE" "$URL"
expect_verdict server-cert-untrusted 7

scenario "SSL_CERT_FILE set explicitly is read as well as the hashed directory (as OpenSSL's defaults do)"
trust_probe "$WITHOUT_ROOT" "$C/root.pem" "$URL"
expect_verdict ok 0

scenario "SSL_CERT_FILE beside the hash links (update-ca-certificates' layout) is not read: the links hold its roots"
BESIDE=$(hashed_dir beside "$C/other.pem")
cp "$C/root.pem" "$BESIDE/ca-certificates.crt"  # a bundle the links do not cover: shows it is not read
trust_probe "$BESIDE" "$BESIDE/ca-certificates.crt" "$URL"
expect_verdict server-cert-untrusted 7
expect_stderr_not "trust: reading the CA bundle"

scenario "system defaults: the suite's root is not in them -> server-cert-untrusted"
trust_probe - - "$URL"
expect_verdict server-cert-untrusted 7
if compgen -G "$(openssl version -d | sed 's/^OPENSSLDIR: "\(.*\)"$/\1/')/certs/*.0" >/dev/null; then
  expect_stderr "trust: hashed CA directory"
  expect_stderr_not "trust: reading the CA bundle"
fi

scenario "--cacert still decides alone (the system store is not loaded)"
trust_probe "$WITHOUT_ROOT" - --cacert "$C/root.pem" "$URL"
expect_verdict ok 0
expect_stderr_not "trust:"

scenario "a DNS failure never loads the trust store"
start_fake_dns nx nxdomain  # the lookup is answered on 127.0.0.1, never by the system's resolver
trust_probe "$WITH_ROOT" "$EMPTY_FILE" --dns-servers "127.0.0.1:$DNS_PORT" --connect-timeout 5 \
  https://nonexistent.invalid/
expect_verdict dns-failure 3
expect_stderr_not "trust:"

scenario "a refused connection never loads the trust store"
PORT=$(free_port)
trust_probe "$WITH_ROOT" "$EMPTY_FILE" "https://127.0.0.1:$PORT/"
expect_verdict connect-failure 4
expect_stderr_not "trust:"

finish
