//! `orchestrator::merge`: shard runs written with evidence's writer (with
//! `partition` set, as `run-all --partition K/N` writes it), merged.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use evidence::{
    Case, Cases, EvidenceError, Partition, Run, RunInfo, RunStatus, SuiteOutcome, SuiteRecord, TestStatus, ToolRun,
};
use orchestrator::merge::{merge, MergeError, MergeOptions, MergeReport, Shard};
use orchestrator::run::Verdict;
use serde_json::Value;

const PLAN: &str = "0123456789abcdef0123456789abcdef";

/// One suite's tests: (name, status).
#[derive(Debug)]
struct Tests(Vec<(String, TestStatus)>);

impl Cases for Tests {
    fn count(&self) -> usize {
        self.0.len()
    }

    fn for_each(&self, each: &mut dyn FnMut(&Case<'_>) -> Result<(), EvidenceError>) -> Result<(), EvidenceError> {
        for (name, status) in &self.0 {
            let failed = status.is_failure();
            each(&Case {
                name,
                classname: "tests",
                status: *status,
                duration: 0.5,
                message: failed.then_some("assert 1 == 2"),
                error_type: failed.then_some("AssertionError"),
                details: None,
                file: Some("tests/test_x.py"),
                selector: Some(name),
                attempts: 1,
                flaky: false,
                system_out: None,
                system_err: None,
                previous_failures: Vec::new(),
                failures: Vec::new(),
                attachments: &[],
                route: None,
                quarantine: None,
            })?;
        }
        Ok(())
    }
}

/// A finished shard run `index/total` of `plan` under `root`, holding
/// `suites` (name → tests); each suite keeps one artifact.
fn shard(root: &Path, index: u32, total: u32, plan: &str, suites: &[(&str, &[(&str, TestStatus)])]) -> PathBuf {
    let info = RunInfo {
        project_name: "shop".into(),
        project_path: root.to_path_buf(),
        suites: suites.iter().map(|(name, _)| name.to_string()).collect(),
        qaagent_version: "test".into(),
        partition: Some(Partition {
            index,
            total,
            plan: plan.into(),
            durations: None,
            suites: Vec::new(),
        }),
    };
    let run = Run::create(root, info).expect("run created");
    let out = tempfile::tempdir().expect("out dir");
    let writer = run.start_writer().expect("writer");
    let mut any_failed = false;
    for (position, (name, tests)) in suites.iter().enumerate() {
        let failed = tests.iter().filter(|(_, status)| status.is_failure()).count();
        any_failed |= failed > 0;
        let junit = out.path().join(format!("{name}-junit.xml"));
        fs::write(&junit, format!("<testsuite name='{name}' shard='{index}'/>")).expect("artifact");
        let record = SuiteRecord {
            name: name.to_string(),
            runner: "pytest".into(),
            outcome: if failed > 0 {
                SuiteOutcome::Failed
            } else {
                SuiteOutcome::Passed
            },
            passed: tests.iter().filter(|(_, s)| *s == TestStatus::Passed).count(),
            failed,
            errors: 0,
            skipped: tests.iter().filter(|(_, s)| *s == TestStatus::Skipped).count(),
            flaky: 0,
            duration: Duration::from_secs(1),
            return_code: Some(i32::from(failed > 0)),
            error: None,
            log_tail: None,
            skip_reason: None,
            attempts: 1,
            leaked: Vec::new(),
            tool: ToolRun {
                name: "pytest".into(),
                version: Some("9".into()),
                executed: true,
                exit_code: Some(i32::from(failed > 0)),
                error: None,
            },
            output_dir: Some(out.path().to_path_buf()),
            artifacts: vec![junit],
            attempt_spans: vec![evidence::AttemptSpan::new(
                1,
                std::time::SystemTime::UNIX_EPOCH,
                std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(index)),
                SuiteOutcome::Passed,
            )],
            cases: Box::new(Tests(tests.iter().map(|(n, s)| (n.to_string(), *s)).collect())),
        };
        writer.suite_finished(position, record).expect("suite sent");
    }
    let status = if any_failed {
        RunStatus::Failed
    } else {
        RunStatus::Passed
    };
    let manifest = writer.finish(status, Duration::from_secs(2)).expect("finished");
    root.join(manifest.run_id)
}

const P: TestStatus = TestStatus::Passed;
const F: TestStatus = TestStatus::Failed;

