# shellcheck shell=bash
# Sourced by the scripts here: tools installed by setup.sh on PATH.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"

# schemathesis (the API fuzzer of scripts/fuzz-api.sh) is a Python tool, so
# setup.sh installs it into a virtualenv of its own, kept off PATH so that its
# python3 shadows nobody's. The venv lives in the user's cache rather than in
# the checkout: cleaning target/ keeps it, every checkout of the repo shares
# it, and git never sees it. Its name carries the version, so changing the pin
# makes a new venv beside the old one instead of changing one in use.
SCHEMATHESIS_VERSION="4.32.5"
# shellcheck disable=SC2034 # read by the scripts that source this one
SCHEMATHESIS_VENV="${XDG_CACHE_HOME:-$HOME/.cache}/accounts-tools/schemathesis-$SCHEMATHESIS_VERSION"

# Runs "$@" in end2end/ with what the server Playwright starts needs: a fresh
# data directory $1 and the database URL $2 (playwright.config.ts reads both).
# A TCP port on 127.0.0.1 that nothing listens on now (Node is there for
# Playwright anyway).
free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

in_end2end() {
  local data_dir="$1" database_url="$2"
  shift 2
  # Ports free right now, so that two checkouts (or two databases' runs)
  # can test side by side.
  local site_port short_ttl_port
  site_port="$(free_port)"
  short_ttl_port="$(free_port)"
  (
    cd "$root/end2end"
    LEPTOS_SITE_ADDR="127.0.0.1:$site_port" \
      SHORT_TTL_ADDR="127.0.0.1:$short_ttl_port" \
      APP_ENV=development \
      RATE_LIMITS=off \
      APP_URL="http://localhost:$site_port" \
      DATA_DIR="$data_dir" \
      DATABASE_URL="$database_url" \
      "$@"
  )
}
