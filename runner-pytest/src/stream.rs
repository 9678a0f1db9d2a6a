//! The live stream of a pytest attempt: the shipped plugin
//! (`plugin/qaagent_stream.py`) and the reading of its lines.

use runner_api::{StreamLine, SuiteContext, TestCase, TestStatus};
use serde::Deserialize;

/// The plugin's source, written into each attempt's output directory.
pub(crate) const PLUGIN: &str = include_str!("../plugin/qaagent_stream.py");

/// Names the attempt's share ("K/N") and the durations it is balanced by
/// to the plugin, which then keeps only that share's tests; without a share,
/// makes sure none is named (an inherited variable would split the run).
pub(crate) fn name_share(ctx: &SuiteContext, cmd: &mut std::process::Command) {
    const SHARE_ENV: &str = "QAAGENT_SHARE";
    const DURATIONS_ENV: &str = "QAAGENT_SHARE_DURATIONS";
    cmd.env_remove(SHARE_ENV).env_remove(DURATIONS_ENV);
    if let Some(share) = &ctx.share {
        cmd.env(SHARE_ENV, format!("{}/{}", share.number, share.total));
        if let Some(durations) = &share.durations {
            cmd.env(DURATIONS_ENV, durations);
        }
    }
}

/// One line the plugin writes.
#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
enum Line {
    Total {
        count: usize,
    },
    Started {
        #[serde(flatten)]
        row: Row,
    },
    Finished {
        #[serde(flatten)]
        row: Row,
        status: TestStatus,
        #[serde(default)]
        duration: f64,
        message: Option<String>,
    },
    Kept {
        #[serde(flatten)]
        row: Row,
    },
    KeptEnd {
        collected: Option<usize>,
        #[serde(default)]
        digest: Option<String>,
        kept: usize,
    },
    Collected {
        count: usize,
        digest: String,
    },
    Version {
        version: String,
    },
}

/// A test named as its xunit1 JUnit row names it.
#[derive(Debug, Deserialize)]
struct Row {
    file: Option<String>,
    classname: String,
    name: String,
}

impl Row {
    fn into_case(self, status: TestStatus) -> TestCase {
        let mut case = TestCase::new(self.name, self.classname, status);
        case.selector = crate::selector(self.file.as_deref(), &case.classname, &case.name);
        case.file = self.file;
        case
    }
}

/// What one line of the plugin's stream says; `None` when it is not the plugin's.
pub(crate) fn parse(line: &str) -> Option<StreamLine> {
    Some(match serde_json::from_str::<Line>(line).ok()? {
        Line::Total { count } => StreamLine::Total(count),
        Line::Started { row } => StreamLine::Started(row.into_case(TestStatus::Error)),
        Line::Kept { row } => StreamLine::Kept(row.into_case(TestStatus::Error)),
        Line::KeptEnd {
            collected,
            digest,
            kept,
        } => StreamLine::KeptEnd {
            collected,
            digest,
            kept,
        },
        Line::Collected { count, digest } => StreamLine::Collected { count, digest },
        Line::Version { version } => StreamLine::Version(version),
        Line::Finished {
            row,
            status,
            duration,
            message,
        } => {
            let mut case = row.into_case(status);
            case.duration = if duration.is_finite() { duration.max(0.0) } else { 0.0 };
            case.message = message;
            StreamLine::Finished(case)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_test_is_named_as_its_junit_row() {
        let line = r#"{"event": "finished", "file": "tests/test_a.py", "classname": "tests.test_a.TestA", "name": "test_x[1]", "status": "failed", "duration": 0.5, "message": "assert 1 == 2"}"#;
        let Some(StreamLine::Finished(case)) = parse(line) else {
            panic!("a finished line");
        };
        assert_eq!(case.selector.as_deref(), Some("tests/test_a.py::TestA::test_x[1]"));
        assert_eq!(
            (case.name.as_str(), case.classname.as_str()),
            ("test_x[1]", "tests.test_a.TestA")
        );
        assert_eq!((case.status, case.duration), (TestStatus::Failed, 0.5));
        assert_eq!(parse(r#"{"event": "total", "count": 4}"#), Some(StreamLine::Total(4)));
        assert_eq!(parse(r#"{"event": "finished", "name": 3}"#), None);
        let Some(StreamLine::Kept(kept)) =
            parse(r#"{"event": "kept", "file": "t/test_a.py", "classname": "t.test_a", "name": "test_x"}"#)
        else {
            panic!("a kept line");
        };
        assert_eq!(kept.selector.as_deref(), Some("t/test_a.py::test_x"));
        assert_eq!(
            parse(r#"{"event": "kept-end", "collected": 12, "digest": "d", "kept": 6}"#),
            Some(StreamLine::KeptEnd {
                collected: Some(12),
                digest: Some("d".into()),
                kept: 6
            })
        );
        assert_eq!(
            parse(r#"{"event": "collected", "count": 12, "digest": "d"}"#),
            Some(StreamLine::Collected {
                count: 12,
                digest: "d".into()
            })
        );
        assert_eq!(
            parse(r#"{"event": "version", "version": "9.2.0"}"#),
            Some(StreamLine::Version("9.2.0".into()))
        );
        assert_eq!(parse("not json"), None);
    }
}
