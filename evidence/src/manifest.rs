//! `manifest.json`: the run's summary, in the Python qaagent's shape plus our keys.
//!
//! The original keys (`run_id`, `created_at`, `target`, `tools`, `counts`,
//! `evidence_files`, `diagnostics`) keep their names and meaning so the Python
//! dashboard reads our runs; ours (`status`, `incomplete_reason`,
//! `finished_at`, `wall_seconds`, `suite_order`, `suites`, `qaagent_version`,
//! `partition`)
//! are additions it ignores.
//! Reading is lenient — every key may be missing and unknown keys are kept in
//! `extra` — so runs written by the Python qaagent load too.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

use crate::atomic::{replace_quickly, write_atomically};
use crate::error::EvidenceError;
use crate::git::GitInfo;
use crate::suite::{LeakedProcess, SuiteOutcome, SuiteRecord, TestStatus, ToolRun};

/// The file name of the manifest inside a run directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Path of the test records, relative to the run directory.
pub const TESTS_FILE: &str = "evidence/tests.jsonl";
/// Path of the per-failure diagnostics, relative to the run directory.
pub const DIAGNOSTICS_FILE: &str = "evidence/diagnostics.json";

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Still running (or killed without a chance to say otherwise).
    Running,
    /// Finished; every suite passed or was skipped.
    Passed,
    /// Finished; a test failed or a suite errored.
    Failed,
    /// Stopped by Ctrl-C / SIGTERM; holds the suites that finished.
    Interrupted,
    /// Ended, but some of its evidence could not be written (a full disk, a
    /// file-size limit): `incomplete_reason` says which file and why.
    Incomplete,
    /// Never written: what readers report for a `running` run whose writer
    /// is gone without finalizing it (killed with SIGKILL, a machine that
    /// went down); see the `lock` module.
    Crashed,
}

impl RunStatus {
    /// The lowercase name used in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Passed => "passed",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Incomplete => "incomplete",
            RunStatus::Crashed => "crashed",
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The run id (`YYYYMMDD_HHMMSSZ[_NN]`), also the run directory's name.
    #[serde(default)]
    pub run_id: String,
    /// When the run was created, `YYYY-MM-DDTHH:MM:SSZ`.
    #[serde(default)]
    pub created_at: String,
    /// The project under test.
    #[serde(default)]
    pub target: Target,
    /// The tools that ran, by tool name.
    #[serde(default)]
    pub tools: BTreeMap<String, ToolStatus>,
    /// Totals over the suites recorded so far.
    #[serde(default)]
    pub counts: Counts,
    /// Evidence files, by record type, relative to the run directory.
    #[serde(default)]
    pub evidence_files: EvidenceFiles,
    /// Summary lines of the failure diagnostics.
    #[serde(default, deserialize_with = "null_as_default")]
    pub diagnostics: Vec<String>,
    /// Where the run stands; absent in runs written by the Python qaagent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RunStatus>,
    /// Why the run is `incomplete`: the first evidence write that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete_reason: Option<String>,
    /// When the run finished, `YYYY-MM-DDTHH:MM:SSZ`; `null` while running.
    #[serde(default)]
    pub finished_at: Option<String>,
    /// Wall time of the whole run in seconds; `null` while running.
    #[serde(default)]
    pub wall_seconds: Option<f64>,
    /// The planned suites, in order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub suite_order: Vec<String>,
    /// The suites recorded so far, in suite_order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub suites: Vec<SuiteEntry>,
    /// The qaagent version that wrote the run.
    #[serde(default)]
    pub qaagent_version: Option<String>,
    /// Which share of a partitioned run this is (`run-all --partition K/N`);
    /// absent for a whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<Partition>,
    /// Keys this version does not know (from newer writers or the Python qaagent), kept as they are.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `partition`: one machine's share of a run spread over N machines. The
/// shares of one run have the same `total` and `plan`; `merge` checks that
/// every index from 1 to `total` is there once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    /// K, counted from 1.
    pub index: u32,
    /// N, the number of shares.
    pub total: u32,
    /// Hash (hex) of the plan every share computed: the collected tests,
    /// the durations input and N.
    pub plan: String,
    /// Hash (hex) of the durations file the plan was balanced with, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durations: Option<String>,
    /// The suites of the whole plan, in order (a share's own `suite_order`
    /// lists only those it runs): the merged run's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suites: Vec<String>,
}

