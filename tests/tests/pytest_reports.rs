//! Where pytest's JUnit report could tell a test's runs wrong, through real
//! pytest (`tests/fixtures/pytest-reports`, see its EXPECTED.md): the rows
//! of pytest-rerunfailures' reruns under pytest-xdist, and a report a
//! conftest rewrote after qaagent's live stream saw a test fail.

use qaagent_tests::{fixture, read_text, record_named, squash, verdict, Qaagent};

/// pytest-xdist puts the other worker's rows between the rows of one test's
/// runs: each repeated row is still a run of that test, so a test that
/// passed on a rerun is flaky (`flaky = "fail"` fails the run) and one that
/// failed every run is one failed test, never a pass beside a failure.
#[test]
fn reruns_under_xdist_are_attempts_of_their_test_wherever_their_rows_land() {
    let project = fixture("pytest-reports");
    let state = tempfile::tempdir().expect("tempdir");
    let junit = project.path().join("merged.xml");
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "xdist-reruns", "--no-progress", "--junit"])
        .args([&junit])
        .env("RETRY_STATE_DIR", state.path())
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());

    // The run exercised what it means to: pytest's own report has another
    // worker's row between two rows of test_flaky, and of test_fails.
    let report = read_text(&run.run_dir().join("artifacts/xdist-reruns/junit.xml"));
    let rows: Vec<&str> = report
        .split("<testcase ")
        .skip(1)
        .filter_map(|row| row.split(" name=\"").nth(1)?.split('"').next())
        .collect();
    for test in ["test_flaky", "test_fails"] {
        let first = rows.iter().position(|row| *row == test).expect("a row");
        let last = rows.iter().rposition(|row| *row == test).expect("a row");
        assert!(
            rows[first..last].iter().any(|row| *row != test),
            "no other row between {test}'s rows: {rows:?}"
        );
    }

    let records = run.records();
    assert_eq!(records.len(), 4, "{records:#?}");
    let by_name = |name: &str| record_named(&records, name).clone();
    let flaky = by_name("test_flaky");
    assert_eq!(verdict(&flaky), serde_json::json!(["passed", 2, true]), "{flaky}");
    let fails = by_name("test_fails");
    assert_eq!(
        (&fails["status"], &fails["metadata"]["attempts"]),
        (&"failed".into(), &3.into()),
        "{fails}"
    );
    for name in ["test_first", "test_between"] {
        let ok = by_name(name);
        assert_eq!(
            (&ok["status"], &ok["metadata"]["attempts"]),
            (&"passed".into(), &1.into()),
            "{ok}"
        );
    }
    assert_eq!(run.manifest()["counts"]["tests_flaky"], 1);
    let stdout = squash(&run.stdout());
    assert!(
        stdout.contains("4 tests: 3 passed, 1 failed, 0 errors, 0 skipped, 1 flaky"),
        "{stdout}"
    );
    let merged = read_text(&junit);
    assert_eq!(merged.matches("<testcase ").count(), 4, "{merged}");
    assert_eq!(merged.matches("<flakyFailure").count(), 1, "{merged}");
}

/// A conftest rewrites pytest's report to say every test passed and makes
/// pytest exit 0; qaagent's live stream saw test_fails fail: it fails, and
/// the run says the report disagreed.
#[test]
fn a_pass_in_a_rewritten_report_does_not_take_back_a_failure_the_stream_saw() {
    rewritten_report_keeps_the_failure(Rewrite::Passes);
}

/// The same, where the rewritten rows also lost their `file` (so the
/// report's selectors are not the stream's): the failure is found by class
/// and name. Before, the report was believed: exit 0.
#[test]
fn a_rewritten_row_without_its_file_does_not_take_back_a_failure_the_stream_saw() {
    rewritten_report_keeps_the_failure(Rewrite::PassesWithoutPlace);
}

/// The same, where the report leaves the failing test out altogether: the
/// stream's failure is added. Before, only a "disagree" warning: exit 0.
#[test]
fn a_failure_a_rewritten_report_leaves_out_is_taken_from_the_stream() {
    rewritten_report_keeps_the_failure(Rewrite::LeavesOut);
}

