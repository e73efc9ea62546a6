# shellcheck shell=bash
# A release server for a script's own use, sourced by scripts/fuzz-api.sh
# and scripts/bench-server.sh: started in the background in development
# mode, waited for, stopped, and given a verified account through the
# development mailbox.

# Starts server binary $1 in the background with its data (and the outbox
# that /api/dev/mailbox reads) in directory $2, on 127.0.0.1:$3, its public
# URL $4 and DATABASE_URL $5, logging to file $6; any further words go
# before the binary (a CPU pin, a priority). It runs from $2, so that no
# .env of the checkout applies (dotenvy looks in the working directory and
# above), with no rate limits and an access token that outlives the run.
# Sets server_pid.
start_dev_server() {
  local binary="$1" data_dir="$2" port="$3" base_url="$4" database_url="$5" log="$6"
  shift 6
  (
    cd "$data_dir"
    exec env -u SMTP_URL \
      APP_ENV=development \
      RATE_LIMITS=off \
      APP_URL="$base_url" \
      LEPTOS_SITE_ADDR="127.0.0.1:$port" \
      LEPTOS_SITE_ROOT="$root/target/site" \
      LEPTOS_OUTPUT_NAME=accounts \
      LEPTOS_ENV=PROD \
      DATA_DIR="$data_dir" \
      DATABASE_URL="$database_url" \
      MAIL_OUTBOX_DIR="$data_dir/outbox" \
      ACCESS_TOKEN_TTL_SECS=3600 \
      RUST_LOG="${RUST_LOG:-warn}" \
      "$@" "$binary"
  ) >"$log" 2>&1 &
  server_pid=$!
}

# Waits until $1/api/health answers; fails if the server exits first or
# $2 seconds pass.
wait_for_health() {
  local base_url="$1" deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null --max-time 2 "$base_url/api/health" 2>/dev/null; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "error: the server exited before answering" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "error: $base_url/api/health did not answer within $2 s" >&2
      return 1
    fi
    sleep 0.1
  done
}

# Stops the server, if one runs: it lets requests in flight finish for up to
# 10 s (SHUTDOWN_GRACE), and is killed after 15.
# shellcheck disable=SC2317 # also run by the callers' traps
stop_dev_server() {
  [[ -n "${server_pid:-}" ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# A JSON object from KEY VALUE pairs: `json_object email a@b.c`.
json_object() {
  python3 -c 'import json, sys; a = sys.argv[1:]; print(json.dumps(dict(zip(a[::2], a[1::2]))))' "$@"
}

# Signs up $2 with password $3 and name $4 at $1, and verifies the address
# with the link the development mailbox shows (mail may leave after the
# answer, so it looks for up to 10 s).
sign_up_verified() {
  local base_url="$1" email="$2" password="$3" name="$4" token="" deadline
  curl -fsS --max-time 30 -H 'Content-Type: application/json' \
    --data "$(json_object email "$email" password "$password" name "$name")" "$base_url/api/auth/register" >/dev/null
  deadline=$((SECONDS + 10))
  while [[ -z "$token" ]]; do
    if ((SECONDS >= deadline)); then
      echo "error: no verification link for $email in $base_url/api/dev/mailbox within 10 s" >&2
      return 1
    fi
    sleep 0.1
    token="$(curl -fsS --max-time 5 "$base_url/api/dev/mailbox" | python3 -c '
import json, sys, urllib.parse
for message in json.load(sys.stdin)["messages"]:  # newest first
    if message["to"] == sys.argv[1]:
        for link in message["links"]:
            url = urllib.parse.urlsplit(link)
            token = urllib.parse.parse_qs(url.query).get("token")
            if url.path.endswith("/verify-email") and token:
                print(token[0])
                sys.exit()
' "$email")"
  done
  curl -fsS --max-time 30 -H 'Content-Type: application/json' \
    --data "$(json_object token "$token" password "$password")" "$base_url/api/auth/verify-email" >/dev/null
}
