//! The live stream of a Playwright attempt: the shipped reporter
//! (`reporter/qaagent-stream.cjs`) and the reading of its lines.

use std::path::{Path, PathBuf};

use runner_api::{StreamLine, TestCase, TestStatus};
use serde::Deserialize;

use crate::{json_report, selector};

/// The reporter's source, written into each attempt's output directory.
pub(crate) const REPORTER: &str = include_str!("../reporter/qaagent-stream.cjs");

/// The reporter's file name in the attempt's output directory.
pub(crate) const REPORTER_FILE: &str = "qaagent-stream-reporter.cjs";

/// One line the reporter writes.
#[derive(Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
enum Line {
    Total {
        count: usize,
    },
    Started {
        #[serde(flatten)]
        place: Place,
        project: String,
    },
    Finished {
        #[serde(flatten)]
        place: Place,
        test: json_report::Test,
    },
}

/// Where a test is, as the JSON report says it.
#[derive(Deserialize)]
struct Place {
    root_dir: PathBuf,
    file: String,
    name: String,
}

/// What one line of the reporter's stream says; `None` when it is not the
/// reporter's. A finished test is read as the JSON report's reader reads the
/// same test, so both name it alike.
pub(crate) fn parse(line: &str, suite_path: &Path) -> Option<StreamLine> {
    Some(match serde_json::from_str::<Line>(line).ok()? {
        Line::Total { count } => StreamLine::Total(count),
        Line::Started { place, project } => {
            let mut case = TestCase::new(
                place.name.as_str(),
                json_report::classname(&project, &place.file),
                TestStatus::Error,
            );
            case.selector = Some(selector::selector(&project, &place.file, &place.name));
            case.file = Some(selector::case_file(&place.root_dir, &place.file, suite_path));
            StreamLine::Started(case)
        }
        Line::Finished { place, test } => StreamLine::Finished(json_report::to_case(
            &place.root_dir,
            suite_path,
            &place.file,
            &place.name,
            test,
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_is_named_as_the_json_report_names_it() {
        let started = r#"{"event":"started","root_dir":"/s/tests","file":"cart.spec.ts","name":"cart › adds","project":"chromium"}"#;
        let Some(StreamLine::Started(case)) = parse(started, Path::new("/s")) else {
            panic!("a started line");
        };
        assert_eq!(
            case.selector.as_deref(),
            Some("[chromium] › cart.spec.ts › cart › adds")
        );
        assert_eq!(case.file.as_deref(), Some("tests/cart.spec.ts"));
        let finished = r#"{"event":"finished","root_dir":"/s/tests","file":"cart.spec.ts","name":"cart › adds","project":"chromium","test":{"projectName":"chromium","status":"unexpected","expectedStatus":"passed","annotations":[],"results":[{"status":"failed","retry":0,"duration":1500,"errors":[{"message":"Error: boom"}],"attachments":[]}]}}"#;
        let Some(StreamLine::Finished(done)) = parse(finished, Path::new("/s")) else {
            panic!("a finished line");
        };
        assert_eq!(
            (done.label(), done.status, done.duration),
            (case.label(), TestStatus::Error, 1.5)
        );
        assert_eq!(
            parse(r#"{"event":"total","count":7}"#, Path::new("/s")),
            Some(StreamLine::Total(7))
        );
    }
}
