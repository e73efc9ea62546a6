#!/usr/bin/env bash
# Measures whether a login with an unknown email costs the same time as one
# with a wrong password (both verify an Argon2id hash), so that response
# times do not reveal which addresses have accounts. A benchmark, not a test:
# it prints medians and their ratio.
#
#   scripts/bench-login-timing.sh [rounds]     (default 30)
#
# Needs the release server: run scripts/test.sh e2e (or
# scripts/build-release.sh) first.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-30}"
binary=target/release/server
[[ -x "$binary" ]] || { echo "build the release server first: scripts/build-release.sh" >&2; exit 1; }

data="$(mktemp -d)"
addr=127.0.0.1:3400
trap 'kill "$server" 2>/dev/null; rm -rf "$data"' EXIT
APP_ENV=development APP_URL="http://$addr" LEPTOS_SITE_ADDR="$addr" LEPTOS_SITE_ROOT=target/site \
  DATA_DIR="$data" DATABASE_URL="sqlite://$data/app.db?mode=rwc" RUST_LOG=warn "$binary" &
server=$!
until curl -sf "http://$addr/api/ready" >/dev/null; do sleep 0.1; done

email="bench.$RANDOM@example.com"
password="Plum-Quartz-Harbor-91"
post() { curl -s -o /dev/null -w '%{time_total}\n' -H 'content-type: application/json' -d "$2" "http://$addr$1"; }
post /api/auth/register "{\"email\":\"$email\",\"password\":\"$password\",\"name\":\"Bench\"}" >/dev/null
until link=$(curl -s "http://$addr/api/dev/mailbox" | grep -o 'verify-email?token=[A-Za-z0-9_-]*' | head -1) && [[ -n "$link" ]]; do sleep 0.1; done
post /api/auth/verify-email "{\"token\":\"${link#*token=}\",\"password\":\"$password\"}" >/dev/null

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

unknown_body="{\"email\":\"nobody.$RANDOM@example.com\",\"password\":\"$password\"}"
wrong_body="{\"email\":\"$email\",\"password\":\"Not-The-Password-1\"}"
right_body="{\"email\":\"$email\",\"password\":\"$password\"}"
samples="$data/samples"
# Warm up the connection pool and the hasher, then interleave the three
# kinds of login so that drift in machine load affects them alike.
for _ in 1 2 3 4 5; do post /api/auth/login "$wrong_body" >/dev/null; done
for _ in $(seq "$rounds"); do
  echo "unknown $(post /api/auth/login "$unknown_body")"
  echo "wrong $(post /api/auth/login "$wrong_body")"
  echo "right $(post /api/auth/login "$right_body")"
done >"$samples"
unknown=$(awk '$1 == "unknown" { print $2 }' "$samples" | median)
wrong=$(awk '$1 == "wrong" { print $2 }' "$samples" | median)
right=$(awk '$1 == "right" { print $2 }' "$samples" | median)

printf 'median login time over %s rounds\n' "$rounds"
printf '  unknown email:   %ss\n  wrong password:  %ss\n  right password:  %ss\n' "$unknown" "$wrong" "$right"
awk -v a="$unknown" -v b="$wrong" 'BEGIN { printf "  unknown / wrong: %.2f (1.00 means indistinguishable)\n", a / b }'
