//! Retries end to end with real pytest, behave and Playwright on
//! `tests/fixtures/retry-project` (see its EXPECTED.md): only what failed runs
//! again, flaky tests are called out, the merged JUnit report tells the
//! attempts apart, and `--rerun-failed` runs exactly the failures of a run.
//!
//! Every fixture test appends its key to `$RETRY_STATE_DIR/<suite>.log` each
//! time it runs, so what ran how often is known from the tests themselves.

use std::collections::BTreeMap;
use std::path::Path;

use qaagent_tests::{fixture, read_json, read_jsonl, squash, Qaagent, RunOutput};
use quick_junit::{NonSuccessKind, Report, TestCaseStatus};
use serde_json::Value;

const PYTEST_FILE: &str = "tests/unit/test_retry.py";

/// How a test ends up after `--retries 2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Passes on its first run.
    Passes,
    /// Fails on its first run, passes on its second.
    Flaky,
    /// Fails on every run (as `failed`).
    Fails,
    /// Errors on every run.
    Errors,
    /// Never runs.
    Skipped,
}

impl Fate {
    /// (status, attempts, flaky) in evidence, and executions, after `--retries 2`.
    fn with_two_retries(self) -> (&'static str, u64, bool, usize) {
        match self {
            Fate::Passes => ("passed", 1, false, 1),
            Fate::Flaky => ("passed", 2, true, 2),
            Fate::Fails => ("failed", 3, false, 3),
            Fate::Errors => ("error", 3, false, 3),
            Fate::Skipped => ("skipped", 1, false, 0),
        }
    }
}

/// One fixture test: its suite, selector, the key it logs executions under, and its fate.
struct Expected {
    suite: &'static str,
    selector: String,
    key: String,
    fate: Fate,
}

fn pytest(test: &str, fate: Fate) -> Expected {
    let selector = format!("{PYTEST_FILE}::{test}");
    Expected {
        suite: "unit",
        key: selector.clone(),
        selector,
        fate,
    }
}

fn behave(line: u32, key: &str, fate: Fate) -> Expected {
    Expected {
        suite: "behave",
        selector: format!("features/retry.feature:{line}"),
        key: key.to_string(),
        fate,
    }
}

fn playwright(title: &str, fate: Fate) -> Expected {
    Expected {
        suite: "e2e",
        selector: format!("[chromium] › retry.spec.ts › {title}"),
        key: title.to_string(),
        fate,
    }
}

/// Every test of the fixture.
fn expected() -> Vec<Expected> {
    vec![
        pytest("test_passes", Fate::Passes),
        pytest("test_passes_too", Fate::Passes),
        pytest("test_flaky", Fate::Flaky),
        // Parametrize ids with a space, brackets and non-ASCII (which pytest escapes).
        pytest("test_param[a b]", Fate::Flaky),
        pytest("test_param[x[1]]", Fate::Flaky),
        pytest(r"test_param[\xfcn\xef code]", Fate::Flaky),
        pytest("test_param[steady]", Fate::Passes),
        pytest("TestCart::test_total", Fate::Passes),
        pytest("TestCart::test_flaky_discount", Fate::Flaky),
        pytest("test_flaky_setup", Fate::Flaky),
        pytest("test_always_fails", Fate::Fails),
        pytest("test_always_errors", Fate::Errors),
        pytest("test_skipped", Fate::Skipped),
        behave(3, "passing scenario", Fate::Passes),
        behave(7, "flaky scenario", Fate::Flaky),
        behave(11, "failing scenario", Fate::Fails),
        behave(21, "outline steady", Fate::Passes),
        behave(22, "outline flaky", Fate::Flaky),
        playwright("steady page", Fate::Passes),
        playwright("steady math", Fate::Passes),
        playwright("flaky once", Fate::Flaky),
        playwright("cart › flaky total [x] ü", Fate::Flaky),
        playwright("always fails", Fate::Fails),
    ]
}

/// How often each key was logged in `<state>/<suite>.log`.
fn executions(state: &Path, suite: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    if let Ok(text) = std::fs::read_to_string(state.join(format!("{suite}.log"))) {
        for line in text.lines() {
            *counts.entry(line.to_string()).or_default() += 1;
        }
    }
    counts
}

/// The executions `expected` says each test of `suite` has after `runs(fate)` runs.
fn expected_executions(suite: &str, runs: impl Fn(Fate) -> usize) -> BTreeMap<String, usize> {
    expected()
        .into_iter()
        .filter(|test| test.suite == suite && runs(test.fate) > 0)
        .map(|test| (test.key, runs(test.fate)))
        .collect()
}

