//! A qaagent killed (SIGKILL) at any moment leaves a manifest that parses and a
//! tests.jsonl of whole lines.
//!
//! The test re-runs this very test binary as a child that creates and writes
//! runs in a loop (suites finishing out of order, big suites, diagnostics),
//! kills it at assorted instants, and then checks everything it left behind.

mod common;

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use evidence::{DiagnosticRecord, Manifest, RunStatus, TestRecord};

/// How many times a child is started and killed.
const ROUNDS: u64 = 24;

/// Set (to a runs root) in the child process only.
const CHILD_ENV: &str = "QAAGENT_EVIDENCE_CRASH_CHILD";

/// The child half of `killed_writers_leave_parseable_evidence`: writes runs
/// under `root` until it is SIGKILLed.
fn child_writes_runs_until_killed(root: &Path) -> ! {
    let names = ["a", "b", "c", "d", "e", "f"];
    let body = "captured output line\n".repeat(400);
    loop {
        let run = common::create(root, root, &names);
        let writer = run.start_writer().expect("writer");
        // Pairs finish swapped (b before a, …), so writes happen from the buffer too.
        for pair in [1usize, 0, 3, 2, 5, 4] {
            let cases = if pair % 2 == 0 { 400 } else { 50 };
            let mut cases = common::cases(names[pair], cases);
            // Long bodies make each batch many pages, so kills often land inside a write.
            for case in &mut cases {
                case.system_out = Some(body.clone());
            }
            writer
                .suite_finished(pair, common::suite_of(names[pair], "pytest", cases))
                .expect("send");
            // Suites a moment apart, as in a real run: the writer rewrites the
            // manifest between them (a burst of messages shares one write).
            std::thread::sleep(Duration::from_millis(5));
        }
        let diagnostic = DiagnosticRecord {
            test_name: "a_test_3".into(),
            selector: None,
            suite: "a".into(),
            category: "assertion".into(),
            root_cause: "assert 3 == 0".into(),
            confidence: 0.6,
            suggestion: "look".into(),
            error_message: None,
            route: None,
        };
        writer
            .diagnostics(vec![diagnostic; 500], vec!["summary".into()])
            .expect("send");
        writer
            .finish(RunStatus::Failed, Duration::from_secs(1))
            .expect("finished");
    }
}

