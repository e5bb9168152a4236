#!/usr/bin/env bash
# Installs everything mtls-probe needs to build and test on a fresh Debian 12 machine (run as root).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config ca-certificates \
  libssl-dev openssl libp11-kit-dev libengine-pkcs11-openssl p11-kit-modules libc-ares-dev libnghttp2-dev libexpat1-dev libcli11-dev libfmt-dev libspdlog-dev nlohmann-json3-dev \
  libgtest-dev libgmock-dev libbenchmark-dev hyperfine \
  nginx apache2 curl python3 python3-grpcio faketime procps iproute2 valgrind time \
  haproxy caddy lighttpd lighttpd-mod-gnutls nodejs tinyproxy squid-openssl tshark \
  clang libclang-rt-14-dev \
  dpkg-dev file man-db groff-base zsh \
  softhsm2 opensc gnutls-bin >/dev/null
# dpkg-dev (dpkg-shlibdeps) and file: cpack -G DEB computes the package's Depends; man-db, groff-base and zsh:
# the man page and completion checks (suite_docs.sh, scripts/package-test.sh).
# softhsm2, opensc (pkcs11-tool, pkcs11-spy) and gnutls-bin (p11tool): suite_pkcs11.sh's tokens; it also needs
# p11-kit-modules (the proxy module), libengine-pkcs11-openssl, and libp11-kit-dev (pkcs11.h, for the suite's
# shim module tests/support/pkcs11_shim.c), which the build needs anyway.
