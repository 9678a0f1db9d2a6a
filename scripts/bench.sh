#!/usr/bin/env bash
# Runs every benchmark of BENCHMARKS.md with one command:
#   scripts/bench.sh                 whole-process benchmarks (all targets), report in target/bench-report.md
#   scripts/bench.sh startup junit   only some of them (startup overhead playwright junit postprocess scaling big-output merge partition split flaky)
#   scripts/bench.sh --criterion     also the criterion benches (JUnit reading, record writing, diagnostics)
# Extra options go to qaagent-bench (e.g. --runs 20). Needs the test venv
# (scripts/setup-test-env.sh) or $VIRTUAL_ENV / $QAAGENT_BENCH_PYTHON with pytest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
criterion=false
args=()
for arg in "$@"; do
    if [ "$arg" = "--criterion" ]; then criterion=true; else args+=("$arg"); fi
done
if [ -z "${VIRTUAL_ENV:-}" ] && [ -z "${QAAGENT_BENCH_PYTHON:-}" ] && [ ! -x .venv/bin/python ]; then
    bash scripts/setup-test-env.sh
fi
cargo build --release --quiet -p qaagent-cli -p qaagent-bench
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
report="$target_dir/bench-report.md"
"$target_dir/release/qaagent-bench" "${args[@]}" | tee "$report"
echo "report: $report" >&2
if $criterion; then
    cargo bench -p qaagent-bench
fi
