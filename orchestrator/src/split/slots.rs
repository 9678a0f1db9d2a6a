//! How many tool processes run at once across a run: every attempt of every
//! suite, and every share of a split suite, holds a slot while its tool
//! runs. There are [`RunSettings::processes`](crate::plan::RunSettings::processes)
//! slots, never fewer than suite workers, so a run without splits never
//! waits for one.

use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use runner_api::CancelToken;

/// How often a process waiting for a slot looks at the cancel token.
const CANCEL_POLL: Duration = Duration::from_millis(100);

/// The run's process slots (a counting semaphore of tokens in a channel).
pub(crate) struct ProcessSlots {
    give: Sender<()>,
    take: Receiver<()>,
}

/// A slot held: given back when dropped.
pub(crate) struct Slot<'a> {
    give: &'a Sender<()>,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        // The receiver lives as long as the slots, so giving back cannot fail.
        let _ = self.give.send(());
    }
}

impl ProcessSlots {
    /// `count` slots (at least one).
    pub(crate) fn new(count: usize) -> ProcessSlots {
        let count = count.max(1);
        let (give, take) = crossbeam_channel::bounded(count);
        for _ in 0..count {
            let _ = give.send(());
        }
        ProcessSlots { give, take }
    }

    /// Waits for a slot; `None` once `cancel` fires first (the process is
    /// then not started: the runner sees the cancelled token anyway).
    pub(crate) fn acquire(&self, cancel: &CancelToken) -> Option<Slot<'_>> {
        loop {
            match self.take.recv_timeout(CANCEL_POLL) {
                Ok(()) => return Some(Slot { give: &self.give }),
                Err(_) if cancel.is_cancelled() => return None,
                Err(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_and_given_back() {
        let slots = ProcessSlots::new(2);
        let cancel = CancelToken::new();
        let a = slots.acquire(&cancel).expect("first");
        let _b = slots.acquire(&cancel).expect("second");
        assert!(slots.take.try_recv().is_err(), "no third slot");
        drop(a);
        assert!(slots.acquire(&cancel).is_some(), "given back");
        cancel.cancel(runner_api::CancelKind::Graceful);
        let waiting = ProcessSlots::new(1);
        let _held = waiting.acquire(&CancelToken::new());
        assert!(waiting.acquire(&cancel).is_none(), "cancelled while waiting");
    }
}
