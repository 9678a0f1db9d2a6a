//! The writer thread end to end: run creation, ordering, counts, finalization, diagnostics.

mod common;

use std::collections::HashSet;
use std::fs;
use std::time::Duration;

use common::{create, lines, manifest, suite, wait_for_manifest};
use evidence::{DiagnosticRecord, EvidenceError, EvidenceMessage, RunStatus, ToolRun};

#[test]
fn a_new_run_has_a_running_manifest_and_an_empty_tests_file() {
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");
    let run = create(&root.path().join("nested/runs"), project.path(), &["unit", "behave"]);
    assert!(
        run.dir().starts_with(root.path().join("nested/runs")),
        "root created on demand"
    );
    assert!(run.dir().join("evidence").is_dir());
    assert!(run.dir().join("artifacts").is_dir());
    assert_eq!(fs::read(run.dir().join("evidence/tests.jsonl")).expect("exists"), b"");

    let m = manifest(run.dir());
    assert_eq!(m["run_id"], run.run_id());
    assert_eq!(m["status"], "running");
    assert_eq!(m["target"]["name"], "shop");
    assert_eq!(m["target"]["path"], project.path().to_str().expect("utf8"));
    assert_eq!(m["target"]["git"], serde_json::json!({}), "not a repository");
    assert_eq!(
        m["evidence_files"],
        serde_json::json!({"tests": "evidence/tests.jsonl"})
    );
    assert_eq!(m["suite_order"], serde_json::json!(["unit", "behave"]));
    assert_eq!(m["qaagent_version"], "0.1.0-test");
    assert_eq!(m["finished_at"], serde_json::Value::Null);
    let created = m["created_at"].as_str().expect("string");
    assert_eq!(created.len(), "2025-03-04T05:06:07Z".len(), "{created}");
    assert!(created.ends_with('Z'));
    for key in [
        "findings",
        "risks",
        "tests",
        "coverage_components",
        "test_suites",
        "tests_passed",
        "tests_failed",
    ] {
        assert_eq!(m["counts"][key], 0, "counts.{key}");
    }
    let mut names: Vec<_> = fs::read_dir(run.dir())
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["artifacts", "evidence", "manifest.json", "writer.lock"],
        "no temporaries left behind"
    );
    let date = &run.run_id()[..8];
    assert_eq!(&created[..10].replace('-', ""), date, "run id and created_at agree");
}

#[test]
fn out_of_order_suites_are_written_in_suite_order_with_sequential_ids() {
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");
    let run = create(root.path(), project.path(), &["unit", "behave", "e2e"]);
    let dir = run.dir().to_path_buf();
    let writer = run.start_writer().expect("writer");

    writer.suite_finished(2, suite("e2e", "playwright", 3)).expect("send");
    writer.suite_finished(1, suite("behave", "behave", 4)).expect("send");
    // Neither can be written before unit: the manifest says so and the file stays empty.
    wait_for_manifest(&dir, |m| m["tools"].get("behave").is_some());
    assert!(lines(&dir).is_empty(), "nothing written ahead of suite #0");
    assert_eq!(manifest(&dir)["counts"]["tests"], 0);

    writer.suite_finished(0, suite("unit", "pytest", 5)).expect("send");
    let final_manifest = writer
        .finish(RunStatus::Failed, Duration::from_secs(7))
        .expect("finished");

    let records = lines(&dir);
    let kinds: Vec<&str> = records.iter().map(|r| r["kind"].as_str().expect("kind")).collect();
    assert_eq!(kinds, [vec!["unit"; 5], vec!["behave"; 4], vec!["e2e"; 3]].concat());
    let date = &final_manifest.run_id[..8];
    let ids: Vec<String> = records
        .iter()
        .map(|r| r["test_id"].as_str().expect("id").to_string())
        .collect();
    let expected: Vec<String> = (1..=12).map(|n| format!("TST-{date}-{n:04}")).collect();
    assert_eq!(ids, expected, "ids follow file order");
    assert_eq!(records[0]["name"], "unit_test_0");
    assert_eq!(records[0]["runner_type"], "pytest");
    assert_eq!(records[0]["suite_name"], "unit");

    let m = manifest(&dir);
    assert_eq!(m["status"], "failed");
    assert_eq!(m["wall_seconds"], 7.0);
    assert!(m["finished_at"].is_string());
    let suites: Vec<&str> = m["suites"]
        .as_array()
        .expect("array")
        .iter()
        .map(|s| s["name"].as_str().expect("name"))
        .collect();
    assert_eq!(suites, ["unit", "behave", "e2e"]);
    assert_eq!(m["counts"]["tests"], 12);
    assert_eq!(m["counts"]["test_suites"], 3);
    assert_eq!(
        serde_json::to_value(&final_manifest).expect("json"),
        m,
        "finish returns what is on disk"
    );
}

