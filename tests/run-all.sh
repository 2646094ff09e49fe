#!/usr/bin/env bash
# The README's test command, and what CI runs: install what is missing, build, run every test (unit and
# integration against real peers, then the reliability tests under load) on the optimised build; build
# once more with clang, AddressSanitizer + UndefinedBehaviorSanitizer and libFuzzer's instrumentation, run
# the unit and integration tests again in that build, then run each fuzz target from it for a short while.
# Prints the time of each stage at the end, also when a stage fails. CI's budget is 35 minutes on a 2-core
# machine: keep new tests short (docs/NOTES.md, "CI time").
#
# Knobs: FERRY_TEST_JOBS (ctest jobs for unit + integration tests; they mostly wait on timers and peers, so
# more than the cores), FERRY_FUZZ_SECONDS (per target), FERRY_FUZZ_JOBS (targets run at once), and the
# reliability tests' own (FERRY_ROTATION_SECONDS, FERRY_FAULTS_OUTAGE_SECONDS; see below).
set -euo pipefail
cd "$(dirname "$0")/.."

cores=$(nproc)
test_jobs=${FERRY_TEST_JOBS:-$((2 * cores))}
fuzz_jobs=${FERRY_FUZZ_JOBS:-$cores}
fuzz_seconds=${FERRY_FUZZ_SECONDS:-10}  # 23 targets, two at a time: two minutes

# Stage bookkeeping: stage NAME starts a stage (ending the one before); the summary prints at exit.
stage_names=()
stage_secs=()
stage_states=()
current=
current_start=0
run_start=$SECONDS
failures=0
end_stage() {  # state
  [[ -n $current ]] || return 0
  stage_names+=("$current")
  stage_secs+=($((SECONDS - current_start)))
  stage_states+=("$1")
  current=
}
stage() {
  end_stage ok
  current=$1
  current_start=$SECONDS
  echo "=== $current"
}
summary() {
  local rc=$?
  end_stage "FAILED (exit $rc)"
  echo
  echo "=== stage times (seconds; $cores cores; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
  local i
  for i in "${!stage_names[@]}"; do
    printf '  %-58s %6d  %s\n' "${stage_names[$i]}" "${stage_secs[$i]}" "${stage_states[$i]}"
  done
  printf '  %-58s %6d  %s\n' total $((SECONDS - run_start)) "$( ((rc == 0)) && echo ok || echo FAILED)"
}
trap summary EXIT
# A failing test stage is recorded and the run goes on, so one run reports every failure; builds stop it.
tests() {  # build dir, ctest arguments...
  local dir=$1
  shift
  if ! ctest --test-dir "$dir" --output-on-failure --timeout 1500 "$@"; then
    failures=$((failures + 1))
    end_stage FAILED
  fi
}

stage "deps (tests/install-deps.sh)"
bash tests/install-deps.sh

# The optimised build is CMake's Release (-O3), the build type a packager is most likely to pick, with
# warnings as errors, so that gcc's -O3-only warnings are seen here first. The unit test files compile at
# -O0 in both builds: half their compile time, and the agent code they test keeps its optimisation.
stage "build: optimised (gcc, Release)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DFERRY_WERROR=ON -DFERRY_TEST_COMPILE_OPTIONS=-O0 >/dev/null
cmake --build build -j "$cores"

stage "test: unit + integration, optimised (ctest -j $test_jobs)"
tests build -j "$test_jobs" -LE reliability

# The .deb and .rpm from this build (nothing recompiled): contents, lintian, rpmlint, the unit's
# systemd-analyze verify and security score, then dpkg -i, the installed ferry check, dpkg -r and --purge on
# this machine (tests/package/run.sh). A failure is recorded like a test stage's.
stage "package: .deb and .rpm from the optimised build"
if ! bash tests/package/run.sh build; then
  failures=$((failures + 1))
  end_stage FAILED
fi

# They measure ferry under load: one at a time (RUN_SERIAL), nothing else running. CI runs each rotation
# scenario for 18 s instead of 30 (9 rotations at 20,000 lines/s instead of 14; the restarts still fall on a
# rotation and between two) and the endpoint outage for 40 s instead of 120 (still 3 rotations and several
# capped retry waits inside it), and the reload run for 20 s instead of 60 (10 reloads, 5 flow restarts);
# run them by hand at the defaults (tests/reliability/README.md).
stage "test: reliability, optimised (one at a time)"
FERRY_ROTATION_SECONDS=${FERRY_ROTATION_SECONDS:-18} FERRY_FAULTS_OUTAGE_SECONDS=${FERRY_FAULTS_OUTAGE_SECONDS:-40} \
  FERRY_RELOAD_SECONDS=${FERRY_RELOAD_SECONDS:-20} tests build -L reliability

# One build for the sanitizer test run and the fuzz targets: FERRY_FUZZ implies FERRY_SANITIZE. -O1 keeps
# the tests quick under the sanitizers. Precompiled headers (FERRY_PCH) save clang a fifth of its time;
# not gcc: there they save less, and change which of gcc 12's -Warray-bounds false positives fire.
stage "build: sanitizers + fuzz targets (clang-14, ASan+UBSan, -O1)"
cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFERRY_WERROR=ON -DFERRY_FUZZ=ON -DFERRY_PCH=ON \
  -DFERRY_TEST_COMPILE_OPTIONS=-O0 \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_C_FLAGS_DEBUG="-O1 -g1" -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" >/dev/null
cmake --build build-sanitize -j "$cores"

stage "test: unit + integration, sanitizers (ctest -j $test_jobs)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  tests build-sanitize -j "$test_jobs" -LE reliability

stage "fuzz: every target ${fuzz_seconds}s, $fuzz_jobs at a time"
bash tests/fuzz/run.sh build-sanitize "$fuzz_seconds" "$fuzz_jobs"

end_stage ok
((failures == 0))
