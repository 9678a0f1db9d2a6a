//! One merged JUnit XML report of a run, for CI systems (`run-all --junit FILE`).
//!
//! Each suite becomes a `<testsuite>` and each of its (merged) cases a
//! `<testcase>` with its classname, name and time. Retries are told the way
//! Maven Surefire and nextest tell them, which GitLab, Jenkins and most JUnit
//! readers understand:
//!
//! - a test that failed and then passed is a passing `<testcase>` carrying one
//!   `<flakyFailure>` / `<flakyError>` per failed attempt;
//! - a test that failed on every attempt has its last failure as the main
//!   `<failure>` / `<error>` and the earlier ones as `<rerunFailure>` /
//!   `<rerunError>`.
//!
//! A suite that errored without naming a failing test (its tool crashed, it
//! timed out before reporting) gets one errored `<testcase>` named after the
//! suite, so a CI system that only looks at test cases still sees it fail.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCaseStatus, TestRerun, TestSuite};
use runner_api::case::PriorFailure;
use runner_api::{SuiteOutcome, SuiteResult, TestCase, TestStatus};

/// Why the JUnit report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum JunitReportError {
    /// The report could not be turned into XML.
    #[error("cannot serialize the JUnit report: {0}")]
    Serialize(#[source] quick_junit::SerializeError),
    /// A file system operation on the report failed.
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The report could not be written.
    #[error(transparent)]
    Write(evidence::EvidenceError),
}

/// Writes the merged JUnit report of `results` to `path`, atomically: a
/// reader sees the previous file or the whole new one, never a part. Missing
/// parent directories are created. `run_name` names the `<testsuites>`.
pub fn write_junit_report(results: &[SuiteResult], path: &Path, run_name: &str) -> Result<(), JunitReportError> {
    let xml = junit_report(results, run_name)
        .to_string()
        .map_err(JunitReportError::Serialize)?;
    write_atomically(path, xml.as_bytes())
}

/// The merged report of `results`, for callers that serialize it themselves.
pub fn junit_report(results: &[SuiteResult], run_name: &str) -> Report {
    let mut report = Report::new(run_name);
    report.add_test_suites(results.iter().map(suite));
    report
}

fn suite(result: &SuiteResult) -> TestSuite {
    let mut suite = TestSuite::new(result.suite.as_str());
    suite.set_time(result.duration);
    suite.add_property(Property::new("runner", result.runner.as_str()));
    suite.add_property(Property::new("attempts", result.attempts.to_string()));
    if let Some(reason) = &result.skip_reason {
        suite.add_property(Property::new("skipped", reason.as_str()));
    }
    suite.add_test_cases(result.cases.iter().map(test_case));
    if let Some(error) = &result.error {
        if result.cases.iter().any(|case| case.status.is_failure()) {
            // The failing cases already fail the suite; keep the why alongside.
            suite.set_system_err(error.as_str());
        } else {
            suite.add_test_case(suite_error_case(result, error));
        }
    }
    suite
}

fn test_case(case: &TestCase) -> quick_junit::TestCase {
    let reruns = case.previous_failures.iter().map(rerun);
    let status = match case.status {
        TestStatus::Passed => {
            let mut status = TestCaseStatus::success();
            status.add_reruns(reruns);
            status
        }
        TestStatus::Failed | TestStatus::Error => {
            let mut status = TestCaseStatus::non_success(kind(case.status));
            fill_failure(
                &mut status,
                case.message.as_deref(),
                case.error_type.as_deref(),
                case.details.as_deref(),
            );
            // The default kind, `Rerun`: these attempts failed and so did the last.
            status.add_reruns(reruns);
            status
        }
        TestStatus::Skipped => {
            let mut status = TestCaseStatus::skipped();
            if let Some(message) = &case.message {
                status.set_message(message.as_str());
            }
            status
        }
    };
    let mut junit_case = quick_junit::TestCase::new(case.name.as_str(), status);
    junit_case.set_classname(case.classname.as_str());
    if let Some(time) = seconds(case.duration) {
        junit_case.set_time(time);
    }
    if let Some(file) = &case.file {
        junit_case.extra.insert("file".into(), file.as_str().into());
    }
    if let Some(out) = &case.system_out {
        junit_case.set_system_out(out.as_str());
    }
    if let Some(err) = &case.system_err {
        junit_case.set_system_err(err.as_str());
    }
    junit_case
}

