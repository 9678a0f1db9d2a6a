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
//!   multi-pattern regex (one scan of a text answers "which categories
//!   match", like a `RegexSet`) plus one [`Regex`] per category (to quote the
//!   text that matched in the root cause). Patterns are case-insensitive, the
//!   user's included. The multi-pattern regex runs without a literal
//!   prefilter: for a set of case-insensitive alternations the prefilter is
//!   a slow automaton that finds candidates everywhere, and scanning a
//!   traceback no category matches took 4.0 µs with it, 2.7 µs without.
//! - The text is searched in tiers, most specific first: the failure message
//!   and type, then the details (traceback), then the captured output. The
//!   first tier with any match decides. Without tiers a `ConnectionError`
//!   would be called a timeout because the library frames of its traceback
//!   mention `timeout=None`.
//! - Only the first [`MAX_FIELD_BYTES`] of each field are searched, so a test
//!   that dumps megabytes of output costs no more than one that does not.

use std::collections::HashMap;

use regex::{Regex, RegexBuilder};
use regex_automata::{meta, util::syntax, Input, MatchKind, PatternSet};
use runner_api::route::route_for_test;
use runner_api::{SuiteResult, TestCase};
use serde::{Deserialize, Serialize};

/// How many bytes of each text field (message, details, output…) are searched.
pub const MAX_FIELD_BYTES: usize = 8 * 1024;

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

/// Longest quote of matched text kept in a root cause, in characters.
const MAX_QUOTE_CHARS: usize = 80;

const UNKNOWN_SUGGESTION: &str = "Read the full failure output and the logs in the run's artifacts; if failures like \
     this recur, add a [[diagnostics.categories]] entry to classify them.";

const FLAKY_PROVEN_SUGGESTION: &str = "The test failed, then passed on a retry: make its waits explicit, isolate \
     shared state and ordering dependencies, and quarantine it if it keeps flaking.";

/// One built-in category: name, pattern (case-insensitive), suggestion, confidence.
struct BuiltIn {
    name: &'static str,
    pattern: &'static str,
    suggestion: &'static str,
    confidence: f64,
}

/// The built-in categories, in the order they are tried.
const BUILT_INS: &[BuiltIn] = &[
    BuiltIn {
        name: "timeout",
        pattern: r"timed out|timeout|deadline exceeded",
        suggestion: "Check whether the application under test is slow or hung at that step; raise the test or \
                     suite timeout only if the operation is legitimately slow.",
        confidence: MATCHED_CONFIDENCE,
    },
    BuiltIn {
        name: "connection",
        pattern: r"connection refused|econnrefused|connectionerror|connection reset|econnreset|net::err_|name or service not known|getaddrinfo|failed to establish a new connection",
        suggestion: "Make sure the application under test is running and reachable at BASE_URL (host, port, DNS) \
                     before the suite starts.",
        confidence: MATCHED_CONFIDENCE,
    },
    BuiltIn {
        name: "auth",
        pattern: r"\b40[13]\b|unauthori[sz]ed|forbidden|authentication|permission denied|invalid token",
        suggestion: "Check the credentials, tokens and roles the tests use: a token may have expired, or the test \
                     user may lack a permission.",
        confidence: MATCHED_CONFIDENCE,
    },
    BuiltIn {
        name: "data",
        pattern: r"keyerror|valueerror|indexerror|typeerror|jsondecodeerror|validation ?error|\bschema\b|invalid data|not found|\b404\b",
        suggestion: "Check the test data and fixtures against what the application returns now: missing keys or \
                     records, a changed schema, wrong types.",
        confidence: MATCHED_CONFIDENCE,
    },
    BuiltIn {
        name: FLAKY_CATEGORY,
        pattern: r"flaky|intermittent|race condition|stale element",
        suggestion: "The failure looks timing-dependent: make waits explicit and isolate shared state, then run \
                     with retries to confirm whether it is flaky.",
        confidence: FLAKY_WORDS_CONFIDENCE,
    },
    BuiltIn {
        name: "assertion",
        pattern: r"assertionerror|assertion failed|\bassert|\bexpected\b[^\n]*?\bto\b|tobe|toequal|\bexpect\([^\n]*\)\.(?:not\.)?to\w+",
        suggestion: "The application answered differently from what the test expects: check recent changes to the \
                     behaviour under test, or update the expectation if the change was intended.",
        confidence: MATCHED_CONFIDENCE,
    },
];

