//! The [`Diagnoser`]: every category pattern compiled once, and the
//! classification of a failed case or a suite-level error by them, from the
//! failure's type and message (see `failure`).

use std::borrow::Cow;

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use runner_api::{SuiteResult, TestCase};

use super::categories::{
    CategorySpec, BUILT_INS, ENVIRONMENT_CATEGORY, ENVIRONMENT_SUGGESTION, FLAKY_CATEGORY, FLAKY_PROVEN_CONFIDENCE,
    FLAKY_PROVEN_SUGGESTION, MATCHED_CONFIDENCE, UNKNOWN_CATEGORY, UNKNOWN_CONFIDENCE, UNKNOWN_SUGGESTION,
};
use super::failure::{assertion_text, Failure, TypeSource};
use super::text::{first_line, indefinite_article, quote};
use super::Diagnosis;

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
        /// The regex compiler's complaint.
        #[source]
        source: regex::Error,
    },
}

/// One category ready to match: its name, suggestion, confidence and patterns.
#[derive(Debug, Clone)]
struct Category {
    name: String,
    suggestion: String,
    confidence: f64,
    /// Matched against the failure's type.
    type_regex: Regex,
    /// Searched in the failure's message.
    message_regex: Regex,
    /// Whether an assertion whose message matches is put in this category.
    outranks_assertion: bool,
}

/// Where the text that decided a diagnosis was found.
#[derive(Debug, Clone, Copy)]
enum Source {
    Message,
    Type(TypeSource),
}

impl Source {
    fn describe(self) -> &'static str {
        match self {
            Source::Message => "the failure message",
            Source::Type(source) => source.describe(),
        }
    }
}

/// A category found for a failure: its index, the text that decided, and where.
type Found<'a> = (usize, Cow<'a, str>, Source);

