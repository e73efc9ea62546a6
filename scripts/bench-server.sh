#!/usr/bin/env bash
# What the benchmarks share, sourced by scripts/bench.sh and
# scripts/bench-scale.sh: a work directory removed on exit (with the
# PostgreSQL database pg_database, once pg_created), the release server
# started and stopped, medians and ratios, JSON posts, and accounts
# signed up through the development mailbox (free ports come from
# env.sh). Expects root, binary, server_cpu, pg_admin_url and pg_database
# to be set, and server_prefix (an array) may be.
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

# shellcheck source=scripts/env.sh
source "$root/scripts/env.sh"
# shellcheck source=scripts/dev-server.sh
source "$root/scripts/dev-server.sh"
# shellcheck disable=SC2317 # run by the trap
stop_server() { stop_dev_server; }
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
  port="$(free_port)"
  base_url="http://127.0.0.1:$port"
  start_dev_server "$root/$binary" "$data" "$port" "$base_url" "$database_url" "$server_log" \
    "${server_prefix[@]}" taskset -c "$server_cpu"
  wait_for_health "$base_url" 120 || exit 1
}

password="Plum-Quartz-Harbor-91"
post() {
  curl -fsS --max-time 30 -H 'Content-Type: application/json' --data "$2" "$base_url$1"
}
# Signs up $1 (named $2, or Bench) and verifies the address through the
# development mailbox.
sign_up() { sign_up_verified "$base_url" "$1" "$password" "${2:-Bench}" || exit 1; }
