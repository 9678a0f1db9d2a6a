//! `runs show`'s human form: header, suites, failures with their diagnosis,
//! flaky tests, artifacts and problems.

use std::collections::HashMap;
use std::io::Write;

use evidence::{DiagnosticRecord, Manifest, SuiteEntry, SuiteOutcome, TestRecord, TESTS_FILE};

use super::human_seconds;
use super::show::ShowReport;
use crate::reporter::summary::plural;
use crate::reporter::untrusted::printable;

/// `writeln!`, with the line escaped for the terminal: test names, messages,
/// suite errors, diagnoses, artifact names and problems all came from a tool
/// or from files a tool could write, so every line goes through [`printable`].
macro_rules! say {
    ($out:expr) => {
        writeln!($out)
    };
    ($out:expr, $($arg:tt)*) => {
        writeln!($out, "{}", printable(&format!($($arg)*)))
    };
}

impl ShowReport {
    pub(super) fn write_human(&self, out: &mut impl Write) -> std::io::Result<()> {
        say!(out, "run {}: {}", self.run_id, self.status)?;
        if let Some(manifest) = &self.manifest {
            let target = &manifest.target;
            let mut project = format!(
                "  project   {}",
                if target.name.is_empty() { "-" } else { &target.name }
            );
            if !target.path.is_empty() {
                project.push_str(&format!("  {}", target.path));
            }
            if let Some(git) = git_words(&target.git) {
                project.push_str(&format!("  ({git})"));
            }
            say!(out, "{project}")?;
            let mut when = format!("  created   {}", or_dash(&manifest.created_at));
            if let Some(finished) = &manifest.finished_at {
                when.push_str(&format!("  finished {finished}"));
            }
            if let Some(wall) = manifest.wall_seconds {
                when.push_str(&format!("  wall {}", human_seconds(wall)));
            }
            say!(out, "{when}")?;
        }
        say!(out, "  evidence  {}", self.dir.display())?;
        say!(out, "  tests     {}", self.totals())?;

        if let Some(manifest) = self
            .manifest
            .as_ref()
            .filter(|m| !m.suites.is_empty() || !m.suite_order.is_empty())
        {
            say!(out)?;
            say!(out, "Suites:")?;
            write_suites(out, manifest)?;
        }
        if !self.failures.is_empty() {
            say!(out)?;
            say!(out, "Failures:")?;
            // Looked up per failure: a list search was quadratic (10 s for 30,000 failures).
            let mut diagnoses: HashMap<(&str, &str), &DiagnosticRecord> = HashMap::new();
            for d in &self.diagnostics {
                diagnoses.entry((d.suite.as_str(), d.test_name.as_str())).or_insert(d);
            }
            for record in &self.failures {
                let name = record_name(record);
                // A failure whose tool gave no message says it in its body.
                let details = record.metadata.get("details").and_then(serde_json::Value::as_str);
                let first = (record.error_message.as_deref().and_then(first_line))
                    .or_else(|| details.and_then(first_line))
                    .unwrap_or("");
                say!(
                    out,
                    "  {} {} {name} — {first}",
                    record.status.as_str().to_uppercase(),
                    record.kind
                )?;
                let suite = record.kind.as_str();
                let diagnosis =
                    (diagnoses.get(&(suite, name.as_str()))).or_else(|| diagnoses.get(&(suite, record.name.as_str())));
                if let Some(d) = diagnosis {
                    say!(
                        out,
                        "      {} (confidence {:.1}): {}",
                        d.category,
                        d.confidence,
                        d.suggestion
                    )?;
                }
            }
        }
        if !self.flaky.is_empty() {
            say!(out)?;
            say!(out, "Flaky:")?;
            for record in &self.flaky {
                let attempts = record
                    .metadata
                    .get("attempts")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0);
                say!(
                    out,
                    "  {} {} — passed on attempt {attempts}",
                    record.kind,
                    record_name(record)
                )?;
            }
        }
        if let Some(summary) = self.manifest.as_ref().and_then(|m| m.diagnostics.first()) {
            say!(out)?;
            say!(out, "Diagnostics: {summary}")?;
        }
        if !self.artifacts.is_empty() {
            say!(out)?;
            say!(out, "Artifacts:")?;
            let width = self.artifacts.iter().map(|a| a.suite.len()).max().unwrap_or(0);
            for artifact in &self.artifacts {
                let missing = if artifact.exists { "" } else { "  (missing)" };
                say!(
                    out,
                    "  {:<width$}  {}{missing}",
                    artifact.suite,
                    artifact.absolute.display()
                )?;
            }
        }
        if !self.problems.is_empty() {
            say!(out)?;
            say!(out, "Problems:")?;
            for problem in &self.problems {
                say!(out, "  {problem}")?;
            }
        }
        out.flush()
    }

    /// "7 tests: 5 passed, 1 failed, 0 errors, 1 skipped, 1 flaky", from the
    /// manifest when there is one, else from tests.jsonl.
    fn totals(&self) -> String {
        // A run that did not finish wrote its records as they came, and its
        // manifest's counts only as each suite ended (or never).
        let unfinished = matches!(self.status.as_str(), "running" | "crashed") && self.records.present;
        let (total, passed, failed, errors, skipped, flaky) = match &self.manifest {
            Some(m) if !unfinished => {
                let c = &m.counts;
                (
                    c.tests,
                    c.tests_passed,
                    c.tests_failed.saturating_sub(c.tests_errors),
                    c.tests_errors,
                    c.tests_skipped,
                    c.tests_flaky,
                )
            }
            None if !self.records.present => return format!("unknown: no {TESTS_FILE}"),
            _ => {
                let r = &self.records;
                (r.total, r.passed, r.failed, r.errors, r.skipped, r.flaky)
            }
        };
        let mut text = format!(
            "{total}: {passed} passed, {failed} failed, {}, {skipped} skipped",
            plural(errors, "error")
        );
        if flaky > 0 {
            text.push_str(&format!(", {flaky} flaky"));
        }
        if self.manifest.is_none() {
            text.push_str(&format!(" (read from {TESTS_FILE})"));
        }
        text
    }
}