/// Three shards of one plan: unit tests on every shard, behave on two; one failure on shard 2.
fn three_shards(root: &Path) -> Vec<PathBuf> {
    vec![
        shard(
            root,
            1,
            3,
            PLAN,
            &[("unit", &[("u1", P), ("u2", P)]), ("behave", &[("b1", P)])],
        ),
        shard(root, 2, 3, PLAN, &[("unit", &[("u3", F)]), ("behave", &[("b2", P)])]),
        shard(root, 3, 3, PLAN, &[("unit", &[("u4", P)])]),
    ]
}

fn open(dirs: &[PathBuf], root: &Path) -> Vec<Shard> {
    dirs.iter().map(|dir| Shard::open(dir, root).expect("opens")).collect()
}

fn merged(dirs: &[PathBuf], out: &Path, allow_partial: bool) -> Result<MergeReport, MergeError> {
    let options = MergeOptions {
        runs_dir: Some(out.to_path_buf()),
        junit: None,
        allow_partial,
    };
    merge(open(dirs, out), &options)
}

fn records(run_dir: &Path) -> Vec<Value> {
    let text = fs::read_to_string(run_dir.join(evidence::TESTS_FILE)).expect("tests.jsonl");
    text.lines()
        .map(|line| serde_json::from_str(line).expect("a whole line"))
        .collect()
}

fn refused(result: Result<MergeReport, MergeError>) -> String {
    match result {
        Err(err @ MergeError::NotOneRun { .. }) => err.to_string(),
        Err(other) => panic!("refused for the wrong reason: {other}"),
        Ok(report) => panic!("merged {} although it should not", report.run_dir.display()),
    }
}

#[test]
fn shards_merge_into_one_run_in_suite_order_keeping_every_record_and_failure() {
    let shards_root = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    // Given out of order: the merge orders them by share.
    let mut dirs = three_shards(shards_root.path());
    dirs.reverse();
    let report = merged(&dirs, out.path(), false).expect("merged");
    assert_eq!(report.verdict, Verdict::Failed);
    assert!(report.partial.is_empty());
    let manifest = &report.manifest;
    assert_eq!(manifest.status, Some(RunStatus::Failed));
    assert_eq!(manifest.partition, None, "the merged run is whole");
    assert_eq!(
        (
            manifest.counts.tests,
            manifest.counts.tests_passed,
            manifest.counts.tests_failed
        ),
        (6, 5, 1)
    );
    assert_eq!(manifest.counts.test_suites, 2);
    assert_eq!(manifest.suite_order, ["unit", "behave"]);
    let unit = &manifest.suites[0];
    assert_eq!((unit.name.as_str(), unit.outcome), ("unit", SuiteOutcome::Failed));
    assert_eq!((unit.tests, unit.passed, unit.failed, unit.attempts), (4, 3, 1, 1));
    assert_eq!(unit.return_code, Some(1), "the failing exit code wins");
    assert_eq!(manifest.suites[1].outcome, SuiteOutcome::Passed);
    let shards: Vec<Option<u32>> = unit.attempt_spans.iter().map(|span| span.shard).collect();
    assert_eq!(shards, [Some(1), Some(2), Some(3)], "each shard's attempt, labelled");
    assert_eq!(unit.attempt_spans[1].finished_at, "1970-01-01T00:00:02.000Z");
    assert!(
        report.run_dir.join("report.html").is_file(),
        "merge writes the HTML report"
    );
    assert_eq!(manifest.tools["pytest"].exit_code, Some(1));
    assert_eq!(manifest.extra["merged_from"].as_array().map(Vec::len), Some(3));
    assert_eq!(manifest.extra["merged_from"][0]["shard"], "1/3");

    let on_disk = records(&report.run_dir);
    let names: Vec<&str> = on_disk.iter().map(|r| r["name"].as_str().unwrap_or("?")).collect();
    assert_eq!(
        names,
        ["u1", "u2", "u3", "u4", "b1", "b2"],
        "suite order, shares in order within a suite"
    );
    let ids: Vec<&str> = on_disk.iter().map(|r| r["test_id"].as_str().unwrap_or("?")).collect();
    assert!(ids[0].ends_with("-0001") && ids[5].ends_with("-0006"), "{ids:?}");
    let u3 = &on_disk[2];
    assert_eq!(u3["status"], "failed");
    assert_eq!(u3["error_message"], "assert 1 == 2");
    assert_eq!(u3["metadata"]["shard"], 2);
    assert_eq!(u3["metadata"]["selector"], "u3");
    let refs = u3["evidence_refs"].as_array().expect("refs");
    assert_eq!(refs, &[Value::from("artifacts/shard-2/unit/unit-junit.xml")]);
    let kept = fs::read_to_string(report.run_dir.join("artifacts/shard-2/unit/unit-junit.xml")).expect("artifact kept");
    assert!(kept.contains("shard='2'"), "{kept}");
    assert!(
        unit.artifacts
            .contains(&"artifacts/shard-3/unit/unit-junit.xml".to_string()),
        "{:?}",
        unit.artifacts
    );

    let loaded = evidence::load_run_dir(&report.run_dir).expect("the merged run loads");
    assert_eq!(loaded.status(), Some(RunStatus::Failed));
    let diagnostics = loaded.diagnostics().expect("diagnostics");
    assert!(diagnostics.is_empty(), "the shards wrote none, none are invented");
}