/// A user-defined category (`[[diagnostics.categories]]` in the config), tried
/// before the built-in ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategorySpec {
    /// The category's name, reported as the diagnosis' `category`.
    pub name: String,
    /// A regular expression (case-insensitive) searched in the failure's
    /// message, type, details and captured output.
    pub pattern: String,
    /// What the user should try when a failure falls in this category.
    pub suggestion: String,
}

/// Why a [`Diagnoser`] could not be built from the configured categories.
#[derive(Debug, thiserror::Error)]
pub enum DiagnosticsError {
    /// A custom category's pattern is not a valid regular expression.
    #[error("invalid pattern for diagnostics category `{name}`")]
    InvalidPattern {
        /// The category's name.
        name: String,
        /// The regex compiler's complaint, pointing at the bad spot.
        #[source]
        source: regex::Error,
    },
    /// A custom category has an empty name.
    #[error("diagnostics category #{index} has an empty name")]
    EmptyName {
        /// The category's position in the config, from 1.
        index: usize,
    },
    /// All patterns together exceed the regex engine's size limit.
    #[error("the diagnostics category patterns are too large to compile together")]
    SetTooLarge {
        /// The regex compiler's complaint (boxed: it is large, and rare).
        #[source]
        source: Box<meta::BuildError>,
    },
}

/// The diagnosis of one failure: exactly a record of `evidence/diagnostics.json`.
pub use evidence::DiagnosticRecord as Diagnosis;

/// One category ready to match: its name, suggestion and confidence.
#[derive(Debug, Clone)]
struct Category {
    name: String,
    suggestion: String,
    confidence: f64,
    regex: Regex,
}

/// Classifies failures. Build it once per run (patterns are compiled here) and
/// share it: it is `Send + Sync` and classification takes `&self`.
#[derive(Debug, Clone)]
pub struct Diagnoser {
    /// Custom categories first, then the built-in ones, in the order tried.
    categories: Vec<Category>,
    /// The same patterns as `categories`, same indices, for one-pass matching.
    set: meta::Regex,
}

/// Where a piece of searched text came from, for the root-cause sentence.
#[derive(Debug, Clone, Copy)]
enum Source {
    Message,
    Details,
    Output,
}

impl Source {
    fn describe(self) -> &'static str {
        match self {
            Source::Message => "the failure message",
            Source::Details => "the failure details",
            Source::Output => "the captured output",
        }
    }
}

/// The fields of a failure, grouped in tiers searched most specific first.
type Tiers<'a> = [(Source, [Option<&'a str>; 2])];

impl Diagnoser {
    /// A diagnoser trying `custom` categories (in order) before the built-in
    /// ones. Fails on an empty name or a pattern that does not compile, naming
    /// the category.
    pub fn new(custom: &[CategorySpec]) -> Result<Diagnoser, DiagnosticsError> {
        let mut categories = Vec::with_capacity(custom.len() + BUILT_INS.len());
        for (index, spec) in custom.iter().enumerate() {
            if spec.name.trim().is_empty() {
                return Err(DiagnosticsError::EmptyName { index: index + 1 });
            }
            let regex = compile(&spec.pattern).map_err(|source| DiagnosticsError::InvalidPattern {
                name: spec.name.clone(),
                source,
            })?;
            categories.push(Category {
                name: spec.name.clone(),
                suggestion: spec.suggestion.clone(),
                confidence: MATCHED_CONFIDENCE,
                regex,
            });
        }
        for built_in in BUILT_INS {
            // A failure here is a bug in BUILT_INS, but report it rather than panic.
            let regex = compile(built_in.pattern).map_err(|source| DiagnosticsError::InvalidPattern {
                name: built_in.name.to_string(),
                source,
            })?;
            categories.push(Category {
                name: built_in.name.to_string(),
                suggestion: built_in.suggestion.to_string(),
                confidence: built_in.confidence,
                regex,
            });
        }
        let patterns: Vec<&str> = categories.iter().map(|category| category.regex.as_str()).collect();
        let set = meta::Regex::builder()
            .configure(meta::Config::new().match_kind(MatchKind::All).auto_prefilter(false))
            .syntax(syntax::Config::new().case_insensitive(true))
            .build_many(&patterns)
            .map_err(|source| DiagnosticsError::SetTooLarge {
                source: Box::new(source),
            })?;
        Ok(Diagnoser { categories, set })
    }

