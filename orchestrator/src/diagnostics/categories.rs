//! The categories a failure can fall in: the built-in ones, the shape of a
//! user's own (`[[diagnostics.categories]]`), and the confidences and
//! suggestions a diagnosis carries.

use serde::{Deserialize, Serialize};

/// Confidence of a diagnosis whose category pattern matched.
pub const MATCHED_CONFIDENCE: f64 = 0.6;

/// Confidence of a diagnosis that matched no category.
pub const UNKNOWN_CONFIDENCE: f64 = 0.3;

/// Confidence of a `flaky` diagnosis guessed from words such as "intermittent"
/// alone: lower than a match, since the words say little about this run.
pub const FLAKY_WORDS_CONFIDENCE: f64 = 0.4;

/// Confidence of a `flaky` diagnosis for a test the retries proved flaky.
pub const FLAKY_PROVEN_CONFIDENCE: f64 = 0.9;

/// The category name of failures no pattern matched.
pub const UNKNOWN_CATEGORY: &str = "unknown";

/// The category name of flaky tests (proven by retries, or guessed from words).
pub const FLAKY_CATEGORY: &str = "flaky";

/// The category of a suite's own error (tool missing, crash, timeout,
/// unreadable report): not a test failure, and counted apart from them.
pub const ENVIRONMENT_CATEGORY: &str = "environment";

/// The suggestion for a suite's own error.
pub(super) const ENVIRONMENT_SUGGESTION: &str =
    "The suite itself could not run or report its tests: read its error and the end of its log, \
     fix the tool, its installation, its timeout or where it writes its report, then run again.";

/// The suggestion for a failure no pattern matched.
pub(super) const UNKNOWN_SUGGESTION: &str =
    "Read the full failure output and the logs in the run's artifacts; if failures like \
     this recur, add a [[diagnostics.categories]] entry to classify them.";

/// The suggestion for a test the retries proved flaky.
pub(super) const FLAKY_PROVEN_SUGGESTION: &str =
    "The test failed, then passed on a retry: make its waits explicit, isolate \
     shared state and ordering dependencies, and quarantine it if it keeps flaking.";

/// One built-in category: name, patterns (case-insensitive), suggestion,
/// confidence, and whether it outranks an assertion.
pub(super) struct BuiltIn {
    pub(super) name: &'static str,
    /// Matched against the failure's type (`requests.exceptions.ConnectionError`).
    pub(super) type_pattern: &'static str,
    /// Searched in the failure's message.
    pub(super) message_pattern: &'static str,
    pub(super) suggestion: &'static str,
    pub(super) confidence: f64,
    /// Whether an assertion's message naming this category makes the failure
    /// this category rather than an assertion (`"…returned 401 Unauthorized"`).
    pub(super) outranks_assertion: bool,
}

/// The name of the built-in category of failed expectations.
pub(super) const ASSERTION_CATEGORY: &str = "assertion";

/// The built-in categories, in the order they are tried (DESIGN.md's order);
/// the last, `assertion`, also tells an assertion from other failures.
pub(super) const BUILT_INS: &[BuiltIn] = &[
    BuiltIn {
        name: "timeout",
        type_pattern: r"time_?out|deadline",
        message_pattern: r"timed out|timeout|deadline exceeded",
        suggestion: "Check whether the application under test is slow or hung at that step; raise the test or \
                     suite timeout only if the operation is legitimately slow.",
        confidence: MATCHED_CONFIDENCE,
        outranks_assertion: true,
    },
    BuiltIn {
        name: "connection",
        type_pattern: r"connect|maxretryerror|protocolerror|remotedisconnected",
        message_pattern: r"connection refused|econnrefused|connectionerror|connection reset|econnreset|net::err_|name or service not known|getaddrinfo|failed to establish a new connection",
        suggestion: "Make sure the application under test is running and reachable at BASE_URL (host, port, DNS) \
                     before the suite starts.",
        confidence: MATCHED_CONFIDENCE,
        outranks_assertion: true,
    },
    BuiltIn {
        name: "auth",
        type_pattern: r"unauthori[sz]ed|forbidden|authenticat|authori[sz]ation",
        message_pattern: r"\b40[13]\b|unauthori[sz]ed|forbidden|authentication|permission denied|invalid token",
        suggestion: "Check the credentials, tokens and roles the tests use: a token may have expired, or the test \
                     user may lack a permission.",
        confidence: MATCHED_CONFIDENCE,
        outranks_assertion: true,
    },
    BuiltIn {
        // A `ValueError` counts as its type only: the word in a message
        // (`assert "ValueError" not in log`) says nothing about the data.
        name: "data",
        type_pattern: r"keyerror|valueerror|indexerror|typeerror|jsondecodeerror|validationerror",
        message_pattern: r"validation error|\bschema\b|invalid data|\b404\b",
        suggestion: "Check the test data and fixtures against what the application returns now: missing keys or \
                     records, a changed schema, wrong types.",
        confidence: MATCHED_CONFIDENCE,
        outranks_assertion: true,
    },
    BuiltIn {
        // Words cannot make a failed expectation flaky: only retries prove that.
        name: FLAKY_CATEGORY,
        type_pattern: r"staleelement",
        message_pattern: r"flaky|intermittent|race condition|stale element",
        suggestion: "The failure looks timing-dependent: make waits explicit and isolate shared state, then run \
                     with retries to confirm whether it is flaky.",
        confidence: FLAKY_WORDS_CONFIDENCE,
        outranks_assertion: false,
    },
    BuiltIn {
        name: ASSERTION_CATEGORY,
        type_pattern: r"assert|^expect\.|^failed$|expectation|comparisonfailure",
        message_pattern: r"assertion failed|\bassert|\bexpected\b[^\n]*?\bto\b|\btobe\b|\btoequal\b|\bexpect\([^\n]*\)\.(?:not\.)?to\w+",
        suggestion: "The application answered differently from what the test expects: check recent changes to the \
                     behaviour under test, or update the expectation if the change was intended.",
        confidence: MATCHED_CONFIDENCE,
        outranks_assertion: false,
    },
];

/// Every category a failure can be put in without the user's own: the
/// built-in ones, `unknown` and `environment` (what `[run] retry_on` may name).
pub fn built_in_category_names() -> impl Iterator<Item = &'static str> {
    (BUILT_INS.iter().map(|built_in| built_in.name)).chain([UNKNOWN_CATEGORY, ENVIRONMENT_CATEGORY])
}

/// A user-defined category (`[[diagnostics.categories]]` in the config), tried
/// before the built-in ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategorySpec {
    /// The category's name, reported as the diagnosis' `category`.
    pub name: String,
    /// A regular expression (case-insensitive) searched in the failure's type
    /// and message (never the test's name, traceback or captured output).
    pub pattern: String,
    /// What the user should try when a failure falls in this category.
    pub suggestion: String,
}
