#!/usr/bin/env bash
# Benchmarks the release server and prints one markdown table: requests per
# second and p50/p99 of GET /api/health and GET /api/me (bearer) and their
# ratio; logins per second against the machine's raw Argon2id rate; /api/me
# latency during a login flood; refresh-token rotations per second on SQLite
# and on PostgreSQL; the server's RSS after the loads; and the raw, gzip and
# brotli sizes of the main wasm module. A benchmark, not a test: it reports,
# it asserts nothing.
#
#   scripts/bench.sh
#   BENCH_SECONDS=5 BENCH_ROUNDS=1 scripts/bench.sh      (a quick look)
#   scripts/bench.sh --scale     (the lists at a million rows: scripts/bench-scale.sh)
#   scripts/bench.sh --share     (only the hashing share's rows: /api/me idle,
#                                 during a login flood, and logins during
#                                 read saturation)
#
# BENCH_SECONDS (15): length of each load; BENCH_ROUNDS (3): loads per
# figure, of which the median is shown; BENCH_CONNECTIONS (32): wrk's
# connections for /api/health and /api/me; BENCH_LOGIN_CONNECTIONS (4);
# BENCH_REFRESH_CLIENTS (4): sessions rotated side by side, one client each;
# BENCH_SATURATION_READS (50) and BENCH_SATURATION_LOGINS (8): the readers
# that keep the server's core busy and the logins among them;
# BENCH_PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres): where to
# create the throwaway database accounts_bench (skipped when no server
# answers).
#
# The server is pinned to CPU 0 and the load tools to CPU 1 (taskset), so
# the figures are those of one server core. The load tool (wrk) comes from
# `scripts/setup.sh --bench`, which this script runs first. Needs the
# release server: scripts/build-release.sh (or scripts/test.sh e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
share_only=false
case "${1:-}" in
--scale) exec scripts/bench-scale.sh ;;
--share) share_only=true ;;
"") ;;
*)
  echo "usage: scripts/bench.sh [--scale | --share]" >&2
  exit 2
  ;;
esac
root="$PWD"

