//! Quarantine: the config's `[[quarantine]]` entries applied to a run.
//!
//! A quarantined test still runs and is recorded (its record's
//! `metadata.quarantined` and `metadata.quarantine_reason`); its failure does
//! not fail the run ([`RunSummary::quarantined`](crate::summary::RunSummary::quarantined)).
//! An entry applies up to and including its `until` day (UTC); past it, it
//! applies no more and every run says so, naming the test.
//!
//! Entries name tests as `suite::selector` (`suite::classname::name` for a
//! test whose selector is only a place, as behave's `file:line`, or that
//! has none: [`recorded_test_name`]), exactly or by a glob in which `*` is any text
//! and `?` one character. Two scenarios of one class may share a name; such
//! a test is also named `suite::selector::name` ([`placed_test_name`]),
//! which is its own, and an exact entry that matches several tests is
//! warned about, naming them. Nothing else is special: pytest's parametrized ids
//! hold `[…]`, which a glob crate (globset) would read as a set of
//! characters, so that an id pasted as written would not match itself.

use std::sync::Arc;

use chrono::NaiveDate;
use runner_api::{SuiteOutcome, SuiteResult, TestCase};

use crate::config::QuarantineEntry;

/// The entries of a config, split into those that apply today and those
/// that expired.
#[derive(Debug, Clone, Default)]
pub struct Quarantine {
    active: Vec<QuarantineEntry>,
    expired: Vec<QuarantineEntry>,
}

impl Quarantine {
    /// `entries` as they stand on `today`.
    pub fn new(entries: &[QuarantineEntry], today: NaiveDate) -> Quarantine {
        let (active, expired) = entries.iter().cloned().partition(|entry| entry.until >= today);
        Quarantine { active, expired }
    }

    /// `entries` as they stand today (UTC).
    pub fn today(entries: &[QuarantineEntry]) -> Quarantine {
        Quarantine::new(entries, chrono::Utc::now().date_naive())
    }

    /// The entries past their date.
    pub fn expired(&self) -> &[QuarantineEntry] {
        &self.expired
    }

    /// What is wrong with the entries whatever the run: those past their
    /// date, and those naming a suite the config does not have (a typo
    /// would otherwise quarantine nothing, silently). `is_suite` says
    /// whether a name is one of the config's suites.
    pub fn config_warnings(&self, is_suite: impl Fn(&str) -> bool) -> Vec<String> {
        let mut warnings: Vec<String> = self.expired.iter().map(expired_warning).collect();
        for entry in self.active.iter().chain(&self.expired) {
            if let Some(suite) = named_suite(&entry.test).filter(|suite| !is_suite(suite)) {
                warnings.push(format!(
                    "quarantine entry `{}` names suite `{suite}`, which the config does not have: it quarantines nothing",
                    entry.test
                ));
            }
        }
        warnings
    }

    /// Marks each case of `result` that an entry in force covers with the
    /// entry's reason (the first entry that matches, in file order).
    pub(crate) fn mark(&self, result: &mut SuiteResult) {
        if self.active.is_empty() {
            return;
        }
        for case in result.cases.iter_mut().filter(|case| is_a_test(case)) {
            let names = test_names(&result.suite, case);
            case.quarantine = (self.active.iter())
                .find(|entry| names.iter().flatten().any(|name| glob_matches(&entry.test, name)))
                .map(|entry| entry.reason.clone());
        }
    }

