//! qaagent's engine: the `.qaagent.toml` config model, the runner registry,
//! planning, sequential and parallel execution, retries, failure diagnostics,
//! and the event stream a run emits.

pub mod attempts;
pub mod config;
pub mod diagnostics;
pub mod events;
pub mod evidence_map;
pub mod execute;
pub mod junit_report;
pub mod plan;
pub mod registry;
pub mod rerun;
pub mod session;
pub mod summary;
