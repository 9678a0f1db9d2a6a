//! SIGINT, SIGTERM and SIGHUP: the first stops every running suite gracefully,
//! a second kills them at once. The run remembers which signal came first, so
//! that a front end can exit with 130, 143 or 129.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use runner_api::{CancelKind, CancelToken};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGXFSZ};
use signal_hook::iterator::Signals;

/// A signal that stops a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopSignal {
    /// SIGHUP: the terminal went away.
    Hangup,
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM: asked to stop.
    Terminate,
}

impl StopSignal {
    fn from_raw(signal: i32) -> Option<StopSignal> {
        match signal {
            SIGHUP => Some(StopSignal::Hangup),
            SIGINT => Some(StopSignal::Interrupt),
            SIGTERM => Some(StopSignal::Terminate),
            _ => None,
        }
    }

    /// The signal's number, as in `128 + number` for an exit code.
    pub fn number(self) -> i32 {
        match self {
            StopSignal::Hangup => SIGHUP,
            StopSignal::Interrupt => SIGINT,
            StopSignal::Terminate => SIGTERM,
        }
    }
}

/// Undoes what a parent may have left us: SIGCHLD ignored (the kernel then
/// reaps children itself, and waiting for a suite's tool fails with "No
/// child processes", as does every `subprocess` of the tools, which inherit
/// it) and the stop signals or SIGCHLD blocked (a SIGTERM then never came).
/// Called on the thread that starts the run's threads, which inherit its mask.
fn reset_inherited() -> std::io::Result<()> {
    // SAFETY: plain libc calls on a zeroed, then filled, sigset_t; SIG_DFL
    // for SIGCHLD is the state every program expects.
    unsafe {
        if libc::signal(libc::SIGCHLD, libc::SIG_DFL) == libc::SIG_ERR {
            return Err(std::io::Error::last_os_error());
        }
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in [SIGINT, SIGTERM, SIGHUP, libc::SIGCHLD] {
            libc::sigaddset(&mut set, signal);
        }
        let rc = libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        if rc != 0 {
            return Err(std::io::Error::from_raw_os_error(rc));
        }
    }
    Ok(())
}

/// Watches for stop signals on a background thread and cancels a token.
#[derive(Debug, Clone)]
pub(crate) struct SignalWatch {
    first: Arc<AtomicI32>,
}

impl SignalWatch {
    /// Starts watching; a stop signal cancels `token` (gracefully, then at
    /// once on the second).
    /// SIGXFSZ is caught too, and otherwise ignored: past a file-size limit
    /// (`ulimit -f`) a write then fails with an error the run reports,
    /// instead of the signal killing qaagent with its evidence half written.
    pub(crate) fn install(token: CancelToken) -> std::io::Result<SignalWatch> {
        reset_inherited()?;
        signal_hook::flag::register(SIGXFSZ, Arc::new(std::sync::atomic::AtomicBool::new(false)))?;
        let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
        let first = Arc::new(AtomicI32::new(0));
        let seen = Arc::clone(&first);
        std::thread::Builder::new()
            .name("qaagent-signals".into())
            .spawn(move || {
                for signal in signals.forever() {
                    let escalate = seen
                        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
                        .is_err();
                    if escalate {
                        log::warn!("second interrupt: killing every running suite now");
                        token.cancel(CancelKind::Immediate);
                    } else {
                        log::warn!("interrupted: stopping running suites (interrupt again to kill them now)");
                        token.cancel(CancelKind::Graceful);
                    }
                }
            })?;
        Ok(SignalWatch { first })
    }

    /// The first stop signal received, if any.
    pub(crate) fn received(&self) -> Option<StopSignal> {
        StopSignal::from_raw(self.first.load(Ordering::SeqCst))
    }
}

/// For the commands that are not a run (`merge`, `runs export`, `runs show`
/// of a bundle, `config check`): the first SIGINT, SIGTERM or SIGHUP removes
/// what is half made ([`evidence::remove_scratch`]: unpacked bundles, a file
/// not yet renamed into place; the output of version probes still running)
/// and exits with 128 + the signal's number, as
/// the signal would have, but without leaving them behind. Installed by the
/// front end with this one call.
pub fn remove_scratch_on_stop() -> std::io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new()
        .name("qaagent-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                evidence::remove_scratch();
                runner_api::probe::remove_capture_dirs();
                std::process::exit(128 + signal);
            }
        })?;
    Ok(())
}