    /// The diagnosis of one case of `suite`: `None` for a case that passed
    /// (unless the retries proved it flaky) or was skipped. `route` is the
    /// HTTP route the test exercises, when known.
    pub fn diagnose_case(&self, suite: &str, case: &TestCase, route: Option<String>) -> Option<Diagnosis> {
        if !needs_diagnosis(case) {
            return None;
        }
        if case.flaky {
            return Some(flaky_diagnosis(suite, case, route));
        }
        let tiers = [
            (Source::Message, [case.message.as_deref(), case.error_type.as_deref()]),
            (Source::Details, [case.details.as_deref(), None]),
            (Source::Output, [case.system_out.as_deref(), case.system_err.as_deref()]),
        ];
        let error_message = case
            .message
            .clone()
            .filter(|message| !message.trim().is_empty())
            .or_else(|| case.error_type.clone());
        Some(self.classify(case.identity(), suite, &tiers, error_message, route))
    }

    /// The diagnoses of a suite: one per failed, errored or flaky case, in
    /// the suite's order, plus one for a suite-level error when no case failed
    /// (the tool crashed, timed out, or its report could not be read).
    pub fn diagnose_suite(&self, result: &SuiteResult) -> Vec<Diagnosis> {
        let mut diagnoses: Vec<Diagnosis> = result
            .cases
            .iter()
            // Routes are worth finding only for the cases that get a diagnosis.
            .filter(|case| needs_diagnosis(case))
            .filter_map(|case| {
                self.diagnose_case(
                    &result.suite,
                    case,
                    route_for_test(&case.name).map(|route| route.to_string()),
                )
            })
            .collect();
        let any_failing_case = result.cases.iter().any(|case| case.status.is_failure());
        if let (Some(error), false) = (&result.error, any_failing_case) {
            let tiers = [
                (Source::Message, [Some(error.as_str()), None]),
                (Source::Output, [result.log_tail.as_deref(), None]),
            ];
            diagnoses.push(self.classify(result.suite.clone(), &result.suite, &tiers, Some(error.clone()), None));
        }
        diagnoses
    }

    /// The index of the first category whose pattern matches the start of `text`
    /// (its first [`MAX_FIELD_BYTES`]).
    fn first_category(&self, text: &str) -> Option<usize> {
        let mut matched = PatternSet::new(self.set.pattern_len());
        self.set
            .which_overlapping_matches(&Input::new(bounded(text)), &mut matched);
        matched.iter().next().map(|pattern| pattern.as_usize())
    }

    /// Classifies a failure by the first tier with any match, and in it the
    /// first category; `unknown` when nothing matches.
    fn classify(
        &self,
        test_name: String,
        suite: &str,
        tiers: &Tiers<'_>,
        error_message: Option<String>,
        route: Option<String>,
    ) -> Diagnosis {
        let found = tiers.iter().find_map(|(source, fields)| {
            let index = fields
                .iter()
                .flatten()
                .filter_map(|text| self.first_category(text))
                .min()?;
            Some((index, *source, *fields))
        });
        let Some((index, source, fields)) = found else {
            let line = error_message.as_deref().and_then(first_line);
            let root_cause = match line {
                Some(line) => format!("No known failure pattern matched: \"{}\".", quote(line)),
                None => "No known failure pattern matched, and the failure has no message.".to_string(),
            };
            return Diagnosis {
                test_name,
                suite: suite.to_string(),
                category: UNKNOWN_CATEGORY.to_string(),
                root_cause,
                confidence: UNKNOWN_CONFIDENCE,
                suggestion: UNKNOWN_SUGGESTION.to_string(),
                error_message,
                route,
            };
        };
        let category = &self.categories[index];
        let matched = fields
            .iter()
            .flatten()
            .find_map(|text| category.regex.find(bounded(text)))
            .map(|found| found.as_str())
            .unwrap_or_default();
        Diagnosis {
            test_name,
            suite: suite.to_string(),
            category: category.name.clone(),
            root_cause: format!(
                "Looks like {} {} failure: \"{}\" in {}.",
                indefinite_article(&category.name),
                category.name,
                quote(matched),
                source.describe()
            ),
            confidence: category.confidence,
            suggestion: category.suggestion.clone(),
            error_message,
            route,
        }
    }
}

