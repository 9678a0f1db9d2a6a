//! What people see and what machines read.
//!
//! Reporters are fed [`Event`]s from the coordinating thread only, so output
//! is linear: tool output never reaches the terminal unless asked for
//! (`--output immediate`), and then one whole line at a time, prefixed with
//! its suite. Human output is a live display in a terminal ([`live`]) or one
//! plain line per event elsewhere ([`plain`]); `--format json` writes
//! newline-delimited events ([`json`]) and moves human output to stderr.

pub mod json;
pub mod live;
pub mod plain;
pub mod style;
pub mod summary;
pub mod untrusted;

use std::io::{self, Write};

use orchestrator::events::Event;

/// Receives a run's events, the last of which ([`Event::RunFinished`])
/// carries the run's report.
pub trait Reporter {
    /// One event, as it happens.
    fn event(&mut self, event: &Event) -> io::Result<()>;
}

/// Writes `line` for people on stderr. A stream that cannot take it (closed,
/// or past a file-size limit) loses the line: `eprintln!` would panic.
pub fn to_stderr(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// Writes `line` on stdout, losing it rather than panicking as `println!` would.
pub fn to_stdout(line: &str) {
    let _ = writeln!(io::stdout().lock(), "{line}");
}

/// Several reporters fed the same stream (JSON on stdout, human on stderr).
pub struct Tee(pub Vec<Box<dyn Reporter>>);

impl Reporter for Tee {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        self.0.iter_mut().try_for_each(|reporter| reporter.event(event))
    }
}