    /// What a finished run tells beyond [`config_warnings`](Self::config_warnings):
    /// every entry in force that matched no test of a suite that ran (an entry for a suite
    /// the run left out is no mistake), and every exact entry (no glob) that
    /// matched several different tests (same-named scenarios: quarantining
    /// a flaky one hid a broken one).
    pub fn warnings(&self, results: &[Arc<SuiteResult>]) -> Vec<String> {
        let mut warnings = Vec::new();
        let ran = |suite: &str| {
            (results.iter())
                .any(|result| result.suite == suite && result.attempts > 0 && result.outcome() != SuiteOutcome::Skipped)
        };
        for entry in &self.active {
            if named_suite(&entry.test).is_some_and(|suite| !ran(suite)) {
                continue;
            }
            // Each test matched, by its own name (the placed one where it has one).
            let mut matched: Vec<String> = (results.iter())
                .flat_map(|result| {
                    (result.cases.iter())
                        .filter(|case| is_a_test(case))
                        .map(|case| test_names(&result.suite, case))
                })
                .filter(|names| names.iter().flatten().any(|name| glob_matches(&entry.test, name)))
                .filter_map(|[recorded, placed]| placed.or(recorded))
                .collect();
            matched.sort();
            matched.dedup();
            if matched.is_empty() {
                warnings.push(format!(
                    "quarantine entry `{}` matches no test of this run: fix or remove it",
                    entry.test
                ));
            } else if matched.len() > 1 && !entry.test.contains(['*', '?']) {
                warnings.push(format!(
                    "quarantine entry `{}` matches {} different tests, and quarantines them all: {}; \
                     name one as `suite::selector::name`",
                    entry.test,
                    matched.len(),
                    matched.join(", ")
                ));
            }
        }
        warnings
    }
}

/// The one suite an entry's `test` names (`unit` of `unit::t.py::*`); `None`
/// when its suite part is a glob.
fn named_suite(test: &str) -> Option<&str> {
    let suite = test.split_once("::").map_or(test, |(suite, _)| suite);
    (!suite.contains(['*', '?'])).then_some(suite)
}

/// Whether `case` of `result` is a failure its quarantine excuses: a
/// quarantined test's failure, never in a suite with an error of its own
/// (a timeout, a crash: the tests it kept from running are nowhere).
pub fn excuses(result: &SuiteResult, case: &TestCase) -> bool {
    result.error.is_none() && case.quarantine.is_some() && case.status.is_failure()
}

/// Whether `case` is a test an entry can name: not a row qaagent made up for
/// tests that did not run (the tests after `-x`, a share that died), which
/// stand for a suite that did not finish, never for a test's own flakiness:
/// `unit::*` must not hide them.
fn is_a_test(case: &TestCase) -> bool {
    !case.is_unnamed_tests() && !case.is_unreported()
}

/// What a run and `config check` say of an entry past its date.
pub fn expired_warning(entry: &QuarantineEntry) -> String {
    format!(
        "quarantine of `{}` expired on {} ({}): its failures fail the run again; fix the test, or extend `until`",
        entry.test, entry.until, entry.reason
    )
}

/// How entries may name `case` of `suite`: [`recorded_test_name`], and
/// [`placed_test_name`] where it has one.
fn test_names(suite: &str, case: &TestCase) -> [Option<String>; 2] {
    let selector = case.selector.as_deref();
    [
        Some(recorded_test_name(suite, selector, &case.classname, &case.name)),
        selector.and_then(|selector| placed_test_name(suite, selector, &case.name)),
    ]
}

/// How an entry names a test recorded as `suite`, `selector`, `classname`
/// and `name`: `suite::selector` where the selector names the test
/// ([`selector_names_test`]), else `suite::classname::name`. The name
/// without the whitespace around it, as an entry's `test` is read: behave
/// ends an outline row's name with a space, and the entry `runs flaky`
/// suggested for one matched nothing (a hostile try, 13a #3).
pub(crate) fn recorded_test_name(suite: &str, selector: Option<&str>, classname: &str, name: &str) -> String {
    let name = name.trim();
    match selector.filter(|selector| selector_names_test(selector, name)) {
        // A Playwright title's spaces end its selector too (a hostile try, 14 N13).
        Some(selector) => format!("{suite}::{}", selector.trim_end()),
        None => format!("{suite}::{classname}::{name}"),
    }
}

/// `suite::selector::name` for a test whose selector is only a place: its
/// own name where [`recorded_test_name`] is shared by scenarios of one name.
/// Should another scenario take the place, the entry names nothing (and
/// says so) rather than quarantining it. `None` where the selector names
/// the test.
pub(crate) fn placed_test_name(suite: &str, selector: &str, name: &str) -> Option<String> {
    let name = name.trim();
    (!selector_names_test(selector, name)).then(|| format!("{suite}::{selector}::{name}"))
}

