//! A runner's version probe cannot hang a run: a `command` suite whose
//! `version` command never returns (`echo 1.0; sleep 600 & wait`) neither
//! holds the run past the suite's timeout nor survives a Ctrl-C, and nothing
//! the probe started outlives the run.

use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use qaagent_tests::{project_with, read_json, Qaagent};

/// Long enough for a loaded machine, far shorter than the probe's `sleep
/// 600`: only a hang makes a run take this long.
const HANG: Duration = Duration::from_secs(20);

/// A project with one command suite, `api`, running `command` with the
/// never-returning version probe, which records its shell's and its sleep's
/// pids in the project dir.
fn project(command: &str, timeout: u32) -> tempfile::TempDir {
    let config = format!(
        r#"[project]
name = "probe"

[tests.api]
runner = "command"
path = "."
timeout = {timeout}
command = ["sh", "-c", "{command}"]
version = ["sh", "-c", "echo $$ > probe.pid; echo 1.0; sleep 600 & echo $! > sleep.pid; wait"]
"#
    );
    project_with("probe", &[(".qaagent.toml", &config)])
}

/// The pids the probe recorded, once it recorded them both.
fn probe_pids(project: &Path) -> Vec<i32> {
    let deadline = Instant::now() + HANG;
    loop {
        let pids: Vec<i32> = ["probe.pid", "sleep.pid"]
            .iter()
            .filter_map(|name| std::fs::read_to_string(project.join(name)).ok())
            .filter_map(|text| text.trim().parse().ok())
            .collect();
        if pids.len() == 2 {
            return pids;
        }
        assert!(Instant::now() < deadline, "the version probe never started");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// True when `pid` does not exist or is a zombie.
fn gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            .is_some_and(|state| matches!(state, "Z" | "X")),
    }
}

/// Asserts that every pid is gone, killing the survivors so that a failing
/// test leaves nothing behind either.
fn assert_gone(pids: &[i32]) {
    let alive: Vec<i32> = pids.iter().copied().filter(|&pid| !gone(pid)).collect();
    for &pid in &alive {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe { libc_kill(pid, SIGKILL) };
    }
    assert!(alive.is_empty(), "the probe's processes outlived the run: {alive:?}");
}