/// How the fixture's conftest rewrites pytest's report.
#[derive(PartialEq)]
enum Rewrite {
    /// Every row passes.
    Passes,
    /// Every row passes and has no `file` or `line`.
    PassesWithoutPlace,
    /// The failing rows are gone.
    LeavesOut,
}

fn rewritten_report_keeps_the_failure(rewrite: Rewrite) {
    let project = fixture("pytest-reports");
    let mut qaagent = Qaagent::new(project.path()).args(["run-all", "--suite", "rewritten", "--no-progress"]);
    match rewrite {
        Rewrite::Passes => {}
        Rewrite::PassesWithoutPlace => qaagent = qaagent.env("REWRITE_DROP_PLACE", "1"),
        Rewrite::LeavesOut => qaagent = qaagent.env("REWRITE_DROP_ROWS", "1"),
    }
    let run = qaagent.run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let report = read_text(&run.run_dir().join("artifacts/rewritten/junit.xml"));
    assert!(
        !report.contains("<failure"),
        "the conftest rewrote the report: {report}"
    );
    assert_eq!(
        report.contains("\"test_fails\""),
        rewrite != Rewrite::LeavesOut,
        "{report}"
    );
    let records = run.records();
    assert_eq!(records.len(), 2, "{records:#?}");
    let fails = record_named(&records, "test_fails");
    assert_eq!(fails["status"], "failed", "{fails}");
    assert!(
        fails["error_message"]
            .as_str()
            .is_some_and(|m| m.contains("the live stream sees this")),
        "the stream's message: {fails}"
    );
    assert_eq!(record_named(&records, "test_ok")["status"], "passed");
    assert_eq!(run.manifest()["status"], "failed");
    assert_eq!(run.manifest()["counts"]["tests_failed"], 1);
    let stdout = squash(&run.stdout());
    let said = match rewrite {
        Rewrite::LeavesOut => "warning: suite rewritten: the tool's report leaves out 1 test(s) its live stream saw fail: ",
        _ => "warning: suite rewritten: the tool's report says 1 test(s) passed or were skipped that its live stream saw fail: ",
    };
    assert!(stdout.contains(said), "{stdout}");
    assert!(stdout.contains("test_fails (taken as failed"), "{stdout}");
    if rewrite != Rewrite::PassesWithoutPlace {
        assert!(
            stdout.contains("saw fail: tests/rewritten/test_rewritten.py::test_fails"),
            "{stdout}"
        );
    }
}

/// `junit_family=xunit2` writes no `file` attributes, so the report's
/// selectors are not the live stream's: the same tests all the same, by
/// class and name, with no "disagree" warning, and a failure counted once.
/// Before, every test was warned of as only in the report and only in the
/// stream.
///
/// The same for a failing test that sets its row's class itself
/// (`record_xml_attribute("classname", …)`): it was counted twice, with a
/// warning that the report was rewritten (a hostile try, 14 N10).
#[test]
fn an_xunit2_report_agrees_with_the_stream_and_counts_a_failure_once() {
    let custom = "def test_a():\n    pass\n\n\ndef test_b(record_xml_attribute):\n    \
                  record_xml_attribute('classname', 'billing.Checkout')\n    assert 0\n";
    for (args, tests) in [
        (
            "args = [\"-o\", \"junit_family=xunit2\"]\n",
            "def test_a():\n    pass\n\n\ndef test_b():\n    assert 0\n",
        ),
        ("", custom),
    ] {
        let config = format!("[project]\nname = \"x2\"\n\n[tests.unit]\nrunner = \"pytest\"\npath = \"tests\"\n{args}");
        let project = qaagent_tests::project_with("xunit2", &[(".qaagent.toml", &config), ("tests/test_x.py", tests)]);
        let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
        assert_eq!(run.code(), 1, "{}", run.describe());
        assert!(!run.describe().contains("disagree"), "{}", run.describe());
        assert!(!run.describe().contains("rewritten"), "{}", run.describe());
        assert_eq!(run.records().len(), 2, "{}", run.describe());
        assert_eq!(run.manifest()["counts"]["tests_failed"], 1);
    }
}
