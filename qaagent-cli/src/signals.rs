//! Ctrl-C and SIGTERM: the first stops every running suite gracefully, a
//! second Ctrl-C kills them at once. The exit code remembers which signal
//! came first (130 for SIGINT, 143 for SIGTERM).

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use runner_api::{CancelKind, CancelToken};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Watches for interrupts on a background thread.
#[derive(Debug)]
pub struct Interrupts {
    first: Arc<AtomicI32>,
}

impl Interrupts {
    /// Starts watching; interrupts cancel `token`.
    pub fn install(token: CancelToken) -> std::io::Result<Interrupts> {
        let mut signals = Signals::new([SIGINT, SIGTERM])?;
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
        Ok(Interrupts { first })
    }

    /// The first signal received, if any.
    pub fn received(&self) -> Option<i32> {
        match self.first.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }

    /// The exit code for the first signal received.
    pub fn exit_code(&self) -> Option<u8> {
        self.received().map(|signal| {
            if signal == SIGTERM {
                crate::exit::INTERRUPTED_SIGTERM
            } else {
                crate::exit::INTERRUPTED_SIGINT
            }
        })
    }
}
