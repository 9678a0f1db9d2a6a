//! Selecting tests by location, for Playwright before 1.56 (no `--test-list`).
//!
//! Every supported Playwright takes `file:line:column` arguments, each
//! selecting the test (or describe block) declared there, and `--project`.
//! A selector (`[project] › file › titles`, see [`crate::selector`]) holds
//! no line, and a line in stored evidence may be stale by the time
//! `--rerun-failed` runs, so the selected tests are looked up in a fresh
//! `playwright test --list` of the suite: one more Node.js start, paid only
//! by re-runs on old versions.
//!
//! The file part of an argument is a regular expression that Playwright
//! tests against the absolute test file path; qaagent passes that path
//! escaped and anchored, so `cart.spec.ts` cannot also select `mycart.spec.ts`.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use runner_api::conclude::describe_exit;
use runner_api::process::log_tail;
use runner_api::{RunnerError, SuiteContext};

use crate::json_report::{self, Listed};

/// How many log lines a failed listing's error carries.
const TAIL_LINES: usize = 30;

/// The arguments that select some tests by location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located {
    /// One `^/abs/file$:line:column` argument per selected test found.
    pub(crate) args: Vec<String>,
    /// The projects of the found tests, for `--project`; `None` when one of
    /// them has an unnamed project (only no `--project` selects it).
    pub(crate) projects: Option<Vec<String>>,
    /// The selectors the listing has no test for.
    pub(crate) missing: Vec<String>,
}

/// Lists the suite with `cmd` (a `playwright test` command the caller
/// built with the suite's projects and args) and finds `selected` in it.
pub(crate) fn locate(
    ctx: &SuiteContext,
    cmd: std::process::Command,
    selected: &[String],
) -> Result<Located, RunnerError> {
    list_tests(ctx, cmd)
        .map(|listed| find(&listed, selected))
        .map_err(|why| RunnerError::Other(format!("cannot select the tests to re-run: {why}")))
}

/// Every test `cmd` (a `playwright test` command with the suite's projects
/// and args) lists with `--list --reporter=json`. The listing's JSON report
/// and logs stay in the attempt's output directory.
pub(crate) fn list_tests(ctx: &SuiteContext, mut cmd: std::process::Command) -> Result<Vec<Listed>, String> {
    let report = ctx.output_dir.join("test-locations.json");
    let stdout_log = ctx.output_dir.join("list.stdout.log");
    let stderr_log = ctx.output_dir.join("list.stderr.log");
    cmd.arg("--list")
        .arg("--reporter=json")
        .env("PLAYWRIGHT_JSON_OUTPUT_FILE", &report);
    log::debug!("[{}] listing tests: {cmd:?}", ctx.suite);
    let outcome = ctx
        .run_supervised_with_logs(cmd, &stdout_log, &stderr_log)
        .map_err(|err| err.to_string())?;
    let listed = json_report::list(&report).map_err(|err| err.to_string());
    match listed {
        Ok(listed) if outcome.code() == Some(0) => Ok(listed),
        failed => {
            let why = if outcome.cancelled.is_some() {
                "interrupted".to_string()
            } else if outcome.timed_out {
                "timed out".to_string()
            } else {
                failed
                    .err()
                    .unwrap_or_else(|| describe_exit("playwright", outcome.exit))
            };
            let tail = log_tail(&stderr_log, TAIL_LINES).unwrap_or_default();
            Err(format!(
                "`playwright test --list` failed ({why}); its output is in {}\n{tail}",
                stderr_log.display()
            ))
        }
    }
}