fn state_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("qaagent-retry-state-")
        .tempdir()
        .expect("tempdir")
}

fn record_for<'a>(records: &'a [Value], suite: &str, selector: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["suite_name"] == suite && r["metadata"]["selector"] == selector)
        .unwrap_or_else(|| panic!("no {suite} record with selector {selector:?} in {records:#?}"))
}

/// Runs the fixture with `--retries 2 --junit reports/junit.xml` plus
/// `extra`, and checks everything the issue asks of such a run.
fn retries_end_to_end(extra: &[&str]) {
    let project = fixture("retry-project");
    let state = state_dir();
    let run = Qaagent::new(project.path())
        .env("RETRY_STATE_DIR", state.path())
        .args(["run-all", "--retries", "2", "--junit", "reports/junit.xml"])
        .args(extra)
        .run();
    assert_eq!(run.code(), 1, "always-failing tests fail the run\n{}", run.describe());
    let stdout = squash(&run.stdout());

    // Only failures ran again: 8 then 2 of unit, 3 then 1 of behave and of e2e.
    for (suite, attempt, selected) in [
        ("unit", 2, 8),
        ("unit", 3, 2),
        ("behave", 2, 3),
        ("behave", 3, 1),
        ("e2e", 2, 3),
        ("e2e", 3, 1),
    ] {
        let line = format!("RETRY {suite} attempt {attempt}: {selected} test");
        assert!(stdout.contains(&line), "missing {line:?}\n{}", run.describe());
    }
    assert!(!stdout.contains("attempt 4"), "{stdout}");

    // Executions counted by the tests themselves: passing tests ran exactly once.
    let runs = |fate: Fate| fate.with_two_retries().3;
    for suite in ["unit", "behave", "e2e"] {
        assert_eq!(
            executions(state.path(), suite),
            expected_executions(suite, runs),
            "{suite} executions\n{}",
            run.describe()
        );
    }

    // Evidence: each test's final status, attempts, flaky flag and exact selector.
    let records = run.records();
    assert_eq!(records.len(), expected().len(), "{records:#?}");
    for test in expected() {
        let (status, attempts, flaky, _) = test.fate.with_two_retries();
        let record = record_for(&records, test.suite, &test.selector);
        assert_eq!(record["status"], status, "{record:#}");
        assert_eq!(record["metadata"]["attempts"], attempts, "{record:#}");
        assert_eq!(record["metadata"]["flaky"], flaky, "{record:#}");
        assert_eq!(record["tags"] == serde_json::json!(["flaky"]), flaky, "{record:#}");
        let prior = record["metadata"]["previous_failures"].as_array().map_or(0, Vec::len);
        let failed_runs = match test.fate {
            Fate::Flaky => 1,
            Fate::Fails | Fate::Errors => 2,
            Fate::Passes | Fate::Skipped => 0,
        };
        assert_eq!(prior, failed_runs, "{record:#}");
        if test.fate == Fate::Flaky {
            // `FLAKY suite selector — …`, with the test's name after a selector
            // that lacks it (behave's file:LINE).
            let start = format!("FLAKY {} {}", test.suite, test.selector);
            let listed = stdout.lines().map(str::trim).any(|line| {
                line.strip_prefix(&start)
                    .is_some_and(|rest| rest.starts_with(" — ") || rest.starts_with(" ("))
                    && line.ends_with("— passed on attempt 2 of 3")
            });
            assert!(listed, "missing {start:?} … passed on attempt 2 of 3\n{stdout}");
        }
    }
    let flaky_lines = stdout.lines().filter(|l| l.trim_start().starts_with("FLAKY")).count();
    assert_eq!(flaky_lines, 10, "{stdout}");

    let manifest = run.manifest();
    let counts = &manifest["counts"];
    assert_eq!(counts["tests"], 23, "{counts:#}");
    assert_eq!(counts["tests_passed"], 18, "{counts:#}");
    assert_eq!(counts["tests_failed"], 4, "failed plus errored: {counts:#}");
    assert_eq!(counts["tests_errors"], 1, "{counts:#}");
    assert_eq!(counts["tests_skipped"], 1, "{counts:#}");
    assert_eq!(counts["tests_flaky"], 10, "{counts:#}");
    let suites = manifest["suites"].as_array().expect("suites");
    let by_suite: Vec<(&str, u64, u64)> = suites
        .iter()
        .map(|s| {
            (
                s["name"].as_str().expect("name"),
                s["attempts"].as_u64().expect("attempts"),
                s["flaky"].as_u64().expect("flaky"),
            )
        })
        .collect();
    assert_eq!(by_suite, [("unit", 3, 6), ("behave", 3, 2), ("e2e", 3, 2)]);

    // Each retry's own reports and logs are kept beside the first attempt's.
    let artifacts = run.run_dir().join("artifacts");
    for attempt in ["attempt-2", "attempt-3"] {
        for file in [
            "unit/{a}/junit.xml",
            "behave/{a}/junit/TESTS-retry.xml",
            "e2e/{a}/junit.xml",
            "unit/{a}/stdout.log",
            "behave/{a}/stdout.log",
            "e2e/{a}/stdout.log",
            "e2e/{a}/test-list.txt",
        ] {
            let path = artifacts.join(file.replace("{a}", attempt));
            assert!(path.is_file(), "{} is kept", path.display());
        }
    }
    assert!(!artifacts.join("unit/attempt-4").exists());
    let listed = suites[0]["artifacts"].as_array().expect("artifacts");
    assert!(
        listed.iter().any(|a| a == "artifacts/unit/attempt-2/junit.xml"),
        "{listed:?}"
    );
    // The retry of unit selected exactly the failures, weird ids included.
    let retry_junit = std::fs::read_to_string(artifacts.join("unit/attempt-2/junit.xml")).expect("junit");
    assert_eq!(retry_junit.matches("<testcase ").count(), 8, "{retry_junit}");

    // The merged JUnit report, written relative to qaagent's working directory.
    let xml = std::fs::read_to_string(project.path().join("reports/junit.xml")).expect("--junit file written");
    check_junit(&xml);

    // Rendered again later from the stored run, it is the same report.
    let shown = Qaagent::with_runs_dir(project.path(), run.runs_dir.path())
        .args(["runs", "show", "latest", "--junit", "reports/again.xml"])
        .run();
    assert_eq!(shown.code(), 0, "{}", shown.describe());
    let again = std::fs::read_to_string(project.path().join("reports/again.xml")).expect("runs show --junit");
    assert_eq!(again, xml);
}

