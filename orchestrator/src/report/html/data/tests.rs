//! The page's data read from small stored runs.

use std::path::Path;

use super::*;

#[test]
fn a_long_text_is_cut_on_a_character_boundary() {
    assert_eq!(clip("short", 10), "short");
    let cut = clip("ééé", 3);
    assert!(cut.starts_with("é…"), "{cut}");
}

#[test]
fn quarantined_failures_are_counted_and_flagged_apart_from_real_ones() {
    let root = tempfile::tempdir().expect("tempdir");
    let records = [
        r#"{"kind":"unit","name":"t_real","status":"failed","suite_name":"unit","error_message":"boom","metadata":{"attempts":1}}"#,
        r#"{"kind":"unit","name":"t_quarantined","status":"error","suite_name":"unit","error_message":"known","metadata":{"quarantined":true,"quarantine_reason":"JIRA-1"}}"#,
        r#"{"kind":"unit","name":"t_flaky","status":"passed","suite_name":"unit","evidence_refs":["artifacts/unit/shot.png","artifacts/unit/leak.png","artifacts/unit/stdout.log"],"metadata":{"flaky":true,"attempts":2,"previous_failures":[{"status":"failed","message":"first","duration":0.5}]}}"#,
    ]
    .map(String::from);
    let run = stored_run(root.path(), &records);
    // A test's own picture, and a link a tool left beside it, out of the run.
    std::fs::create_dir_all(run.dir.join("artifacts/unit")).expect("artifacts");
    std::fs::write(run.dir.join("artifacts/unit/shot.png"), "png").expect("shot");
    std::os::unix::fs::symlink("/etc/hostname", run.dir.join("artifacts/unit/leak.png")).expect("link");
    let data =
        serde_json::to_value(ReportData::read(&run, String::new(), 10, PAGE_LIMITS).expect("data")).expect("json");
    let counts = &data["run"]["counts"];
    assert_eq!(
        (
            &counts["failed"],
            &counts["errors"],
            &counts["quarantined"],
            &counts["flaky"]
        ),
        (&1.into(), &0.into(), &1.into(), &1.into())
    );
    let rows = data["tests"].as_array().expect("rows");
    assert_eq!(rows[0][5], 0);
    assert_eq!(rows[1][5], QUARANTINED);
    assert_eq!(rows[2][5], FLAKY);
    assert_eq!(rows[2][4], 2);
    let detail = |row: usize| &data["details"][rows[row][6].as_u64().expect("a detail") as usize];
    assert_eq!(detail(1)["quarantine_reason"], "JIRA-1");
    assert_eq!(detail(2)["attachments"], serde_json::json!(["artifacts/unit/shot.png"]));
    assert_eq!(detail(2)["previous"][0]["message"], "first");
}

/// A stored run of `records` (JSON lines) in one suite, "unit".
fn stored_run(root: &Path, records: &[String]) -> LoadedRun {
    let dir = root.join("20260101_000000Z");
    std::fs::create_dir_all(dir.join("evidence")).expect("run dir");
    std::fs::write(
        dir.join("manifest.json"),
        r#"{"run_id": "20260101_000000Z", "status": "failed", "suites": [{"name": "unit", "outcome": "failed"}]}"#,
    )
    .expect("manifest");
    std::fs::write(dir.join("evidence/tests.jsonl"), records.join("\n")).expect("records");
    evidence::load_run_dir(&dir).expect("run")
}

fn failure(name: &str, text: &str) -> String {
    format!(
        r#"{{"kind":"unit","name":"{name}","status":"failed","suite_name":"unit","error_message":"{text}","metadata":{{"details":"{text}{text}"}}}}"#
    )
}

#[test]
fn past_the_list_limit_passed_tests_are_counted_not_listed_and_failures_still_listed() {
    let root = tempfile::tempdir().expect("tempdir");
    let mut records: Vec<String> = (0..5)
        .map(|n| format!(r#"{{"kind":"unit","name":"t_pass_{n}","status":"passed","suite_name":"unit"}}"#))
        .collect();
    records.push(failure("t_late_failure", "boom"));
    let run = stored_run(root.path(), &records);
    let limits = Limits {
        listed: 3,
        ..PAGE_LIMITS
    };
    let data = serde_json::to_value(ReportData::read(&run, String::new(), 10, limits).expect("data")).expect("json");
    let names: Vec<&str> = data["tests"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row[1].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["t_pass_0", "t_pass_1", "t_pass_2", "t_late_failure"]);
    assert_eq!(data["unlisted"], 2);
    let counts = &data["run"]["counts"];
    assert_eq!(
        (&counts["tests"], &counts["passed"], &counts["failed"]),
        (&6.into(), &5.into(), &1.into())
    );
}

#[test]
fn once_the_details_text_is_spent_each_detail_is_cut_short() {
    let root = tempfile::tempdir().expect("tempdir");
    let long = "x".repeat(MESSAGE_CHARS * 2);
    let records: Vec<String> = (0..3).map(|n| failure(&format!("t_{n}"), &long)).collect();
    let run = stored_run(root.path(), &records);
    let limits = Limits {
        detail_text: MESSAGE_CHARS + 1,
        ..PAGE_LIMITS
    };
    let data = serde_json::to_value(ReportData::read(&run, String::new(), 10, limits).expect("data")).expect("json");
    let message_len = |n: usize| data["details"][n]["message"].as_str().expect("message").len();
    let details_len = |n: usize| data["details"][n]["details"].as_str().expect("details").len();
    // The first detail spends the budget; the rest are short, but there.
    assert!(message_len(0) > MESSAGE_CHARS && details_len(0) > long.len(), "{data}");
    for n in 1..3 {
        assert!(
            message_len(n) < SHORT_CHARS + 100 && details_len(n) < SHORT_CHARS + 100,
            "{data}"
        );
    }
    assert_eq!(data["tests"].as_array().expect("rows").len(), 3);
}

#[test]
fn every_text_from_the_tool_is_clipped() {
    let root = tempfile::tempdir().expect("tempdir");
    let long = "y".repeat(MESSAGE_CHARS * 3);
    let record = format!(
        r#"{{"kind":"unit","name":"{long}","status":"skipped","suite_name":"unit","metadata":{{"skip_reason":"{long}","error_type":"{long}","file":"{long}","selector":"{long}","quarantine_reason":"{long}"}}}}"#
    );
    let run = stored_run(root.path(), &[record]);
    let data =
        serde_json::to_value(ReportData::read(&run, String::new(), 10, PAGE_LIMITS).expect("data")).expect("json");
    let short = |value: &serde_json::Value| value.as_str().is_some_and(|text| text.len() < MESSAGE_CHARS + 100);
    assert!(short(&data["tests"][0][1]), "the name");
    for key in ["skip_reason", "error_type", "file", "selector", "quarantine_reason"] {
        assert!(short(&data["details"][0][key]), "{key}");
    }
}

#[test]
fn attachments_are_a_tests_own_files() {
    assert!(is_attachment(
        "artifacts/e2e/test-results/cart-chromium/test-failed-1.PNG"
    ));
    assert!(is_attachment(
        "artifacts/e2e/test-results/cart-chromium/error-context.md"
    ));
    assert!(is_attachment(
        "artifacts/e2e/attempt-2/test-results/cart-chromium/trace.zip"
    ));
    assert!(!is_attachment("artifacts/e2e/test-results/.last-run.json"));
    assert!(!is_attachment("artifacts/unit/stdout.log"));
    assert!(!is_attachment("artifacts/unit/junit.xml"));
}
