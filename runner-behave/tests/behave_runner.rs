//! The behave runner against real behave (1.3.3 from the test venv, made by
//! `scripts/setup-test-env.sh`) on the `tests/fixtures/behave-basic` project.
//!
//! What behave itself reports for that fixture is in its `EXPECTED.md`; the
//! tests check the runner's cases against both those numbers and the summary
//! behave prints in the attempt's stdout log.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use runner_api::{Runner, RunnerError, Selection, SuiteContext, SuiteOutcome, SuiteResult, TestStatus};
use runner_behave::BehaveRunner;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crate lives in the workspace")
        .to_path_buf()
}

/// The venv's interpreter: `$QAAGENT_TEST_PYTHON`, else `<repo>/.venv/bin/python`.
fn test_python() -> PathBuf {
    let python = std::env::var_os("QAAGENT_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    assert!(
        python.is_file(),
        "{} not found: run scripts/setup-test-env.sh or set QAAGENT_TEST_PYTHON",
        python.display()
    );
    python
}

fn fixture() -> PathBuf {
    repo_root().join("tests/fixtures/behave-basic")
}

/// A context for the fixture's behave suite, using the test venv, writing into `out`.
fn context(out: &Path) -> SuiteContext {
    let project = fixture();
    let mut ctx = SuiteContext::new("behave", &project, project.join("features"), out);
    ctx.settings.insert(
        "python".into(),
        toml::Value::String(test_python().to_string_lossy().into_owned()),
    );
    ctx.timeout = Some(std::time::Duration::from_secs(120));
    ctx
}

fn run(ctx: &SuiteContext) -> SuiteResult {
    BehaveRunner::new().run(ctx).expect("behave runs")
}

/// Every file below `dir` with its contents.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("readable fixture dir") {
            let path = entry.expect("readable entry").path();
            if path.is_dir() {
                files.insert(path.clone(), Vec::new());
                pending.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).expect("readable fixture file"));
            }
        }
    }
    files
}

/// behave's own scenario summary from the stdout log, e.g. `5 scenarios
/// passed, 2 failed, 1 error, 1 hook_error, 1 skipped`, as status → count.
fn behave_summary(stdout_log: &Path) -> BTreeMap<String, usize> {
    let log = std::fs::read_to_string(stdout_log).expect("stdout log");
    let line = log
        .lines()
        .find(|line| line.contains(" scenarios passed") || line.contains(" scenario passed"))
        .unwrap_or_else(|| panic!("no scenario summary in {}:\n{log}", stdout_log.display()));
    line.split(',')
        .map(|part| {
            let words: Vec<&str> = part.split_whitespace().collect();
            let count = words[0].parse().expect("a count");
            let status = words.last().expect("a status");
            (status.to_string(), count)
        })
        .collect()
}

/// Our four statuses, counted from behave's summary the way its JUnit reports them.
fn summary_as_statuses(summary: &BTreeMap<String, usize>) -> [usize; 4] {
    let get = |key: &str| summary.get(key).copied().unwrap_or(0);
    [
        get("passed"),
        get("failed"),
        get("error") + get("hook_error") + get("undefined") + get("pending"),
        get("skipped") + get("untested"),
    ]
}

fn cases_by_selector(result: &SuiteResult) -> Vec<(String, String, TestStatus)> {
    result
        .cases
        .iter()
        .map(|case| {
            (
                case.selector.clone().unwrap_or_else(|| format!("<none> {}", case.name)),
                case.name.clone(),
                case.status,
            )
        })
        .collect()
}

