//! The live stream of a behave attempt: the shipped formatter
//! (`plugin/qaagent_stream.py`) and the reading of its lines.

use std::path::Path;

use runner_api::{StreamLine, TestCase, TestStatus};
use serde::Deserialize;

/// The formatter's source, written into each attempt's output directory.
pub(crate) const FORMATTER: &str = include_str!("../plugin/qaagent_stream.py");

/// One line the formatter writes.
#[derive(Debug, Deserialize)]
struct Line {
    event: Event,
    file: String,
    line: u32,
    classname: String,
    name: String,
    status: Option<TestStatus>,
    #[serde(default)]
    duration: f64,
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Event {
    Started,
    Finished,
}

/// What one line of the formatter's stream says; `None` when it is not the
/// formatter's. Scenarios get the file and selector their JUnit rows get
/// from behave's JSON report: the location relative to `project_dir`.
pub(crate) fn parse(line: &str, project_dir: &Path) -> Option<StreamLine> {
    let line: Line = serde_json::from_str(line).ok()?;
    let file = crate::locations::relative_to(&line.file, project_dir);
    let mut case = TestCase::new(line.name, line.classname, line.status.unwrap_or(TestStatus::Error));
    case.selector = Some(format!("{file}:{}", line.line));
    case.file = Some(file);
    Some(match line.event {
        Event::Started => StreamLine::Started(case),
        Event::Finished => {
            line.status?;
            case.duration = if line.duration.is_finite() {
                line.duration.max(0.0)
            } else {
                0.0
            };
            case.message = line.message;
            StreamLine::Finished(case)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_gets_the_selector_of_its_junit_row() {
        let line = r#"{"event": "finished", "file": "/p/features/cart.feature", "line": 12, "classname": "cart.Cart pricing", "name": "Bulk pricing -- @1.2 ", "status": "failed", "duration": 0.25, "message": "Assertion Failed: 15 != 99"}"#;
        let Some(StreamLine::Finished(case)) = parse(line, Path::new("/p")) else {
            panic!("a finished line");
        };
        assert_eq!(case.selector.as_deref(), Some("features/cart.feature:12"));
        assert_eq!(case.file.as_deref(), Some("features/cart.feature"));
        assert_eq!(
            (case.name.as_str(), case.status),
            ("Bulk pricing -- @1.2 ", TestStatus::Failed)
        );
        let unfinished = r#"{"event": "finished", "file": "a.feature", "line": 1, "classname": "a.A", "name": "x"}"#;
        assert_eq!(
            parse(unfinished, Path::new("/p")),
            None,
            "a finished line says how it ended"
        );
    }
}