/// The merged JUnit report: every case once, flaky ones with their failed
/// attempt as flakyFailure/flakyError, always-failing ones with rerunFailure/rerunError.
fn check_junit(xml: &str) {
    let report = Report::deserialize_from_str(xml).expect("the --junit file is JUnit XML");
    assert_eq!(
        (report.tests, report.failures, report.errors, report.skipped),
        (23, 3, 1, 1),
        "{xml}"
    );
    let names: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["unit", "behave", "e2e"]);
    let mut seen = 0;
    for test in expected() {
        let suite = report
            .test_suites
            .iter()
            .find(|s| s.name.as_str() == test.suite)
            .expect("suite");
        // The JUnit name is the selector's last part (after `::` or ` › `), or a behave scenario name.
        let case = suite
            .test_cases
            .iter()
            .find(|c| junit_selector(test.suite, c) == test.selector)
            .unwrap_or_else(|| panic!("no testcase for {} in {xml}", test.selector));
        seen += 1;
        match (&case.status, test.fate) {
            (TestCaseStatus::Success { flaky_runs }, Fate::Passes) => assert!(flaky_runs.is_empty()),
            (TestCaseStatus::Success { flaky_runs }, Fate::Flaky) => {
                assert_eq!(flaky_runs.len(), 1, "{}", test.selector);
                let kind = if test.selector.ends_with("test_flaky_setup") {
                    NonSuccessKind::Error
                } else {
                    NonSuccessKind::Failure
                };
                assert_eq!(flaky_runs[0].kind, kind, "{}", test.selector);
            }
            (TestCaseStatus::NonSuccess { kind, reruns, .. }, Fate::Fails | Fate::Errors) => {
                let expected_kind = if test.fate == Fate::Errors {
                    NonSuccessKind::Error
                } else {
                    NonSuccessKind::Failure
                };
                assert_eq!(*kind, expected_kind, "{}", test.selector);
                assert_eq!(reruns.kind, quick_junit::FlakyOrRerun::Rerun);
                assert_eq!(reruns.runs.len(), 2, "{}", test.selector);
                assert!(reruns.runs.iter().all(|r| r.kind == expected_kind), "{}", test.selector);
            }
            (TestCaseStatus::Skipped { .. }, Fate::Skipped) => {}
            (status, fate) => panic!("{}: {fate:?} but {status:?}", test.selector),
        }
    }
    assert_eq!(seen, 23);
    let count = |needle: &str| xml.matches(needle).count();
    assert_eq!(
        (
            count("<flakyFailure"),
            count("<flakyError"),
            count("<rerunFailure"),
            count("<rerunError")
        ),
        (9, 1, 6, 2),
        "{xml}"
    );
}

