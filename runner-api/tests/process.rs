//! Supervised processes, end to end with real `sh` and `sleep` processes:
//! exits, logs, timeouts, cancels, leaked and escaped processes, live output,
//! bounded memory, the parent-death signal, and bounded probes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use runner_api::probe::{ProbeError, PROBE_OUTPUT_LIMIT};
use runner_api::process::{run_supervised, ExitKind, ProcessError, Supervision, SUITE_TOKEN_ENV};
use runner_api::{CancelKind, CancelToken, LiveOutput, OutputLine, OutputStream, Probe, SuiteContext};

const GRACE: Duration = Duration::from_millis(500);

/// Tells the test binary, re-invoked to run one helper test, where to work.
const HELPER_DIR: &str = "QAAGENT_TEST_HELPER_DIR";

fn supervision(dir: &Path) -> Supervision {
    Supervision {
        label: "suite-a".to_string(),
        timeout: None,
        kill_grace: GRACE,
        cancel: CancelToken::new(),
        stdout_log: dir.join("stdout.log"),
        stderr_log: dir.join("stderr.log"),
        live_output: None,
        log_limit: None,
    }
}

fn sh(dir: &Path, script: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(script).current_dir(dir);
    cmd
}

/// Waits (boundedly) for a pid file the script writes, and reads it.
fn wait_for_pid(path: &Path) -> i32 {
    let start = Instant::now();
    loop {
        if let Ok(text) = fs::read_to_string(path) {
            if let Ok(pid) = text.trim().parse() {
                return pid;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} never appeared",
            path.display()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

fn read_pid(path: &Path) -> i32 {
    let text = fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    text.trim().parse().expect("a pid")
}

/// True when `pid` does not exist or is a zombie.
fn gone(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => {
            let after_name = &stat[stat.rfind(')').expect("stat has a name") + 1..];
            matches!(after_name.split_whitespace().next(), Some("Z" | "X" | "x"))
        }
    }
}

/// For assertions that must hold eventually (after a kill we do not own).
fn gone_within(pid: i32, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if gone(pid) {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    gone(pid)
}

/// The pids among `pids` still alive; all of them are then SIGKILLed, so that
/// a failing test leaks nothing either. Assert on the result.
fn survivors(pids: &[i32]) -> Vec<i32> {
    let alive: Vec<i32> = pids.iter().copied().filter(|&pid| !gone(pid)).collect();
    for &pid in &alive {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    alive
}

/// Shell function: wait until process $1 runs exactly the command line $2.
const WAIT_EXEC: &str =
    r#"wait_exec() { until [ "$(tr '\0' ' ' < /proc/$1/cmdline)" = "$2 " ]; do sleep 0.02; done; }"#;

#[test]
fn exit_code_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outcome = run_supervised(sh(dir.path(), "exit 3"), &supervision(dir.path())).expect("runs");
    assert_eq!(outcome.exit, ExitKind::Code(3));
    assert_eq!(outcome.code(), Some(3));
    assert!(!outcome.timed_out);
    assert_eq!(outcome.cancelled, None);
    assert!(outcome.leaked.is_empty());
}

#[test]
fn death_by_signal_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outcome = run_supervised(sh(dir.path(), "kill -USR1 $$"), &supervision(dir.path())).expect("runs");
    assert_eq!(outcome.exit, ExitKind::Signal(libc::SIGUSR1));
    assert_eq!(outcome.code(), None);
}

#[test]
fn output_goes_to_the_log_files_and_stdin_is_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = "echo out; echo err >&2; cat; echo \"token=$QAAGENT_SUITE_TOKEN\"";
    let outcome = run_supervised(sh(dir.path(), script), &supervision(dir.path())).expect("runs");
    assert_eq!(outcome.exit, ExitKind::Code(0));
    let stdout = fs::read_to_string(dir.path().join("stdout.log")).expect("stdout log");
    let stderr = fs::read_to_string(dir.path().join("stderr.log")).expect("stderr log");
    assert_eq!(stderr, "err\n");
    let token = stdout
        .strip_prefix("out\ntoken=")
        .and_then(|rest| rest.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("unexpected stdout {stdout:?}"));
    assert!(!token.is_empty(), "{SUITE_TOKEN_ENV} is set");

    let again = run_supervised(
        sh(dir.path(), "echo \"$QAAGENT_SUITE_TOKEN\""),
        &supervision(dir.path()),
    )
    .expect("runs");
    assert_eq!(again.exit, ExitKind::Code(0));
    let second = fs::read_to_string(dir.path().join("stdout.log")).expect("stdout log");
    assert_ne!(second.trim(), token, "each supervised process has its own token");
}

#[test]
fn missing_program_is_a_spawn_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = run_supervised(
        Command::new("/nonexistent/qaagent-no-such-tool"),
        &supervision(dir.path()),
    )
    .expect_err("cannot run");
    assert!(matches!(err, ProcessError::Spawn { .. }), "{err:?}");
    assert!(err.is_not_found(), "{err:?}");
}

