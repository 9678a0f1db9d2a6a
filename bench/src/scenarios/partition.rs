//! Target 8: `run-all --partition K/3 --durations FILE` on a suite of skewed
//! test durations — a few long tests among many short ones — puts no more
//! than 15 % above the ideal (total / 3) on the slowest machine. The same
//! without durations (balanced by count) is printed for comparison.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::harness::{latest_run, recorded_test_seconds, row, Opts, Outcome};

/// Machines of the matrix.
const MACHINES: u32 = 3;
/// The long tests' seconds, then how many short ones and their seconds (cycled).
const LONG: &[f64] = &[1.2, 0.9, 0.8, 0.6];
const SHORT_COUNT: usize = 56;
const SHORT: &[f64] = &[0.02, 0.05, 0.08, 0.12, 0.2];

/// Runs the suite once, writes the durations file from that run, then runs
/// each share with it and without it.
pub(crate) fn run(opts: &Opts) -> Outcome {
    let project = opts.work.path().join("partition");
    write_project(&project, opts)?;
    let runs = opts.work.path().join("partition-runs");
    let whole = qaagent(opts, &project, &runs, &[])?;
    if !whole.success() {
        return Err(format!("the whole run exited with {whole}"));
    }
    let durations = opts.work.path().join("durations.json");
    let written = Command::new(&opts.qaagent)
        .arg("-C")
        .arg(&project)
        .args(["runs", "durations", "--runs-dir"])
        .arg(&runs)
        .arg("-o")
        .arg(&durations)
        .status()
        .map_err(|e| e.to_string())?;
    if !written.success() {
        return Err(format!("runs durations exited with {written}"));
    }
    let balanced = share_seconds(opts, &project, Some(&durations))?;
    let by_count = share_seconds(opts, &project, None)?;
    let total: f64 = balanced.iter().sum();
    let ideal = total / f64::from(MACHINES);
    let slowest = balanced.iter().copied().fold(0.0, f64::max);
    let slowest_by_count = by_count.iter().copied().fold(0.0, f64::max);
    println!("test seconds per machine: with durations {balanced:.2?}, by count {by_count:.2?}; ideal {ideal:.2}");
    Ok(vec![row(
        "8. --partition K/3 with durations: slowest machine's test time over the ideal",
        format!(
            "{:+.1} % ({slowest:.2} s of {ideal:.2} s; by count {:+.1} %)",
            (slowest / ideal - 1.0) * 100.0,
            (slowest_by_count / ideal - 1.0) * 100.0
        ),
        "≤ +15 %",
        slowest <= ideal * 1.15,
    )])
}

/// A pytest suite of `LONG` and `SHORT_COUNT` sleeping tests.
fn write_project(dir: &Path, opts: &Opts) -> Result<(), String> {
    let tests = dir.join("tests");
    fs::create_dir_all(&tests).map_err(|e| e.to_string())?;
    let mut seconds: Vec<f64> = LONG.to_vec();
    seconds.extend((0..SHORT_COUNT).map(|i| SHORT[i % SHORT.len()]));
    let mut code = String::from("import time\nimport pytest\n\n");
    code.push_str(&format!(
        "@pytest.mark.parametrize('seconds', {seconds:?})\ndef test_sleeps(seconds):\n    time.sleep(seconds)\n"
    ));
    fs::write(tests.join("test_skew.py"), code).map_err(|e| e.to_string())?;
    let config = format!(
        "[project]\nname = \"partition-bench\"\n\n[tests.unit]\npath = \"tests\"\npython = {:?}\n",
        opts.python.display().to_string()
    );
    fs::write(dir.join(".qaagent.toml"), config).map_err(|e| e.to_string())
}

fn qaagent(opts: &Opts, project: &Path, runs: &Path, extra: &[&str]) -> Result<std::process::ExitStatus, String> {
    crate::harness::qaagent_cmd(opts, project, runs, extra)
        .status()
        .map_err(|e| e.to_string())
}

/// The summed test seconds of each share, from its records.
fn share_seconds(opts: &Opts, project: &Path, durations: Option<&Path>) -> Result<Vec<f64>, String> {
    let mut seconds = Vec::new();
    for k in 1..=MACHINES {
        let runs = opts.work.path().join(format!("share-{k}-{}", durations.is_some()));
        let partition = format!("{k}/{MACHINES}");
        let mut extra = vec!["--partition", partition.as_str()];
        let durations_arg;
        if let Some(file) = durations {
            durations_arg = file.display().to_string();
            extra.extend(["--durations", durations_arg.as_str()]);
        }
        let status = qaagent(opts, project, &runs, &extra)?;
        if !status.success() {
            return Err(format!("share {partition} exited with {status}"));
        }
        seconds.push(recorded_test_seconds(&latest_run(&runs)?)?);
    }
    Ok(seconds)
}
