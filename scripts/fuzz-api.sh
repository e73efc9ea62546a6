#!/usr/bin/env bash
# Fuzzes the JSON API with schemathesis. Starts SERVER_BINARY on a free
# loopback port with a data directory of its own (and SQLite in it, unless
# DATABASE_URL says otherwise), signs up, verifies and logs in a user through
# the development mailbox, then sends valid and invalid requests generated
# from GET /api/openapi.json with that user's access token. Fails when an
# answer is a 5xx or is not what the document promises: its status code,
# content type or body schema. Exits with schemathesis' status.
#
#   scripts/fuzz-api.sh target/release/server
#   scripts/fuzz-api.sh target/release/server postgres://postgres:postgres@127.0.0.1:5432/accounts_fuzz
#
# FUZZ_MAX_EXAMPLES (default 100): test cases per operation in the fuzzing
# phase; the coverage phase adds its own boundary and invalid cases.
# schemathesis comes from `scripts/setup.sh --tests`.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 SERVER_BINARY [DATABASE_URL]" >&2
  exit 2
fi
# Resolved before the cd: the binary is named relative to the caller.
server="$(realpath -m "$1")"
if [[ ! -x "$server" ]]; then
  echo "error: $1 is not an executable server binary" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
source scripts/env.sh

schemathesis="$SCHEMATHESIS_VENV/bin/schemathesis"
if [[ ! -x "$schemathesis" ]]; then
  echo "error: no schemathesis at $schemathesis; run scripts/setup.sh --tests" >&2
  exit 1
fi
max_examples="${FUZZ_MAX_EXAMPLES:-100}"

work_dir="$(mktemp -d "${TMPDIR:-/tmp}/accounts-fuzz.XXXXXX")"
data_dir="$work_dir/data"
mkdir "$data_dir"
server_log="$work_dir/server.log"
database_url="${2:-sqlite://$data_dir/app.db?mode=rwc}"

