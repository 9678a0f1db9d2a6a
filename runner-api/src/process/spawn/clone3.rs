//! `clone3(CLONE_INTO_CGROUP)`: a child created inside its cgroup (see
//! [`super`] for why).
//!
//! The clone copies this process as `fork` does (no `CLONE_VM`), but this
//! process has other threads, which may hold the allocator's or any other
//! lock at that instant; the copy has only the cloning thread. So between
//! the clone and the exec the child makes raw system calls only: it
//! allocates nothing, takes no lock and cannot panic. Everything it needs
//! (argv, envp, the paths to try for the program, the working directory, the
//! descriptors to put in place) is made before the clone, in [`Prepared`].
//!
//! If the exec fails, the child writes its errno to a close-on-exec pipe and
//! exits; the parent reads the pipe until it closes (the exec happened) or
//! an errno arrives, as std does, so that errors read as std's.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::ffi::{c_char, CStr, CString, OsStr, OsString};
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Child, Output};
use crate::process::cgroup::Cgroup;

/// `CLONE_INTO_CGROUP` from `<linux/sched.h>` (libc's constant has the
/// wrong type).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Where `PATH` is unset, glibc's `execvp` searches these.
const DEFAULT_PATH: &[u8] = b"/bin:/usr/bin";

/// What runs a program with no `#!` line, as in `execvp`.
const SHELL: &CStr = c"/bin/sh";

/// `struct clone_args` from `<linux/sched.h>`, up to `cgroup` (version 2,
/// Linux 5.7).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// False once a clone into a cgroup failed in a way that will not change
/// (see [`unsupported`]); then every child starts through `Command`.
static USABLE: AtomicBool = AtomicBool::new(true);

/// Why [`spawn`] did not start the child.
#[derive(Debug)]
pub(super) enum Failure {
    /// The kernel (or a seccomp filter) refuses the clone itself: start the
    /// child the other way.
    Unsupported(io::Error),
    /// Starting it failed as it would have with std (a program not found,
    /// a working directory missing, no memory): the error to report.
    Spawn(io::Error),
    /// This command is for std's way: it has a NUL in its program, an
    /// argument or its working directory, which std reports as an error but
    /// shows as a placeholder.
    NotForUs,
}

/// Starts `cmd` inside `cgroup`, or returns `None` where that is not
/// possible on this machine (then the caller starts it through `Command`).
pub(super) fn spawn_if_usable(cmd: &Command, output: &Output, cgroup: &Cgroup) -> io::Result<Option<Child>> {
    if !USABLE.load(Ordering::Relaxed) {
        return Ok(None);
    }
    match spawn(cmd, output, cgroup) {
        Ok(child) => Ok(Some(child)),
        Err(Failure::Unsupported(err)) => {
            if USABLE.swap(false, Ordering::Relaxed) {
                log::debug!("cannot clone into a cgroup ({err}): children join their cgroups after fork instead");
            }
            Ok(None)
        }
        Err(Failure::NotForUs) => Ok(None),
        Err(Failure::Spawn(err)) => Err(err),
    }
}

