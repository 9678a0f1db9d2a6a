//! What the scenarios share: their options and result rows, running qaagent
//! and plain tools, reading the evidence a run left, and this binary's child
//! modes (measurements taken in a fresh process of their own).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use qaagent_bench::junit_gen::{self, ReportShape};
use qaagent_bench::measure;
use qaagent_bench::projects::{self, Suite};

/// One line of the summary: a target and what was measured against it.
pub(crate) struct Row {
    pub(crate) target: String,
    pub(crate) measured: String,
    pub(crate) limit: String,
    pub(crate) met: bool,
}

/// Options shared by the scenarios.
pub(crate) struct Opts {
    pub(crate) qaagent: PathBuf,
    pub(crate) python: PathBuf,
    pub(crate) runs: Option<usize>,
    pub(crate) work: tempfile::TempDir,
}

impl Opts {
    /// How many runs to take: `--runs`, else the scenario's `default` (at least 1).
    pub(crate) fn runs(&self, default: usize) -> usize {
        self.runs.unwrap_or(default).max(1)
    }
}

/// A scenario's rows, or why it could not measure.
pub(crate) type Outcome = Result<Vec<Row>, String>;

/// The bytes of the `tests.jsonl` files of the runs in `dirs`.
pub(crate) fn records_bytes(dirs: &[PathBuf]) -> u64 {
    (dirs.iter())
        .filter_map(|dir| std::fs::metadata(dir.join(evidence::TESTS_FILE)).ok())
        .map(|meta| meta.len())
        .sum()
}

/// A duration in seconds, for arithmetic on samples.
pub(crate) fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// `qaagent -C project run-all --runs-dir runs_dir extra…`, its output discarded.
pub(crate) fn qaagent_cmd(opts: &Opts, project: &Path, runs_dir: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(&opts.qaagent);
    cmd.arg("-C")
        .arg(project)
        .arg("run-all")
        .arg("--runs-dir")
        .arg(runs_dir)
        .args(extra)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Runs `cmd` and measures it; an exit code other than 0 is an error naming `what`.
pub(crate) fn ok_run(cmd: &mut Command, what: &str) -> Result<measure::Sample, String> {
    checked(measure::run(cmd), what)
}

/// A measured run as an error naming `what` when it failed or exited other than 0.
pub(crate) fn checked(sample: std::io::Result<measure::Sample>, what: &str) -> Result<measure::Sample, String> {
    let sample = sample.map_err(|e| format!("{what}: {e}"))?;
    if sample.code != 0 {
        return Err(format!("{what} exited with {}", sample.code));
    }
    Ok(sample)
}

/// The newest run directory under `runs`.
pub(crate) fn latest_run(runs: &Path) -> Result<PathBuf, String> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(runs)
        .map_err(|e| format!("{}: {e}", runs.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.pop().ok_or_else(|| format!("no run in {}", runs.display()))
}

/// The summed test durations the run in directory `run` recorded.
pub(crate) fn recorded_test_seconds(run: &Path) -> Result<f64, String> {
    let records = fs::read_to_string(run.join(evidence::TESTS_FILE)).map_err(|e| e.to_string())?;
    Ok(records
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|record| record["duration"].as_f64())
        .sum())
}

/// The parsed `manifest.json` of the run directory `run`.
pub(crate) fn manifest(run: &Path) -> Result<serde_json::Value, String> {
    let text = fs::read_to_string(run.join("manifest.json")).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// A summary row, printed as it is made.
pub(crate) fn row(target: &str, measured: String, limit: &str, met: bool) -> Row {
    println!(
        "- {target}: {measured} (target {limit}) {}",
        if met { "" } else { "— MISSED" }
    );
    Row {
        target: target.to_string(),
        measured,
        limit: limit.to_string(),
        met,
    }
}

/// Runs `commands` with at most `workers` at once, as a plain shell script
/// with `xargs -P` would; returns the wall time of the whole.
pub(crate) fn run_pool(mut commands: Vec<Command>, workers: usize) -> Result<Duration, String> {
    let start = Instant::now();
    commands.reverse();
    let queue = Mutex::new(commands);
    let failure = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some(mut cmd) = next else { break };
                let status = cmd.stdin(Stdio::null()).status();
                if !matches!(&status, Ok(s) if s.success()) {
                    if let Ok(mut f) = failure.lock() {
                        *f = Some(format!("{cmd:?}: {status:?}"));
                    }
                }
            });
        }
    });
    if let Some(err) = failure.into_inner().ok().flatten() {
        return Err(err);
    }
    Ok(start.elapsed())
}

/// The pytest commands of `suites`, as the pytest runner would run them, each
/// writing under `<work>/<tag>/<suite>`.
pub(crate) fn tool_commands(opts: &Opts, project: &Path, suites: &[Suite], tag: &str) -> Result<Vec<Command>, String> {
    suites
        .iter()
        .map(|suite| {
            projects::pytest_alone(
                project,
                &opts.python,
                suite,
                &opts.work.path().join(tag).join(&suite.name),
            )
            .map_err(|e| e.to_string())
        })
        .collect()
}

/// The tools of a project's [`projects::sleep_suites`], each with its
/// output in `out/<suite>`.
pub(crate) fn sleep_commands(project: &Path, suites: &[(String, f64)], out: &Path) -> Result<Vec<Command>, String> {
    suites
        .iter()
        .map(|(name, secs)| projects::sleep_alone(project, *secs, &out.join(name)).map_err(|e| e.to_string()))
        .collect()
}

/// The large report, generated once per benchmark run.
pub(crate) fn big_report(opts: &Opts) -> Result<(PathBuf, u64), String> {
    let path = opts.work.path().join("big-junit.xml");
    if let Ok(meta) = fs::metadata(&path) {
        return Ok((path, meta.len()));
    }
    let size = junit_gen::write_report(&path, &ReportShape::default()).map_err(|e| e.to_string())?;
    Ok((path, size))
}

/// Runs this binary's `sub` child mode and parses its `key=value` output.
pub(crate) fn run_child(sub: &str, args: &[&Path]) -> Result<Vec<(String, f64)>, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .arg(sub)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("{sub} failed: {}", String::from_utf8_lossy(&out.stdout)));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            Some((key.to_string(), value.parse().ok()?))
        })
        .collect())
}

/// The value of `key` in a child's output.
pub(crate) fn get(values: &[(String, f64)], key: &str) -> Result<f64, String> {
    values
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| *v)
        .ok_or(format!("child output lacks {key}"))
}

/// A child mode: runs `f` on its arguments and prints what it returns.
pub(crate) fn child(args: &[String], f: fn(&[String]) -> Result<String, String>) -> Result<ExitCode, String> {
    let line = f(args)?;
    println!("{line}");
    Ok(ExitCode::SUCCESS)
}
