#!/usr/bin/env bash
# The one test command: installs dependencies, builds, and runs every test.
#   1. release build (g++, -Werror): unit tests + integration tests against real nginx, apache2 mod_ssl,
#      openssl s_server, haproxy, caddy, lighttpd, node, mtls-probe serve and hostile listeners on loopback,
#      + valgrind memcheck; then the Debian package (scripts/package-test.sh): cpack -G DEB, apt-get install of
#      the .deb, a probe with the installed /usr/bin/mtls-probe, man page, completion, apt-get remove
#   2. one clang build with AddressSanitizer + UndefinedBehaviorSanitizer and libFuzzer coverage: the unit
#      tests and the integration suites but those labelled "release_only" (tests/CMakeLists.txt), then the
#      libFuzzer targets briefly (scripts/fuzz.sh; FUZZ_SECONDS per target, default 5) from that same
#      build, so nothing is compiled three times
# Both builds emit line tables only (-g1): stack traces keep file:line, and full debug info was a third of
# the compile time on the CI's 2 cores. Both are unity builds (CMAKE_UNITY_BUILD, 8 sources per
# compilation): the heavy headers (CLI11, nlohmann-json, spdlog, gtest) are parsed once per batch instead of
# once per file, 203 s of CPU for the release build instead of 481 s (measured side by side, 2026-12-02).
# So a name in an anonymous namespace must not repeat across files (a unity build says "redefinition").
# Set SKIP_SANITIZE=1 or SKIP_FUZZ=1 to leave a stage out locally.
set -euo pipefail
cd "$(dirname "$0")/.."
stage() { printf '\n==== %s (%s)\n' "$1" "$(date +%T)"; }

# BUILD_DIR CMAKE_ARGS...: a unity build; should it fail, the same build file by file, with a warning. A
# unity batch is whichever 8 files sort together, so a file added elsewhere can bring two files that define the
# same name in an anonymous namespace into one batch: that costs time, never the run.
unity_build() {
  local dir=$1
  shift
  BUILD_DIR=$dir bash scripts/build.sh "$@" -DCMAKE_UNITY_BUILD=ON && return 0
  echo "warning: the unity build in $dir failed (see above: a name defined twice in one batch?);" \
    "building file by file instead. Give one of the two definitions another name or share it." >&2
  BUILD_DIR=$dir bash scripts/build.sh "$@" -DCMAKE_UNITY_BUILD=OFF
}

stage "install dependencies"
bash scripts/install-deps.sh

stage "release build"
unity_build build -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
stage "release tests"
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600
stage "debian package"
bash scripts/package-test.sh build

if [ "${SKIP_SANITIZE:-0}" != 1 ]; then
  stage "sanitizer build (clang, ASan + UBSan, fuzz coverage)"
  # -O1: compiles much faster than -O2 and keeps the sanitizer's reports readable.
  unity_build build-asan -DCMAKE_CXX_COMPILER=clang++ -DMTLS_PROBE_SANITIZE=ON \
    -DMTLS_PROBE_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1"
  stage "sanitizer tests"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$(nproc)" --timeout 600 --label-exclude release_only
  if [ "${SKIP_FUZZ:-0}" != 1 ]; then
    stage "fuzzing"
    FUZZ_BUILD_DIR=build-asan FUZZ_NO_BUILD=1 bash scripts/fuzz.sh "${FUZZ_SECONDS:-5}"
  fi
fi
stage "done"
