//! Playwright as its users run it, through real Playwright on
//! `tests/fixtures/playwright-projects`: two projects (`desktop`, `mobile`),
//! Playwright's own retries (`retries: 1`), a test that fails once and a
//! test that fails in the mobile project only (see the fixture's spec).
//! Each test counts its executions in `$RETRY_STATE_DIR/e2e.log` as
//! `[project] title`.

use std::collections::{BTreeMap, HashSet};

use qaagent_tests::{fixture, squash, Qaagent};
use quick_junit::{Report, TestCaseStatus};
use serde_json::Value;

const FILE: &str = "cart.spec.ts";

fn selector(project: &str, title: &str) -> String {
    format!("[{project}] › {FILE} › cart › {title}")
}

fn record<'a>(records: &'a [Value], project: &str, title: &str) -> &'a Value {
    let wanted = selector(project, title);
    records
        .iter()
        .find(|r| r["metadata"]["selector"] == wanted.as_str())
        .unwrap_or_else(|| panic!("no record {wanted:?} in {records:#?}"))
}

fn refs(record: &Value) -> Vec<&str> {
    record["evidence_refs"]
        .as_array()
        .expect("evidence_refs")
        .iter()
        .map(|r| r.as_str().expect("a path"))
        .collect()
}

/// One run with `--retries 1` covers the projects (issue 14 item 2),
/// Playwright's own retries (3), failure text (10) and each test's own
/// attachments (12).
#[test]
fn projects_tool_retries_failure_text_and_attachments() {
    let project = fixture("playwright-projects");
    let state = tempfile::Builder::new()
        .prefix("qaagent-pw-state-")
        .tempdir()
        .expect("tempdir");
    let run = Qaagent::new(project.path())
        .env("RETRY_STATE_DIR", state.path())
        .args(["run-all", "--retries", "1", "--junit", "junit.xml"])
        .run();
    assert_eq!(
        run.code(),
        1,
        "the mobile-only failure fails the run\n{}",
        run.describe()
    );
    let stdout = squash(&run.stdout());

    // Item 2: qaagent's retry re-ran only the mobile project's failure, which
    // Playwright itself ran twice each time; desktop's passing run of the
    // same test never ran again.
    let log = std::fs::read_to_string(state.path().join("e2e.log")).expect("executions logged");
    let mut executions: BTreeMap<&str, usize> = BTreeMap::new();
    for line in log.lines() {
        *executions.entry(line).or_default() += 1;
    }
    let expected: BTreeMap<&str, usize> = [
        ("[desktop] cart › shows the total", 1),
        ("[mobile] cart › shows the total", 1),
        ("[desktop] cart › loads once", 2),
        ("[mobile] cart › loads once", 2),
        ("[desktop] cart › shows the menu", 1),
        ("[mobile] cart › shows the menu", 4),
    ]
    .into_iter()
    .collect();
    assert_eq!(executions, expected, "{}", run.describe());
    assert!(stdout.contains("RETRY e2e attempt 2: 1 test"), "{}", run.describe());

    // Item 2: no two records share name and class name; the project is in both
    // the class name and the selector.
    let records = run.records();
    assert_eq!(records.len(), 6, "{records:#?}");
    let identities: HashSet<(String, String)> = records
        .iter()
        .map(|r| (r["name"].to_string(), r["metadata"]["classname"].to_string()))
        .collect();
    assert_eq!(identities.len(), 6, "{records:#?}");
    let menu = record(&records, "mobile", "shows the menu");
    assert_eq!(menu["name"], "cart › shows the menu");
    assert_eq!(menu["metadata"]["classname"], format!("[mobile] › {FILE}"));
    assert_eq!(menu["metadata"]["file"], "tests/cart.spec.ts");
    assert!(
        stdout.contains(&format!("FAILED e2e {}", selector("mobile", "shows the menu"))),
        "{stdout}"
    );

    // Item 3: failed then passed on Playwright's own retry is flaky, with both runs.
    for project in ["desktop", "mobile"] {
        let flaky = record(&records, project, "loads once");
        assert_eq!(flaky["status"], "passed", "{flaky:#}");
        assert_eq!(flaky["metadata"]["attempts"], 2, "{flaky:#}");
        assert_eq!(flaky["metadata"]["flaky"], true, "{flaky:#}");
        assert_eq!(flaky["tags"], serde_json::json!(["flaky"]), "{flaky:#}");
        let prior = flaky["metadata"]["previous_failures"].as_array().expect("prior");
        assert_eq!(prior.len(), 1, "{flaky:#}");
        assert!(
            stdout.contains(&format!(
                "FLAKY e2e {} — passed on attempt 2",
                selector(project, "loads once")
            )),
            "{stdout}"
        );
    }
    // Both of qaagent's attempts, each with Playwright's retry: four runs, three earlier failures.
    assert_eq!(menu["status"], "failed", "{menu:#}");
    assert_eq!(menu["metadata"]["attempts"], 4, "{menu:#}");
    assert_eq!(
        menu["metadata"]["previous_failures"].as_array().map(Vec::len),
        Some(3),
        "{menu:#}"
    );
    let steady = record(&records, "desktop", "shows the menu");
    assert_eq!(
        (
            &steady["status"],
            &steady["metadata"]["attempts"],
            &steady["metadata"]["flaky"]
        ),
        (&Value::from("passed"), &Value::from(1), &Value::from(false))
    );
    let counts = &run.manifest()["counts"];
    assert_eq!(
        (&counts["tests"], &counts["tests_passed"], &counts["tests_flaky"]),
        (&Value::from(6), &Value::from(5), &Value::from(2)),
        "{counts:#}"
    );

    // Item 10: expected and received in the summary and the record, without
    // colour codes; the whole error (call log, source) in the details.
    let message = menu["error_message"].as_str().expect("error message");
    assert!(
        message.starts_with("expect(locator).toHaveText(expected) failed")
            && message.contains("Expected: \"wide menu\"")
            && message.contains("Received: \"burger\""),
        "{message}"
    );
    let details = menu["metadata"]["details"].as_str().expect("details");
    assert!(details.contains("Call log:") && details.contains("> 40 |"), "{details}");
    assert!(!message.contains('\u{1b}') && !details.contains('\u{1b}'), "{menu:#}");
    let failures = stdout.split("Failures:").nth(1).expect("a Failures section");
    assert!(
        failures.contains("Expected: \"wide menu\"") && failures.contains("Received: \"burger\""),
        "{stdout}"
    );

    // Item 12: each record lists its own screenshots, and the suite's report and logs.
    let shared = [
        "artifacts/e2e/report.json",
        "artifacts/e2e/junit.xml",
        "artifacts/e2e/stdout.log",
    ];
    for record in &records {
        let listed = refs(record);
        for file in shared {
            assert!(listed.contains(&file), "{file} missing: {record:#}");
        }
    }
    let passing = refs(record(&records, "desktop", "shows the total"));
    assert!(
        !passing
            .iter()
            .any(|r| r.ends_with(".png") || r.ends_with("error-context.md")),
        "a passing test has no screenshots: {passing:?}"
    );
    let flaky_mobile = refs(record(&records, "mobile", "loads once"));
    let pngs: Vec<&&str> = flaky_mobile.iter().filter(|r| r.ends_with(".png")).collect();
    assert_eq!(
        pngs,
        [&"artifacts/e2e/test-results/cart-cart-loads-once-mobile/test-failed-1.png"],
        "{flaky_mobile:?}"
    );
    let menu_refs = refs(menu);
    let menu_pngs = menu_refs.iter().filter(|r| r.ends_with(".png")).count();
    assert_eq!(menu_pngs, 4, "a screenshot of each of its runs: {menu_refs:?}");
    assert!(menu_refs.iter().all(|r| !r.contains("loads-once")), "{menu_refs:?}");
    for reference in menu_refs {
        assert!(run.run_dir().join(reference).exists(), "{reference} is kept");
    }

    // Item 2 in the merged JUnit: six distinct cases, the flaky ones with their failed run.
    let xml = std::fs::read_to_string(project.path().join("junit.xml")).expect("--junit written");
    let report = Report::deserialize_from_str(&xml).expect("JUnit XML");
    let cases: Vec<&quick_junit::TestCase> = report.test_suites.iter().flat_map(|s| &s.test_cases).collect();
    assert_eq!(cases.len(), 6, "{xml}");
    let distinct: HashSet<(String, String)> = cases
        .iter()
        .map(|c| {
            (
                c.name.to_string(),
                c.classname.as_deref().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(distinct.len(), 6, "{xml}");
    let flaky_runs: usize = cases
        .iter()
        .map(|c| match &c.status {
            TestCaseStatus::Success { flaky_runs } => flaky_runs.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(flaky_runs, 2, "{xml}");
}

/// Item 10: without its browser, Playwright's advice to run
/// `npx playwright install` reaches the summary whole.
#[test]
fn missing_browser_advice_is_not_cut_off() {
    let project = fixture("playwright-projects");
    let config = project.path().join("e2e/playwright.config.ts");
    std::fs::write(
        &config,
        "import { defineConfig } from '@playwright/test';\n\
         // Playwright's own browser, which is not installed where it looks.\n\
         export default defineConfig({ testDir: './tests', projects: [{ name: 'desktop' }] });\n",
    )
    .expect("write config");
    let browsers = tempfile::Builder::new()
        .prefix("qaagent-no-browsers-")
        .tempdir()
        .expect("tempdir");
    let state = tempfile::tempdir().expect("tempdir");
    let run = Qaagent::new(project.path())
        .env("RETRY_STATE_DIR", state.path())
        .env("PLAYWRIGHT_BROWSERS_PATH", browsers.path())
        .args(["run-all"])
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = run.stdout();
    let failures = stdout.split("Failures:").nth(1).expect("a Failures section");
    // A browser that cannot start is an error of the test, as Playwright's JUnit says.
    let first = failures
        .split("ERROR e2e [desktop]")
        .nth(1)
        .expect("an errored test in the summary");
    assert!(
        first.contains("Executable doesn't exist") && first.contains("npx playwright install"),
        "{}",
        run.describe()
    );
    let records = run.records();
    assert_eq!(records[0]["status"], "error", "{:#}", records[0]);
    let message = records[0]["error_message"].as_str().expect("error message");
    assert!(message.contains("npx playwright install"), "{message}");
}

/// Item 3 with `--retries=1` in the suite's args (and none in the config),
/// and no retries of qaagent's: Playwright's retry alone makes a test flaky,
/// and the summary does not count attempts qaagent did not make.
#[test]
fn retries_given_in_args_count_as_attempts() {
    let project = fixture("playwright-projects");
    let config = project.path().join("e2e/playwright.config.ts");
    let text = std::fs::read_to_string(&config).expect("config");
    assert!(text.contains("retries: 1,"), "{text}");
    std::fs::write(&config, text.replace("retries: 1,", "retries: 0,")).expect("write config");
    let toml = project.path().join(".qaagent.toml");
    let mut settings = std::fs::read_to_string(&toml).expect("toml");
    settings.push_str("args = [\"--retries=1\"]\n");
    std::fs::write(&toml, settings).expect("write toml");
    let state = tempfile::tempdir().expect("tempdir");
    let run = Qaagent::new(project.path())
        .env("RETRY_STATE_DIR", state.path())
        .args(["run-all"])
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let records = run.records();
    for project in ["desktop", "mobile"] {
        let flaky = record(&records, project, "loads once");
        assert_eq!(
            (
                &flaky["status"],
                &flaky["metadata"]["attempts"],
                &flaky["metadata"]["flaky"]
            ),
            (&Value::from("passed"), &Value::from(2), &Value::from(true)),
            "{flaky:#}"
        );
    }
    let menu = record(&records, "mobile", "shows the menu");
    assert_eq!(
        (&menu["status"], &menu["metadata"]["attempts"]),
        (&Value::from("failed"), &Value::from(2))
    );
    let stdout = squash(&run.stdout());
    assert!(!stdout.contains("RETRY"), "{stdout}");
    let flaky_line = format!(
        "FLAKY e2e {} — passed on attempt 2\n",
        selector("desktop", "loads once")
    );
    assert!(stdout.contains(&flaky_line), "{stdout}");
    assert_eq!(run.manifest()["counts"]["tests_flaky"], 2);
}

/// Tests Playwright skips without being asked to — after a failure in a
/// serial group — did not run: a retry of the failure alone left them
/// unrun and the run passed, with a test that always fails among them
/// (hostile try). They are re-run with the failure; a test that only
/// never ran is not flaky when it then passes.
#[test]
fn tests_skipped_after_a_serial_failure_run_on_the_retry() {
    for broken in [true, false] {
        let project = fixture("playwright-projects");
        let e2e = project.path().join("e2e");
        let config = std::fs::read_to_string(e2e.join("playwright.config.ts")).expect("config");
        // One project, no retries of Playwright's own, one worker.
        let (head, _) = config.split_once("  projects: [").expect("projects in the config");
        let config = format!("{head}  projects: [{{ name: 'serial' }}],\n}});\n")
            .replace("retries: 1,", "retries: 0,")
            .replace("workers: 2,", "workers: 1,");
        std::fs::write(e2e.join("playwright.config.ts"), config).expect("write config");
        std::fs::remove_file(e2e.join("tests/cart.spec.ts")).expect("remove spec");
        let third = if broken { "expect(1).toBe(2);" } else { "" };
        let spec = format!(
            r#"import {{ test, expect }} from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';
test.describe.configure({{ mode: 'serial' }});
test('fails once', async () => {{
  const mark = path.join(process.env.RETRY_STATE_DIR!, 'failed-once');
  if (!fs.existsSync(mark)) {{ fs.writeFileSync(mark, 'x'); expect(1).toBe(2); }}
}});
test('never fails', async () => {{}});
test('third', async () => {{ {third} }});
"#
        );
        std::fs::write(e2e.join("tests/serial.spec.ts"), spec).expect("write spec");
        let state = tempfile::tempdir().expect("tempdir");
        let run = Qaagent::new(project.path())
            .env("RETRY_STATE_DIR", state.path())
            .args(["run-all", "--retries", "1"])
            .run();
        let records = run.records();
        let find = |title: &str| {
            let wanted = format!("[serial] › serial.spec.ts › {title}");
            records
                .iter()
                .find(|r| r["metadata"]["selector"] == wanted.as_str())
                .unwrap_or_else(|| panic!("no record {wanted:?} in {records:#?}"))
        };
        assert_eq!(run.code(), i32::from(broken), "broken: {broken}\n{}", run.describe());
        let third = find("third");
        assert_eq!(third["status"], if broken { "failed" } else { "passed" }, "{third:#}");
        let once = find("fails once");
        assert_eq!(
            (&once["status"], &once["metadata"]["flaky"]),
            (&Value::from("passed"), &Value::from(true))
        );
        let never = find("never fails");
        assert_eq!(
            (&never["status"], &never["metadata"]["flaky"]),
            (&Value::from("passed"), &Value::from(false)),
            "{never:#}"
        );
        assert_eq!(run.manifest()["counts"]["tests_skipped"], 0, "{}", run.describe());
    }
}

/// A test that fails, then skips itself when run again (`test.skip` once a
/// resource it broke is gone), never passed: failed with its failure,
/// whether qaagent's retry or Playwright's own (`retries: 1`, which calls it
/// "flaky") ran it again (hostile try: `skipped`, the run passed, with
/// `flaky = "fail"` too).
#[test]
fn a_test_failed_then_skipped_on_a_retry_fails_the_run() {
    for own_retries in [false, true] {
        let project = fixture("playwright-projects");
        let e2e = project.path().join("e2e");
        let config = std::fs::read_to_string(e2e.join("playwright.config.ts")).expect("config");
        let (head, _) = config.split_once("  projects: [").expect("projects in the config");
        let retries = if own_retries { "retries: 1," } else { "retries: 0," };
        let config = format!("{head}  projects: [{{ name: 'one' }}],\n}});\n")
            .replace("retries: 1,", retries)
            .replace("workers: 2,", "workers: 1,");
        std::fs::write(e2e.join("playwright.config.ts"), config).expect("write config");
        std::fs::remove_file(e2e.join("tests/cart.spec.ts")).expect("remove spec");
        let spec = r#"import { test, expect } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';
test('ok', async () => {});
test('flip', async () => {
  const mark = path.join(process.env.RETRY_STATE_DIR!, 'ran-once');
  test.skip(fs.existsSync(mark), 'resource gone');
  fs.writeFileSync(mark, 'x');
  expect(1).toBe(2);
});
"#;
        std::fs::write(e2e.join("tests/flip.spec.ts"), spec).expect("write spec");
        let toml = project.path().join(".qaagent.toml");
        let settings = std::fs::read_to_string(&toml).expect("toml");
        std::fs::write(&toml, format!("[run]\nflaky = \"fail\"\n{settings}")).expect("write toml");
        let state = tempfile::tempdir().expect("tempdir");
        let retries = if own_retries { "0" } else { "1" };
        let run = Qaagent::new(project.path())
            .env("RETRY_STATE_DIR", state.path())
            .args(["run-all", "--no-progress", "--retries", retries, "--junit", "junit.xml"])
            .run();
        let how = if own_retries {
            "Playwright's retry"
        } else {
            "qaagent's retry"
        };
        assert_eq!(run.code(), 1, "{how}: it never passed\n{}", run.describe());
        let records = run.records();
        let flip = (records.iter())
            .find(|r| r["metadata"]["selector"] == "[one] › flip.spec.ts › flip")
            .unwrap_or_else(|| panic!("{how}: no record of flip in {records:#?}"));
        let verdict = qaagent_tests::verdict(flip);
        assert_eq!(verdict, serde_json::json!(["failed", 2, false]), "{how}: {flip:#}");
        let message = flip["error_message"].as_str().unwrap_or_default();
        assert!(message.contains("toBe(expected)"), "{how}: {flip:#}");
        let stdout = squash(&run.stdout());
        assert!(
            stdout.contains("[one] › flip.spec.ts › flip failed, then was skipped when run again (resource gone)"),
            "{how}: {stdout}"
        );
        let junit = std::fs::read_to_string(project.path().join("junit.xml")).expect("junit");
        let report = Report::deserialize_from_str(&junit).expect("junit parses");
        let case = (report.test_suites.iter())
            .flat_map(|suite| suite.test_cases.iter())
            .find(|case| case.name.as_str() == "flip")
            .unwrap_or_else(|| panic!("{how}: no flip in {junit}"));
        assert!(
            matches!(case.status, TestCaseStatus::NonSuccess { .. }),
            "{how}: {:?}",
            case.status
        );
    }
}

/// `--repeat-each 2` runs each test twice under one name: all ran, and the
/// run passes as Playwright's does. Before, the live stream's total counted
/// runs and qaagent said 2 of the 4 never ran: exit 1 (a hostile try, 14 N5).
#[test]
fn repeat_each_runs_are_tests_that_ran() {
    let project = fixture("playwright-basic");
    let toml = project.path().join(".qaagent.toml");
    let mut settings = std::fs::read_to_string(&toml).expect("toml");
    settings.push_str("args = [\"--repeat-each\", \"2\", \"--grep\", \"sees BASE_URL\"]\n");
    std::fs::write(&toml, settings).expect("write toml");
    let run = Qaagent::new(project.path()).args(["run-all", "--no-progress"]).run();
    assert_eq!(run.code(), 0, "{}", run.describe());
    let records = run.records();
    assert_eq!(records.len(), 2, "{records:#?}");
    assert!(records.iter().all(|r| r["status"] == "passed"), "{records:#?}");
}
