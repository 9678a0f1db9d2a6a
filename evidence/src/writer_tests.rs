//! Unit tests of the evidence writer (`writer.rs`).
use super::*;
use crate::manifest::MANIFEST_FILE;
use crate::suite::{Case, TestStatus};
use chrono::TimeZone;

fn git(dir: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

/// A repository on branch `trunk` with one commit of `a.txt`.
fn committed_repo() -> tempfile::TempDir {
    let project = tempfile::tempdir().expect("project");
    git(project.path(), &["init", "-q", "-b", "trunk"]);
    std::fs::write(project.path().join("a.txt"), "1").expect("write");
    git(project.path(), &["add", "a.txt"]);
    git(project.path(), &["commit", "-q", "-m", "one"]);
    project
}

#[test]
fn the_git_state_reported_meanwhile_is_in_the_final_manifest() {
    let project = committed_repo();
    std::fs::write(project.path().join("a.txt"), "2").expect("modify a tracked file");
    let root = tempfile::tempdir().expect("root");
    let run = Run::create(
        root.path(),
        RunInfo {
            project_name: "shop".into(),
            project_path: project.path().to_path_buf(),
            suites: vec![],
            qaagent_version: "0".into(),
            partition: None,
        },
    )
    .expect("create");
    let finished = run
        .start_writer()
        .expect("writer")
        .finish(RunStatus::Passed, Duration::ZERO)
        .expect("finish");
    assert_eq!(finished.target.git.branch.as_deref(), Some("trunk"));
    assert_eq!(finished.target.git.dirty, Some(true));
    let text = std::fs::read_to_string(root.path().join(&finished.run_id).join("manifest.json")).expect("read");
    let on_disk: Manifest = serde_json::from_str(&text).expect("parses");
    assert_eq!(on_disk.target.git.dirty, Some(true), "{text}");
}

#[test]
fn the_git_state_is_on_disk_before_any_suite_finishes() {
    let project = committed_repo();
    let root = tempfile::tempdir().expect("root");
    let info = RunInfo {
        project_name: "shop".into(),
        project_path: project.path().to_path_buf(),
        suites: vec!["unit".into()],
        qaagent_version: "0".into(),
        partition: None,
    };
    let writer = Run::create(root.path(), info)
        .and_then(Run::start_writer)
        .expect("writer");
    let path = writer.dir().join(MANIFEST_FILE);
    // No message is sent: a run killed now must still say which commit it ran.
    let deadline = Instant::now() + Duration::from_secs(20);
    let on_disk = loop {
        let manifest: Manifest = serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("parses");
        if manifest.target.git.commit.is_some() || Instant::now() >= deadline {
            break manifest;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(on_disk.status, Some(RunStatus::Running));
    assert_eq!(on_disk.target.git.branch.as_deref(), Some("trunk"), "{on_disk:#?}");
    assert_eq!(on_disk.target.git.dirty, Some(false));
    writer.finish(RunStatus::Passed, Duration::ZERO).expect("finish");
}

#[test]
fn runs_created_in_the_same_second_get_suffixed_ids_and_their_own_manifests() {
    let root = tempfile::tempdir().expect("tempdir");
    let now = Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).single().expect("valid time");
    let info = RunInfo {
        project_name: "shop".into(),
        project_path: root.path().to_path_buf(),
        suites: vec!["unit".into()],
        qaagent_version: "0".into(),
        partition: None,
    };
    let first = Run::create_at(root.path(), info.clone(), now).expect("first");
    let second = Run::create_at(root.path(), info, now).expect("second");
    assert_eq!(first.run_id(), "20250304_050607Z");
    assert_eq!(second.run_id(), "20250304_050607Z_01");
    for run in [&first, &second] {
        let text = std::fs::read_to_string(run.dir().join("manifest.json")).expect("manifest");
        let manifest: Manifest = serde_json::from_str(&text).expect("parses");
        assert_eq!(manifest.run_id, run.run_id());
        assert_eq!(manifest.created_at, "2025-03-04T05:06:07Z");
    }
    let second_dir = second.dir().to_path_buf();
    let writer = second.start_writer().expect("writer");
    let result = SuiteRecord::of("unit", "pytest", vec![Case::new("t", "c", TestStatus::Passed)]);
    writer.suite_finished(0, result).expect("send");
    writer.finish(RunStatus::Passed, Duration::ZERO).expect("finished");
    let text = std::fs::read_to_string(std::path::Path::new(&second_dir).join(TESTS_FILE)).expect("tests");
    assert!(text.contains("\"test_id\":\"TST-20250304-0001\""), "{text}");
}
