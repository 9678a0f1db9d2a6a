//! Target 9: `qaagent runs flaky` over 100 stored runs of 10,000 tests each.

use std::fs;
use std::process::{Command, Stdio};

use qaagent_bench::measure::{self, mb, Stats};
use qaagent_bench::shard_gen;

use crate::harness::{records_bytes, row, secs, Opts, Outcome};

/// Runs and tests per run of the target.
const RUNS: usize = 100;
const TESTS: usize = 10_000;

/// Tests of the generated history that fail in some runs and pass in others,
/// or fail in all: what `runs flaky` must list.
const LISTED: usize = TESTS / 100 + TESTS / 1000;

/// Generates the runs once, then times `qaagent runs flaky --last 100 --json`
/// over them (the median of `--runs`, default 3).
pub(crate) fn run(opts: &Opts) -> Outcome {
    let root = opts.work.path().join("history");
    let dirs = shard_gen::write_history(&root, RUNS, TESTS).map_err(|e| e.to_string())?;
    println!(
        "{RUNS} runs of {TESTS} tests, tests.jsonl {} in all",
        mb(records_bytes(&dirs))
    );
    let command = || {
        let mut cmd = Command::new(&opts.qaagent);
        // No .qaagent.toml above the work directory: every run in the root is read.
        cmd.current_dir(opts.work.path())
            .args(["runs", "flaky", "--last", "100", "--json", "--runs-dir"])
            .arg(&root)
            .env_remove("RUST_LOG");
        cmd
    };
    let listed = command().output().map_err(|e| e.to_string())?;
    let tests: serde_json::Value = serde_json::from_slice(&listed.stdout).map_err(|e| e.to_string())?;
    let count = tests.as_array().map_or(0, Vec::len);
    if count != LISTED {
        return Err(format!("runs flaky listed {count} tests, not {LISTED}"));
    }
    let mut samples = Vec::new();
    for round in 0..opts.runs(3) {
        let mut cmd = command();
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let sample = measure::run_sampled(&mut cmd).map_err(|e| e.to_string())?;
        if sample.code != 0 {
            return Err(format!("runs flaky exited with {}", sample.code));
        }
        println!(
            "round {round}: {:.2} s wall, {:.2} s CPU, peak RSS (sampled) {}",
            secs(sample.wall),
            secs(sample.cpu),
            mb(sample.own_hwm)
        );
        samples.push(sample);
    }
    let median = |values: Vec<f64>| Stats::of(&values).median;
    let wall = median(samples.iter().map(|s| secs(s.wall)).collect());
    let cpu = median(samples.iter().map(|s| secs(s.cpu)).collect());
    let peak = samples.iter().map(|s| s.own_hwm).max().unwrap_or(0);
    let _ = fs::remove_dir_all(&root);
    Ok(vec![row(
        "11. runs flaky over 100 runs of 10,000 tests: wall, peak RSS",
        format!("{wall:.2} s ({cpu:.2} s CPU), {}", mb(peak)),
        "≤ 3 s, ≤ 100 MB",
        wall <= 3.0 && peak <= 100_000_000,
    )])
}
