#!/usr/bin/env bash
# The lists at a million rows: `scripts/bench.sh --scale` runs this. For
# SQLite and then PostgreSQL, it starts the release server on an empty
# database, signs up an admin, times sign-in, refresh and /api/me, then
# bulk-loads BENCH_SCALE_ROWS users and as many people straight into the
# tables (one INSERT … SELECT from a recursive CTE each, through the same
# triggers and indexes as any insert) and times, for both lists: the first
# page, a page 90% deep through its cursor, searches for part of a name
# (a common one and a rare one), a search that matches nothing, and
# sign-in, refresh and /api/me again. Every figure is the median of
# BENCH_SCALE_SAMPLES requests, taken in turns (one of each, then again),
# over one kept-alive connection, with the server pinned to CPU 0 and the
# client to CPU 1, both under the real-time policy SCHED_FIFO when run as
# root (nice -10 otherwise), so that other work on a shared machine delays
# their wake-ups less: what is measured is milliseconds. (PostgreSQL's own
# processes keep their priority.) It prints one markdown table. A benchmark, not a test:
# it reports, it asserts nothing.
#
#   scripts/bench.sh --scale
#   BENCH_SCALE_ROWS=100000 scripts/bench.sh --scale      (a quick look)
#
# BENCH_SCALE_ROWS (1000000); BENCH_SCALE_SAMPLES (21); BENCH_SCALE_KEEP
# (set: keep the PostgreSQL database afterwards, to EXPLAIN); BENCH_PG_ADMIN_URL
# (postgres://postgres@127.0.0.1:5432/postgres): where to create the
# throwaway database accounts_scale (PostgreSQL is skipped when no server
# answers). Needs only the release server, target/release/server:
# `cargo build --release -p server`; sqlite3, psql and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