/// Starts `cmd` inside `cgroup` with `clone3`.
pub(super) fn spawn(cmd: &Command, output: &Output, cgroup: &Cgroup) -> Result<Child, Failure> {
    if saw_nul(cmd) {
        return Err(Failure::NotForUs);
    }
    let (mut prepared, stdout, stderr) = Prepared::new(cmd, output).map_err(Failure::Spawn)?;
    let (mut report_read, report_write) = io::pipe().map_err(Failure::Spawn)?;
    let report_write = above_stdio(report_write.into()).map_err(Failure::Spawn)?;
    let dir = cgroup.open_dir().map_err(Failure::Unsupported)?;
    let args = CloneArgs {
        flags: CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: dir.as_raw_fd() as u64,
        ..CloneArgs::default()
    };
    // SAFETY: `args` is a valid clone_args of the size passed. Without
    // CLONE_VM the child gets a copy of our memory and its own stack, as with
    // fork; it runs only `child`, which never returns (see the module doc).
    let pid = unsafe { libc::syscall(libc::SYS_clone3, &args, size_of::<CloneArgs>()) };
    if pid == 0 {
        // SAFETY: we are the child, right after the clone: see `child`.
        unsafe { child(&mut prepared, report_write.as_raw_fd()) }
    }
    if pid < 0 {
        let err = io::Error::last_os_error();
        return Err(if unsupported(&err) {
            Failure::Unsupported(err)
        } else {
            Failure::Spawn(err)
        });
    }
    let child = Child {
        pid: pid as i32,
        stdout,
        stderr,
    };
    // Our copies of the child's ends; the pipe then closes at its exec.
    drop(report_write);
    drop(prepared);
    let mut report = Vec::new();
    let error = match report_read.read_to_end(&mut report) {
        Ok(0) => return Ok(child),
        Ok(_) => match <[u8; 4]>::try_from(report.as_slice()) {
            Ok(errno) => io::Error::from_raw_os_error(i32::from_ne_bytes(errno)),
            Err(_) => io::Error::other("short error report from a starting child"),
        },
        Err(err) => {
            // Not knowing whether it started, do not leave it running unsupervised.
            // SAFETY: kill takes plain integers; the pid is our unreaped child's.
            unsafe { libc::kill(child.pid, libc::SIGKILL) };
            err
        }
    };
    // It has exited, or is about to: reap it. The error to report is the start's.
    let _ = child.wait();
    Err(Failure::Spawn(error))
}

/// A clone failure that will not go away: no clone3 (Linux before 5.3, or a
/// seccomp filter), no `CLONE_INTO_CGROUP` (before 5.7), or a cgroup we may
/// not start processes in.
fn unsupported(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::ENOSYS | libc::EPERM | libc::EACCES | libc::EINVAL | libc::E2BIG | libc::EOPNOTSUPP | libc::EBUSY)
    )
}

/// Whether std saw a NUL in `cmd`'s program, arguments or working
/// directory. std then refuses to spawn it, but its getters return this
/// placeholder instead of the value (a test checks that it still does).
fn saw_nul(cmd: &Command) -> bool {
    let placeholder = OsStr::new("<string-with-nul>");
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .chain(cmd.get_current_dir().map(|dir| dir.as_os_str()))
        .any(|text| text == placeholder)
}

/// What the program is, for the exec.
enum Program {
    /// A path (it has a `/`): run as it is, relative to the working directory.
    Path(CString),
    /// A name: each `PATH` entry joined with it, tried in order.
    Search(Vec<CString>),
}

/// Everything the child needs, made before the clone.
struct Prepared {
    /// Owns the strings `argv` and `envp` point to.
    _strings: Vec<CString>,
    /// Null-terminated.
    argv: Vec<*const c_char>,
    /// Null-terminated.
    envp: Vec<*const c_char>,
    /// `/bin/sh`, a slot for the script's path, the arguments, null: how
    /// `execvp` runs a file with no `#!` line.
    script_argv: Vec<*const c_char>,
    program: Program,
    cwd: Option<CString>,
    /// What becomes the child's stdin, stdout and stderr; all above 2.
    stdio: [OwnedFd; 3],
    /// Our pid, for the child's check that we are still its parent.
    parent: libc::pid_t,
}