#[test]
fn counts_follow_each_written_suite() {
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");
    let run = create(root.path(), project.path(), &["unit", "behave"]);
    let dir = run.dir().to_path_buf();
    let writer = run.start_writer().expect("writer");

    let unit = suite("unit", "pytest", 30);
    let (passed, failed, errors, skipped) = (unit.passed, unit.failed, unit.errors, unit.skipped);
    writer.suite_finished(0, unit).expect("send");
    let m = wait_for_manifest(&dir, |m| m["counts"]["tests"] == 30);
    assert_eq!(m["status"], "running");
    assert_eq!(m["counts"]["test_suites"], 1);
    assert_eq!(m["counts"]["tests_passed"], passed);
    assert_eq!(
        m["counts"]["tests_failed"],
        failed + errors,
        "failed counts failed and errored cases"
    );
    assert_eq!(m["counts"]["tests_errors"], errors);
    assert_eq!(m["counts"]["tests_skipped"], skipped);
    assert_eq!(lines(&dir).len(), 30);
    let entry = &m["suites"][0];
    assert_eq!(entry["outcome"], "failed");
    assert_eq!(entry["passed"], passed);
    assert_eq!(entry["duration"], 1.5);
    assert_eq!(entry["attempts"], 1);
    assert_eq!(m["tools"]["pytest"]["version"], "1.0");
    assert_eq!(m["tools"]["pytest"]["executed"], true);

    let mut flaky = common::cases("behave", 1);
    flaky[0].flaky = true;
    flaky[0].attempts = 2;
    writer
        .suite_finished(1, common::suite_of("behave", "behave", flaky))
        .expect("send");
    let m = writer
        .finish(RunStatus::Failed, Duration::from_secs(1))
        .expect("finished");
    assert_eq!(m.counts.tests, 31);
    assert_eq!(m.counts.tests_flaky, 1);
    assert_eq!(m.counts.test_suites, 2);
}

#[test]
fn messages_sent_together_are_all_in_the_manifest_once_applied() {
    // The writer rewrites the manifest once its queue is drained: after a
    // burst of messages the manifest on disk must still catch up with all
    // of them, without waiting for the run's end.
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");
    let run = create(root.path(), project.path(), &["unit", "api"]);
    let dir = run.dir().to_path_buf();
    let writer = run.start_writer().expect("writer");
    writer.suite_finished(0, suite("unit", "pytest", 3)).expect("send");
    writer.suite_finished(1, suite("api", "pytest", 2)).expect("send");
    writer
        .diagnostics(Vec::new(), vec!["no failures".to_string()])
        .expect("send");
    let m = wait_for_manifest(&dir, |m| m["diagnostics"][0] == "no failures");
    assert_eq!(m["status"], "running");
    assert_eq!(
        (m["counts"]["tests"].as_u64(), m["counts"]["test_suites"].as_u64()),
        (Some(5), Some(2))
    );
    assert_eq!(lines(&dir).len(), 5);
    writer.finish(RunStatus::Failed, Duration::ZERO).expect("finished");
}