rows="${BENCH_SCALE_ROWS:-1000000}"
samples="${BENCH_SCALE_SAMPLES:-21}"
pg_admin_url="${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pg_scale_url="${pg_admin_url%/*}/accounts_scale"

server_cpu=0
client_cpu=1
# Ahead of the server and the client: real-time as root, a nicer nice otherwise.
if [[ "$(id -u)" == 0 ]] && command -v chrt >/dev/null; then
  priority=(chrt --fifo 1)
else
  priority=(nice -n -10)
fi
if (($(nproc) < 2)); then
  echo "bench: fewer than two CPUs: server and client share CPU 0" >&2
  client_cpu=0
fi

binary=target/release/server
if [[ ! -x "$binary" ]]; then
  echo "error: build the release server first: cargo build --release -p server" >&2
  exit 1
fi
for tool in sqlite3 python3 curl; do
  command -v "$tool" >/dev/null || {
    echo "error: $tool is needed" >&2
    exit 1
  }
done

pg_database=accounts_scale
pg_keep="${BENCH_SCALE_KEEP:-}"
server_prefix=("${priority[@]}")
# shellcheck source=scripts/bench-server.sh
source scripts/bench-server.sh

admin_email="scale-admin@example.com"

# The bulk load of table $2 on backend $1 (sqlite or postgres), one
# statement: row i is named from 40 first names and 50 surnames (2,000
# combinations, so a surname is in 1 row of 50 and a full name in 1 of
# 2,000), has the address first.surname.i@example.com (.org for people), an
# id made of i, and is created at second 1,700,000,000 + i.
first_names="'Ada','Alan','Grace','Edsger','Barbara','Donald','Frances','John','Margaret','Niklaus','Radia','Tim','Katherine','Dennis','Shafi','Ken','Sophie','Linus','Hedy','Guido','Anita','Brian','Karen','Leslie','Jean','Robin','Mary','Fernando','Lynn','Ivan','Carol','Peter','Adele','Butler','Evelyn','Marvin','Annie','Claude','Dorothy','Edgar'"
surnames="'Lovelace','Turing','Hopper','Dijkstra','Liskov','Knuth','Allen','Backus','Hamilton','Wirth','Perlman','Berners-Lee','Johnson','Ritchie','Goldwasser','Thompson','Wilson','Torvalds','Lamarr','Rossum','Borg','Kernighan','Jones','Lamport','Sammet','Milner','Keller','Corbato','Conway','Sutherland','Shaw','Naur','Goldberg','Lampson','Boyd','Minsky','Easley','Shannon','Vaughan','Codd','Moser','Hoare','Floyd','Rivest','Diffie','Hellman','Bachman','Kay','Engelbart','Cerf'"
bulk_sql() {
  local backend="$1" table="$2" rows_from id first last domain
  case "$backend" in
    sqlite)
      rows_from="WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)"
      id="printf('%08x-0000-4000-8000-%012x', i, i)"
      first="json_extract(json_array($first_names), '\$[' || (i % 40) || ']')"
      last="json_extract(json_array($surnames), '\$[' || ((i / 40) % 50) || ']')"
      ;;
    postgres)
      rows_from="WITH n (i) AS (SELECT generate_series(1, $rows))"
      id="lpad(to_hex(i), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0')"
      first="(ARRAY[$first_names])[i % 40 + 1]"
      last="(ARRAY[$surnames])[(i / 40) % 50 + 1]"
      ;;
  esac
  case "$table" in
    users) domain=com ;;
    people) domain=org ;;
  esac
  local email="lower($first || '.' || $last || '.' || i || '@example.$domain')"
  local name="$first || ' ' || $last"
  local created="1700000000 + i"
  case "$table" in
    users)
      echo "$rows_from
INSERT INTO users (id, email, password_hash, name, role, email_verified_at, created_at, updated_at)
SELECT $id, $email, (SELECT password_hash FROM users WHERE email = '$admin_email'), $name, 'user',
       $created, $created, $created FROM n;"
      ;;
    people)
      echo "$rows_from
INSERT INTO people (id, name, email, phone, version, created_at, updated_at)
SELECT $id, $name, $email, '+44 20 7946 ' || (1000 + i % 9000), 1, $created, $created FROM n;"
      ;;
  esac
}

# Runs SQL on the database of backend $1 at $2 (a file or a URL).
run_sql() {
  case "$1" in
    sqlite) sqlite3 -bail -cmd '.timeout 10000' "$2" ;;
    postgres) PGOPTIONS='-c client_min_messages=warning' psql -q -X -t -A -v ON_ERROR_STOP=1 "$2" ;;
  esac
}

# The timing client: reads a JSON job on standard input, prints
# "key median_ms" lines. One kept-alive connection; `samples` rounds of
# one request per figure, after one round that is not counted.
cat >"$work/measure.py" <<'PY'
import http.client, json, statistics, sys, time, urllib.parse

job = json.load(sys.stdin)
url = urllib.parse.urlsplit(job["base"])
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
login_body = json.dumps({"email": job["email"], "password": job["password"]})
token = None
refresh_cookie = None

def send(method, path, body=None, headers=None):
    headers = dict(headers or {})
    if body is not None:
        headers["Content-Type"] = "application/json"
    start = time.perf_counter()
    connection.request(method, path, body, headers)
    response = connection.getresponse()
    data = response.read()
    elapsed = (time.perf_counter() - start) * 1000
    if response.status != 200:
        sys.exit(f"{method} {path}: {response.status} {data[:300]!r}")
    return response, data, elapsed

def log_in():
    global token, refresh_cookie
    response, data, elapsed = send("POST", "/api/auth/login", login_body)
    token = json.loads(data)["access_token"]
    for name, value in response.getheaders():
        if name.lower() == "set-cookie" and value.startswith("refresh_token="):
            refresh_cookie = value.split(";", 1)[0]
    return elapsed

def refresh():
    global refresh_cookie
    response, _, elapsed = send("POST", "/api/auth/refresh", headers={"Cookie": refresh_cookie})
    for name, value in response.getheaders():
        if name.lower() == "set-cookie" and value.startswith("refresh_token="):
            refresh_cookie = value.split(";", 1)[0]
    return elapsed

def get(path):
    return send("GET", path, headers={"Authorization": f"Bearer {token}"})[2]

figures = []
for key, path in job["gets"]:
    figures.append((key, lambda path=path: get(path)))
figures += [("login", log_in), ("refresh", refresh), ("me", lambda: get("/api/me"))]
log_in()
times = {key: [] for key, _ in figures}
for round in range(job["samples"] + 1):
    for key, run in figures:
        elapsed = run()
        if round > 0:
            times[key].append(elapsed)
for key, _ in figures:
    print(key, f"{statistics.median(times[key]):.3f}")
PY

# Times the figures of $1 (a list of "key path" lines on standard input)
# into $work/$2.results.
measure() {
  python3 -c '
import json, sys
gets = [line.split(" ", 1) for line in sys.stdin.read().splitlines() if line]
print(json.dumps({"base": sys.argv[1], "email": sys.argv[2], "password": sys.argv[3],
                  "samples": int(sys.argv[4]), "gets": gets}))
' "$base_url" "$admin_email" "$password" "$samples" |
    "${priority[@]}" taskset -c "$client_cpu" python3 "$work/measure.py" >"$work/$1.results"
}

# The searches, each with what it shows.
searches=(
  "common velace"
  "rare grace%20hop"
  "none xylophone"
  "none_common lovelace%20hopper"
)

# Backend $1 with database $2 (the file for SQLite, the URL for PostgreSQL)
# reached through DATABASE_URL $3.
run_backend() {
  local backend="$1" database="$2" database_url="$3" list key q deep started
  say "$backend: starting the release server on an empty database"
  start_server "$backend" "$database_url"
  sign_up "$admin_email" "Scale Admin"
  echo "UPDATE users SET role = 'admin' WHERE email = '$admin_email';" | run_sql "$backend" "$database"
  say "$backend: sign-in, refresh and /api/me with one account, $samples samples each"
  measure "$backend.empty" </dev/null

  for list in users people; do
    say "$backend: bulk-loading $rows $list"
    started=$(date +%s.%N)
    {
      [[ "$backend" == sqlite ]] && echo "PRAGMA cache_size = -262144;"
      bulk_sql "$backend" "$list"
    } | run_sql "$backend" "$database"
    awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", e - s }' >"$work/$backend.$list.load"
  done
  if [[ "$backend" == postgres ]]; then
    # What autovacuum does on its own after a load this size, done now.
    say "$backend: VACUUM ANALYZE"
    echo "VACUUM ANALYZE users; VACUUM ANALYZE people;" | run_sql "$backend" "$database"
  fi
  case "$backend" in
    sqlite) du -b "$database"* | awk '{ s += $1 } END { printf "%.0f\n", s / 1048576 }' >"$work/$backend.size" ;;
    postgres) echo "SELECT pg_database_size(current_database()) / 1048576;" | run_sql "$backend" "$database" >"$work/$backend.size" ;;
  esac

  {
    for list in users people; do
      deep="$(echo "SELECT created_at || ':' || id FROM $list ORDER BY created_at, id LIMIT 1 OFFSET $((rows * 9 / 10));" |
        run_sql "$backend" "$database" | python3 -c 'import base64, sys; print(base64.urlsafe_b64encode(sys.stdin.read().strip().encode()).decode().rstrip("="))')"
      echo "$list.first /api/$list?limit=20"
      echo "$list.deep /api/$list?limit=20&cursor=$deep"
      for search in "${searches[@]}"; do
        read -r key q <<<"$search"
        echo "$list.$key /api/$list?limit=20&q=$q"
      done
    done
  } >"$work/$backend.gets"
  say "$backend: the lists and sign-in at $rows rows, $samples samples each"
  measure "$backend.full" <"$work/$backend.gets"
  stop_server
}

run_backend sqlite "$work/sqlite/app.db" "sqlite://$work/sqlite/app.db?mode=rwc"
backends=(sqlite)
if ! command -v psql >/dev/null; then
  say "PostgreSQL skipped: no psql"
elif ! psql -q "$pg_admin_url" -c 'SELECT 1' >/dev/null 2>&1; then
  say "PostgreSQL skipped: no server answers at ${pg_admin_url%%\?*}"
else
  PGOPTIONS='-c client_min_messages=warning' psql -q "$pg_admin_url" \
    -c 'DROP DATABASE IF EXISTS accounts_scale' -c 'CREATE DATABASE accounts_scale' >/dev/null
  pg_created=true
  run_backend postgres "$pg_scale_url" "$pg_scale_url"
  backends+=(postgres)
fi

# --- the table ----------------------------------------------------------------
# The figure $3 of backend $1's run $2 (empty or full), in ms.
figure() { awk -v k="$3" '$1 == k { print $2 }' "$work/$1.$2.results"; }
# "1.52 ms (1.1×)": figure $3 and its ratio to the list's first page.
relative() {
  local value first
  value="$(figure "$1" full "$2.$3")"
  first="$(figure "$1" full "$2.first")"
  awk -v v="$value" -v f="$first" 'BEGIN { printf "%.2f ms (%.1f×)", v, v / f }'
}
title() { [[ "$1" == sqlite ]] && echo SQLite || echo PostgreSQL; }
cpu_model="$(awk -F': *' '$1 ~ /^model name/ { print $2; exit }' /proc/cpuinfo)"
rows_text="$(printf "%'d" "$rows")"

echo
echo "Lists at scale, $(date -u +%F), $(nproc) CPUs ($cpu_model), server on CPU $server_cpu, client on CPU $client_cpu;"
echo "$rows_text users and $rows_text people; medians of $samples requests over one kept-alive connection, a page of 20."
echo
header="| Request"
rule="|---"
for backend in "${backends[@]}"; do
  for list in users people; do
    header+=" | $(title "$backend"), $list"
    rule+="|---"
  done
done
echo "$header |"
echo "$rule|"
row() {
  local label="$1" key="$2" line="| $1"
  for backend in "${backends[@]}"; do
    for list in users people; do
      if [[ "$key" == first ]]; then
        line+=" | $(awk -v v="$(figure "$backend" full "$list.first")" 'BEGIN { printf "%.2f ms", v }')"
      else
        line+=" | $(relative "$backend" "$list" "$key")"
      fi
    done
  done
  echo "$line |"
}
row "first page" first
row "page 90% deep, by its cursor" deep
row "search \`velace\` (a surname: 1 row in 50)" common
row "search \`grace hop\` (a full name: 1 row in 2,000)" rare
row "search \`xylophone\` (no match)" none
row "search \`lovelace hopper\` (no match, every trigram common)" none_common
echo
header="| Request"
rule="|---"
for backend in "${backends[@]}"; do
  header+=" | $(title "$backend"), 1 account | $(title "$backend"), $rows_text rows"
  rule+="|---|---"
done
echo "$header |"
echo "$rule|"
for key in login refresh me; do
  case "$key" in
    login) line="| POST /api/auth/login" ;;
    refresh) line="| POST /api/auth/refresh" ;;
    me) line="| GET /api/me" ;;
  esac
  for backend in "${backends[@]}"; do
    line+=" | $(figure "$backend" empty "$key") ms | $(figure "$backend" full "$key") ms"
  done
  echo "$line |"
done
echo
for backend in "${backends[@]}"; do
  echo "$(title "$backend"): bulk load $(cat "$work/$backend.users.load") s (users) + $(cat "$work/$backend.people.load") s (people), indexes and triggers included; database $(cat "$work/$backend.size") MiB."
done
