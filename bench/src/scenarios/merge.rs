//! Target 7: `qaagent merge` of 50 shard runs holding 1,000,000 records.

use std::fs;
use std::process::{Command, Stdio};

use qaagent_bench::measure::{self, mb};
use qaagent_bench::shard_gen;

use crate::harness::{manifest, records_bytes, row, secs, Opts, Outcome};

/// Shards and records of the target.
const SHARDS: usize = 50;
const RECORDS: usize = 1_000_000;

/// Generates the shards once, then times `qaagent merge` of them (the median of `--runs`, default 3).
pub(crate) fn run(opts: &Opts) -> Outcome {
    let shards_root = opts.work.path().join("shards");
    let dirs = shard_gen::write_shards(&shards_root, SHARDS, RECORDS).map_err(|e| e.to_string())?;
    let bytes = records_bytes(&dirs);
    println!(
        "{SHARDS} shard runs, {RECORDS} records, tests.jsonl {} in all",
        mb(bytes)
    );
    let mut samples = Vec::new();
    for round in 0..opts.runs(3) {
        let merged = opts.work.path().join("merged");
        let _ = fs::remove_dir_all(&merged);
        let mut cmd = Command::new(&opts.qaagent);
        cmd.arg("merge")
            .args(&dirs)
            .arg("--runs-dir")
            .arg(&merged)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let sample = measure::run_sampled(&mut cmd).map_err(|e| e.to_string())?;
        // One test in twenty fails: the merged verdict is a failure.
        if sample.code != 1 {
            return Err(format!("merge exited with {}, not 1", sample.code));
        }
        let run = crate::harness::latest_run(&merged)?;
        let tests = manifest(&run)?["counts"]["tests"].as_u64().unwrap_or(0);
        if tests != RECORDS as u64 {
            return Err(format!("the merged run holds {tests} records, not {RECORDS}"));
        }
        println!(
            "round {round}: {:.2} s wall, {:.2} s CPU, peak RSS (sampled) {}",
            secs(sample.wall),
            secs(sample.cpu),
            mb(sample.own_hwm)
        );
        samples.push(sample);
        let _ = fs::remove_dir_all(&merged);
    }
    let mut walls: Vec<f64> = samples.iter().map(|s| secs(s.wall)).collect();
    walls.sort_by(f64::total_cmp);
    let median = walls[walls.len() / 2];
    let peak = samples.iter().map(|s| s.own_hwm).max().unwrap_or(0);
    let mut cpus: Vec<f64> = samples.iter().map(|s| secs(s.cpu)).collect();
    cpus.sort_by(f64::total_cmp);
    let cpu = cpus[cpus.len() / 2];
    let _ = fs::remove_dir_all(&shards_root);
    Ok(vec![row(
        "7. merge 50 shards, 1,000,000 records: wall, peak RSS",
        format!("{median:.2} s ({cpu:.2} s CPU), {}", mb(peak)),
        "≤ 5 s, ≤ 300 MB",
        median <= 5.0 && peak <= 300_000_000,
    )])
}