/// The errored case standing for a suite that failed without naming a test.
fn suite_error_case(result: &SuiteResult, error: &str) -> quick_junit::TestCase {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    let ty = match result.outcome() {
        SuiteOutcome::TimedOut => "timeout",
        SuiteOutcome::Interrupted => "interrupted",
        _ => "suite error",
    };
    fill_failure(&mut status, Some(error), Some(ty), result.log_tail.as_deref());
    let mut case = quick_junit::TestCase::new(result.suite.as_str(), status);
    case.set_classname(result.suite.as_str());
    case.set_time(result.duration);
    case
}

fn rerun(prior: &PriorFailure) -> TestRerun {
    let mut rerun = TestRerun::new(kind(prior.status));
    if let Some(message) = &prior.message {
        rerun.set_message(message.as_str());
    }
    if let Some(ty) = &prior.error_type {
        rerun.set_type(ty.as_str());
    }
    if let Some(details) = &prior.details {
        rerun.set_description(details.as_str());
    }
    if let Some(time) = seconds(prior.duration) {
        rerun.set_time(time);
    }
    rerun
}

fn fill_failure(status: &mut TestCaseStatus, message: Option<&str>, ty: Option<&str>, details: Option<&str>) {
    if let Some(message) = message {
        status.set_message(message);
    }
    if let Some(ty) = ty {
        status.set_type(ty);
    }
    if let Some(details) = details {
        status.set_description(details);
    }
}

fn kind(status: TestStatus) -> NonSuccessKind {
    match status {
        TestStatus::Error => NonSuccessKind::Error,
        _ => NonSuccessKind::Failure,
    }
}

/// A tool's time in seconds as a duration; `None` when it is not a usable number.
fn seconds(secs: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(secs).ok()
}

