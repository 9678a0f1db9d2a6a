//! `qaagent runs list` and `qaagent runs show`: recorded runs, read back.
//!
//! Both go through the evidence crate's reading side and never give up
//! because one run is damaged. `runs list` shows a run whose `manifest.json`
//! is missing (a run killed while being created), unreadable or corrupt as
//! `incomplete` / `unreadable` / `corrupt` with what is wrong, and notes bad
//! lines in a listed run's `tests.jsonl`. `runs show` prints everything it can
//! read of a damaged run, lists the problems, and exits with
//! [`exit::EVIDENCE_DAMAGED`]; a wrong run id is a usage error (exit 2) with a
//! hint.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use evidence::{
    Counts, DiagnosticRecord, LoadedRun, Manifest, ManifestProblem, RunSummary, SuiteEntry, SuiteOutcome, TestRecord,
    TestStatus, TESTS_FILE,
};
use serde::Serialize;

use crate::error::CliError;
use crate::exit;
use crate::reporter::summary::plural;

/// `qaagent runs …`.
#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// List recorded runs, newest first: id, created, status, counts, wall time.
    List(ListArgs),
    /// Show one run: suites, failures, flaky tests, diagnostics and artifacts.
    Show(ShowArgs),
}

/// Where to read runs from.
#[derive(Debug, Args)]
pub struct RunsDirArg {
    /// Where evidence runs are stored [default: $QAAGENT_RUNS_DIR, else ~/.qaagent/runs].
    #[arg(long, value_name = "DIR")]
    pub runs_dir: Option<PathBuf>,
}

/// `qaagent runs list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Where to read runs from.
    #[command(flatten)]
    pub store: RunsDirArg,
    /// Show only the newest N runs.
    #[arg(long, short = 'n', value_name = "N")]
    pub limit: Option<usize>,
    /// Print one JSON array on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `qaagent runs show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Where to read runs from.
    #[command(flatten)]
    pub store: RunsDirArg,
    /// The run id, as `qaagent runs list` shows it, or `latest` for the newest run.
    #[arg(value_name = "RUN_ID|latest")]
    pub run: String,
    /// Print one JSON document on stdout: manifest, failures, flaky tests, diagnostics, artifacts.
    #[arg(long)]
    pub json: bool,
    /// Also write the run's merged JUnit XML report to FILE, as `run-all --junit` does.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Runs `qaagent runs …`.
pub fn run(command: &RunsCommand) -> Result<u8, CliError> {
    match command {
        RunsCommand::List(args) => list(args),
        RunsCommand::Show(args) => show(args),
    }
}

fn io_error(source: std::io::Error) -> CliError {
    CliError::Io {
        what: "cannot write output".into(),
        source,
    }
}

// ---------------------------------------------------------------------------
// runs list

/// One row of `runs list`, also its JSON form.
#[derive(Debug, Serialize)]
struct ListRow {
    run_id: String,
    dir: PathBuf,
    /// `passed`, `failed`, `running`, `interrupted`, `unknown` (no status
    /// recorded, as in the Python qaagent's runs), or for a damaged run
    /// `incomplete`, `unreadable`, `corrupt`.
    status: String,
    created_at: Option<String>,
    finished_at: Option<String>,
    wall_seconds: Option<f64>,
    project: Option<String>,
    counts: Option<Counts>,
    /// What is wrong with the run's files, if anything.
    problems: Vec<String>,
}

impl ListRow {
    fn new(run: &RunSummary) -> Self {
        match &run.manifest {
            Ok(manifest) => {
                let loaded = LoadedRun {
                    run_id: run.run_id.clone(),
                    dir: run.dir.clone(),
                    manifest: (**manifest).clone(),
                };
                let records = read_records(&loaded);
                ListRow {
                    run_id: run.run_id.clone(),
                    dir: run.dir.clone(),
                    status: status_word(manifest),
                    created_at: Some(manifest.created_at.clone()).filter(|c| !c.is_empty()),
                    finished_at: manifest.finished_at.clone(),
                    wall_seconds: manifest.wall_seconds,
                    project: Some(manifest.target.name.clone()).filter(|n| !n.is_empty()),
                    counts: Some(manifest.counts.clone()),
                    problems: records.problems,
                }
            }
            Err(problem) => ListRow {
                run_id: run.run_id.clone(),
                dir: run.dir.clone(),
                status: damaged_word(problem).to_string(),
                created_at: None,
                finished_at: None,
                wall_seconds: None,
                project: None,
                counts: None,
                problems: vec![problem.to_string()],
            },
        }
    }
}

