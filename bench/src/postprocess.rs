//! Post-processing at scale, measured inside one process with qaagent's own
//! library code: from the instant a suite's tool exits to the instant its
//! evidence is finalized.
//!
//! The suite's runner ([`ReplayRunner`]) runs a real, supervised process
//! (`cp` putting a pre-generated JUnit report where the tool would write it),
//! then does what the pytest runner does after its tool exits: reads the
//! report with the pytest runner's own [`runner_pytest::read_report`] (the
//! streaming reader, node-id selectors) and concludes the attempt. The run
//! around it is the real one — [`orchestrator::run::Run`], the facade
//! `qaagent` itself uses: a worker thread, the coordinator forwarding the
//! result to the evidence writer thread, diagnostics of every failure,
//! 100,000 `TestRecord`s written, artifacts referenced or copied, the
//! manifest finalized.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use orchestrator::config;
use orchestrator::events::Event;
use orchestrator::plan::{Overrides, Plan};
use orchestrator::registry::Registry;
use orchestrator::run::{Run, RunOptions};
use runner_api::conclude::{conclude, Attempt, JunitOutcome};
use runner_api::{Runner, RunnerError, SettingsError, SuiteContext, SuiteResult};

/// Instants the runner records, read by the benchmark.
#[derive(Debug, Default, Clone, Copy)]
struct Marks {
    tool_exited: Option<Instant>,
    result_ready: Option<Instant>,
    /// The process's peak RSS once the result was ready.
    hwm_parsed: u64,
}

/// A runner whose tool copies `report` into place; see the module docs.
#[derive(Debug)]
pub struct ReplayRunner {
    report: PathBuf,
    marks: Mutex<Marks>,
}

impl ReplayRunner {
    /// A runner replaying `report`.
    pub fn new(report: &Path) -> Self {
        ReplayRunner {
            report: report.to_path_buf(),
            marks: Mutex::new(Marks::default()),
        }
    }

    fn marks(&self) -> Marks {
        self.marks.lock().map(|m| *m).unwrap_or_default()
    }
}

impl Runner for ReplayRunner {
    fn name(&self) -> &str {
        "replay"
    }

    fn check_settings(&self, _settings: &toml::Table) -> Result<(), SettingsError> {
        Ok(())
    }

    fn tool_version(&self, _ctx: &SuiteContext) -> Option<String> {
        Some("1".to_string())
    }

    fn run(&self, ctx: &SuiteContext) -> Result<SuiteResult, RunnerError> {
        let junit_path = ctx.output_dir.join("junit.xml");
        let mut cmd = ctx.command("cp");
        cmd.arg(&self.report).arg(&junit_path);
        let process = ctx.run_supervised(cmd)?;
        let tool_exited = Instant::now();
        let junit = match runner_pytest::read_report(&junit_path) {
            Ok((cases, problems)) => JunitOutcome::read(cases, problems),
            Err(err) => JunitOutcome::Unreadable(err),
        };
        let result = conclude(Attempt {
            ctx,
            runner: self.name(),
            tool: "replay",
            process,
            junit,
            ok_codes: &[0],
            artifacts: vec![junit_path],
        });
        if let Ok(mut marks) = self.marks.lock() {
            marks.tool_exited = Some(tool_exited);
            marks.result_ready = Some(Instant::now());
            marks.hwm_parsed = crate::measure::own_vm_hwm().unwrap_or(0);
        }
        Ok(result)
    }
}

/// What one post-processing run measured.
#[derive(Debug, Clone)]
pub struct Timings {
    /// Tool exit → the runner's result (JUnit read, cases built, attempt concluded).
    pub parse: Duration,
    /// Tool exit → the coordinator has the result (and sent it to the evidence writer).
    pub forwarded: Duration,
    /// Tool exit → evidence finalized (diagnostics written, every record on disk, manifest final).
    pub total: Duration,
    /// Peak RSS of the process when the runner's result was ready.
    pub hwm_parsed: u64,
    /// Peak RSS of the process when the coordinator had forwarded the result.
    pub hwm_forwarded: u64,
    /// Cases recorded.
    pub cases: usize,
    /// Lines in `tests.jsonl`.
    pub records: usize,
    /// Diagnoses in `diagnostics.json`.
    pub diagnoses: usize,
    /// The run directory.
    pub run_dir: PathBuf,
}