#[test]
fn killed_writers_leave_parseable_evidence() {
    if let Some(root) = std::env::var_os(CHILD_ENV) {
        child_writes_runs_until_killed(Path::new(&root));
    }
    let exe = std::env::current_exe().expect("test binary");
    let base = tempfile::tempdir().expect("tempdir");
    let mut killed_mid_run = 0;
    let mut runs_checked = 0;
    for round in 0..ROUNDS {
        let root = base.path().join(format!("round{round}"));
        fs::create_dir(&root).expect("mkdir");
        let mut child = Command::new(&exe)
            .args(["--exact", "killed_writers_leave_parseable_evidence", "--test-threads=1"])
            .env(CHILD_ENV, &root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("child starts");
        // Even rounds: kill at instants spread over creation, buffering and finishing.
        // Odd rounds: kill the moment an evidence file is seen growing, i.e. inside a write.
        let delay = Duration::from_millis(30 + (round * 137) % 500);
        if round % 2 == 0 {
            std::thread::sleep(delay);
        } else {
            kill_while_writing(&root, delay);
        }
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("reaped");
        assert!(!status.success(), "the child was killed, it did not finish by itself");

        for entry in fs::read_dir(&root).expect("ls root") {
            let dir = entry.expect("entry").path();
            if !dir.is_dir() {
                continue;
            }
            runs_checked += 1;
            if check_run(&dir) == Some(RunStatus::Running) {
                killed_mid_run += 1;
            }
        }
    }
    assert!(
        runs_checked >= ROUNDS,
        "every round left at least one run ({runs_checked})"
    );
    assert!(
        killed_mid_run >= ROUNDS / 2,
        "most rounds killed a run while it was being written ({killed_mid_run})"
    );
}

/// Returns once, after `after`, the total size of the files under `root`'s runs'
/// `evidence/` directories (temporaries included) changes between two looks — or after 5 s.
fn kill_while_writing(root: &Path, after: Duration) {
    let start = std::time::Instant::now();
    let mut last = evidence_bytes(root);
    while start.elapsed() < after + Duration::from_secs(5) {
        let now = evidence_bytes(root);
        if now != last && start.elapsed() >= after {
            return;
        }
        last = now;
    }
}

fn evidence_bytes(root: &Path) -> u64 {
    let Ok(runs) = fs::read_dir(root) else { return 0 };
    runs.flatten()
        .filter_map(|run| fs::read_dir(run.path().join("evidence")).ok())
        .flat_map(|files| files.flatten())
        .filter_map(|file| file.metadata().ok())
        .map(|meta| meta.len())
        .sum()
}

/// Checks one run directory left by a killed child; returns its status.
fn check_run(dir: &Path) -> Option<RunStatus> {
    let manifest_path = dir.join("manifest.json");
    if !manifest_path.exists() {
        // Killed inside Run::create between mkdir and the first manifest's rename:
        // then nothing else but the writer's lock may be in the directory.
        let leftovers: Vec<_> = fs::read_dir(dir)
            .expect("ls run")
            .map(|e| e.expect("entry").file_name())
            .filter(|name| name != ".manifest.json.tmp" && name != evidence::LOCK_FILE)
            .collect();
        assert!(leftovers.is_empty(), "{}: no manifest but {leftovers:?}", dir.display());
        return None;
    }
    let text = fs::read_to_string(&manifest_path).expect("read manifest");
    let manifest: Manifest =
        serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: manifest does not parse: {err}", dir.display()));
    let tests = dir.join("evidence/tests.jsonl");
    let lines = match fs::read_to_string(&tests) {
        Ok(text) => {
            assert!(
                text.is_empty() || text.ends_with('\n'),
                "{}: torn last line",
                tests.display()
            );
            text.lines()
                .map(|line| {
                    serde_json::from_str::<TestRecord>(line)
                        .unwrap_or_else(|err| panic!("{}: bad line {line:.80}: {err}", tests.display()))
                })
                .collect::<Vec<_>>()
        }
        Err(_) => Vec::new(),
    };
    // The file is written before the manifest counts it.
    assert!(
        lines.len() as u64 >= manifest.counts.tests,
        "{}: manifest counts more than the file holds",
        dir.display()
    );
    if manifest.status != Some(RunStatus::Running) {
        assert_eq!(lines.len() as u64, manifest.counts.tests, "{}", dir.display());
    }
    // Its writer is dead: a reader tells the run was left running by a crash.
    let root = dir.parent().expect("runs root");
    let id = dir.file_name().and_then(|name| name.to_str()).expect("run id");
    let read = evidence::load_run(root, id).expect("loads");
    let expected_status = match manifest.status {
        Some(RunStatus::Running) => Some(RunStatus::Crashed),
        other => other,
    };
    assert_eq!(read.status(), expected_status, "{}", dir.display());
    let ids: HashSet<&str> = lines.iter().map(|r| r.test_id.as_str()).collect();
    assert_eq!(ids.len(), lines.len(), "{}: duplicate test ids", dir.display());
    // Suites appear whole and in order.
    let mut kinds: Vec<&str> = lines.iter().map(|r| r.kind.as_str()).collect();
    kinds.dedup();
    let expected = ["a", "b", "c", "d", "e", "f"];
    assert_eq!(kinds, expected[..kinds.len()], "{}", dir.display());
    if let Ok(text) = fs::read_to_string(dir.join("evidence/diagnostics.json")) {
        serde_json::from_str::<Vec<DiagnosticRecord>>(&text).expect("diagnostics parse");
    }
    manifest.status
}