#[test]
fn unwritable_log_is_a_log_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sup = supervision(dir.path());
    sup.stdout_log = dir.path().join("no-such-dir").join("stdout.log");
    let err = run_supervised(sh(dir.path(), "true"), &sup).expect_err("no log dir");
    assert!(matches!(err, ProcessError::Log { .. }), "{err:?}");
}

#[test]
fn timeout_kills_the_whole_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sup = supervision(dir.path());
    sup.timeout = Some(Duration::from_secs(1));
    let script = "sleep 300 & echo $! > bg.pid; echo $$ > sh.pid; sleep 300";
    let outcome = run_supervised(sh(dir.path(), script), &sup).expect("runs");
    let (sh_pid, bg_pid) = (
        read_pid(&dir.path().join("sh.pid")),
        read_pid(&dir.path().join("bg.pid")),
    );
    // No waiting: run_supervised returns only once they are gone.
    assert_eq!(
        survivors(&[sh_pid, bg_pid]),
        [],
        "sh {sh_pid} and background sleep {bg_pid} are gone"
    );
    assert!(outcome.timed_out);
    assert_eq!(outcome.cancelled, None);
    assert_eq!(outcome.exit, ExitKind::Signal(libc::SIGTERM));
    assert!(
        outcome.leaked.is_empty(),
        "stopped processes are not leaks: {:?}",
        outcome.leaked
    );
    assert!(
        outcome.wall < Duration::from_secs(30),
        "did not hang: {:?}",
        outcome.wall
    );
}

#[test]
fn sigterm_ignoring_tool_is_killed_after_the_grace_period() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sup = supervision(dir.path());
    sup.timeout = Some(Duration::from_secs(1));
    let script = "trap '' TERM; echo $$ > sh.pid; sleep 300";
    let outcome = run_supervised(sh(dir.path(), script), &sup).expect("runs");
    let sh_pid = read_pid(&dir.path().join("sh.pid"));
    assert_eq!(survivors(&[sh_pid]), []);
    assert!(outcome.timed_out);
    assert_eq!(outcome.exit, ExitKind::Signal(libc::SIGKILL));
    assert!(
        outcome.wall >= Duration::from_millis(1500),
        "SIGKILL waited for the grace period: {:?}",
        outcome.wall
    );
    assert!(
        outcome.wall < Duration::from_secs(30),
        "did not hang: {:?}",
        outcome.wall
    );
}

#[test]
fn process_that_left_the_group_is_killed_by_its_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sup = supervision(dir.path());
    sup.timeout = Some(Duration::from_secs(2));
    let script = format!(
        "{WAIT_EXEC}\n\
         setsid sleep 300 & p=$!; wait_exec $p 'sleep 300'\n\
         echo $p > escaped.pid; cut -d' ' -f5 /proc/$p/stat > escaped.pgrp; echo $$ > sh.pid\n\
         sleep 300"
    );
    let outcome = run_supervised(sh(dir.path(), &script), &sup).expect("runs");
    let escaped = read_pid(&dir.path().join("escaped.pid"));
    let sh_pid = read_pid(&dir.path().join("sh.pid"));
    assert_eq!(
        survivors(&[escaped, sh_pid]),
        [],
        "escaped sleep {escaped} and sh {sh_pid} are gone"
    );
    assert_ne!(
        read_pid(&dir.path().join("escaped.pgrp")),
        sh_pid,
        "the sleep really left the tool's process group"
    );
    assert!(outcome.timed_out);
}

