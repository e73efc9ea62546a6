#!/usr/bin/env bash
# Installs whatever is missing, then runs every check and test:
# formatting, clippy (server and wasm builds), unit and API tests on SQLite
# and PostgreSQL, the Playwright suite in Chromium against the release build
# of scripts/build-release.sh, schemathesis fuzzing of the API against that
# build, and a smoke test of two instances of it behind nginx
# (scripts/cluster.sh).
#
#   scripts/test.sh                 everything (what CI runs)
#   scripts/test.sh lint unit e2e   only the named stages (of lint unit e2e fuzz cluster)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
source scripts/env.sh

stages=("$@")
[[ ${#stages[@]} -eq 0 ]] && stages=(lint unit e2e fuzz cluster)
wants() { [[ " ${stages[*]} " == *" $1 "* ]]; }
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# A full run from scratch grows target/ to about TARGET_SIZE_GIB; running out
# of disk midway fails with a confusing linker or I/O error, so say it first.
TARGET_SIZE_GIB=5
free_gib="$(df -P --block-size=1G . | awk 'NR == 2 { print $4 }')"
if [[ -n "$free_gib" ]] && ((free_gib < TARGET_SIZE_GIB)); then
  echo "warning: ${free_gib} GiB free on $(df -P . | awk 'NR == 2 { print $6 }'); a build from scratch needs about ${TARGET_SIZE_GIB} GiB (cargo clean in other checkouts frees space)" >&2
fi

if wants lint; then
  step "cargo fmt --check"
  cargo fmt --all -- --check

  step "clippy: server build (ssr)"
  cargo clippy --locked -p server -p app --all-targets -- -D warnings

  step "clippy: browser build (hydrate, wasm32)"
  cargo clippy --locked -p frontend -p app --target wasm32-unknown-unknown -- -D warnings
fi

if wants unit; then
  step "unit and API tests"
  if [[ -z "${TEST_DATABASE_URL:-}" ]] && (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    export TEST_DATABASE_URL="postgres://postgres:postgres@127.0.0.1:5432/postgres"
  fi
  if [[ -n "${TEST_DATABASE_URL:-}" ]]; then
    echo "PostgreSQL tests run against ${TEST_DATABASE_URL%%\?*}"
  else
    echo "PostgreSQL tests SKIPPED: no server on 127.0.0.1:5432 and TEST_DATABASE_URL unset."
  fi
  cargo test --locked -p app -p server --lib --test api
fi

if wants e2e; then
  step "release build (scripts/build-release.sh)"
  scripts/build-release.sh

  # Runs the Playwright suite against the release build; the server that
  # Playwright starts uses the given database.
  run_e2e() {
    local label="$1" database_url="$2"
    step "end-to-end on $label: Playwright in Chromium against the release build"
    e2e_dir="$PWD/target/e2e"
    rm -rf "$e2e_dir"
    mkdir -p "$e2e_dir"
    in_end2end "$e2e_dir" "${database_url//@E2E_DIR@/$e2e_dir}" npx playwright test || true
    # Only a fresh report with passing tests and no failures counts (a
    # server that never started leaves none).
    node -e '
      const report = require(process.argv[1]);
      const { expected = 0, unexpected = 0, flaky = 0 } = report.stats ?? {};
      console.log(`Playwright: ${expected} passed, ${unexpected + flaky} failed`);
      process.exit(expected > 0 && unexpected + flaky === 0 ? 0 : 1);
    ' "$e2e_dir/playwright-results.json" || {
      echo "error: the end-to-end suite on $label did not run or did not pass" >&2
      exit 1
    }
  }

  run_e2e SQLite "sqlite://@E2E_DIR@/app.db?mode=rwc"

  if [[ -z "${TEST_DATABASE_URL:-}" ]] && (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    export TEST_DATABASE_URL="postgres://postgres:postgres@127.0.0.1:5432/postgres"
  fi
  if [[ -n "${TEST_DATABASE_URL:-}" ]] && command -v psql >/dev/null; then
    e2e_database_url="${TEST_DATABASE_URL%/*}/accounts_e2e"
    psql "$TEST_DATABASE_URL" -qX -c "DROP DATABASE IF EXISTS accounts_e2e WITH (FORCE)" -c "CREATE DATABASE accounts_e2e"
    run_e2e PostgreSQL "$e2e_database_url"
  else
    echo "End-to-end tests on PostgreSQL SKIPPED: no TEST_DATABASE_URL or no psql."
  fi
fi

if wants fuzz; then
  # The e2e stage has just built the release server (and target/site). Without
  # it, build here: cargo redoes only what changed, and a binary left by an
  # earlier run may predate the code under test.
  if ! wants e2e || [[ ! -x target/release/server ]]; then
    step "release build for the API fuzzing"
    scripts/build-release.sh
  fi

  step "API fuzzing on SQLite: schemathesis against the release server"
  scripts/fuzz-api.sh target/release/server

  if [[ -z "${TEST_DATABASE_URL:-}" ]] && (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    export TEST_DATABASE_URL="postgres://postgres:postgres@127.0.0.1:5432/postgres"
  fi
  if [[ -n "${TEST_DATABASE_URL:-}" ]] && command -v psql >/dev/null; then
    step "API fuzzing on PostgreSQL: schemathesis against the release server"
    psql "$TEST_DATABASE_URL" -qX -c "DROP DATABASE IF EXISTS accounts_fuzz WITH (FORCE)" -c "CREATE DATABASE accounts_fuzz"
    scripts/fuzz-api.sh target/release/server "${TEST_DATABASE_URL%/*}/accounts_fuzz"
  else
    echo "API fuzzing on PostgreSQL SKIPPED: no TEST_DATABASE_URL or no psql."
  fi
fi

if wants cluster; then
  if [[ -z "${TEST_DATABASE_URL:-}" ]] && (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    export TEST_DATABASE_URL="postgres://postgres:postgres@127.0.0.1:5432/postgres"
  fi
  if [[ -n "${TEST_DATABASE_URL:-}" ]] && command -v psql >/dev/null; then
    step "cluster smoke test: two release servers on PostgreSQL behind nginx"
    # The e2e stage (or, without it, the fuzz stage) has just built the
    # release server and target/site; without either, cluster.sh builds.
    cluster_options=()
    if { wants e2e || wants fuzz; } && [[ -x target/release/server ]]; then
      cluster_options+=(--no-build)
    fi
    # A fresh database next to TEST_DATABASE_URL, whatever DATABASE_URL says.
    env -u DATABASE_URL scripts/cluster.sh smoke "${cluster_options[@]}"
  else
    echo "Cluster smoke test SKIPPED: no TEST_DATABASE_URL or no psql."
  fi
fi

step "all checks passed"
