//! A report that says the suite went wrong beyond its test cases makes the
//! suite an error, even when the tool exits 0 (issue 13, item 1): an
//! `<error>` or `<failure>` directly under `<testsuite>`, and `failures` /
//! `errors` counts that the listed cases do not bear out.

use std::path::Path;

use qaagent_tests::{squash, Qaagent};

/// A project whose one `command` suite writes `xml` as its JUnit report and exits 0.
fn project_writing(xml: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("qaagent-junit-verdict-")
        .tempdir()
        .expect("tempdir");
    let report = dir.path().join("report.xml");
    std::fs::write(&report, xml).expect("write report");
    let config = format!(
        "[project]\nname = \"junit-verdict\"\n\n\
         [tests.tool]\nrunner = \"command\"\npath = \".\"\n\
         command = [\"cp\", {:?}, \"{{junit}}\"]\n",
        report.display().to_string()
    );
    std::fs::write(dir.path().join(".qaagent.toml"), config).expect("write config");
    dir
}

/// Runs the project and checks the suite errored with `message` (exit 1).
fn assert_suite_errors_with(project: &Path, message: &str) {
    let run = Qaagent::new(project).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let manifest = run.manifest();
    let suite = &manifest["suites"][0];
    assert_eq!(suite["outcome"], "errored", "{manifest:#}");
    let error = suite["error"].as_str().unwrap_or_default();
    assert!(error.contains(message), "{error:?} should say {message:?}");
    let stdout = squash(&run.stdout());
    assert!(stdout.contains("ERROR tool"), "{stdout}");
    assert!(stdout.contains(message), "{stdout}");
}

#[test]
fn suite_level_error_without_testcases_errors_the_suite() {
    let project = project_writing(
        r#"<testsuite name="api" tests="3" errors="1" failures="2"><error message="setUpClass: cannot connect"/></testsuite>"#,
    );
    assert_suite_errors_with(project.path(), "setUpClass: cannot connect");
    assert_suite_errors_with(
        project.path(),
        "the report counts 2 failures and 1 error of suite \"api\" but lists 1",
    );
}

#[test]
fn suite_level_failure_beside_passing_cases_errors_the_suite() {
    let project = project_writing(
        r#"<testsuites><testsuite name="api"><testcase name="ok"/><failure message="fixture teardown broke">trace</failure></testsuite></testsuites>"#,
    );
    assert_suite_errors_with(
        project.path(),
        "the report has a suite-level <failure> of suite \"api\": fixture teardown broke",
    );
}

