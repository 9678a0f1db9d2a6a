//! The contract between qaagent and the test runners it drives.
//!
//! A runner crate implements [`Runner`] for one tool (pytest, behave,
//! Playwright, …). It is handed a [`SuiteContext`] describing one attempt of
//! one suite — where the project and the suite live, a fresh output directory,
//! which tests to select, the environment, the timeout and a cancel token — and
//! returns a [`SuiteResult`]. Everything a runner needs to do that well lives
//! here so runners stay small: JUnit reading ([`junit`]), supervised child
//! processes ([`process`]), turning a tool's exit into an honest outcome
//! ([`conclude`]), a report directory the tool writes to outside its output
//! dir ([`report_dir`]), Python discovery ([`python`]), route mapping ([`route`]) and keeping
//! secrets out of what qaagent writes ([`redact`]).

pub mod cancel;
pub mod case;
pub mod claim;
pub mod conclude;
pub mod context;
pub mod junit;
pub mod outdir;
pub mod probe;
pub mod process;
pub mod python;
pub mod redact;
pub mod report_dir;
pub mod result;
pub mod route;
pub mod runner;
pub mod settings;
pub mod stream;
pub mod version;

/// The TOML types of the API ([`Runner::check_settings`] takes a
/// [`toml::Table`]), so a runner needs no `toml` of its own, nor the same version.
pub use toml;

pub use cancel::{CancelKind, CancelToken};
pub use case::{TestCase, TestStatus};
pub use context::{LiveOutput, OutputLine, OutputStream, Selection, Share, ShareTests, SuiteContext};
pub use probe::{Probe, ProbeError, ProbeOutput};
pub use result::{LeakedProcess, SuiteOutcome, SuiteResult, ToolRun};
pub use runner::{Runner, RunnerError};
pub use settings::{parse_settings, SettingsError};
pub use stream::{StreamLine, Streamed, TestEvent, TestEvents};
