#!/usr/bin/env bash
# run.sh — every benchmark in one command: throughput.mjs over all its scenarios (3 runs each, with medians),
# then idle_files.mjs. Prints both tables and writes both JSON lines (throughput first) to one results file.
#
#   bash tests/bench/run.sh [throughput.mjs options...]     (from any directory)
#
# The options go to throughput.mjs after `--repeat 3` (so a later --repeat wins), e.g. --lines 100000 or
# --set memory_limit=8MiB. Environment:
#   FERRY_BIN     the ferry to measure (default: the repo's build/ferry, built first if missing)
#   BENCH_JSON    the results file (default: bench-results.json in the current directory)
#   IDLE_FILES    idle_files.mjs --files (default 10000)
#   IDLE_SECONDS  idle_files.mjs --seconds (default 30)
set -euo pipefail

# Paths given by the caller are relative to the caller's directory: resolved before the cd.
results=$(realpath -m "${BENCH_JSON:-bench-results.json}")
[[ -z ${FERRY_BIN:-} ]] || FERRY_BIN=$(realpath -m "$FERRY_BIN")
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"

if [[ -z ${FERRY_BIN:-} ]]; then
  FERRY_BIN=$repo/build/ferry
  if [[ ! -x $FERRY_BIN ]]; then
    echo "run.sh: $FERRY_BIN is missing: building it" >&2
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
    cmake --build build --target ferry
  fi
fi
[[ -x $FERRY_BIN ]] || { echo "run.sh: FERRY_BIN=$FERRY_BIN is not an executable file" >&2; exit 1; }
export FERRY_BIN

# Nothing is installed here: the endpoints need tests/integration's npm packages (cbor among them).
if [[ ! -d tests/integration/node_modules ]]; then
  echo "run.sh: tests/integration/node_modules is missing: run \`bash tests/install-deps.sh\` first" >&2
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-run-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# stdout to a file, to split the table from the JSON line; progress (stderr) shows as it comes.
node tests/bench/throughput.mjs --repeat 3 "$@" >"$tmp/throughput.out"
grep -v '^JSON: ' "$tmp/throughput.out"
sed -n 's/^JSON: //p' "$tmp/throughput.out" >"$results"
[[ $(wc -l <"$results") -eq 1 ]] || { echo "run.sh: throughput.mjs printed no JSON line" >&2; exit 1; }

echo
node tests/bench/idle_files.mjs --files "${IDLE_FILES:-10000}" --seconds "${IDLE_SECONDS:-30}" >"$tmp/idle.out"
grep -v '^{' "$tmp/idle.out"
grep '^{"benchmark":"idle_files"' "$tmp/idle.out" >>"$results" || { echo "run.sh: idle_files.mjs printed no JSON line" >&2; exit 1; }

echo
echo "results (one JSON line per benchmark): $results"
