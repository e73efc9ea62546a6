#!/usr/bin/env bash
# Installs whatever is missing, then builds the release (scripts/build-release.sh)
# and serves the app at http://127.0.0.1:3000 (SQLite under ./data unless
# DATABASE_URL says otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
# The binary defaults to production; this command is for trying the app
# out on this machine (a generated signing key, mail written to files and
# shown at /dev/mailbox).
export APP_ENV="${APP_ENV:-development}"
scripts/build-release.sh
exec target/release/server