/// Creates `path`'s directory and replaces `path` with `bytes`, atomically.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), JunitReportError> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|source| JunitReportError::Io {
            what: "create directory",
            path: dir.to_path_buf(),
            source,
        })?;
    }
    evidence::write_atomically(path, bytes).map_err(JunitReportError::Write)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use quick_junit::FlakyOrRerun;

    use super::*;

    fn prior(status: TestStatus, message: &str) -> PriorFailure {
        PriorFailure {
            status,
            message: Some(message.to_string()),
            error_type: Some("AssertionError".into()),
            details: Some(format!("Traceback: {message}")),
            duration: 0.5,
        }
    }

    fn case(name: &str, status: TestStatus) -> TestCase {
        let mut case = TestCase::new(name, "tests.test_a", status);
        case.file = Some("tests/test_a.py".into());
        case.selector = Some(format!("tests/test_a.py::{name}"));
        case.duration = 0.25;
        case
    }

    /// A suite with every kind of case, after three attempts.
    fn unit() -> SuiteResult {
        let mut result = SuiteResult::new("unit", "pytest");
        let mut passing = case("test_ok", TestStatus::Passed);
        passing.system_out = Some("hello \u{1b}[31mred\u{1b}[0m <out> & more".into());
        passing.system_err = Some("warning on stderr".into());
        let mut flaky = case("test_flaky[a b]", TestStatus::Passed);
        flaky.attempts = 2;
        flaky.flaky = true;
        flaky.previous_failures = vec![prior(TestStatus::Failed, "first run fails")];
        let mut flaky_setup = case("test_setup[\\xfcn\\xef]", TestStatus::Passed);
        flaky_setup.attempts = 3;
        flaky_setup.flaky = true;
        flaky_setup.previous_failures = vec![
            prior(TestStatus::Error, "setup broke"),
            prior(TestStatus::Failed, "then failed"),
        ];
        let mut failing = case("test_fails", TestStatus::Failed);
        failing.message = Some("assert 4 == 5".into());
        failing.error_type = Some("AssertionError".into());
        failing.details = Some("the last traceback".into());
        failing.attempts = 3;
        failing.previous_failures = vec![
            prior(TestStatus::Failed, "attempt 1"),
            prior(TestStatus::Failed, "attempt 2"),
        ];
        let mut erroring = case("test_errors", TestStatus::Error);
        erroring.message = Some("fixture broke".into());
        erroring.attempts = 2;
        erroring.previous_failures = vec![prior(TestStatus::Error, "fixture broke before")];
        let mut skipped = case("test_skipped", TestStatus::Skipped);
        skipped.message = Some("not today".into());
        result.cases = vec![passing, flaky, flaky_setup, failing, erroring, skipped];
        result.attempts = 3;
        result.duration = Duration::from_millis(1500);
        result
    }

    fn crashed() -> SuiteResult {
        let mut result = SuiteResult::errored("behave", "behave", "behave exited with code 2 before naming any test");
        result.log_tail = Some("ConfigError: no steps directory".into());
        result
    }

    fn timed_out_with_a_failure() -> SuiteResult {
        let mut result = SuiteResult::new("e2e", "playwright");
        result.cases = vec![case("slow", TestStatus::Failed)];
        result.set_error(SuiteOutcome::TimedOut, "timed out after 5 s");
        result
    }

    fn written(results: &[SuiteResult]) -> (tempfile::TempDir, PathBuf, String) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("reports/ci/junit.xml");
        write_junit_report(results, &path, "qaagent run 20250101_000000Z").expect("written");
        let xml = fs::read_to_string(&path).expect("read back");
        (dir, path, xml)
    }

    fn statuses(suite: &TestSuite) -> HashMap<String, TestCaseStatus> {
        suite
            .test_cases
            .iter()
            .map(|case| (case.name.to_string(), case.status.clone()))
            .collect()
    }

    #[test]
    fn reads_back_with_the_same_counts() {
        let skipped_suite = SuiteResult::skipped("e2e", "playwright", "path e2e does not exist");
        let (_dir, _path, xml) = written(&[unit(), crashed(), skipped_suite]);
        let report = Report::deserialize_from_str(&xml).expect("quick-junit reads its own output");
        assert_eq!(report.name.as_deref(), Some("qaagent run 20250101_000000Z"));
        // unit: 6 cases; behave: 1 stand-in case for its crash; e2e: none.
        assert_eq!(
            (report.tests, report.failures, report.errors, report.skipped),
            (7, 1, 2, 1)
        );
        let names: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["unit", "behave", "e2e"]);
        let unit = &report.test_suites[0];
        assert_eq!((unit.tests, unit.failures, unit.errors, unit.skipped), (6, 1, 1, 1));
        assert_eq!(unit.time, Some(Duration::from_millis(1500)));
        let e2e = &report.test_suites[2];
        assert_eq!(e2e.tests, 0);
        assert!(e2e
            .properties
            .iter()
            .any(|p| p.name.as_str() == "skipped" && p.value.as_str() == "path e2e does not exist"));

        // Our own JUnit reader agrees on every case's status.
        let dir = tempfile::tempdir().expect("tempdir");
        let copy = dir.path().join("junit.xml");
        fs::write(&copy, &xml).expect("copy");
        let rows = runner_api::junit::read_file(&copy).expect("runner-api reads it");
        let got: Vec<(String, TestStatus)> = rows.into_iter().map(|row| (row.name, row.status)).collect();
        assert_eq!(
            got,
            [
                ("test_ok".to_string(), TestStatus::Passed),
                ("test_flaky[a b]".to_string(), TestStatus::Passed),
                ("test_setup[\\xfcn\\xef]".to_string(), TestStatus::Passed),
                ("test_fails".to_string(), TestStatus::Failed),
                ("test_errors".to_string(), TestStatus::Error),
                ("test_skipped".to_string(), TestStatus::Skipped),
                ("behave".to_string(), TestStatus::Error),
            ]
        );
    }

    #[test]
    fn flaky_tests_carry_their_failed_attempts_and_failing_ones_their_reruns() {
        let (_dir, _path, xml) = written(&[unit()]);
        let report = Report::deserialize_from_str(&xml).expect("parses");
        let cases = statuses(&report.test_suites[0]);

        let TestCaseStatus::Success { flaky_runs } = &cases["test_ok"] else {
            panic!("test_ok passed")
        };
        assert!(flaky_runs.is_empty());
        let TestCaseStatus::Success { flaky_runs } = &cases["test_flaky[a b]"] else {
            panic!("flaky passed")
        };
        assert_eq!(flaky_runs.len(), 1);
        assert_eq!(flaky_runs[0].kind, NonSuccessKind::Failure);
        assert_eq!(flaky_runs[0].message.as_deref(), Some("first run fails"));
        assert_eq!(flaky_runs[0].description.as_deref(), Some("Traceback: first run fails"));
        let TestCaseStatus::Success { flaky_runs } = &cases["test_setup[\\xfcn\\xef]"] else {
            panic!("passed")
        };
        let kinds: Vec<NonSuccessKind> = flaky_runs.iter().map(|run| run.kind).collect();
        assert_eq!(kinds, [NonSuccessKind::Error, NonSuccessKind::Failure]);

        let TestCaseStatus::NonSuccess {
            kind,
            message,
            description,
            reruns,
            ..
        } = &cases["test_fails"]
        else {
            panic!("test_fails failed")
        };
        assert_eq!(*kind, NonSuccessKind::Failure);
        assert_eq!(message.as_deref(), Some("assert 4 == 5"));
        assert_eq!(description.as_deref(), Some("the last traceback"));
        assert_eq!(reruns.kind, FlakyOrRerun::Rerun);
        let messages: Vec<Option<&str>> = reruns.runs.iter().map(|run| run.message.as_deref()).collect();
        assert_eq!(messages, [Some("attempt 1"), Some("attempt 2")]);
        let TestCaseStatus::NonSuccess { kind, reruns, .. } = &cases["test_errors"] else {
            panic!("errored")
        };
        assert_eq!(*kind, NonSuccessKind::Error);
        assert_eq!(reruns.runs.len(), 1);
        assert_eq!(reruns.runs[0].kind, NonSuccessKind::Error);
        let TestCaseStatus::Skipped { message, .. } = &cases["test_skipped"] else {
            panic!("skipped")
        };
        assert_eq!(message.as_deref(), Some("not today"));

        // The element names CI systems look for, counted in the XML itself.
        let count = |needle: &str| xml.matches(needle).count();
        assert_eq!(count("<flakyFailure"), 2, "{xml}");
        assert_eq!(count("<flakyError"), 1, "{xml}");
        assert_eq!(count("<rerunFailure"), 2, "{xml}");
        assert_eq!(count("<rerunError"), 1, "{xml}");
        assert_eq!(count("<failure"), 1, "{xml}");
        assert_eq!(count("<error"), 1, "{xml}");
        assert_eq!(count("<skipped"), 1, "{xml}");
        assert!(xml.contains(r#"classname="tests.test_a""#), "{xml}");
        assert!(xml.contains(r#"file="tests/test_a.py""#), "{xml}");
        assert!(xml.contains(r#"time="0.250""#), "{xml}");
    }

    #[test]
    fn system_out_and_err_are_kept_without_terminal_escapes() {
        let (_dir, _path, xml) = written(&[unit()]);
        let report = Report::deserialize_from_str(&xml).expect("parses");
        let ok = report.test_suites[0]
            .test_cases
            .iter()
            .find(|case| case.name.as_str() == "test_ok")
            .expect("test_ok");
        assert_eq!(ok.system_out.as_deref(), Some("hello red <out> & more"));
        assert_eq!(ok.system_err.as_deref(), Some("warning on stderr"));
        assert!(!xml.contains('\u{1b}'), "XML 1.0 cannot hold ESC");
    }

    #[test]
    fn suite_errors_without_a_failing_case_become_an_errored_case() {
        let (_dir, _path, xml) = written(&[crashed(), timed_out_with_a_failure()]);
        let report = Report::deserialize_from_str(&xml).expect("parses");
        let behave = &report.test_suites[0];
        assert_eq!((behave.tests, behave.errors), (1, 1));
        let stand_in = &behave.test_cases[0];
        assert_eq!(stand_in.name.as_str(), "behave");
        let TestCaseStatus::NonSuccess {
            kind,
            message,
            ty,
            description,
            ..
        } = &stand_in.status
        else {
            panic!("the stand-in case errored")
        };
        assert_eq!(*kind, NonSuccessKind::Error);
        assert_eq!(
            message.as_deref(),
            Some("behave exited with code 2 before naming any test")
        );
        assert_eq!(ty.as_deref(), Some("suite error"));
        assert_eq!(description.as_deref(), Some("ConfigError: no steps directory"));

        // A failing case already fails the suite: no stand-in, the error goes to system-err.
        let e2e = &report.test_suites[1];
        assert_eq!((e2e.tests, e2e.failures, e2e.errors), (1, 1, 0));
        assert_eq!(e2e.system_err.as_deref(), Some("timed out after 5 s"));
    }

    #[test]
    fn replaces_an_existing_report_and_leaves_no_temporary() {
        let (dir, path, _) = written(&[unit()]);
        write_junit_report(&[crashed()], &path, "second").expect("rewritten");
        let report = Report::deserialize_from_str(&fs::read_to_string(&path).expect("read")).expect("parses");
        assert_eq!(report.name.as_deref(), Some("second"));
        assert_eq!(report.tests, 1);
        let left: Vec<String> = fs::read_dir(path.parent().expect("parent"))
            .expect("list")
            .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["junit.xml"]);
        drop(dir);
    }

    #[test]
    fn an_unwritable_place_is_a_typed_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blocker = dir.path().join("file");
        fs::write(&blocker, "not a directory").expect("write");
        let err = write_junit_report(&[unit()], &blocker.join("junit.xml"), "x").expect_err("fails");
        assert!(matches!(err, JunitReportError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("file"), "{err}");
    }
}
