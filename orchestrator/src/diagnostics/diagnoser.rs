//! The [`Diagnoser`]: every category pattern compiled once, and the
//! classification of a failed case or a suite-level error by them.

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use runner_api::{SuiteResult, TestCase};

use super::categories::{
    CategorySpec, BUILT_INS, ENVIRONMENT_CATEGORY, ENVIRONMENT_SUGGESTION, FLAKY_CATEGORY, FLAKY_PROVEN_CONFIDENCE,
    FLAKY_PROVEN_SUGGESTION, MATCHED_CONFIDENCE, UNKNOWN_CATEGORY, UNKNOWN_CONFIDENCE, UNKNOWN_SUGGESTION,
};
use super::text::{bounded, first_line, indefinite_article, quote};
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
    set: RegexSet,
}

/// Which fields of a failure a piece of searched text came from, for the
/// root-cause sentence.
#[derive(Debug, Clone, Copy)]
enum Tier {
    Message,
    Details,
    Output,
}

impl Tier {
    fn describe(self) -> &'static str {
        match self {
            Tier::Message => "the failure message",
            Tier::Details => "the failure details",
            Tier::Output => "the captured output",
        }
    }
}

/// The fields of a failure, grouped in tiers searched most specific first.
type Tiers<'a> = [(Tier, [Option<&'a str>; 2])];

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
        let set = RegexSetBuilder::new(categories.iter().map(|category| category.regex.as_str()))
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
        let tiers = [
            (Tier::Message, [case.message.as_deref(), case.error_type.as_deref()]),
            (Tier::Details, [case.details.as_deref(), None]),
            (Tier::Output, [case.system_out.as_deref(), case.system_err.as_deref()]),
        ];
        let error_message = case
            .message
            .clone()
            .filter(|message| !message.trim().is_empty())
            .or_else(|| case.error_type.clone());
        let diagnosis = self.classify(case.name.clone(), suite, &tiers, error_message, route);
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
            let tiers = [
                (Tier::Message, [Some(error.as_str()), None]),
                (Tier::Output, [result.log_tail.as_deref(), None]),
            ];
            let pointer = self.classify(result.suite.clone(), &result.suite, &tiers, Some(error.clone()), None);
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

    /// The index of the first category whose pattern matches the start of `text`
    /// (its first [`MAX_FIELD_BYTES`]).
    fn first_category(&self, text: &str) -> Option<usize> {
        self.set.matches(bounded(text)).iter().next()
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
        let found = tiers.iter().find_map(|(tier, fields)| {
            let index = fields
                .iter()
                .flatten()
                .filter_map(|text| self.first_category(text))
                .min()?;
            Some((index, *tier, *fields))
        });
        let Some((index, tier, fields)) = found else {
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
        let matched = fields
            .iter()
            .flatten()
            .find_map(|text| category.regex.find(bounded(text)))
            .map(|found| found.as_str())
            .unwrap_or_default();
        Diagnosis {
            test_name,
            selector: None,
            suite: suite.to_string(),
            category: category.name.clone(),
            root_cause: format!(
                "Looks like {} {} failure: \"{}\" in {}.",
                indefinite_article(&category.name),
                category.name,
                quote(matched),
                tier.describe()
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
