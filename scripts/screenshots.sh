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
in_end2end "$e2e_dir" "sqlite://$e2e_dir/app.db?mode=rwc" npm run screenshots
ls -l docs/screenshots/*.png