#[test]
fn full_run_reports_every_scenario_as_behave_does() {
    let out = tempfile::tempdir().expect("temp dir");
    let before = snapshot(&fixture());
    let ctx = context(out.path());
    let result = run(&ctx);

    assert_eq!(result.outcome(), SuiteOutcome::Failed, "{result:#?}");
    assert_eq!(result.return_code, Some(1));
    assert_eq!(result.error, None, "the tool ran fine: {result:#?}");
    assert_eq!(
        cases_by_selector(&result),
        [
            ("features/cart.feature:6", "Single item", TestStatus::Passed),
            ("features/cart.feature:16", "Bulk pricing -- @1.1 ", TestStatus::Passed),
            ("features/cart.feature:17", "Bulk pricing -- @1.2 ", TestStatus::Failed),
            ("features/cart.feature:18", "Bulk pricing -- @1.3 ", TestStatus::Passed),
            ("features/cart.feature:20", "Wrong total", TestStatus::Failed),
            ("features/cart.feature:24", "Discount code", TestStatus::Error),
            ("features/cart.feature:29", "Work in progress", TestStatus::Skipped),
            ("features/cart.feature:34", "Hook trouble", TestStatus::Error),
            (
                "features/env.feature:3",
                "Suite environment reaches the steps",
                TestStatus::Passed
            ),
            ("features/legacy/cart.feature:5", "Single item", TestStatus::Passed),
        ]
        .map(|(selector, name, status)| (selector.to_string(), name.to_string(), status))
    );
    assert_eq!(
        (
            result.passed(),
            result.failed(),
            result.errors(),
            result.skipped_cases()
        ),
        (5, 2, 2, 1)
    );

    // The same numbers behave prints in its own summary.
    let summary = behave_summary(&ctx.stdout_log());
    assert_eq!(
        summary_as_statuses(&summary),
        [
            result.passed(),
            result.failed(),
            result.errors(),
            result.skipped_cases()
        ],
        "behave's summary: {summary:?}"
    );

    // The failing row keeps behave's message; every case knows its file.
    let row = &result.cases[2];
    assert_eq!(row.classname, "cart.Cart pricing");
    assert_eq!(row.message.as_deref(), Some("expected total 99, got 15"));
    assert_eq!(result.cases[9].file.as_deref(), Some("features/legacy/cart.feature"));

    // behave's rerun file names exactly the failed and errored cases.
    let rerun = std::fs::read_to_string(out.path().join("rerun.txt")).expect("rerun file");
    let mut rerun: Vec<&str> = rerun
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .collect();
    rerun.sort_unstable();
    let mut failing: Vec<&str> = result
        .cases
        .iter()
        .filter(|case| case.status.is_failure())
        .filter_map(|case| case.selector.as_deref())
        .collect();
    failing.sort_unstable();
    assert_eq!(rerun, failing);

    // Reports and logs are kept; nothing was written into the project.
    for name in [
        "junit/TESTS-cart.xml",
        "junit/TESTS-env.xml",
        "junit/TESTS-legacy.cart.xml",
        "rerun.txt",
        "behave.json",
        "stdout.log",
    ] {
        let path = out.path().join(name);
        assert!(
            result.artifacts.contains(&path),
            "{name} missing from {:?}",
            result.artifacts
        );
    }
    assert_eq!(snapshot(&fixture()), before, "the run changed the fixture project");
}

#[test]
fn retry_runs_exactly_the_selected_scenarios() {
    let out = tempfile::tempdir().expect("temp dir");
    let mut ctx = context(out.path());
    ctx.attempt = 2;
    ctx.selection = Selection::Only(vec![
        "features/cart.feature:17".into(),
        "features/cart.feature:24".into(),
    ]);
    let result = run(&ctx);

    assert_eq!(
        cases_by_selector(&result),
        [
            ("features/cart.feature:17", "Bulk pricing -- @1.2 ", TestStatus::Failed),
            ("features/cart.feature:24", "Discount code", TestStatus::Error),
        ]
        .map(|(selector, name, status)| (selector.to_string(), name.to_string(), status))
    );
    assert_eq!(result.outcome(), SuiteOutcome::Failed);
    // The undefined step's message comes from behave's "Failing step:" line, not its "None".
    let discount = result
        .cases
        .iter()
        .find(|case| case.name == "Discount code")
        .expect("Discount code");
    assert_eq!(
        discount.message.as_deref(),
        Some("undefined step: When I apply the discount code \"SAVE10\"")
    );

    // behave ran only those two (the other rows of cart.feature are listed
    // as skipped in its JUnit and summary, and not returned as cases).
    let summary = behave_summary(&ctx.stdout_log());
    assert_eq!(summary.get("passed"), Some(&0), "{summary:?}");
    assert_eq!(summary.get("failed"), Some(&1), "{summary:?}");
    assert_eq!(summary.get("error"), Some(&1), "{summary:?}");
    assert_eq!(summary.get("skipped"), Some(&6), "{summary:?}");
    let junit = std::fs::read_to_string(out.path().join("junit/TESTS-cart.xml")).expect("JUnit file");
    assert_eq!(junit.matches("<testcase ").count(), 8);
}

#[test]
fn selecting_a_passing_outline_row_reruns_that_row_only() {
    let out = tempfile::tempdir().expect("temp dir");
    let mut ctx = context(out.path());
    ctx.selection = Selection::Only(vec!["features/cart.feature:18".into()]);
    let result = run(&ctx);

    assert_eq!(
        cases_by_selector(&result),
        [(
            "features/cart.feature:18".to_string(),
            "Bulk pricing -- @1.3 ".to_string(),
            TestStatus::Passed
        )]
    );
    assert_eq!(result.outcome(), SuiteOutcome::Passed, "{result:#?}");
    assert_eq!(result.return_code, Some(0));
    let summary = behave_summary(&ctx.stdout_log());
    assert_eq!(summary.get("passed"), Some(&1), "{summary:?}");
}

#[test]
fn base_url_and_suite_env_reach_the_steps() {
    let out = tempfile::tempdir().expect("temp dir");
    let probe_dir = tempfile::tempdir().expect("temp dir");
    let probe = probe_dir.path().join("env.json");
    let mut ctx = context(out.path());
    ctx.selection = Selection::Only(vec!["features/env.feature:3".into()]);
    ctx.base_url = Some("http://127.0.0.1:8765".into());
    ctx.env.insert("SUITE_FLAVOUR".into(), "vanilla".into());
    ctx.env
        .insert("QAAGENT_ENV_PROBE".into(), probe.to_string_lossy().into_owned());
    let result = run(&ctx);
    assert_eq!(result.outcome(), SuiteOutcome::Passed, "{result:#?}");

    let seen: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&probe).expect("the step wrote the probe")).expect("JSON");
    assert_eq!(seen["BASE_URL"], "http://127.0.0.1:8765");
    assert_eq!(seen["SUITE_FLAVOUR"], "vanilla");
    assert_eq!(
        Path::new(seen["cwd"].as_str().expect("cwd"))
            .canonicalize()
            .expect("cwd exists"),
        fixture().canonicalize().expect("fixture exists"),
        "behave runs in the project dir"
    );
}

