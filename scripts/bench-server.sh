#!/usr/bin/env bash
# What the benchmarks share, sourced by scripts/bench.sh and
# scripts/bench-scale.sh: a work directory removed on exit (with the
# PostgreSQL database pg_database, once pg_created), the release server
# started and stopped, medians and ratios, JSON posts, and accounts
# signed up through the development mailbox. Expects root,
# binary, server_cpu, pg_admin_url and pg_database to be set, and
# server_prefix (an array) may be.
# shellcheck shell=bash disable=SC2154 # those variables are the caller's

if [[ -z "${server_prefix+set}" ]]; then
  server_prefix=()
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/accounts-bench.XXXXXX")"
# The PostgreSQL database the caller created (pg_created=true), dropped on
# exit unless pg_keep is set.
pg_keep="${pg_keep:-}"
server_pid=""
server_log=""
pg_created=false

# shellcheck disable=SC2317 # run by the trap
stop_server() {
  [[ -n "$server_pid" ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  # The server lets in-flight requests finish for up to 10 s.
  for ((i = 0; i < 150; i++)); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
# shellcheck disable=SC2317 # run by the trap
finish() {
  local status=$?
  stop_server
  if $pg_created && [[ -z "$pg_keep" ]]; then
    psql -q "$pg_admin_url" -c "DROP DATABASE IF EXISTS $pg_database" >/dev/null 2>&1 || true
  fi
  if ((status != 0)) && [[ -n "$server_log" && -f "$server_log" ]]; then
    echo "--- the server's log, last 30 lines ---" >&2
    tail -n 30 "$server_log" >&2 || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '\033[1mbench: %s\033[0m\n' "$*" >&2; }

# The median of the numbers on standard input.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# a / b with two decimals, or "n/a".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }

# Starts the server pinned to the server CPU on a free port, with a data
# directory of its own and DATABASE_URL $2, behind the command prefix
# server_prefix (an array, e.g. a scheduling policy); sets base_url and
# server_pid.
start_server() {
  local name="$1" database_url="$2" port data
  data="$work/$name"
  mkdir -p "$data"
  server_log="$work/$name.log"
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  base_url="http://127.0.0.1:$port"
  # From the data directory, so that no .env of the checkout applies.
  (
    cd "$data"
    exec env -u SMTP_URL \
      APP_ENV=development \
      RATE_LIMITS=off \
      APP_URL="$base_url" \
      LEPTOS_SITE_ADDR="127.0.0.1:$port" \
      LEPTOS_SITE_ROOT="$root/target/site" \
      LEPTOS_OUTPUT_NAME=accounts \
      LEPTOS_ENV=PROD \
      DATA_DIR="$data" \
      DATABASE_URL="$database_url" \
      MAIL_OUTBOX_DIR="$data/outbox" \
      ACCESS_TOKEN_TTL_SECS=3600 \
      RUST_LOG=warn \
      "${server_prefix[@]}" taskset -c "$server_cpu" "$root/$binary"
  ) >"$server_log" 2>&1 &
  server_pid=$!
  local deadline=$((SECONDS + 120))
  until curl -fsS -o /dev/null --max-time 2 "$base_url/api/health" 2>/dev/null; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "error: the server exited before answering" >&2
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      echo "error: $base_url/api/health did not answer within 120 s" >&2
      exit 1
    fi
    sleep 0.1
  done
}

password="Plum-Quartz-Harbor-91"
post() {
  curl -fsS --max-time 30 -H 'Content-Type: application/json' --data "$2" "$base_url$1"
}
# Signs up $1 (named $2, or Bench) and verifies the address through the
# development mailbox.
sign_up() {
  local email="$1" name="${2:-Bench}" token="" deadline
  post /api/auth/register "{\"email\":\"$email\",\"password\":\"$password\",\"name\":\"$name\"}" >/dev/null
  deadline=$((SECONDS + 10))
  while [[ -z "$token" ]]; do
    if ((SECONDS >= deadline)); then
      echo "error: no verification link for $email in the mailbox" >&2
      exit 1
    fi
    sleep 0.1
    token="$(curl -fsS "$base_url/api/dev/mailbox" | python3 -c '
import json, sys, urllib.parse
for message in json.load(sys.stdin)["messages"]:
    if message["to"] == sys.argv[1]:
        for link in message["links"]:
            token = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query).get("token")
            if "verify-email" in link and token:
                print(token[0])
                sys.exit()
' "$email")"
  done
  post /api/auth/verify-email "{\"token\":\"$token\",\"password\":\"$password\"}" >/dev/null
}
