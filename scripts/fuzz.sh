#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang and runs them.
#
#   scripts/fuzz.sh [SECONDS]   fuzz each target SECONDS (default 30) on a temporary copy of its seed corpus
#   scripts/fuzz.sh --replay    run every seed in tests/fuzz/corpus/<target>/ once (regression mode)
#
# Environment:
#   FUZZ_BUILD_DIR   build directory (default: build-fuzz in the source tree)
#   FUZZ_TARGETS     space-separated subset of targets (default: all)
#   FUZZ_RSS_MB      -rss_limit_mb (default 2048)
#   FUZZ_TIMEOUT     per-input -timeout in seconds (default 10): a slower input is a finding (a hang)
#   FUZZ_NO_BUILD=1  skip configure+build (use what is in FUZZ_BUILD_DIR)
#
# One target at a time, one worker (-jobs/-workers are not used). Exit status is non-zero when any target
# crashed, hung, leaked or broke an invariant; the input that did it is kept in
# $FUZZ_BUILD_DIR/artifacts/<target>/ and the log in $FUZZ_BUILD_DIR/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)

MODE=fuzz
SECONDS_PER_TARGET=30
case "${1:-}" in
  --replay | --regression) MODE=replay ;;
  -h | --help)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  "") ;;
  *)
    if [[ ! "$1" =~ ^[0-9]+$ ]] || (("$1" < 1)); then
      echo "usage: scripts/fuzz.sh [SECONDS] | --replay" >&2
      exit 2
    fi
    SECONDS_PER_TARGET=$1
    ;;
esac

BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
[[ "$BUILD" = /* ]] || BUILD="$SRC/$BUILD"
ALL_TARGETS="url resolve header http_response http2_response identity diagnosis"
TARGETS=${FUZZ_TARGETS:-$ALL_TARGETS}
RSS_MB=${FUZZ_RSS_MB:-2048}
TIMEOUT=${FUZZ_TIMEOUT:-10}

if [[ "${FUZZ_NO_BUILD:-0}" != 1 ]]; then
  command -v clang++ >/dev/null || {
    echo "fuzz.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
    exit 2
  }
  echo "== configure + build ($BUILD, clang)"
  cmake -S "$SRC" -B "$BUILD" -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMTLS_PROBE_FUZZ=ON -DMTLS_PROBE_TESTS=OFF >/dev/null
  cmake --build "$BUILD" --target mtls_probe_fuzzers -j"${FUZZ_BUILD_JOBS:-2}" >/dev/null
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:handle_abort=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

mkdir -p "$BUILD/logs"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mtls-probe-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

failed=()
printf '\n%-15s %12s %10s  %s\n' target execs exec/s result
for t in $TARGETS; do
  bin="$BUILD/tests/fuzz/fuzz_$t"
  seeds="$SRC/tests/fuzz/corpus/$t"
  if [[ $t = identity ]]; then
    # certificates expire: the identity seeds are made now, not kept in the repo
    seeds="$WORK/identity-seeds"
    bash "$SRC/tests/fuzz/make_identity_seeds.sh" "$seeds"
  fi
  log="$BUILD/logs/$t.log"
  artifacts="$BUILD/artifacts/$t"
  if [[ ! -x "$bin" ]]; then
    echo "fuzz.sh: no such target binary: $bin" >&2
    exit 2
  fi
  mkdir -p "$artifacts"
  common=(-rss_limit_mb="$RSS_MB" -timeout="$TIMEOUT" -artifact_prefix="$artifacts/" -print_final_stats=1)
  rc=0
  if [[ $MODE = replay ]]; then
    mapfile -t files < <(find "$seeds" -type f | sort)
    if ((${#files[@]} == 0)); then
      echo "fuzz.sh: empty corpus $seeds" >&2
      exit 2
    fi
    "$bin" "${common[@]}" -runs=0 "${files[@]}" >"$log" 2>&1 || rc=$?
    execs=${#files[@]}
    rate=-
  else
    corpus="$WORK/$t"
    mkdir -p "$corpus"
    cp -R "$seeds/." "$corpus/"
    dict=()
    [[ -f "$SRC/tests/fuzz/dict/$t.dict" ]] && dict=(-dict="$SRC/tests/fuzz/dict/$t.dict")
    "$bin" "${common[@]}" "${dict[@]}" -max_total_time="$SECONDS_PER_TARGET" "$corpus" >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  fi
  if ((rc == 0)); then
    result=ok
  else
    result="FAILED (exit $rc; log $log)"
    failed+=("$t")
    grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|.*fuzz invariant failed|.*runtime error|ALARM|.*Test unit written)' \
      "$log" | sed 's/^/    /' || true
    grep -E 'Test unit written to' "$log" | sed 's/^/    /' || true
  fi
  printf '%-15s %12s %10s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$result"
done

if ((${#failed[@]} > 0)); then
  echo "fuzz.sh: findings in: ${failed[*]} (artifacts in $BUILD/artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: no findings"
