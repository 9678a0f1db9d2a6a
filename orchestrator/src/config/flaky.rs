//! Validation of what keeps flaky tests under control: `[[quarantine]]`
//! entries, `[run] retry_on` and `[run] flaky`.
//!
//! Dates are written `YYYY-MM-DD`, as a string or a bare TOML date, and read
//! strictly (`2026-1-5` is refused, not guessed at): an entry's `until` decides
//! whether a failure fails the run, so a typo must not silently extend it.

use chrono::NaiveDate;
use toml::Spanned;

use super::raw::{ConfigText, RawQuarantine};
use super::{ConfigError, DiagnosticsConfig};
use crate::diagnostics::built_in_category_names;

/// What a flaky test (failed, then passed on a retry) means for the run's
/// verdict: `[run] flaky`, `--flaky`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FlakyPolicy {
    /// It passed: the run passes (as before the setting existed).
    #[default]
    Pass,
    /// The run passes with a warning naming it.
    Warn,
    /// The run fails.
    Fail,
}

impl FlakyPolicy {
    /// The policy written as `word` (`pass`, `warn`, `fail`).
    pub fn parse(word: &str) -> Option<FlakyPolicy> {
        match word {
            "pass" => Some(FlakyPolicy::Pass),
            "warn" => Some(FlakyPolicy::Warn),
            "fail" => Some(FlakyPolicy::Fail),
            _ => None,
        }
    }
}

/// One `[[quarantine]]` entry: failures of the tests `test` names do not fail
/// a run until `until` (inclusive) has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineEntry {
    /// `suite::selector`, or a glob of them (`*` any text, `?` one character).
    pub test: String,
    /// Why it is quarantined (a ticket, a cause), shown wherever its failures are.
    pub reason: String,
    /// The last day (UTC) the entry applies.
    pub until: NaiveDate,
}

/// A date written `YYYY-MM-DD` exactly, that exists.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shape = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, byte)| match i {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().ok();
    let year = i32::try_from(number(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)
}

pub(super) fn validate_quarantine(
    src: &ConfigText<'_>,
    raw: Vec<Spanned<RawQuarantine>>,
) -> Result<Vec<QuarantineEntry>, ConfigError> {
    let mut entries = Vec::with_capacity(raw.len());
    for (index, entry) in raw.into_iter().enumerate() {
        let span = entry.span();
        let entry = entry.into_inner();
        let test = entry.test.get_ref().trim();
        if test.is_empty() {
            return Err(src.invalid(
                entry.test.span(),
                format!("quarantine entry #{} has an empty test", index + 1),
                Some("write test = \"SUITE::SELECTOR\", e.g. \"unit::tests/test_a.py::test_x\", or a glob such as \"unit::tests/test_a.py::*\"".to_string()),
            ));
        }
        let test = test.to_string();
        let Some(reason) = entry.reason.filter(|reason| !reason.get_ref().trim().is_empty()) else {
            return Err(src.invalid(
                span,
                format!("quarantine entry `{test}` has no reason"),
                Some("write reason = \"…\": a ticket or the cause, shown with every failure it hides".to_string()),
            ));
        };
        let Some(until) = entry.until else {
            return Err(src.invalid(
                span,
                format!("quarantine entry `{test}` has no until date"),
                Some("write until = \"YYYY-MM-DD\": the last day the entry applies".to_string()),
            ));
        };
        let date = match until.get_ref() {
            toml::Value::String(text) => parse_date(text),
            // A bare TOML date (`until = 2026-12-31`), with no time.
            toml::Value::Datetime(datetime) if datetime.time.is_none() && datetime.offset.is_none() => {
                datetime.date.and_then(|date| {
                    NaiveDate::from_ymd_opt(i32::from(date.year), u32::from(date.month), u32::from(date.day))
                })
            }
            _ => None,
        };
        let Some(until_date) = date else {
            return Err(src.invalid(
                until.span(),
                format!(
                    "quarantine entry `{test}`: until must be a date written YYYY-MM-DD, found {}",
                    src.written(until.span())
                ),
                Some("write until = \"2026-12-31\" (year, month and day, with leading zeros)".to_string()),
            ));
        };
        entries.push(QuarantineEntry {
            test,
            reason: reason.into_inner().trim().to_string(),
            until: until_date,
        });
    }
    Ok(entries)
}

pub(super) fn validate_flaky(src: &ConfigText<'_>, raw: Option<Spanned<String>>) -> Result<FlakyPolicy, ConfigError> {
    let Some(raw) = raw else {
        return Ok(FlakyPolicy::default());
    };
    FlakyPolicy::parse(raw.get_ref()).ok_or_else(|| {
        src.invalid(
            raw.span(),
            format!(
                "flaky must be \"pass\", \"warn\" or \"fail\", found {}",
                src.written(raw.span())
            ),
            Some("write flaky = \"warn\" to be told of flaky tests, or \"fail\" to fail the run on them".to_string()),
        )
    })
}