fn status_word(manifest: &Manifest) -> String {
    manifest
        .status
        .map_or_else(|| "unknown".to_string(), |status| status.as_str().to_string())
}

fn damaged_word(problem: &ManifestProblem) -> &'static str {
    match problem {
        ManifestProblem::Missing => "incomplete",
        ManifestProblem::Unreadable(_) => "unreadable",
        ManifestProblem::Corrupt(_) => "corrupt",
    }
}

fn list(args: &ListArgs) -> Result<u8, CliError> {
    let root = evidence::runs_root(args.store.runs_dir.clone()).map_err(CliError::Runs)?;
    let mut runs = evidence::list_runs(&root).map_err(CliError::Runs)?;
    let total = runs.len();
    if let Some(limit) = args.limit {
        runs.truncate(limit);
    }
    let rows: Vec<ListRow> = runs.iter().map(ListRow::new).collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &rows).map_err(|err| io_error(err.into()))?;
        writeln!(out).map_err(io_error)?;
        return Ok(exit::SUCCESS);
    }
    if rows.is_empty() {
        writeln!(out, "no runs in {}", root.display()).map_err(io_error)?;
        return Ok(exit::SUCCESS);
    }
    write_list(&mut out, &rows).map_err(io_error)?;
    if rows.len() < total {
        writeln!(out, "({} of {total} runs shown; --limit N shows more)", rows.len()).map_err(io_error)?;
    }
    Ok(exit::SUCCESS)
}

