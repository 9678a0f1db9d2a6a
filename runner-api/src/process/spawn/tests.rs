//! Both ways of starting a child, side by side: `clone3` into the child's
//! cgroup, and std's `Command` (the fallback, and the reference: what the
//! child sees must not depend on the way).

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus};

use super::clone3::{self, Failure};
use super::{spawn_command, Child, Output};
use crate::process::cgroup::Cgroup;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Clone3,
    Command,
}

/// Starts `cmd` the way `via` says, failing the test if clone3 is refused.
fn start(via: Via, cmd: Command, output: Output, cgroup: Option<&Cgroup>) -> io::Result<Child> {
    match (via, cgroup) {
        (Via::Clone3, Some(cgroup)) => match clone3::spawn(&cmd, &output, cgroup) {
            Ok(child) => Ok(child),
            Err(Failure::Spawn(err)) => Err(err),
            Err(Failure::NotForUs) => spawn_command(cmd, output, Some(cgroup)),
            Err(Failure::Unsupported(err)) => panic!("clone3 into a cgroup refused: {err}"),
        },
        (Via::Clone3, None) => unreachable!("clone3 needs a cgroup"),
        (Via::Command, cgroup) => spawn_command(cmd, output, cgroup),
    }
}

/// Runs `check` once per way this machine can start a child, each with a
/// new cgroup where one can be made (clone3 only with one).
fn each_way(mut check: impl FnMut(Via, Option<&Cgroup>)) {
    let cgroup = Cgroup::create(&crate::process::new_token());
    if cgroup.is_some() {
        check(Via::Clone3, cgroup.as_ref());
    } else {
        // The supervision tests through the binary say whether cgroups must work here.
        eprintln!("cgroups are not usable here: only the Command way is tested");
    }
    check(Via::Command, cgroup.as_ref());
}

/// Runs `cmd` to completion with its output in files; its status, stdout, stderr.
fn run(via: Via, cmd: Command, cgroup: Option<&Cgroup>) -> io::Result<(ExitStatus, String, String)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    let output = Output::Files {
        stdout: File::create(&out).expect("create out"),
        stderr: File::create(&err).expect("create err"),
    };
    let child = start(via, cmd, output, cgroup)?;
    let status = child.wait().expect("wait");
    let read = |path: &Path| fs::read_to_string(path).expect("read log");
    Ok((status, read(&out), read(&err)))
}

/// What a child sees of how it was started.
const SHOW: &str = r#"
printf 'arg <%s>\n' "$0" "$@"
echo "cwd $(pwd)"
env | grep -E '^(QAAGENT_SPAWN_TEST|HOME)=' | sort
echo "stdin <$(cat)>"
set -- $(cat /proc/$$/stat)
[ "$5" = "$$" ] && echo 'own process group' || echo 'shared process group'
SIGNALS
ls /proc/self/fd | sort -n | tr '\n' ' '
echo "to stderr" >&2
exit 3
"#;

/// Prints the shell's own blocked and ignored signals. With builtins only:
/// while the shell starts a child it blocks every signal for a moment, and a
/// child reading them could see that.
const SIGNALS: &str = r#"while read -r name value; do
  case $name in SigBlk:|SigIgn:) echo "$name $value";; esac
done < /proc/$$/status"#;

fn show_command(cwd: &Path) -> Command {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &SHOW.replace("SIGNALS", SIGNALS), "zero", "one", "two words", ""])
        .current_dir(cwd)
        .env("QAAGENT_SPAWN_TEST", "set")
        .env_remove("HOME");
    cmd
}

#[test]
fn the_child_sees_what_it_would_see_through_std() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut seen = Vec::new();
    each_way(|via, cgroup| seen.push(run(via, show_command(dir.path()), cgroup).expect("starts")));
    let (status, stdout, stderr) = seen.last().expect("the Command way ran").clone();
    for other in &seen {
        assert_eq!(other, &(status, stdout.clone(), stderr.clone()), "both ways alike");
    }
    assert_eq!(status.code(), Some(3));
    assert_eq!(stderr, "to stderr\n");
    let cwd = dir.path().canonicalize().expect("canonical");
    let expected_start = format!(
        "arg <zero>\narg <one>\narg <two words>\narg <>\ncwd {}\nQAAGENT_SPAWN_TEST=set\nstdin <>\nown process group\n",
        cwd.display()
    );
    assert!(stdout.starts_with(&expected_start), "{stdout}");
    // Nothing ignored that the child would not ignore through std (SIGPIPE is not), nothing blocked.
    let sigpipe = 1u64 << (libc::SIGPIPE - 1);
    let ignored = mask(&stdout, "SigIgn:");
    assert_eq!(ignored & sigpipe, 0, "{stdout}");
    assert_eq!(mask(&stdout, "SigBlk:"), 0, "{stdout}");
    // The same descriptors either way (above): none of ours leaks.
    assert!(stdout.contains("\n0 1 2 3 "), "{stdout}");
}

