//! Runner results mapped into evidence's own types: the one place where the
//! plugin API (`runner_api`) meets the stored format (`evidence`), so that a
//! change to either is a compile error here rather than a silent change of
//! `manifest.json` or `tests.jsonl`. Routes (`route` in records and
//! diagnostics) are found here too.
//!
//! A suite's cases are not copied: [`suite_record`] lends the shared result's
//! cases to the evidence writer, which sees each as an [`evidence::Case`]
//! while it writes its record.

use std::sync::Arc;

use runner_api::case::{Failure, PriorFailure};
use runner_api::route::route_for_test;
use runner_api::{LeakedProcess, SuiteOutcome, SuiteResult, TestCase, TestStatus, ToolRun};

/// The evidence record of a finished suite; its cases stay in `result`
/// (shared, not copied) until the writer has written them.
pub fn suite_record(result: impl Into<Arc<SuiteResult>>) -> evidence::SuiteRecord {
    let result = result.into();
    evidence::SuiteRecord {
        name: result.suite.clone(),
        runner: result.runner.clone(),
        outcome: suite_outcome(result.outcome()),
        passed: result.passed(),
        failed: result.failed(),
        errors: result.errors(),
        skipped: result.skipped_cases(),
        flaky: result.flaky(),
        duration: result.duration,
        return_code: result.return_code,
        error: result.error.clone(),
        log_tail: result.log_tail.clone(),
        skip_reason: result.skip_reason.clone(),
        attempts: result.attempts,
        leaked: result.leaked.iter().map(leaked).collect(),
        tool: tool_run(&result.tool),
        output_dir: result.output_dir.clone(),
        artifacts: result.artifacts.clone(),
        attempt_spans: Vec::new(),
        cases: Box::new(SharedCases(result)),
    }
}

/// A tool's run as the manifest's `tools` records it.
fn tool_run(tool: &ToolRun) -> evidence::ToolRun {
    evidence::ToolRun {
        name: tool.name.clone(),
        version: tool.version.clone(),
        executed: tool.executed,
        exit_code: tool.exit_code,
        error: tool.error.clone(),
    }
}

/// The HTTP route a test exercises, as records and diagnoses name it.
pub(crate) fn route(case: &TestCase) -> Option<String> {
    route_for_test(&case.name).map(|route| route.to_string())
}

/// The cases of a shared suite result, lent to the evidence writer.
#[derive(Debug)]
struct SharedCases(Arc<SuiteResult>);

impl evidence::Cases for SharedCases {
    fn count(&self) -> usize {
        self.0.cases.len()
    }

    fn for_each(
        &self,
        each: &mut dyn FnMut(&evidence::Case<'_>) -> Result<(), evidence::EvidenceError>,
    ) -> Result<(), evidence::EvidenceError> {
        self.0.cases.iter().try_for_each(|case| each(&case_record(case)))
    }

    fn attachments(&self) -> Result<std::collections::HashSet<std::path::PathBuf>, evidence::EvidenceError> {
        Ok(self
            .0
            .cases
            .iter()
            .flat_map(|case| case.attachments.iter().cloned())
            .collect())
    }
}

fn case_record(case: &TestCase) -> evidence::Case<'_> {
    evidence::Case {
        name: &case.name,
        classname: &case.classname,
        status: status(case.status),
        duration: case.duration,
        message: case.message.as_deref(),
        error_type: case.error_type.as_deref(),
        details: case.details.as_deref(),
        file: case.file.as_deref(),
        selector: case.selector.as_deref(),
        attempts: case.attempts,
        flaky: case.flaky,
        system_out: case.system_out.as_deref(),
        system_err: case.system_err.as_deref(),
        previous_failures: case.previous_failures.iter().map(prior_failure).collect(),
        failures: case.failures.iter().map(failure).collect(),
        route: route(case),
        attachments: &case.attachments,
        quarantine: case.quarantine.as_deref(),
    }
}

