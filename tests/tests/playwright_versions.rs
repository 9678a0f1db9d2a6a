//! Playwright Test across versions, through the real `qaagent` binary:
//!
//! - `tests/fixtures/playwright-old` pins @playwright/test 1.52, which has no
//!   `--test-list` and no `--add-reporter`: retries and `--rerun-failed`
//!   re-run exactly the failed tests, selected by `file:line:column`, and the
//!   config's reporters that `--reporter` replaces are named in a warning;
//! - `tests/fixtures/playwright-basic` (1.65) keeps the config's reporters,
//!   with its HTML report in the suite's artifacts, not in the project;
//! - `config check` states the minimum version and flags older ones, and a
//!   run refuses a too-old Playwright with a suite error saying so.

use std::collections::BTreeMap;
use std::path::Path;

use qaagent_tests::{fixture, project_with, record_by_selector, tree_listing, Qaagent};
use serde_json::Value;

const FLAKY: &str = "[chromium] › shop.spec.ts › cart › works";
const FAILS: &str = "[chromium] › shop.spec.ts › always fails";
const SAME_TITLE: &str = "[chromium] › shop.spec.ts › orders › works";

fn state_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("qaagent-pw-versions-state-")
        .tempdir()
        .expect("tempdir")
}

/// How many times each test of the old fixture ran, by the key it records.
fn executions(state: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    if let Ok(text) = std::fs::read_to_string(state.join("e2e.log")) {
        for line in text.lines() {
            *counts.entry(line.to_string()).or_default() += 1;
        }
    }
    counts
}

/// Asserts that `output` contains each of `parts`.
fn assert_says(output: &str, parts: &[&str]) {
    for part in parts {
        assert!(output.contains(part), "no {part:?} in\n{output}");
    }
}

/// The executions after one re-run of the failures: only the two failing
/// tests ran again, not the test sharing a title with one of them.
fn failures_twice_the_rest_once() -> BTreeMap<String, usize> {
    [
        ("steady page", 1),
        ("cart › works", 2),
        ("orders › works", 1),
        ("always fails", 2),
    ]
    .into_iter()
    .map(|(key, n)| (key.to_string(), n))
    .collect()
}

#[test]
fn old_playwright_retries_exactly_the_failed_tests_by_location() {
    let project = fixture("playwright-old");
    let before = tree_listing(project.path());
    let state = state_dir();
    let run = Qaagent::new(project.path())
        .env("RETRY_STATE_DIR", state.path())
        .args(["run-all", "--retries", "1"])
        .run();
    assert_eq!(run.code(), 1, "one test always fails\n{}", run.describe());
    assert!(!run.stdout().contains("unknown option"), "{}", run.describe());
    assert_eq!(
        executions(state.path()),
        failures_twice_the_rest_once(),
        "only the two failures ran again; the test sharing a title with one did not\n{}",
        run.describe()
    );
    let records = run.records();
    assert_eq!(records.len(), 4, "{records:#?}");
    let flaky = record_by_selector(&records, FLAKY);
    assert_eq!(flaky["status"], "passed", "{flaky:#}");
    assert_eq!(flaky["metadata"]["flaky"], true, "{flaky:#}");
    assert_eq!(flaky["metadata"]["attempts"], 2, "{flaky:#}");
    let fails = record_by_selector(&records, FAILS);
    assert_eq!(fails["status"], "failed", "{fails:#}");
    assert_eq!(fails["metadata"]["attempts"], 2, "{fails:#}");
    assert_eq!(record_by_selector(&records, SAME_TITLE)["metadata"]["attempts"], 1);

    let attempt = run.run_dir().join("artifacts/e2e/attempt-2");
    assert!(
        attempt.join("test-locations.json").is_file(),
        "the retry listed the suite"
    );
    assert!(!attempt.join("test-list.txt").exists(), "1.52 has no --test-list");
    // The config's HTML reporter was replaced: said once, by name.
    let stderr = run.stderr();
    assert_eq!(stderr.matches("has no --add-reporter").count(), 1, "{stderr}");
    assert!(stderr.contains("replaces its reporter(s) html"), "{stderr}");
    assert_eq!(tree_listing(project.path()), before, "the project tree is unchanged");
}

#[test]
fn old_playwright_rerun_failed_reruns_only_the_failures() {
    let project = fixture("playwright-old");
    let state = state_dir();
    let first = Qaagent::new(project.path())
        .env("RETRY_STATE_DIR", state.path())
        .args(["run-all"])
        .run();
    assert_eq!(first.code(), 1, "{}", first.describe());
    let second = Qaagent::with_runs_dir(project.path(), first.runs_dir.path())
        .env("RETRY_STATE_DIR", state.path())
        .args(["run-all", "--rerun-failed"])
        .run();
    assert_eq!(second.code(), 1, "one test still fails\n{}", second.describe());
    assert_eq!(
        executions(state.path()),
        failures_twice_the_rest_once(),
        "{}",
        second.describe()
    );
    let run_dir = second.run_dirs().pop().expect("the re-run");
    let records: Vec<Value> = qaagent_tests::read_jsonl(&run_dir.join("evidence/tests.jsonl"));
    let mut statuses: Vec<(String, String)> = records
        .iter()
        .map(|r| (r["metadata"]["selector"].to_string(), r["status"].to_string()))
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [
            (format!("{FAILS:?}"), "\"failed\"".to_string()),
            (format!("{FLAKY:?}"), "\"passed\"".to_string()),
        ]
    );
}