seconds="${BENCH_SECONDS:-15}"
rounds="${BENCH_ROUNDS:-3}"
connections="${BENCH_CONNECTIONS:-32}"
login_connections="${BENCH_LOGIN_CONNECTIONS:-4}"
shed_connections="${BENCH_SHED_CONNECTIONS:-200}"
saturation_reads="${BENCH_SATURATION_READS:-50}"
saturation_logins="${BENCH_SATURATION_LOGINS:-8}"
refresh_clients="${BENCH_REFRESH_CLIENTS:-4}"
pg_admin_url="${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pg_bench_url="${pg_admin_url%/*}/accounts_bench"

server_cpu=0
load_cpu=1
if (($(nproc) < 2)); then
  echo "bench: fewer than two CPUs: server and load share CPU 0" >&2
  load_cpu=0
fi

binary=target/release/server
# The main wasm module (the build names it after its hash; see hash.txt).
wasm_hash="$(awk '$1 == "wasm:" { print $2 }' target/release/hash.txt 2>/dev/null || true)"
wasm="target/site/pkg/accounts${wasm_hash:+.$wasm_hash}.wasm"
if [[ ! -x "$binary" || ! -f "$wasm" ]]; then
  echo "error: build the release server and site first: scripts/build-release.sh" >&2
  exit 1
fi

scripts/setup.sh --bench
export PATH="$HOME/.cargo/bin:$PATH"
# The raw Argon2id rate, with the server's parameters; cargo skips the build
# when nothing changed.
cargo build --release --quiet -p server --example argon2_rate
argon2_rate=target/release/examples/argon2_rate

pg_database=accounts_bench
# shellcheck source=scripts/bench-server.sh
source scripts/bench-server.sh
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

# Hashing threads the server starts: one per CPU it may use.
hash_slots="$(taskset -c "$server_cpu" nproc)"

# --- SQLite: health, me, logins, me under a login flood, refresh ---------------
say "starting the release server on SQLite (CPU $server_cpu; load on CPU $load_cpu)"
start_server sqlite "sqlite://$work/sqlite/app.db?mode=rwc"
email="bench@example.com"
sign_up "$email"
access_token="$(log_in "$email" "$work/first.jar")"
# The login loads sign in to an account of their own: each login opens a
# session, and past MAX_SESSIONS_PER_USER the oldest ends, which would end
# the session the /api/me loads read with.
sign_up "logins@example.com"
export BENCH_TOKEN="" BENCH_LOGIN_BODY
BENCH_LOGIN_BODY="$(login_body logins@example.com)"

if ! $share_only; then
  say "GET /api/health: -c$connections, ${rounds} × ${seconds} s"
  wrk_rounds health get.lua "$connections" /api/health
fi
say "GET /api/me (bearer): -c$connections, ${rounds} × ${seconds} s"
BENCH_TOKEN="$access_token" wrk_rounds me get.lua "$connections" /api/me
if ! $share_only; then
  # The raw Argon2id rate (one thread on the server's CPU, the server idle)
  # right before each load of logins, in pairs a third of a round long: this
  # machine's speed drifts by several percent within seconds (other tenants
  # share its memory caches), so each load is compared with its own
  # baseline, and the median of those ratios is reported.
  segment=$((seconds >= 9 ? seconds / 3 : seconds))
  pairs=$((seconds >= 9 ? rounds * 3 : rounds))
  say "POST /api/auth/login: -c$login_connections, each after the raw Argon2id rate (m=19456 KiB, t=2, p=1), ${pairs} × (${segment} s + ${segment} s)"
  : >"$work/argon2.samples"
  : >"$work/login.samples"
  : >"$work/login_ratio.samples"
  # CPU ticks (1/100 s) the server's threads spent: "hashing other".
  cpu_ticks() {
    local task
    for task in /proc/"$server_pid"/task/*; do
      printf '%s %s\n' "$(cat "$task/comm")" "$(awk '{ print $14 + $15 }' "$task/stat")"
    done | awk '$1 ~ /^password-hash/ { h += $2; next } { o += $2 } END { print h + 0, o + 0 }'
  }
  : >"$work/login_cpu.samples"
  for ((p = 1; p <= pairs; p++)); do
    raw="$(taskset -c "$server_cpu" "$argon2_rate" "$segment")"
    cpu_ticks >>"$work/login_cpu.samples"
    echo "$raw" >>"$work/argon2.samples"
    seconds="$segment" wrk_once login.lua "$login_connections" /api/auth/login >>"$work/login.samples"
    cpu_ticks >>"$work/login_cpu.samples"
    tail -n 1 "$work/login.samples" |
      awk -v raw="$raw" -v slots="$hash_slots" '{ print $2 / (raw * slots) }' >>"$work/login_ratio.samples"
  done
  argon2_raw="$(median <"$work/argon2.samples")"
  # Per login, what the server's CPU did: hash, and everything else. Steadier
  # than the rates on a machine whose speed drifts.
  logins_done="$(awk -v s="$segment" '{ n += $2 * s } END { printf "%.0f", n }' "$work/login.samples")"
  read -r hash_ms other_ms < <(awk -v n="$logins_done" '
    NR % 2 == 1 { h0 = $1; o0 = $2; next }
    { h += $1 - h0; o += $2 - o0 }
    END { if (n > 0) printf "%.2f %.2f\n", h * 10 / n, o * 10 / n; else print "nan nan" }' "$work/login_cpu.samples")
  login_ratio="$(median <"$work/login_ratio.samples")"
fi
say "GET /api/me during a login flood: ${rounds} × ${seconds} s"
: >"$work/me_flood.samples"
for ((r = 1; r <= rounds; r++)); do
  wrk_once login.lua "$login_connections" /api/auth/login >"$work/flood.$r" &
  flood=$!
  sleep 0.5 # let the flood fill the hashing queue first
  BENCH_TOKEN="$access_token" wrk_once get.lua "$connections" /api/me >>"$work/me_flood.samples"
  wait "$flood"
done
if ! $share_only; then
  # Far more logins than the hashing queue holds: the excess is shed with 503
  # `overloaded` at once, and /api/me must not notice.
  say "GET /api/me during a flood of $shed_connections concurrent logins: ${seconds} s"
  wrk_once login.lua "$shed_connections" /api/auth/login >"$work/shed_login.samples" &
  flood=$!
  sleep 0.5
  BENCH_TOKEN="$access_token" wrk_once get.lua "$connections" /api/me >"$work/shed_me.samples"
  wait "$flood"
fi
# Reads that keep the server's core busy, and logins among them: the
# hashing threads' guaranteed share (PASSWORD_HASH_CPU_SHARE) must keep the
# logins going without letting them slow the reads down much. Each figure
# is compared with the same load alone; a login answered later than 5 s
# counts as failed (wrk's timeout).
say "logins (-c$saturation_logins) during read saturation (GET /api/me -c$saturation_reads): ${rounds} × ${seconds} s each, alone and together"
login_timeout_once() { wrk_timeout=5s wrk_once login.lua "$saturation_logins" /api/auth/login; }
# An account of its own: logins given up on count toward its lockout.
sign_up "saturation@example.com"
BENCH_LOGIN_BODY="$(login_body saturation@example.com)"
: >"$work/sat_login_alone.samples"
: >"$work/sat_login.samples"
: >"$work/sat_me.samples"
BENCH_TOKEN="$access_token" wrk_rounds sat_me_alone get.lua "$saturation_reads" /api/me
for ((r = 1; r <= rounds; r++)); do
  login_timeout_once >>"$work/sat_login_alone.samples"
  login_timeout_once >>"$work/sat_login.samples" &
  logins=$!
  BENCH_TOKEN="$access_token" wrk_once get.lua "$saturation_reads" /api/me >>"$work/sat_me.samples"
  wait "$logins"
done
BENCH_LOGIN_BODY="$(login_body logins@example.com)"

sat_login="$(col sat_login 2)"
sat_login_alone="$(col sat_login_alone 2)"
me_p99="$(col me 4)"
me_flood_p99="$(col me_flood 4)"
# The rows the hashing share moves.
share_rows() {
  printf '| GET /api/me p99 during a login flood | %s ms (%s req/s) | |\n' "$me_flood_p99" "$(col me_flood 2)"
  printf '| flood p99 ÷ idle p99 | %s | ≤ 2 |\n' "$(ratio "$me_flood_p99" "$me_p99")"
  printf '| logins -c%s during read saturation (/api/me -c%s) | %s /s, alone %s /s: %s; %s answered past 5 s | ≥ 0.4, none |\n' "$saturation_logins" "$saturation_reads" "$sat_login" "$sat_login_alone" "$(ratio "$sat_login" "$sat_login_alone")" "$(failed_total sat_login)"
  printf '| GET /api/me p99 among those logins | %s ms, alone %s ms: %s | ≤ 2 |\n' "$(col sat_me 4)" "$(col sat_me_alone 4)" "$(ratio "$(col sat_me 4)" "$(col sat_me_alone 4)")"
  # Where the reads' margin goes: a throughput ratio near 1 − the share
  # means only the tail grew; well under it, CPU time was lost as well.
  printf '| GET /api/me among those logins | %s req/s, alone %s: %s; p50 %s ms, alone %s ms: %s | |\n' "$(col sat_me 2)" "$(col sat_me_alone 2)" "$(ratio "$(col sat_me 2)" "$(col sat_me_alone 2)")" "$(col sat_me 3)" "$(col sat_me_alone 3)" "$(ratio "$(col sat_me 3)" "$(col sat_me_alone 3)")"
}
if $share_only; then
  stop_server
  echo
  echo "The hashing share, $(date -u +%F), server on CPU $server_cpu, load on CPU $load_cpu; medians of $rounds × $seconds s."
  echo
  echo "| Measure | Result | Goal |"
  echo "|---|---|---|"
  printf '| GET /api/me (bearer) | %s req/s, p50 %s ms, p99 %s ms | |\n' "$(col me 2)" "$(col me 3)" "$me_p99"
  share_rows
  exit 0
fi

say "POST /api/auth/refresh on SQLite: $refresh_clients sessions, ${rounds} × ${seconds} s"
refresh_rounds refresh_sqlite "$email"

rss_kib="$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$server_pid/status")"
hwm_kib="$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$server_pid/status")"
stop_server

# --- PostgreSQL: refresh ----------------------------------------------------
refresh_pg="skipped (no PostgreSQL)"
refresh_pg_failed=""
if ! command -v psql >/dev/null; then
  say "PostgreSQL refresh skipped: no psql"
elif ! psql -q "$pg_admin_url" -c 'SELECT 1' >/dev/null 2>&1; then
  say "PostgreSQL refresh skipped: no server answers at ${pg_admin_url%%\?*}"
else
  PGOPTIONS='-c client_min_messages=warning' psql -q "$pg_admin_url" -c 'DROP DATABASE IF EXISTS accounts_bench' -c 'CREATE DATABASE accounts_bench' >/dev/null
  pg_created=true
  say "starting the release server on PostgreSQL"
  start_server postgres "$pg_bench_url"
  sign_up "$email"
  say "POST /api/auth/refresh on PostgreSQL: $refresh_clients sessions, ${rounds} × ${seconds} s"
  refresh_rounds refresh_pg "$email"
  stop_server
  refresh_pg="$(awk '{ print $1 }' "$work/refresh_pg.samples" | median)"
  refresh_pg_failed="$(awk '{ s += $2 } END { print s + 0 }' "$work/refresh_pg.samples")"
fi

# --- the wasm -----------------------------------------------------------------
wasm_raw="$(wc -c <"$wasm")"
wasm_gzip="$(gzip -9 -c "$wasm" | wc -c)"
wasm_brotli="$(brotli -q 11 -c "$wasm" | wc -c)"

# --- the table ----------------------------------------------------------------
health_rps="$(col health 2)"
me_rps="$(col me 2)"
login_rps="$(col login 2)"
refresh_sqlite="$(awk '{ print $1 }' "$work/refresh_sqlite.samples" | median)"
refresh_sqlite_failed="$(awk '{ s += $2 } END { print s + 0 }' "$work/refresh_sqlite.samples")"
rss_mib="$(awk -v k="$rss_kib" 'BEGIN { printf "%.1f", k / 1024 }')"
hwm_mib="$(awk -v k="$hwm_kib" 'BEGIN { printf "%.1f", k / 1024 }')"
rss_budget=$((64 + 19 * hash_slots))
kib() { awk -v b="$1" 'BEGIN { printf "%.0f KiB", b / 1024 }'; }
cpu_model="$(awk -F': *' '$1 ~ /^model name/ { print $2; exit }' /proc/cpuinfo)"

echo
echo "Benchmarks, $(date -u +%F), $(nproc) CPUs ($cpu_model), server on CPU $server_cpu, load on CPU $load_cpu;"
echo "medians of $rounds × $seconds s (logins: of $pairs × $segment s, each after $segment s of raw Argon2id); /api/health and /api/me with wrk -c$connections, logins -c$login_connections, refresh with $refresh_clients sessions."
echo
echo "| Measure | Result | Goal |"
echo "|---|---|---|"
printf '| GET /api/health | %s req/s, p50 %s ms, p99 %s ms | |\n' "$health_rps" "$(col health 3)" "$(col health 4)"
printf '| GET /api/me (bearer) | %s req/s, p50 %s ms, p99 %s ms | |\n' "$me_rps" "$(col me 3)" "$me_p99"
printf '| /api/me ÷ /api/health | %s | ≥ 0.5 |\n' "$(ratio "$me_rps" "$health_rps")"
printf '| POST /api/auth/login | %s logins/s (%s failed) | |\n' "$login_rps" "$(failed_total login)"
printf '| raw Argon2id verify, 1 thread | %s /s (× %s hash slot) | |\n' "$argon2_raw" "$hash_slots"
printf '| logins ÷ (raw verify rate × slots), median of %s pairs | %s | ≥ 0.95 |\n' "$pairs" "$(awk -v r="$login_ratio" 'BEGIN { printf "%.2f", r }')"
printf '| server CPU per login: hashing / everything else | %s ms / %s ms | |\n' "$hash_ms" "$other_ms"
printf '| %s concurrent logins: answered / shed with 503 | %s /s answered, %s shed in %s s | some shed |\n' "$shed_connections" "$(col shed_login 2)" "$(col shed_login 5)" "$seconds"
printf '| GET /api/me p99 during those %s logins | %s ms (%s req/s) | |\n' "$shed_connections" "$(col shed_me 4)" "$(col shed_me 2)"
share_rows
printf '| refresh rotations, SQLite | %s /s (%s failed) | |\n' "$refresh_sqlite" "$refresh_sqlite_failed"
if [[ -n "$refresh_pg_failed" ]]; then
  printf '| refresh rotations, PostgreSQL | %s /s (%s failed) | |\n' "$refresh_pg" "$refresh_pg_failed"
else
  printf '| refresh rotations, PostgreSQL | %s | |\n' "$refresh_pg"
fi
printf '| server RSS after the loads (peak) | %s MiB (%s MiB) | ≤ %s MiB (64 + 19 × %s slot) |\n' "$rss_mib" "$hwm_mib" "$rss_budget" "$hash_slots"
printf '| wasm raw / gzip -9 / brotli -q 11 | %s / %s / %s | |\n' "$(kib "$wasm_raw")" "$(kib "$wasm_gzip")" "$(kib "$wasm_brotli")"
