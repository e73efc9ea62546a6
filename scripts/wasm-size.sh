#!/usr/bin/env bash
# Prints the weight of the release wasm (after scripts/build-release.sh) as
# one markdown table: the main module, which every page loads before it
# hydrates, and the chunks of the pages loaded on demand, raw, gzip -9 and
# brotli -q 11 (what the server sends).
#
#   scripts/wasm-size.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

pkg=target/site/pkg
hash="$(awk '$1 == "wasm:" { print $2 }' target/release/hash.txt 2>/dev/null || true)"
main="$pkg/accounts${hash:+.$hash}.wasm"
if [[ ! -f "$main" ]]; then
  echo "error: no $main: run scripts/build-release.sh first" >&2
  exit 1
fi

sizes() {
  local raw=0 gz=0 br=0 file
  for file in "$@"; do
    raw=$((raw + $(wc -c <"$file")))
    gz=$((gz + $(gzip -9 -n -c "$file" | wc -c)))
    br=$((br + $(brotli -q 11 -c "$file" | wc -c)))
  done
  printf '%s | %s | %s' "$raw" "$gz" "$br"
}

chunks=()
while IFS= read -r -d '' file; do
  [[ "$file" == "$main" ]] || chunks+=("$file")
done < <(find "$pkg" -name '*.wasm' -print0 | sort -z)

echo "| wasm | files | raw | gzip -9 | brotli -q 11 |"
echo "|---|---:|---:|---:|---:|"
echo "| main module ($(basename "$main")) | 1 | $(sizes "$main") |"
if ((${#chunks[@]})); then
  echo "| all chunks | ${#chunks[@]} | $(sizes "${chunks[@]}") |"
fi

# What each lazy page needs besides the main module, from the manifest the
# split wrote (page view -> chunk files).
manifest="$(find "$pkg" -name '__wasm_split_manifest*.json' -print -quit)"
if [[ -n "$manifest" ]]; then
  node -e '
    const manifest = require(require("path").resolve(process.argv[1]));
    for (const [view, files] of Object.entries(manifest)) {
      const page = view.replace(/^__/, "").replace(/_route_view_\d+$/, "").replace(/_/g, "-");
      console.log([page, ...files].join(" "));
    }
  ' "$manifest" | sort | while read -r page files; do
    paths=()
    for file in $files; do paths+=("$pkg/$file.wasm"); done
    echo "| + page $page | ${#paths[@]} | $(sizes "${paths[@]}") |"
  done
fi
