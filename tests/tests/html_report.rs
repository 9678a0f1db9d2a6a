//! `report.html` opened in headless chromium through Playwright (the node
//! fixture `tests/fixtures/report-viewer`, whose `view.js` says what the page
//! showed): runs of `tests/fixtures/retry-project` (pytest, behave and
//! Playwright suites with failing, flaky and skipped tests, see its
//! EXPECTED.md) plus a pytest test whose name is an HTML injection.
//! Expected values come from the stored records, never from the page.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use qaagent_tests::{fixture, project_with, repo_root, Qaagent, RunOutput};
use serde_json::Value;

/// The name pytest gives the hostile test: it must show as text, never as markup.
const HOSTILE: &str = "test_hostile[</script><img src=x onerror=window.pwned=1>]";

const HOSTILE_TEST: &str = r#"import pytest


@pytest.mark.parametrize("x", [1], ids=["</script><img src=x onerror=window.pwned=1>"])
def test_hostile(x):
    assert x == 2, "<b>not bold</b> & </script>"
"#;

/// What `view.js MODE REPORT` saw.
fn view(mode: &str, report: &Path) -> Value {
    let output = Command::new("node")
        .current_dir(repo_root().join("tests/fixtures/report-viewer"))
        .arg("view.js")
        .arg(mode)
        .arg(report)
        .output()
        .expect("node runs (scripts/setup-test-env.sh installs the viewer's node_modules)");
    assert!(
        output.status.success(),
        "view.js failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("view.js prints JSON")
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

/// A run of the project with retries, in `runs_dir` when given.
fn run(project: &Path, runs_dir: Option<&Path>, state: &Path) -> RunOutput {
    std::fs::create_dir_all(state).expect("state dir");
    let qaagent = match runs_dir {
        Some(dir) => Qaagent::with_runs_dir(project, dir),
        None => Qaagent::new(project),
    };
    let run = qaagent
        .args([
            "run-all",
            "--no-progress",
            "--color",
            "never",
            "--parallel",
            "--retries",
            "2",
        ])
        .env("RETRY_STATE_DIR", state)
        .run();
    assert_eq!(run.code(), 1, "tests fail: {}", run.describe());
    run
}

/// The page loads nothing but `file://` URLs and logs no error.
fn assert_offline_and_clean(seen: &Value) {
    assert_eq!(seen["consoleErrors"], Value::Array(Vec::new()), "{seen}");
    assert_eq!(seen["pageErrors"], Value::Array(Vec::new()), "{seen}");
    let requests = strings(&seen["requests"]);
    assert!(!requests.is_empty(), "{seen}");
    assert!(requests.iter().all(|url| url.starts_with("file://")), "{requests:?}");
}

#[test]
fn the_report_opens_offline_and_shows_attempts_failures_and_history_without_running_injected_markup() {
    let project = fixture("retry-project");
    std::fs::write(project.path().join("tests/unit/test_hostile.py"), HOSTILE_TEST).expect("hostile test");
    // The user's own Playwright HTML report, which the page links to.
    let config = project.path().join("e2e/playwright.config.ts");
    let text = std::fs::read_to_string(&config).expect("config");
    let with_html = text.replace("retries: 0,", "retries: 0,\n  reporter: [['html', { open: 'never' }]],");
    assert_ne!(
        text, with_html,
        "the fixture's config changed: put the html reporter in another way"
    );
    std::fs::write(&config, with_html).expect("config");
    let state = tempfile::tempdir().expect("tempdir");
    let first = run(project.path(), None, &state.path().join("first"));
    let second = run(
        project.path(),
        Some(first.runs_dir.path()),
        &state.path().join("second"),
    );
    let run_dir = second.run_dirs().pop().expect("the second run");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("manifest.json")).expect("manifest")).expect("json");
    let records = qaagent_tests::read_jsonl(&run_dir.join("evidence/tests.jsonl"));

    let seen = view("check", &run_dir.join("report.html"));
    assert_offline_and_clean(&seen);

    // One bar per attempt, in the suite's lane.
    let bars = strings(&seen["bars"]);
    let suites = manifest["suites"].as_array().expect("suites");
    let mut attempts = 0;
    for suite in suites {
        let name = suite["name"].as_str().expect("name");
        let count = suite["attempts"].as_u64().expect("attempts");
        let prefix = format!("{name} attempt ");
        assert_eq!(
            bars.iter().filter(|bar| bar.starts_with(&prefix)).count() as u64,
            count,
            "{name}: {bars:?}"
        );
        attempts += count;
    }
    assert_eq!(bars.len() as u64, attempts, "{bars:?}");
    assert!(attempts > 3, "the suites were retried: {bars:?}");
    assert_eq!(strings(&seen["lanes"]), ["unit", "behave", "e2e"]);

    // Filtering by "failed" shows exactly the failed and errored tests, which are also shown on open.
    let failed: BTreeSet<String> = records
        .iter()
        .filter(|r| r["status"] == "failed" || r["status"] == "error")
        .map(|r| r["name"].as_str().expect("name").to_string())
        .collect();
    assert!(failed.contains(HOSTILE) && failed.len() >= 5, "{failed:?}");
    let filtered: Vec<String> = strings(&seen["failedFilter"]["names"]);
    assert_eq!(filtered.iter().cloned().collect::<BTreeSet<_>>(), failed);
    assert_eq!(filtered.len(), failed.len(), "{filtered:?}");
    assert_eq!(seen["failedFilter"]["shown"], failed.len().to_string());
    assert_eq!(seen["all"]["shown"], records.len().to_string());
    let on_open: BTreeSet<String> = strings(&seen["failureNames"]).into_iter().collect();
    assert_eq!(on_open, failed);
    assert!(
        strings(&seen["failureMessages"])
            .contains(&"AssertionError: <b>not bold</b> & </script>\nassert 1 == 2".into()),
        "{seen}"
    );

    // The injected name is text: no element made of it, no script run.
    assert_eq!(seen["pwned"], false);
    assert_eq!(seen["injectedElements"], 0);

    // Flaky tests with their screenshots, linked relative to the run directory.
    let flaky: BTreeSet<String> = records
        .iter()
        .filter(|r| r["metadata"]["flaky"] == true)
        .map(|r| r["name"].as_str().expect("name").to_string())
        .collect();
    assert!(flaky.contains("flaky once"), "{flaky:?}");
    assert_eq!(strings(&seen["flakyNames"]).into_iter().collect::<BTreeSet<_>>(), flaky);
    let images = seen["images"].as_array().expect("images");
    assert!(!images.is_empty(), "{seen}");
    for image in images {
        assert!(
            image["src"].as_str().expect("src").starts_with("artifacts/e2e/"),
            "{image}"
        );
        assert_eq!(image["loaded"], true, "{image}");
    }

    // The user's Playwright HTML report of each e2e attempt, linked.
    let e2e_attempts = suites.iter().find(|s| s["name"] == "e2e").expect("e2e")["attempts"]
        .as_u64()
        .expect("attempts");
    let reports = strings(&seen["playwrightReports"]);
    assert_eq!(reports.len() as u64, e2e_attempts, "{reports:?}");
    for report in &reports {
        assert!(run_dir.join(report).is_file(), "{report}");
    }

    // History: both runs on the trend, each test's strip one box per run.
    assert_eq!(seen["trend"].as_array().expect("trend").len(), 2, "{seen}");
    let strips = seen["strips"].as_array().expect("strips");
    assert!(!strips.is_empty());
    assert!(strips.iter().all(|strip| strip[1] == 2), "{strips:?}");
    // The earlier run's box says how the test ended there and how long it took.
    assert!(
        strips
            .iter()
            .any(|strip| strip[2].as_str().is_some_and(|title| title.starts_with("flaky in "))),
        "{strips:?}"
    );

    // `runs show --html -o` elsewhere: the same page, linking the run's files by absolute file URLs.
    let elsewhere = state.path().join("copy/report.html");
    let shown = Qaagent::with_runs_dir(project.path(), first.runs_dir.path())
        .args(["runs", "show", "latest", "--html", "-o"])
        .args([&elsewhere])
        .run();
    assert_eq!(shown.code(), 0, "{}", shown.describe());
    let seen = view("check", &elsewhere);
    assert_offline_and_clean(&seen);
    assert_eq!(seen["failedFilter"]["shown"], failed.len().to_string());
    for image in seen["images"].as_array().expect("images") {
        assert!(image["src"].as_str().expect("src").starts_with("file:///"), "{image}");
        assert_eq!(image["loaded"], true, "{image}");
    }
}