impl Prepared {
    /// Everything `cmd` asks for, and the read ends of the output pipes if
    /// `output` asks for them.
    fn new(cmd: &Command, output: &Output) -> io::Result<(Prepared, Option<io::PipeReader>, Option<io::PipeReader>)> {
        let mut env: BTreeMap<OsString, OsString> = std::env::vars_os().collect();
        for (key, value) in cmd.get_envs() {
            match value {
                Some(value) => env.insert(key.to_owned(), value.to_owned()),
                None => env.remove(key),
            };
        }
        let program_name = cmd.get_program();
        let program = program(program_name.as_bytes(), env.get(OsStr::new("PATH")))?;

        let mut strings = Vec::new();
        let argv = pointers(
            &mut strings,
            std::iter::once(program_name).chain(cmd.get_args()).map(c_string),
        )?;
        let envp = pointers(
            &mut strings,
            env.iter().map(|(key, value)| {
                let mut pair = key.clone();
                pair.push("=");
                pair.push(value);
                c_string(&pair)
            }),
        )?;
        let mut script_argv = vec![SHELL.as_ptr(), std::ptr::null()];
        script_argv.extend_from_slice(&argv[1..]);

        let stdin = above_stdio(std::fs::File::open("/dev/null")?.into())?;
        let (stdout, stderr, readers) = match output {
            Output::Files { stdout, stderr } => {
                (dup_above_stdio(stdout.as_fd())?, dup_above_stdio(stderr.as_fd())?, None)
            }
            Output::Pipes => {
                let (out_read, out_write) = io::pipe()?;
                let (err_read, err_write) = io::pipe()?;
                (
                    above_stdio(out_write.into())?,
                    above_stdio(err_write.into())?,
                    Some((out_read, err_read)),
                )
            }
        };
        let (stdout_read, stderr_read) = readers.unzip();
        let prepared = Prepared {
            _strings: strings,
            argv,
            envp,
            script_argv,
            program,
            cwd: cmd.get_current_dir().map(|dir| c_string(dir.as_os_str())).transpose()?,
            stdio: [stdin, stdout, stderr],
            parent: std::process::id() as libc::pid_t,
        };
        Ok((prepared, stdout_read, stderr_read))
    }
}

/// `name` resolved as glibc's `execvp` does, in the child's `PATH`.
fn program(name: &[u8], path: Option<&OsString>) -> io::Result<Program> {
    if name.contains(&b'/') {
        return Ok(Program::Path(c_string(OsStr::from_bytes(name))?));
    }
    if name.is_empty() {
        // No candidate: the search fails with ENOENT.
        return Ok(Program::Search(Vec::new()));
    }
    let path = path.map_or(DEFAULT_PATH, |path| path.as_bytes());
    let candidates = path
        .split(|&byte| byte == b':')
        .map(|dir| {
            // An empty entry is the working directory.
            let mut candidate = dir.to_vec();
            if !dir.is_empty() {
                candidate.push(b'/');
            }
            candidate.extend_from_slice(name);
            c_string(OsStr::from_bytes(&candidate))
        })
        .collect::<io::Result<_>>()?;
    Ok(Program::Search(candidates))
}

/// `text` as a C string; a NUL inside is std's error for it.
fn c_string(text: &OsStr) -> io::Result<CString> {
    CString::new(text.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "nul byte found in provided data"))
}

/// Moves `strings` into `owner` and returns a null-terminated array of
/// pointers to them.
fn pointers(
    owner: &mut Vec<CString>,
    strings: impl Iterator<Item = io::Result<CString>>,
) -> io::Result<Vec<*const c_char>> {
    let mut pointers = Vec::new();
    for string in strings {
        let string = string?;
        // The CString's buffer stays where it is when the CString moves.
        pointers.push(string.as_ptr());
        owner.push(string);
    }
    pointers.push(std::ptr::null());
    Ok(pointers)
}

/// `fd`, or a copy of it above 2 if it is a standard stream's number (when
/// this process runs with one closed): putting one stream in place must not
/// replace the source of another. std does the same.
fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > libc::STDERR_FILENO {
        Ok(fd)
    } else {
        dup_above_stdio(fd.as_fd())
    }
}

/// A close-on-exec copy of `fd` numbered above 2.
fn dup_above_stdio(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    // SAFETY: fcntl with F_DUPFD_CLOEXEC on a valid descriptor.
    let copy = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, libc::STDERR_FILENO + 1) };
    if copy < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fcntl just returned this new descriptor, owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(copy) })
}

/// The child, between the clone and the exec: sets itself up, execs, and
/// if anything fails reports its errno on `report` and exits.
///
/// # Safety
///
/// Only in the child of a clone without `CLONE_VM`, at once: it makes raw
/// system calls only (nothing here allocates, locks or panics), and never
/// returns.
unsafe fn child(prepared: &mut Prepared, report: RawFd) -> ! {
    let Err(errno) = start(prepared);
    let bytes = errno.to_ne_bytes();
    libc::write(report, bytes.as_ptr().cast(), bytes.len());
    libc::_exit(127)
}

