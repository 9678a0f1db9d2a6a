//! pytest, behave and Playwright in one project, through the real `qaagent`
//! binary, sequentially and in parallel. Expected numbers come from running
//! each tool directly on the same files, never from qaagent.

use std::path::Path;
use std::process::Command;

use qaagent_tests::{copy_fixture_part, squash, tree_listing, venv, Qaagent, RunOutput};
use serde_json::Value;

const BASE_URL: &str = "http://127.0.0.1:9/pw-base";

/// A project with `tests/` (pytest), `features/` (behave) and `e2e/` (Playwright).
fn three_tool_project() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("qaagent-three-")
        .tempdir()
        .expect("tempdir");
    for part in ["tests/passing", "tests/failing", "pytest.ini"] {
        copy_fixture_part("pytest-project", part, dir.path());
    }
    for part in ["features", "behave.ini"] {
        copy_fixture_part("behave-basic", part, dir.path());
    }
    copy_fixture_part("playwright-basic", "e2e", dir.path());
    std::fs::write(
        dir.path().join(".qaagent.toml"),
        format!(
            r#"[project]
name = "three-tools"

[app.dev]
base_url = "{BASE_URL}"

[run]
suite_order = ["unit", "behave", "e2e"]

[tests.unit]
path = "tests"
env = {{ EXPECTED_BASE_URL = "{BASE_URL}" }}

[tests.behave]
path = "features"

[tests.e2e]
path = "e2e"
"#
        ),
    )
    .expect("config");
    dir
}

/// (passed, failed, errors, skipped) as a tool itself counts them.
type Counts = (u64, u64, u64, u64);

/// The number before `word` in `line` ("7 passed" → 7), 0 when absent.
fn count_before(line: &str, word: &str) -> u64 {
    let words: Vec<&str> = line.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    words
        .windows(2)
        .find(|w| w[1] == word)
        .and_then(|w| w[0].parse().ok())
        .unwrap_or(0)
}

fn pytest_counts(project: &Path) -> Counts {
    let output = Command::new(venv().join("bin/python"))
        .current_dir(project)
        .args(["-m", "pytest", "-p", "no:cacheprovider", "tests"])
        .env("BASE_URL", BASE_URL)
        .env("EXPECTED_BASE_URL", BASE_URL)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("pytest");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout.lines().last().expect("pytest summary line");
    (
        count_before(summary, "passed"),
        count_before(summary, "failed"),
        count_before(summary, "errors") + count_before(summary, "error"),
        count_before(summary, "skipped"),
    )
}

fn behave_counts(project: &Path) -> Counts {
    let output = Command::new(venv().join("bin/python"))
        .current_dir(project)
        .args(["-m", "behave", "--no-color", "-f", "progress", "features"])
        .env("BASE_URL", BASE_URL)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("behave");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains("scenarios passed") || l.contains("scenario passed"))
        .expect("scenario summary");
    // behave's errors: "error" (undefined steps, exceptions) and "hook_error".
    (
        count_before(line, "scenarios") + count_before(line, "scenario"),
        count_before(line, "failed"),
        count_before(line, "error") + count_before(line, "hook_error"),
        count_before(line, "skipped"),
    )
}

fn playwright_counts(project: &Path, out: &Path) -> Counts {
    let output = Command::new("npx")
        .current_dir(project.join("e2e"))
        .args(["--no", "--", "playwright", "test", "--reporter=json"])
        .arg(format!("--output={}", out.display()))
        .env("BASE_URL", BASE_URL)
        .output()
        .expect("playwright");
    let report: Value = serde_json::from_slice(&output.stdout).expect("Playwright's JSON report");
    let stats = &report["stats"];
    let n = |key: &str| stats[key].as_u64().unwrap_or(0);
    // Playwright: expected = passed, unexpected = failed, flaky passed on retry.
    (n("expected") + n("flaky"), n("unexpected"), 0, n("skipped"))
}

fn suite_counts(run: &RunOutput, suite: &str) -> Counts {
    let manifest = run.manifest();
    let entry = manifest["suites"]
        .as_array()
        .expect("suites")
        .iter()
        .find(|s| s["name"] == suite)
        .cloned()
        .expect("suite entry");
    let n = |key: &str| entry[key].as_u64().unwrap_or(0);
    (n("passed"), n("failed"), n("errors"), n("skipped"))
}

/// tests.jsonl with what legitimately differs between two runs removed: ids,
/// timings, and the run directory inside paths.
fn comparable_records(run: &RunOutput) -> Vec<Value> {
    let run_dir = run.run_dir().display().to_string();
    run.records()
        .into_iter()
        .map(|record| {
            let text = serde_json::to_string(&record).expect("json").replace(&run_dir, "<RUN>");
            let mut record: Value = serde_json::from_str(&text).expect("json");
            let object = record.as_object_mut().expect("object");
            for key in ["test_id", "duration", "last_run"] {
                object.remove(key);
            }
            if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                // Tool output and tracebacks carry timings ("(1.2s)").
                for key in ["details", "system_out", "system_err", "message"] {
                    metadata.remove(key);
                }
            }
            record
        })
        .collect()
}