#[test]
fn an_interrupted_run_keeps_finished_suites_in_order_and_skips_the_rest() {
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");
    let run = create(root.path(), project.path(), &["a", "b", "c", "d"]);
    let dir = run.dir().to_path_buf();
    let writer = run.start_writer().expect("writer");
    // b never finishes; d and a do, out of order.
    writer.suite_finished(3, suite("d", "pytest", 2)).expect("send");
    writer.suite_finished(0, suite("a", "pytest", 2)).expect("send");
    wait_for_manifest(&dir, |m| m["counts"]["tests"] == 2);
    let m = writer
        .finish(RunStatus::Interrupted, Duration::from_millis(2500))
        .expect("finished");

    assert_eq!(m.status, Some(RunStatus::Interrupted));
    assert_eq!(m.wall_seconds, Some(2.5));
    let names: Vec<&str> = m.suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a", "d"]);
    let kinds: Vec<String> = lines(&dir)
        .iter()
        .map(|r| r["kind"].as_str().expect("kind").to_string())
        .collect();
    assert_eq!(kinds, ["a", "a", "d", "d"]);
    assert_eq!(manifest(&dir)["status"], "interrupted");
}

#[test]
fn dropping_every_sender_finalizes_as_interrupted() {
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");
    let run = create(root.path(), project.path(), &["a", "b"]);
    let dir = run.dir().to_path_buf();
    let writer = run.start_writer().expect("writer");
    let sender = writer.sender();
    drop(writer);
    sender
        .send(EvidenceMessage::SuiteFinished {
            index: 1,
            result: Box::new(suite("b", "pytest", 1)),
        })
        .expect("writer still alive while a sender exists");
    drop(sender);
    let m = wait_for_manifest(&dir, |m| m["status"] != "running");
    assert_eq!(m["status"], "interrupted");
    assert_eq!(m["counts"]["tests"], 1, "the finished suite was written");
    assert_eq!(lines(&dir).len(), 1);
}

#[test]
fn a_finish_sent_through_a_sender_stops_the_writer() {
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");
    let run = create(root.path(), project.path(), &["a"]);
    let writer = run.start_writer().expect("writer");
    writer
        .send(EvidenceMessage::Finish {
            status: RunStatus::Passed,
            wall: Duration::from_secs(1),
        })
        .expect("send");
    let m = writer
        .finish(RunStatus::Failed, Duration::from_secs(2))
        .expect("finished");
    assert_eq!(m.status, Some(RunStatus::Passed), "the first Finish stands");
    assert_eq!(m.wall_seconds, Some(1.0));
}

#[test]
fn a_duplicate_suite_report_is_returned_at_finish_and_not_written_twice() {
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");
    let run = create(root.path(), project.path(), &["a"]);
    let dir = run.dir().to_path_buf();
    let writer = run.start_writer().expect("writer");
    writer.suite_finished(0, suite("a", "pytest", 2)).expect("send");
    writer.suite_finished(0, suite("a", "pytest", 2)).expect("send");
    let err = writer
        .finish(RunStatus::Passed, Duration::ZERO)
        .expect_err("duplicate reported");
    assert!(matches!(err, EvidenceError::DuplicateSuite { index: 0, .. }), "{err:?}");
    assert_eq!(lines(&dir).len(), 2);
    assert_eq!(
        manifest(&dir)["status"],
        "passed",
        "the run is still finalized, and nothing is missing from it"
    );
}