/// Rebuilds a case's selector from the merged JUnit the way each runner does.
fn junit_selector(suite: &str, case: &quick_junit::TestCase) -> String {
    let classname = case.classname.as_deref().unwrap_or_default();
    let file = case.extra.get("file").map(|f| f.as_str()).unwrap_or_default();
    match suite {
        "unit" => {
            let class = classname.strip_prefix("tests.unit.test_retry").unwrap_or_default();
            let class = class.trim_start_matches('.');
            if class.is_empty() {
                format!("{file}::{}", case.name.as_str())
            } else {
                format!("{file}::{class}::{}", case.name.as_str())
            }
        }
        // behave: scenario names are unique in the fixture; map them to their lines.
        "behave" => {
            let line = match case.name.as_str().trim_end() {
                "Passing scenario" => 3,
                "Flaky scenario" => 7,
                "Failing scenario" => 11,
                name if name.starts_with("Outline steady") => 21,
                name if name.starts_with("Outline flaky") => 22,
                other => panic!("unexpected behave case {other:?}"),
            };
            format!("{file}:{line}")
        }
        // The class name holds the project: `[chromium] › retry.spec.ts`.
        _ => format!("{classname} › {}", case.name.as_str()),
    }
}

#[test]
fn retries_rerun_only_failures_sequentially() {
    retries_end_to_end(&[]);
}

#[test]
fn retries_rerun_only_failures_in_parallel() {
    retries_end_to_end(&["--parallel"]);
}

/// The manifest and records of the newest run in `run`'s runs root.
fn newest(run: &RunOutput) -> (Value, Vec<Value>) {
    let dir = run.run_dirs().pop().expect("a run");
    (
        read_json(&dir.join("manifest.json")),
        read_jsonl(&dir.join("evidence/tests.jsonl")),
    )
}

