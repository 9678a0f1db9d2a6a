#!/usr/bin/env bash
# BENCHMARKS.md, target "HTML report": a run of 100,000 tests (the large
# JUnit report of target 3: 30 % failing with ~1.3 KB tracebacks), recorded by
# the release qaagent through the command runner, then its report.html opened
# in headless chromium N times (tests/fixtures/report-viewer/view.js time;
# the third run's report, with two earlier runs in its history):
# milliseconds until the page is drawn, and until it has answered a click on
# the "failed" filter.
#   scripts/bench-html-report.sh [RUNS] [CASES]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${1:-5}
cases=${2:-100000}
[ -d tests/fixtures/report-viewer/node_modules ] || bash scripts/setup-test-env.sh
cargo build --release --quiet -p qaagent-cli -p qaagent-bench
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$target_dir/release/qaagent-bench" gen-junit "$work/big.xml" --cases "$cases"
mkdir -p "$work/project"
cat > "$work/project/.qaagent.toml" <<TOML
[project]
name = "html-bench"

[tests.big]
runner = "command"
path = "."
command = ["cp", "$work/big.xml", "{junit}"]
TOML
# The run itself, three times into one runs dir (so the second and third
# reports have a history of one and two runs): the whole run-all, and the
# report's part of it (its debug log line).
for _ in 1 2 3; do
    start=$(date +%s%N)
    written=$(cd "$work/project" && RUST_LOG=orchestrator=debug QAAGENT_RUNS_DIR="$work/runs" \
        "$target_dir/release/qaagent" run-all --no-progress 2>&1 >/dev/null | grep -o 'report.html written in .*' || true)
    echo "run-all: $(( ($(date +%s%N) - start) / 1000000 )) ms; $written" >&2
done
report=$(ls -d "$work"/runs/*/report.html | tail -1)
echo "report.html: $(du -h "$report" | cut -f1)" >&2
for _ in $(seq "$runs"); do
    node tests/fixtures/report-viewer/view.js time "$report"
done
