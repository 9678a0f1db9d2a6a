//! What a stored run says must be what run-all said, through the real
//! binary and real pytest: a run in which no test ran is not stored as
//! `passed`; a suite's own error is an errored test case in the JUnit report
//! whatever its quarantined tests say.

use std::path::Path;

use qaagent_tests::{project_with, read_json, read_text, squash, Qaagent};
use quick_junit::{NonSuccessKind, Report, TestCaseStatus};
use serde_json::Value;

const CONFIG: &str = "[project]\nname = \"verdict\"\n\n[tests.unit]\nrunner = \"pytest\"\npath = \"tests\"\n";

/// A conftest that deselects every test, as a plugin or a marker
/// expression selecting nothing would.
const DESELECT_ALL: &str = "def pytest_collection_modifyitems(config, items):\n    \
                            config.hook.pytest_deselected(items=list(items))\n    items[:] = []\n";

fn run_all(project: &Path, runs: &Path, args: &[&str]) -> qaagent_tests::RunOutput {
    Qaagent::with_runs_dir(project, runs)
        .args(["run-all", "--no-progress"])
        .args(args)
        .run()
}

fn runs(project: &Path, runs: &Path, args: &[&str]) -> qaagent_tests::RunOutput {
    Qaagent::with_runs_dir(project, runs).args(["runs"]).args(args).run()
}

#[test]
fn a_run_in_which_no_test_ran_is_stored_failed_and_runs_show_exits_1() {
    let project = project_with(
        "no-tests",
        &[
            (".qaagent.toml", CONFIG),
            ("tests/test_a.py", "def test_1():\n    assert 0\n"),
            ("tests/conftest.py", DESELECT_ALL),
        ],
    );
    let root = tempfile::tempdir().expect("runs");
    let run = run_all(project.path(), root.path(), &[]);
    assert_eq!(run.code(), 4, "{}", run.describe());
    assert!(run.stderr().contains("no tests ran"), "{}", run.describe());
    assert_eq!(run.manifest()["status"], "failed", "{:#}", run.manifest());

    let show = runs(project.path(), root.path(), &["show", "latest"]);
    assert_eq!(show.code(), 1, "{}", show.describe());
    let stdout = squash(&show.stdout());
    assert!(stdout.contains(": failed"), "{stdout}");
    assert!(stdout.contains("Problems:\n no tests ran"), "{stdout}");
    let json = runs(project.path(), root.path(), &["show", "latest", "--json"]);
    assert_eq!(json.code(), 1, "{}", json.describe());
    let doc: Value = serde_json::from_str(&json.stdout()).expect("one JSON document");
    assert_eq!(doc["status"], "failed");

    let list = runs(project.path(), root.path(), &["list"]);
    assert_eq!(list.code(), 0, "{}", list.describe());
    let row = squash(&list.stdout());
    assert!(
        row.contains(" failed 0 0 0 0 0 0 ") && row.contains("no tests ran"),
        "{row}"
    );

    // Accepted with `--no-tests=warn`, the same run is green, stored and shown.
    let warned = run_all(project.path(), root.path(), &["--no-tests=warn"]);
    assert_eq!(warned.code(), 0, "{}", warned.describe());
    let manifest = read_json(&warned.run_dirs().last().expect("a second run").join("manifest.json"));
    assert_eq!(manifest["status"], "passed", "{manifest:#}");
    let show = runs(project.path(), root.path(), &["show", "latest"]);
    assert_eq!(show.code(), 0, "{}", show.describe());
}

#[test]
fn a_filter_that_selects_nothing_is_stored_failed() {
    let config = format!("{CONFIG}args = [\"-k\", \"nomatch\"]\n");
    let project = project_with(
        "no-match",
        &[
            (".qaagent.toml", &config),
            ("tests/test_a.py", "def test_1():\n    pass\n"),
        ],
    );
    let root = tempfile::tempdir().expect("runs");
    let run = run_all(project.path(), root.path(), &[]);
    assert_eq!(run.code(), 4, "{}", run.describe());
    assert_eq!(run.manifest()["status"], "failed", "{:#}", run.manifest());
}

/// The JUnit report at `path`, parsed as a CI system would.
fn junit(path: &Path) -> Report {
    let xml = read_text(path);
    Report::deserialize_from_str(&xml).unwrap_or_else(|err| panic!("{err}: {xml}"))
}