fn write_suites(out: &mut impl Write, manifest: &Manifest) -> std::io::Result<()> {
    let width = manifest
        .suites
        .iter()
        .map(|s| s.name.len())
        .chain(manifest.suite_order.iter().map(String::len))
        .max()
        .unwrap_or(0);
    for suite in &manifest.suites {
        write_suite(out, suite, width)?;
    }
    // Planned suites with no entry never finished (the run was killed or is still going).
    for name in manifest
        .suite_order
        .iter()
        .filter(|name| !manifest.suites.iter().any(|s| &s.name == *name))
    {
        say!(out, "{:>8} {name:<width$}  not recorded", "-")?;
    }
    Ok(())
}

fn write_suite(out: &mut impl Write, suite: &SuiteEntry, width: usize) -> std::io::Result<()> {
    let label = suite.outcome.label();
    if suite.outcome == SuiteOutcome::Skipped {
        let reason = suite.skip_reason.as_deref().unwrap_or("skipped");
        return say!(out, "{label:>8} {:<width$}  {reason}", suite.name);
    }
    let mut line = format!(
        "{label:>8} {:<width$}  {} passed, {} failed, {}, {} skipped",
        suite.name,
        suite.passed,
        suite.failed,
        plural(suite.errors, "error"),
        suite.skipped
    );
    if suite.flaky > 0 {
        line.push_str(&format!(", {} flaky", suite.flaky));
    }
    if suite.attempts > 1 {
        line.push_str(&format!(", {} attempts", suite.attempts));
    }
    line.push_str(&format!("  [{}]", human_seconds(suite.duration)));
    say!(out, "{line}")?;
    if let Some(error) = suite.error.as_deref().and_then(first_line) {
        say!(out, "{:>8} {:<width$}  {error}", "", "")?;
    }
    Ok(())
}

fn record_name(record: &TestRecord) -> String {
    let meta = |key: &str| {
        record
            .metadata
            .get(key)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
    };
    match (meta("selector"), meta("classname")) {
        (Some(selector), _) => selector.to_string(),
        (None, Some(classname)) => format!("{classname}::{}", record.name),
        (None, None) => record.name.clone(),
    }
}

fn git_words(git: &evidence::GitInfo) -> Option<String> {
    let commit = git.commit.as_deref().map(|c| &c[..c.len().min(10)]);
    let mut words = match (git.branch.as_deref(), commit) {
        (Some(branch), Some(commit)) => format!("{branch} @ {commit}"),
        (Some(branch), None) => branch.to_string(),
        (None, Some(commit)) => format!("detached @ {commit}"),
        (None, None) => return None,
    };
    if git.dirty == Some(true) {
        words.push_str(", dirty");
    }
    Some(words)
}

fn first_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|line| !line.is_empty())
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() {
        "-"
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_names_prefer_the_selector() {
        let mut record: TestRecord = serde_json::from_value(serde_json::json!({
            "test_id": "TST-1", "kind": "unit", "name": "test_a", "status": "failed",
            "metadata": {"classname": "tests.test_x", "selector": "tests/test_x.py::test_a"}
        }))
        .expect("record");
        assert_eq!(record_name(&record), "tests/test_x.py::test_a");
        record.metadata.remove("selector");
        assert_eq!(record_name(&record), "tests.test_x::test_a");
        record.metadata.clear();
        assert_eq!(record_name(&record), "test_a");
    }
}
