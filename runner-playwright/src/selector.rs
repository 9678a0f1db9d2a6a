//! Naming a Playwright test so `--test-list` selects it again.
//!
//! A selector is `[project] › file › describe › title`: the project from the
//! JUnit `<testsuite hostname>`, the file relative to the config's `rootDir`,
//! and the JUnit `<testcase name>` (the describe titles and the test title,
//! already joined with ` › `). Without a project name the `[project] › `
//! part is left out, which `--test-list` reads as "any project".
//!
//! Playwright 1.65 matches a test-list line against
//! `path.relative(config.rootDir, test.location.file)`, and `rootDir` is the
//! config's `testDir`, not the directory of the config file. The JUnit
//! `classname`, though, is the file relative to the *project's* `testDir`.
//! The two agree unless a project has a `testDir` of its own, so the file
//! part is rebuilt from the JSON report's `config.rootDir` and
//! `config.projects[].testDir` ([`ProjectDirs`]). A wrong file part would make
//! `--test-list` select nothing, silently, with exit code 0.
//!
//! `--test-list` compares titles as a prefix: a line naming a describe block
//! selects every test in it, so a test whose title equals a sibling describe
//! block's title also re-runs that block (harmless: qaagent counts only the
//! selected rows of a re-run).

use std::collections::HashMap;
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

/// Where Playwright resolved the config's `rootDir` and each project's
/// `testDir`, as its JSON report says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectDirs {
    root_dir: PathBuf,
    test_dirs: HashMap<String, PathBuf>,
}

#[derive(Deserialize)]
struct JsonReport {
    config: JsonConfig,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonConfig {
    root_dir: PathBuf,
    #[serde(default)]
    projects: Vec<JsonProject>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonProject {
    #[serde(default)]
    name: String,
    test_dir: PathBuf,
}

impl ProjectDirs {
    /// Reads the directories from a JSON report; `None` (with a warning)
    /// when the report is missing or not what Playwright writes.
    pub fn from_json_report(path: &Path) -> Option<Self> {
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(err) => {
                log::debug!("no Playwright JSON report at {}: {err}", path.display());
                return None;
            }
        };
        match serde_json::from_reader::<_, JsonReport>(std::io::BufReader::new(file)) {
            Ok(report) => {
                let mut test_dirs = HashMap::new();
                for project in report.config.projects {
                    test_dirs.entry(project.name).or_insert(project.test_dir);
                }
                Some(ProjectDirs {
                    root_dir: report.config.root_dir,
                    test_dirs,
                })
            }
            Err(err) => {
                log::warn!("cannot read Playwright JSON report {}: {err}", path.display());
                None
            }
        }
    }

    /// A `rootDir` and the projects' `testDir`s, as Playwright would report them.
    pub fn new(root_dir: impl Into<PathBuf>, test_dirs: impl IntoIterator<Item = (String, PathBuf)>) -> Self {
        ProjectDirs {
            root_dir: root_dir.into(),
            test_dirs: test_dirs.into_iter().collect(),
        }
    }

    /// The absolute path of the test file a JUnit row names, from the
    /// project (`hostname`) and the file relative to its `testDir` (`classname`).
    pub fn test_file(&self, project: &str, classname: &str) -> PathBuf {
        let test_dir = self.test_dirs.get(project).unwrap_or(&self.root_dir);
        normalize(&test_dir.join(classname))
    }

    /// The file part of a selector: the test file relative to `rootDir`,
    /// with forward slashes.
    pub fn selector_file(&self, project: &str, classname: &str) -> String {
        to_posix(&relative_path(
            &normalize(&self.root_dir),
            &self.test_file(project, classname),
        ))
    }
}

/// `target` relative to `base`, both absolute and normalized, going up with
/// `..` where needed (like Node's `path.relative`).
pub fn relative_path(base: &Path, target: &Path) -> PathBuf {
    let base: Vec<Component> = base.components().collect();
    let target: Vec<Component> = target.components().collect();
    let common = base.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut relative = PathBuf::new();
    for _ in common..base.len() {
        relative.push("..");
    }
    for component in &target[common..] {
        relative.push(component);
    }
    relative
}

/// Resolves `.` and `..` lexically (Playwright reports resolved paths; the
/// joins above may add `..` from a `classname` outside the `testDir`).
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
    fn file_is_relative_to_root_dir_through_the_project_test_dir() {
        let dirs = ProjectDirs::new(
            "/p/e2e/tests",
            [
                ("chromium".to_string(), PathBuf::from("/p/e2e/tests")),
                ("api".to_string(), PathBuf::from("/p/e2e/tests/api")),
                ("outside".to_string(), PathBuf::from("/p/e2e/other")),
            ],
        );
        assert_eq!(dirs.selector_file("chromium", "cart.spec.ts"), "cart.spec.ts");
        assert_eq!(dirs.selector_file("api", "orders.spec.ts"), "api/orders.spec.ts");
        assert_eq!(dirs.selector_file("outside", "x/y.spec.ts"), "../other/x/y.spec.ts");
        assert_eq!(dirs.selector_file("unknown", "z.spec.ts"), "z.spec.ts");
        assert_eq!(
            dirs.test_file("api", "orders.spec.ts"),
            Path::new("/p/e2e/tests/api/orders.spec.ts")
        );
    }

    #[test]
    fn relative_path_goes_up_and_down() {
        assert_eq!(
            relative_path(Path::new("/a/b"), Path::new("/a/b/c/d")),
            Path::new("c/d")
        );
        assert_eq!(relative_path(Path::new("/a/b"), Path::new("/a/x")), Path::new("../x"));
        assert_eq!(relative_path(Path::new("/a/b"), Path::new("/a/b")), Path::new(""));
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
    fn reads_dirs_from_a_json_report() {
        let dir = tempfile::tempdir().expect("tempdir");
        let report = dir.path().join("report.json");
        std::fs::write(
            &report,
            r#"{"config": {"rootDir": "/p/tests", "configFile": "/p/playwright.config.ts", "projects": [
                {"name": "chromium", "testDir": "/p/tests", "outputDir": "/o", "retries": 0},
                {"name": "api", "testDir": "/p/tests/api"}]},
               "suites": [], "errors": [], "stats": {}}"#,
        )
        .expect("write report");
        let dirs = ProjectDirs::from_json_report(&report).expect("report parses");
        assert_eq!(dirs.selector_file("api", "o.spec.ts"), "api/o.spec.ts");
        assert!(ProjectDirs::from_json_report(&dir.path().join("missing.json")).is_none());
        std::fs::write(&report, "{").expect("write report");
        assert!(ProjectDirs::from_json_report(&report).is_none());
    }
}
