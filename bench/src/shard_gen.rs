//! The shard runs of the merge benchmark (BENCHMARKS.md target 7): `shards`
//! runs of one partitioned run, `records` test records in all, written
//! through evidence's own writer with `partition` set, as `run-all
//! --partition K/N` records them; and the runs of the flaky-history
//! benchmark (target 11): `runs` whole runs of the same tests.
//!
//! Each run has (a share of) three suites (`unit`, `api`, `e2e`), a JUnit
//! file and a log kept as artifacts. A failing test has a message and a
//! ~600-byte traceback; the rest pass with their file, selector and class
//! name, as pytest records them. In a shard, one test in twenty fails; in
//! the history, see [`write_history`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use evidence::{
    Case, Cases, EvidenceError, Partition, Run, RunInfo, RunStatus, SuiteOutcome, SuiteRecord, TestStatus, ToolRun,
};

/// The suites every shard has a share of.
pub const SUITES: [&str; 3] = ["unit", "api", "e2e"];

/// One in this many tests fails.
pub const FAIL_EVERY: usize = 20;

/// Cases `first..first + count` of a suite, made as they are written.
#[derive(Debug)]
struct Generated {
    suite: &'static str,
    first: usize,
    count: usize,
    traceback: String,
    /// Which run of a history this is (0 for shards).
    run: usize,
    /// Whether test `n` fails in run `run`.
    fails: fn(usize, usize) -> bool,
}

impl Cases for Generated {
    fn count(&self) -> usize {
        self.count
    }

