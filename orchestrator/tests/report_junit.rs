//! The merged JUnit report (`run-all --junit`, `runs show --junit`), rendered
//! from a stored run: suites written through the evidence writer as a run
//! writes them, read back, and turned into JUnit XML.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use evidence::{Run, RunInfo, RunStatus};
use orchestrator::evidence_map::suite_record;
use orchestrator::report::{write_junit, ReportError};
use quick_junit::{FlakyOrRerun, NonSuccessKind, Report, TestCaseStatus, TestSuite};
use runner_api::case::PriorFailure;
use runner_api::{SuiteOutcome, SuiteResult, TestCase, TestStatus};

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

/// `results` stored as a run under a new runs root, and that run loaded back.
fn stored(results: Vec<SuiteResult>) -> (tempfile::TempDir, evidence::LoadedRun) {
    let root = tempfile::tempdir().expect("runs root");
    let run = Run::create(
        root.path(),
        RunInfo {
            project_name: "shop".into(),
            project_path: root.path().to_path_buf(),
            suites: results.iter().map(|result| result.suite.clone()).collect(),
            qaagent_version: "test".into(),
            partition: None,
        },
    )
    .expect("create run");
    let writer = run.start_writer().expect("writer");
    for (index, result) in results.into_iter().enumerate() {
        writer.suite_finished(index, suite_record(result)).expect("suite");
    }
    writer
        .finish(RunStatus::Failed, Duration::from_secs(2))
        .expect("finish");
    let loaded = evidence::load_run(root.path(), "latest").expect("load");
    (root, loaded)
}

fn written(results: Vec<SuiteResult>) -> (tempfile::TempDir, PathBuf, String) {
    let (root, run) = stored(results);
    let path = root.path().join("reports/ci/junit.xml");
    write_junit(&run, &path).expect("written");
    let xml = fs::read_to_string(&path).expect("read back");
    (root, path, xml)
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
    let skipped_suite = SuiteResult::skipped("e2e", "playwright", "not started: the run was interrupted");
    let (_dir, _path, xml) = written(vec![unit(), crashed(), skipped_suite]);
    let report = Report::deserialize_from_str(&xml).expect("quick-junit reads its own output");
    assert!(report
        .name
        .as_deref()
        .is_some_and(|name| name.starts_with("qaagent run ")));
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
        .any(|p| p.name.as_str() == "skipped" && p.value.as_str() == "not started: the run was interrupted"));

    // Our own JUnit reader agrees on every case's status.
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("junit.xml");
    fs::write(&copy, &xml).expect("copy");
    let rows = runner_api::junit::read_file(&copy).expect("runner-api reads it");
    let got: Vec<(String, TestStatus)> = rows.iter().map(|row| (row.name().to_string(), row.status())).collect();
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
    let (_dir, _path, xml) = written(vec![unit()]);
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
    let (_dir, _path, xml) = written(vec![unit()]);
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
fn characters_xml_does_not_allow_become_replacement_characters() {
    let mut result = unit();
    result.cases[0].name = "odd \u{FFFE}\u{FFFF} name\u{7}".into();
    result.cases[0].message = Some("bell \u{7} and \u{FFFF}".into());
    let (_dir, _path, xml) = written(vec![result]);
    let report = Report::deserialize_from_str(&xml).expect("a CI system's parser reads it");
    let names: Vec<&str> = report.test_suites[0]
        .test_cases
        .iter()
        .map(|case| case.name.as_str())
        .collect();
    // (The bell is gone before: evidence keeps no terminal control characters.)
    assert!(names.contains(&"odd \u{FFFD}\u{FFFD} name"), "{names:?}");
    assert!(!xml.contains('\u{FFFE}') && !xml.contains('\u{7}'), "{xml}");
}

#[test]
fn suite_errors_become_an_errored_case_beside_the_tests() {
    let mut timed_out = timed_out_with_a_failure();
    // Quarantined, but not excused in a suite with an error of its own.
    timed_out.cases[0].quarantine = Some("TICKET-1".into());
    let (_dir, _path, xml) = written(vec![crashed(), timed_out]);
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

    // A failing case does not stand for the suite's own error: a CI system
    // that counts errors sees both.
    let e2e = &report.test_suites[1];
    assert_eq!((e2e.tests, e2e.failures, e2e.errors), (2, 1, 1), "{xml}");
    let TestCaseStatus::NonSuccess { kind, message, ty, .. } = &e2e.test_cases[1].status else {
        panic!("the stand-in case errored: {xml}")
    };
    assert_eq!(e2e.test_cases[1].name.as_str(), "e2e");
    assert_eq!(*kind, NonSuccessKind::Error);
    assert_eq!(message.as_deref(), Some("timed out after 5 s"));
    assert_eq!(ty.as_deref(), Some("timeout"));
    assert!(
        matches!(
            &e2e.test_cases[0].status,
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Failure,
                ..
            }
        ),
        "{xml}"
    );
}

#[test]
fn replaces_an_existing_report_and_leaves_no_temporary() {
    let (dir, path, _) = written(vec![unit()]);
    let (_other, crashed_run) = stored(vec![crashed()]);
    write_junit(&crashed_run, &path).expect("rewritten");
    let report = Report::deserialize_from_str(&fs::read_to_string(&path).expect("read")).expect("parses");
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
    let (dir, run) = stored(vec![unit()]);
    let blocker = dir.path().join("file");
    fs::write(&blocker, "not a directory").expect("write");
    let err = write_junit(&run, &blocker.join("junit.xml")).expect_err("fails");
    assert!(matches!(err, ReportError::CreateDir { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&Path::new("file").display().to_string()),
        "{err}"
    );
}
