#!/usr/bin/env bash
# The release build, as the tests, the benchmarks and scripts/run.sh use it:
# the server and the site under target/site, with the wasm bundle split into
# the main module and the chunks of the pages loaded on demand (--split), the
# file names under /pkg carrying their hash, and a brotli and a gzip copy of
# each of those files for the server to send as they are.
#
#   scripts/build-release.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

cargo leptos build --release --split
scripts/precompress.sh target/site/pkg
