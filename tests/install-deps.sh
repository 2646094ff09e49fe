#!/usr/bin/env bash
# Installs what ferry needs to build, demo and test on Debian 12 (run as root): Debian packages via apt,
# the integration tests' peers via npm. Installs only what is missing, so running it again is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config ca-certificates
  libuv1-dev             # the event loop: files, timers, sockets, signals
  libcurl4-openssl-dev   # HTTP/1.1 keep-alive and TLS, driven by the loop through curl's multi interface
  libssl-dev             # SHA-256/HMAC for SigV4, base64
  libyaml-cpp-dev        # ferry.yaml, with line and column marks for errors
  libspdlog-dev libfmt-dev  # logging and formatting
  rapidjson-dev          # PutRecords JSON responses, checkpoint files
  libsimdjson-dev        # UTF-8 validation of what is read (SIMD, GB/s)
  libprotozero-dev       # protobuf wire format of KPL aggregated records
  libre2-dev             # multiline start patterns (linear-time regexes)
  logrotate              # rotation tests drive the real logrotate
  liblz4-dev             # spool compression
  libcbor-dev            # CBOR 1.1 PutRecords requests and responses
  libexpat1-dev          # STS responses (XML), with entity expansion refused
  zlib1g-dev libzstd-dev # gzip and zstd payload compression
  zstd                   # the tests decompress zstd records with the zstd tool
  catch2                 # unit tests (v2, single header)
  clang-14 libclang-rt-14-dev  # libFuzzer targets
  tinyproxy              # proxy tests: a real HTTP CONNECT proxy
  python3                # ferry-lambda-python and the lambda tests' transformation functions
  bsdutils               # `script`: ferry send's progress line drawn in a pseudo-terminal
  tmux                   # ferry top: its integration test reads the screen of a tmux pane
  rpm lintian rpmlint    # tests/package: rpmbuild for CPack's .rpm, and the packages' linters
  adduser                # the .deb's maintainer scripts create the ferry user
  groff-base             # groff -man -ww -z: the man pages render without a warning
)
if ! command -v node >/dev/null 2>&1; then packages+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then packages+=(npm); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The integration peers (kinesalite, the AWS SDK's Kinesis client, aws-kinesis-agg), pinned by the lock file.
stamp=tests/integration/node_modules/.ferry-lock
if ! cmp -s tests/integration/package-lock.json "$stamp" 2>/dev/null; then
  echo "install-deps: npm ci in tests/integration"
  (cd tests/integration && npm ci --no-audit --no-fund --loglevel=error)
  cp tests/integration/package-lock.json "$stamp"
fi