/// The run's summary for the manifest's `diagnostics` list: first the line
/// "N test failure(s) detected. Breakdown: cat: n, …. Suggestions: …",
/// then one line per category with its count and suggestion. Categories
/// are listed most frequent first (ties in order of first appearance).
/// Flaky tests count as failures here (each failed at least once), and the
/// first line says how many of them passed on a retry. Empty when there is
/// nothing to diagnose.
pub fn summary(diagnoses: &[Diagnosis]) -> Vec<String> {
    if diagnoses.is_empty() {
        return Vec::new();
    }
    // (category, count, suggestion of its first diagnosis), in order of first appearance.
    let mut groups: Vec<(&str, usize, &str)> = Vec::new();
    let mut positions: HashMap<&str, usize> = HashMap::new();
    for diagnosis in diagnoses {
        match positions.get(diagnosis.category.as_str()) {
            Some(&position) => groups[position].1 += 1,
            None => {
                positions.insert(&diagnosis.category, groups.len());
                groups.push((&diagnosis.category, 1, &diagnosis.suggestion));
            }
        }
    }
    // A stable sort keeps first-appearance order among equal counts.
    groups.sort_by_key(|group| std::cmp::Reverse(group.1));
    let breakdown: Vec<String> = groups
        .iter()
        .map(|(name, count, _)| format!("{name}: {count}"))
        .collect();
    let mut suggestions: Vec<&str> = Vec::new();
    for (_, _, suggestion) in &groups {
        if !suggestions.contains(suggestion) {
            suggestions.push(suggestion);
        }
    }
    let mut lines = Vec::with_capacity(groups.len() + 1);
    // Say how many of the failures the retries cured, so "N failures" is not
    // read as N tests failing now.
    let passed_on_retry = diagnoses
        .iter()
        .filter(|d| d.category == FLAKY_CATEGORY && d.confidence >= FLAKY_PROVEN_CONFIDENCE)
        .count();
    let cured = if passed_on_retry > 0 {
        format!(" ({passed_on_retry} of them flaky: passed on a retry)")
    } else {
        String::new()
    };
    lines.push(format!(
        "{} test failure(s) detected{cured}. Breakdown: {}. Suggestions: {}",
        diagnoses.len(),
        breakdown.join(", "),
        suggestions.join(" ")
    ));
    lines.extend(
        groups
            .iter()
            .map(|(name, count, suggestion)| format!("{name} ({count}): {suggestion}")),
    );
    lines
}

/// "an" before a word that starts with a vowel letter ("an assertion
/// failure"), else "a" (category names are single words, built-in or the user's).
fn indefinite_article(word: &str) -> &'static str {
    match word.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// Whether `case` gets a diagnosis: it failed, or it passed only on a retry.
fn needs_diagnosis(case: &TestCase) -> bool {
    case.flaky || case.status.is_failure()
}

/// The diagnosis of a case the retries proved flaky: no guessing needed.
fn flaky_diagnosis(suite: &str, case: &TestCase, route: Option<String>) -> Diagnosis {
    let earlier = case.previous_failures.last();
    let error_message = earlier
        .and_then(|failure| failure.message.clone().or_else(|| failure.error_type.clone()))
        .or_else(|| case.message.clone());
    let failed_attempts = case.previous_failures.len().max(1);
    let root_cause = match error_message.as_deref().and_then(first_line) {
        Some(line) => format!(
            "Flaky: failed {failed_attempts} of {} attempt(s), then passed; last failure: \"{}\".",
            case.attempts,
            quote(line)
        ),
        None => format!(
            "Flaky: failed {failed_attempts} of {} attempt(s), then passed.",
            case.attempts
        ),
    };
    Diagnosis {
        test_name: case.identity(),
        suite: suite.to_string(),
        category: FLAKY_CATEGORY.to_string(),
        root_cause,
        confidence: FLAKY_PROVEN_CONFIDENCE,
        suggestion: FLAKY_PROVEN_SUGGESTION.to_string(),
        error_message,
        route,
    }
}

/// The first non-blank line of `text`, trimmed.
fn first_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|line| !line.is_empty())
}