/// `target`: what was tested.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// The project's name (`[project] name`).
    #[serde(default)]
    pub name: String,
    /// The project directory.
    #[serde(default)]
    pub path: String,
    /// Its git state; `{}` outside a repository.
    #[serde(default, deserialize_with = "null_as_default")]
    pub git: GitInfo,
}

/// One entry of `tools`, as the Python qaagent's `ToolStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolStatus {
    /// The version the tool reported.
    #[serde(default)]
    pub version: Option<String>,
    /// Whether it was started.
    #[serde(default)]
    pub executed: bool,
    /// Exit code of its last run.
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// Why it could not run or did not finish cleanly.
    #[serde(default)]
    pub error: Option<String>,
}

impl ToolStatus {
    /// Folds in another run of the same tool (two suites may share pytest):
    /// executed if either ran, a failing exit code wins over a clean one, errors accumulate.
    pub(crate) fn merge(&mut self, other: &ToolRun) {
        if other.version.is_some() {
            self.version.clone_from(&other.version);
        }
        self.executed |= other.executed;
        match (self.exit_code, other.exit_code) {
            (Some(old), Some(_)) if old != 0 => {}
            (_, Some(new)) => self.exit_code = Some(new),
            (_, None) => {}
        }
        if let Some(error) = &other.error {
            self.error = Some(match self.error.take() {
                Some(previous) if &previous != error => format!("{previous}; {error}"),
                _ => error.clone(),
            });
        }
    }
}

impl From<&ToolRun> for ToolStatus {
    fn from(tool: &ToolRun) -> Self {
        ToolStatus {
            version: tool.version.clone(),
            executed: tool.executed,
            exit_code: tool.exit_code,
            error: tool.error.clone(),
        }
    }
}

/// `counts`. The first four are the Python qaagent's (always 0 here: qaagent
/// run-all records no findings, risks or coverage).
///
/// Test counts are over test cases in `tests.jsonl`: `tests_failed` counts
/// cases that failed *or* errored (what "failed" means to a reader deciding
/// pass/fail), `tests_errors` the errored ones alone. A suite that errored
/// without naming any test adds no case; see its entry in `suites`.
/// `test_suites` counts recorded suites that ran (not skipped, at least one
/// attempt: a suite whose path is missing never started), as the Python
/// qaagent did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Static-analysis findings (unused by run-all).
    #[serde(default)]
    pub findings: u64,
    /// Risks (unused by run-all).
    #[serde(default)]
    pub risks: u64,
    /// Test records in tests.jsonl.
    #[serde(default)]
    pub tests: u64,
    /// Coverage components (unused by run-all).
    #[serde(default)]
    pub coverage_components: u64,
    /// Suites that ran.
    #[serde(default)]
    pub test_suites: u64,
    /// Passed cases (flaky ones included).
    #[serde(default)]
    pub tests_passed: u64,
    /// Failed plus errored cases.
    #[serde(default)]
    pub tests_failed: u64,
    /// Errored cases.
    #[serde(default)]
    pub tests_errors: u64,
    /// Skipped cases.
    #[serde(default)]
    pub tests_skipped: u64,
    /// Cases that passed only on a retry.
    #[serde(default)]
    pub tests_flaky: u64,
    /// Counts this version does not know, kept as they are.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Counts {
    /// Counts one more test case.
    pub(crate) fn add_case(&mut self, status: TestStatus, flaky: bool) {
        self.tests += 1;
        match status {
            TestStatus::Passed => self.tests_passed += 1,
            TestStatus::Failed => self.tests_failed += 1,
            TestStatus::Error => {
                self.tests_failed += 1;
                self.tests_errors += 1;
            }
            TestStatus::Skipped => self.tests_skipped += 1,
        }
        if flaky {
            self.tests_flaky += 1;
        }
    }

    /// Adds the suite and case counts of `other` (not its findings, risks or coverage).
    pub(crate) fn add(&mut self, other: &Counts) {
        self.tests += other.tests;
        self.test_suites += other.test_suites;
        self.tests_passed += other.tests_passed;
        self.tests_failed += other.tests_failed;
        self.tests_errors += other.tests_errors;
        self.tests_skipped += other.tests_skipped;
        self.tests_flaky += other.tests_flaky;
    }
}

