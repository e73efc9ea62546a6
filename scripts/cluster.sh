#!/usr/bin/env bash
# Runs the app as it is deployed on several machines, on this one: two
# release server instances sharing one PostgreSQL database, behind Debian's
# nginx as a round-robin load balancer. Every process runs as the current
# user, on loopback ports, with its files under target/cluster/.
#
#   scripts/cluster.sh up      start, serve until Ctrl-C, then stop everything
#   scripts/cluster.sh smoke   start, run the smoke test through nginx
#                              (scripts/cluster/smoke.py), stop everything;
#                              exits non-zero when a step fails
#
# Builds with scripts/build-release.sh unless no source changed since
# its last build. Options, after the mode:
#   --no-build   use target/release/server and target/site as they are
#                (scripts/test.sh passes it after its e2e stage has built them)
#   --port N     nginx's port (default: 8080 for up, a free port for smoke)
#
# DATABASE_URL: a PostgreSQL database for both instances, used as it is.
# Without it a fresh database accounts_cluster_<pid> is created on the server
# of TEST_DATABASE_URL (default: postgres://postgres:postgres@127.0.0.1:5432/postgres)
# and dropped at the end. nginx and psql come from `scripts/setup.sh --cluster`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0" >&2
  exit 2
}

mode="${1:-}"
[[ "$mode" == up || "$mode" == smoke ]] || usage
shift
build=true
nginx_port=""
while (($#)); do
  case "$1" in
    --no-build) build=false ;;
    --port)
      [[ "${2:-}" =~ ^[0-9]+$ ]] || usage
      nginx_port="$2"
      shift
      ;;
    *) usage ;;
  esac
  shift
done

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
fail() {
  echo "error: $*" >&2
  exit 1
}

# N distinct loopback ports that were free a moment ago; should another
# process take one first, the process that wanted it exits and the readiness
# wait says so.
free_ports() {
  python3 -c '
import socket, sys
sockets = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))
' "$1"
}

run_dir="$root/target/cluster"
server="$root/target/release/server"
nginx="$(command -v nginx || true)"
[[ -z "$nginx" && -x /usr/sbin/nginx ]] && nginx=/usr/sbin/nginx
[[ -n "$nginx" ]] || fail "nginx is not installed; run scripts/setup.sh --cluster"
# One cluster per checkout at a time: they would share target/cluster/.
if [[ -s "$run_dir/nginx.pid" ]] && kill -0 "$(cat "$run_dir/nginx.pid")" 2>/dev/null; then
  fail "a cluster from this checkout is running (nginx pid $(cat "$run_dir/nginx.pid")); stop it first"
fi

# --- The database -----------------------------------------------------------