#[test]
fn rerun_failed_runs_exactly_the_failures_of_a_run() {
    let project = fixture("retry-project");
    let state = state_dir();
    let first = Qaagent::new(project.path())
        .env("RETRY_STATE_DIR", state.path())
        .args(["run-all", "--retries", "1"])
        .run();
    assert_eq!(first.code(), 1, "{}", first.describe());
    let first_id = first
        .run_dir()
        .file_name()
        .expect("run id")
        .to_string_lossy()
        .into_owned();
    let after_first = |fate: Fate| match fate {
        Fate::Passes => 1,
        Fate::Flaky | Fate::Fails | Fate::Errors => 2,
        Fate::Skipped => 0,
    };

    // `--rerun-failed` alone means the latest run.
    let second = Qaagent::with_runs_dir(project.path(), first.runs_dir.path())
        .env("RETRY_STATE_DIR", state.path())
        .args(["run-all", "--rerun-failed"])
        .run();
    assert_eq!(second.code(), 1, "the failures still fail\n{}", second.describe());
    let stdout = squash(&second.stdout());
    assert!(
        stdout.contains(&format!("re-running 4 failed tests of run {first_id}")),
        "{}",
        second.describe()
    );
    let failing = |fate: Fate| matches!(fate, Fate::Fails | Fate::Errors);
    for suite in ["unit", "behave", "e2e"] {
        let once_more = |fate: Fate| after_first(fate) + usize::from(failing(fate));
        assert_eq!(
            executions(state.path(), suite),
            expected_executions(suite, once_more),
            "{suite}: only the failures ran again\n{}",
            second.describe()
        );
    }
    assert_eq!(second.run_dirs().len(), 2);
    let (manifest, records) = newest(&second);
    assert_eq!(manifest["counts"]["tests"], 4, "{manifest:#}");
    let mut selectors: Vec<String> = records
        .iter()
        .map(|r| r["metadata"]["selector"].as_str().expect("selector").to_string())
        .collect();
    selectors.sort();
    let mut wanted: Vec<String> = expected()
        .into_iter()
        .filter(|t| failing(t.fate))
        .map(|t| t.selector)
        .collect();
    wanted.sort();
    assert_eq!(selectors, wanted);
    assert!(records.iter().all(|r| r["metadata"]["attempts"] == 1));

    // An explicit run id, narrowed by --suite: the other suites' failures are mentioned, not run.
    let third = Qaagent::with_runs_dir(project.path(), first.runs_dir.path())
        .env("RETRY_STATE_DIR", state.path())
        .args(["run-all", "--rerun-failed", &first_id, "--suite", "unit"])
        .run();
    assert_eq!(third.code(), 1, "{}", third.describe());
    assert!(
        third.stderr().contains("not re-running suite `behave`"),
        "{}",
        third.describe()
    );
    let twice_more = |fate: Fate| after_first(fate) + 2 * usize::from(failing(fate));
    assert_eq!(
        executions(state.path(), "unit"),
        expected_executions("unit", twice_more)
    );
    let (manifest, _) = newest(&third);
    assert_eq!(manifest["suite_order"], serde_json::json!(["unit"]));

    // A failed suite the config no longer has, without --suite: re-running
    // the others cannot clear it. Before, a warning and exit 0 when they
    // passed (a hostile try, 13a #9).
    let config = project.path().join(".qaagent.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    let removed = (text.replace("[tests.behave]\npath = \"features\"\n", ""))
        .replace(r#"["unit", "behave", "e2e"]"#, r#"["unit", "e2e"]"#);
    assert!(
        !removed.contains("[tests.behave]") && !removed.contains("\"behave\""),
        "{removed}"
    );
    std::fs::write(&config, removed).expect("config");
    let fourth = Qaagent::with_runs_dir(project.path(), first.runs_dir.path())
        .env("RETRY_STATE_DIR", state.path())
        .args(["run-all", "--rerun-failed", &first_id])
        .run();
    assert_eq!(fourth.code(), 2, "{}", fourth.describe());
    assert!(
        squash(&fourth.stderr()).contains("suite(s) behave failed in run"),
        "{}",
        fourth.describe()
    );
}

#[test]
fn rerun_failed_of_a_passing_run_has_nothing_to_do() {
    let project = fixture("pytest-project");
    let first = Qaagent::new(project.path())
        .args(["run-all", "--suite", "passing"])
        .run();
    assert_eq!(first.code(), 0, "{}", first.describe());
    let run_id = first.run_dir().file_name().expect("id").to_string_lossy().into_owned();
    let again = Qaagent::with_runs_dir(project.path(), first.runs_dir.path())
        .args(["run-all", "--rerun-failed", "latest"])
        .run();
    assert_eq!(again.code(), 0, "{}", again.describe());
    assert!(
        again
            .stdout()
            .contains(&format!("nothing to re-run: run {run_id} had no failures")),
        "{}",
        again.describe()
    );
    assert_eq!(again.run_dirs().len(), 1, "no new run is recorded");

    let missing = Qaagent::with_runs_dir(project.path(), first.runs_dir.path())
        .args(["run-all", "--rerun-failed", "20000101_000000Z"])
        .run();
    assert_eq!(missing.code(), 2, "{}", missing.describe());
    assert!(missing.stderr().contains("20000101_000000Z"), "{}", missing.describe());
}

/// A `--junit` destination that cannot be written is a usage error before
/// anything runs, not a surprise after every suite has.
#[test]
fn unwritable_junit_destination_is_refused_before_running() {
    let project = fixture("retry-project");
    let state = state_dir();
    let run = Qaagent::new(project.path())
        .env("RETRY_STATE_DIR", state.path())
        .args(["run-all", "--junit", ".qaagent.toml/junit.xml"])
        .run();
    assert_eq!(run.code(), 2, "{}", run.describe());
    assert!(
        run.stderr()
            .contains("--junit .qaagent.toml/junit.xml: cannot create .qaagent.toml: "),
        "{}",
        run.describe()
    );
    assert!(run.run_dirs().is_empty(), "no run was started: {}", run.describe());
    assert_eq!(
        std::fs::read_dir(state.path()).map_or(0, |entries| entries.count()),
        0,
        "no test ran"
    );

    // A link or a directory where the report goes is not replaced.
    let victim = project.path().join("victim.txt");
    std::fs::write(&victim, "keep me").expect("victim");
    std::os::unix::fs::symlink(&victim, project.path().join("link.xml")).expect("symlink");
    std::fs::create_dir(project.path().join("dir.xml")).expect("dir");
    for destination in ["link.xml", "dir.xml"] {
        let run = Qaagent::new(project.path())
            .env("RETRY_STATE_DIR", state.path())
            .args(["run-all", "--junit", destination])
            .run();
        assert_eq!(run.code(), 2, "{}", run.describe());
        assert!(
            run.stderr()
                .contains(&format!("--junit {destination}: not a regular file")),
            "{}",
            run.describe()
        );
    }
    assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "keep me");
    assert!(project.path().join("link.xml").is_symlink());
}

