#!/usr/bin/env bash
# The README's test command, and what CI runs: install what is missing, build, run every test (unit and
# integration against real peers), then build again with AddressSanitizer + UndefinedBehaviorSanitizer
# and run every test again, then run each fuzz target for a short while.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/install-deps.sh

jobs=$(nproc)
run_suite() {  # build dir, ctest arguments, then extra cmake flags...
  local dir=$1 select=$2
  shift 2
  echo "=== $dir: build"
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  echo "=== $dir: test"
  (cd "$dir" && ctest --output-on-failure --timeout 1500 $select)
}

# Everything, including the reliability tests under load, on the optimised build.
run_suite build "" -DCMAKE_BUILD_TYPE=RelWithDebInfo
# Everything but the load tests again under the sanitizers.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-sanitize "-LE reliability" -DCMAKE_BUILD_TYPE=Debug -DFERRY_SANITIZE=ON

echo "=== fuzz: build and run each target"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_FUZZ=ON -DFERRY_TESTS=OFF \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
cmake --build build-fuzz -j "$jobs"
bash tests/fuzz/run.sh build-fuzz "${FERRY_FUZZ_SECONDS:-20}"
