//! qaagent's engine: the `.qaagent.toml` config model and the runner registry
//! (more to come: planning, execution, retries, diagnostics, events).

pub mod config;
pub mod registry;
