#!/usr/bin/env bash
# The loads of scripts/bench.sh, sourced by it after bench-server.sh:
# wrk loads and their medians, and refresh-token rotations. Expects seconds, rounds, load_cpu
# and refresh_clients to be set.
# shellcheck shell=bash disable=SC2154 # those variables are bench.sh's

login_body() { printf '{"email":"%s","password":"%s"}' "$1" "$password"; }
# Logs $1 in, keeping the refresh cookie in the jar $2; prints the access token.
log_in() {
  curl -fsS --max-time 30 -c "$2" -H 'Content-Type: application/json' \
    --data "$(login_body "$1")" "$base_url/api/auth/login" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

# wrk's report, as one line: "rps ok_rps p50_ms p99_ms failed".
cat >"$work/report.lua" <<'EOF'
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local failed = e.status + e.connect + e.read + e.write + e.timeout
  io.write(string.format("BENCH %.2f %.2f %.3f %.3f %d\n",
    summary.requests / secs, (summary.requests - failed) / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, failed))
end
EOF
cat >"$work/get.lua" <<'EOF'
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
EOF
cat "$work/report.lua" >>"$work/get.lua"
cat >"$work/login.lua" <<'EOF'
wrk.method = "POST"
wrk.body = os.getenv("BENCH_LOGIN_BODY")
wrk.headers["Content-Type"] = "application/json"
EOF
cat "$work/report.lua" >>"$work/login.lua"

# One wrk load pinned to the load CPU: wrk_once SCRIPT CONNECTIONS PATH
# (wrk's timeout: wrk_timeout, 10 s unless set).
wrk_once() {
  taskset -c "$load_cpu" wrk -t1 -c"$2" -d"${seconds}s" --timeout "${wrk_timeout:-10s}" -s "$work/$1" "$base_url$3" |
    awk '$1 == "BENCH" { $1 = ""; print substr($0, 2) }'
}
# `rounds` loads; the samples go to $work/NAME.samples.
wrk_rounds() {
  local name="$1"
  shift
  : >"$work/$name.samples"
  for ((r = 1; r <= rounds; r++)); do
    wrk_once "$@" >>"$work/$name.samples"
  done
}
# Column $2 of the samples of $1 (1 rps, 2 ok_rps, 3 p50, 4 p99, 5 failed), median.
col() { awk -v c="$2" '{ print $c }' "$work/$1.samples" | median; }
failed_total() { awk '{ s += $5 } END { print s + 0 }' "$work/$1.samples"; }

# Rotates one session's refresh token until the deadline, one request after
# the other on one kept-alive connection: curl's cookie engine sends the
# cookie each answer set. (wrk cannot: its Lua `response` hook sees one
# Set-Cookie header of the two the server sends.) Prints one status a line.
refresh_client() {
  local jar="$1" deadline="$2" url="$base_url/api/auth/refresh" args=() i
  for ((i = 0; i < 100; i++)); do args+=(-o /dev/null "$url"); done
  while (($(date +%s%N) < deadline)); do
    taskset -c "$load_cpu" curl -s -X POST -b "$jar" -c "$jar" -w '%{http_code}\n' "${args[@]}" || true
  done
}
# Rotations a second (200s) of `refresh_clients` sessions side by side, over
# `rounds` loads; the samples go to $work/$1.samples as "ok_rps failed".
refresh_rounds() {
  local name="$1" email="$2" start end c clients
  for ((c = 1; c <= refresh_clients; c++)); do
    log_in "$email" "$work/$name.jar.$c" >/dev/null
  done
  : >"$work/$name.samples"
  for ((r = 1; r <= rounds; r++)); do
    start=$(date +%s%N)
    clients=()
    for ((c = 1; c <= refresh_clients; c++)); do
      refresh_client "$work/$name.jar.$c" $((start + seconds * 1000000000)) >"$work/$name.codes.$c" &
      clients+=($!)
    done
    # Not a bare `wait`: the server is a job of this shell too.
    wait "${clients[@]}"
    end=$(date +%s%N)
    cat "$work/$name.codes."* | awk -v ns=$((end - start)) \
      '$1 == 200 { ok++ } $1 != 200 { bad++ } END { printf "%.2f %d\n", ok / (ns / 1e9), bad }' \
      >>"$work/$name.samples"
  done
}