/// The status of the case named `name` in the only suite of `report`.
fn case_status<'a>(report: &'a Report, name: &str) -> &'a TestCaseStatus {
    let suite = &report.test_suites[0];
    let case = (suite.test_cases.iter())
        .find(|case| case.name.as_str() == name)
        .unwrap_or_else(|| panic!("no case {name} in {:#?}", suite.test_cases));
    &case.status
}

fn is_non_success(status: &TestCaseStatus, expected: NonSuccessKind) -> bool {
    matches!(status, TestCaseStatus::NonSuccess { kind, .. } if *kind == expected)
}

#[test]
fn a_suite_error_is_an_errored_case_even_when_its_failing_test_is_quarantined() {
    let config = format!(
        "{CONFIG}\n[[quarantine]]\ntest = \"unit::tests/test_a.py::test_flaky\"\nreason = \"TICKET-1\"\nuntil = \"2099-12-31\"\n"
    );
    // Any tool that ends without its report: pytest's is deleted as it ends.
    let conftest = "import os, pytest\n\n@pytest.hookimpl(trylast=True)\n\
                    def pytest_sessionfinish(session, exitstatus):\n    \
                    xml = session.config.option.xmlpath\n    \
                    if xml and os.path.exists(xml):\n        os.remove(xml)\n";
    let project = project_with(
        "suite-error-junit",
        &[
            (".qaagent.toml", &config),
            (
                "tests/test_a.py",
                "def test_flaky():\n    assert 0\n\ndef test_ok():\n    pass\n",
            ),
            ("tests/conftest.py", conftest),
        ],
    );
    let root = tempfile::tempdir().expect("runs");
    let run = run_all(project.path(), root.path(), &["--junit", "run.xml"]);
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(run.stdout().contains("no report written"), "{}", run.describe());
    let show = runs(project.path(), root.path(), &["show", "latest", "--junit", "show.xml"]);
    assert_eq!(show.code(), 0, "{}", show.describe());

    for file in ["run.xml", "show.xml"] {
        let report = junit(&project.path().join(file));
        assert_eq!((report.errors, report.failures), (1, 1), "{file}: {report:#?}");
        let unit = case_status(&report, "unit");
        assert!(is_non_success(unit, NonSuccessKind::Error), "{file}: {unit:?}");
        // Not excused in a suite that errored: the run counted it as failed.
        let flaky = case_status(&report, "test_flaky");
        assert!(is_non_success(flaky, NonSuccessKind::Failure), "{file}: {flaky:?}");
        assert!(
            matches!(case_status(&report, "test_ok"), TestCaseStatus::Success { .. }),
            "{file}"
        );
    }
}

#[test]
fn a_glob_quarantine_never_covers_the_tests_a_suite_never_ran() {
    let config = format!(
        "{CONFIG}args = [\"-x\"]\n\n[[quarantine]]\ntest = \"unit::*\"\nreason = \"TICKET-2\"\nuntil = \"2099-12-31\"\n"
    );
    let project = project_with(
        "never-ran-junit",
        &[
            (".qaagent.toml", &config),
            (
                "tests/test_a.py",
                "def test_flaky():\n    assert 0\n\ndef test_b():\n    assert 0\n\ndef test_c():\n    pass\n",
            ),
        ],
    );
    let root = tempfile::tempdir().expect("runs");
    let run = run_all(project.path(), root.path(), &["--junit", "run.xml"]);
    assert_eq!(run.code(), 1, "{}", run.describe());
    let records = run.records();
    let never_ran = (records.iter())
        .find(|record| record["name"] == "the tests it never ran")
        .unwrap_or_else(|| panic!("a row for the tests -x kept from running: {records:#?}"));
    assert_eq!(never_ran["status"], "error", "{never_ran:#}");
    assert_ne!(never_ran["metadata"]["quarantined"], true, "{never_ran:#}");

    let report = junit(&project.path().join("run.xml"));
    let status = case_status(&report, "the tests it never ran");
    assert!(is_non_success(status, NonSuccessKind::Error), "{status:?}");
    // pytest stopping early is the suite's own error, beside the row.
    let unit = case_status(&report, "unit");
    assert!(is_non_success(unit, NonSuccessKind::Error), "{unit:?}");
    assert_eq!((report.errors, report.failures), (2, 1), "{report:#?}");
    let flaky = case_status(&report, "test_flaky");
    assert!(is_non_success(flaky, NonSuccessKind::Failure), "{flaky:?}");
}
