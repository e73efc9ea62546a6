# Sourced by the run and test scripts: tools installed by setup.sh on PATH.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"