/// `--rerun-failed` naming a run whose failed suites this config does not
/// have (another project's run, in a shared runs root): a usage error, not
/// a run of nothing. `latest` is never another project's run.
#[test]
fn rerun_failed_of_another_projects_run_is_a_usage_error() {
    let other = fixture("pytest-project");
    let first = Qaagent::new(other.path()).args(["run-all", "--suite", "failing"]).run();
    assert_eq!(first.code(), 1, "{}", first.describe());

    let project = fixture("retry-project");
    let state = state_dir();
    let latest = Qaagent::with_runs_dir(project.path(), first.runs_dir.path())
        .env("RETRY_STATE_DIR", state.path())
        .args(["run-all", "--rerun-failed"])
        .run();
    assert_eq!(latest.code(), 2, "{}", latest.describe());
    assert!(
        latest.stderr().contains("no runs of the project"),
        "{}",
        latest.describe()
    );
    let other_run = first.run_dir();
    let other_id = other_run.file_name().expect("run id").to_string_lossy();
    let rerun = Qaagent::with_runs_dir(project.path(), first.runs_dir.path())
        .env("RETRY_STATE_DIR", state.path())
        .args(["run-all", "--rerun-failed", &other_id])
        .run();
    assert_eq!(rerun.code(), 2, "{}", rerun.describe());
    let stderr = rerun.stderr();
    assert!(stderr.contains("tested project"), "{}", rerun.describe());
    assert!(
        stderr.contains("none of the suites that failed in run") && stderr.contains("(failing) is planned here"),
        "{}",
        rerun.describe()
    );
    assert!(!rerun.stdout().contains("re-running"), "{}", rerun.describe());
    assert_eq!(rerun.run_dirs().len(), 1, "no new run: {}", rerun.describe());
}

/// A test that fails, then skips itself when run again (the resource it
/// broke is gone) never passed: it is failed with its first run's failure,
/// the run fails and says why, and `--junit` keeps the failure, whether
/// qaagent or the tool itself ran it again (hostile try: `skipped, attempts
/// 2`, the run passed and the JUnit report lost the failure).
#[test]
fn a_test_that_failed_then_was_skipped_on_a_retry_fails_the_run() {
    const TESTS: &str = "import os, pytest\n\nMARK = os.path.join(os.path.dirname(__file__), 'ran-once')\n\n\
        def test_ok():\n    pass\n\n\
        def test_flip():\n    if os.path.exists(MARK):\n        pytest.skip('resource gone')\n    \
        open(MARK, 'w').close()\n    assert False, 'real failure'\n";
    // The plugin's report keeps no details of the run it repeated.
    for (how, settings, failure) in [
        (
            "qaagent's retry",
            "[run]\nretry_count = 1\n[tests.unit]\npath = \"tests\"\n",
            "real failure",
        ),
        (
            "pytest-rerunfailures",
            "[tests.unit]\npath = \"tests\"\nargs = [\"--reruns\", \"1\"]\n",
            "pytest-rerunfailures ran it again",
        ),
    ] {
        let config = format!("[project]\nname = \"flip\"\n{settings}");
        let project = qaagent_tests::project_with(
            "fail-then-skip",
            &[(".qaagent.toml", &config), ("tests/test_flip.py", TESTS)],
        );
        let run = Qaagent::new(project.path())
            .args(["run-all", "--no-progress", "--junit", "junit.xml"])
            .run();
        assert_eq!(run.code(), 1, "{how}: it never passed\n{}", run.describe());
        assert!(
            run.stdout().contains(
                "tests/test_flip.py::test_flip failed, then was skipped when run again (resource gone): \
                 it never passed, so it counts as failed"
            ),
            "{how}\n{}",
            run.describe()
        );
        let records = run.records();
        let flip = record_for(&records, "unit", "tests/test_flip.py::test_flip");
        let verdict = qaagent_tests::verdict(flip);
        assert_eq!(verdict, serde_json::json!(["failed", 2, false]), "{how}: {flip:#}");
        let message = flip["error_message"].as_str().unwrap_or_default();
        assert!(message.contains(failure), "{how}: {flip:#}");
        let report =
            Report::deserialize_from_str(&qaagent_tests::read_text(&project.path().join("junit.xml"))).expect("junit");
        let case = (report.test_suites.iter())
            .flat_map(|suite| suite.test_cases.iter())
            .find(|case| case.name.as_str() == "test_flip")
            .expect("test_flip in the JUnit report");
        match &case.status {
            TestCaseStatus::NonSuccess { kind, message, .. } => {
                assert_eq!(*kind, NonSuccessKind::Failure, "{how}");
                assert!(
                    message.as_ref().is_some_and(|m| m.as_str().contains(failure)),
                    "{how}: {message:?}"
                );
            }
            other => panic!("{how}: test_flip is {other:?} in the JUnit report"),
        }
    }
}