/// Compiles one category pattern the way the set will (case-insensitive).
fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).case_insensitive(true).build()
}

/// The first [`MAX_FIELD_BYTES`] of `text`, cut on a character boundary.
fn bounded(text: &str) -> &str {
    if text.len() <= MAX_FIELD_BYTES {
        return text;
    }
    let mut end = MAX_FIELD_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` on one line and at most [`MAX_QUOTE_CHARS`] characters, for quoting.
fn quote(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX_QUOTE_CHARS {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(MAX_QUOTE_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use runner_api::case::PriorFailure;
    use runner_api::{SuiteOutcome, TestStatus};

    fn failing(name: &str, message: &str) -> TestCase {
        let mut case = TestCase::new(name, "tests.test_api", TestStatus::Failed);
        case.message = Some(message.to_string());
        case
    }

    fn diagnose(case: &TestCase) -> Diagnosis {
        Diagnoser::new(&[])
            .expect("built-ins compile")
            .diagnose_case("unit", case, None)
            .expect("a failing case is diagnosed")
    }

    /// A pytest `requests` traceback: its library frames mention `timeout`,
    /// which must not outweigh the message.
    const REQUESTS_TRACEBACK: &str = r#"self = <requests.adapters.HTTPAdapter object at 0x7f>
request = <PreparedRequest [GET]>, stream = False, timeout = Timeout(connect=None, read=None, total=None)

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
>           raise ConnectionError(e, request=request)
E           requests.exceptions.ConnectionError: HTTPConnectionPool(host='localhost', port=8000): Max retries exceeded with url: /api/pets (Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection refused'))

.venv/lib/python3.12/site-packages/requests/adapters.py:700: ConnectionError"#;

    #[test]
    fn pytest_assertion_error_is_an_assertion() {
        let mut case = failing("test_total", "AssertionError: assert 41 == 42\n +  where 41 = total()");
        case.error_type = Some("AssertionError".into());
        case.details = Some("def test_total():\n>       assert total() == 42\nE       assert 41 == 42".into());
        let diagnosis = diagnose(&case);
        assert_eq!(diagnosis.category, "assertion");
        assert_eq!(diagnosis.confidence, MATCHED_CONFIDENCE);
        assert!(
            diagnosis.root_cause.contains("\"AssertionError\""),
            "{}",
            diagnosis.root_cause
        );
        assert_eq!(diagnosis.test_name, "tests.test_api::test_total");
        assert_eq!(diagnosis.suite, "unit");
        assert_eq!(diagnosis.error_message.as_deref(), case.message.as_deref());
    }

    #[test]
    fn requests_connection_error_is_a_connection_failure_despite_timeout_in_the_traceback() {
        let mut case = failing(
            "test_list_pets",
            "requests.exceptions.ConnectionError: HTTPConnectionPool(host='localhost', port=8000): Max retries \
             exceeded with url: /api/pets (Caused by NewConnectionError('Failed to establish a new connection: \
             [Errno 111] Connection refused'))",
        );
        case.details = Some(REQUESTS_TRACEBACK.into());
        let diagnosis = diagnose(&case);
        assert_eq!(diagnosis.category, "connection");
        assert!(
            diagnosis.root_cause.contains("failure message"),
            "{}",
            diagnosis.root_cause
        );
    }

    /// Playwright's web-first assertions wait, so their details mention a
    /// timeout; the message says an expectation failed, and decides.
    #[test]
    fn playwright_expect_failure_is_an_assertion_even_with_a_timeout_in_its_details() {
        let mut case = TestCase::new("cart › shows total", "cart.spec.ts", TestStatus::Failed);
        case.message = Some("Error: expect(locator).toHaveText(expected) failed".into());
        case.details = Some(
            "Locator: locator('#total')\nExpected: \"12\"\nReceived: \"10\"\nTimeout: 5000ms\n\nCall log:\n  - Expect \"toHaveText\" with timeout 5000ms".into(),
        );
        let diagnosis = diagnose(&case);
        assert_eq!(diagnosis.category, "assertion", "{}", diagnosis.root_cause);
        case.message = Some("Error: expect(page).not.toHaveURL(expected) failed".into());
        assert_eq!(diagnose(&case).category, "assertion");
    }

    #[test]
    fn playwright_timeout_error_is_a_timeout() {
        let mut case = TestCase::new("checkout › pays", "checkout.spec.ts", TestStatus::Failed);
        case.selector = Some("[chromium] › checkout.spec.ts:12:5 › checkout › pays".into());
        case.message = Some(
            "TimeoutError: page.click: Timeout 5000ms exceeded.\nCall log:\n  - waiting for locator('#pay')".into(),
        );
        let diagnosis = diagnose(&case);
        assert_eq!(diagnosis.category, "timeout");
        assert_eq!(
            diagnosis.test_name,
            "[chromium] › checkout.spec.ts:12:5 › checkout › pays"
        );
        assert!(diagnosis.root_cause.contains("\"Timeout\""), "{}", diagnosis.root_cause);
    }

    #[test]
    fn http_401_is_an_auth_failure() {
        let mut case = failing(
            "test_get_me",
            "assert 401 == 200\n +  where 401 = <Response [401]>.status_code",
        );
        case.error_type = Some("AssertionError".into());
        let diagnosis = diagnose(&case);
        assert_eq!(diagnosis.category, "auth");
        assert!(diagnosis.root_cause.contains("\"401\""), "{}", diagnosis.root_cause);
    }

    #[test]
    fn key_error_is_a_data_failure() {
        let mut case = failing("test_pet_fields", "KeyError: 'owner_id'");
        case.status = TestStatus::Error;
        case.details = Some("    pet = resp.json()\n>   assert pet['owner_id'] == 7\nE   KeyError: 'owner_id'".into());
        let diagnosis = diagnose(&case);
        assert_eq!(diagnosis.category, "data");
        assert!(diagnosis.root_cause.contains("KeyError"), "{}", diagnosis.root_cause);
        assert!(
            diagnosis.root_cause.starts_with("Looks like a data failure"),
            "{}",
            diagnosis.root_cause
        );
    }

    #[test]
    fn root_causes_take_the_right_article() {
        let case = failing("test_total", "AssertionError: assert 41 == 42");
        let diagnosis = diagnose(&case);
        assert!(
            diagnosis.root_cause.starts_with("Looks like an assertion failure"),
            "{}",
            diagnosis.root_cause
        );
    }

    #[test]
    fn flaky_words_are_a_low_confidence_guess() {
        let case = failing(
            "test_feed",
            "StaleElementReferenceException: stale element reference: element is not attached",
        );
        let diagnosis = diagnose(&case);
        assert_eq!(diagnosis.category, "flaky");
        assert_eq!(diagnosis.confidence, FLAKY_WORDS_CONFIDENCE);
        assert!(diagnosis.confidence < MATCHED_CONFIDENCE);
    }

    #[test]
    fn a_case_proven_flaky_by_retries_is_diagnosed_flaky_although_it_passed() {
        let mut case = TestCase::new("test_search", "tests.test_api", TestStatus::Passed);
        case.flaky = true;
        case.attempts = 2;
        case.previous_failures.push(PriorFailure {
            status: TestStatus::Failed,
            message: Some("AssertionError: assert 2 == 3".into()),
            error_type: Some("AssertionError".into()),
            details: None,
            duration: 0.1,
        });
        let diagnosis = diagnose(&case);
        assert_eq!(diagnosis.category, "flaky");
        assert_eq!(diagnosis.confidence, FLAKY_PROVEN_CONFIDENCE);
        assert_eq!(
            diagnosis.error_message.as_deref(),
            Some("AssertionError: assert 2 == 3")
        );
        assert!(diagnosis.root_cause.contains("1 of 2"), "{}", diagnosis.root_cause);
    }

    #[test]
    fn passed_and_skipped_cases_are_not_diagnosed() {
        let diagnoser = Diagnoser::new(&[]).expect("built-ins compile");
        for status in [TestStatus::Passed, TestStatus::Skipped] {
            let mut case = TestCase::new("t", "c", status);
            case.message = Some("timeout".into());
            assert_eq!(diagnoser.diagnose_case("unit", &case, None), None, "{status}");
        }
    }

    #[test]
    fn nothing_recognisable_is_unknown() {
        let case = failing("test_weird", "Segmentation fault in libfoo\ncore dumped");
        let diagnosis = diagnose(&case);
        assert_eq!(diagnosis.category, UNKNOWN_CATEGORY);
        assert_eq!(diagnosis.confidence, UNKNOWN_CONFIDENCE);
        assert!(
            diagnosis.root_cause.contains("Segmentation fault in libfoo"),
            "{}",
            diagnosis.root_cause
        );
    }

    #[test]
    fn a_case_without_any_text_is_unknown() {
        let case = TestCase::new("test_silent", "c", TestStatus::Error);
        let diagnosis = diagnose(&case);
        assert_eq!(diagnosis.category, UNKNOWN_CATEGORY);
        assert_eq!(diagnosis.error_message, None);
    }

    #[test]
    fn the_message_tier_wins_over_output_but_output_is_searched_when_needed() {
        let mut case = failing("test_x", "Exception: boom");
        case.system_err = Some("WARNING urllib3 connection reset by peer".into());
        assert_eq!(diagnose(&case).category, "connection");
        case.message = Some("AssertionError: boom".into());
        assert_eq!(diagnose(&case).category, "assertion");
    }

    #[test]
    fn only_the_first_bytes_of_a_field_are_searched() {
        let mut case = failing("test_big", "Exception: boom");
        // Two-byte characters after one ASCII byte: the cut lands mid-character.
        let mut output = format!("a{}", "é".repeat(MAX_FIELD_BYTES));
        output.push_str(" Connection refused");
        case.system_out = Some(output);
        assert_eq!(diagnose(&case).category, UNKNOWN_CATEGORY);
    }

    #[test]
    fn custom_categories_are_checked_before_built_ins_case_insensitively() {
        let custom = [
            CategorySpec {
                name: "database".into(),
                pattern: r"psycopg2\.OperationalError|could not connect to server".into(),
                suggestion: "Start the test database (docker compose up db).".into(),
            },
            CategorySpec {
                name: "never".into(),
                pattern: "no such text anywhere".into(),
                suggestion: "-".into(),
            },
        ];
        let diagnoser = Diagnoser::new(&custom).expect("valid patterns");
        // Would be `connection` by the built-ins.
        let case = failing(
            "test_db",
            "PSYCOPG2.OPERATIONALERROR: could not connect to server: Connection refused",
        );
        let diagnosis = diagnoser.diagnose_case("unit", &case, None).expect("diagnosed");
        assert_eq!(diagnosis.category, "database");
        assert_eq!(diagnosis.suggestion, "Start the test database (docker compose up db).");
        assert_eq!(diagnosis.confidence, MATCHED_CONFIDENCE);
        // Built-ins still apply when no custom category matches.
        let other = failing("test_other", "TimeoutError: deadline exceeded");
        let diagnosis = diagnoser.diagnose_case("unit", &other, None).expect("diagnosed");
        assert_eq!(diagnosis.category, "timeout");
    }

    #[test]
    fn a_bad_custom_pattern_is_an_error_naming_the_category() {
        let custom = [CategorySpec {
            name: "broken".into(),
            pattern: "unclosed (group".into(),
            suggestion: "-".into(),
        }];
        let error = Diagnoser::new(&custom).expect_err("the pattern does not compile");
        assert!(matches!(&error, DiagnosticsError::InvalidPattern { name, .. } if name == "broken"));
        assert!(error.to_string().contains("`broken`"), "{error}");
        assert!(std::error::Error::source(&error).is_some());
    }

    #[test]
    fn an_empty_custom_name_is_an_error() {
        let custom = [CategorySpec {
            name: " ".into(),
            pattern: "x".into(),
            suggestion: "-".into(),
        }];
        let error = Diagnoser::new(&custom).expect_err("empty name");
        assert!(matches!(error, DiagnosticsError::EmptyName { index: 1 }));
    }

    #[test]
    fn a_suite_level_error_without_failing_cases_is_diagnosed() {
        let diagnoser = Diagnoser::new(&[]).expect("built-ins compile");
        let mut result = SuiteResult::new("e2e", "playwright");
        result
            .cases
            .push(TestCase::new("passes", "a.spec.ts", TestStatus::Passed));
        result.log_tail = Some("Error: connect ECONNREFUSED 127.0.0.1:3000".into());
        result.set_error(
            SuiteOutcome::Errored,
            "playwright exited with code 1 but reported no failure",
        );
        let diagnoses = diagnoser.diagnose_suite(&result);
        assert_eq!(diagnoses.len(), 1);
        assert_eq!(diagnoses[0].test_name, "e2e");
        assert_eq!(diagnoses[0].suite, "e2e");
        assert_eq!(diagnoses[0].category, "connection");
        assert_eq!(
            diagnoses[0].error_message.as_deref(),
            Some("playwright exited with code 1 but reported no failure")
        );
    }

    #[test]
    fn a_suite_error_beside_failing_cases_adds_no_diagnosis() {
        let diagnoser = Diagnoser::new(&[]).expect("built-ins compile");
        let mut result = SuiteResult::new("unit", "pytest");
        result.cases.push(failing("test_a", "AssertionError: assert 1 == 2"));
        result.cases.push(TestCase::new("test_b", "c", TestStatus::Passed));
        let mut flaky = TestCase::new("test_c", "c", TestStatus::Passed);
        flaky.flaky = true;
        flaky.attempts = 2;
        result.cases.push(flaky);
        result.set_error(SuiteOutcome::TimedOut, "timed out after 300s");
        let categories: Vec<String> = diagnoser
            .diagnose_suite(&result)
            .into_iter()
            .map(|d| d.category)
            .collect();
        assert_eq!(categories, ["assertion", "flaky"]);
    }

    #[test]
    fn diagnosis_serializes_with_exactly_the_evidence_keys() {
        let diagnosis = Diagnoser::new(&[])
            .expect("built-ins compile")
            .diagnose_case("unit", &failing("test_a", "KeyError: 'x'"), Some("GET /pets".into()))
            .expect("diagnosed");
        let value = serde_json::to_value(&diagnosis).expect("serializes");
        let object = value.as_object().expect("an object");
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "category",
                "confidence",
                "error_message",
                "root_cause",
                "route",
                "suggestion",
                "suite",
                "test_name"
            ]
        );
        assert_eq!(object["route"], "GET /pets");
        assert_eq!(object["confidence"], 0.6);
    }

    #[test]
    fn summary_counts_categories_most_frequent_first() {
        let diagnoser = Diagnoser::new(&[]).expect("built-ins compile");
        let cases = [
            failing("t1", "Timeout 5000ms exceeded"),
            failing("t2", "AssertionError: assert 1 == 2"),
            failing("t3", "AssertionError: assert 'a' == 'b'"),
        ];
        let diagnoses: Vec<Diagnosis> = cases
            .iter()
            .filter_map(|case| diagnoser.diagnose_case("unit", case, None))
            .collect();
        let lines = summary(&diagnoses);
        let assertion = &diagnoses[1].suggestion;
        let timeout = &diagnoses[0].suggestion;
        assert_eq!(
            lines[0],
            format!(
                "3 test failure(s) detected. Breakdown: assertion: 2, timeout: 1. Suggestions: {assertion} {timeout}"
            )
        );
        assert_eq!(lines[1], format!("assertion (2): {assertion}"));
        assert_eq!(lines[2], format!("timeout (1): {timeout}"));
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn summary_says_how_many_failures_passed_on_a_retry() {
        let diagnoser = Diagnoser::new(&[]).expect("built-ins compile");
        let mut cured = TestCase::new("test_search", "tests.test_api", TestStatus::Passed);
        cured.flaky = true;
        cured.attempts = 2;
        cured.previous_failures.push(PriorFailure {
            status: TestStatus::Failed,
            message: Some("AssertionError: assert 2 == 3".into()),
            error_type: None,
            details: None,
            duration: 0.1,
        });
        let cases = [cured, failing("t2", "AssertionError: assert 1 == 2")];
        let diagnoses: Vec<Diagnosis> = cases
            .iter()
            .filter_map(|case| diagnoser.diagnose_case("unit", case, None))
            .collect();
        let lines = summary(&diagnoses);
        assert!(
            lines[0].starts_with("2 test failure(s) detected (1 of them flaky: passed on a retry). Breakdown:"),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn summary_of_nothing_is_empty() {
        assert!(summary(&[]).is_empty());
    }

    #[test]
    fn quotes_are_one_line_and_short() {
        assert_eq!(quote("a\n  b"), "a b");
        let long = quote(&"x".repeat(500));
        assert_eq!(long.chars().count(), MAX_QUOTE_CHARS);
        assert!(long.ends_with('…'));
    }
}