/// Classifies failures. Build it once per run (patterns are compiled here) and
/// share it: it is `Send + Sync` and classification takes `&self`.
#[derive(Debug, Clone)]
pub struct Diagnoser {
    /// Custom categories first, then the built-in ones, in the order tried;
    /// the last is `assertion`.
    categories: Vec<Category>,
    /// The message patterns of `categories`, same indices, for one-pass matching.
    set: RegexSet,
}

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
                type_regex: regex.clone(),
                message_regex: regex,
                outranks_assertion: true,
            });
        }
        for built_in in BUILT_INS {
            // A failure here is a bug in BUILT_INS, but report it rather than panic.
            let invalid = |source| DiagnosticsError::InvalidPattern {
                name: built_in.name.to_string(),
                source,
            };
            categories.push(Category {
                name: built_in.name.to_string(),
                suggestion: built_in.suggestion.to_string(),
                confidence: built_in.confidence,
                type_regex: compile(built_in.type_pattern).map_err(invalid)?,
                message_regex: compile(built_in.message_pattern).map_err(invalid)?,
                outranks_assertion: built_in.outranks_assertion,
            });
        }
        let set = RegexSetBuilder::new(categories.iter().map(|category| category.message_regex.as_str()))
            .case_insensitive(true)
            .build()
            .map_err(|source| DiagnosticsError::SetTooLarge { source })?;
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
        let error_message = case
            .message
            .clone()
            .filter(|message| !message.trim().is_empty())
            .or_else(|| case.error_type.clone());
        let diagnosis = self.classify(case.name.clone(), suite, &Failure::of(case), error_message, route);
        Some(Diagnosis {
            selector: case.selector.clone(),
            ..diagnosis
        })
    }

    /// The diagnoses of a suite: one per failed, errored or flaky case, in
    /// the suite's order, plus one in the `environment` category for a
    /// suite-level error when no case failed (the tool is missing, crashed,
    /// timed out, or its report could not be read): what its error and log
    /// point to is kept in the root cause.
    pub fn diagnose_suite(&self, result: &SuiteResult) -> Vec<Diagnosis> {
        let mut diagnoses: Vec<Diagnosis> = result
            .cases
            .iter()
            // Routes are worth finding only for the cases that get a diagnosis.
            .filter(|case| needs_diagnosis(case))
            .filter_map(|case| self.diagnose_case(&result.suite, case, crate::evidence_map::route(case)))
            .collect();
        let any_failing_case = result.cases.iter().any(|case| case.status.is_failure());
        if let (Some(error), false) = (&result.error, any_failing_case) {
            // What the error points to, else what the end of the log does.
            let from_log = result.log_tail.as_deref().map(Failure::of_text);
            let failure = std::iter::once(Failure::of_text(error))
                .chain(from_log)
                .find(|failure| self.find(failure).is_some())
                .unwrap_or_else(|| Failure::of_text(error));
            let pointer = self.classify(result.suite.clone(), &result.suite, &failure, Some(error.clone()), None);
            let root_cause = format!("The suite's own error, not a test failure. {}", pointer.root_cause);
            diagnoses.push(Diagnosis {
                category: ENVIRONMENT_CATEGORY.to_string(),
                root_cause,
                confidence: MATCHED_CONFIDENCE,
                suggestion: ENVIRONMENT_SUGGESTION.to_string(),
                ..pointer
            });
        }
        diagnoses
    }

    /// The category of `failure` (an index into `categories`), the text that
    /// decided it, and where that text was. Categories are tried in order,
    /// each on the message, then on the type. An assertion (by its type or
    /// its message) goes to an earlier category only when its message names
    /// one that outranks it (timeout, connection, auth, data, the user's
    /// own); else it stays an assertion, whatever else its message says.
    fn find<'a>(&self, failure: &Failure<'a>) -> Option<Found<'a>> {
        let kind = failure.kind.map(|(kind, _)| kind);
        let type_source = failure.kind.map_or(Source::Message, |(_, source)| Source::Type(source));
        let assertion_index = self.categories.len() - 1;
        let assertion = &self.categories[assertion_index];
        let is_assertion = kind.is_some_and(|kind| assertion.type_regex.is_match(kind))
            || assertion.message_regex.is_match(failure.message);
        let text = if is_assertion {
            assertion_text(failure.message)
        } else {
            Cow::Borrowed(failure.message)
        };
        let matches = self.set.matches(&text);
        for (index, category) in self.categories.iter().enumerate() {
            if is_assertion && !category.outranks_assertion {
                continue;
            }
            if matches.matched(index) {
                let quoted = category
                    .message_regex
                    .find(&text)
                    .map(|found| found.as_str().to_string());
                return Some((index, Cow::Owned(quoted.unwrap_or_default()), Source::Message));
            }
            if let Some(kind) = kind.filter(|kind| category.type_regex.is_match(kind)) {
                return Some((index, Cow::Borrowed(kind), type_source));
            }
        }
        if !is_assertion {
            return None;
        }
        Some(match kind {
            Some(kind) => (assertion_index, Cow::Borrowed(kind), type_source),
            None => {
                let found = assertion
                    .message_regex
                    .find(failure.message)
                    .map(|found| found.as_str());
                (
                    assertion_index,
                    Cow::Borrowed(found.unwrap_or_default()),
                    Source::Message,
                )
            }
        })
    }

    /// The diagnosis of `failure` by the first category that matches it;
    /// `unknown` when none does.
    fn classify(
        &self,
        test_name: String,
        suite: &str,
        failure: &Failure<'_>,
        error_message: Option<String>,
        route: Option<String>,
    ) -> Diagnosis {
        let Some((index, matched, source)) = self.find(failure) else {
            let line = error_message.as_deref().and_then(first_line);
            let root_cause = match line {
                Some(line) => format!("No known failure pattern matched: \"{}\".", quote(line)),
                None => "No known failure pattern matched, and the failure has no message.".to_string(),
            };
            return Diagnosis {
                test_name,
                selector: None,
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
        Diagnosis {
            test_name,
            selector: None,
            suite: suite.to_string(),
            category: category.name.clone(),
            root_cause: format!(
                "Looks like {} {} failure: \"{}\" in {}.",
                indefinite_article(&category.name),
                category.name,
                quote(&matched),
                source.describe()
            ),
            confidence: category.confidence,
            suggestion: category.suggestion.clone(),
            error_message,
            route,
        }
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
        test_name: case.name.clone(),
        selector: case.selector.clone(),
        suite: suite.to_string(),
        category: FLAKY_CATEGORY.to_string(),
        root_cause,
        confidence: FLAKY_PROVEN_CONFIDENCE,
        suggestion: FLAKY_PROVEN_SUGGESTION.to_string(),
        error_message,
        route,
    }
}

/// Compiles one category pattern the way the set will (case-insensitive).
fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).case_insensitive(true).build()
}
