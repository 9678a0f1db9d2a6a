//! Process supervision end to end: timeouts, leaked processes, Ctrl-C,
//! SIGTERM and SIGKILL of qaagent itself. Every fixture test writes its pid
//! (and its grandchild's) to `$PID_DIR`, so these tests can check that no
//! process started by a suite outlives the run.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use qaagent_tests::{fixture, read_json, read_jsonl, squash, Qaagent};

/// True while `pid` is a live (non-zombie) process.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn read_pid(dir: &Path, name: &str) -> Option<u32> {
    std::fs::read_to_string(dir.join(name))
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

/// Waits until every file in `names` exists in `dir` (the suites got going).
fn wait_for_pids(dir: &Path, names: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !names.iter().all(|n| read_pid(dir, n).is_some()) {
        assert!(
            Instant::now() < deadline,
            "suites did not start: {:?}",
            std::fs::read_dir(dir).map(|d| d.count())
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every pid recorded in `dir`, with its file name.
fn recorded_pids(dir: &Path) -> Vec<(String, u32)> {
    let mut pids: Vec<(String, u32)> = std::fs::read_dir(dir)
        .expect("pid dir")
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            read_pid(dir, &name).map(|pid| (name, pid))
        })
        .collect();
    pids.sort();
    pids
}

/// Asserts no recorded process is alive, allowing a moment for the kernel to
/// finish killing (the kill itself was sent before qaagent returned).
fn assert_all_gone(dir: &Path) {
    let pids = recorded_pids(dir);
    assert!(!pids.is_empty(), "the fixture recorded pids");
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let alive: Vec<_> = pids.iter().filter(|(_, pid)| alive(*pid)).collect();
        if alive.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "processes outlived the run: {alive:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts `qaagent` with its output captured, for tests that signal it.
fn spawn(qaagent: &mut Qaagent) -> std::process::Child {
    qaagent
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn qaagent")
}

fn pid_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("qaagent-pids-")
        .tempdir()
        .expect("tempdir")
}

#[test]
fn timeout_kills_the_tool_and_its_grandchild_and_other_suites_run_on() {
    let project = fixture("supervision-project");
    let pids = pid_dir();
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "hang_a", "--suite", "quick", "--timeout", "2"])
        .env("PID_DIR", pids.path())
        .run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    let stdout = squash(&run.stdout());
    assert!(stdout.contains("TIMEOUT hang_a"), "{stdout}");
    assert!(stdout.contains("timed out after 2 s"), "{stdout}");
    assert!(stdout.contains("PASS quick 2 passed"), "{stdout}");
    // The test that was running when the timeout hit is an errored test
    // (pytest's live stream named it), which carries the suite's error: the
    // counts add up to the tests, and no suite error is counted apart.
    assert!(
        stdout.contains("FAILED: 2 suites, 3 tests: 2 passed, 0 failed, 1 error, 0 skipped in"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ERROR hang_a tests/hang_a/test_hang.py::test_hangs_with_a_grandchild"),
        "{stdout}"
    );
    assert!(
        read_pid(pids.path(), "hang_a.child.pid").is_some(),
        "the grandchild was started"
    );
    assert_all_gone(pids.path());
    let manifest = run.manifest();
    let hang = &manifest["suites"][1];
    assert_eq!(hang["name"], "hang_a");
    assert_eq!(hang["outcome"], "timed_out");
    assert!(
        hang["error"]
            .as_str()
            .is_some_and(|e| e.contains("timed out after 2 s")),
        "{hang}"
    );
    assert_eq!(manifest["suites"][0]["outcome"], "passed");
}