/// The same with behave: a scenario that fails, then skips itself on the
/// retry (`context.scenario.skip`).
#[test]
fn a_behave_scenario_failed_then_skipped_on_a_retry_stays_failed() {
    const STEPS: &str = "import os\nfrom behave import then\n\nMARK = os.path.join(os.path.dirname(__file__), 'ran-once')\n\n\
        @then('it passes')\ndef passes(context):\n    pass\n\n\
        @then('it fails, then skips')\ndef flip(context):\n    if os.path.exists(MARK):\n        \
        context.scenario.skip('resource gone')\n        return\n    open(MARK, 'w').close()\n    assert False, 'real failure'\n";
    let project = qaagent_tests::project_with(
        "behave-fail-then-skip",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"flip\"\n[run]\nretry_count = 1\n[tests.behave]\npath = \"features\"\n",
            ),
            (
                "features/flip.feature",
                "Feature: F\n  Scenario: flip\n    Then it fails, then skips\n\n  Scenario: ok\n    Then it passes\n",
            ),
            ("features/steps/steps.py", STEPS),
        ],
    );
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 1, "it never passed\n{}", run.describe());
    let records = run.records();
    let flip = record_for(&records, "behave", "features/flip.feature:2");
    assert_eq!(
        qaagent_tests::verdict(flip),
        serde_json::json!(["failed", 2, false]),
        "{flip:#}"
    );
    let message = flip["error_message"].as_str().unwrap_or_default();
    assert!(message.contains("real failure"), "{flip:#}");
    assert!(
        run.stdout()
            .contains("features/flip.feature:2 failed, then was skipped when run again"),
        "{}",
        run.describe()
    );
}

/// A command suite's tool that reports a failing test, then skips it when
/// asked to run it again: failed, as with pytest above.
#[test]
fn a_command_suites_test_failed_then_skipped_stays_failed() {
    let retried = r#"<testcase classname="c" name="b"><skipped message="gone"/></testcase>"#;
    let (run, records) = run_command_suite("cmd-fail-then-skip", retried);
    assert_eq!(run.code(), 1, "{}", run.describe());
    let statuses: Vec<(&str, &str, u64)> = records.iter().map(status_of).collect();
    assert_eq!(statuses, [("a", "passed", 1), ("b", "failed", 2)], "{records:#?}");
    assert_eq!(records[1]["error_message"], "b broke", "{:#}", records[1]);
    assert!(
        run.stdout()
            .contains("b failed, then was skipped when run again (gone)"),
        "{}",
        run.describe()
    );
}

/// A retry whose report has the retried test twice, failing then passing:
/// each row is a test, as in a first attempt, so a failing row keeps the run
/// failed and no attempt count exceeds the attempts made (hostile try: PASSED,
/// "1 flaky", "passed on attempt 3" after 2 attempts).
#[test]
fn a_retry_reporting_a_test_twice_keeps_its_failing_row() {
    let retried =
        r#"<testcase classname="c" name="b"><failure message="again"/></testcase><testcase classname="c" name="b"/>"#;
    let (run, records) = run_command_suite("cmd-dup-rows", retried);
    assert_eq!(run.code(), 1, "{}", run.describe());
    let statuses: Vec<(&str, &str, u64)> = records.iter().map(status_of).collect();
    assert_eq!(
        statuses,
        [("a", "passed", 1), ("b", "failed", 2), ("b", "passed", 1)],
        "{records:#?}"
    );
    assert!(records.iter().all(|r| r["metadata"]["flaky"] == false), "{records:#?}");
    let stdout = squash(&run.stdout());
    assert!(!stdout.contains("FLAKY c") && !stdout.contains("attempt 3"), "{stdout}");
}

