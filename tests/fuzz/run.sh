#!/usr/bin/env bash
# Runs every fuzz target built in BUILD_DIR for SECONDS each, JOBS at a time (one per core: each target is
# one busy process), starting from tests/fuzz/corpus/<target>. New inputs go to a scratch folder, so the
# committed seeds stay small. Every target runs; exits non-zero if any crashed, after showing its log.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [SECONDS] [JOBS]}
seconds=${2:-30}
jobs=${3:-1}
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)

fuzz_one() {  # target binary; its verdict goes to $scratch/<name>.status
  local bin=$1 name
  name=$(basename "$bin")
  mkdir -p "$scratch/$name"
  if "$bin" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=0 \
    -artifact_prefix="$scratch/$name-" "$scratch/$name" "$here/corpus/$name" 2>"$scratch/$name.log"; then
    echo ok >"$scratch/$name.status"
  else
    echo failed >"$scratch/$name.status"
  fi
}

targets=("$build"/tests/fuzz/*_fuzz)
[[ -x ${targets[0]} ]] || { echo "fuzz: no targets in $build/tests/fuzz" >&2; exit 1; }
running=0
for bin in "${targets[@]}"; do
  if ((running >= jobs)); then
    wait -n
    running=$((running - 1))
  fi
  echo "fuzz: $(basename "$bin") for ${seconds}s"
  fuzz_one "$bin" &
  running=$((running + 1))
done
wait

failed=0
for bin in "${targets[@]}"; do
  name=$(basename "$bin")
  if [[ $(cat "$scratch/$name.status" 2>/dev/null) != ok ]]; then
    tail -n 40 "$scratch/$name.log"
    echo "fuzz: $name FAILED (crashing input: $scratch/$name-*)"
    failed=$((failed + 1))
  fi
done
if ((failed)); then
  echo "fuzz: $failed of ${#targets[@]} targets FAILED; logs and inputs kept in $scratch"
  exit 1
fi
rm -rf "$scratch"
echo "fuzz: ${#targets[@]} targets ran clean"