#[test]
fn write_errors_are_kept_and_returned_at_finish() {
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");
    let run = create(root.path(), project.path(), &["a"]);
    let dir = run.dir().to_path_buf();
    let writer = run.start_writer().expect("writer");
    // Make evidence/ unusable: every later tests.jsonl update fails.
    fs::remove_dir_all(dir.join("evidence")).expect("rm");
    fs::write(dir.join("evidence"), "not a directory").expect("write");
    writer.suite_finished(0, suite("a", "pytest", 2)).expect("send");
    let err = writer
        .finish(RunStatus::Passed, Duration::ZERO)
        .expect_err("write error surfaces");
    assert!(err.to_string().contains("tests.jsonl"), "{err}");
    let m = manifest(&dir);
    assert_eq!(m["status"], "incomplete", "finalized, as what it is: {m:#}");
    let reason = m["incomplete_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("tests.jsonl"), "the reason names the file: {m:#}");
    assert_eq!(m["counts"]["tests"], 0, "counts only what reached the file");
}

#[test]
fn diagnostics_are_written_and_named_in_the_manifest() {
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");
    let run = create(root.path(), project.path(), &["unit"]);
    let dir = run.dir().to_path_buf();
    let writer = run.start_writer().expect("writer");
    let record = DiagnosticRecord {
        test_name: "test_get_pet".into(),
        selector: None,
        suite: "unit".into(),
        category: "assertion".into(),
        root_cause: "assert 1 == 2".into(),
        confidence: 0.6,
        suggestion: "Check the expected value.".into(),
        error_message: Some("assert 1 == 2".into()),
        route: Some("GET /pets/{pet_id}".into()),
    };
    let summary = vec!["1 test failure(s) detected. Breakdown: assertion: 1".to_string()];
    writer.diagnostics(vec![record.clone()], summary.clone()).expect("send");
    let m = writer.finish(RunStatus::Failed, Duration::ZERO).expect("finished");
    assert_eq!(
        m.evidence_files.diagnostics.as_deref(),
        Some("evidence/diagnostics.json")
    );
    assert_eq!(m.diagnostics, summary);
    let on_disk: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("evidence/diagnostics.json")).expect("read")).expect("json");
    assert_eq!(
        on_disk,
        serde_json::json!([{
            "test_name": "test_get_pet", "suite": "unit", "category": "assertion",
            "root_cause": "assert 1 == 2", "confidence": 0.6, "suggestion": "Check the expected value.",
            "error_message": "assert 1 == 2", "route": "GET /pets/{pet_id}"
        }])
    );
    let loaded = evidence::load_run(root.path(), "latest").expect("loads");
    assert_eq!(loaded.diagnostics().expect("reads"), [record]);
}

#[test]
fn without_failures_there_is_no_diagnostics_entry() {
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");
    let run = create(root.path(), project.path(), &["unit"]);
    let dir = run.dir().to_path_buf();
    let writer = run.start_writer().expect("writer");
    let m = writer.finish(RunStatus::Passed, Duration::ZERO).expect("finished");
    assert_eq!(m.evidence_files.diagnostics, None);
    assert!(manifest(&dir)["evidence_files"].get("diagnostics").is_none());
    assert!(!dir.join("evidence/diagnostics.json").exists());
}

#[test]
fn artifacts_are_copied_and_referenced_by_records_and_suites() {
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");
    let out = project.path().join("out/unit");
    fs::create_dir_all(&out).expect("mkdir");
    fs::write(out.join("junit.xml"), "<testsuites/>").expect("write");
    fs::write(out.join("stdout.log"), "ok").expect("write");
    let run = create(root.path(), project.path(), &["unit", "e2e"]);
    let dir = run.dir().to_path_buf();
    // e2e writes straight into the run's artifacts dir.
    let e2e_out = run.suite_artifacts_dir("e2e");
    fs::create_dir_all(&e2e_out).expect("mkdir");
    fs::write(e2e_out.join("junit.xml"), "<testsuites/>").expect("write");
    let writer = run.start_writer().expect("writer");

    let mut unit = suite("unit", "pytest", 2);
    unit.output_dir = Some(out.clone());
    unit.artifacts = vec![out.join("junit.xml"), out.join("stdout.log"), out.join("missing.xml")];
    writer.suite_finished(0, unit).expect("send");
    let mut e2e = suite("e2e", "playwright", 1);
    e2e.output_dir = Some(e2e_out.clone());
    e2e.artifacts = vec![e2e_out.join("junit.xml")];
    writer.suite_finished(1, e2e).expect("send");
    let m = writer
        .finish(RunStatus::Passed, Duration::ZERO)
        .expect("a missing artifact is not an error");

    assert_eq!(
        fs::read_to_string(dir.join("artifacts/unit/junit.xml")).expect("copied"),
        "<testsuites/>"
    );
    assert_eq!(
        m.suites[0].artifacts,
        ["artifacts/unit/junit.xml", "artifacts/unit/stdout.log"]
    );
    assert_eq!(m.suites[1].artifacts, ["artifacts/e2e/junit.xml"]);
    let records = lines(&dir);
    assert_eq!(
        records[0]["evidence_refs"],
        serde_json::json!(["artifacts/unit/junit.xml", "artifacts/unit/stdout.log"])
    );
    assert_eq!(
        records[2]["evidence_refs"],
        serde_json::json!(["artifacts/e2e/junit.xml"])
    );
}

