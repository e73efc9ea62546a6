#!/usr/bin/env bash
# Installs everything the app and its tests need, at pinned versions, and
# skips whatever is already installed at that version. Safe to run again.
#
#   scripts/setup.sh           what building and running the app needs
#   scripts/setup.sh --tests     that, plus the browser, PostgreSQL, schemathesis and
#                                what --cluster installs, for tests
#   scripts/setup.sh --cluster   that (without --tests), plus nginx and psql for
#                                scripts/cluster.sh
#   scripts/setup.sh --bench     that (without --tests), plus wrk for scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION="0.3.10"
# The wasm-bindgen CLI must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION="$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
MIN_NODE_MAJOR=20
# SCHEMATHESIS_VERSION and SCHEMATHESIS_VENV: in env.sh, which fuzz-api.sh reads too.
source scripts/env.sh

for_tests=false
for_cluster=false
for_bench=false
[[ "${1:-}" == "--tests" ]] && for_tests=true && for_cluster=true
[[ "${1:-}" == "--cluster" ]] && for_cluster=true
[[ "${1:-}" == "--bench" ]] && for_bench=true

# Each step says how long the setup has been running, so a first run (which
# compiles two tools) shows that it is working.
setup_started=$SECONDS
step() { printf '\033[1m==> [%s] %s\033[0m\n' "$(elapsed)" "$*"; }
skip() { printf '    %s\n' "$*"; }
elapsed() { local s=$((SECONDS - setup_started)); printf '%d:%02d' $((s / 60)) $((s % 60)); }

# The tools are compiled with a profile made for installing, not for their
# own releases: cargo-leptos asks for fat LTO and one codegen unit, which
# takes half an hour on two cores for a tool whose speed nobody notices.
# These settings apply to the `cargo install` runs below only. One of
# cargo-leptos's dependencies asks for OpenSSL built from source; the
# system's (installed in the step before it, for the server) links instead.
# Compiling OpenSSL took 3 min 24 s on its own (2 cores, 2026-12-07).
tool_profile=(
  env
  OPENSSL_NO_VENDOR=1
  CARGO_PROFILE_RELEASE_LTO=off
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
  CARGO_PROFILE_RELEASE_OPT_LEVEL=2
  CARGO_PROFILE_RELEASE_DEBUG=false
  CARGO_PROFILE_RELEASE_INCREMENTAL=false
)

as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "error: '$*' needs root and sudo is not installed" >&2
    return 1
  fi
}