#[test]
fn all_passed_shards_pass() {
    let shards_root = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let dirs = vec![
        shard(shards_root.path(), 1, 2, PLAN, &[("unit", &[("a", P)])]),
        shard(shards_root.path(), 2, 2, PLAN, &[("unit", &[("b", P)])]),
    ];
    let report = merged(&dirs, out.path(), false).expect("merged");
    assert_eq!(report.verdict, Verdict::Passed);
    assert_eq!(report.manifest.status, Some(RunStatus::Passed));
}

#[test]
fn a_missing_shard_is_refused_and_leaves_no_run() {
    let shards_root = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let dirs = three_shards(shards_root.path());
    let message = refused(merged(&[dirs[0].clone(), dirs[2].clone()], out.path(), false));
    assert!(message.contains("shard 2/3 missing"), "{message}");
    assert_eq!(fs::read_dir(out.path()).expect("ls").count(), 0, "nothing written");
}

#[test]
fn a_doubled_shard_a_different_plan_and_a_plain_run_are_refused_even_with_allow_partial() {
    let shards_root = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let dirs = three_shards(shards_root.path());
    let twice = vec![dirs[0].clone(), dirs[1].clone(), dirs[2].clone(), dirs[1].clone()];
    let message = refused(merged(&twice, out.path(), true));
    assert!(message.contains("shard 2/3 given twice"), "{message}");

    let other = shard(shards_root.path(), 2, 3, "ffffffffffffffff", &[("unit", &[("x", P)])]);
    let message = refused(merged(&[dirs[0].clone(), other, dirs[2].clone()], out.path(), true));
    assert!(message.contains("different plan"), "{message}");
    let other_total = shard(shards_root.path(), 2, 4, PLAN, &[("unit", &[("x", P)])]);
    let message = refused(merged(&[dirs[0].clone(), other_total], out.path(), true));
    assert!(message.contains("different plan"), "{message}");

    let plain = dirs[1].join(evidence::MANIFEST_FILE);
    let mut manifest: Value = serde_json::from_str(&fs::read_to_string(&plain).expect("read")).expect("json");
    manifest.as_object_mut().expect("object").remove("partition");
    fs::write(&plain, manifest.to_string()).expect("write");
    let message = refused(merged(&dirs, out.path(), true));
    assert!(message.contains("is not a share of a partitioned run"), "{message}");
    assert_eq!(fs::read_dir(out.path()).expect("ls").count(), 0, "nothing written");
}

fn set_status(run_dir: &Path, status: &str) {
    let path = run_dir.join(evidence::MANIFEST_FILE);
    let mut manifest: Value = serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
    manifest["status"] = status.into();
    fs::write(&path, manifest.to_string()).expect("write");
}

#[test]
fn an_unfinished_shard_is_refused() {
    let shards_root = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let dirs = three_shards(shards_root.path());
    set_status(&dirs[2], "interrupted");
    let message = refused(merged(&dirs, out.path(), false));
    assert!(message.contains("shard 3/3"), "{message}");
    assert!(message.contains("did not finish: it is interrupted"), "{message}");
}

/// A share killed before it recorded anything, its manifest then edited to
/// say `passed`, looks like an empty share: its planned suites give it away.
#[test]
fn a_finished_share_without_its_planned_suites_is_refused() {
    let shards_root = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let dirs = three_shards(shards_root.path());
    let path = dirs[1].join(evidence::MANIFEST_FILE);
    let mut manifest: Value = serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
    manifest["suites"] = serde_json::json!([]);
    for count in ["tests", "tests_passed", "tests_failed"] {
        manifest["counts"][count] = 0.into();
    }
    fs::write(&path, manifest.to_string()).expect("write");
    fs::write(dirs[1].join(evidence::TESTS_FILE), "").expect("no records");
    let message = refused(merged(&dirs, out.path(), false));
    assert!(message.contains("shard 2/3"), "{message}");
    assert!(
        message.contains("recorded no result of suite(s) it planned"),
        "{message}"
    );
}