/// Runs one suite replaying `report` in a project made in `work`, recording
/// evidence under `work/runs`.
pub fn run_once(report: &Path, work: &Path) -> Result<Timings, String> {
    let project = work.join("project");
    std::fs::create_dir_all(&project).map_err(|e| e.to_string())?;
    std::fs::write(
        project.join(".qaagent.toml"),
        "[project]\nname = \"bench\"\n\n[tests.big]\nrunner = \"replay\"\npath = \".\"\n",
    )
    .map_err(|e| e.to_string())?;
    let runner = std::sync::Arc::new(ReplayRunner::new(report));
    let mut registry = Registry::new();
    registry.register_shared(runner.clone());
    let config = config::load(&project.join(".qaagent.toml"), &registry).map_err(|e| e.to_string())?;
    let plan = Plan::new(&config, &registry, &Overrides::default(), None).map_err(|e| e.to_string())?;
    let options = RunOptions {
        runs_dir: Some(work.join("runs")),
        // Target 4 is the evidence; report.html is target 10.
        skip_html_report: true,
        ..RunOptions::default()
    };
    let run = Run::new(&config, plan, options).map_err(|e| e.to_string())?;
    let mut forwarded = None;
    let mut hwm_forwarded = 0;
    let report = run
        .execute(&mut |event| {
            if matches!(event, Event::SuiteFinished { .. }) {
                forwarded = Some(Instant::now());
                hwm_forwarded = crate::measure::own_vm_hwm().unwrap_or(0);
            }
        })
        .map_err(|e| e.to_string())?;
    let finalized = Instant::now();
    if let Some(error) = report.errors.first() {
        return Err(error.clone());
    }
    let run_dir = report.run_dir.clone();
    let cases = report.results.iter().map(|r| r.cases.len()).sum();
    drop(report);

    let marks = runner.marks();
    let exited = marks.tool_exited.ok_or("the tool never ran")?;
    let since = |t: Option<Instant>| t.map_or(Duration::ZERO, |t| t.duration_since(exited));
    let records = count_lines(&run_dir.join(evidence::TESTS_FILE));
    let diagnoses = std::fs::read(run_dir.join(evidence::DIAGNOSTICS_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Vec<serde_json::Value>>(&bytes).ok())
        .map_or(0, |list| list.len());
    Ok(Timings {
        parse: since(marks.result_ready),
        forwarded: since(forwarded),
        total: finalized.duration_since(exited),
        hwm_parsed: marks.hwm_parsed,
        hwm_forwarded,
        cases,
        records,
        diagnoses,
        run_dir,
    })
}

/// Newlines in a file (0 when it cannot be read).
pub fn count_lines(path: &Path) -> usize {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else {
        return 0;
    };
    let mut buf = vec![0u8; 1 << 20];
    let mut lines = 0;
    while let Ok(n) = file.read(&mut buf) {
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count();
    }
    lines
}

/// The stages of post-processing run one after another on one thread, each
/// timed alone: what limits [`run_once`], whose stages partly overlap.
pub fn stages(report: &Path, work: &Path) -> Result<Vec<(&'static str, Duration)>, String> {
    use evidence::{Run, RunInfo, RunStatus};
    let mut times = Vec::new();
    let start = Instant::now();
    let (cases, _) = runner_pytest::read_report(report).map_err(|e| e.to_string())?;
    times.push(("read JUnit into cases (runner_pytest::read_report)", start.elapsed()));
    let mut result = SuiteResult::new("big", "pytest");
    result.cases = cases;

    let start = Instant::now();
    let diagnoser = orchestrator::diagnostics::Diagnoser::new(&[]).map_err(|e| e.to_string())?;
    times.push(("compile diagnostics patterns", start.elapsed()));
    let start = Instant::now();
    let diagnoses = diagnoser.diagnose_suite(&result);
    let lines = orchestrator::diagnostics::summary(&diagnoses);
    times.push(("diagnose 30,000 failures", start.elapsed()));

    let start = Instant::now();
    let run = Run::create(
        &work.join("stage-runs"),
        RunInfo {
            project_name: "bench".into(),
            project_path: work.to_path_buf(),
            suites: vec!["big".into()],
            qaagent_version: "0".into(),
            partition: None,
        },
    )
    .map_err(|e| e.to_string())?;
    let writer = run.start_writer().map_err(|e| e.to_string())?;
    times.push(("create the run", start.elapsed()));
    let start = Instant::now();
    writer
        .suite_finished(0, orchestrator::evidence_map::suite_record(result))
        .map_err(|e| e.to_string())?;
    writer
        .tool_info(evidence::ToolRun::default())
        .map_err(|e| e.to_string())?;
    // ToolInfo is applied after the suite is written: a barrier.
    // A diagnosis is the record diagnostics.json holds.
    writer.diagnostics(diagnoses, lines).map_err(|e| e.to_string())?;
    writer
        .finish(RunStatus::Failed, Duration::ZERO)
        .map_err(|e| e.to_string())?;
    times.push((
        "write 100,000 records, diagnostics.json, final manifest",
        start.elapsed(),
    ));
    Ok(times)
}