/// The hex signal mask on the line starting with `name`.
fn mask(text: &str, name: &str) -> u64 {
    let line = text
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .expect("mask line");
    u64::from_str_radix(line.trim(), 16).expect("hex mask")
}

#[test]
fn the_child_starts_inside_its_cgroup() {
    each_way(|via, cgroup| {
        let Some(cgroup) = cgroup else { return };
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let child = start(via, cmd, Output::Pipes, Some(cgroup)).expect("starts");
        assert_eq!(cgroup.pids(), vec![child.id()], "{via:?}");
        cgroup.kill();
        assert_eq!(child.wait().expect("wait").signal(), Some(libc::SIGKILL), "{via:?}");
    });
}

#[test]
fn output_through_pipes_reaches_the_read_ends() {
    use std::io::Read;
    each_way(|via, cgroup| {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2"]);
        let mut child = start(via, cmd, Output::Pipes, cgroup).expect("starts");
        let (mut out, mut err) = (String::new(), String::new());
        child
            .stdout
            .take()
            .expect("stdout pipe")
            .read_to_string(&mut out)
            .expect("read");
        child
            .stderr
            .take()
            .expect("stderr pipe")
            .read_to_string(&mut err)
            .expect("read");
        assert!(child.wait().expect("wait").success());
        assert_eq!((out.as_str(), err.as_str()), ("out\n", "err\n"), "{via:?}");
    });
}

#[test]
fn spawn_errors_are_std_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let not_executable = dir.path().join("not-executable");
    fs::write(&not_executable, "#!/bin/sh\n").expect("write");
    let command = |case: &str| {
        let mut cmd = Command::new(match case {
            "missing" => "qaagent-no-such-program".as_ref(),
            "missing path" => "/no/such/program".as_ref(),
            "empty name" => "".as_ref(),
            "not executable, by path" => not_executable.as_os_str(),
            "not executable, through the child's PATH" => "not-executable".as_ref(),
            _ => "sh".as_ref(),
        });
        match case {
            "not executable, through the child's PATH" => {
                cmd.env("PATH", format!("/nonexistent:{}", dir.path().display()));
            }
            "only in our PATH, not the child's" => {
                cmd.env("PATH", "/nonexistent");
            }
            "missing working directory" => {
                cmd.current_dir("/no/such/dir");
            }
            "nul in an argument" => {
                cmd.arg("a\0b");
            }
            _ => {}
        }
        cmd
    };
    let cases = [
        "missing",
        "missing path",
        "empty name",
        "not executable, by path",
        "not executable, through the child's PATH",
        "only in our PATH, not the child's",
        "missing working directory",
        "nul in an argument",
    ];
    for case in cases {
        let std_err = command(case).spawn().map(|_| ()).expect_err(case);
        each_way(|via, cgroup| {
            let err = run(via, command(case), cgroup).map(|_| ()).expect_err(case);
            assert_eq!(
                (err.kind(), err.raw_os_error()),
                (std_err.kind(), std_err.raw_os_error()),
                "{case} ({via:?}): {err} against std's {std_err}"
            );
            if case == "missing" {
                // What runners turn into "not installed".
                assert_eq!(err.kind(), io::ErrorKind::NotFound);
            }
        });
    }
}

#[test]
fn the_program_is_found_in_the_childs_path_and_a_script_without_shebang_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("qaagent-spawn-test-script");
    fs::write(&script, "echo \"script ran with $1\"\n").expect("write");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut std_cmd = Command::new("qaagent-spawn-test-script");
    std_cmd
        .arg("arg")
        .env("PATH", format!("/nonexistent::{}", dir.path().display()));
    let std_output = std_cmd.output().expect("std runs it");
    assert_eq!(String::from_utf8_lossy(&std_output.stdout), "script ran with arg\n");
    each_way(|via, cgroup| {
        let mut cmd = Command::new("qaagent-spawn-test-script");
        cmd.arg("arg")
            .env("PATH", format!("/nonexistent::{}", dir.path().display()));
        let (status, stdout, _) = run(via, cmd, cgroup).expect("starts");
        assert!(status.success(), "{via:?}");
        assert_eq!(stdout, "script ran with arg\n", "{via:?}");
    });
}