/// Puts the child's streams, directory, group and signals in place, then
/// execs; returns only with the errno of what failed. The order is std's.
///
/// # Safety
///
/// As for [`child`].
unsafe fn start(prepared: &mut Prepared) -> Result<Infallible, i32> {
    for (fd, target) in prepared.stdio.iter().zip(libc::STDIN_FILENO..) {
        // dup2 leaves the copy without close-on-exec.
        while libc::dup2(fd.as_raw_fd(), target) < 0 {
            if errno() != libc::EINTR {
                return Err(errno());
            }
        }
    }
    if let Some(cwd) = &prepared.cwd {
        check(libc::chdir(cwd.as_ptr()))?;
    }
    check(libc::setpgid(0, 0))?;
    // The clone took our thread's mask and dispositions. Handlers are reset
    // by the exec, but an ignored signal stays ignored and a blocked one
    // blocked: SIGPIPE (ignored by Rust's runtime) goes back to its default,
    // as std does, and nothing stays blocked, so that the child can be
    // stopped with SIGTERM whichever thread started it.
    let mut unblocked: libc::sigset_t = std::mem::zeroed();
    check(libc::sigemptyset(&mut unblocked))?;
    check(libc::sigprocmask(libc::SIG_SETMASK, &unblocked, std::ptr::null_mut()))?;
    if libc::signal(libc::SIGPIPE, libc::SIG_DFL) == libc::SIG_ERR {
        return Err(errno());
    }
    check(libc::prctl(
        libc::PR_SET_PDEATHSIG,
        libc::SIGKILL as libc::c_ulong,
        0,
        0,
        0,
    ))?;
    // The parent may have died before prctl took effect; then no signal
    // will ever come, so do not start at all.
    if libc::getppid() != prepared.parent {
        return Err(libc::ESRCH);
    }
    Err(exec(prepared))
}

/// Execs the program the way glibc's `execvp` looks for it; returns the
/// errno of the failure.
///
/// # Safety
///
/// As for [`child`].
unsafe fn exec(prepared: &mut Prepared) -> i32 {
    let Prepared {
        program,
        argv,
        envp,
        script_argv,
        ..
    } = prepared;
    let mut try_exec = |path: &CStr| exec_file(path, argv, envp, script_argv);
    let candidates = match program {
        Program::Path(path) => return try_exec(path),
        Program::Search(candidates) => candidates,
    };
    let mut denied = false;
    for candidate in candidates.iter() {
        match try_exec(candidate) {
            // Not executable here: keep looking, and say so if nothing else is found.
            libc::EACCES => denied = true,
            libc::ENOENT | libc::ESTALE | libc::ENOTDIR | libc::ENODEV | libc::ETIMEDOUT => {}
            errno => return errno,
        }
    }
    if denied {
        libc::EACCES
    } else {
        libc::ENOENT
    }
}

/// `execve` of `path`; a file the kernel cannot run (`ENOEXEC`: a script
/// with no `#!` line) is run by `/bin/sh`, as `execvp` does. Returns the
/// errno of the failure.
///
/// # Safety
///
/// As for [`child`]; `argv`, `envp` and `script_argv` are null-terminated
/// arrays of C strings.
unsafe fn exec_file(
    path: &CStr,
    argv: &[*const c_char],
    envp: &[*const c_char],
    script_argv: &mut [*const c_char],
) -> i32 {
    libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
    let errno = errno();
    if errno != libc::ENOEXEC {
        return errno;
    }
    if let Some(slot) = script_argv.get_mut(1) {
        *slot = path.as_ptr();
    }
    libc::execve(SHELL.as_ptr(), script_argv.as_ptr(), envp.as_ptr());
    self::errno()
}

/// `Err(errno)` when a libc call returned -1.
fn check(rc: libc::c_int) -> Result<(), i32> {
    if rc == -1 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// This thread's errno (reads a thread-local; allocates nothing).
fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL)
}