# Always stops the server; on failure shows the end of its log and keeps the
# work directory for a closer look.
server_pid=""
# shellcheck disable=SC2317 # run by the trap, which ShellCheck 0.9 does not see
finish() {
  local status=$?
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    # The server lets in-flight requests finish for up to 10 s (SHUTDOWN_GRACE).
    for ((i = 0; i < 150; i++)); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if ((status != 0)); then
    echo "--- the server's log, last 50 lines ($server_log) ---" >&2
    tail -n 50 "$server_log" >&2 || true
    echo "--- kept $work_dir ---" >&2
  else
    rm -rf "$work_dir"
  fi
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A port that was free a moment ago; should another process take it first,
# the server exits and the wait below says so.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# Named `localhost`, a domain name, so that the server offers passkeys and
# their endpoints are fuzzed too (with an IP address they answer 503).
base_url="http://localhost:$port"

# Run from the work directory so that no .env of the checkout applies
# (dotenvy reads one from the working directory or above). Mail goes to the
# outbox that /api/dev/mailbox reads, and the access token outlives the run.
(
  cd "$work_dir"
  exec env -u SMTP_URL \
    LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    LEPTOS_SITE_ROOT="$root/target/site" \
    LEPTOS_OUTPUT_NAME=accounts \
    LEPTOS_ENV=PROD \
    APP_ENV=development \
    RATE_LIMITS=off \
    APP_URL="$base_url" \
    DATA_DIR="$data_dir" \
    DATABASE_URL="$database_url" \
    MAIL_OUTBOX_DIR="$data_dir/outbox" \
    ACCESS_TOKEN_TTL_SECS=3600 \
    "$server"
) >"$server_log" 2>&1 &
server_pid=$!

# The database as the log may show it: no password, no options.
shown_database="$(sed -E 's#//[^/@]*@#//#; s#\?.*##' <<<"$database_url")"
echo "fuzz: waiting for the server (pid $server_pid) at $base_url, database $shown_database"
deadline=$((SECONDS + 60))
until curl -fsS -o /dev/null --max-time 2 "$base_url/api/health" 2>/dev/null; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "error: the server exited before answering" >&2
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "error: $base_url/api/health did not answer within 60 s" >&2
    exit 1
  fi
  sleep 0.1
done

# A JSON object from KEY VALUE pairs, e.g. `json email a@b.c`.
json() {
  python3 -c 'import json, sys; a = sys.argv[1:]; print(json.dumps(dict(zip(a[::2], a[1::2]))))' "$@"
}
# POSTs a JSON body to an API path and prints the answer; fails on 4xx/5xx,
# showing the answer.
post() {
  local answer
  if ! answer="$(curl -sS --fail-with-body --max-time 30 -H 'Content-Type: application/json' --data "$2" "$base_url$1")"; then
    echo "error: POST $1 was refused: $answer" >&2
    return 1
  fi
  printf '%s\n' "$answer"
}

echo "fuzz: signing up a verified user"
email="fuzz@example.com"
password="correct horse battery staple 42"
post /api/auth/register "$(json email "$email" password "$password" name Fuzz)" >/dev/null

# Mail may leave after the answer: poll the mailbox for the link, briefly.
verification_token=""
deadline=$((SECONDS + 10))
while [[ -z "$verification_token" ]]; do
  if ((SECONDS >= deadline)); then
    echo "error: no verification link for $email in $base_url/api/dev/mailbox within 10 s" >&2
    exit 1
  fi
  sleep 0.1
  verification_token="$(curl -fsS --max-time 5 "$base_url/api/dev/mailbox" | python3 -c '
import json, sys, urllib.parse
mailbox = json.load(sys.stdin)
messages = mailbox["messages"] if isinstance(mailbox, dict) else mailbox
for message in messages:  # newest first
    if sys.argv[1] in message["to"]:
        for link in message["links"]:
            url = urllib.parse.urlsplit(link)
            token = urllib.parse.parse_qs(url.query).get("token")
            if url.path.endswith("/verify-email") and token:
                print(token[0])
                sys.exit()
' "$email")"
done
post /api/auth/verify-email "$(json token "$verification_token" password "$password")" >/dev/null
# An admin, so that the admin-only operations are fuzzed past their 403;
# made as an operator would, with the binary's own subcommand.
(
  cd "$work_dir"
  APP_ENV=development DATA_DIR="$data_dir" DATABASE_URL="$database_url" \
    "$server" admin grant "$email"
) >>"$server_log" 2>&1
access_token="$(post /api/auth/login "$(json email "$email" password "$password")" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"

# From the work directory too: schemathesis keeps caches (.hypothesis,
# .schemathesis) in the working directory and would pick up a
# schemathesis.toml from it or above. One worker: with two, the threads'
# first descriptions of hypothesis strategies parse Python source at the
# same time, and CPython 3.11's `ast.parse` is not safe for that (it fails
# with "AST constructor recursion depth mismatch", reported as an error of
# whichever operation was being tested).
fuzz() {
  (
    cd "$work_dir"
    "$schemathesis" run "$base_url/api/openapi.json" \
      --url "$base_url" \
      --header "Authorization: Bearer $access_token" \
      --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
      --mode all \
      --max-examples "$max_examples" \
      --workers 1 \
      --request-timeout 10 \
      --generation-database none \
      "$@"
  )
}

# Logging out everywhere, or signing out a session the fuzzer found in the
# device list (its own), revokes the access token that every other bearer
# endpoint needs: those get a run of their own, after the rest. Deleting the
# account (its token is recent, so the step-up lets it through) ends
# everything, so it runs alone, last. Operation ids, not paths: DELETE
# /api/me shares its path with GET and PATCH.
session_enders='^(LogoutAll|EndMySession)$'
first=0 second=0 third=0
echo "fuzz: every operation but those that end the session or the account"
fuzz --exclude-operation-id-regex "^(LogoutAll|EndMySession|DeleteMe)$" || first=$?
echo "fuzz: the operations that end the session"
fuzz --include-operation-id-regex "$session_enders" || second=$?
echo "fuzz: deleting the account"
fuzz --include-operation-id DeleteMe || third=$?
exit $((first != 0 ? first : second != 0 ? second : third))
