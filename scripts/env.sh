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
