//! One merged JUnit XML report of a stored run, for CI systems (`run-all
//! --junit FILE`, `runs show RUN --junit FILE`).
//!
//! Each suite becomes a `<testsuite>` and each of its (merged) test records a
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
//! A quarantined test that failed (`metadata.quarantined`) is a `<skipped>`
//! case whose message is `quarantined: REASON` and whose body is the failure:
//! CI systems count any `<failure>` against the build, which the run's exit
//! code does not, and a property is shown by few of them.
//!
//! A suite that errored (its tool crashed, it timed out, it wrote no report)
//! gets one errored `<testcase>` named after the suite beside its tests', so
//! a CI system that only looks at test cases sees the error whatever its
//! tests say. In such a suite a quarantined failure is a failure again, as
//! the run's verdict counts it ([`crate::quarantine::excuses`]).
//!
//! The report is built from the evidence alone, so that the report written at
//! the end of a run and one written later from the stored run are the same.

use std::collections::HashMap;
use std::time::Duration;

use evidence::{LoadedRun, RunStatus, StatusTally, SuiteEntry, SuiteOutcome, TestRecord, TestStatus};
use quick_junit::{NonSuccessKind, Property, Report, TestCaseStatus, TestRerun, TestSuite};

use serde_json::{Map, Value};

use super::ReportError;

/// The merged JUnit report of `run`.
pub fn junit_report(run: &LoadedRun) -> Result<Report, ReportError> {
    let mut by_suite: HashMap<String, Vec<TestRecord>> = HashMap::new();
    let mut statuses = StatusTally::default();
    for record in run.records()? {
        let record = record?;
        statuses.add(record.status);
        let suite = record.suite_name.clone().unwrap_or_else(|| record.kind.clone());
        by_suite.entry(suite).or_default().push(record);
    }
    let mut report = Report::new(format!("qaagent run {}", run.run_id));
    for entry in &run.manifest.suites {
        let records = by_suite.remove(&entry.name).unwrap_or_default();
        report.add_test_suite(suite(entry, &records));
    }
    // A CI system shows the report, not qaagent's exit code: a run that did
    // not finish, whose records were edited, or that failed without a
    // failing test (none ran) must not read green.
    let case = match not_to_be_trusted(run, &statuses) {
        Some(why) => Some(("the run's evidence", "evidence", why)),
        None => failed_without_a_failure(run, &report).map(|why| ("the run", "run", why)),
    };
    if let Some((name, kind, why)) = case {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        fill_failure(&mut status, Some(&why), Some(kind), None);
        let mut suite = TestSuite::new("qaagent");
        suite.add_test_case(quick_junit::TestCase::new(name, status));
        report.add_test_suite(suite);
    }
    Ok(report)
}

/// Why `run` did not pass, when it did not and `report` has no case that
/// says so (a run in which no test ran).
fn failed_without_a_failure(run: &LoadedRun, report: &Report) -> Option<String> {
    let status = run.status().filter(|status| *status != RunStatus::Passed)?;
    let cases = report.test_suites.iter().flat_map(|suite| &suite.test_cases);
    if cases
        .clone()
        .any(|case| matches!(case.status, TestCaseStatus::NonSuccess { .. }))
    {
        return None;
    }
    let ended = match status {
        RunStatus::Interrupted => "the run was interrupted".to_string(),
        RunStatus::Failed => "the run failed".to_string(),
        other => format!("the run is {other}"),
    };
    Some(match cases.count() {
        0 => format!("{ended}, and no test ran"),
        _ => format!("{ended}, though none of its tests failed"),
    })
}

/// Why `run`'s records cannot stand for what ran, if they cannot: it did
/// not finish, or they disagree with its manifest.
fn not_to_be_trusted(run: &LoadedRun, statuses: &StatusTally) -> Option<String> {
    match run.status() {
        Some(RunStatus::Incomplete) => Some(format!(
            "the run's evidence is incomplete: {}",
            run.manifest.incomplete_reason.as_deref().unwrap_or("a write failed")
        )),
        Some(RunStatus::Crashed) => Some("the run crashed: its records may lack tests that ran".into()),
        Some(RunStatus::Running) => Some("the run is still running: its records may lack tests".into()),
        status => statuses.disagreement(&run.manifest.counts, status),
    }
}

/// [`junit_report`] as XML. Characters XML 1.0 does not allow (control
/// characters but tab, newline and carriage return; U+FFFE, U+FFFF), which a
/// tool may put in a name or message, become U+FFFD: written as they are,
/// they make the whole report unreadable to a CI system's parser.
pub fn junit_xml(run: &LoadedRun) -> Result<String, ReportError> {
    let xml = junit_report(run)?.to_string().map_err(ReportError::Junit)?;
    Ok(if xml.chars().all(allowed_in_xml) {
        xml
    } else {
        xml.chars()
            .map(|c| {
                if allowed_in_xml(c) {
                    c
                } else {
                    char::REPLACEMENT_CHARACTER
                }
            })
            .collect()
    })
}