/// `evidence_files`: evidence files by record type, relative to the run directory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidenceFiles {
    /// `evidence/tests.jsonl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<String>,
    /// `evidence/diagnostics.json`, once written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<String>,
    /// Other record types (the Python qaagent's `quality`, `coverage`, …).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// One entry of `suites`: how a suite ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteEntry {
    /// Suite name (`unit`, `behave`, `e2e`, …).
    pub name: String,
    /// Runner that ran it.
    #[serde(default)]
    pub runner: String,
    /// How it ended.
    pub outcome: SuiteOutcome,
    /// Test cases recorded.
    #[serde(default)]
    pub tests: usize,
    /// Passed cases.
    #[serde(default)]
    pub passed: usize,
    /// Failed cases.
    #[serde(default)]
    pub failed: usize,
    /// Errored cases, plus one when the suite itself errored.
    #[serde(default)]
    pub errors: usize,
    /// Skipped cases.
    #[serde(default)]
    pub skipped: usize,
    /// Cases that passed only on a retry.
    #[serde(default)]
    pub flaky: usize,
    /// Wall time of all its attempts, in seconds.
    #[serde(default)]
    pub duration: f64,
    /// Exit code of the tool's last attempt.
    #[serde(default)]
    pub return_code: Option<i32>,
    /// The suite-level error.
    #[serde(default)]
    pub error: Option<String>,
    /// The last lines of the tool's output, when the suite errored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_tail: Option<String>,
    /// Why it was skipped.
    #[serde(default)]
    pub skip_reason: Option<String>,
    /// Attempts run.
    #[serde(default)]
    pub attempts: u32,
    /// Processes it left behind, which were killed.
    #[serde(default, deserialize_with = "null_as_default")]
    pub leaked: Vec<LeakedProcess>,
    /// Its copied artifacts, relative to the run directory.
    #[serde(default, deserialize_with = "null_as_default")]
    pub artifacts: Vec<String>,
    /// When each of its attempts ran (the HTML report's timeline); absent in
    /// runs written before it was recorded.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub attempt_spans: Vec<AttemptSpan>,
}

/// When one attempt of a suite ran: an entry of a manifest suite's `attempt_spans`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptSpan {
    /// 1 for the first attempt.
    pub attempt: u32,
    /// When it started, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub started_at: String,
    /// When it finished, in the same form.
    pub finished_at: String,
    /// How it ended (before merging with earlier attempts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<SuiteOutcome>,
    /// The share of a partitioned run it ran in, once merged (each share
    /// is a lane of its own on the timeline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<u32>,
}

impl AttemptSpan {
    /// The span of attempt `attempt`, from `started` to `finished`, which ended `outcome`.
    pub fn new(
        attempt: u32,
        started: std::time::SystemTime,
        finished: std::time::SystemTime,
        outcome: SuiteOutcome,
    ) -> Self {
        let stamp = |time| {
            chrono::DateTime::<chrono::Utc>::from(time)
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string()
        };
        AttemptSpan {
            attempt,
            started_at: stamp(started),
            finished_at: stamp(finished),
            outcome: Some(outcome),
            shard: None,
        }
    }
}

impl SuiteEntry {
    /// The entry for `result`, whose artifacts were copied to `artifacts`.
    pub(crate) fn new(result: &SuiteRecord, artifacts: Vec<String>) -> Self {
        SuiteEntry {
            name: result.name.clone(),
            runner: result.runner.clone(),
            outcome: result.outcome,
            tests: result.cases.count(),
            passed: result.passed,
            failed: result.failed,
            errors: result.errors,
            skipped: result.skipped,
            flaky: result.flaky,
            duration: result.duration.as_secs_f64(),
            return_code: result.return_code,
            error: result.error.clone(),
            log_tail: result.log_tail.clone(),
            skip_reason: result.skip_reason.clone(),
            attempts: result.attempts,
            leaked: result.leaked.clone(),
            artifacts,
            attempt_spans: result.attempt_spans.clone(),
        }
    }
}

impl Manifest {
    /// Whether this is a run that failed because no test ran (run-all's
    /// exit 4: a tag or filter that selects nothing, every test skipped):
    /// `failed`, with nothing failed, errored or passed and no suite in
    /// error. Its status is `failed`, which the Python readers know; this
    /// tells why.
    pub fn ran_no_tests(&self) -> bool {
        self.status == Some(RunStatus::Failed)
            && self.counts.tests == self.counts.tests_skipped
            && (self.suites.iter()).all(|suite| {
                suite.error.is_none() && matches!(suite.outcome, SuiteOutcome::Passed | SuiteOutcome::Skipped)
            })
    }