#[test]
fn allow_partial_merges_what_is_there_and_never_passes() {
    let shards_root = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let dirs = vec![
        shard(shards_root.path(), 1, 3, PLAN, &[("unit", &[("a", P)])]),
        shard(shards_root.path(), 3, 3, PLAN, &[("unit", &[("c", P)])]),
    ];
    let report = merged(&dirs, out.path(), true).expect("merged");
    assert_eq!(
        report.verdict,
        Verdict::Failed,
        "every test passed, but shard 2 is not there"
    );
    assert_eq!(report.partial, ["shard 2/3 missing"]);
    assert_eq!(report.manifest.status, Some(RunStatus::Incomplete));
    assert_eq!(
        report.manifest.incomplete_reason.as_deref(),
        Some("partial merge: shard 2/3 missing")
    );
    assert_eq!(
        report.manifest.extra["partial"],
        serde_json::json!(["shard 2/3 missing"])
    );
    assert_eq!(records(&report.run_dir).len(), 2);
}

#[test]
fn a_torn_record_line_is_an_error_naming_the_shard_and_leaves_no_run() {
    let shards_root = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let dirs = three_shards(shards_root.path());
    let tests = dirs[1].join(evidence::TESTS_FILE);
    let mut text = fs::read_to_string(&tests).expect("read");
    text.push_str("{\"test_id\": \"TST-2");
    fs::write(&tests, text).expect("write");
    match merged(&dirs, out.path(), false) {
        Err(err @ MergeError::Records { .. }) => {
            let message = err.to_string();
            assert!(message.contains("shard 2/3") && message.contains("line 3"), "{message}");
        }
        other => panic!("expected a records error, got {other:?}"),
    }
    let left: Vec<_> = fs::read_dir(out.path()).expect("ls").collect();
    assert!(left.is_empty(), "the half-made run is removed: {left:?}");

    // With --allow-partial the line is left out and the run says so.
    let report = merged(&dirs, out.path(), true).expect("merged");
    assert_eq!(report.manifest.status, Some(RunStatus::Incomplete));
    assert!(report.partial[0].contains("1 line(s)"), "{:?}", report.partial);
    assert_eq!(records(&report.run_dir).len(), 6);
}

#[test]
fn records_missing_from_a_shard_make_it_incomplete() {
    let shards_root = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let dirs = three_shards(shards_root.path());
    let tests = dirs[1].join(evidence::TESTS_FILE);
    let text = fs::read_to_string(&tests).expect("read");
    // The failing record goes: a merge that passed now would be a false PASS.
    let kept: String = text
        .lines()
        .filter(|l| !l.contains("\"u3\""))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(&tests, kept).expect("write");
    let message = refused(merged(&dirs, out.path(), false));
    assert!(message.contains("holds 1 of the 2 records"), "{message}");
}

#[test]
fn hostile_references_and_links_are_not_followed() {
    let shards_root = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let dirs = three_shards(shards_root.path());
    let tests = dirs[0].join(evidence::TESTS_FILE);
    let text = fs::read_to_string(&tests).expect("read");
    let hostile: String = text
        .lines()
        .map(|line| {
            let mut record: Value = serde_json::from_str(line).expect("json");
            record["evidence_refs"] = serde_json::json!(["/etc/passwd", "artifacts/../../secret", "artifacts/unit"]);
            format!("{record}\n")
        })
        .collect();
    fs::write(&tests, hostile).expect("write");
    std::os::unix::fs::symlink("/etc", dirs[0].join("artifacts/unit/etc")).expect("link");
    let report = merged(&dirs, out.path(), false).expect("merged");
    let first = &records(&report.run_dir)[0];
    assert_eq!(first["evidence_refs"], serde_json::json!(["artifacts/shard-1/unit"]));
    assert!(!report.run_dir.join("artifacts/shard-1/unit/etc").exists());
    let warnings = report.warnings.join("\n");
    assert!(warnings.contains("shard 1/3: 6 evidence reference(s)"), "{warnings}");
    assert!(warnings.contains("unit/etc"), "{warnings}");
}