#[test]
fn the_configs_reporters_are_kept_with_their_reports_in_the_artifacts() {
    // The fixture's reporter: [['html', { open: 'never' }], ['junit', { outputFile: … }]];
    // made harder here: an HTML report that would open a server and hold the
    // run, and reports with folders of their own in the project.
    let project = fixture("playwright-basic");
    let config = project.path().join("e2e/playwright.config.ts");
    let text = std::fs::read_to_string(&config).expect("fixture config");
    let reporters = "reporter: [['html', { open: 'always', outputFolder: 'my-report' }], \
                     ['blob', { outputDir: 'my-blob' }], ['junit', { outputFile: 'junit-from-config.xml' }]],";
    let text = text
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("reporter:") {
                reporters
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&config, text).expect("write config");
    let before = tree_listing(project.path());
    let run = Qaagent::new(project.path()).args(["run-all", "--timeout", "240"]).run();
    assert_eq!(run.code(), 1, "one test fails on purpose\n{}", run.describe());
    let artifacts = run.run_dir().join("artifacts/e2e");
    for report in ["playwright-report/index.html", "blob-report/report.zip"] {
        assert!(
            artifacts.join(report).is_file(),
            "the config's {report} is in the suite's artifacts\n{}",
            run.describe()
        );
    }
    assert_eq!(run.records().len(), 7, "qaagent's own reports still read");
    assert_eq!(tree_listing(project.path()), before, "nothing written into the project");
    assert!(!run.stderr().contains("add-reporter"), "{}", run.describe());
    // Its `junit` reporter writes qaagent's report, not `junit-from-config.xml`: said once.
    let stderr = run.stderr();
    assert_eq!(
        stderr.matches("names Playwright's junit reporter").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("not the config's outputFile"), "{stderr}");
}

#[test]
fn config_check_states_the_minimum_version_and_warns_about_an_old_one() {
    let project = fixture("playwright-old");
    let check = Qaagent::new(project.path()).args(["config", "check"]).run();
    assert_eq!(check.code(), 0, "1.52 runs\n{}", check.describe());
    assert_says(
        &check.stdout(),
        &[
            "playwright  1.52.0 (qaagent supports 1.44 or newer)",
            "warning: Playwright 1.52 has no --test-list",
            "warning: Playwright 1.52 has no --add-reporter",
        ],
    );
}

/// A suite whose installed Playwright says it is 1.40.0, as `npm` lays it
/// out (`node_modules/.bin/playwright` linking to the package's `cli.js`);
/// qaagent must read that and stop before starting Node.js.
fn project_with_playwright_1_40() -> tempfile::TempDir {
    let project = project_with(
        "pw-too-old",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"old\"\n\n[tests.e2e]\npath = \"e2e\"\n",
            ),
            (
                "e2e/package.json",
                r#"{"devDependencies": {"@playwright/test": "1.40.0"}}"#,
            ),
            (
                "e2e/node_modules/@playwright/test/package.json",
                r#"{"name": "@playwright/test", "version": "1.40.0"}"#,
            ),
            (
                "e2e/node_modules/@playwright/test/cli.js",
                "#!/usr/bin/env node\nrequire('fs').writeFileSync('started', '');\nprocess.exit(3);\n",
            ),
        ],
    );
    let bin = project.path().join("e2e/node_modules/.bin");
    std::fs::create_dir_all(&bin).expect("mkdir .bin");
    std::os::unix::fs::symlink("../@playwright/test/cli.js", bin.join("playwright")).expect("link");
    project
}

#[test]
fn a_playwright_older_than_the_minimum_is_an_error_in_check_and_run() {
    let project = project_with_playwright_1_40();
    let check = Qaagent::new(project.path()).args(["config", "check"]).run();
    assert_eq!(check.code(), 1, "{}", check.describe());
    assert_says(
        &check.stdout(),
        &[
            "playwright  1.40.0 (qaagent supports 1.44 or newer)",
            "error: Playwright Test 1.40.0 is older than 1.44",
            "1 tool too old",
        ],
    );

    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = run.stdout();
    assert!(
        stdout.contains("Playwright Test 1.40.0 is older than 1.44, the oldest qaagent runs"),
        "{}",
        run.describe()
    );
    assert!(
        !project.path().join("e2e/started").exists(),
        "Playwright was not started"
    );
}