fn prior_failure(prior: &PriorFailure) -> evidence::PriorFailure<'_> {
    evidence::PriorFailure {
        failure: evidence::Failure {
            status: status(prior.status),
            message: prior.message.as_deref(),
            error_type: prior.error_type.as_deref(),
            details: prior.details.as_deref(),
        },
        duration: prior.duration,
    }
}

fn failure(failure: &Failure) -> evidence::Failure<'_> {
    evidence::Failure {
        status: status(failure.status),
        message: failure.message.as_deref(),
        error_type: failure.error_type.as_deref(),
        details: failure.details.as_deref(),
    }
}

fn status(status: TestStatus) -> evidence::TestStatus {
    match status {
        TestStatus::Passed => evidence::TestStatus::Passed,
        TestStatus::Failed => evidence::TestStatus::Failed,
        TestStatus::Error => evidence::TestStatus::Error,
        TestStatus::Skipped => evidence::TestStatus::Skipped,
    }
}

/// A suite outcome in evidence's words.
pub(crate) fn suite_outcome(outcome: SuiteOutcome) -> evidence::SuiteOutcome {
    match outcome {
        SuiteOutcome::Skipped => evidence::SuiteOutcome::Skipped,
        SuiteOutcome::Passed => evidence::SuiteOutcome::Passed,
        SuiteOutcome::Failed => evidence::SuiteOutcome::Failed,
        SuiteOutcome::Errored => evidence::SuiteOutcome::Errored,
        SuiteOutcome::TimedOut => evidence::SuiteOutcome::TimedOut,
        SuiteOutcome::Interrupted => evidence::SuiteOutcome::Interrupted,
    }
}

fn leaked(process: &LeakedProcess) -> evidence::LeakedProcess {
    evidence::LeakedProcess {
        pid: process.pid,
        command: process.command.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every outcome and status is written with the word the manifest and
    /// records have always used (the Python readers match on them).
    #[test]
    fn outcomes_and_statuses_keep_their_stored_words() {
        let outcomes = [
            (SuiteOutcome::Skipped, "skipped"),
            (SuiteOutcome::Passed, "passed"),
            (SuiteOutcome::Failed, "failed"),
            (SuiteOutcome::Errored, "errored"),
            (SuiteOutcome::TimedOut, "timed_out"),
            (SuiteOutcome::Interrupted, "interrupted"),
        ];
        for (ours, word) in outcomes {
            assert_eq!(serde_json::to_value(suite_outcome(ours)).expect("json"), word);
            assert_eq!(suite_outcome(ours).label(), ours.label());
        }
        for (ours, word) in [
            (TestStatus::Passed, "passed"),
            (TestStatus::Failed, "failed"),
            (TestStatus::Error, "error"),
            (TestStatus::Skipped, "skipped"),
        ] {
            assert_eq!(serde_json::to_value(status(ours)).expect("json"), word);
            assert_eq!(status(ours).as_str(), ours.as_str());
        }
    }

    #[test]
    fn cases_are_lent_with_their_routes() {
        let mut result = SuiteResult::new("api", "pytest");
        let mut case = TestCase::new("test_get_pets", "tests.test_api", TestStatus::Failed);
        case.previous_failures.push(PriorFailure {
            status: TestStatus::Error,
            message: Some("boom".into()),
            error_type: None,
            details: None,
            duration: 0.5,
        });
        result.cases.push(case);
        let record = suite_record(result);
        assert_eq!((record.name.as_str(), record.failed), ("api", 1));
        assert_eq!(evidence::Cases::count(record.cases.as_ref()), 1);
        let mut seen = Vec::new();
        evidence::Cases::for_each(record.cases.as_ref(), &mut |case| {
            seen.push((
                case.name.to_string(),
                case.status,
                case.route.clone(),
                case.previous_failures[0].failure.status,
            ));
            Ok(())
        })
        .expect("walks");
        assert_eq!(
            seen,
            [(
                "test_get_pets".to_string(),
                evidence::TestStatus::Failed,
                Some("GET /pets".to_string()),
                evidence::TestStatus::Error
            )]
        );
    }
}
