#!/usr/bin/env bash
# Sets up the test tools and runs the demo project through `qaagent run-all`.
# Extra arguments go to run-all (e.g. --retries 1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup-test-env.sh
cargo build --quiet -p qaagent-cli
export VIRTUAL_ENV="$root/.venv"
exec "${CARGO_TARGET_DIR:-$root/target}/debug/qaagent" run-all -C examples/demo --parallel "$@"