database_url="${DATABASE_URL:-}"
admin_url=""
if [[ -n "$database_url" ]]; then
  [[ "$database_url" == postgres://* || "$database_url" == postgresql://* ]] ||
    fail "DATABASE_URL must be a postgres:// URL: instances of a cluster share one PostgreSQL database (SQLite cannot be shared, nor can it tell other instances about revoked sessions)"
else
  command -v psql >/dev/null || fail "psql is not installed; run scripts/setup.sh --cluster"
  if [[ -z "${TEST_DATABASE_URL:-}" ]] && ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    fail "no PostgreSQL answers on 127.0.0.1:5432. Start one (scripts/setup.sh --tests installs and starts Debian's), or set DATABASE_URL to a PostgreSQL database for the cluster, or TEST_DATABASE_URL to a server on which a database may be created."
  fi
  admin_url="${TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
fi

# --- Stopping everything, however the script ends --------------------------

database_name=""
nginx_pid=""
instance_pids=()
# shellcheck disable=SC2317 # run by the trap, which ShellCheck 0.9 does not see
stop() {
  local pid="$1" signal="$2" i
  kill "-$signal" "$pid" 2>/dev/null || return 0
  # The servers let in-flight requests finish for up to 10 s (SHUTDOWN_GRACE).
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
# shellcheck disable=SC2317
finish() {
  local status=$? pid log
  trap - EXIT INT TERM
  # Ctrl-C is how `up` is meant to end.
  [[ "$mode" == up && "$status" == 130 ]] && status=0
  # nginx first, so that no request reaches an instance that is stopping.
  [[ -n "$nginx_pid" ]] && stop "$nginx_pid" QUIT
  for pid in "${instance_pids[@]}"; do
    stop "$pid" TERM
  done
  if [[ -n "$database_name" ]]; then
    psql "$admin_url" -qX -c "DROP DATABASE IF EXISTS $database_name WITH (FORCE)" ||
      echo "warning: could not drop the database $database_name" >&2
  fi
  if ((status != 0)); then
    for log in "$run_dir"/{instance-1.log,instance-2.log,nginx.out,nginx-error.log}; do
      [[ -s "$log" ]] || continue
      # Without the servers' line per request: nginx-access.log has those.
      echo "--- $log, last 15 lines but requests ---" >&2
      grep -v '"finished processing request"' "$log" | tail -n 15 >&2 || true
    done
    echo "--- logs kept in $run_dir ---" >&2
  fi
  echo "cluster: stopped"
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Build ------------------------------------------------------------------

# Skipped when no source has changed since the last build made here: even
# with nothing to compile, cargo-leptos spends most of a minute generating
# the wasm bundle's JavaScript again. The stamp is taken before the build, so
# that a file saved during it counts as changed next time.
build_stamp="$root/target/cluster-build.stamp"
sources=(Cargo.toml Cargo.lock app frontend server style public)
if $build && [[ -x "$server" && -d "$root/target/site/pkg" && -f "$build_stamp" ]] &&
  [[ -z "$(find "${sources[@]}" -newer "$build_stamp" -print -quit)" ]]; then
  step "release build: up to date (no source changed since the last one)"
  build=false
fi
if $build; then
  # The same build as scripts/test.sh's e2e stage (the server and the site
  # it serves). cargo redoes only what changed; a plain `cargo build -p
  # server` would not do: cargo-leptos compiles the server with LEPTOS_*
  # variables that leptos reads at compile time, so switching between the
  # two rebuilds leptos and everything above it.
  step "release build: scripts/build-release.sh"
  touch "$build_stamp.new"
  "$root/scripts/build-release.sh"
  mv "$build_stamp.new" "$build_stamp"
fi
[[ -x "$server" ]] || fail "no $server; run without --no-build"
[[ -d "$root/target/site/pkg" ]] || echo "warning: no target/site/pkg: pages will lack their scripts and styles (the API works)" >&2

# --- Start ------------------------------------------------------------------

rm -rf "$run_dir"
mkdir -p "$run_dir"/nginx "$run_dir"/outbox
outbox_dir="$run_dir/outbox"

if [[ -z "$database_url" ]]; then
  database_name="accounts_cluster_$$"
  PGOPTIONS=--client-min-messages=warning psql "$admin_url" -qX \
    -c "DROP DATABASE IF EXISTS $database_name WITH (FORCE)" -c "CREATE DATABASE $database_name"
  database_url="${admin_url%/*}/$database_name"
fi

# Each instance's public port, nginx's, then each instance's metrics port.
read -r -a ports <<<"$(free_ports 5)"
if [[ -z "$nginx_port" ]]; then
  if [[ "$mode" == up ]]; then nginx_port=8080; else nginx_port="${ports[2]}"; fi
fi
app_url="http://127.0.0.1:$nginx_port"
# One key for all instances: a token signed by one is checked by the others.
jwt_secret="$(openssl rand -base64 48)"

# The database as a log may show it: no password, no options.
shown_database="$(sed -E 's#//[^/@]*@#//#; s#\?.*##' <<<"$database_url")"
step "starting 2 instances on ports ${ports[0]} and ${ports[1]} (metrics on ${ports[3]} and ${ports[4]}; database $shown_database) and nginx on $nginx_port"

for i in 1 2; do
  instance_dir="$run_dir/instance-$i"
  mkdir -p "$instance_dir"
  # Run from the instance's own directory. SMTP_URL is set, empty, so that
  # a .env file in the checkout (which the server reads from its working
  # directory or above, without overriding what is set) cannot send the
  # mail anywhere but the shared outbox.
  (
    cd "$instance_dir"
    exec env \
      APP_ENV=production \
      APP_URL="$app_url" \
      DATABASE_URL="$database_url" \
      JWT_SECRET="$jwt_secret" \
      TRUSTED_PROXIES=127.0.0.1/32 \
      MAIL_OUTBOX_DIR="$outbox_dir" \
      SMTP_URL= \
      DATA_DIR="$instance_dir/data" \
      LEPTOS_SITE_ADDR="127.0.0.1:${ports[i - 1]}" \
      METRICS_ADDR="127.0.0.1:${ports[i + 2]}" \
      LEPTOS_SITE_ROOT="$root/target/site" \
      LEPTOS_OUTPUT_NAME=accounts \
      LEPTOS_ENV=PROD \
      RUST_LOG=info \
      "$server"
  ) >"$run_dir/instance-$i.log" 2>&1 &
  instance_pids+=($!)
done

template="$(<scripts/cluster/nginx.conf.template)"
template="${template//@RUN_DIR@/"$run_dir"}"
template="${template//@PORT@/"$nginx_port"}"
template="${template//@INSTANCE_1@/"127.0.0.1:${ports[0]}"}"
template="${template//@INSTANCE_2@/"127.0.0.1:${ports[1]}"}"
printf '%s\n' "$template" >"$run_dir/nginx.conf"
# In the foreground (daemon off) so that this script owns the process. As
# root, nginx would hand its workers to `nobody`, who may not write the run
# directory: keep them as root instead.
global_directives="daemon off;"
[[ "$(id -u)" == 0 ]] && global_directives+=" user root;"
"$nginx" -p "$run_dir/nginx" -c "$run_dir/nginx.conf" -e "$run_dir/nginx-error.log" \
  -g "$global_directives" >"$run_dir/nginx.out" 2>&1 &
nginx_pid=$!

# Polls GET URL/api/ready until it answers 200, while PID lives.
wait_ready() {
  local name="$1" url="$2" pid="$3" deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null --max-time 2 "$url/api/ready" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || fail "$name exited before it was ready (log: see below)"
    ((SECONDS < deadline)) || fail "$name: $url/api/ready did not answer 200 within 60 s"
    sleep 0.1
  done
  echo "    $name ready at $url"
}
wait_ready instance-1 "http://127.0.0.1:${ports[0]}" "${instance_pids[0]}"
wait_ready instance-2 "http://127.0.0.1:${ports[1]}" "${instance_pids[1]}"
wait_ready nginx "$app_url" "$nginx_pid"

if [[ "$mode" == smoke ]]; then
  step "smoke test through nginx"
  python3 scripts/cluster/smoke.py \
    --url "$app_url" \
    --instance "http://127.0.0.1:${ports[0]}" \
    --instance "http://127.0.0.1:${ports[1]}" \
    --metrics "http://127.0.0.1:${ports[3]}" \
    --metrics "http://127.0.0.1:${ports[4]}" \
    --outbox "$outbox_dir"
  exit
fi

cat <<EOF

The cluster serves $app_url (Ctrl-C stops it).
  instance-1  http://127.0.0.1:${ports[0]}  log $run_dir/instance-1.log
              metrics http://127.0.0.1:${ports[3]}/metrics
  instance-2  http://127.0.0.1:${ports[1]}  log $run_dir/instance-2.log
              metrics http://127.0.0.1:${ports[4]}/metrics
  nginx       $app_url  config $run_dir/nginx.conf, logs $run_dir/nginx-*.log
  mail        $outbox_dir (.eml files)
EOF
# Until Ctrl-C, or until a process dies on its own.
ended=""
wait -n -p ended "$nginx_pid" "${instance_pids[@]}" || true
name=nginx
[[ "$ended" == "${instance_pids[0]}" ]] && name=instance-1
[[ "$ended" == "${instance_pids[1]}" ]] && name=instance-2
fail "$name exited on its own"