/// A retry that runs more than it was asked (a name filter matching other
/// tests) and reports one of those failing: the failure is kept, for a test
/// that passed before and for one never seen (hostile try: PASSED, the
/// failing tests nowhere in the evidence).
#[test]
fn a_retry_reporting_failures_it_was_not_asked_to_run_keeps_them() {
    let retried = r#"<testcase classname="c" name="b"/><testcase classname="c" name="a"><failure message="a broke now"/></testcase><testcase classname="c" name="z"><failure message="new"/></testcase><testcase classname="c" name="y"/>"#;
    let (run, records) = run_command_suite("cmd-unasked-failures", retried);
    assert_eq!(run.code(), 1, "{}", run.describe());
    let statuses: Vec<(&str, &str, u64)> = records.iter().map(status_of).collect();
    assert_eq!(
        statuses,
        [("a", "failed", 2), ("b", "passed", 2), ("z", "failed", 1)],
        "{records:#?}"
    );
}

/// Runs a command suite with one retry whose tool reports `a` passing and
/// `b` failing, then, run again, the test cases `retried`; the run's output
/// and records.
fn run_command_suite(prefix: &str, retried: &str) -> (RunOutput, Vec<Value>) {
    let first =
        r#"<testcase classname="c" name="a"/><testcase classname="c" name="b"><failure message="b broke"/></testcase>"#;
    let tool = format!(
        "#!/bin/sh\nif [ -e ran-once ]; then cases='{retried}'; else cases='{first}'; fi\ntouch ran-once\n\
         echo \"<testsuite name='s'>$cases</testsuite>\" > \"$1\"\n! grep -q '<failure' \"$1\"\n"
    );
    let config = "[project]\nname = \"c\"\n[run]\nretry_count = 1\n[tests.c]\nrunner = \"command\"\npath = \"t\"\n\
                  command = [\"./tool.sh\", \"{junit}\"]\nrerun = [\"--only\", \"{selectors}\"]\n";
    let project = qaagent_tests::project_with(
        prefix,
        &[(".qaagent.toml", config), ("tool.sh", &tool), ("t/.keep", "")],
    );
    let script = project.path().join("tool.sh");
    let mut permissions = std::fs::metadata(&script).expect("tool").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&script, permissions).expect("chmod");
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    let records = run.records();
    (run, records)
}

fn status_of(record: &Value) -> (&str, &str, u64) {
    (
        record["name"].as_str().unwrap_or_default(),
        record["status"].as_str().unwrap_or_default(),
        record["metadata"]["attempts"].as_u64().unwrap_or_default(),
    )
}

/// `retry_on = ["environment"]` retries a suite whose tool crashed (a suite
/// error, of category `environment`) though its report names an assertion
/// failure: the whole suite, as its tool did not finish. Before, it ran
/// once and the note blamed the assertion (a hostile try, 13a #12).
#[test]
fn retry_on_environment_retries_a_crashed_suite_that_named_a_failure() {
    let tool = "echo run >> calls.log\nprintf '<testsuite name=\"s\" tests=\"2\" failures=\"1\"><testcase classname=\"c\" name=\"a\"><failure message=\"AssertionError: assert 1 == 2\">x</failure></testcase><testcase classname=\"c\" name=\"b\"/></testsuite>' > \"$1\"\nexit 3\n";
    let config = "[project]\nname = \"retryon\"\n\n[run]\nretry_count = 2\nretry_on = [\"environment\"]\n\n\
                  [tests.cmd]\nrunner = \"command\"\npath = \".\"\ncommand = [\"sh\", \"tool.sh\", \"{junit}\"]\nrerun = [\"{selectors}\"]\n";
    let project = qaagent_tests::project_with("retry-on-env", &[(".qaagent.toml", config), ("tool.sh", tool)]);
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let calls = std::fs::read_to_string(project.path().join("calls.log")).expect("calls");
    assert_eq!(calls.lines().count(), 3, "{}", run.describe());
    assert!(
        squash(&run.stdout()).contains("RETRY cmd attempt 2: the whole suite"),
        "{}",
        run.describe()
    );
    assert!(!run.stdout().contains("not retried"), "{}", run.describe());
}