/// Waits for `child` to exit, polling; a run still going after [`HANG`] is
/// killed and fails the test.
fn exit_within_hang(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + HANG;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("qaagent still running after {HANG:?}: the version probe holds it");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn(qaagent: &mut Qaagent) -> Child {
    qaagent
        .command()
        .stdout(Stdio::null())
        // Its few warnings fit in the pipe: read once it has exited.
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn qaagent")
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;
const SIGKILL: i32 = 9;

#[test]
fn a_hanging_version_probe_ends_with_the_suites_timeout() {
    let junit = r#"printf '<testsuite name=\"s\"><testcase classname=\"c\" name=\"ok\"/></testsuite>' > {junit}"#;
    let project = project(junit, 2);
    let mut qaagent = Qaagent::new(project.path()).args(["run-all"]);
    let runs = qaagent.runs_dir().to_path_buf();
    let mut child = spawn(&mut qaagent);
    let pids = probe_pids(project.path());
    let status = exit_within_hang(&mut child);
    assert_eq!(status.code(), Some(0), "the suite's one test passed");
    assert_gone(&pids);

    let run_dir = std::fs::read_dir(&runs)
        .expect("runs dir")
        .flatten()
        .next()
        .expect("a run")
        .path();
    let manifest = read_json(&run_dir.join("manifest.json"));
    assert_eq!(manifest["status"], "passed", "{manifest:#}");
    assert_eq!(manifest["tools"]["sh"]["executed"], true, "{manifest:#}");
    assert!(
        manifest["tools"]["sh"]["version"].is_null(),
        "a probe that did not end gives no version, not its first line: {manifest:#}"
    );
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr).expect("read stderr");
    assert!(
        stderr.contains("did not answer within 2 s; it was stopped"),
        "and says why: {stderr}"
    );
}

/// `config check` bounds the probe as the run does and says the version is
/// unknown: not a problem, as the run runs the suite all the same. Before,
/// it said the tool was "not found" and exited 1 (a hostile try, 13b #6).
#[test]
fn config_check_of_a_hanging_version_probe_says_the_version_is_unknown() {
    let project = project("true", 2);
    let check = Qaagent::new(project.path()).args(["config", "check"]).run();
    assert_eq!(check.code(), 0, "{}", check.describe());
    let stdout = check.stdout();
    assert!(
        stdout.contains("command  version unknown: its version probe gave no answer in time"),
        "{stdout}"
    );
    assert!(!stdout.contains("not found"), "{stdout}");
}

/// `config check` ended by SIGTERM while a probe runs exits 143 and leaves
/// neither the probe's processes nor its output directory behind. Before,
/// it died by the signal and left `qaagent-probe-*` in `$TMPDIR` (a hostile
/// try, 12 #16 and 13b).
#[test]
fn config_check_ended_by_a_signal_leaves_no_probe_output_behind() {
    let project = project("true", 60);
    let tmp = tempfile::tempdir().expect("tmp");
    let mut qaagent = Qaagent::new(project.path())
        .args(["config", "check"])
        .env("TMPDIR", tmp.path());
    let mut child = spawn(&mut qaagent);
    let pids = probe_pids(project.path());
    let captures = || {
        (std::fs::read_dir(tmp.path()).expect("tmp").flatten())
            .filter(|entry| entry.file_name().to_string_lossy().starts_with("qaagent-probe-"))
            .count()
    };
    assert!(captures() > 0, "the probe's output directory, while it runs");
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc_kill(child.id() as i32, SIGTERM) };
    let status = exit_within_hang(&mut child);
    assert_eq!(status.code(), Some(143), "{status:?}");
    assert_eq!(captures(), 0, "left in $TMPDIR");
    let deadline = Instant::now() + HANG;
    while !pids.iter().all(|&pid| gone(pid)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_gone(&pids);
}

#[test]
fn ctrl_c_stops_a_run_whose_version_probe_hangs() {
    // The suite's own tool waits too, so the run is busy when interrupted.
    let project = project("sleep 300", 300);
    let mut qaagent = Qaagent::new(project.path()).args(["run-all"]);
    let mut child = spawn(&mut qaagent);
    let pids = probe_pids(project.path());
    let qaagent_pid = i32::try_from(child.id()).expect("pid fits");
    // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
    assert_eq!(unsafe { libc_kill(qaagent_pid, SIGINT) }, 0);
    let status = exit_within_hang(&mut child);
    assert_eq!(status.code(), Some(130), "interrupted");
    assert_gone(&pids);
}

/// A version command that prints without end (`yes`) keeps only the first
/// 64 KiB of its output on disk while it runs, not everything it printed:
/// before, its capture file in the temporary directory grew by gigabytes
/// over the probe's time limit (hostile try 12).
#[test]
fn a_probe_printing_without_end_keeps_only_its_first_64_kib_on_disk() {
    let tmp = tempfile::tempdir().expect("tmp");
    let config = r#"[project]
name = "probe"

[tests.api]
runner = "command"
path = "."
timeout = 5
command = ["sh", "-c", "exit 0"]
version = ["sh", "-c", "echo 1.0; head -c 20000000 /dev/zero; touch printed; sleep 600"]
"#;
    let project = project_with("probe-output", &[(".qaagent.toml", config)]);
    let mut qaagent = Qaagent::new(project.path()).args(["run-all", "--no-progress"]);
    qaagent.command().env("TMPDIR", tmp.path());
    let mut child = spawn(&mut qaagent);
    let printed = project.path().join("printed");
    let deadline = Instant::now() + HANG;
    while !printed.exists() {
        assert!(Instant::now() < deadline, "the version probe never printed");
        std::thread::sleep(Duration::from_millis(20));
    }
    let captured: u64 = std::fs::read_dir(tmp.path())
        .expect("tmp")
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("qaagent-probe-"))
        .flat_map(|dir| std::fs::read_dir(dir.path()).into_iter().flatten().flatten())
        .filter_map(|file| file.metadata().ok())
        .map(|meta| meta.len())
        .sum();
    let status = exit_within_hang(&mut child);
    assert!(
        captured <= 2 * 64 * 1024,
        "{captured} bytes of the probe's output on disk"
    );
    assert!(status.code().is_some(), "{status:?}");
}
