//! Reading hand-written JSON reports: Playwright's shapes, and hostile ones.

use super::*;

fn report(suites: &str, errors: &str, stats: &str) -> String {
    format!(
        r#"{{"config": {{"rootDir": "/p/e2e/tests", "projects": []}}, "suites": {suites},
            "errors": {errors}, "stats": {stats}}}"#
    )
}

fn read_text(text: &str) -> Result<JsonReport, JsonReportError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("report.json");
    std::fs::write(&path, text).expect("write");
    read(&path, Path::new("/p/e2e"))
}

/// One file with a describe block holding one spec whose `tests` are given.
fn one_spec(tests: &str) -> String {
    format!(
        r#"[{{"title": "cart.spec.ts", "file": "cart.spec.ts", "specs": [], "suites": [
            {{"title": "cart", "file": "cart.spec.ts", "specs": [
                {{"title": "pays", "file": "cart.spec.ts", "tests": {tests}}}]}}]}}]"#
    )
}

const FAILED_RUN: &str = r#"{"status": "failed", "retry": 0, "duration": 1500,
    "errors": [{"message": "\u001b[31mError: boom\u001b[39m\nExpected: 1\nReceived: 2"}],
    "attachments": [{"name": "screenshot", "contentType": "image/png", "path": "/o/a.png"},
                    {"name": "inline", "contentType": "text/plain", "body": "aGk="}]}"#;
const PASSED_RUN: &str = r#"{"status": "passed", "retry": 1, "duration": 500, "errors": [],
    "stdout": [{"text": "hello\n"}, {"buffer": "AAE="}]}"#;

#[test]
fn a_test_that_failed_then_passed_in_playwright_is_flaky() {
    let tests = format!(r#"[{{"projectName": "mobile", "status": "flaky", "results": [{FAILED_RUN}, {PASSED_RUN}]}}]"#);
    let stats = r#"{"expected": 0, "unexpected": 0, "flaky": 1, "skipped": 0}"#;
    let read = read_text(&report(&one_spec(&tests), "[]", stats)).expect("readable");
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    let [case] = read.cases.as_slice() else {
        panic!("one case: {:?}", read.cases)
    };
    assert_eq!(
        (case.name.as_str(), case.classname.as_str()),
        ("cart › pays", "[mobile] › cart.spec.ts")
    );
    assert_eq!(case.selector.as_deref(), Some("[mobile] › cart.spec.ts › cart › pays"));
    assert_eq!(case.file.as_deref(), Some("tests/cart.spec.ts"));
    assert_eq!((case.status, case.attempts, case.flaky), (TestStatus::Passed, 2, true));
    assert_eq!(case.duration, 0.5);
    assert_eq!(case.previous_failures.len(), 1);
    let prior = &case.previous_failures[0];
    assert_eq!(prior.message.as_deref(), Some("boom\nExpected: 1\nReceived: 2"));
    assert_eq!(prior.duration, 1.5);
    assert_eq!(case.attachments, [PathBuf::from("/o/a.png")]);
    assert_eq!(case.system_out.as_deref(), Some("hello"));
}

#[test]
fn statuses_it_does_not_know_are_errors_never_passes() {
    let tests = r#"[{"projectName": "", "status": "sparkling", "results": [{"status": "passed"}]},
                    {"projectName": "", "status": "unexpected", "results": [{"status": "vanished"}]},
                    {"projectName": "", "status": "expected", "results": []},
                    {"projectName": "", "status": "flaky", "results": [{"status": "passed"}, {"status": "failed"}]},
                    {"projectName": "", "status": "expected", "expectedStatus": "failed",
                     "results": [{"status": "failed"}]}]"#;
    let stats = r#"{"expected": 2, "unexpected": 1, "flaky": 1, "skipped": 0}"#;
    let read = read_text(&report(&one_spec(tests), "[]", stats)).expect("readable");
    let statuses: Vec<TestStatus> = read.cases.iter().map(|c| c.status).collect();
    // A flaky test whose last run failed contradicts itself: not a pass. An
    // expected failure (`test.fail()`) that failed passes.
    assert_eq!(
        statuses,
        [
            TestStatus::Error,
            TestStatus::Error,
            TestStatus::Error,
            TestStatus::Error,
            TestStatus::Passed
        ]
    );
    assert!(read.cases[..4].iter().all(|c| c.message.is_some()));
    // An unnamed project: no project in the class name or selector.
    assert_eq!(read.cases[0].classname, "cart.spec.ts");
    assert_eq!(read.cases[0].selector.as_deref(), Some("cart.spec.ts › cart › pays"));
    // "sparkling" is counted nowhere in stats: the counts disagree.
    assert_eq!(read.problems.len(), 1, "{:?}", read.problems);
}

#[test]
fn errors_outside_tests_and_miscounts_are_suite_problems() {
    let stats = r#"{"expected": 3, "unexpected": 0, "flaky": 0, "skipped": 0}"#;
    let errors = r#"[{"message": "\u001b[31mSyntaxError: Unexpected token\u001b[39m\n  at x.spec.ts:1"}]"#;
    let read = read_text(&report("[]", errors, stats)).expect("readable");
    assert!(read.cases.is_empty());
    let problems: Vec<String> = read.problems.iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("SyntaxError: Unexpected token"), "{problems:?}");
    assert!(!problems[0].contains('\u{1b}'));
    assert!(problems[1].contains("counts 3 passed"), "{problems:?}");
}