    fn for_each(&self, each: &mut dyn FnMut(&Case<'_>) -> Result<(), EvidenceError>) -> Result<(), EvidenceError> {
        let (mut name, mut selector, mut file) = (String::new(), String::new(), String::new());
        for n in self.first..self.first + self.count {
            let failed = (self.fails)(n, self.run);
            name.clear();
            selector.clear();
            file.clear();
            let _ = write!(file, "tests/{}/test_module_{:04}.py", self.suite, n / 50);
            let _ = write!(name, "test_case_{n}");
            let _ = write!(selector, "{file}::TestThings::{name}");
            each(&Case {
                name: &name,
                classname: "tests.test_module.TestThings",
                status: if failed { TestStatus::Failed } else { TestStatus::Passed },
                duration: 0.001 * (n % 997) as f64,
                message: failed.then_some("AssertionError: assert 404 == 200"),
                error_type: failed.then_some("AssertionError"),
                details: failed.then_some(self.traceback.as_str()),
                file: Some(&file),
                selector: Some(&selector),
                attempts: 1,
                flaky: false,
                system_out: None,
                system_err: None,
                previous_failures: Vec::new(),
                failures: Vec::new(),
                attachments: &[],
                route: None,
                quarantine: None,
            })?;
        }
        Ok(())
    }
}

/// Writes `shards` shard runs holding `records` records in all under
/// `root`; returns their directories, shard 1 first.
pub fn write_shards(root: &Path, shards: usize, records: usize) -> Result<Vec<PathBuf>, EvidenceError> {
    let scratch = root.join("scratch");
    let mut dirs = Vec::with_capacity(shards);
    let per_shard = records / shards;
    for index in 0..shards {
        let share = Share {
            count: per_shard + usize::from(index < records % shards),
            first: index * per_shard * SUITES.len(),
            per_suite: per_shard,
            run: 0,
            fails: |n, _| n % FAIL_EVERY == 7,
        };
        let partition = Some(Partition {
            index: index as u32 + 1,
            total: shards as u32,
            plan: "b3nch".repeat(8),
            durations: None,
            suites: Vec::new(),
        });
        dirs.push(write_run(root, &scratch, partition, &share)?);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(dirs)
}

/// Writes `runs` whole runs of the same `tests` tests under `root`, oldest
/// first; returns their directories. In every run, one test in a thousand
/// fails (always the same: broken tests); one in a hundred more fails in
/// every seventh run (flaky across runs); the rest pass.
pub fn write_history(root: &Path, runs: usize, tests: usize) -> Result<Vec<PathBuf>, EvidenceError> {
    let scratch = root.join("scratch");
    let mut dirs = Vec::with_capacity(runs);
    for run in 0..runs {
        let share = Share {
            count: tests,
            first: 0,
            per_suite: tests.div_ceil(SUITES.len()),
            run,
            fails: |n, run| n % 1000 == 3 || (n % 100 == 7 && (n / 100 + run) % 7 == 0),
        };
        dirs.push(write_run(root, &scratch, None, &share)?);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(dirs)
}

/// The tests one run holds: `count` of them over the three suites, those of
/// suite k numbered from `first + k * per_suite`.
struct Share {
    count: usize,
    first: usize,
    per_suite: usize,
    run: usize,
    fails: fn(usize, usize) -> bool,
}

/// Writes one finished run of `share` under `root` (scratch files below
/// `scratch`); returns its directory.
fn write_run(
    root: &Path,
    scratch: &Path,
    partition: Option<Partition>,
    share: &Share,
) -> Result<PathBuf, EvidenceError> {
    let traceback =
        "  File \"tests/test_module.py\", line 42, in test_case\n    assert response.status == 200\n".repeat(6);
    let info = RunInfo {
        project_name: "monorepo".into(),
        project_path: root.to_path_buf(),
        suites: SUITES.iter().map(|s| s.to_string()).collect(),
        qaagent_version: "bench".into(),
        partition,
    };
    let run = Run::create(root, info)?;
    let dir = run.dir().to_path_buf();
    let run_id = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let writer = run.start_writer()?;
    let mut any_failed = false;
    let count = share.count;
    for (position, suite) in SUITES.iter().enumerate() {
        let in_suite = count / SUITES.len() + usize::from(position < count % SUITES.len());
        let first = share.first + position * share.per_suite;
        let failed = (first..first + in_suite)
            .filter(|&n| (share.fails)(n, share.run))
            .count();
        any_failed |= failed > 0;
        let out = scratch.join(format!("{run_id}-{suite}"));
        std::fs::create_dir_all(&out).map_err(|e| EvidenceError::Io {
            what: "create directory",
            path: out.clone(),
            source: e,
        })?;
        let artifacts = ["junit.xml", "stdout.log"].map(|name| out.join(name));
        for path in &artifacts {
            std::fs::write(path, "<testsuites/>\n").map_err(|e| EvidenceError::Io {
                what: "write",
                path: path.clone(),
                source: e,
            })?;
        }
        let record = SuiteRecord {
            name: suite.to_string(),
            runner: "pytest".into(),
            outcome: if failed > 0 {
                SuiteOutcome::Failed
            } else {
                SuiteOutcome::Passed
            },
            passed: in_suite - failed,
            failed,
            errors: 0,
            skipped: 0,
            flaky: 0,
            duration: Duration::from_secs(60),
            return_code: Some(i32::from(failed > 0)),
            error: None,
            log_tail: None,
            skip_reason: None,
            attempts: 1,
            leaked: Vec::new(),
            tool: ToolRun {
                name: "pytest".into(),
                version: Some("9.0".into()),
                executed: true,
                exit_code: Some(i32::from(failed > 0)),
                error: None,
            },
            output_dir: Some(out.clone()),
            artifacts: artifacts.to_vec(),
            attempt_spans: Vec::new(),
            cases: Box::new(Generated {
                suite,
                first,
                count: in_suite,
                traceback: traceback.clone(),
                run: share.run,
                fails: share.fails,
            }),
        };
        writer.suite_finished(position, record)?;
    }
    let status = if any_failed {
        RunStatus::Failed
    } else {
        RunStatus::Passed
    };
    writer.finish(status, Duration::from_secs(180))?;
    Ok(dir)
}
