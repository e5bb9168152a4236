#!/usr/bin/env bash
# The one test command: installs dependencies, builds, and runs every test (unit + integration against
# real nginx, apache2, openssl s_server and mtls-probe serve on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
BUILD_DIR="$BUILD_DIR" bash scripts/build.sh
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 600
