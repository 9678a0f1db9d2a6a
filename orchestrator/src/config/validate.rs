//! Validation of the tables other than `[tests.NAME]` (see [`super::suite_table`]):
//! `[project]`, `[app.NAME]`, `[run]` and its `suite_order`, `[diagnostics]`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use toml::Spanned;

use super::raw::{ConfigText, RawApp, RawDiagnostics, RawProject, RawRun};
use super::{
    AppConfig, ConfigError, CustomCategory, DiagnosticsConfig, ProjectConfig, RunConfig, SuiteConfig,
    DEFAULT_KILL_GRACE, DEFAULT_TIMEOUT,
};

pub(super) fn validate_project(
    src: &ConfigText<'_>,
    raw: Option<Spanned<RawProject>>,
) -> Result<ProjectConfig, ConfigError> {
    let hint = || Some("add name = \"...\" under [project] (it names the evidence target)".to_string());
    let Some(raw) = raw else {
        return Err(src.invalid(
            0..0,
            "missing [project] table",
            Some("add a [project] table with name = \"...\" (it names the evidence target)".to_string()),
        ));
    };
    let span = raw.span();
    let Some(name) = raw.into_inner().name else {
        return Err(src.invalid(span, "[project] has no name", hint()));
    };
    if name.get_ref().trim().is_empty() {
        return Err(src.invalid(name.span(), "[project] name is empty", hint()));
    }
    Ok(ProjectConfig {
        name: name.into_inner(),
    })
}

pub(super) fn validate_apps(
    src: &ConfigText<'_>,
    raw: BTreeMap<Spanned<String>, Spanned<RawApp>>,
) -> Result<Vec<AppConfig>, ConfigError> {
    let mut apps: Vec<_> = raw.into_iter().collect();
    apps.sort_by_key(|(name, _)| name.span().start);
    apps.into_iter()
        .map(|(name, app)| {
            let name = name.into_inner();
            let base_url = match app.into_inner().base_url {
                Some(url) if url.get_ref().trim().is_empty() => {
                    return Err(src.invalid(
                        url.span(),
                        format!("[app.{name}] base_url is empty"),
                        Some("write base_url = \"http://localhost:8000\", or remove it".to_string()),
                    ));
                }
                url => url.map(Spanned::into_inner),
            };
            Ok(AppConfig { name, base_url })
        })
        .collect()
}

pub(super) fn validate_run(src: &ConfigText<'_>, raw: RawRun) -> Result<RunConfig, ConfigError> {
    let max_workers = match raw.max_workers {
        None => None,
        Some(value) => {
            let hint = || Some("set max_workers to 1 or more, or remove it to use one worker per suite".to_string());
            let workers = *value.get_ref();
            if workers < 1 {
                return Err(src.invalid(
                    value.span(),
                    format!("max_workers must be 1 or more, found {workers}"),
                    hint(),
                ));
            }
            let workers = usize::try_from(workers)
                .map_err(|_| src.invalid(value.span(), format!("max_workers is too large: {workers}"), hint()))?;
            Some(workers)
        }
    };
    let retry_count = match raw.retry_count {
        None => 0,
        Some(value) => {
            let retries = *value.get_ref();
            u32::try_from(retries).map_err(|_| {
                let problem = if retries < 0 {
                    "must be 0 or more"
                } else {
                    "is too large"
                };
                src.invalid(
                    value.span(),
                    format!("retry_count {problem}, found {retries}"),
                    Some("write retry_count = 0 (no retries) or the number of extra attempts, e.g. 2".to_string()),
                )
            })?
        }
    };
    let timeout = match &raw.timeout {
        None => DEFAULT_TIMEOUT,
        Some(value) => seconds(
            src,
            value,
            "timeout",
            false,
            "write timeout = 300 (seconds, greater than 0)",
        )?,
    };
    let kill_grace = match &raw.kill_grace {
        None => DEFAULT_KILL_GRACE,
        Some(value) => seconds(
            src,
            value,
            "kill_grace",
            true,
            "write kill_grace = 5 (seconds between SIGTERM and SIGKILL, 0 or more)",
        )?,
    };
    Ok(RunConfig {
        parallel: raw.parallel.unwrap_or(false),
        max_workers,
        retry_count,
        timeout,
        kill_grace,
        ..RunConfig::default()
    })
}

/// Why a number of seconds is not a usable duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecondsError {
    /// Negative, not a number, or zero where zero is not allowed.
    #[error("must be {}", if *allow_zero { "0 or more seconds" } else { "greater than 0 seconds" })]
    OutOfRange {
        /// Whether zero was allowed.
        allow_zero: bool,
    },
    /// More than a year.
    #[error("is too large (a year at most)")]
    TooLarge,
}

/// The longest time limit: a year. Longer is no limit at all, and a
/// deadline that far out can overflow the clock's arithmetic.
const MAX_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

/// `secs` as a duration, checked the one way config values and command-line
/// flags both are: not negative, not NaN, not zero unless `allow_zero`, and
/// at most a year.
pub fn parse_seconds(secs: f64, allow_zero: bool) -> Result<Duration, SecondsError> {
    if secs.is_nan() || secs < 0.0 || (!allow_zero && secs == 0.0) {
        return Err(SecondsError::OutOfRange { allow_zero });
    }
    if secs > MAX_SECONDS {
        return Err(SecondsError::TooLarge);
    }
    Duration::try_from_secs_f64(secs).map_err(|_| SecondsError::TooLarge)
}

