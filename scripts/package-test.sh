#!/usr/bin/env bash
# package-test.sh [BUILD_DIR] — the Debian package end to end (run as root, after a build of BUILD_DIR,
# default build): cpack -G DEB, its metadata and contents (dpkg-deb -I / -c), `apt-get install` of the .deb,
# then the installed /usr/bin/mtls-probe: --version, one probe against `/usr/bin/mtls-probe serve` on
# 127.0.0.1 (verdict ok, exit 0), `man -w mtls-probe`, bash completion of --p12 from the installed script;
# then `apt-get remove`. Leaves the machine as it found it (the package is removed also on failure).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=$(realpath "${1:-build}")
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
# shellcheck source=../tests/integration/lib.sh
source tests/integration/lib.sh /usr/bin/mtls-probe
# shellcheck source=../tests/integration/completion.sh
source tests/integration/completion.sh
export DEBIAN_FRONTEND=noninteractive

if dpkg-query -W -f='${Status}' mtls-probe 2>/dev/null | grep -q 'install ok installed'; then
  die "mtls-probe is installed already: this test installs and removes it (apt-get remove mtls-probe first)"
fi
make_tmp
remove_package() { $SUDO apt-get remove -y -qq mtls-probe >/dev/null 2>&1; }
trap 'remove_package; _cleanup' EXIT

scenario "cpack -G DEB"
rm -f "$BUILD_DIR"/mtls-probe_*.deb
(cd "$BUILD_DIR" && cpack -G DEB) >"$TMP/cpack.log" 2>&1
DEBS=("$BUILD_DIR"/mtls-probe_*.deb)
check "one package: ${DEBS[0]##*/}" test -f "${DEBS[0]}" -a ${#DEBS[@]} -eq 1
[[ -f ${DEBS[0]} ]] || { tail -20 "$TMP/cpack.log"; finish; }
DEB=${DEBS[0]}
VERSION=$(sed -n 's/^project(mtls_probe VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
check "named mtls-probe_${VERSION}_$(dpkg --print-architecture).deb" \
  test "${DEB##*/}" = "mtls-probe_${VERSION}_$(dpkg --print-architecture).deb"
dpkg-deb -I "$DEB" >"$TMP/info.txt"
dpkg-deb -c "$DEB" >"$TMP/contents.txt"
field() { sed -n "s/^ $1: //p" "$TMP/info.txt"; }
depends_on() {  # depends_on PACKAGE — the Depends field names PACKAGE (with a version or without)
  local d=", $(field Depends),"
  [[ $d == *", $1 ("* || $d == *", $1,"* ]]
}
for lib in libssl3 libc-ares2 libnghttp2-14 libstdc++6 libc6; do
  check "Depends (dpkg-shlibdeps) names $lib" depends_on "$lib"
done
echo "  (Depends: $(field Depends))"
check "Recommends the PKCS#11 engine and p11-kit's modules (loaded at run time)" \
  grep -q "libengine-pkcs11-openssl, p11-kit-modules" <<<"$(field Recommends)"
check "Maintainer" test -n "$(field Maintainer)"
check "Section: net" test "$(field Section)" = net
check "Description" grep -q "mTLS diagnostic client" <<<"$(field Description)"
for f in ./usr/bin/mtls-probe ./usr/share/man/man1/mtls-probe.1.gz ./usr/share/bash-completion/completions/mtls-probe \
  ./usr/share/zsh/vendor-completions/_mtls-probe ./usr/share/doc/mtls-probe/copyright; do
  check "contains $f" grep -qE " $f\$" "$TMP/contents.txt"
done

scenario "apt-get install ./${DEB##*/}"
$SUDO apt-get install -y -qq "$DEB" >"$TMP/apt.log" 2>&1
check "installed" dpkg-query -W mtls-probe
[[ -x /usr/bin/mtls-probe ]] || { tail -20 "$TMP/apt.log"; finish; }
/usr/bin/mtls-probe --version >"$TMP/version.txt"
check "--version: mtls-probe $VERSION" grep -qx "mtls-probe $VERSION" "$TMP/version.txt"
check "--version: OpenSSL and providers" grep -q "^Providers: loaded .*default" "$TMP/version.txt"
sed 's/^/    /' "$TMP/version.txt"

scenario "the installed binary probes the installed serve"
gen_pki
SERVE_BIN=/usr/bin/mtls-probe start_serve installed --cert "$PKI/server-chain.pem" --key "$PKI/server.key" \
  --client-ca "$PKI/client-ca-bundle.pem"
# the server certificate is for localhost: keep the name, reach serve's address
probe "${ID_GOOD[@]}" "${CACERT[@]}" "${SERVE_URL/127.0.0.1/localhost}"
expect_verdict ok 0

scenario "man page and completion"
check "man -w mtls-probe: /usr/share/man/man1/mtls-probe.1.gz" test "$(man -w mtls-probe)" = /usr/share/man/man1/mtls-probe.1.gz
check "man renders it" bash -c 'MANWIDTH=100 man mtls-probe 2>/dev/null | grep -q "EXIT STATUS"'
got=$(bash_complete /usr/share/bash-completion/completions/mtls-probe mtls-probe --p1)
check "bash completion: --p1 -> --p12" grep -qx -- --p12 <<<"$got"

scenario "apt-get remove mtls-probe"
remove_package
check "removed" test ! -e /usr/bin/mtls-probe
finish
