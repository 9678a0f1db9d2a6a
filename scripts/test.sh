#!/usr/bin/env bash
# Sets up the test tools (scripts/setup-test-env.sh) and runs every check CI
# runs: formatting, clippy, and the whole workspace's tests against real
# pytest, behave and Playwright.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup-test-env.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo bench --workspace --no-run --quiet
cargo test --workspace "$@"
