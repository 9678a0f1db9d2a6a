//! The example plugin (`examples/custom-runner`): its `qaagent-custom` binary
//! runs a suite with the third-party `checks` runner beside a built-in pytest
//! suite, on `tests/fixtures/custom-runner-project`; and, on a project of
//! built-in suites, the same events, evidence and exit code as `qaagent`.

use qaagent_tests::{custom_bin, fixture, normalize, qaagent_bin, scrub_numbers, squash, Qaagent};
use serde_json::Value;

fn record<'a>(records: &'a [Value], name: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no record named {name:?} in {records:#?}"))
}

#[test]
fn custom_runner_and_pytest_run_side_by_side() {
    let project = fixture("custom-runner-project");
    let run = Qaagent::with_bin(&custom_bin(), project.path())
        .args(["run-all", "--parallel", "--retries", "1"])
        .run();
    assert_eq!(run.code(), 1, "the LICENSE check fails: {}", run.describe());
    let stdout = squash(&run.stdout());
    assert!(stdout.contains("running 2 suites in parallel (2 workers)"), "{stdout}");
    assert!(
        stdout.contains("PASS unit 2 passed, 0 failed, 0 errors, 0 skipped"),
        "{stdout}"
    );
    assert!(
        stdout.contains("RETRY checks attempt 2: 1 test that failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAIL checks 2 passed, 1 failed, 0 errors, 1 skipped"),
        "{stdout}"
    );
    assert!(stdout.contains("LICENSE does not exist"), "{stdout}");

    // The retry ran only the failed check, through the runner's own selection.
    let second = std::fs::read_to_string(run.run_dir().join("artifacts/checks/attempt-2/stdout.log")).expect("log");
    assert_eq!(
        second.trim(),
        "FAILED  license-exists: LICENSE does not exist\n0 passed, 1 failed, 0 skipped"
    );

    let records = run.records();
    let suites: Vec<&str> = records
        .iter()
        .map(|r| r["suite_name"].as_str().expect("suite"))
        .collect();
    assert_eq!(
        suites,
        ["unit", "unit", "checks", "checks", "checks", "checks"],
        "suite_order"
    );
    let license = record(&records, "license-exists");
    assert_eq!(license["runner_type"], "checks");
    assert_eq!(license["status"], "failed");
    assert_eq!(license["metadata"]["attempts"], 2);
    assert_eq!(license["metadata"]["selector"], "license-exists");
    assert_eq!(record(&records, "api-docs")["status"], "skipped");
    assert_eq!(record(&records, "readme-mentions-install")["metadata"]["attempts"], 1);

    let manifest = run.manifest();
    assert_eq!(manifest["tools"]["checktool"]["version"], "checktool 0.3.1");
    assert_eq!(manifest["tools"]["pytest"]["exit_code"], 0);
    assert!(run.run_dir().join("artifacts/checks/junit.xml").is_file());
}

#[test]
fn custom_runner_is_supervised_like_the_built_in_ones() {
    let project = fixture("custom-runner-project");
    let run = Qaagent::with_bin(&custom_bin(), project.path())
        .args(["run-all", "--suite", "checks", "--timeout", "1"])
        .env("CHECKTOOL_DELAY", "30")
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(squash(&run.stdout()).contains("TIMEOUT checks"), "{}", run.describe());
    assert!(run.stdout().contains("timed out after 1 s"), "{}", run.describe());
    assert_eq!(run.manifest()["suites"][0]["outcome"], "timed_out");
}

#[test]
fn the_plain_qaagent_binary_does_not_know_the_custom_runner() {
    let project = fixture("custom-runner-project");
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 2, "{}", run.describe());
    assert!(run.stderr().contains("unknown runner `checks`"), "{}", run.describe());
}

/// What a binary's run of the pytest fixture amounts to, with what changes
/// from run to run (times, paths, run ids) normalized away: its JSON events,
/// its test records, its manifest's status and counts, and its exit code.
fn observed_run(bin: &std::path::Path) -> (Vec<Value>, Vec<Value>, Value, i32) {
    let project = fixture("pytest-project");
    let run = Qaagent::with_bin(bin, project.path())
        .args([
            "run-all",
            "--format",
            "json",
            "--retries",
            "1",
            "--suite",
            "passing",
            "--suite",
            "failing",
            "--suite",
            "missing",
        ])
        .run();
    let parse = |text: &str| -> Vec<Value> {
        normalize(text, project.path(), &run)
            .lines()
            .map(|line| {
                let mut value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
                scrub_numbers(&mut value);
                if let Some(record) = value.as_object_mut() {
                    record.remove("last_run");
                }
                value
            })
            .collect()
    };
    let events = parse(&run.stdout());
    let records_text = std::fs::read_to_string(run.run_dir().join("evidence/tests.jsonl")).expect("tests.jsonl");
    let records = parse(&records_text);
    let manifest = run.manifest();
    let verdict = serde_json::json!({ "status": manifest["status"], "counts": manifest["counts"] });
    (events, records, verdict, run.code())
}

#[test]
fn a_third_party_binary_runs_built_in_suites_exactly_as_qaagent_does() {
    let (events, records, verdict, code) = observed_run(&qaagent_bin());
    assert_eq!(code, 1, "the failing suite fails the run");
    assert!(records.len() >= 3, "{records:#?}");
    assert_eq!(events.last().map(|e| &e["event"]), Some(&Value::from("run-finished")));
    let custom = observed_run(&custom_bin());
    assert_eq!(custom.0, events, "JSON events");
    assert_eq!(custom.1, records, "tests.jsonl");
    assert_eq!(custom.2, verdict, "manifest status and counts");
    assert_eq!(custom.3, code, "exit code");
}
