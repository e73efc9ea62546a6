#!/usr/bin/env bash
# Installs whatever is missing, then builds the release (scripts/build-release.sh)
# and serves the app at http://127.0.0.1:3000 (SQLite under ./data unless
# DATABASE_URL says otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
scripts/build-release.sh
exec target/release/server
