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
# shellcheck source=scripts/dev-server.sh
source scripts/dev-server.sh

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
  stop_dev_server
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
port="$(free_port)"
# Named `localhost`, a domain name, so that the server offers passkeys and
# their endpoints are fuzzed too (with an IP address they answer 503).
base_url="http://localhost:$port"

start_dev_server "$server" "$data_dir" "$port" "$base_url" "$database_url" "$server_log"

# The database as the log may show it: no password, no options.
shown_database="$(sed -E 's#//[^/@]*@#//#; s#\?.*##' <<<"$database_url")"
echo "fuzz: waiting for the server (pid $server_pid) at $base_url, database $shown_database"
wait_for_health "$base_url" 60

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
sign_up_verified "$base_url" "$email" "$password" Fuzz
# An admin, so that the admin-only operations are fuzzed past their 403;
# made as an operator would, with the binary's own subcommand.
(
  cd "$work_dir"
  APP_ENV=development DATA_DIR="$data_dir" DATABASE_URL="$database_url" \
    "$server" admin grant "$email"
) >>"$server_log" 2>&1
access_token="$(post /api/auth/login "$(json_object email "$email" password "$password")" |
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