#[test]
fn leftovers_after_a_normal_exit_are_reported_and_killed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = format!(
        "{WAIT_EXEC}\n\
         sleep 300 & p=$!; wait_exec $p 'sleep 300'; echo $p > bg.pid\n\
         setsid sleep 301 & q=$!; wait_exec $q 'sleep 301'; echo $q > escaped.pid\n\
         exit 0"
    );
    let outcome = run_supervised(sh(dir.path(), &script), &supervision(dir.path())).expect("runs");
    let bg = read_pid(&dir.path().join("bg.pid"));
    let escaped = read_pid(&dir.path().join("escaped.pid"));
    assert_eq!(
        survivors(&[bg, escaped]),
        [],
        "leaked sleeps {bg} and {escaped} are gone"
    );
    assert_eq!(outcome.exit, ExitKind::Code(0));
    assert!(!outcome.timed_out);
    let mut leaked: Vec<(u32, String)> = outcome.leaked.iter().map(|p| (p.pid, p.command.clone())).collect();
    leaked.sort();
    let mut expected = vec![
        (bg as u32, "sleep 300".to_string()),
        (escaped as u32, "sleep 301".to_string()),
    ];
    expected.sort();
    assert_eq!(leaked, expected);
}

#[test]
fn leftover_that_ignores_sigterm_is_killed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = "trap '' TERM; sleep 300 & echo $! > bg.pid; exit 0";
    let start = Instant::now();
    let outcome = run_supervised(sh(dir.path(), script), &supervision(dir.path())).expect("runs");
    let bg = read_pid(&dir.path().join("bg.pid"));
    assert_eq!(survivors(&[bg]), []);
    assert_eq!(outcome.exit, ExitKind::Code(0));
    assert_eq!(outcome.leaked.len(), 1, "{:?}", outcome.leaked);
    assert_eq!(outcome.leaked[0].pid, bg as u32);
    assert!(start.elapsed() >= GRACE, "waited for the grace period before SIGKILL");
}

/// Cancels `token` with each of `kinds` (pausing between them) once `pid_file` exists.
fn cancel_when_started(token: CancelToken, pid_file: PathBuf, kinds: Vec<CancelKind>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        wait_for_pid(&pid_file);
        for kind in kinds {
            token.cancel(kind);
            thread::sleep(Duration::from_millis(300));
        }
    })
}

#[test]
fn graceful_cancel_stops_the_tool() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sup = supervision(dir.path());
    let canceller = cancel_when_started(
        sup.cancel.clone(),
        dir.path().join("sh.pid"),
        vec![CancelKind::Graceful],
    );
    let script = "sleep 300 & echo $! > bg.pid; echo $$ > sh.pid; wait";
    let outcome = run_supervised(sh(dir.path(), script), &sup).expect("runs");
    canceller.join().expect("canceller");
    let (sh_pid, bg) = (
        read_pid(&dir.path().join("sh.pid")),
        read_pid(&dir.path().join("bg.pid")),
    );
    assert_eq!(survivors(&[sh_pid, bg]), []);
    assert_eq!(outcome.cancelled, Some(CancelKind::Graceful));
    assert!(!outcome.timed_out);
    assert_eq!(outcome.exit, ExitKind::Signal(libc::SIGTERM));
}

/// Cancels a tool that ignores SIGTERM with `kinds`, one after the other,
/// under a 60 s grace, and checks it was killed without waiting for the grace.
fn cancel_kills_without_waiting_for_the_grace(kinds: Vec<CancelKind>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sup = supervision(dir.path());
    sup.kill_grace = Duration::from_secs(60);
    let canceller = cancel_when_started(sup.cancel.clone(), dir.path().join("sh.pid"), kinds);
    let script = "trap '' TERM; echo $$ > sh.pid; sleep 300";
    let outcome = run_supervised(sh(dir.path(), script), &sup).expect("runs");
    canceller.join().expect("canceller");
    let sh_pid = read_pid(&dir.path().join("sh.pid"));
    assert_eq!(survivors(&[sh_pid]), []);
    assert_eq!(outcome.cancelled, Some(CancelKind::Immediate));
    assert_eq!(outcome.exit, ExitKind::Signal(libc::SIGKILL));
    assert!(
        outcome.wall < Duration::from_secs(30),
        "did not wait for the grace: {:?}",
        outcome.wall
    );
}

