//! orchestrator

pub mod diagnostics;