/// Whether `selector` names the test called `name` (pytest's node ids,
/// Playwright's titles), rather than only a place (behave's
/// `features/a.feature:12`, which names whatever scenario is on line 12
/// today: a quarantine or a history keyed by it moved to another scenario
/// when the file changed, and hid its failures).
pub(crate) fn selector_names_test(selector: &str, name: &str) -> bool {
    !is_place(selector) && selector.contains(name)
}

/// Whether `selector` is a `file:LINE` place (behave's), whatever the
/// file's name holds: `login` is in `features/login_logout.feature:2`, which
/// names the `logout` scenario once the two swap lines.
fn is_place(selector: &str) -> bool {
    selector
        .rsplit_once(':')
        .is_some_and(|(file, line)| !file.is_empty() && !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `text` matches `pattern`, where `*` is any text (`/` and `::`
/// included) and `?` one character: the greedy match with one point to go
/// back to, linear in practice.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // The last `*` seen, and where in `text` it started matching.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                // Let the last `*` take one more character.
                Some((at, from)) => {
                    star = Some((at, from + 1));
                    p = at + 1;
                    t = from + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use runner_api::TestStatus;

    use super::*;

    fn entry(test: &str, until: &str) -> QuarantineEntry {
        QuarantineEntry {
            test: test.into(),
            reason: format!("because {test}"),
            until: crate::config::parse_date(until).expect("date"),
        }
    }

    #[test]
    fn globs_take_star_and_question_mark_only() {
        assert!(glob_matches("unit::t.py::test_a[x y]", "unit::t.py::test_a[x y]"));
        assert!(glob_matches("unit::t.py::*", "unit::t.py::C::test_b[1]"));
        assert!(glob_matches("*::test_?", "e2e::a/b.py::test_c"));
        assert!(glob_matches("u*t::*a*b*", "unit::xaxxb"));
        assert!(!glob_matches("unit::t.py::test_a", "unit::t.py::test_ab"));
        assert!(!glob_matches("unit::t.py::test_a[xy]", "unit::t.py::test_ax"));
        assert!(!glob_matches("*b", "bba"));
    }

    #[test]
    fn entries_apply_through_their_last_day_and_mark_the_tests_they_name() {
        let entries = [
            entry("unit::t.py::test_a", "2026-06-30"),
            entry("unit::t.py::test_b*", "2026-06-29"),
        ];
        let quarantine = Quarantine::new(&entries, NaiveDate::from_ymd_opt(2026, 6, 30).expect("date"));
        assert_eq!(quarantine.expired(), &entries[1..]);
        let mut result = SuiteResult::new("unit", "pytest");
        for name in ["test_a", "test_b", "test_c"] {
            let mut case = TestCase::new(name, "t", TestStatus::Failed);
            case.selector = Some(format!("t.py::{name}"));
            result.cases.push(case);
        }
        quarantine.mark(&mut result);
        let reasons: Vec<Option<&str>> = result.cases.iter().map(|case| case.quarantine.as_deref()).collect();
        assert_eq!(reasons, [Some("because unit::t.py::test_a"), None, None]);
        assert_eq!(quarantine.warnings(&[Arc::new(result)]), Vec::<String>::new());
        let warnings = quarantine.config_warnings(|suite| suite == "unit");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("`unit::t.py::test_b*` expired on 2026-06-29"),
            "{warnings:?}"
        );
        let warnings = quarantine.config_warnings(|suite| suite == "e2e");
        assert!(warnings[2].contains("names suite `unit`"), "{warnings:?}");
    }

    #[test]
    fn names_are_matched_without_the_whitespace_around_them() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let quarantine = Quarantine::new(&[entry("b::f.o::vals -- @1.2", "2026-12-31")], today);
        let mut result = SuiteResult::new("b", "behave");
        let mut row = TestCase::new("vals -- @1.2 ", "f.o", TestStatus::Failed);
        row.selector = Some("features/o.feature:7".into());
        result.cases.push(row);
        quarantine.mark(&mut result);
        assert!(result.cases[0].quarantine.is_some());
        assert_eq!(
            recorded_test_name("b", Some("features/o.feature:7"), "f.o", "vals -- @1.2 "),
            "b::f.o::vals -- @1.2"
        );
        assert_eq!(
            recorded_test_name("e2e", Some("[p] › a.spec.ts ›   spaced  "), "c", "  spaced  "),
            "e2e::[p] › a.spec.ts ›   spaced"
        );
    }

    #[test]
    fn a_test_whose_selector_is_a_place_is_named_by_its_class_and_name() {
        let entries = [
            entry("behave::features/f.feature:2", "2099-01-01"),
            entry("behave::f.F::flaky one", "2099-01-01"),
        ];
        let quarantine = Quarantine::new(&entries, NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"));
        let mut result = SuiteResult::new("behave", "behave");
        for (name, line) in [("new checkout test", 2), ("flaky one", 5)] {
            let mut case = TestCase::new(name, "f.F", TestStatus::Failed);
            case.selector = Some(format!("features/f.feature:{line}"));
            result.cases.push(case);
        }
        quarantine.mark(&mut result);
        let reasons: Vec<Option<&str>> = result.cases.iter().map(|case| case.quarantine.as_deref()).collect();
        assert_eq!(reasons, [None, Some("because behave::f.F::flaky one")]);
        assert_eq!(
            recorded_test_name("behave", Some("features/f.feature:5"), "f.F", "flaky one"),
            "behave::f.F::flaky one"
        );
        assert_eq!(
            recorded_test_name("unit", Some("t.py::C::test_a[1]"), "t.C", "test_a[1]"),
            "unit::t.py::C::test_a[1]"
        );
    }

    #[test]
    fn rows_for_tests_that_never_ran_are_never_quarantined() {
        let quarantine = Quarantine::new(
            &[entry("unit::*", "2099-01-01")],
            NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        );
        let mut result = SuiteResult::new("unit", "pytest");
        let mut failed = TestCase::new("test_a", "t", TestStatus::Failed);
        failed.selector = Some("t.py::test_a".into());
        result.cases.push(failed);
        result.cases.push(TestCase::unnamed_tests(
            "the tests it never ran",
            "",
            "2 of 3 did not run".into(),
        ));
        result
            .cases
            .push(TestCase::unreported("t.py::test_b", "its share died".into()));
        quarantine.mark(&mut result);
        let reasons: Vec<Option<&str>> = result.cases.iter().map(|case| case.quarantine.as_deref()).collect();
        assert_eq!(reasons, [Some("because unit::*"), None, None]);
    }

    #[test]
    fn same_named_scenarios_are_told_apart_by_place_and_an_entry_naming_both_is_told() {
        let entries = [
            entry("behave::features/f.feature:4::log in", "2099-01-01"),
            entry("behave::f.F::log in", "2099-01-01"),
            entry("behave::f.F::*", "2099-01-01"),
        ];
        let quarantine = Quarantine::new(&entries[..1], NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"));
        let mut result = SuiteResult::new("behave", "behave");
        for line in [2, 4] {
            let mut case = TestCase::new("log in", "f.F", TestStatus::Failed);
            case.selector = Some(format!("features/f.feature:{line}"));
            result.cases.push(case);
        }
        quarantine.mark(&mut result);
        let reasons: Vec<Option<&str>> = result.cases.iter().map(|case| case.quarantine.as_deref()).collect();
        assert_eq!(reasons, [None, Some("because behave::features/f.feature:4::log in")]);
        let quarantine = Quarantine::new(&entries, NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"));
        assert_eq!(
            quarantine.warnings(&[Arc::new(result)]),
            [
                "quarantine entry `behave::f.F::log in` matches 2 different tests, and quarantines them all: \
              behave::features/f.feature:2::log in, behave::features/f.feature:4::log in; \
              name one as `suite::selector::name`"
            ],
            "a glob is meant to match several"
        );
    }

    #[test]
    fn an_entry_matching_nothing_is_told_unless_its_suite_did_not_run() {
        let entries = [
            entry("unit::gone.py::test_x", "2099-01-01"),
            entry("e2e::x", "2099-01-01"),
        ];
        let quarantine = Quarantine::new(&entries, NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"));
        let warnings = quarantine.warnings(&[Arc::new(SuiteResult::new("unit", "pytest"))]);
        assert_eq!(
            warnings,
            ["quarantine entry `unit::gone.py::test_x` matches no test of this run: fix or remove it"]
        );
    }
}
