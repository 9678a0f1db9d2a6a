//! GitHub Actions: a stored run's failures as `::error` workflow commands
//! (annotations on the files, where known) and a Markdown summary for
//! `$GITHUB_STEP_SUMMARY`.
//!
//! Names and messages come from the tools, so they are untrusted: in a
//! workflow command every control character, and in a property also `:` and
//! `,`, is percent-encoded, so no test name can end the command and start
//! another; in Markdown, characters that would make markup or HTML are
//! escaped.

use std::fmt::Write as _;

use evidence::{LoadedRun, TestRecord, TestStatus};

use super::ReportError;

/// At most this many failures are annotated and listed: GitHub shows few
/// annotations per step anyway, and a summary is for reading.
pub const MAX_FAILURES: usize = 50;

/// One `::error …::message` line per failed or errored test (the first
/// [`MAX_FAILURES`]), with the file and line where the record knows them; a
/// quarantined test's failure, which does not fail the run, is a
/// `::warning` whose message starts `quarantined (REASON):`.
/// A record's `file` names the test's file relative to the project only for
/// some runners (Playwright's is relative to its suite's path), so it is
/// given only when it names a file of the project: an annotation without a
/// file beats one GitHub puts on the wrong file, or on none.
pub fn annotations(run: &LoadedRun) -> Result<String, ReportError> {
    let project = std::path::Path::new(&run.manifest.target.path);
    let mut out = String::new();
    for record in failures(run)?.iter().take(MAX_FAILURES) {
        let mut properties = Vec::new();
        let file = record.metadata.get("file").and_then(|v| v.as_str());
        if let Some(file) = file.filter(|file| project.join(file).is_file()) {
            properties.push(format!("file={}", property(file)));
            if let Some(line) = line_of(record, file) {
                properties.push(format!("line={line}"));
            }
        }
        properties.push(format!("title={}", property(&title(record))));
        let message = record.error_message.as_deref().unwrap_or("failed");
        if let Some(reason) = quarantine_reason(record) {
            let message = format!("quarantined ({reason}): {message}");
            let _ = writeln!(out, "::warning {}::{}", properties.join(","), data(&message));
        } else {
            let _ = writeln!(out, "::error {}::{}", properties.join(","), data(message));
        }
    }
    Ok(out)
}

/// The run as Markdown: its verdict and counts, one row per suite, and its
/// failures (the first [`MAX_FAILURES`]).
pub fn step_summary(run: &LoadedRun) -> Result<String, ReportError> {
    let manifest = &run.manifest;
    let counts = &manifest.counts;
    let status = manifest.status.map_or("unknown", |status| status.as_str());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### qaagent: {} — {} tests: {} passed, {} failed, {} errors, {} skipped, {} flaky\n",
        status.to_uppercase(),
        counts.tests,
        counts.tests_passed,
        counts.tests_failed,
        counts.tests_errors,
        counts.tests_skipped,
        counts.tests_flaky
    );
    if !manifest.suites.is_empty() {
        out.push_str("| Suite | Outcome | Passed | Failed | Errors | Skipped | Flaky | Time |\n");
        out.push_str("|---|---|--:|--:|--:|--:|--:|--:|\n");
        for suite in &manifest.suites {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {:.1} s |",
                markdown(&suite.name),
                markdown(&format!("{:?}", suite.outcome).to_lowercase()),
                suite.passed,
                suite.failed,
                suite.errors,
                suite.skipped,
                suite.flaky,
                suite.duration
            );
        }
        out.push('\n');
    }
    let failures = failures(run)?;
    if !failures.is_empty() {
        out.push_str("**Failures**\n\n");
        for record in failures.iter().take(MAX_FAILURES) {
            let message = record.error_message.as_deref().unwrap_or("failed");
            let first_line = message.lines().next().unwrap_or_default();
            let first_line = match quarantine_reason(record) {
                Some(reason) => format!("quarantined ({reason}), does not fail the run: {first_line}"),
                None => first_line.to_string(),
            };
            let _ = writeln!(out, "- {}: {}", markdown(&title(record)), markdown(&first_line));
        }
        if failures.len() > MAX_FAILURES {
            let _ = writeln!(out, "- … and {} more", failures.len() - MAX_FAILURES);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "Evidence: run `{}`", markdown(&run.run_id));
    Ok(out)
}

/// Why `record` is quarantined, when it is (`metadata.quarantined`).
fn quarantine_reason(record: &TestRecord) -> Option<&str> {
    let meta = &record.metadata;
    (meta.get("quarantined") == Some(&serde_json::Value::Bool(true))).then(|| {
        meta.get("quarantine_reason")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
    })
}

/// The failed and errored records, in file order.
fn failures(run: &LoadedRun) -> Result<Vec<TestRecord>, ReportError> {
    let mut failed = Vec::new();
    for record in run.records()? {
        let record = record?;
        if matches!(record.status, TestStatus::Failed | TestStatus::Error) {
            failed.push(record);
        }
    }
    Ok(failed)
}

/// `suite › selector` (or the name without a selector).
fn title(record: &TestRecord) -> String {
    let suite = record.suite_name.as_deref().unwrap_or_default();
    let test = record
        .metadata
        .get("selector")
        .and_then(|v| v.as_str())
        .unwrap_or(&record.name);
    format!("{suite} › {test}")
}

/// The line a `file:LINE` selector names (behave's), when it names `file`.
fn line_of(record: &TestRecord, file: &str) -> Option<u32> {
    let selector = record.metadata.get("selector")?.as_str()?;
    let (path, line) = selector.rsplit_once(':')?;
    (path == file).then(|| line.parse().ok()).flatten()
}

/// A workflow command's message: `%`, CR, LF and other control characters encoded.
fn data(text: &str) -> String {
    encode(text, &[])
}

/// A workflow command's property value: as [`data`], and `:` and `,` too.
fn property(text: &str) -> String {
    encode(text, &[':', ','])
}

fn encode(text: &str, also: &[char]) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '%' || c.is_control() || also.contains(&c) {
            let mut buf = [0; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{byte:02X}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Text in Markdown as itself: markup, HTML and table characters escaped,
/// control characters dropped.
fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_test_name_can_end_a_workflow_command() {
        assert_eq!(data("a\nb\r%c\u{1b}[2J"), "a%0Ab%0D%25c%1B[2J");
        assert_eq!(property("tests/x.py::t[a,b]"), "tests/x.py%3A%3At[a%2Cb]");
    }

    #[test]
    fn markdown_shows_text_as_itself() {
        assert_eq!(markdown("<script>|`x`*"), "&lt;script&gt;\\|\\`x\\`\\*");
        assert_eq!(markdown("a\nb"), "a b");
    }
}