    /// Writes the manifest to `<run_dir>/manifest.json`, atomically.
    pub(crate) fn write(&self, run_dir: &Path) -> Result<(), EvidenceError> {
        write_atomically(&run_dir.join(MANIFEST_FILE), &self.to_bytes()?)
    }

    /// Writes the first manifest into a run directory that was just created,
    /// not yet durably (see [`replace_quickly`]).
    pub(crate) fn write_first(&self, run_dir: &Path) -> Result<(), EvidenceError> {
        replace_quickly(&run_dir.join(MANIFEST_FILE), &self.to_bytes()?)
    }

    fn to_bytes(&self) -> Result<Vec<u8>, EvidenceError> {
        serde_json::to_vec_pretty(self).map_err(|source| EvidenceError::Serialize {
            what: "manifest",
            source,
        })
    }
}

/// Reads `null` as the type's default, since hand-edited or foreign manifests write `null` for "none".
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_python_qaagent_manifest_and_keeps_unknown_keys() {
        let python = r#"{
          "run_id": "20251024_193012Z",
          "created_at": "2025-10-24T19:30:12Z",
          "target": {"name": "shop", "path": "/p", "git": {}},
          "tools": {"flake8": {"version": "7.0", "executed": true, "exit_code": 1, "error": null}},
          "counts": {"findings": 3, "risks": 0, "tests": 2, "coverage_components": 0, "test_suites": 1,
                     "tests_passed": 1, "tests_failed": 1, "churn": 9},
          "evidence_files": {"quality": "evidence/quality.jsonl", "tests": "evidence/tests.jsonl"},
          "diagnostics": ["1 test failure(s) detected."],
          "future_key": [1, 2]
        }"#;
        let manifest: Manifest = serde_json::from_str(python).expect("parses");
        assert_eq!(manifest.status, None);
        assert_eq!(manifest.counts.tests_failed, 1);
        assert_eq!(manifest.counts.extra["churn"], 9);
        assert_eq!(manifest.evidence_files.extra["quality"], "evidence/quality.jsonl");
        assert_eq!(manifest.extra["future_key"], serde_json::json!([1, 2]));
        assert_eq!(manifest.tools["flake8"].exit_code, Some(1));
        let again: serde_json::Value = serde_json::to_value(&manifest).expect("serializes");
        assert_eq!(again["future_key"], serde_json::json!([1, 2]));
        assert_eq!(again["counts"]["churn"], 9);
        assert_eq!(again["target"]["git"], serde_json::json!({}));
    }

    #[test]
    fn a_failed_run_with_no_test_that_ran_and_no_suite_error_ran_no_tests() {
        let mut manifest: Manifest = serde_json::from_str(
            r#"{"status": "failed", "counts": {"tests": 2, "tests_skipped": 2},
                "suites": [{"name": "unit", "outcome": "passed", "tests": 2, "skipped": 2}]}"#,
        )
        .expect("parses");
        assert!(manifest.ran_no_tests());
        manifest.status = Some(RunStatus::Passed);
        assert!(!manifest.ran_no_tests(), "accepted with --no-tests=pass|warn");
        manifest.status = Some(RunStatus::Failed);
        manifest.suites[0].error = Some("no report written".into());
        assert!(!manifest.ran_no_tests(), "a suite error is why it failed");
        manifest.suites[0].error = None;
        manifest.counts.tests_passed = 1;
        manifest.counts.tests += 1;
        assert!(!manifest.ran_no_tests(), "a test ran: a policy failed it");
    }

    #[test]
    fn null_collections_read_as_empty() {
        let manifest: Manifest =
            serde_json::from_str(r#"{"target": {"git": null}, "diagnostics": null, "suites": null}"#).expect("parses");
        assert_eq!(manifest.target.git, GitInfo::default());
        assert!(manifest.diagnostics.is_empty());
    }

    #[test]
    fn tool_merge_keeps_the_failing_exit_code_and_all_errors() {
        let mut status = ToolStatus::from(&ToolRun {
            name: "pytest".into(),
            version: Some("9.2.0".into()),
            executed: true,
            exit_code: Some(1),
            error: Some("boom".into()),
        });
        status.merge(&ToolRun {
            name: "pytest".into(),
            version: None,
            executed: false,
            exit_code: Some(0),
            error: Some("later".into()),
        });
        assert_eq!(status.version.as_deref(), Some("9.2.0"));
        assert!(status.executed);
        assert_eq!(status.exit_code, Some(1));
        assert_eq!(status.error.as_deref(), Some("boom; later"));
    }
}