/// Writes a JUnit report (the path in argv[1]) of PASSED passing tests, then
/// FAILED failing ones: the failures come after the page's list is full.
const BIG_SUITE: &str = r#"import sys

PASSED, FAILED = 100_005, 3
with open(sys.argv[1], "w") as out:
    out.write('<testsuite name="big" tests="%d">\n' % (PASSED + FAILED))
    for n in range(PASSED):
        out.write('<testcase classname="big" name="test_pass_%d" time="0.001"/>\n' % n)
    for n in range(FAILED):
        out.write('<testcase classname="big" name="test_fail_%d"><failure message="boom %d">trace</failure></testcase>\n' % (n, n))
    out.write("</testsuite>\n")
"#;

#[test]
fn a_run_too_large_to_list_lists_every_failure_and_says_how_many_passed_tests_it_left_out() {
    let project = project_with(
        "big-report",
        &[
            (
                ".qaagent.toml",
                "[project]\nname = \"big\"\n\n[tests.big]\nrunner = \"command\"\npath = \".\"\n\
                 command = [\"python3\", \"big_suite.py\", \"{junit}\"]\n",
            ),
            ("big_suite.py", BIG_SUITE),
        ],
    );
    let run = Qaagent::new(project.path())
        .args(["run-all", "--no-progress", "--color", "never"])
        .run();
    assert_eq!(run.code(), 1, "three tests fail: {}", run.describe());
    let records = run.records();
    assert_eq!(records.len(), 100_008, "{}", run.describe());

    let seen = view("check", &run.run_dir().join("report.html"));
    assert_offline_and_clean(&seen);
    let failures = ["test_fail_0", "test_fail_1", "test_fail_2"];
    assert_eq!(strings(&seen["failedFilter"]["names"]), failures);
    assert_eq!(strings(&seen["failureNames"]), failures);
    // The header counts every test; the list holds 100,000 passed ones and
    // the failures, and says how many passed tests it left out.
    let counts = strings(&seen["counts"]);
    assert!(counts.contains(&"100008 tests".to_string()), "{counts:?}");
    assert!(counts.contains(&"100005 passed".to_string()), "{counts:?}");
    assert_eq!(seen["all"]["shown"], "100003");
    let text = seen["all"]["text"].as_str().expect("text");
    assert!(
        text.starts_with("100003 of 100003 tests; 5 more passed tests are not listed"),
        "{text}"
    );
}
