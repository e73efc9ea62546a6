#!/usr/bin/env bash
# Writes the README's screenshots (docs/screenshots/*.png): the account page,
# signed in, 375 and 1280 px wide, in the light and dark themes. Builds the
# release site and runs end2end/tests/screenshots.spec.ts against it, the
# way scripts/test.sh runs the suite (where that spec is skipped). Look at
# every picture before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
source scripts/env.sh

e2e_dir="$PWD/target/e2e"
rm -rf "$e2e_dir"
mkdir -p "$e2e_dir" docs/screenshots
scripts/build-release.sh
(
  cd end2end
  LEPTOS_SITE_ADDR="127.0.0.1:3100" \
    APP_ENV=development \
    RATE_LIMITS=off \
    APP_URL="http://127.0.0.1:3100" \
    DATA_DIR="$e2e_dir" \
    DATABASE_URL="sqlite://$e2e_dir/app.db?mode=rwc" \
    npm run screenshots
)
ls -l docs/screenshots/*.png
