//! Helpers shared by the evidence integration tests.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::Path;
use std::time::Duration;

use evidence::{Case, Cases, EvidenceError, Run, RunInfo, SuiteOutcome, SuiteRecord, TestStatus, ToolRun};

/// RunInfo for a project at `project` with the given suites.
pub fn info(project: &Path, suites: &[&str]) -> RunInfo {
    RunInfo {
        project_name: "shop".to_string(),
        project_path: project.to_path_buf(),
        suites: suites.iter().map(|s| s.to_string()).collect(),
        qaagent_version: "0.1.0-test".to_string(),
        partition: None,
    }
}

/// Creates a run under `root` for a project in `project`.
pub fn create(root: &Path, project: &Path, suites: &[&str]) -> Run {
    Run::create(root, info(project, suites)).expect("run created")
}

/// A test case held by the test, as a runner's result holds its cases.
#[derive(Debug, Clone)]
pub struct TestCase {
    pub name: String,
    pub classname: String,
    pub status: TestStatus,
    pub duration: f64,
    pub message: Option<String>,
    pub error_type: Option<String>,
    pub details: Option<String>,
    pub file: Option<String>,
    pub selector: Option<String>,
    pub attempts: u32,
    pub flaky: bool,
    pub system_out: Option<String>,
    pub route: Option<String>,
}

/// The cases of a suite, lent to the writer as the orchestrator lends a runner's.
#[derive(Debug)]
struct TestCases(Vec<TestCase>);

impl Cases for TestCases {
    fn count(&self) -> usize {
        self.0.len()
    }

    fn for_each(&self, each: &mut dyn FnMut(&Case<'_>) -> Result<(), EvidenceError>) -> Result<(), EvidenceError> {
        for case in &self.0 {
            each(&Case {
                name: &case.name,
                classname: &case.classname,
                status: case.status,
                duration: case.duration,
                message: case.message.as_deref(),
                error_type: case.error_type.as_deref(),
                details: case.details.as_deref(),
                file: case.file.as_deref(),
                selector: case.selector.as_deref(),
                attempts: case.attempts,
                flaky: case.flaky,
                system_out: case.system_out.as_deref(),
                system_err: None,
                previous_failures: Vec::new(),
                failures: Vec::new(),
                route: case.route.clone(),
                attachments: &[],
                quarantine: None,
            })?;
        }
        Ok(())
    }
}

/// `n` cases named `<suite>_test_<i>`, every 7th failed, every 11th errored,
/// every 13th skipped, the rest passed.
pub fn cases(name: &str, n: usize) -> Vec<TestCase> {
    (0..n)
        .map(|i| {
            let status = if i % 7 == 3 {
                TestStatus::Failed
            } else if i % 11 == 5 {
                TestStatus::Error
            } else if i % 13 == 6 {
                TestStatus::Skipped
            } else {
                TestStatus::Passed
            };
            let failing = status.is_failure();
            TestCase {
                name: format!("{name}_test_{i}"),
                classname: format!("{name}.module"),
                status,
                duration: 0.001 * i as f64,
                message: failing.then(|| format!("assert {i} == 0")),
                error_type: failing.then(|| "AssertionError".to_string()),
                details: failing.then(|| "Traceback (most recent call last):\n  File \"x.py\", line 1\n".to_string()),
                file: Some(format!("tests/{name}.py")),
                selector: Some(format!("tests/{name}.py::{name}_test_{i}")),
                attempts: 1,
                flaky: false,
                system_out: None,
                route: None,
            }
        })
        .collect()
}

/// A suite of `cases` run by `runner` (whose version is `1.0`), counted from its cases.
pub fn suite_of(name: &str, runner: &str, cases: Vec<TestCase>) -> SuiteRecord {
    let count = |status: TestStatus| cases.iter().filter(|c| c.status == status).count();
    let failed = count(TestStatus::Failed);
    let errors = count(TestStatus::Error);
    SuiteRecord {
        name: name.to_string(),
        runner: runner.to_string(),
        outcome: if failed + errors > 0 {
            SuiteOutcome::Failed
        } else {
            SuiteOutcome::Passed
        },
        passed: count(TestStatus::Passed),
        failed,
        errors,
        skipped: count(TestStatus::Skipped),
        flaky: cases.iter().filter(|c| c.flaky).count(),
        duration: Duration::from_millis(1500),
        return_code: None,
        error: None,
        log_tail: None,
        skip_reason: None,
        attempts: 1,
        leaked: Vec::new(),
        tool: ToolRun {
            name: runner.to_string(),
            version: Some("1.0".to_string()),
            executed: true,
            exit_code: Some(0),
            error: None,
        },
        output_dir: None,
        artifacts: Vec::new(),
        attempt_spans: Vec::new(),
        cases: Box::new(TestCases(cases)),
    }
}

/// [`suite_of`] the [`cases`] `n` of `name`.
pub fn suite(name: &str, runner: &str, n: usize) -> SuiteRecord {
    suite_of(name, runner, cases(name, n))
}

/// A suite whose tool failed before naming any test.
pub fn errored(name: &str, runner: &str, error: &str) -> SuiteRecord {
    let mut result = suite_of(name, runner, Vec::new());
    result.outcome = SuiteOutcome::Errored;
    result.errors = 1;
    result.error = Some(error.to_string());
    result
}

/// The lines of a run's tests.jsonl, each parsed.
pub fn lines(run_dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(run_dir.join("evidence/tests.jsonl")).expect("tests.jsonl");
    assert!(text.is_empty() || text.ends_with('\n'), "ends on a whole line");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("line parses"))
        .collect()
}

/// The run's manifest.json, parsed.
pub fn manifest(run_dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(run_dir.join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest parses")
}

/// Polls `check` on the manifest until it holds, for at most 10 s (the writer is asynchronous).
pub fn wait_for_manifest(run_dir: &Path, check: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let current = manifest(run_dir);
        if check(&current) {
            return current;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "manifest never reached the state: {current:#}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
