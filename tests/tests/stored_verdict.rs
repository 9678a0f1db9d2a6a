//! What a stored run says must be what run-all said, through the real
//! binary and real pytest: a run in which no test ran is not stored as
//! `passed`; a suite's own error is an errored test case in the JUnit report
//! whatever its quarantined tests say; and a run killed before any suite
//! finished still records the commit it ran.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    let junit_path = root.path().join("junit.xml");
    let junit_arg = junit_path.to_str().expect("utf-8");
    let run = run_all(project.path(), root.path(), &["--junit", junit_arg]);
    assert_eq!(run.code(), 4, "{}", run.describe());
    assert!(run.stderr().contains("no tests ran"), "{}", run.describe());
    assert_eq!(run.manifest()["status"], "failed", "{:#}", run.manifest());
    // A CI system reading the JUnit report sees the failure too.
    let report = junit(&junit_path);
    let qaagent = (report.test_suites.iter())
        .find(|suite| suite.name.as_str() == "qaagent")
        .unwrap_or_else(|| panic!("no qaagent suite: {report:?}"));
    match &qaagent.test_cases[0].status {
        TestCaseStatus::NonSuccess { message, .. } => assert_eq!(
            message.as_ref().map(|m| m.as_str()),
            Some("the run failed, and no test ran")
        ),
        other => panic!("{other:?}"),
    }

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

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .stderr(Stdio::null())
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8(out.stdout).expect("utf8").trim().to_string()
}

/// A project of `tests/test_slow.py` = `test_file`, committed on branch
/// `trunk`; and that commit.
fn committed_project(prefix: &str, test_file: &str) -> (tempfile::TempDir, String) {
    let project = project_with(prefix, &[(".qaagent.toml", CONFIG), ("tests/test_slow.py", test_file)]);
    git(project.path(), &["init", "-q", "-b", "trunk"]);
    git(project.path(), &["add", "-A"]);
    git(project.path(), &["commit", "-q", "-m", "one"]);
    let head = git(project.path(), &["rev-parse", "HEAD"]);
    (project, head)
}

/// `qaagent run-all ARGS` in `project` with `SLOW=1`, its evidence in
/// `runs`, killed with SIGKILL as soon as its manifest records a commit
/// (its tests sleep for a minute then: no suite has finished). Returns the
/// manifest it left.
fn killed_once_its_commit_is_recorded(project: &Path, runs: &Path, args: &[&str]) -> Value {
    let mut qaagent = Qaagent::with_runs_dir(project, runs)
        .args(["run-all", "--no-progress"])
        .args(args)
        .env("SLOW", "1");
    qaagent.command().stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = qaagent.command().spawn().expect("start qaagent");
    let deadline = Instant::now() + Duration::from_secs(30);
    let manifest = loop {
        let manifest = std::fs::read_dir(runs)
            .ok()
            .and_then(|mut entries| entries.next())
            .and_then(Result::ok)
            .and_then(|entry| std::fs::read_to_string(entry.path().join("manifest.json")).ok())
            .and_then(|text| serde_json::from_str::<Value>(&text).ok());
        match manifest {
            Some(manifest) if manifest["target"]["git"]["commit"].is_string() => break manifest,
            Some(manifest) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no commit recorded while the suite ran: {manifest:#}")
            }
            _ => assert!(Instant::now() < deadline, "no run in {}", runs.display()),
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    assert_eq!(manifest["status"], "running", "{manifest:#}");
    assert_eq!(
        manifest["suites"],
        Value::Array(vec![]),
        "no suite finished: {manifest:#}"
    );
    manifest
}

#[test]
fn a_run_killed_before_any_suite_finished_records_its_commit() {
    let (project, head) = committed_project("killed-git", "import time\n\ndef test_slow():\n    time.sleep(60)\n");
    let root = tempfile::tempdir().expect("runs");
    killed_once_its_commit_is_recorded(project.path(), root.path(), &[]);

    let show = runs(project.path(), root.path(), &["show", "latest", "--json"]);
    let doc: Value = serde_json::from_str(&show.stdout()).expect("one JSON document");
    assert_eq!(doc["status"], "crashed", "{}", show.describe());
    let git_info = &doc["manifest"]["target"]["git"];
    assert_eq!(git_info["commit"], head.as_str(), "{git_info:#}");
    assert_eq!(git_info["branch"], "trunk", "{git_info:#}");
    assert_eq!(git_info["dirty"], false, "{git_info:#}");
}

#[test]
fn a_share_killed_before_any_suite_finished_merges_with_allow_partial() {
    // Slow only where SLOW is set: the share that is killed.
    let tests: String = (1..=4)
        .map(|i| format!("def test_{i}():\n    time.sleep(60 if os.environ.get('SLOW') else 0)\n\n"))
        .collect();
    let (project, _head) = committed_project("killed-share", &format!("import os, time\n\n{tests}"));
    let finished = tempfile::tempdir().expect("runs");
    let share = run_all(project.path(), finished.path(), &["--partition", "2/2"]);
    assert_eq!(share.code(), 0, "{}", share.describe());
    let killed = tempfile::tempdir().expect("runs");
    killed_once_its_commit_is_recorded(project.path(), killed.path(), &["--partition", "1/2"]);

    let merged = tempfile::tempdir().expect("runs");
    let dirs = [killed.path(), finished.path()].map(|runs| {
        let entry = std::fs::read_dir(runs).expect("runs").flatten().next().expect("a run");
        entry.path().display().to_string()
    });
    let merge = Qaagent::with_runs_dir(project.path(), merged.path())
        .args(["merge", "--allow-partial"])
        .args(&dirs)
        .run();
    // A crashed share ran the same commit: merged as a partial run, which never passes.
    assert_eq!(merge.code(), 1, "{}", merge.describe());
    assert!(!merge.stderr().contains("ran no git commit"), "{}", merge.describe());
    assert!(merge.stdout().contains("status: incomplete"), "{}", merge.describe());
}