/// Whether XML 1.0 allows `c` in a document (its `Char` production).
fn allowed_in_xml(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn suite(entry: &SuiteEntry, records: &[TestRecord]) -> TestSuite {
    let mut suite = TestSuite::new(entry.name.as_str());
    if let Some(time) = seconds(entry.duration) {
        suite.set_time(time);
    }
    suite.add_property(Property::new("runner", entry.runner.as_str()));
    suite.add_property(Property::new("attempts", entry.attempts.to_string()));
    if let Some(reason) = &entry.skip_reason {
        suite.add_property(Property::new("skipped", reason.as_str()));
    }
    let excusable = entry.error.is_none();
    suite.add_test_cases(records.iter().map(|record| test_case(record, excusable)));
    if let Some(error) = &entry.error {
        suite.add_test_case(suite_error_case(entry, error));
    }
    suite
}

/// The `<testcase>` of `record`; `excusable`: its quarantine, if any, excuses
/// its failure (its suite has no error of its own).
fn test_case(record: &TestRecord, excusable: bool) -> quick_junit::TestCase {
    let meta = &record.metadata;
    let reruns = previous_failures(meta);
    let quarantine =
        (excusable && meta.get("quarantined") == Some(&Value::Bool(true))).then(|| text(meta, "quarantine_reason"));
    let status = match record.status {
        TestStatus::Failed | TestStatus::Error if quarantine.is_some() => {
            let mut status = TestCaseStatus::skipped();
            let reason = quarantine.flatten().unwrap_or("no reason given");
            let failure = [record.error_message.as_deref(), text(meta, "details")];
            let body: Vec<&str> = failure.into_iter().flatten().collect();
            fill_failure(
                &mut status,
                Some(&format!("quarantined: {reason}")),
                Some("quarantined"),
                (!body.is_empty()).then(|| body.join("\n\n")).as_deref(),
            );
            status
        }
        TestStatus::Failed | TestStatus::Error => {
            let mut status = TestCaseStatus::non_success(kind(record.status));
            fill_failure(
                &mut status,
                record.error_message.as_deref(),
                text(meta, "error_type"),
                text(meta, "details"),
            );
            // The default kind, `Rerun`: these attempts failed and so did the last.
            status.add_reruns(reruns);
            status
        }
        TestStatus::Skipped => {
            let mut status = TestCaseStatus::skipped();
            if let Some(reason) = text(meta, "skip_reason") {
                status.set_message(reason);
            }
            status
        }
        TestStatus::Passed => {
            let mut status = TestCaseStatus::success();
            status.add_reruns(reruns);
            status
        }
    };
    let mut case = quick_junit::TestCase::new(record.name.as_str(), status);
    case.set_classname(text(meta, "classname").unwrap_or_default());
    if let Some(time) = record.duration.and_then(seconds) {
        case.set_time(time);
    }
    if let Some(file) = text(meta, "file") {
        case.extra.insert("file".into(), file.into());
    }
    if let Some(out) = text(meta, "system_out") {
        case.set_system_out(out);
    }
    if let Some(err) = text(meta, "system_err") {
        case.set_system_err(err);
    }
    case
}

/// The errored case standing for a suite's own error.
fn suite_error_case(entry: &SuiteEntry, error: &str) -> quick_junit::TestCase {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    let ty = match entry.outcome {
        SuiteOutcome::TimedOut => "timeout",
        SuiteOutcome::Interrupted => "interrupted",
        _ => "suite error",
    };
    fill_failure(&mut status, Some(error), Some(ty), entry.log_tail.as_deref());
    let mut case = quick_junit::TestCase::new(entry.name.as_str(), status);
    case.set_classname(entry.name.as_str());
    if let Some(time) = seconds(entry.duration) {
        case.set_time(time);
    }
    case
}

/// The failed attempts before the last, as stored in `previous_failures`.
fn previous_failures(meta: &Map<String, Value>) -> Vec<TestRerun> {
    let Some(Value::Array(attempts)) = meta.get("previous_failures") else {
        return Vec::new();
    };
    attempts
        .iter()
        .filter_map(Value::as_object)
        .map(|attempt| {
            let status = match text(attempt, "status") {
                Some("error") => TestStatus::Error,
                _ => TestStatus::Failed,
            };
            let mut rerun = TestRerun::new(kind(status));
            if let Some(message) = text(attempt, "message") {
                rerun.set_message(message);
            }
            if let Some(ty) = text(attempt, "error_type") {
                rerun.set_type(ty);
            }
            if let Some(details) = text(attempt, "details") {
                rerun.set_description(details);
            }
            if let Some(time) = attempt.get("duration").and_then(Value::as_f64).and_then(seconds) {
                rerun.set_time(time);
            }
            rerun
        })
        .collect()
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
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

/// A stored time in seconds as a duration; `None` when it is not a usable number.
fn seconds(secs: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(secs).ok()
}
