#!/usr/bin/env bash
# The one test command: installs dependencies, builds, and runs every test.
#   1. release build (-Werror): unit tests + integration tests against real nginx, apache2 mod_ssl,
#      openssl s_server, mtls-probe serve and hostile listeners on loopback, + valgrind memcheck
#   2. AddressSanitizer + UndefinedBehaviorSanitizer build: the same unit and integration suites
#   3. libFuzzer targets, briefly (scripts/fuzz.sh; FUZZ_SECONDS per target, default 15)
# Set SKIP_SANITIZE=1 or SKIP_FUZZ=1 to leave a stage out locally.
set -euo pipefail
cd "$(dirname "$0")/.."
stage() { printf '\n==== %s (%s)\n' "$1" "$(date +%T)"; }

stage "install dependencies"
bash scripts/install-deps.sh

stage "release build"
BUILD_DIR=build bash scripts/build.sh
stage "release tests"
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600

if [ "${SKIP_SANITIZE:-0}" != 1 ]; then
  stage "sanitizer build (ASan + UBSan)"
  # -O1 debug build: compiles much faster than -O2 and keeps the sanitizer's reports readable.
  BUILD_DIR=build-asan bash scripts/build.sh -DMTLS_PROBE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g"
  stage "sanitizer tests"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$(nproc)" --timeout 600
fi

if [ "${SKIP_FUZZ:-0}" != 1 ] && [ -x scripts/fuzz.sh ]; then
  stage "fuzzing"
  bash scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
fi
stage "done"