#[test]
fn timeouts_under_parallel_leave_nothing_behind_including_node_and_chromium() {
    let project = fixture("supervision-project");
    let pids = pid_dir();
    let mut qaagent = Qaagent::new(project.path())
        .args([
            "run-all",
            "--parallel",
            "--suite",
            "hang_a",
            "--suite",
            "e2e",
            "--suite",
            "quick",
            // Long enough for chromium to open its page first: on an idle
            // VM that charges for memory first touched it took over 8 s.
            "--timeout",
            "30",
        ])
        .env("PID_DIR", pids.path());
    let child = spawn(&mut qaagent);
    let qaagent_pid = child.id();
    // While the browser is open, the scan used below really sees it.
    wait_for_pids(pids.path(), &["e2e.pid"]);
    let running = processes_with_token_of(qaagent_pid);
    assert!(
        running.iter().any(|(_, cmd)| cmd.contains("chromium")),
        "chromium carries the token: {running:?}"
    );
    assert!(
        running.iter().any(|(_, cmd)| cmd.contains("node")),
        "node carries the token: {running:?}"
    );
    let output = child.wait_with_output().expect("wait qaagent");
    let stdout = squash(&String::from_utf8_lossy(&output.stdout));
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("TIMEOUT hang_a") && stdout.contains("TIMEOUT e2e"),
        "{stdout}"
    );
    assert!(stdout.contains("PASS quick"), "{stdout}");
    assert!(
        read_pid(pids.path(), "e2e.pid").is_some(),
        "the Playwright test got as far as its page: {stdout}"
    );
    assert_all_gone(pids.path());
    // Every process a suite started carries a token naming this qaagent:
    // npx, node, its workers and chromium's whole process tree.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let left = processes_with_token_of(qaagent_pid);
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "processes from the run remain: {left:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Live processes whose environment carries a suite token issued by the
/// qaagent process `pid`, with their command lines.
fn processes_with_token_of(pid: u32) -> Vec<(u32, String)> {
    let marker = format!("QAAGENT_SUITE_TOKEN={pid}-");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(candidate) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(environ) = std::fs::read(format!("/proc/{candidate}/environ")) else {
            continue;
        };
        let carries = environ.split(|b| *b == 0).any(|var| var.starts_with(marker.as_bytes()));
        if carries && alive(candidate) {
            let cmdline = std::fs::read(format!("/proc/{candidate}/cmdline")).unwrap_or_default();
            found.push((candidate, String::from_utf8_lossy(&cmdline).replace('\0', " ")));
        }
    }
    found
}

#[test]
fn leaked_process_is_reported_and_killed() {
    let project = fixture("supervision-project");
    let pids = pid_dir();
    let run = Qaagent::new(project.path())
        .args(["run-all", "--suite", "leaky"])
        .env("PID_DIR", pids.path())
        .run();
    assert_eq!(run.code(), 0, "a leak is a warning, not a failure: {}", run.describe());
    let child = read_pid(pids.path(), "leaky.child.pid").expect("leaked sleep pid");
    let stdout = run.stdout();
    assert!(
        stdout.contains(&format!("left process {child} running (killed): sleep 300")),
        "{stdout}"
    );
    assert_all_gone(pids.path());
    let manifest = run.manifest();
    let leaked = &manifest["suites"][0]["leaked"];
    assert_eq!(leaked[0]["pid"], child, "{manifest}");
    assert_eq!(leaked[0]["command"], "sleep 300");
    let log = std::fs::read_to_string(run.run_dir().join("artifacts/leaky/stderr.log")).unwrap_or_default()
        + &std::fs::read_to_string(run.run_dir().join("artifacts/leaky/stdout.log")).unwrap_or_default();
    assert!(
        log.contains(&format!("qaagent: killed leaked process {child}")),
        "the log says so too: {log}"
    );
}

/// The one run directory under the runs root `runs`.
fn only_run_dir(runs: &Path) -> PathBuf {
    std::fs::read_dir(runs)
        .expect("runs")
        .flatten()
        .next()
        .expect("a run dir")
        .path()
}

/// Starts qaagent on the interrupt scenario: `quick` finishes, `hang_a` and
/// `hang_b` run (two workers), `queued` waits.
fn start_interrupt_scenario(project: &Path, pids: &Path) -> (std::process::Child, PathBuf, tempfile::TempDir) {
    let mut qaagent = Qaagent::new(project)
        .args([
            "run-all",
            "--parallel",
            "--max-workers",
            "2",
            "--suite",
            "quick",
            "--suite",
            "hang_a",
            "--suite",
            "hang_b",
        ])
        .args(["--suite", "queued"])
        .env("PID_DIR", pids);
    let runs = tempfile::Builder::new()
        .prefix("qaagent-runs-")
        .tempdir()
        .expect("tempdir");
    qaagent.command().env("QAAGENT_RUNS_DIR", runs.path());
    let child = spawn(&mut qaagent);
    wait_for_pids(
        pids,
        &["hang_a.pid", "hang_b.pid", "hang_a.child.pid", "hang_b.child.pid"],
    );
    let run_dir = only_run_dir(runs.path());
    (child, run_dir, runs)
}