#[test]
fn reports_of_another_shape_are_unreadable() {
    for text in [
        "",
        "{",
        "[]",
        r#"{"config": {"rootDir": "/p"}, "suites": [], "errors": []}"#,
        r#"{"config": {"rootDir": "/p"}, "suites": {}, "errors": [], "stats": {}}"#,
        &report(&one_spec(r#"[{"status": "expected", "results": "x"}]"#), "[]", "{}"),
    ] {
        assert!(
            matches!(read_text(text), Err(JsonReportError::Malformed { .. })),
            "{text:?}"
        );
    }
    let missing = read(Path::new("/nonexistent/report.json"), Path::new("/p"));
    assert!(matches!(missing, Err(JsonReportError::Io { .. })));
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let text = report(&deep, "[]", "{}");
    assert!(matches!(read_text(&text), Err(JsonReportError::Malformed { .. })));
}

#[test]
fn headlines_keep_expected_received_and_boxed_advice() {
    let expect = "Error: expect(locator).toHaveText(expected) failed\n\nLocator:  locator('#s')\n\
                  Expected: \"rejected\"\nReceived: \"accepted\"\nTimeout:  1000ms\n\nCall log:\n  - waiting\n";
    assert_eq!(
        headline(expect),
        "expect(locator).toHaveText(expected) failed\nExpected: \"rejected\"\nReceived: \"accepted\""
    );
    let browser = "Error: browserType.launch: Executable doesn't exist at /b/chrome\n\
                   ╔════════╗\n║ Looks like Playwright was just installed. ║\n\
                   ║ Please run:   ║\n║                ║\n║     npx playwright install ║\n╚════════╝";
    assert_eq!(
        headline(browser),
        "browserType.launch: Executable doesn't exist at /b/chrome\n\
         Looks like Playwright was just installed. Please run: npx playwright install"
    );
    assert_eq!(headline("Error: plain\nsecond\nthird\nfourth"), "plain\nsecond\nthird");
}

#[test]
fn failed_matchers_are_failures_other_errors_are_errors() {
    assert_eq!(
        matcher("Error: expect(locator).toHaveText(expected) failed").as_deref(),
        Some("expect.toHaveText")
    );
    assert_eq!(
        matcher("expect(received).not.toBe(expected)").as_deref(),
        Some("expect.not.toBe")
    );
    assert_eq!(matcher("browserType.launch: Executable doesn't exist"), None);
    let run = |message: &str| RunResult {
        status: RunStatus::Failed,
        retry: 0,
        duration: 0.0,
        errors: vec![ReportError {
            message: Some(message.to_string()),
            stack: None,
            snippet: None,
        }],
        attachments: Vec::new(),
        stdout: Vec::new(),
        stderr: Vec::new(),
    };
    assert_eq!(
        run_failure(&run("TypeError: x is undefined")),
        Some((TestStatus::Error, Some("TypeError".into())))
    );
    assert_eq!(
        run_failure(&run("Test timeout of 30000ms exceeded.")),
        Some((TestStatus::Error, Some("Error".into())))
    );
}

#[test]
fn long_texts_are_bounded() {
    let long = "é".repeat(KEPT_TEXT_BYTES);
    let cut = bounded(long);
    assert!(cut.len() < KEPT_TEXT_BYTES + 100);
    assert!(cut.ends_with("bytes more in Playwright's JSON report)"));
}

#[test]
fn a_test_skipped_by_nobody_did_not_run_and_one_skipped_by_the_test_is_skipped() {
    // As Playwright 1.65 reports them: after a failure in a serial group,
    // the rest end `skipped` with the expected status still `passed`; a
    // `test.skip()` makes the expected status `skipped`.
    let skipped_run = r#"{"status": "skipped", "retry": 0, "duration": 0, "errors": []}"#;
    for (expected, annotations, did_not_run) in [
        ("passed", r#"[{"type": "serial"}]"#, true),
        ("skipped", r#"[{"type": "skip", "description": "no db"}]"#, false),
    ] {
        let tests = format!(
            r#"[{{"projectName": "p", "status": "skipped", "expectedStatus": "{expected}",
                 "annotations": {annotations}, "results": [{skipped_run}]}}]"#
        );
        let stats = r#"{"expected": 0, "unexpected": 0, "flaky": 0, "skipped": 1}"#;
        let read = read_text(&report(&one_spec(&tests), "[]", stats)).expect("readable");
        let [case] = read.cases.as_slice() else {
            panic!("one case: {:?}", read.cases)
        };
        assert_eq!(case.name, "cart › pays");
        assert_eq!(case.selector.as_deref(), Some("[p] › cart.spec.ts › cart › pays"));
        if did_not_run {
            assert!(case.is_unreported(), "{case:?}");
            assert_eq!(case.status, TestStatus::Error);
            assert!(case.message.as_deref().is_some_and(|m| m.starts_with("did not run")));
        } else {
            assert_eq!(
                (case.status, case.message.as_deref()),
                (TestStatus::Skipped, Some("no db"))
            );
        }
    }
}
