//! Helpers shared by the evidence integration tests.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::Path;
use std::time::Duration;

use evidence::{Run, RunInfo};
use runner_api::{SuiteResult, TestCase, TestStatus, ToolRun};

/// RunInfo for a project at `project` with the given suites.
pub fn info(project: &Path, suites: &[&str]) -> RunInfo {
    RunInfo {
        project_name: "shop".to_string(),
        project_path: project.to_path_buf(),
        suites: suites.iter().map(|s| s.to_string()).collect(),
        qaagent_version: "0.1.0-test".to_string(),
    }
}

/// Creates a run under `root` for a project in `project`.
pub fn create(root: &Path, project: &Path, suites: &[&str]) -> Run {
    Run::create(root, info(project, suites)).expect("run created")
}

/// A suite result with `n` cases named `<suite>_test_<i>`, every 7th failed,
/// every 11th errored, every 13th skipped, the rest passed.
pub fn suite(name: &str, runner: &str, n: usize) -> SuiteResult {
    let mut result = SuiteResult::new(name, runner);
    result.cases = (0..n)
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
            let mut case = TestCase::new(format!("{name}_test_{i}"), format!("{name}.module"), status);
            case.selector = Some(format!("tests/{name}.py::{name}_test_{i}"));
            case.file = Some(format!("tests/{name}.py"));
            case.duration = 0.001 * i as f64;
            if status.is_failure() {
                case.message = Some(format!("assert {i} == 0"));
                case.error_type = Some("AssertionError".to_string());
                case.details = Some("Traceback (most recent call last):\n  File \"x.py\", line 1\n".to_string());
            }
            case
        })
        .collect();
    result.tool = ToolRun {
        name: runner.to_string(),
        version: Some("1.0".to_string()),
        executed: true,
        exit_code: Some(0),
        error: None,
    };
    result.duration = Duration::from_millis(1500);
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
