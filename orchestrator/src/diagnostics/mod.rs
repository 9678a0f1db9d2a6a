//! Failure diagnostics: why did a test fail, and what should the user try?
//!
//! Every failed or errored test case (and a suite-level error that left no
//! failing case behind) is put in the first category that its **type and
//! message** match — never the test's name, traceback or captured output: a
//! test titled "flaky checkout" is not flaky, and `ValueError` in an
//! assertion's text is not a data error. The user's own categories from
//! `[[diagnostics.categories]]` are tried first, then the built-in ones in
//! DESIGN.md's order: timeout, connection, auth, data, flaky, assertion —
//! else `unknown`. A case that the retries proved flaky (it failed, then
//! passed) is diagnosed `flaky` even though it passed, with a higher
//! confidence than any guess from words.
//!
//! Design notes:
//! - An assertion (by its type — `AssertionError`, Playwright's
//!   `expect.toHaveCount` — or its message) stays an assertion unless its
//!   message names a category that outranks it (timeout, connection, auth,
//!   data, the user's own): `assert status == 422, "…returned 401
//!   Unauthorized"` is `auth`, while two identical `toHaveCount` failures are
//!   both assertions though one has a custom message about waiting. What a
//!   tool adds to every retried expectation (Playwright's `Timeout: 5000ms`
//!   and call log) is no part of that message.
//! - A type counts by its name: `KeyError`, `ValueError` are `data` as the
//!   failure's type (JUnit `type`, the message's `KeyError: …` start, or the
//!   last line of a pytest traceback), not as words in a message.
//! - All message patterns are compiled once, in [`Diagnoser::new`], into one
//!   [`regex::RegexSet`] (one scan of a message answers "which categories
//!   match") plus one [`regex::Regex`] per category (to quote the text that
//!   matched in the root cause). Patterns are case-insensitive, the user's
//!   included.
//! - Only the first [`MAX_FIELD_BYTES`] of a message are searched, so a test
//!   that fails with megabytes of text costs no more than one that does not.
//!
//! Modules: `categories` (the built-in ones and the user's), `failure` (a
//! failure's type and message), `diagnoser` (classification), `summary` (the
//! manifest's lines), `text` (how much is searched and how it is quoted).

mod categories;
mod diagnoser;
mod failure;
mod summary;
mod text;

pub use categories::{
    built_in_category_names, CategorySpec, ENVIRONMENT_CATEGORY, FLAKY_CATEGORY, FLAKY_PROVEN_CONFIDENCE,
    FLAKY_WORDS_CONFIDENCE, MATCHED_CONFIDENCE, UNKNOWN_CATEGORY, UNKNOWN_CONFIDENCE,
};
pub use diagnoser::{Diagnoser, DiagnosticsError};
pub use summary::summary;
pub use text::MAX_FIELD_BYTES;

/// The diagnosis of one failure: exactly a record of `evidence/diagnostics.json`.
pub use evidence::DiagnosticRecord as Diagnosis;
