//! What to make of a tool's report where its live stream says otherwise.
//!
//! The report is the source of truth for which tests ran and how they are
//! named (a tool's stream may name a test its own way). But a report is a
//! file the project's code can rewrite after the tests ran (a conftest's
//! `pytest_sessionfinish`, a reporter of its own): a failure the stream saw
//! as it happened is not taken back by a report that calls the test passed.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::Streamed;
use crate::case::{TestCase, TestStatus};

/// How many tests a warning names before it says "and N more".
const NAMED: usize = 5;

impl Streamed {
    /// When the tool's report and its stream disagree on which tests ran
    /// (not counting skipped ones, which a tool may leave out of either),
    /// says how; `None` when they agree or the stream said nothing.
    pub fn disagreement(&self, report: &[TestCase]) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let (streamed, reported) = (ran(&self.finished), ran(report));
        let only = |these: &[&TestCase], others: &[&TestCase]| -> usize {
            let others = Names::of(others.iter().copied());
            (these.iter())
                .filter(|case| !others.name(case))
                .map(|case| case.label())
                .collect::<BTreeSet<String>>()
                .len()
        };
        let only_streamed = only(&streamed, &reported);
        let only_reported = only(&reported, &streamed);
        (only_streamed + only_reported > 0).then(|| {
            format!(
                "the tool's report and its live stream disagree: {only_reported} test(s) only in the report, \
                 {only_streamed} only in the stream (the report is taken)"
            )
        })
    }

    /// Makes failed the tests `report` says passed (or skipped) whose last
    /// run the stream saw fail or error (the last one: a tool that runs a
    /// test again itself, as pytest-rerunfailures and Playwright's retries
    /// do, streams each run), taking the stream's status and message, and
    /// adds the stream's failures that no row names at all (a report
    /// rewritten to leave its failing tests out); says which, or `None` when
    /// there were none. A test the report names more than once (two tests it
    /// cannot tell apart) is left alone when one of its rows fails already.
    pub fn overrule_passes(&self, report: &mut Vec<TestCase>) -> Option<String> {
        let mut last: HashMap<String, &TestCase> = HashMap::new();
        for case in &self.finished {
            last.insert(case.label(), case);
        }
        last.retain(|_, case| case.status.is_failure());
        if last.is_empty() {
            return None;
        }
        let failing: HashSet<String> = (report.iter())
            .filter(|case| case.status.is_failure())
            .map(TestCase::label)
            .collect();
        // A failure no row names by its label (a rewritten row that dropped
        // its `file`, so its selector changed) is still found by its class
        // and name; not one a row does name, which another test of the same
        // name (behave's same-named scenarios) must not take.
        let labels: HashSet<String> = report.iter().map(TestCase::label).collect();
        let unnamed: HashMap<(&str, &str), String> = (last.iter())
            .filter(|(label, _)| !labels.contains(*label))
            .map(|(label, case)| ((case.classname.as_str(), case.name.as_str()), label.clone()))
            .collect();
        let mut overruled = Vec::new();
        for case in report.iter_mut().filter(|case| !case.status.is_failure()) {
            let label = case.label();
            if failing.contains(&label) {
                continue;
            }
            let by_row = || unnamed.get(&(case.classname.as_str(), case.name.as_str()));
            let Some(seen) = last
                .remove(&label)
                .or_else(|| by_row().and_then(|label| last.remove(label)))
            else {
                continue;
            };
            let reported = case.status;
            case.status = seen.status;
            case.flaky = false;
            case.message = Some(match &seen.message {
                Some(message) => message.clone(),
                None => format!("{} (qaagent's live stream)", seen.status),
            });
            case.error_type.clone_from(&seen.error_type);
            let said = format!(
                "qaagent's live stream saw this test's last run {}, but the tool's report says it {}",
                seen.status,
                match reported {
                    TestStatus::Skipped => "was skipped",
                    _ => "passed",
                }
            );
            case.details = Some(match case.details.take() {
                Some(details) => format!("{said}\n\n{details}"),
                None => said,
            });
            overruled.push(label);
        }
        // What is left that no row names (see [`Names`]) the report left
        // out: the stream's word is all there is of it.
        let rows = Names::of(report.iter());
        let mut left_out: Vec<&TestCase> = (last.values().copied()).filter(|seen| !rows.name(seen)).collect();
        left_out.sort_by_key(|seen| seen.label());
        let added: Vec<String> = left_out.iter().map(|seen| seen.label()).collect();
        report.extend(left_out.into_iter().map(|seen| {
            let mut case = seen.clone();
            let said = format!(
                "qaagent's live stream saw this test's last run {}, but the tool's report leaves it out",
                seen.status
            );
            case.details = Some(match case.details.take() {
                Some(details) => format!("{said}\n\n{details}"),
                None => said,
            });
            case
        }));
        let said = [
            (!overruled.is_empty()).then(|| {
                format!(
                    "the tool's report says {} test(s) passed or were skipped that its live stream saw fail: {}",
                    overruled.len(),
                    named(&overruled)
                )
            }),
            (!added.is_empty()).then(|| {
                format!(
                    "the tool's report leaves out {} test(s) its live stream saw fail: {}",
                    added.len(),
                    named(&added)
                )
            }),
        ];
        let said: Vec<String> = said.into_iter().flatten().collect();
        (!said.is_empty()).then(|| {
            format!(
                "{} (taken as failed: was the report rewritten after the tests ran?)",
                said.join("; ")
            )
        })
    }
}

