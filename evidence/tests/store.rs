//! Reading runs back: listing (corrupt runs included), `latest`, records and errors.

mod common;

use std::fs;
use std::time::Duration;

use common::{create, suite};
use evidence::{list_runs, load_run, resolve_run, EvidenceError, ManifestProblem, RunStatus, TestStatus, LATEST};

#[test]
fn lists_newest_first_and_reports_broken_runs_without_failing() {
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");

    // Hand-made run directories, in a scrambled creation order.
    let good = create(root.path(), project.path(), &["unit"]);
    let good_id = good.run_id().to_string();
    let writer = good.start_writer().expect("writer");
    writer.suite_finished(0, suite("unit", "pytest", 3)).expect("send");
    writer.finish(RunStatus::Failed, Duration::ZERO).expect("finished");

    // Newer than the good run, but within the clock skew `latest` allows.
    let soon = (chrono::Utc::now() + chrono::TimeDelta::minutes(5))
        .format("%Y%m%d_%H%M%SZ")
        .to_string();
    let older_missing = root.path().join("20000101_000000Z");
    fs::create_dir_all(older_missing.join("evidence")).expect("mkdir");
    let newer_corrupt = root.path().join(&soon);
    fs::create_dir(&newer_corrupt).expect("mkdir");
    fs::write(newer_corrupt.join("manifest.json"), "{\"run_id\": \"2999").expect("torn manifest");
    let suffixed = root.path().join(format!("{soon}_10"));
    fs::create_dir(&suffixed).expect("mkdir");
    fs::write(suffixed.join("manifest.json"), "[1, 2]").expect("not a manifest object");
    let nine = root.path().join(format!("{soon}_09"));
    fs::create_dir(&nine).expect("mkdir");
    fs::write(nine.join("manifest.json"), "{}").expect("empty but valid");
    // Not runs: ignored.
    fs::create_dir(root.path().join("notes")).expect("mkdir");
    fs::write(root.path().join("20250101_000000Z"), "a file, not a directory").expect("write");

    let runs = list_runs(root.path()).expect("lists");
    let ids: Vec<&str> = runs.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            format!("{soon}_10").as_str(),
            format!("{soon}_09").as_str(),
            soon.as_str(),
            good_id.as_str(),
            "20000101_000000Z"
        ]
    );
    assert!(
        matches!(runs[0].manifest, Err(ManifestProblem::Corrupt(_))),
        "{:?}",
        runs[0].manifest
    );
    assert!(runs[1].manifest.is_ok(), "an empty object is a (sparse) manifest");
    assert!(
        matches!(runs[2].manifest, Err(ManifestProblem::Corrupt(_))),
        "{:?}",
        runs[2].manifest
    );
    let good_manifest = runs[3].manifest.as_ref().expect("readable");
    assert_eq!(good_manifest.status, Some(RunStatus::Failed));
    assert_eq!(good_manifest.counts.tests, 3);
    assert_eq!(runs[4].manifest, Err(ManifestProblem::Missing));
    assert_eq!(ManifestProblem::Missing.to_string(), "manifest.json is missing");

    // latest is the newest directory, even if broken; loading it says what is wrong.
    let (latest, _) = resolve_run(root.path(), LATEST, None).expect("latest");
    assert_eq!(latest, format!("{soon}_10"));
    let err = load_run(root.path(), LATEST).expect_err("corrupt");
    assert!(matches!(err, EvidenceError::BadManifest { .. }), "{err:?}");
    assert!(err.to_string().contains(&format!("{soon}_10")), "{err}");
    // A run dated years ahead is listed, but never `latest`.
    fs::create_dir(root.path().join("29991231_235959Z")).expect("mkdir");
    assert_eq!(
        resolve_run(root.path(), LATEST, None).expect("latest").0,
        format!("{soon}_10")
    );
}

#[test]
fn loads_a_run_and_iterates_its_records() {
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");
    let run = create(root.path(), project.path(), &["unit", "behave"]);
    let id = run.run_id().to_string();
    let writer = run.start_writer().expect("writer");
    writer.suite_finished(1, suite("behave", "behave", 2)).expect("send");
    writer.suite_finished(0, suite("unit", "pytest", 4)).expect("send");
    writer.finish(RunStatus::Failed, Duration::ZERO).expect("finished");

    for key in [id.as_str(), LATEST] {
        let loaded = load_run(root.path(), key).expect("loads");
        assert_eq!(loaded.run_id, id);
        assert_eq!(loaded.manifest.counts.tests, 6);
        let records: Vec<_> = loaded
            .records()
            .expect("opens")
            .collect::<Result<_, _>>()
            .expect("every record parses");
        assert_eq!(records.len(), 6);
        assert_eq!(records[0].kind, "unit");
        assert_eq!(records[5].kind, "behave");
        assert_eq!(records[3].status, TestStatus::Failed);
        assert_eq!(records[3].metadata["selector"], "tests/unit.py::unit_test_3");
        assert!(loaded.diagnostics().expect("none").is_empty());
    }
}

#[test]
fn a_bad_record_line_is_an_error_naming_file_and_line_and_others_still_read() {
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");
    let run = create(root.path(), project.path(), &["unit"]);
    let dir = run.dir().to_path_buf();
    let writer = run.start_writer().expect("writer");
    writer.suite_finished(0, suite("unit", "pytest", 2)).expect("send");
    writer.finish(RunStatus::Passed, Duration::ZERO).expect("finished");
    let path = dir.join("evidence/tests.jsonl");
    let mut text = fs::read_to_string(&path).expect("read");
    text.push_str("\n{\"test_id\": \"TST-torn");
    fs::write(&path, text).expect("write");

    let loaded = load_run(root.path(), LATEST).expect("loads");
    let results: Vec<_> = loaded.records().expect("opens").collect();
    assert_eq!(results.len(), 3, "blank lines are skipped");
    assert!(results[0].is_ok() && results[1].is_ok());
    let err = results[2].as_ref().expect_err("torn line");
    assert!(matches!(err, EvidenceError::BadRecord { line: 4, .. }), "{err:?}");
}

#[test]
fn unknown_and_malformed_ids_and_empty_roots_are_typed_errors() {
    let root = tempfile::tempdir().expect("tempdir");
    assert!(list_runs(&root.path().join("nope")).expect("missing root").is_empty());
    let err = load_run(root.path(), LATEST).expect_err("no runs");
    assert!(matches!(err, EvidenceError::NoRuns { .. }), "{err:?}");
    let err = load_run(root.path(), "20250101_000000Z").expect_err("not found");
    assert!(matches!(err, EvidenceError::RunNotFound { .. }), "{err:?}");
    for bad in ["../etc", "/tmp", "20250101_000000Z/../x", ""] {
        let err = load_run(root.path(), bad).expect_err("invalid");
        assert!(matches!(err, EvidenceError::InvalidRunId(_)), "{bad}: {err:?}");
    }
}

#[test]
fn runs_without_a_tests_file_have_no_records() {
    let root = tempfile::tempdir().expect("tempdir");
    let project = tempfile::tempdir().expect("project");
    let run = create(root.path(), project.path(), &[]);
    fs::remove_file(run.dir().join("evidence/tests.jsonl")).expect("rm");
    let loaded = load_run(root.path(), run.run_id()).expect("loads");
    assert_eq!(loaded.records().expect("opens").count(), 0);
}
