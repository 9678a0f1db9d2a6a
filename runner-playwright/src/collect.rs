//! Listing a Playwright suite's tests without running them
//! (`playwright test --list --reporter=json`), as selectors.
//!
//! The JSON report nests suites: one per file (titled with the file's path
//! below the config's `testDir`, which is also the selector's file part),
//! then one per `describe`; each spec holds one test per project.

use std::path::Path;

use runner_api::{RunnerError, SuiteContext};
use serde::Deserialize;

use crate::selector::{self, SEPARATOR};

#[derive(Deserialize)]
struct ListReport {
    #[serde(default)]
    suites: Vec<ListSuite>,
}

#[derive(Deserialize)]
struct ListSuite {
    #[serde(default)]
    title: String,
    #[serde(default)]
    specs: Vec<ListSpec>,
    #[serde(default)]
    suites: Vec<ListSuite>,
}

#[derive(Deserialize)]
struct ListSpec {
    #[serde(default)]
    title: String,
    #[serde(default)]
    tests: Vec<ListTest>,
}

#[derive(Deserialize)]
struct ListTest {
    #[serde(default, rename = "projectName")]
    project_name: String,
}

/// The selectors of every test (one per project) in the list report at `path`.
pub(crate) fn selectors_in(path: &Path) -> Result<Vec<String>, RunnerError> {
    let file = std::fs::File::open(path).map_err(|source| RunnerError::Io {
        what: "cannot open Playwright's test list",
        path: path.to_path_buf(),
        source,
    })?;
    let report: ListReport = serde_json::from_reader(std::io::BufReader::new(file))
        .map_err(|err| RunnerError::Other(format!("cannot read Playwright's test list {}: {err}", path.display())))?;
    let mut selectors = Vec::new();
    for file_suite in &report.suites {
        push_selectors(&file_suite.title, file_suite, &mut Vec::new(), &mut selectors);
    }
    Ok(selectors)
}

fn push_selectors<'a>(file: &str, suite: &'a ListSuite, titles: &mut Vec<&'a str>, out: &mut Vec<String>) {
    for spec in &suite.specs {
        titles.push(&spec.title);
        let name = titles.join(SEPARATOR);
        titles.pop();
        for test in &spec.tests {
            out.push(selector::selector(&test.project_name, file, &name));
        }
    }
    for child in &suite.suites {
        titles.push(&child.title);
        push_selectors(file, child, titles, out);
        titles.pop();
    }
}

/// Where the list goes, in the collection's scratch directory.
pub(crate) fn list_file(ctx: &SuiteContext) -> std::path::PathBuf {
    ctx.output_dir.join("list.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_describes_and_projects_become_selectors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("list.json");
        std::fs::write(
            &path,
            r#"{"config":{},"suites":[{"title":"cart.spec.ts","specs":[],"suites":[{"title":"cart","specs":[
                {"title":"shows","tests":[{"projectName":"desktop"},{"projectName":"mobile"}]}],
                "suites":[{"title":"checkout","specs":[{"title":"pays","tests":[{"projectName":""}]}]}]}]}]}"#,
        )
        .expect("write");
        assert_eq!(
            selectors_in(&path).expect("read"),
            [
                "[desktop] › cart.spec.ts › cart › shows",
                "[mobile] › cart.spec.ts › cart › shows",
                "cart.spec.ts › cart › checkout › pays"
            ]
        );
    }

    #[test]
    fn a_malformed_list_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("list.json");
        std::fs::write(&path, "{\"suites\": [").expect("write");
        assert!(selectors_in(&path).is_err());
    }
}