/// The location arguments for `selected` in a listing.
fn find(listed: &[Listed], selected: &[String]) -> Located {
    let wanted: HashSet<&str> = selected.iter().map(String::as_str).collect();
    let mut found = HashSet::new();
    let mut args = BTreeSet::new();
    let mut projects = Some(BTreeSet::new());
    for test in listed {
        if let Some(wanted) = wanted.get(test.selector.as_str()) {
            found.insert(*wanted);
            args.insert(location_arg(&test.file, test.line, test.column));
            match (&mut projects, test.project.is_empty()) {
                (Some(names), false) => {
                    names.insert(test.project.clone());
                }
                _ => projects = None,
            }
        }
    }
    Located {
        args: args.into_iter().collect(),
        projects: projects.map(|names| names.into_iter().collect()),
        missing: selected
            .iter()
            .filter(|selector| !found.contains(selector.as_str()))
            .cloned()
            .collect(),
    }
}

/// `^<file, regex-escaped>$:line:column`: Playwright reads the part before
/// `:line` as a regular expression, and a leading `^` keeps it from reading
/// a path that ends in `/` as `/regex/flags`.
fn location_arg(file: &Path, line: u32, column: u32) -> String {
    let mut pattern = String::from("^");
    for ch in file.to_string_lossy().chars() {
        if "\\^$.|?*+()[]{}".contains(ch) {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    format!("{pattern}$:{line}:{column}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = r#"{
      "config": {"rootDir": "/p/e2e/tests"}, "errors": [],
      "stats": {"expected": 0, "unexpected": 0, "flaky": 0, "skipped": 0},
      "suites": [
        {"title": "shop.spec.ts", "file": "shop.spec.ts", "specs": [
           {"title": "top", "file": "shop.spec.ts", "line": 3, "column": 5,
            "tests": [{"projectName": "desktop"}, {"projectName": "mobile"}]}],
         "suites": [
           {"title": "cart", "file": "shop.spec.ts", "specs": [
              {"title": "works", "file": "shop.spec.ts", "line": 8, "column": 7,
               "tests": [{"projectName": "desktop"}, {"projectName": "mobile"}]}],
            "suites": []},
           {"title": "orders", "file": "shop.spec.ts", "specs": [
              {"title": "works", "file": "shop.spec.ts", "line": 14, "column": 7,
               "tests": [{"projectName": "desktop"}]}]}]},
        {"title": "a (b).spec.ts", "file": "a (b).spec.ts", "specs": [
           {"title": "x", "file": "a (b).spec.ts", "line": 1, "column": 1, "tests": [{"projectName": ""}]}]}
      ]
    }"#;

    fn listing() -> Vec<Listed> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("list.json");
        // Every test of a listing is skipped, with no runs.
        let full = LISTING.replace(
            r#""projectName""#,
            r#""status": "skipped", "results": [], "projectName""#,
        );
        std::fs::write(&path, full).expect("write");
        json_report::list(&path).expect("a listing")
    }

    #[test]
    fn finds_a_test_by_project_file_and_titles() {
        let located = find(&listing(), &["[mobile] › shop.spec.ts › cart › works".to_string()]);
        assert_eq!(located.args, [r"^/p/e2e/tests/shop\.spec\.ts$:8:7"]);
        assert_eq!(located.projects, Some(vec!["mobile".to_string()]));
        assert!(located.missing.is_empty());
    }

    #[test]
    fn a_title_shared_by_two_blocks_selects_only_the_named_one() {
        let located = find(&listing(), &["[desktop] › shop.spec.ts › orders › works".to_string()]);
        assert_eq!(located.args, [r"^/p/e2e/tests/shop\.spec\.ts$:14:7"]);
    }

    #[test]
    fn an_unnamed_project_lifts_the_project_filter_and_regex_characters_are_escaped() {
        let located = find(
            &listing(),
            &[
                "a (b).spec.ts › x".to_string(),
                "[desktop] › shop.spec.ts › top".to_string(),
                "[desktop] › gone.spec.ts › y".to_string(),
            ],
        );
        assert_eq!(
            located.args,
            [
                r"^/p/e2e/tests/a \(b\)\.spec\.ts$:1:1",
                r"^/p/e2e/tests/shop\.spec\.ts$:3:5"
            ]
        );
        assert_eq!(located.projects, None);
        assert_eq!(located.missing, ["[desktop] › gone.spec.ts › y"]);
    }
}