apt_updated=false
apt_install() {
  if ! $apt_updated; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=true
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

export PATH="$HOME/.cargo/bin:$PATH"

step "Rust: wasm32 target, rustfmt, clippy"
installed_targets="$(rustup target list --installed)"
if grep -qx wasm32-unknown-unknown <<<"$installed_targets"; then
  skip "wasm32-unknown-unknown present"
else
  rustup target add wasm32-unknown-unknown
fi
installed_components="$(rustup component list --installed)"
for component in rustfmt clippy; do
  if grep -q "^$component" <<<"$installed_components"; then
    skip "$component present"
  else
    rustup component add "$component"
  fi
done

step "OpenSSL headers and pkg-config (webauthn-rs, the passkeys' relying party, and cargo-leptos link OpenSSL)"
if dpkg -s libssl-dev pkg-config >/dev/null 2>&1; then
  skip "present"
else
  apt_install libssl-dev pkg-config
fi

step "cargo-leptos $CARGO_LEPTOS_VERSION"
if [[ "$(cargo leptos --version 2>/dev/null || true)" == *" $CARGO_LEPTOS_VERSION" ]]; then
  skip "present"
else
  # no_downloads: use wasm-bindgen, wasm-opt and friends from PATH.
  "${tool_profile[@]}" cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi

step "wasm-bindgen CLI $WASM_BINDGEN_VERSION"
if [[ -z "$WASM_BINDGEN_VERSION" ]]; then
  echo "error: no wasm-bindgen in Cargo.lock" >&2
  exit 1
fi
if [[ "$(wasm-bindgen --version 2>/dev/null || true)" == "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
  skip "present"
else
  # Not --locked: one of its locked dependencies is gone from crates.io.
  "${tool_profile[@]}" cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

step "Node.js $MIN_NODE_MAJOR+ and the end2end packages (Playwright, binaryen's wasm-opt)"
node_major="$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/' || true)"
if [[ -z "$node_major" ]]; then
  apt_install nodejs npm
  node_major="$(node --version | sed -E 's/^v([0-9]+).*/\1/')"
fi
if ((node_major < MIN_NODE_MAJOR)); then
  echo "error: Node.js $MIN_NODE_MAJOR or newer is needed (found $(node --version))." >&2
  exit 1
fi
lock_sum="$(sha256sum end2end/package-lock.json | cut -d' ' -f1)"
stamp=end2end/node_modules/.setup-lock-sum
if [[ -f "$stamp" && "$(cat "$stamp")" == "$lock_sum" ]]; then
  skip "node_modules match package-lock.json"
else
  (cd end2end && npm ci --no-audit --no-fund)
  echo "$lock_sum" >"$stamp"
fi

step "brotli CLI (scripts/precompress.sh writes the .br files the server sends)"
if command -v brotli >/dev/null; then
  skip "present"
else
  apt_install brotli
fi

if $for_tests; then
  step "Chromium (Debian's; Playwright cannot download its own browser here)"
  if [[ -x /usr/bin/chromium ]]; then
    skip "$(/usr/bin/chromium --version 2>/dev/null || echo present)"
  else
    apt_install chromium
  fi

  step "PostgreSQL for the database tests"
  if [[ -n "${TEST_DATABASE_URL:-}" ]]; then
    skip "TEST_DATABASE_URL is set"
  elif (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    skip "a server answers on 127.0.0.1:5432"
  elif [[ "${SKIP_POSTGRES_INSTALL:-}" == 1 ]]; then
    skip "SKIP_POSTGRES_INSTALL=1: the PostgreSQL tests will be skipped"
  else
    command -v pg_ctlcluster >/dev/null || apt_install postgresql
    cluster_version="$(ls /etc/postgresql | sort -V | tail -1)"
    as_root pg_ctlcluster --skip-systemctl-redirect "$cluster_version" main start || true
    # Let the tests connect over TCP as postgres/postgres.
    as_root runuser -u postgres -- psql -q -c "ALTER USER postgres PASSWORD 'postgres'"
  fi

  step "schemathesis $SCHEMATHESIS_VERSION for the API fuzzing, in a venv of its own"
  if [[ "$("$SCHEMATHESIS_VENV/bin/schemathesis" --version 2>/dev/null || true)" == "schemathesis, version $SCHEMATHESIS_VERSION" ]]; then
    skip "present in $SCHEMATHESIS_VENV"
  else
    # Debian ships venv's pip bootstrap (ensurepip) apart, in python3-venv.
    python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3 python3-venv
    if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "error: schemathesis $SCHEMATHESIS_VERSION needs Python 3.11 or newer (found $(python3 --version))." >&2
      exit 1
    fi
    # --clear: start over from a venv that an interrupted install left behind.
    python3 -m venv --clear "$SCHEMATHESIS_VENV"
    "$SCHEMATHESIS_VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
fi

if $for_cluster; then
  # scripts/cluster.sh runs nginx as a process of its own, with its own
  # config, logs and temporary files; it neither needs nor touches the
  # system's nginx service (which Debian's package starts only where an init
  # system lets it, on port 80). psql creates and drops the cluster's database.
  step "nginx (Debian's) and psql, for scripts/cluster.sh"
  missing=()
  if command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]]; then
    skip "nginx present"
  else
    missing+=(nginx)
  fi
  if command -v psql >/dev/null; then
    skip "psql present"
  else
    missing+=(postgresql-client)
  fi
  if ((${#missing[@]})); then
    apt_install "${missing[@]}"
  fi
fi

if $for_bench; then
  step "wrk, the load generator of the benchmarks"
  if command -v wrk >/dev/null; then
    skip "present"
  else
    apt_install wrk
  fi
fi

step "Setup complete"