#[test]
fn immediate_cancel_kills_at_once() {
    cancel_kills_without_waiting_for_the_grace(vec![CancelKind::Immediate]);
}

#[test]
fn cancel_escalates_during_the_grace_period() {
    cancel_kills_without_waiting_for_the_grace(vec![CancelKind::Graceful, CancelKind::Immediate]);
}

#[test]
fn already_cancelled_token_stops_the_tool_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sup = supervision(dir.path());
    sup.cancel.cancel(CancelKind::Graceful);
    let outcome = run_supervised(sh(dir.path(), "sleep 300"), &sup).expect("runs");
    assert_eq!(outcome.cancelled, Some(CancelKind::Graceful));
    assert!(
        outcome.wall < Duration::from_secs(30),
        "did not hang: {:?}",
        outcome.wall
    );
}

#[test]
fn live_output_sends_whole_labelled_lines_and_logs_every_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (tx, rx) = crossbeam_channel::unbounded::<OutputLine>();
    let mut sup = supervision(dir.path());
    sup.live_output = Some(LiveOutput::new(move |line| tx.send(line).is_ok()));
    // The long line crosses several pipe reads; the last stderr line has no newline.
    let script = "printf 'out one\\n'; printf 'err one\\n' >&2; printf 'out two\\r\\n'; \
                  head -c 40000 /dev/zero | tr '\\0' y; printf '\\n'; printf 'err tail' >&2";
    let outcome = run_supervised(sh(dir.path(), script), &sup).expect("runs");
    assert_eq!(outcome.exit, ExitKind::Code(0));
    let lines: Vec<OutputLine> = rx.try_iter().collect();
    assert!(lines.iter().all(|line| line.suite == "suite-a"), "labelled");
    let of = |stream| -> Vec<String> {
        lines
            .iter()
            .filter(|line| line.stream == stream)
            .map(|line| line.line.clone())
            .collect()
    };
    assert_eq!(
        of(OutputStream::Stdout),
        ["out one".to_string(), "out two".to_string(), "y".repeat(40000)]
    );
    assert_eq!(of(OutputStream::Stderr), ["err one", "err tail"]);
    let stdout = fs::read(dir.path().join("stdout.log")).expect("stdout log");
    let mut expected = b"out one\nout two\r\n".to_vec();
    expected.extend(std::iter::repeat_n(b'y', 40000));
    expected.push(b'\n');
    assert_eq!(stdout, expected);
    assert_eq!(
        fs::read_to_string(dir.path().join("stderr.log")).expect("stderr log"),
        "err one\nerr tail"
    );
}

#[test]
fn live_output_survives_a_receiver_that_went_away() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (tx, rx) = crossbeam_channel::unbounded::<OutputLine>();
    drop(rx);
    let mut sup = supervision(dir.path());
    sup.live_output = Some(LiveOutput::new(move |line| tx.send(line).is_ok()));
    let outcome = run_supervised(sh(dir.path(), "seq 1 1000"), &sup).expect("runs");
    assert_eq!(outcome.exit, ExitKind::Code(0));
    let log = fs::read_to_string(dir.path().join("stdout.log")).expect("stdout log");
    assert_eq!(log.lines().count(), 1000);
}

