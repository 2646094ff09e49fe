#!/usr/bin/env bash
# The README's demo: install what is missing, build ferry, start a local Kinesis endpoint (kinesalite on
# 127.0.0.1), create a stream, ship conf/sample.log with `ferry run`, and print what arrived in the stream.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target ferry
node tests/integration/demo.mjs --ferry build/ferry --log conf/sample.log