#[test]
fn counts_claiming_more_failures_than_listed_error_the_suite() {
    let project = project_writing(r#"<testsuite name="api" tests="1" failures="3"><testcase name="ok"/></testsuite>"#);
    assert_suite_errors_with(
        project.path(),
        "the report counts 3 failures of suite \"api\" but lists 0",
    );
}

/// Counts written as other numbers than plain integers count all the same.
/// Before, `failures="1.0"` was unreadable, so nothing: exit 0 (a hostile
/// try, 13a F1).
#[test]
fn counts_in_other_number_syntaxes_still_count() {
    for (failures, said) in [
        ("1.0", "1 failure"),
        ("1e0", "1 failure"),
        ("18446744073709551616", "18446744073709551615 failures"),
    ] {
        let project = project_writing(&format!(
            r#"<testsuites failures="{failures}"><testsuite name="api" tests="1" errors="{failures}"><testcase name="ok"/></testsuite></testsuites>"#
        ));
        assert_suite_errors_with(
            project.path(),
            &format!(
                "the report counts {} of suite \"api\" but lists 0",
                said.replace("failure", "error")
            ),
        );
        assert_suite_errors_with(project.path(), &format!("the report counts {said} "));
    }
    let project = project_writing(r#"<testsuite name="api" tests="3.0" failures="1.0"></testsuite>"#);
    assert_suite_errors_with(
        project.path(),
        "the report counts 1 failure of suite \"api\" but lists 0",
    );
}

#[test]
fn counts_that_match_the_cases_leave_the_verdict_to_the_cases() {
    let project = project_writing(
        r#"<testsuite name="api" tests="2" failures="1" errors="0"><testcase name="ok"/><testcase name="bad"><failure message="no"/></testcase></testsuite>"#,
    );
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let manifest = run.manifest();
    assert_eq!(manifest["suites"][0]["outcome"], "failed", "{manifest:#}");
    assert!(manifest["suites"][0]["error"].is_null(), "{manifest:#}");
}

/// Maven Surefire's (and nextest's) reruns: `<flakyFailure>` marks a test
/// that failed and then passed, which `flaky = "fail"` fails the run for;
/// `<rerunFailure>` alone still fails the test.
#[test]
fn surefire_reruns_make_a_passing_test_flaky_and_failed_reruns_fail() {
    let flaky = project_writing(
        r#"<testsuite name="api" tests="2" failures="0" flakes="1"><testcase name="ok"/><testcase classname="Api" name="flaky" time="0.5"><flakyFailure message="expected 1" type="AssertionError"><stackTrace>at Api</stackTrace></flakyFailure></testcase></testsuite>"#,
    );
    let run = Qaagent::new(flaky.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 0, "{}", run.describe());
    let records = run.records();
    let record = records.iter().find(|r| r["name"] == "flaky").expect("flaky record");
    assert_eq!(
        (&record["status"], &record["metadata"]["flaky"]),
        (&"passed".into(), &true.into()),
        "{record:#}"
    );
    assert_eq!(run.manifest()["counts"]["tests_flaky"], 1);

    let config = flaky.path().join(".qaagent.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text.replace("[tests.tool]", "[run]\nflaky = \"fail\"\n\n[tests.tool]");
    std::fs::write(&config, text).expect("config");
    let run = Qaagent::new(flaky.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "flaky = \"fail\": {}", run.describe());

    let reruns = project_writing(
        r#"<testsuite name="api" tests="1"><testcase name="broken"><rerunFailure message="try 1"/><rerunFailure message="try 2"/></testcase></testsuite>"#,
    );
    let run = Qaagent::new(reruns.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert_eq!(run.records()[0]["status"], "failed", "{}", run.describe());
}

/// Suites grouped by a `<testsuites>` below the root are read (a failure in
/// them fails the run); suites or cases inside an element no JUnit writer
/// uses are a malformed report, not tests lost without a word.
#[test]
fn grouped_suites_are_read_and_suites_hidden_in_unknown_elements_error() {
    let grouped = project_writing(
        r#"<testsuites><testsuites><testsuite name="s" tests="1" failures="1"><testcase classname="c" name="b"><failure>boom</failure></testcase></testsuite></testsuites><testsuite name="t" tests="1"><testcase classname="c" name="a"/></testsuite></testsuites>"#,
    );
    let run = Qaagent::new(grouped.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let statuses: Vec<(String, String)> = run
        .records()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap_or_default().to_string(),
                r["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(statuses, [("b".into(), "failed".into()), ("a".into(), "passed".into())]);

    let hidden = project_writing(
        r#"<testsuites><testsuite name="ok" tests="1"><testcase classname="c" name="a"/></testsuite><group><testsuite name="s" tests="1" failures="1"><testcase classname="c" name="b"><failure>x</failure></testcase></testsuite></group></testsuites>"#,
    );
    assert_suite_errors_with(hidden.path(), "a <testsuite> inside <group>");
}

/// A failure whose report gives no message, only a body: `runs show` says
/// its first line, as `run-all` does.
#[test]
fn runs_show_gives_a_failures_body_when_it_has_no_message() {
    let project = project_writing(
        r#"<testsuite name="api"><testcase classname="c" name="b"><failure>
  expected 200, got 503
  at api.rs:7</failure></testcase></testsuite>"#,
    );
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let show = Qaagent::with_runs_dir(project.path(), run.runs_dir.path())
        .args(["runs", "show", "latest"])
        .run();
    assert!(
        show.stdout().contains("FAILED tool c::b — expected 200, got 503"),
        "{}",
        show.describe()
    );
}