fn status_by_selector(run: &RunOutput, suite: &str) -> Vec<(String, String)> {
    run.suite_records(suite)
        .iter()
        .map(|r| {
            (
                r["metadata"]["selector"].as_str().unwrap_or("<none>").to_string(),
                r["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn three_tools_sequential_and_parallel_agree_with_the_tools() {
    let expected_dir = three_tool_project();
    let pw_out = tempfile::tempdir().expect("tempdir");
    let expected_unit = pytest_counts(expected_dir.path());
    let expected_behave = behave_counts(expected_dir.path());
    let expected_e2e = playwright_counts(expected_dir.path(), pw_out.path());
    // The fixtures have something of everything, so these comparisons mean something.
    assert!(
        expected_unit.0 > 0 && expected_unit.1 > 0 && expected_unit.3 > 0,
        "{expected_unit:?}"
    );
    assert!(
        expected_behave.0 > 0 && expected_behave.1 > 0 && expected_behave.2 > 0 && expected_behave.3 > 0,
        "{expected_behave:?}"
    );
    assert!(
        expected_e2e.0 > 0 && expected_e2e.1 > 0 && expected_e2e.3 > 0,
        "{expected_e2e:?}"
    );

    let project = three_tool_project();
    let before = tree_listing(project.path());
    let sequential = Qaagent::new(project.path()).args(["run-all"]).run();
    let parallel = Qaagent::new(project.path()).args(["run-all", "--parallel"]).run();
    assert_eq!(
        tree_listing(project.path()),
        before,
        "the project tree is left as it was"
    );

    for (run, mode) in [(&sequential, "sequentially"), (&parallel, "in parallel (3 workers)")] {
        assert_eq!(run.code(), 1, "{}", run.describe());
        assert!(
            squash(&run.stdout()).contains(&format!("running 3 suites {mode}")),
            "{}",
            run.describe()
        );
        assert_eq!(
            suite_counts(run, "unit"),
            expected_unit,
            "pytest's own count\n{}",
            run.describe()
        );
        assert_eq!(
            suite_counts(run, "behave"),
            expected_behave,
            "behave's own count\n{}",
            run.describe()
        );
        assert_eq!(
            suite_counts(run, "e2e"),
            expected_e2e,
            "Playwright's own count\n{}",
            run.describe()
        );

        let behave = status_by_selector(run, "behave");
        for (selector, status) in [
            ("features/cart.feature:17", "failed"),
            ("features/cart.feature:18", "passed"),
            ("features/cart.feature:24", "error"),
            ("features/cart.feature:29", "skipped"),
        ] {
            assert!(
                behave.contains(&(selector.to_string(), status.to_string())),
                "{selector} {status} in {behave:?}"
            );
        }
        // The failure list names a behave scenario by location and name, and an
        // undefined step by what behave's report says about it.
        let stdout = squash(&run.stdout());
        assert!(
            stdout.contains("ERROR behave features/cart.feature:24 (Discount code)\n undefined step: When I apply the discount code"),
            "{stdout}"
        );
        let unit = status_by_selector(run, "unit");
        assert!(
            unit.contains(&(
                "tests/failing/test_orders.py::test_delete_orders_order_id".into(),
                "failed".into()
            )),
            "{unit:?}"
        );
        let e2e = status_by_selector(run, "e2e");
        assert!(
            e2e.iter().all(|(selector, _)| selector.starts_with("[chromium] › ")),
            "{e2e:?}"
        );
        assert!(
            e2e.iter().any(|(_, status)| status == "failed") && e2e.iter().any(|(_, status)| status == "skipped"),
            "{e2e:?}"
        );

        let artifacts = run.run_dir().join("artifacts");
        assert!(artifacts.join("unit/junit.xml").is_file());
        assert!(artifacts.join("behave/junit/TESTS-cart.xml").is_file());
        assert!(artifacts.join("behave/rerun.txt").is_file());
        assert!(artifacts.join("e2e/junit.xml").is_file());
        let screenshots = walk(&artifacts.join("e2e/test-results"))
            .into_iter()
            .filter(|p| p.ends_with(".png"))
            .count();
        assert!(screenshots >= 1, "the failing Playwright test's screenshot is kept");
        let manifest = run.manifest();
        for tool in ["pytest", "behave", "playwright"] {
            assert_eq!(manifest["tools"][tool]["executed"], true, "{tool}: {manifest}");
            assert!(
                manifest["tools"][tool]["version"].is_string(),
                "{tool} version: {manifest}"
            );
            assert_eq!(manifest["tools"][tool]["exit_code"], 1, "{tool}: {manifest}");
        }
    }
    assert_eq!(
        comparable_records(&sequential),
        comparable_records(&parallel),
        "tests.jsonl is the same either way"
    );
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    out
}