fn interrupt_and_check(signal: i32, expected_code: i32) {
    let project = fixture("supervision-project");
    let pids = pid_dir();
    let (child, run_dir, _runs) = start_interrupt_scenario(project.path(), pids.path());
    let sent = Instant::now();
    // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
    assert_eq!(unsafe { libc_kill(child.id() as i32, signal) }, 0);
    let output = child.wait_with_output().expect("wait qaagent");
    let took = sent.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let describe = format!("{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(expected_code), "{describe}");
    // kill_grace = 1 in the fixture: exit within grace + 1 s.
    assert!(took < Duration::from_secs(2), "took {took:?} to stop: {describe}");
    assert_all_gone(pids.path());
    assert!(
        read_pid(pids.path(), "queued.pid").is_none(),
        "the queued suite never started: {describe}"
    );
    let manifest = read_json(&run_dir.join("manifest.json"));
    assert_eq!(manifest["status"], "interrupted", "{manifest}");
    let outcomes: Vec<(&str, &str)> = manifest["suites"]
        .as_array()
        .expect("suites")
        .iter()
        .map(|s| (s["name"].as_str().unwrap_or(""), s["outcome"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("quick", "passed"),
            ("hang_a", "interrupted"),
            ("hang_b", "interrupted"),
            ("queued", "skipped")
        ]
    );
    let records = read_jsonl(&run_dir.join("evidence/tests.jsonl"));
    assert_eq!(
        records.iter().filter(|r| r["suite_name"] == "quick").count(),
        2,
        "the finished suite's records are kept"
    );
    assert!(squash(&stdout).contains("INTERRUPTED"), "{describe}");
    // How qaagent stopped the tool, not a signal qaagent may not have got.
    let error = manifest["suites"][1]["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("interrupted (its tool was sent SIGTERM)"), "{error}");
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

const SIGHUP: i32 = 1;
const SIGINT: i32 = 2;
const SIGKILL: i32 = 9;
const SIGTERM: i32 = 15;

#[test]
fn ctrl_c_stops_running_suites_skips_queued_ones_and_exits_130() {
    interrupt_and_check(SIGINT, 130);
}

#[test]
fn sigterm_does_the_same_and_exits_143() {
    interrupt_and_check(SIGTERM, 143);
}

#[test]
fn sighup_does_the_same_and_exits_129() {
    interrupt_and_check(SIGHUP, 129);
}

#[test]
fn sigkill_of_qaagent_leaves_parseable_evidence_and_takes_the_tool_with_it() {
    let project = fixture("supervision-project");
    let pids = pid_dir();
    let (mut child, run_dir, _runs) = start_interrupt_scenario(project.path(), pids.path());
    // SAFETY: as above.
    assert_eq!(unsafe { libc_kill(child.id() as i32, SIGKILL) }, 0);
    child.wait().expect("reap qaagent");
    let manifest = read_json(&run_dir.join("manifest.json"));
    assert_eq!(manifest["status"], "running", "nobody finalized it");
    let records = read_jsonl(&run_dir.join("evidence/tests.jsonl"));
    assert!(records.iter().all(|r| r["suite_name"] == "quick"), "{records:?}");
    // The tools die with qaagent (parent-death signal); their own children
    // die by the cgroup watchdog where qaagent could make cgroups.
    let names: &[&str] = if cgroups_expected() {
        &["hang_a.pid", "hang_b.pid", "hang_a.child.pid", "hang_b.child.pid"]
    } else {
        &["hang_a.pid", "hang_b.pid"]
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    for name in names {
        let pid = read_pid(pids.path(), name).expect("pid");
        while alive(pid) {
            assert!(Instant::now() < deadline, "{name} ({pid}) outlived qaagent");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    for name in ["hang_a.child.pid", "hang_b.child.pid"] {
        if let Some(pid) = read_pid(pids.path(), name) {
            // Without cgroups they are beyond reach of a SIGKILLed qaagent.
            // SAFETY: kill(2) on a pid this test's fixture recorded.
            unsafe { libc_kill(pid as i32, SIGKILL) };
        }
    }
}

/// True where qaagent must supervise with cgroups: as root, with a cgroup v2
/// hierarchy mounted read-write (CI, and this project's development machines).
fn cgroups_expected() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc_geteuid() } == 0;
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let cgroup2_rw = mountinfo.lines().any(|line| {
        line.split_once(" - ").is_some_and(|(fields, rest)| {
            rest.starts_with("cgroup2 ")
                && fields
                    .split_whitespace()
                    .nth(5)
                    .is_some_and(|o| o.split(',').any(|o| o == "rw"))
        })
    });
    root && cgroup2_rw
}

/// The live processes whose command line is exactly `command`.
fn processes_running(command: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|raw| {
                raw.split(|&b| b == 0)
                    .filter(|a| !a.is_empty())
                    .collect::<Vec<_>>()
                    .join(&b' ')
                    == command.as_bytes()
            }) && alive(pid)
        })
        .collect()
}

/// A project whose one command suite runs `script` (where `SLEEP` stands for
/// a sleep unique to this test), with `timeout` seconds per attempt.
fn escaping_project(script: &str, timeout: u32) -> tempfile::TempDir {
    let config = format!(
        r#"[project]
name = "escape"

[run]
kill_grace = 1

[tests.escape]
runner = "command"
path = "."
timeout = {timeout}
command = ["bash", "-c", '''{script}''']
"#
    );
    qaagent_tests::project_with("escape", &[(".qaagent.toml", &config)])
}

/// Asserts that no process runs `command` any more and that the run's one
/// suite reports it as leaked.
fn assert_killed_and_reported(run: &qaagent_tests::RunOutput, command: &str) {
    assert_eq!(
        processes_running(command),
        Vec::<u32>::new(),
        "{command} outlived the run: {}",
        run.describe()
    );
    let manifest = run.manifest();
    let leaked = manifest["suites"][0]["leaked"].as_array().cloned().unwrap_or_default();
    assert!(
        leaked.iter().any(|p| p["command"] == command),
        "{command} is reported as leaked: {manifest}"
    );
}

/// `sleep` with a duration unique to this test process, to find it in `/proc`.
fn unique_sleep(base: u32) -> String {
    format!("sleep {base}.{}", std::process::id())
}

#[test]
fn a_descendant_that_cleared_its_environment_and_left_the_session_dies_at_the_timeout_and_is_reported() {
    let sleep = unique_sleep(3011);
    let project = escaping_project(&format!("env -i setsid {sleep} & wait"), 2);
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_eq!(run.code(), 1, "{}", run.describe());
    assert!(
        squash(&run.stdout()).contains("timed out after 2 s"),
        "{}",
        run.describe()
    );
    assert_killed_and_reported(&run, &sleep);
}

#[test]
fn an_orphan_that_cleared_its_environment_and_left_the_session_is_found_when_the_tool_exits() {
    let sleep = unique_sleep(3012);
    // The subshell exits at once: the sleep is orphaned while the tool still runs.
    let project = escaping_project(
        &format!("(env -i setsid {sleep} &); sleep 0.5; echo '<testsuite name=\"s\" tests=\"1\"><testcase classname=\"c\" name=\"t\"/></testsuite>' > {{junit}}"),
        60,
    );
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_killed_and_reported(&run, &sleep);
}

/// The same orphan, which also wrote itself out of the attempt's cgroup
/// into the root one (root may): found by adoption all the same. Before,
/// with a cgroup, only the cgroup was asked, and it outlived the run
/// unreported (hostile try 12).
#[test]
fn an_orphan_that_also_left_its_cgroup_is_found_when_the_tool_exits() {
    let sleep = unique_sleep(3014);
    // Where supervision uses cgroups, the root cgroup's procs file; else the
    // orphan just stays where it is (the case above).
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let root_procs = (mountinfo.lines())
        .filter(|line| {
            line.split_once(" - ")
                .is_some_and(|(_, rest)| rest.starts_with("cgroup2 "))
        })
        .filter_map(|line| line.split_whitespace().nth(4))
        .map(|mount| format!("{mount}/cgroup.procs"))
        .next()
        .filter(|_| cgroups_expected())
        .unwrap_or_else(|| "/dev/null".into());
    let project = escaping_project(
        &format!("(sh -c 'echo $$ > {root_procs}; exec env -i setsid {sleep}' &); sleep 0.5; echo '<testsuite name=\"s\" tests=\"1\"><testcase classname=\"c\" name=\"t\"/></testsuite>' > {{junit}}"),
        60,
    );
    let run = Qaagent::new(project.path()).args(["run-all"]).run();
    assert_killed_and_reported(&run, &sleep);
}

#[test]
fn a_descendant_that_cleared_its_environment_and_left_the_session_dies_at_an_interrupt() {
    let sleep = unique_sleep(3013);
    let project = escaping_project(&format!("env -i setsid {sleep} & wait"), 60);
    let mut qaagent = Qaagent::new(project.path()).args(["run-all"]);
    let child = spawn(&mut qaagent);
    let deadline = Instant::now() + Duration::from_secs(60);
    while processes_running(&sleep).is_empty() {
        assert!(Instant::now() < deadline, "the escaping sleep never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
    assert_eq!(unsafe { libc_kill(child.id() as i32, SIGINT) }, 0);
    let output = child.wait_with_output().expect("wait qaagent");
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        processes_running(&sleep),
        Vec::<u32>::new(),
        "the escaped sleep outlived the interrupt"
    );
}

/// A qaagent started with SIGCHLD ignored (its parent's `trap '' CHLD`,
/// inherited through exec) could not wait for any tool ("No child
/// processes") and its tools inherited it; started with the stop signals
/// blocked, it never saw SIGTERM (hostile try). It resets both.
#[test]
fn signal_state_inherited_from_the_parent_is_reset() {
    let project = fixture("pytest-project");
    let runs = tempfile::tempdir().expect("runs");
    // dash does not pass on `trap '' CHLD`; Python does.
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg("import os, signal, sys; signal.signal(signal.SIGCHLD, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])")
        .arg(qaagent_tests::qaagent_bin())
        .args(["run-all", "--no-progress", "--suite", "passing"])
        .current_dir(project.path())
        .env("QAAGENT_RUNS_DIR", runs.path())
        .env("VIRTUAL_ENV", qaagent_tests::venv())
        .stdin(Stdio::null())
        .output()
        .expect("sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(squash(&stdout).contains("PASSED"), "{stdout}");
}

/// Runs the interrupt scenario in a pseudo-terminal (Python's `pty`) and
/// closes the terminal once the hanging suites run, as a dropped ssh
/// session does: the kernel sends SIGHUP, and qaagent's output to the
/// terminal fails from then on (EIO).
#[test]
fn a_terminal_that_goes_away_stops_the_run_and_exits_129() {
    const CLOSE_WHEN_TOLD: &str = r#"
import os, pty, select, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
while True:
    ready, _, _ = select.select([fd, sys.stdin], [], [])
    if sys.stdin in ready:
        break
    try:
        os.read(fd, 65536)
    except OSError:
        break
os.close(fd)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"#;
    let project = fixture("supervision-project");
    let pids = pid_dir();
    let runs = tempfile::tempdir().expect("tempdir");
    let mut python = std::process::Command::new("python3")
        .args(["-c", CLOSE_WHEN_TOLD])
        .arg(qaagent_tests::qaagent_bin())
        .args(["run-all", "--parallel", "--max-workers", "2"])
        .args([
            "--suite", "quick", "--suite", "hang_a", "--suite", "hang_b", "--suite", "queued",
        ])
        .current_dir(project.path())
        .env("PID_DIR", pids.path())
        .env("QAAGENT_RUNS_DIR", runs.path())
        .env("VIRTUAL_ENV", qaagent_tests::venv())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    wait_for_pids(pids.path(), &["hang_a.pid", "hang_b.pid"]);
    drop(python.stdin.take());
    let output = python.wait_with_output().expect("wait python3");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert_eq!(printed.trim(), "129", "qaagent's exit code");
    assert_all_gone(pids.path());
    let run_dir = only_run_dir(runs.path());
    assert_eq!(read_json(&run_dir.join("manifest.json"))["status"], "interrupted");
}
