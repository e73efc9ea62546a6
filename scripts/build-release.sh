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

# Every panic location names its source file, and the module every page
# loads holds a few hundred of them: without the registry's and the
# checkout's absolute prefixes, `/root/.cargo/registry/src/index…/tachys-
# 0.2.19/src/html/property.rs` is `tachys-0.2.19/src/html/property.rs`.
# For the wasm target only (the server's own build is untouched).
remap=""
for dir in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/ "$PWD/"; do
  [[ -d "$dir" && "$dir" != *" "* ]] && remap+=" --remap-path-prefix=$dir="
done
# And the linker keeps each constant in a data segment of its own: the split
# (below) moves the data a page alone uses into that page's chunk, but it
# works a segment at a time, and when a segment's parts, laid out again per
# chunk, no longer fit where the segment was, the whole segment stays in the
# main module. With the linker's one merged `.rodata` that meant every
# page's text, all or nothing, on a margin of bytes; segment by segment,
# only the few constants several chunks share stay behind.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS:-}$remap -C link-arg=--no-merge-data-segments"

cargo leptos build --release --split
scripts/precompress.sh target/site/pkg