#[test]
fn tools_and_routes_reach_the_manifest_and_records() {
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");
    let run = create(root.path(), project.path(), &["unit", "api"]);
    let dir = run.dir().to_path_buf();
    let writer = run.start_writer().expect("writer");
    writer
        .tool_info(ToolRun {
            name: "node".into(),
            version: Some("20.1".into()),
            executed: false,
            exit_code: None,
            error: None,
        })
        .expect("send");
    let mut errored = common::errored("api", "command", "gotestsum not found");
    errored.tool = ToolRun {
        name: "gotestsum".into(),
        version: None,
        executed: false,
        exit_code: None,
        error: Some("not found".into()),
    };
    writer.suite_finished(1, errored).expect("send");
    let mut unit = common::cases("unit", 2);
    for case in &mut unit {
        case.route = case.name.ends_with("_1").then(|| "GET /pets".to_string());
    }
    writer
        .suite_finished(0, common::suite_of("unit", "pytest", unit))
        .expect("send");
    let m = writer.finish(RunStatus::Failed, Duration::ZERO).expect("finished");
    assert_eq!(m.tools["node"].version.as_deref(), Some("20.1"));
    assert_eq!(m.tools["gotestsum"].error.as_deref(), Some("not found"));
    assert_eq!(m.suites[1].errors, 1);
    assert_eq!(m.suites[1].error.as_deref(), Some("gotestsum not found"));
    assert_eq!(m.counts.test_suites, 2);
    let records = lines(&dir);
    assert_eq!(records.len(), 2, "an errored suite without cases adds no record");
    assert_eq!(records[0]["route"], serde_json::Value::Null);
    assert_eq!(records[1]["route"], "GET /pets");
}

#[test]
fn a_hundred_thousand_records_are_written_quickly_and_whole() {
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");
    let run = create(root.path(), project.path(), &["unit"]);
    let dir = run.dir().to_path_buf();
    let big = suite("unit", "pytest", 100_000);
    let writer = run.start_writer().expect("writer");
    let started = std::time::Instant::now();
    writer.suite_finished(0, big).expect("send");
    let m = writer.finish(RunStatus::Failed, Duration::ZERO).expect("finished");
    let elapsed = started.elapsed();
    eprintln!("100000 records written in {elapsed:?}");
    // Generous: this only proves nothing is quadratic (release builds take a fraction of the 0.5 s budget).
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    assert_eq!(m.counts.tests, 100_000);
    let records = lines(&dir);
    assert_eq!(records.len(), 100_000);
    let ids: HashSet<&str> = records.iter().map(|r| r["test_id"].as_str().expect("id")).collect();
    assert_eq!(ids.len(), 100_000, "ids are unique");
    assert!(ids.contains(format!("TST-{}-100000", &m.run_id[..8]).as_str()));
}

#[test]
fn readers_never_see_a_partial_manifest_or_tests_file() {
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");
    let names: Vec<String> = (0..60).map(|i| format!("s{i}")).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let run = create(root.path(), project.path(), &name_refs);
    let dir = run.dir().to_path_buf();
    let writer = run.start_writer().expect("writer");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (dir, stop) = (dir.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let m = manifest(&dir);
                let records = lines(&dir);
                assert!(records.len() as u64 >= m["counts"]["tests"].as_u64().expect("count"));
                reads += 1;
            }
            reads
        })
    };
    for (index, name) in names.iter().enumerate() {
        writer.suite_finished(index, suite(name, "pytest", 50)).expect("send");
    }
    let m = writer.finish(RunStatus::Failed, Duration::ZERO).expect("finished");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader.join().expect("every read parsed");
    assert!(reads > 0);
    assert_eq!(m.counts.tests, 3000);
}
