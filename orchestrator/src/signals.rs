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