/// `retry_on`: categories each known, built in or the project's own; `None`
/// when absent (every failure is retried).
pub(super) fn validate_retry_on(
    src: &ConfigText<'_>,
    raw: Option<Spanned<Vec<Spanned<String>>>>,
    diagnostics: &DiagnosticsConfig,
) -> Result<Option<Vec<String>>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let known: Vec<&str> = (built_in_category_names().map(|name| -> &str { name }))
        .chain(diagnostics.categories.iter().map(|category| category.name.as_str()))
        .collect();
    if raw.get_ref().is_empty() {
        return Err(src.invalid(
            raw.span(),
            "retry_on is empty: no failure would be retried",
            Some(
                "name the categories to retry, e.g. retry_on = [\"timeout\", \"connection\"], or set retry_count = 0"
                    .to_string(),
            ),
        ));
    }
    let mut categories: Vec<String> = Vec::new();
    for name in raw.into_inner() {
        if !known.contains(&name.get_ref().as_str()) {
            return Err(src.invalid(
                name.span(),
                format!("retry_on names `{}`, which is no diagnostics category", name.get_ref()),
                Some(format!(
                    "categories: {} (or add a [[diagnostics.categories]] entry)",
                    known.join(", ")
                )),
            ));
        }
        if !categories.contains(name.get_ref()) {
            categories.push(name.into_inner());
        }
    }
    Ok(Some(categories))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(rest: &str) -> Result<super::super::Config, ConfigError> {
        let text = format!("[project]\nname = \"p\"\n{rest}");
        super::super::parse(
            std::path::Path::new("/p/.qaagent.toml"),
            &text,
            &crate::registry::Registry::new(),
        )
    }

    fn error(rest: &str) -> String {
        match parse(rest) {
            Err(err) => format!("{err} / {}", err.hint().unwrap_or_default()),
            Ok(config) => panic!("accepted: {config:?}"),
        }
    }

    #[test]
    fn quarantine_entries_and_policies_are_read() {
        let config = parse(
            "[run]\nretry_on = [\"timeout\", \"db\", \"timeout\"]\nflaky = \"warn\"\n\
             [[diagnostics.categories]]\nname = \"db\"\npattern = \"deadlock\"\nsuggestion = \"s\"\n\
             [[quarantine]]\ntest = \"unit::t.py::*\"\nreason = \"ORD-1\"\nuntil = \"2026-12-31\"\n\
             [[quarantine]]\ntest = \"e2e::x\"\nreason = \"r\"\nuntil = 2027-01-02\n",
        )
        .expect("valid");
        assert_eq!(config.run.retry_on, Some(vec!["timeout".to_string(), "db".to_string()]));
        assert_eq!(config.run.flaky, FlakyPolicy::Warn);
        let until: Vec<String> = config.quarantine.iter().map(|entry| entry.until.to_string()).collect();
        assert_eq!(until, ["2026-12-31", "2027-01-02"]);
        assert_eq!(config.quarantine[0].reason, "ORD-1");
    }

    #[test]
    fn mistakes_are_errors_naming_the_entry() {
        let bad_date = error("[[quarantine]]\ntest = \"unit::a\"\nreason = \"r\"\nuntil = \"2026-2-30\"\n");
        assert!(
            bad_date.contains(
                ":6:9: quarantine entry `unit::a`: until must be a date written YYYY-MM-DD, found \"2026-2-30\""
            ),
            "{bad_date}"
        );
        let no_until = error("[[quarantine]]\ntest = \"unit::a\"\nreason = \"r\"\n");
        assert!(
            no_until.contains("quarantine entry `unit::a` has no until date"),
            "{no_until}"
        );
        let no_reason = error("[[quarantine]]\ntest = \"unit::a\"\nuntil = \"2026-01-01\"\n");
        assert!(
            no_reason.contains("quarantine entry `unit::a` has no reason"),
            "{no_reason}"
        );
        let unknown = error("[[quarantine]]\ntest = \"a\"\nreason = \"r\"\nuntil = \"2026-01-01\"\nexpires = 1\n");
        assert!(unknown.contains("unknown key `expires`"), "{unknown}");
        let category = error("[run]\nretry_on = [\"timeouts\"]\n");
        assert!(
            category.contains("retry_on names `timeouts`, which is no diagnostics category"),
            "{category}"
        );
        assert!(category.contains("timeout, connection"), "{category}");
        assert!(error("[run]\nretry_on = []\n").contains("retry_on is empty"));
        assert!(error("[run]\nflaky = \"ignore\"\n").contains("flaky must be \"pass\", \"warn\" or \"fail\""));
    }

    #[test]
    fn dates_are_read_strictly() {
        assert_eq!(parse_date("2026-12-31"), NaiveDate::from_ymd_opt(2026, 12, 31));
        assert_eq!(parse_date("2028-02-29"), NaiveDate::from_ymd_opt(2028, 2, 29));
        for bad in [
            "2026-1-05",
            "2026-02-30",
            "2026-13-01",
            "26-12-31",
            "2026/12/31",
            "2026-12-31 ",
            "+026-12-31",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }
}
