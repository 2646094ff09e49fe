#!/usr/bin/env bash
# Runs every fuzz target built in BUILD_DIR for SECONDS each, starting from tests/fuzz/corpus/<target>.
# New inputs go to a scratch folder, so the committed seeds stay small. Exits non-zero on the first crash.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
seconds=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
count=0
for bin in "$build"/tests/fuzz/*_fuzz; do
  name=$(basename "$bin")
  mkdir -p "$scratch/$name"
  echo "fuzz: $name for ${seconds}s"
  "$bin" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=0 \
    -artifact_prefix="$scratch/$name-" "$scratch/$name" "$here/corpus/$name" 2>"$scratch/$name.log" || {
    tail -n 40 "$scratch/$name.log"
    echo "fuzz: $name FAILED"
    exit 1
  }
  count=$((count + 1))
done
echo "fuzz: $count targets ran clean"
