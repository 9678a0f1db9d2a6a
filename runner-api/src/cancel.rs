//! Cancellation shared by the coordinator and every running suite.
//!
//! The coordinator (on Ctrl-C / SIGTERM) calls [`CancelToken::cancel`]; every
//! supervisor inside this crate holds a channel from `CancelToken::subscribe`
//! and `select!`s on it together with its child's exit and its deadline, so
//! no one polls. The channel type stays private: outside this crate a token
//! is cancelled and asked, never subscribed to.

use std::sync::{Arc, Mutex, PoisonError};

use crossbeam_channel::{Receiver, Sender};

/// How hard to stop. Ordered so that escalation is `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CancelKind {
    /// Stop gracefully: SIGTERM the process groups, SIGKILL after the grace period.
    Graceful,
    /// Stop now: SIGKILL the process groups (a second Ctrl-C).
    Immediate,
}

impl CancelKind {
    /// What a suite's error says about how its interrupted tool was
    /// stopped: the signal qaagent itself got is the run's to report.
    pub fn stopped_tool(self) -> &'static str {
        match self {
            CancelKind::Graceful => "its tool was sent SIGTERM",
            CancelKind::Immediate => "its tool was killed",
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    kind: Option<CancelKind>,
    subscribers: Vec<Sender<CancelKind>>,
}

/// A cloneable broadcast flag: once cancelled, stays cancelled (and may escalate).
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    inner: Arc<Mutex<Inner>>,
}

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        CancelToken::default()
    }

    /// Cancels with `kind`, or escalates an earlier, gentler cancel. Every
    /// subscriber receives the new kind.
    pub fn cancel(&self, kind: CancelKind) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.kind.is_some_and(|current| current >= kind) {
            return;
        }
        inner.kind = Some(kind);
        // A subscriber that went away has finished supervising; dropping it is right.
        inner.subscribers.retain(|tx| tx.send(kind).is_ok());
    }

    /// The current cancel kind, if any.
    pub fn kind(&self) -> Option<CancelKind> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).kind
    }

    /// True once [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.kind().is_some()
    }

    /// A channel that receives every cancel (or escalation) from now on; if
    /// the token is already cancelled, the current kind is already queued.
    pub(crate) fn subscribe(&self) -> Receiver<CancelKind> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(kind) = inner.kind {
            // The receiver is alive in this scope, so the send cannot fail.
            let _ = tx.send(kind);
        }
        inner.subscribers.push(tx);
        rx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribers_see_cancel_and_escalation() {
        let token = CancelToken::new();
        let rx = token.subscribe();
        assert!(rx.try_recv().is_err());
        token.cancel(CancelKind::Graceful);
        assert_eq!(rx.try_recv(), Ok(CancelKind::Graceful));
        token.cancel(CancelKind::Graceful);
        assert!(rx.try_recv().is_err(), "repeating the same kind is not news");
        token.cancel(CancelKind::Immediate);
        assert_eq!(rx.try_recv(), Ok(CancelKind::Immediate));
        let late = token.subscribe();
        assert_eq!(late.try_recv(), Ok(CancelKind::Immediate));
    }
}
