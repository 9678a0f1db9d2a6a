//! Naming a Playwright test so `--test-list` selects it again.
//!
//! A selector is `[project] › file › describe › title`: the project from the
//! JUnit `<testsuite hostname>`, the file from the `<testcase classname>` and
//! the titles from its `name` (the describe titles and the test title,
//! already joined with ` › `). Without a project name the `[project] › `
//! part is left out, which `--test-list` reads as "any project".
//!
//! Playwright 1.65 matches a test-list line's file against
//! `path.relative(config.rootDir, test.location.file)`, and `rootDir` is the
//! config's `testDir`, not the directory of the config file (nor a project's
//! own `testDir`). JUnit's `classname` is exactly that path, so it is the
//! selector's file part as is. The line reporter prints files relative to the
//! config's directory instead (`tests/cart.spec.ts`): a test list with those
//! selects nothing, silently, with exit code 0.
//!
//! To give each case a `file` a person can open from the suite's path, the
//! runner also reads `config.rootDir` from the JSON report ([`root_dir_from_json_report`]).
//!
//! `--test-list` compares titles as a prefix: a line naming a describe block
//! selects every test in it, so a test whose title equals a sibling describe
//! block's title also re-runs that block (harmless: qaagent counts only the
//! selected rows of a re-run). Titles containing ` › ` cannot be selected
//! exactly.

use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

/// What Playwright puts between a selector's parts.
pub const SEPARATOR: &str = " › ";

/// `[project] › file › name`, or `file › name` for an unnamed project.
pub fn selector(project: &str, file: &str, name: &str) -> String {
    if project.is_empty() {
        format!("{file}{SEPARATOR}{name}")
    } else {
        format!("[{project}]{SEPARATOR}{file}{SEPARATOR}{name}")
    }
}

/// The contents of a `--test-list` file selecting `selectors`. Selectors that
/// a line cannot hold (they contain a line break) or that Playwright would
/// read as a comment are left out with a warning.
pub fn test_list(selectors: &[String]) -> String {
    let mut list = String::new();
    for selector in selectors {
        let trimmed = selector.trim();
        if trimmed.is_empty() || trimmed.contains(['\n', '\r']) || trimmed.starts_with('#') {
            log::warn!("cannot select Playwright test {selector:?} with --test-list; leaving it out");
            continue;
        }
        list.push_str(trimmed);
        list.push('\n');
    }
    list
}

#[derive(Deserialize)]
struct JsonReport {
    config: JsonConfig,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonConfig {
    root_dir: PathBuf,
}

/// The config's `rootDir` (its resolved `testDir`) from a Playwright JSON
/// report; `None` (with a log line) when the report is missing or not what
/// Playwright writes.
pub fn root_dir_from_json_report(path: &Path) -> Option<PathBuf> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) => {
            log::debug!("no Playwright JSON report at {}: {err}", path.display());
            return None;
        }
    };
    match serde_json::from_reader::<_, JsonReport>(std::io::BufReader::new(file)) {
        Ok(report) => Some(report.config.root_dir),
        Err(err) => {
            log::warn!("cannot read Playwright JSON report {}: {err}", path.display());
            None
        }
    }
}

/// The test file a JUnit row names, as a path relative to `suite_path` when
/// it lies below it (`tests/cart.spec.ts`), else absolute.
pub fn case_file(root_dir: &Path, classname: &str, suite_path: &Path) -> String {
    let absolute = normalize(&root_dir.join(classname));
    match absolute.strip_prefix(normalize(suite_path)) {
        Ok(relative) => to_posix(relative),
        Err(_) => absolute.display().to_string(),
    }
}

/// Resolves `.` and `..` lexically: a project's `testDir` may lie outside
/// the config's, giving a `classname` like `../other/a.spec.ts`.
fn normalize(path: &Path) -> PathBuf {
    let mut normalized = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !normalized.pop() {
                    normalized.push("..");
                }
            }
            other => normalized.push(other),
        }
    }
    normalized
}

/// A relative path with `/` separators, as Playwright prints it.
pub fn to_posix(path: &Path) -> String {
    path.components()
        .map(|component| component.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_has_project_file_and_titles() {
        assert_eq!(
            selector("chromium", "cart.spec.ts", "cart › checkout › pays"),
            "[chromium] › cart.spec.ts › cart › checkout › pays"
        );
        assert_eq!(selector("", "a/b.spec.ts", "top"), "a/b.spec.ts › top");
    }

    #[test]
    fn case_file_is_relative_to_the_suite_path() {
        let suite = Path::new("/p/e2e");
        assert_eq!(
            case_file(Path::new("/p/e2e/tests"), "cart.spec.ts", suite),
            "tests/cart.spec.ts"
        );
        assert_eq!(
            case_file(Path::new("/p/e2e/tests"), "api/o.spec.ts", suite),
            "tests/api/o.spec.ts"
        );
        assert_eq!(
            case_file(Path::new("/p/e2e/tests"), "../other/x.spec.ts", suite),
            "other/x.spec.ts"
        );
        assert_eq!(
            case_file(Path::new("/q/tests"), "y.spec.ts", suite),
            "/q/tests/y.spec.ts"
        );
    }

    #[test]
    fn test_list_has_one_selector_a_line_and_drops_unlistable_ones() {
        let selectors = vec![
            "[chromium] › a.spec.ts › x › y".to_string(),
            "[chromium] › a.spec.ts › multi\nline".to_string(),
            "  ".to_string(),
            "b.spec.ts › odd \"titles\" & <marks> › a > b".to_string(),
        ];
        assert_eq!(
            test_list(&selectors),
            "[chromium] › a.spec.ts › x › y\nb.spec.ts › odd \"titles\" & <marks> › a > b\n"
        );
    }

    #[test]
    fn reads_root_dir_from_a_json_report() {
        let dir = tempfile::tempdir().expect("tempdir");
        let report = dir.path().join("report.json");
        std::fs::write(
            &report,
            r#"{"config": {"rootDir": "/p/tests", "configFile": "/p/playwright.config.ts", "projects": [
                {"name": "chromium", "testDir": "/p/tests", "outputDir": "/o", "retries": 0}]},
               "suites": [], "errors": [], "stats": {}}"#,
        )
        .expect("write report");
        assert_eq!(root_dir_from_json_report(&report), Some(PathBuf::from("/p/tests")));
        assert!(root_dir_from_json_report(&dir.path().join("missing.json")).is_none());
        std::fs::write(&report, "{").expect("write report");
        assert!(root_dir_from_json_report(&report).is_none());
    }
}
