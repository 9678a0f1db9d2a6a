//! Tests as they happen: what a runner's live stream says
//! ([`runner_api::stream`]) becomes [`Event::Test`] events on the run's
//! event channel, sent from the thread that follows the stream, so they
//! reach the coordinating thread (reporters, evidence) before the
//! attempt's own end.

use crossbeam_channel::Sender;
use runner_api::TestEvents;

use crate::events::Event;

/// The test events of attempt `attempt` of suite `suite` (at `index` in the
/// plan), sent on `events`.
pub(crate) fn test_events(events: &Sender<Event>, index: usize, suite: &str, attempt: u32) -> TestEvents {
    let events = events.clone();
    let suite = suite.to_string();
    TestEvents::new(move |event| {
        // The coordinator gone means the run is ending: nobody needs the event.
        let _ = events.send(Event::Test {
            index,
            suite: suite.clone(),
            attempt,
            event,
        });
    })
}