/// The `runs list` table: left-aligned text, right-aligned numbers, the problems last.
fn write_list(out: &mut impl Write, rows: &[ListRow]) -> std::io::Result<()> {
    const HEADERS: [&str; 11] = [
        "RUN", "CREATED", "STATUS", "TESTS", "PASSED", "FAILED", "ERRORS", "SKIPPED", "FLAKY", "WALL", "NOTE",
    ];
    const NUMERIC: [bool; 11] = [false, false, false, true, true, true, true, true, true, true, false];
    let cells: Vec<[String; 11]> = rows
        .iter()
        .map(|row| {
            let count = |pick: fn(&Counts) -> u64| {
                row.counts
                    .as_ref()
                    .map_or_else(|| "-".to_string(), |c| pick(c).to_string())
            };
            [
                row.run_id.clone(),
                row.created_at.clone().unwrap_or_else(|| "-".into()),
                row.status.clone(),
                count(|c| c.tests),
                count(|c| c.tests_passed),
                // The manifest's `tests_failed` includes the errors (for the Python readers).
                count(|c| c.tests_failed.saturating_sub(c.tests_errors)),
                count(|c| c.tests_errors),
                count(|c| c.tests_skipped),
                count(|c| c.tests_flaky),
                row.wall_seconds.map_or_else(|| "-".into(), human_seconds),
                row.problems.join("; "),
            ]
        })
        .collect();
    let mut widths = HEADERS.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut line = |cells: &[String]| -> std::io::Result<()> {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i == cells.len() - 1 {
                text.push_str(cell);
            } else if NUMERIC[i] {
                text.push_str(&format!("{cell:>width$}  ", width = widths[i]));
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(&HEADERS.map(str::to_string))?;
    for row in &cells {
        line(row)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Reading tests.jsonl

/// What `tests.jsonl` holds, tallied, with the failures and flaky tests kept.
#[derive(Debug, Default, Serialize)]
struct RecordTally {
    total: u64,
    passed: u64,
    failed: u64,
    errors: u64,
    skipped: u64,
    flaky: u64,
    /// Whether `tests.jsonl` exists at all.
    present: bool,
    #[serde(skip)]
    failures: Vec<TestRecord>,
    #[serde(skip)]
    flaky_records: Vec<TestRecord>,
    #[serde(skip)]
    problems: Vec<String>,
}

/// Bad lines beyond this many are counted, not each described.
const BAD_LINES_SHOWN: usize = 3;

fn read_records(run: &LoadedRun) -> RecordTally {
    let mut tally = RecordTally::default();
    let path = run.dir.join(TESTS_FILE);
    if !path.exists() {
        if run.manifest.counts.tests > 0 {
            tally.problems.push(format!("{TESTS_FILE} is missing"));
        }
        return tally;
    }
    tally.present = true;
    let records = match run.records() {
        Ok(records) => records,
        Err(err) => {
            tally.problems.push(err.to_string());
            return tally;
        }
    };
    let mut bad = Vec::new();
    for record in records {
        match record {
            Ok(record) => tally.add(record),
            Err(evidence::EvidenceError::BadRecord { line, source, .. }) => bad.push(format!("line {line}: {source}")),
            Err(err) => tally.problems.push(err.to_string()),
        }
    }
    if !bad.is_empty() {
        let more = bad.len().saturating_sub(BAD_LINES_SHOWN);
        let mut text = format!(
            "{TESTS_FILE} has {} ({})",
            plural(bad.len(), "bad line"),
            bad.iter().take(BAD_LINES_SHOWN).cloned().collect::<Vec<_>>().join("; ")
        );
        if more > 0 {
            text.push_str(&format!(" and {more} more"));
        }
        tally.problems.push(text);
    }
    tally
}

impl RecordTally {
    fn add(&mut self, record: TestRecord) {
        self.total += 1;
        match record.status {
            TestStatus::Passed => self.passed += 1,
            TestStatus::Failed => self.failed += 1,
            TestStatus::Error => self.errors += 1,
            TestStatus::Skipped => self.skipped += 1,
        }
        let flaky = record
            .metadata
            .get("flaky")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
            || record.tags.iter().any(|tag| tag == "flaky");
        if flaky {
            self.flaky += 1;
            self.flaky_records.push(record);
        } else if record.status.is_failure() {
            self.failures.push(record);
        }
    }
}

// ---------------------------------------------------------------------------
// runs show

/// `runs show --json`: one document with everything known about the run.
#[derive(Debug, Serialize)]
struct ShowReport {
    run_id: String,
    dir: PathBuf,
    /// As in `runs list`.
    status: String,
    /// The manifest as stored; `null` when it is missing or corrupt.
    manifest: Option<Manifest>,
    /// Counts taken from `tests.jsonl` itself (they hold even when the manifest is lost).
    records: RecordTally,
    /// Failed and errored tests, in file order.
    failures: Vec<TestRecord>,
    /// Tests that passed only on a retry.
    flaky: Vec<TestRecord>,
    /// Per-failure diagnostics.
    diagnostics: Vec<DiagnosticRecord>,
    /// The artifacts kept, by suite.
    artifacts: Vec<ArtifactRef>,
    /// What is wrong with the run's files; empty for a sound run.
    problems: Vec<String>,
}

/// One kept artifact.
#[derive(Debug, Serialize)]
struct ArtifactRef {
    suite: String,
    /// Relative to the run directory, as the manifest records it.
    path: String,
    /// Absolute.
    absolute: PathBuf,
    exists: bool,
}

fn show(args: &ShowArgs) -> Result<u8, CliError> {
    let root = evidence::runs_root(args.store.runs_dir.clone()).map_err(CliError::Runs)?;
    let (run_id, dir) = evidence::resolve_run(&root, &args.run).map_err(CliError::Runs)?;
    if let Some(path) = &args.junit {
        let run = evidence::load_run(&root, &run_id).map_err(CliError::Runs)?;
        orchestrator::report::write_junit(&run, path).map_err(|err| CliError::Io {
            what: format!("--junit {}", path.display()),
            source: std::io::Error::other(err),
        })?;
    }
    let report = ShowReport::read(&root, run_id, dir)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report).map_err(|err| io_error(err.into()))?;
        writeln!(out).map_err(io_error)?;
    } else {
        report.write_human(&mut out).map_err(io_error)?;
    }
    Ok(if report.problems.is_empty() {
        exit::SUCCESS
    } else {
        exit::EVIDENCE_DAMAGED
    })
}

impl ShowReport {
    fn read(root: &Path, run_id: String, dir: PathBuf) -> Result<ShowReport, CliError> {
        let mut problems = Vec::new();
        // By the resolved id, so `latest` cannot move between resolving and loading.
        let (run, manifest_problem) = match evidence::load_run(root, &run_id) {
            Ok(run) => (run, None),
            Err(evidence::EvidenceError::BadManifest { problem, .. }) => {
                problems.push(problem.to_string());
                let placeholder = LoadedRun {
                    run_id: run_id.clone(),
                    dir: dir.clone(),
                    manifest: empty_manifest(),
                };
                (placeholder, Some(problem))
            }
            Err(err) => return Err(CliError::Runs(err)),
        };
        let mut records = read_records(&run);
        problems.append(&mut records.problems);
        let diagnostics = run.diagnostics().unwrap_or_else(|err| {
            problems.push(err.to_string());
            Vec::new()
        });
        let artifacts = if manifest_problem.is_none() {
            manifest_artifacts(&dir, &run.manifest.suites)
        } else {
            artifact_dirs(&dir)
        };
        let status = match &manifest_problem {
            Some(problem) => damaged_word(problem).to_string(),
            None => status_word(&run.manifest),
        };
        Ok(ShowReport {
            run_id,
            dir,
            status,
            failures: std::mem::take(&mut records.failures),
            flaky: std::mem::take(&mut records.flaky_records),
            manifest: manifest_problem.is_none().then_some(run.manifest),
            records,
            diagnostics,
            artifacts,
            problems,
        })
    }

    fn write_human(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(out, "run {}: {}", self.run_id, self.status)?;
        if let Some(manifest) = &self.manifest {
            let target = &manifest.target;
            let mut project = format!(
                "  project   {}",
                if target.name.is_empty() { "-" } else { &target.name }
            );
            if !target.path.is_empty() {
                project.push_str(&format!("  {}", target.path));
            }
            if let Some(git) = git_words(&target.git) {
                project.push_str(&format!("  ({git})"));
            }
            writeln!(out, "{project}")?;
            let mut when = format!("  created   {}", or_dash(&manifest.created_at));
            if let Some(finished) = &manifest.finished_at {
                when.push_str(&format!("  finished {finished}"));
            }
            if let Some(wall) = manifest.wall_seconds {
                when.push_str(&format!("  wall {}", human_seconds(wall)));
            }
            writeln!(out, "{when}")?;
        }
        writeln!(out, "  evidence  {}", self.dir.display())?;
        writeln!(out, "  tests     {}", self.totals())?;

        if let Some(manifest) = self
            .manifest
            .as_ref()
            .filter(|m| !m.suites.is_empty() || !m.suite_order.is_empty())
        {
            writeln!(out)?;
            writeln!(out, "Suites:")?;
            write_suites(out, manifest)?;
        }
        if !self.failures.is_empty() {
            writeln!(out)?;
            writeln!(out, "Failures:")?;
            for record in &self.failures {
                let name = record_name(record);
                let first = record.error_message.as_deref().and_then(first_line).unwrap_or("");
                writeln!(
                    out,
                    "  {} {} {name} — {first}",
                    record.status.as_str().to_uppercase(),
                    record.kind
                )?;
                let diagnosis = self
                    .diagnostics
                    .iter()
                    .find(|d| d.suite == record.kind && (d.test_name == name || d.test_name == record.name));
                if let Some(d) = diagnosis {
                    writeln!(out, "      {} ({:.1}): {}", d.category, d.confidence, d.suggestion)?;
                }
            }
        }
        if !self.flaky.is_empty() {
            writeln!(out)?;
            writeln!(out, "Flaky:")?;
            for record in &self.flaky {
                let attempts = record
                    .metadata
                    .get("attempts")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0);
                writeln!(
                    out,
                    "  {} {} — passed on attempt {attempts}",
                    record.kind,
                    record_name(record)
                )?;
            }
        }
        if let Some(summary) = self.manifest.as_ref().and_then(|m| m.diagnostics.first()) {
            writeln!(out)?;
            writeln!(out, "Diagnostics: {summary}")?;
        }
        if !self.artifacts.is_empty() {
            writeln!(out)?;
            writeln!(out, "Artifacts:")?;
            let width = self.artifacts.iter().map(|a| a.suite.len()).max().unwrap_or(0);
            for artifact in &self.artifacts {
                let missing = if artifact.exists { "" } else { "  (missing)" };
                writeln!(
                    out,
                    "  {:<width$}  {}{missing}",
                    artifact.suite,
                    artifact.absolute.display()
                )?;
            }
        }
        if !self.problems.is_empty() {
            writeln!(out)?;
            writeln!(out, "Problems:")?;
            for problem in &self.problems {
                writeln!(out, "  {problem}")?;
            }
        }
        out.flush()
    }

    /// "7 tests: 5 passed, 1 failed, 0 errors, 1 skipped, 1 flaky", from the
    /// manifest when there is one, else from tests.jsonl.
    fn totals(&self) -> String {
        let (total, passed, failed, errors, skipped, flaky) = match &self.manifest {
            Some(m) => {
                let c = &m.counts;
                (
                    c.tests,
                    c.tests_passed,
                    c.tests_failed.saturating_sub(c.tests_errors),
                    c.tests_errors,
                    c.tests_skipped,
                    c.tests_flaky,
                )
            }
            None if !self.records.present => return format!("unknown: no {TESTS_FILE}"),
            None => {
                let r = &self.records;
                (r.total, r.passed, r.failed, r.errors, r.skipped, r.flaky)
            }
        };
        let mut text = format!(
            "{total}: {passed} passed, {failed} failed, {}, {skipped} skipped",
            plural(errors, "error")
        );
        if flaky > 0 {
            text.push_str(&format!(", {flaky} flaky"));
        }
        if self.manifest.is_none() {
            text.push_str(&format!(" (read from {TESTS_FILE})"));
        }
        text
    }
}

fn write_suites(out: &mut impl Write, manifest: &Manifest) -> std::io::Result<()> {
    let width = manifest
        .suites
        .iter()
        .map(|s| s.name.len())
        .chain(manifest.suite_order.iter().map(String::len))
        .max()
        .unwrap_or(0);
    for suite in &manifest.suites {
        write_suite(out, suite, width)?;
    }
    // Planned suites with no entry never finished (the run was killed or is still going).
    for name in manifest
        .suite_order
        .iter()
        .filter(|name| !manifest.suites.iter().any(|s| &s.name == *name))
    {
        writeln!(out, "{:>8} {name:<width$}  not recorded", "-")?;
    }
    Ok(())
}

fn write_suite(out: &mut impl Write, suite: &SuiteEntry, width: usize) -> std::io::Result<()> {
    let label = suite.outcome.label();
    if suite.outcome == SuiteOutcome::Skipped {
        let reason = suite.skip_reason.as_deref().unwrap_or("skipped");
        return writeln!(out, "{label:>8} {:<width$}  {reason}", suite.name);
    }
    let mut line = format!(
        "{label:>8} {:<width$}  {} passed, {} failed, {}, {} skipped",
        suite.name,
        suite.passed,
        suite.failed,
        plural(suite.errors, "error"),
        suite.skipped
    );
    if suite.flaky > 0 {
        line.push_str(&format!(", {} flaky", suite.flaky));
    }
    if suite.attempts > 1 {
        line.push_str(&format!(", {} attempts", suite.attempts));
    }
    line.push_str(&format!("  [{}]", human_seconds(suite.duration)));
    writeln!(out, "{line}")?;
    if let Some(error) = suite.error.as_deref().and_then(first_line) {
        writeln!(out, "{:>8} {:<width$}  {error}", "", "")?;
    }
    Ok(())
}

/// The artifacts the manifest lists, with whether each is still there.
fn manifest_artifacts(dir: &Path, suites: &[SuiteEntry]) -> Vec<ArtifactRef> {
    suites
        .iter()
        .flat_map(|suite| {
            suite.artifacts.iter().map(|path| {
                let absolute = dir.join(path);
                ArtifactRef {
                    suite: suite.name.clone(),
                    path: path.clone(),
                    exists: absolute.exists(),
                    absolute,
                }
            })
        })
        .collect()
}

/// Without a manifest: whatever is under `artifacts/<suite>/`.
fn artifact_dirs(dir: &Path) -> Vec<ArtifactRef> {
    let mut found = Vec::new();
    let Ok(suites) = std::fs::read_dir(dir.join("artifacts")) else {
        return found;
    };
    for suite in suites.flatten() {
        let suite_name = suite.file_name().to_string_lossy().into_owned();
        let Ok(entries) = std::fs::read_dir(suite.path()) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            found.push(ArtifactRef {
                suite: suite_name.clone(),
                path: format!("artifacts/{suite_name}/{name}"),
                absolute: entry.path(),
                exists: true,
            });
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// A manifest with every key at its default, standing in for a lost one.
fn empty_manifest() -> Manifest {
    // Every field of Manifest has a serde default, so `{}` always reads.
    serde_json::from_str("{}").unwrap_or_else(|err| unreachable!("an empty manifest reads: {err}"))
}

fn record_name(record: &TestRecord) -> String {
    let meta = |key: &str| {
        record
            .metadata
            .get(key)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
    };
    match (meta("selector"), meta("classname")) {
        (Some(selector), _) => selector.to_string(),
        (None, Some(classname)) => format!("{classname}::{}", record.name),
        (None, None) => record.name.clone(),
    }
}

fn git_words(git: &evidence::GitInfo) -> Option<String> {
    let commit = git.commit.as_deref().map(|c| &c[..c.len().min(10)]);
    let mut words = match (git.branch.as_deref(), commit) {
        (Some(branch), Some(commit)) => format!("{branch} @ {commit}"),
        (Some(branch), None) => branch.to_string(),
        (None, Some(commit)) => format!("detached @ {commit}"),
        (None, None) => return None,
    };
    if git.dirty == Some(true) {
        words.push_str(", dirty");
    }
    Some(words)
}

fn first_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|line| !line.is_empty())
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() {
        "-"
    } else {
        text
    }
}

/// `0.42s`, `12.3s`, `4m 05s`, `1h 02m`.
fn human_seconds(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "-".into();
    }
    if secs < 10.0 {
        return format!("{secs:.2}s");
    }
    if secs < 60.0 {
        return format!("{secs:.1}s");
    }
    let whole = secs.round() as u64;
    if whole < 3600 {
        format!("{}m {:02}s", whole / 60, whole % 60)
    } else {
        format!("{}h {:02}m", whole / 3600, (whole % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(human_seconds(0.4213), "0.42s");
        assert_eq!(human_seconds(12.34), "12.3s");
        assert_eq!(human_seconds(245.0), "4m 05s");
        assert_eq!(human_seconds(3725.0), "1h 02m");
        assert_eq!(human_seconds(f64::NAN), "-");
    }

    #[test]
    fn record_names_prefer_the_selector() {
        let mut record: TestRecord = serde_json::from_value(serde_json::json!({
            "test_id": "TST-1", "kind": "unit", "name": "test_a", "status": "failed",
            "metadata": {"classname": "tests.test_x", "selector": "tests/test_x.py::test_a"}
        }))
        .expect("record");
        assert_eq!(record_name(&record), "tests/test_x.py::test_a");
        record.metadata.remove("selector");
        assert_eq!(record_name(&record), "tests.test_x::test_a");
        record.metadata.clear();
        assert_eq!(record_name(&record), "test_a");
    }
}
