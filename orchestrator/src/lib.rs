//! qaagent's engine: the `.qaagent.toml` config model, the runner registry,
//! planning, sequential and parallel execution, retries, stop signals,
//! failure diagnostics, and the event stream a run emits — all driven through
//! one facade, [`run::Run`], that every front end uses — and the merging of
//! a partitioned run's shares into one run ([`merge`]).

pub mod attempts;
pub mod config;
pub mod diagnostics;
pub mod events;
pub mod evidence_map;
pub mod execute;
mod expected;
pub mod merge;
mod out_dir;
pub mod partition;
pub mod plan;
pub mod quarantine;
pub mod registry;
pub mod report;
pub mod rerun;
pub mod retry_policy;
pub mod run;
mod session;
pub mod signals;
pub mod split;
mod streaming;
pub mod summary;
