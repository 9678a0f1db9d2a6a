//! Failure diagnostics: why did a test fail, and what should the user try?
//!
//! Every failed or errored test case (and a suite-level error that left no
//! failing case behind) is put in the first category whose pattern matches its
//! text: the user's own categories from `[[diagnostics.categories]]` first, then
//! the built-in ones in this order: timeout, connection, auth, data, flaky,
//! assertion — else `unknown`. A case that the retries proved flaky (it failed,
//! then passed) is diagnosed `flaky` even though it passed, with a higher
//! confidence than any guess from words.
//!
//! Design notes:
//! - All patterns are compiled once, in [`Diagnoser::new`], into one
//!   [`regex::RegexSet`] (one scan of a text answers "which categories
//!   match") plus one [`regex::Regex`] per category (to quote the text that
//!   matched in the root cause). Patterns are case-insensitive, the user's
//!   included. The set's literal prefilter makes it slower on tracebacks
//!   than a regex-automata matcher without one (+15–20 ms of CPU per 30,000
//!   failures, BENCHMARKS.md target 4); that is the price of one regex
//!   engine and no tuning, and the target is still met.
//! - The text is searched in tiers, most specific first: the failure message
//!   and type, then the details (traceback), then the captured output. The
//!   first tier with any match decides. Without tiers a `ConnectionError`
//!   would be called a timeout because the library frames of its traceback
//!   mention `timeout=None`.
//! - Only the first [`MAX_FIELD_BYTES`] of each field are searched, so a test
//!   that dumps megabytes of output costs no more than one that does not.
//!
//! Modules: `categories` (the built-in ones and the user's), `diagnoser`
//! (classification), `summary` (the manifest's lines), `text` (what is
//! searched and how it is quoted).

mod categories;
mod diagnoser;
mod summary;
mod text;

pub use categories::{
    CategorySpec, ENVIRONMENT_CATEGORY, FLAKY_CATEGORY, FLAKY_PROVEN_CONFIDENCE, FLAKY_WORDS_CONFIDENCE,
    MATCHED_CONFIDENCE, UNKNOWN_CATEGORY, UNKNOWN_CONFIDENCE,
};
pub use diagnoser::{Diagnoser, DiagnosticsError};
pub use summary::summary;
pub use text::MAX_FIELD_BYTES;

/// The diagnosis of one failure: exactly a record of `evidence/diagnostics.json`.
pub use evidence::DiagnosticRecord as Diagnosis;
