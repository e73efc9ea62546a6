#!/usr/bin/env bash
# Writes a brotli (.br, quality 11) and a gzip (.gz, level 9) copy beside
# every file under the given directory (default: target/site/pkg), so the
# server sends them as they are instead of compressing each response.
# Files that do not shrink by compressing keep no copy. Safe to run again.
#
#   scripts/precompress.sh [dir]
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-target/site/pkg}"

for tool in brotli gzip; do
  if ! command -v "$tool" >/dev/null; then
    echo "error: $tool is not installed (scripts/setup.sh installs it)" >&2
    exit 1
  fi
done

find "$dir" -type f ! -name '*.br' ! -name '*.gz' -print0 |
  while IFS= read -r -d '' file; do
    size="$(stat -c %s "$file")"
    # -n: no name or time in the header, so a build compresses the same way twice.
    gzip -9 -n -c -- "$file" >"$file.gz"
    brotli -q 11 -f -o "$file.br" -- "$file"
    for copy in "$file.gz" "$file.br"; do
      if (($(stat -c %s "$copy") >= size)); then
        rm -f -- "$copy"
      fi
    done
  done