#[test]
fn behave_ini_of_the_project_applies() {
    // The fixture's behave.ini excludes @wip; without it the scenario would pass.
    let out = tempfile::tempdir().expect("temp dir");
    let result = run(&context(out.path()));
    let wip = result
        .cases
        .iter()
        .find(|case| case.name == "Work in progress")
        .expect("the @wip scenario is listed");
    assert_eq!(wip.status, TestStatus::Skipped);
}

/// A Python without behave: a fresh venv without pip.
fn python_without_behave(dir: &Path) -> PathBuf {
    let venv = dir.join("venv");
    let status = Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .expect("python3 runs");
    assert!(status.success(), "cannot create a venv");
    venv.join("bin/python")
}

#[test]
fn missing_behave_is_a_tool_error_saying_how_to_install_it() {
    let out = tempfile::tempdir().expect("temp dir");
    let scratch = tempfile::tempdir().expect("temp dir");
    let python = python_without_behave(scratch.path());
    let mut ctx = context(out.path());
    ctx.settings.insert(
        "python".into(),
        toml::Value::String(python.to_string_lossy().into_owned()),
    );

    match BehaveRunner::new().run(&ctx) {
        Err(RunnerError::ToolMissing { tool, hint }) => {
            assert_eq!(tool, "behave");
            assert!(hint.contains("pip install behave"), "{hint}");
            assert!(hint.contains(&python.to_string_lossy().into_owned()), "{hint}");
        }
        other => panic!("expected ToolMissing, got {other:?}"),
    }
    assert_eq!(BehaveRunner::new().tool_version(&ctx), None);
}

#[test]
fn tool_version_is_behaves() {
    let out = tempfile::tempdir().expect("temp dir");
    assert_eq!(
        BehaveRunner::new().tool_version(&context(out.path())).as_deref(),
        Some("1.3.3")
    );
}

#[test]
fn a_missing_suite_path_is_a_suite_error_with_behaves_words() {
    let out = tempfile::tempdir().expect("temp dir");
    let mut ctx = context(out.path());
    ctx.path = fixture().join("no-such-features");
    let result = run(&ctx);
    assert_eq!(result.outcome(), SuiteOutcome::Errored, "{result:#?}");
    assert!(result.cases.is_empty());
    let error = result.error.as_deref().expect("an error");
    assert!(error.contains("wrote no JUnit report"), "{error}");
    let tail = result.log_tail.as_deref().expect("log tail");
    assert!(tail.contains("No steps directory"), "{tail}");
}

#[test]
fn the_demo_suite_passes() {
    let out = tempfile::tempdir().expect("temp dir");
    let project = repo_root().join("examples/demo");
    let mut ctx = SuiteContext::new("behave", &project, project.join("features"), out.path());
    ctx.settings.insert(
        "python".into(),
        toml::Value::String(test_python().to_string_lossy().into_owned()),
    );
    let result = run(&ctx);
    assert_eq!(result.outcome(), SuiteOutcome::Passed, "{result:#?}");
    assert_eq!(
        cases_by_selector(&result),
        [
            ("features/checkout.feature:6", "An empty basket costs nothing"),
            ("features/checkout.feature:9", "Items add up"),
            ("features/checkout.feature:20", "Volume discount -- @1.1 "),
            ("features/checkout.feature:21", "Volume discount -- @1.2 "),
        ]
        .map(|(selector, name)| (selector.to_string(), name.to_string(), TestStatus::Passed))
    );
}

#[test]
fn a_before_all_hook_error_is_a_suite_error_not_a_pass() {
    let out = tempfile::tempdir().expect("temp dir");
    let mut ctx = context(out.path());
    ctx.env.insert("QAAGENT_BREAK_BEFORE_ALL".into(), "1".into());
    let result = run(&ctx);
    assert_eq!(result.outcome(), SuiteOutcome::Errored, "{result:#?}");
    assert_eq!(result.return_code, Some(1));
    // behave lists every scenario as skipped, `status="untested"`: they
    // never ran, which no skipped row may say.
    let [never_ran] = result.cases.as_slice() else {
        panic!("one row for the scenarios that never ran: {:#?}", result.cases)
    };
    assert!(never_ran.is_unnamed_tests(), "{never_ran:#?}");
    let message = never_ran.message.as_deref().unwrap_or_default();
    assert!(message.contains("did not run 10 scenario(s)"), "{message}");
    let tail = result.log_tail.as_deref().expect("log tail");
    assert!(tail.contains("HOOK-ERROR in before_all"), "{tail}");
}