/// Seconds written as a number (`90`, `1.5`) or as a duration with a unit
/// (`"90s"`, `"5m"`, `"1.5h"`, `"250ms"`), as config values and flags take them.
pub fn seconds_in(text: &str) -> Option<f64> {
    let text = text.trim();
    let unit_at = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(unit_at);
    let number: f64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    Some(number * scale)
}

/// A duration in seconds: a number, or a string with a unit (see
/// [`seconds_in`]); `what` names it in the message.
pub(super) fn seconds(
    src: &ConfigText<'_>,
    value: &Spanned<toml::Value>,
    what: &str,
    allow_zero: bool,
    hint: &str,
) -> Result<Duration, ConfigError> {
    let written = src.written(value.span());
    let secs = match value.get_ref() {
        toml::Value::Integer(secs) => Some(*secs as f64),
        toml::Value::Float(secs) => Some(*secs),
        toml::Value::String(text) => seconds_in(text),
        _ => None,
    };
    let Some(secs) = secs else {
        return Err(src.invalid(
            value.span(),
            format!("{what} must be a number of seconds or a duration such as \"90s\" or \"5m\", found {written}"),
            Some(hint.to_string()),
        ));
    };
    parse_seconds(secs, allow_zero).map_err(|err| {
        src.invalid(
            value.span(),
            format!("{what} {err}, found {written}"),
            Some(hint.to_string()),
        )
    })
}

pub(super) fn validate_suite_order(
    src: &ConfigText<'_>,
    raw: Option<Vec<Spanned<String>>>,
    suites: &[SuiteConfig],
) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(suites.iter().map(|suite| suite.name.clone()).collect());
    };
    let mut seen = BTreeSet::new();
    let mut order = Vec::with_capacity(raw.len());
    for entry in raw {
        let name = entry.get_ref();
        if !suites.iter().any(|suite| &suite.name == name) {
            return Err(src.invalid(
                entry.span(),
                format!("suite_order names `{name}`, but there is no [tests.{name}] table"),
                Some(format!(
                    "add a [tests.{name}] table with path = \"...\" or remove \"{name}\" from suite_order"
                )),
            ));
        }
        if !seen.insert(name.clone()) {
            return Err(src.invalid(
                entry.span(),
                format!("suite_order names `{name}` twice"),
                Some(format!("remove the second \"{name}\"")),
            ));
        }
        order.push(entry.into_inner());
    }
    Ok(order)
}

/// `suites` (in file order) rearranged: those in `order` first, then the rest.
pub(super) fn order_suites(suites: Vec<SuiteConfig>, order: &[String]) -> Vec<SuiteConfig> {
    let (mut listed, rest): (Vec<_>, Vec<_>) = suites.into_iter().partition(|suite| order.contains(&suite.name));
    listed.sort_by_key(|suite| order.iter().position(|name| name == &suite.name));
    listed.extend(rest);
    listed
}

pub(super) fn validate_diagnostics(
    src: &ConfigText<'_>,
    raw: Option<RawDiagnostics>,
) -> Result<DiagnosticsConfig, ConfigError> {
    let mut categories: Vec<CustomCategory> = Vec::new();
    for category in raw.map(|raw| raw.categories).unwrap_or_default() {
        let category = category.into_inner();
        let name = category.name.get_ref();
        if name.trim().is_empty() {
            return Err(src.invalid(
                category.name.span(),
                "diagnostics category name is empty",
                Some("write name = \"database\" (it appears in diagnostics)".to_string()),
            ));
        }
        if categories.iter().any(|known| &known.name == name) {
            return Err(src.invalid(
                category.name.span(),
                format!("diagnostics category `{name}` is defined twice"),
                Some("give each category its own name, or merge their patterns with |".to_string()),
            ));
        }
        if let Err(err) = regex::Regex::new(category.pattern.get_ref()) {
            return Err(src.invalid(
                category.pattern.span(),
                format!(
                    "diagnostics category `{name}`: invalid pattern: {}",
                    regex_message(&err)
                ),
                Some("write a regular expression in Rust regex syntax, e.g. pattern = \"(?i)deadlock\"".to_string()),
            ));
        }
        categories.push(CustomCategory {
            name: category.name.into_inner(),
            pattern: category.pattern.into_inner(),
            suggestion: category.suggestion,
        });
    }
    Ok(DiagnosticsConfig { categories })
}

/// The one-line gist of a regex error (its Display spans several lines, with a caret).
fn regex_message(err: &regex::Error) -> String {
    match err {
        regex::Error::Syntax(text) => text
            .lines()
            .rev()
            .find_map(|line| line.strip_prefix("error: "))
            .map_or_else(|| text.split_whitespace().collect::<Vec<_>>().join(" "), str::to_string),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[expect(clippy::invalid_regex, reason = "the invalid pattern is the point of the test")]
    fn regex_message_is_one_line() {
        let err = regex::Regex::new("(abc").expect_err("unclosed group");
        let message = regex_message(&err);
        assert!(!message.contains('\n'), "{message}");
        assert!(message.contains("unclosed group"), "{message}");
    }
}