#[test]
fn the_child_dies_with_the_thread_that_started_it() {
    each_way(|via, cgroup| {
        let child = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mut cmd = Command::new("sleep");
                    cmd.arg("30");
                    start(via, cmd, Output::Pipes, cgroup).expect("starts")
                })
                .join()
                .expect("spawning thread")
        });
        // Without the parent-death signal this would take 30 s and exit 0.
        assert_eq!(child.wait().expect("wait").signal(), Some(libc::SIGKILL), "{via:?}");
    });
}

#[test]
fn the_child_has_no_blocked_signal_whatever_its_parent_thread_blocks() {
    let Some(cgroup) = Cgroup::create(&crate::process::new_token()) else {
        eprintln!("cgroups are not usable here");
        return;
    };
    let (status, stdout, _) = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // SAFETY: sigset_t is plain data; the calls only change this thread's mask.
                unsafe {
                    let mut set: libc::sigset_t = std::mem::zeroed();
                    libc::sigemptyset(&mut set);
                    libc::sigaddset(&mut set, libc::SIGUSR1);
                    libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
                }
                let mut cmd = Command::new("sh");
                cmd.args(["-c", SIGNALS]);
                run(Via::Clone3, cmd, Some(&cgroup)).expect("starts")
            })
            .join()
            .expect("spawning thread")
    });
    assert!(status.success());
    assert_eq!(mask(&stdout, "SigBlk:"), 0, "{stdout}");
}

/// Run by [`a_parent_with_closed_standard_streams_still_gives_the_child_its_own`]
/// in a process of its own: closes this process's standard streams, so that
/// the log files and `/dev/null` get their numbers, then starts a child the
/// way `QAAGENT_SPAWN_TEST_VIA` says and exits 0 if its output went where asked.
#[test]
#[ignore = "run in a process of its own by a_parent_with_closed_standard_streams_still_gives_the_child_its_own"]
fn closed_standard_streams_child() {
    let via = match std::env::var("QAAGENT_SPAWN_TEST_VIA").as_deref() {
        Ok("clone3") => Via::Clone3,
        Ok("command") => Via::Command,
        other => panic!("QAAGENT_SPAWN_TEST_VIA is {other:?}"),
    };
    let dir = std::path::PathBuf::from(std::env::var_os("QAAGENT_SPAWN_TEST_DIR").expect("dir"));
    let cgroup = Cgroup::create(&crate::process::new_token());
    // SAFETY: closing descriptors this test process owns; nothing else runs.
    unsafe {
        libc::close(0);
        libc::close(1);
        libc::close(2);
    }
    // Each source on its target's number: the logs on 1 and 2, and
    // /dev/null, the first file the spawn opens, on 0.
    let placeholder = File::open("/dev/null").expect("placeholder");
    let stdout = File::create(dir.join("out")).expect("out");
    let stderr = File::create(dir.join("err")).expect("err");
    drop(placeholder);
    let mut cmd = Command::new("sh");
    // `cat` fails unless its stdin is readable: /dev/null, not a log.
    cmd.args(["-c", "set -e; echo out; echo err >&2; cat"]);
    let ok = match start(via, cmd, Output::Files { stdout, stderr }, cgroup.as_ref()) {
        Ok(child) => child.wait().is_ok_and(|status| status.success()),
        Err(_) => false,
    };
    drop(cgroup);
    // SAFETY: ends this process at once, without writing to the closed streams.
    unsafe { libc::_exit(if ok { 0 } else { 1 }) }
}

/// Only the clone3 way: std's `Command` gives such a child a closed stdin
/// (its `/dev/null` on 0 stays close-on-exec). qaagent never runs so, as
/// Rust's runtime opens `/dev/null` on closed standard streams at start; the
/// clone3 way does not rely on that.
#[test]
fn a_parent_with_closed_standard_streams_still_gives_the_child_its_own() {
    if Cgroup::create(&crate::process::new_token()).is_none() {
        eprintln!("cgroups are not usable here");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let status = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "process::spawn::tests::closed_standard_streams_child",
            "--ignored",
            "--test-threads=1",
        ])
        .env("QAAGENT_SPAWN_TEST_VIA", "clone3")
        .env("QAAGENT_SPAWN_TEST_DIR", dir.path())
        .status()
        .expect("runs the test binary");
    let read = |name: &str| fs::read_to_string(dir.path().join(name)).unwrap_or_default();
    let (out, err) = (read("out"), read("err"));
    assert!(status.success(), "{status}; out {out:?}, err {err:?}");
    assert_eq!((out.as_str(), err.as_str()), ("out\n", "err\n"));
}