/// The ways one side (report or stream) names its tests, to tell whether
/// the other side's test is among them: by label, by class and name (a
/// report without `file` attributes, `junit_family=xunit2`, gives other
/// selectors: such a run once warned of every test), or by file and name (a
/// row whose class the test set itself, pytest's
/// `record_xml_attribute("classname", …)`, was counted twice).
struct Names<'a> {
    labels: HashSet<String>,
    rows: HashSet<(&'a str, &'a str)>,
    placed: HashSet<(&'a str, &'a str)>,
}

impl<'a> Names<'a> {
    fn of(cases: impl Iterator<Item = &'a TestCase>) -> Names<'a> {
        let mut names = Names {
            labels: HashSet::new(),
            rows: HashSet::new(),
            placed: HashSet::new(),
        };
        for case in cases {
            names.labels.insert(case.label());
            names.rows.insert((&case.classname, &case.name));
            if let Some(file) = &case.file {
                names.placed.insert((file, &case.name));
            }
        }
        names
    }

    /// Whether `case` is one of these tests.
    fn name(&self, case: &TestCase) -> bool {
        self.labels.contains(&case.label())
            || self.rows.contains(&(case.classname.as_str(), case.name.as_str()))
            || (case.file.as_deref()).is_some_and(|file| self.placed.contains(&(file, case.name.as_str())))
    }
}

/// The cases of `cases` that ran: stand-ins for tests that did not run ran
/// no more than skipped ones.
fn ran(cases: &[TestCase]) -> Vec<&TestCase> {
    (cases.iter())
        .filter(|case| case.status != TestStatus::Skipped && !case.is_unnamed_tests() && !case.is_unreported())
        .collect()
}

/// `labels`, the first [`NAMED`] of them, then how many more.
fn named(labels: &[String]) -> String {
    match labels.len() {
        n if n <= NAMED => labels.join(", "),
        n => format!("{} and {} more", labels[..NAMED].join(", "), n - NAMED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_and_stream_disagreeing_is_said() {
        let mut streamed = Streamed::default();
        let case = |name: &str| {
            let mut case = TestCase::new(name, "c", TestStatus::Passed);
            case.selector = Some(name.to_string());
            case
        };
        assert_eq!(
            streamed.disagreement(&[case("a")]),
            None,
            "an empty stream says nothing"
        );
        streamed.finished = vec![case("a"), case("b")];
        assert_eq!(streamed.disagreement(&[case("b"), case("a")]), None);
        let said = streamed.disagreement(&[case("a"), case("c")]).expect("disagree");
        assert!(
            said.contains("1 test(s) only in the report, 1 only in the stream"),
            "{said}"
        );
        // Rows with another selector (no `file`: xunit2) but the stream's
        // class and name are the same tests.
        let mut elsewhere = case("b");
        elsewhere.selector = Some("c::b".into());
        assert_eq!(streamed.disagreement(&[case("a"), elsewhere]), None);
    }

    fn case(name: &str, status: TestStatus) -> TestCase {
        let mut case = TestCase::new(name, "c", status);
        case.selector = Some(name.to_string());
        case
    }

    #[test]
    fn a_pass_the_stream_saw_fail_is_a_failure_with_the_streams_message() {
        let mut failed = case("a", TestStatus::Failed);
        failed.message = Some("assert 0".into());
        let streamed = Streamed {
            finished: vec![failed, case("b", TestStatus::Passed), case("s", TestStatus::Error)],
            ..Streamed::default()
        };
        let mut report = vec![
            case("a", TestStatus::Passed),
            case("b", TestStatus::Passed),
            case("s", TestStatus::Skipped),
        ];
        let said = streamed.overrule_passes(&mut report).expect("overruled");
        assert!(said.contains("2 test(s)") && said.contains(": a, s ("), "{said}");
        let statuses: Vec<TestStatus> = report.iter().map(|case| case.status).collect();
        assert_eq!(statuses, [TestStatus::Failed, TestStatus::Passed, TestStatus::Error]);
        assert_eq!(report[0].message.as_deref(), Some("assert 0"));
        assert!(
            report[0]
                .details
                .as_deref()
                .is_some_and(|d| d.contains("report says it passed")),
            "{:?}",
            report[0]
        );
        assert_eq!(streamed.disagreement(&report), None, "the same tests ran");
    }

    #[test]
    fn a_failure_the_report_leaves_out_is_added_from_the_stream() {
        let mut failed = case("gone", TestStatus::Failed);
        failed.message = Some("assert 0".into());
        let streamed = Streamed {
            finished: vec![case("a", TestStatus::Passed), failed, case("kept", TestStatus::Failed)],
            ..Streamed::default()
        };
        let mut report = vec![case("a", TestStatus::Passed), case("kept", TestStatus::Failed)];
        let said = streamed.overrule_passes(&mut report).expect("added");
        assert!(
            said.contains("leaves out 1 test(s) its live stream saw fail: gone (taken as failed"),
            "{said}"
        );
        let rows: Vec<(String, TestStatus)> = report.iter().map(|case| (case.label(), case.status)).collect();
        assert_eq!(
            rows,
            [
                ("a".to_string(), TestStatus::Passed),
                ("kept".to_string(), TestStatus::Failed),
                ("gone".to_string(), TestStatus::Failed)
            ]
        );
        assert_eq!(report[2].message.as_deref(), Some("assert 0"));
        // A row of the same class and name under another label is the same test.
        let mut renamed = case("gone", TestStatus::Failed);
        renamed.selector = Some("elsewhere::gone".into());
        let mut report = vec![case("a", TestStatus::Passed), renamed, case("kept", TestStatus::Failed)];
        assert_eq!(streamed.overrule_passes(&mut report), None);
        assert_eq!(report.len(), 3);
    }

    #[test]
    fn the_last_run_of_a_test_the_tool_ran_again_is_the_streams_word() {
        let mut streamed = Streamed {
            finished: vec![case("a", TestStatus::Failed), case("a", TestStatus::Passed)],
            ..Streamed::default()
        };
        let mut flaky = vec![case("a", TestStatus::Passed)];
        assert_eq!(streamed.overrule_passes(&mut flaky), None);
        assert_eq!(flaky[0].status, TestStatus::Passed);
        // Two tests the report cannot tell apart, one failing: nothing to overrule.
        streamed.finished = vec![case("a", TestStatus::Passed), case("a", TestStatus::Failed)];
        let mut alike = vec![case("a", TestStatus::Passed), case("a", TestStatus::Failed)];
        assert_eq!(streamed.overrule_passes(&mut alike), None);
    }
}