fn peak_rss_kib() -> u64 {
    let status = fs::read_to_string("/proc/self/status").expect("status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// The command re-running this test binary's test `name` as a helper
/// process: with [`HELPER_DIR`] set, that test plays its child half.
fn helper(name: &str, dir: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(HELPER_DIR, dir);
    cmd
}

/// Set when this process is a helper started by [`helper`].
fn helper_dir() -> Option<PathBuf> {
    std::env::var_os(HELPER_DIR).map(PathBuf::from)
}

#[test]
fn huge_output_does_not_grow_memory() {
    if let Some(dir) = helper_dir() {
        return huge_output_helper(&dir);
    }
    // In its own process, so that other tests cannot disturb the peak RSS.
    let dir = tempfile::tempdir().expect("tempdir");
    let run = helper("huge_output_does_not_grow_memory", dir.path())
        .output()
        .expect("helper runs");
    assert!(
        run.status.success(),
        "helper failed:\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        String::from_utf8_lossy(&run.stdout).contains("1 passed"),
        "the helper ran: {}",
        String::from_utf8_lossy(&run.stdout)
    );
}

/// The child half of `huge_output_does_not_grow_memory`.
fn huge_output_helper(dir: &Path) {
    const MIB: u64 = 1024 * 1024;
    let (tx, rx) = crossbeam_channel::bounded::<OutputLine>(256);
    let consumer = thread::spawn(move || rx.iter().map(|line| line.line.len() as u64).sum::<u64>());
    let mut sup = supervision(dir);
    sup.live_output = Some(LiveOutput::new(move |line| tx.send(line).is_ok()));
    let before = peak_rss_kib();
    // 128 MiB without a newline, then 16 MiB of short lines.
    let script = "head -c 134217728 /dev/zero | tr '\\0' x; echo; yes 0123456789abcdef | head -c 16777216";
    let outcome = run_supervised(sh(dir, script), &sup).expect("runs");
    drop(sup);
    let received = consumer.join().expect("consumer");
    let after = peak_rss_kib();
    assert_eq!(outcome.exit, ExitKind::Code(0));
    let logged = fs::metadata(dir.join("stdout.log")).expect("log").len();
    assert_eq!(logged, 128 * MIB + 1 + 16 * MIB, "every byte logged");
    // `yes` lines are 17 bytes; the last one is cut short and has no newline.
    assert_eq!(
        received,
        128 * MIB + 16 * MIB / 17 * 16 + 16 * MIB % 17,
        "every byte but newlines sent live"
    );
    assert!(
        (after - before) < 32 * 1024,
        "peak RSS grew by {} KiB for 144 MiB of output",
        after - before
    );
}

/// The child half of `parent_death_kills_the_child`: supervises a sleep
/// until it is SIGKILLed.
fn mini_supervisor(dir: &Path) {
    let script = "echo $$ > child.pid.tmp && mv child.pid.tmp child.pid && exec sleep 300";
    let outcome = run_supervised(sh(dir, script), &supervision(dir));
    panic!("the mini supervisor should have been killed, yet got {outcome:?}");
}

#[test]
fn parent_death_kills_the_child() {
    if let Some(dir) = helper_dir() {
        return mini_supervisor(&dir);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut helper = helper("parent_death_kills_the_child", dir.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("helper starts");
    let child = wait_for_pid(&dir.path().join("child.pid"));
    // Wait for the exec, so that the pid is the sleep's.
    let start = Instant::now();
    while fs::read(format!("/proc/{child}/cmdline")).is_ok_and(|cmd| !cmd.starts_with(b"sleep\0")) {
        assert!(start.elapsed() < Duration::from_secs(20), "child never became sleep");
        thread::sleep(Duration::from_millis(20));
    }
    assert!(!gone(child), "the supervised sleep runs");
    helper.kill().expect("SIGKILL the helper");
    helper.wait().expect("reap the helper");
    let died = gone_within(child, Duration::from_secs(10));
    survivors(&[child]);
    assert!(died, "sleep {child} outlived its SIGKILLed supervisor");
}

// Bounded probes: an answer, output of several megabytes, a probe that
// never returns, a cancel, and what it leaves behind.

#[test]
fn the_answer_is_the_first_line_of_a_successful_probe() {
    let probe = Probe::new("unit", Duration::from_secs(10), CancelToken::new());
    let output = probe
        .run(sh(
            Path::new("/"),
            "echo; echo ' tool 1.2.3 '; echo more; echo oops >&2",
        ))
        .expect("runs");
    assert_eq!(output.exit, ExitKind::Code(0));
    assert_eq!(output.first_line().as_deref(), Some("tool 1.2.3"));
    assert_eq!(output.stderr, "oops\n");

    let failed = probe.run(sh(Path::new("/"), "echo 1.0; exit 3")).expect("runs");
    assert_eq!(failed.exit, ExitKind::Code(3));
    assert_eq!(failed.first_line(), None, "a failed probe gives no answer");
}

#[test]
fn megabytes_of_output_do_not_block_the_probe() {
    let probe = Probe::new("unit", Duration::from_secs(60), CancelToken::new());
    // 8 MiB on each stream: far beyond any pipe buffer.
    let script = "head -c 8388608 /dev/zero | tr '\\0' x; head -c 8388608 /dev/zero | tr '\\0' y >&2; echo done >&2";
    let output = probe
        .run(sh(Path::new("/"), script))
        .expect("the probe ends on its own");
    assert_eq!(output.exit, ExitKind::Code(0), "not stopped by its time limit");
    let limit = usize::try_from(PROBE_OUTPUT_LIMIT).expect("fits");
    assert_eq!(output.stdout.len(), limit);
    assert!(output.stdout.bytes().all(|b| b == b'x'));
    assert_eq!(output.stderr.len(), limit);
}

#[test]
fn a_probe_that_never_returns_is_killed_with_what_it_started() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("sleep.pid");
    let script = format!("echo 1.0; sleep 600 & echo $! > {}; wait", pid_file.display());
    let probe = Probe::new("unit", Duration::from_millis(300), CancelToken::new());
    let err = probe.run(sh(dir.path(), &script)).expect_err("no answer in time");
    assert!(matches!(err, ProbeError::TimedOut { .. }), "{err:?}");
    let sleep = read_pid(&pid_file);
    assert_eq!(
        survivors(&[sleep]),
        [],
        "the probe's sleep was killed before run returned"
    );
}

#[test]
fn a_cancel_stops_a_probe() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("sleep.pid");
    let script = format!("sleep 600 & echo $! > {}; wait", pid_file.display());
    let cancel = CancelToken::new();
    let probe = Probe::new("unit", Duration::from_secs(600), cancel.clone());
    let canceller = {
        let pid_file = pid_file.clone();
        thread::spawn(move || {
            while !pid_file.is_file() {
                thread::sleep(Duration::from_millis(10));
            }
            cancel.cancel(CancelKind::Graceful);
        })
    };
    let err = probe.run(sh(dir.path(), &script)).expect_err("cancelled");
    canceller.join().expect("canceller");
    assert!(matches!(err, ProbeError::Cancelled { .. }), "{err:?}");
    assert_eq!(survivors(&[read_pid(&pid_file)]), []);
}

#[test]
fn a_suite_probe_takes_the_suites_shorter_timeout_and_its_cancel() {
    let mut ctx = SuiteContext::new("unit", "/", "/", "/");
    ctx.timeout = Some(Duration::from_millis(200));
    match ctx.probe(sh(Path::new("/"), "sleep 600")) {
        Err(ProbeError::TimedOut { timeout, .. }) => assert_eq!(timeout, Duration::from_millis(200)),
        other => panic!("expected a timeout, got {other:?}"),
    }
    ctx.timeout = None;
    ctx.cancel.cancel(CancelKind::Immediate);
    assert!(matches!(
        ctx.probe(sh(Path::new("/"), "sleep 600")),
        Err(ProbeError::Cancelled { .. })
    ));
}

/// A log a tool made sparse (`truncate -s` past its end) ends in a hole of
/// NUL bytes: the tail is what the tool wrote before it, not the NULs.
#[test]
fn the_tail_of_a_sparse_log_is_its_last_written_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("stdout.log");
    std::fs::write(&log, "first line\nthe crash reason at the end\n").expect("write");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .and_then(|file| file.set_len(1 << 30))
        .expect("a hole of 1 GiB");
    let tail = runner_api::process::log_tail(&log, 5).expect("a tail");
    assert_eq!(tail, "first line\nthe crash reason at the end");
}
