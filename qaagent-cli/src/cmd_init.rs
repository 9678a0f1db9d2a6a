//! `qaagent init`: writes a commented starter `.qaagent.toml` for the suites
//! it finds in the project.
//!
//! Detection looks where the Python qaagent's three suites usually live:
//! pytest files (`test_*.py`, `*_test.py`) under `tests/` give `[tests.unit]`
//! with the deepest directory holding all of them; a `features/` directory
//! with `.feature` files gives `[tests.behave]`; a Playwright config
//! (`playwright.config.{ts,js,mjs,cjs}`) at the root or one level down gives
//! `[tests.e2e]` in its directory. A suite whose runner this binary was not
//! built with is written commented out, so the file always passes `config
//! check`. The text is validated with the same registry before it is written,
//! and an existing config is never replaced without `--force`.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use orchestrator::config::{self, FILE_NAME};
use orchestrator::registry::Registry;

use crate::args::Cli;
use crate::error::CliError;
use crate::exit;
use crate::reporter::summary::plural;

/// The Playwright config file names, in the order they are preferred.
const PLAYWRIGHT_CONFIGS: &[&str] = &[
    "playwright.config.ts",
    "playwright.config.js",
    "playwright.config.mjs",
    "playwright.config.cjs",
];

/// Directories never searched: tool and dependency caches, virtual environments.
const SKIPPED_DIRS: &[&str] = &[
    "node_modules",
    "__pycache__",
    "venv",
    "env",
    "site-packages",
    "dist",
    "build",
    "target",
];

/// How deep below `tests/` to look for pytest files.
const MAX_DEPTH: usize = 8;

/// `qaagent init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Replace an existing `.qaagent.toml`.
    #[arg(long)]
    pub force: bool,
}

/// One suite found in the project.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Detected {
    /// `unit`, `behave` or `e2e`.
    suite: &'static str,
    /// Its runner (the suite name's default).
    runner: &'static str,
    /// Relative to the project dir, `/`-separated; `.` for the project dir itself.
    path: String,
    /// What was found, for the comment above the table and the summary.
    evidence: String,
}

/// Runs `qaagent init`.
pub fn run(cli: &Cli, args: &InitArgs, registry: &Registry) -> Result<u8, CliError> {
    let dir = start_dir(cli, "init always writes it in the project directory")?;
    let dir = dir.canonicalize().map_err(|source| CliError::Io {
        what: format!("cannot open the project directory {}", dir.display()),
        source,
    })?;
    let file = dir.join(FILE_NAME);
    check_destination(&file, &dir, args.force)?;

    let detected = detect(&dir);
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.trim().is_empty());
    let text = render(name.as_deref().unwrap_or("project"), &detected, registry);
    // What we write must load; a failure here is our bug, caught before the file exists.
    let checked = config::parse(&file, &text, registry)?;

    write_config(&file, &text, args.force)?;

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let io_error = |source| CliError::Io {
        what: "cannot write output".into(),
        source,
    };
    writeln!(out, "wrote {}", file.display()).map_err(io_error)?;
    let width = detected.iter().map(|d| d.suite.len()).max().unwrap_or(0);
    for found in &detected {
        let active = checked.suite(found.suite).is_some();
        let note = if active {
            String::new()
        } else {
            format!("  (commented out: this qaagent has no `{}` runner)", found.runner)
        };
        writeln!(
            out,
            "  {:<width$}  {:<10}  {}{note}",
            found.suite, found.runner, found.evidence
        )
        .map_err(io_error)?;
    }
    if detected.is_empty() {
        writeln!(
            out,
            "warning: found no test suites; add a [tests.NAME] table for each (see the comments in the file)"
        )
        .map_err(io_error)?;
    }
    writeln!(
        out,
        "next: `qaagent config check` shows the tools found, `qaagent run-all` runs the suites"
    )
    .map_err(io_error)?;
    Ok(exit::SUCCESS)
}

/// Where a command that writes a `.qaagent.toml` starts: `-C DIR`, else the
/// current directory. `--config` is refused (`where_written` says why).
pub(crate) fn start_dir(cli: &Cli, where_written: &str) -> Result<PathBuf, CliError> {
    if cli.config.is_some() {
        return Err(CliError::Usage(format!(
            "{FILE_NAME}: {where_written}; pass -C DIR instead of --config"
        )));
    }
    let cwd = std::env::current_dir().map_err(|source| CliError::Io {
        what: "cannot read the current directory".into(),
        source,
    })?;
    Ok(match &cli.directory {
        Some(dir) => cwd.join(dir),
        None => cwd,
    })
}

/// Refuses to write `file`, the `.qaagent.toml` of `dir`, over an existing
/// one or below another project's config (which it would hide from every
/// command run below it), unless `force`.
pub(crate) fn check_destination(file: &Path, dir: &Path, force: bool) -> Result<(), CliError> {
    if force {
        return Ok(());
    }
    if fs::symlink_metadata(file).is_ok() {
        return Err(CliError::ConfigExists {
            path: file.to_path_buf(),
        });
    }
    match dir.parent().map(config::discover) {
        Some(Ok(outer)) => Err(CliError::ConfigAbove { path: outer }),
        _ => Ok(()),
    }
}

/// Writes `text` to `file`; without `force`, never over a file that is there
/// (even one that appeared since [`check_destination`]).
pub(crate) fn write_config(file: &Path, text: &str, force: bool) -> Result<(), CliError> {
    let io_error = |source| CliError::Io {
        what: format!("cannot write {}", file.display()),
        source,
    };
    if force {
        // Renamed into place: a link there is replaced, never written through.
        return evidence::write_atomically(file, text.as_bytes()).map_err(|err| CliError::Io {
            what: format!("cannot write {}", file.display()),
            source: std::io::Error::other(err.to_string()),
        });
    }
    // create_new: a config that appeared since the check above is still not replaced.
    let mut handle = match fs::OpenOptions::new().write(true).create_new(true).open(file) {
        Ok(handle) => handle,
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(CliError::ConfigExists {
                path: file.to_path_buf(),
            })
        }
        Err(err) => return Err(io_error(err)),
    };
    handle.write_all(text.as_bytes()).map_err(io_error)
}

// ---------------------------------------------------------------------------
// Detection

/// The suites found in `dir`, in run order.
fn detect(dir: &Path) -> Vec<Detected> {
    let mut found = Vec::new();
    if let Some(unit) = detect_pytest(dir) {
        found.push(unit);
    }
    if let Some(behave) = detect_behave(dir) {
        found.push(behave);
    }
    if let Some(e2e) = detect_playwright(dir) {
        found.push(e2e);
    }
    found
}

fn detect_pytest(dir: &Path) -> Option<Detected> {
    let tests = dir.join("tests");
    let mut files = Vec::new();
    walk(&tests, 0, &mut |path| {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let stem = name.strip_suffix(".py");
        if stem.is_some_and(|stem| stem.starts_with("test_") || stem.ends_with("_test")) {
            files.push(path.to_path_buf());
        }
    });
    let common = common_dir(files.iter().filter_map(|file| file.parent()))?;
    Some(Detected {
        suite: "unit",
        runner: "pytest",
        path: relative(dir, &common),
        evidence: format!(
            "{} (test_*.py, *_test.py) under {}",
            plural(files.len(), "test file"),
            relative(dir, &common)
        ),
    })
}

fn detect_behave(dir: &Path) -> Option<Detected> {
    let features = dir.join("features");
    let mut count = 0;
    walk(&features, 0, &mut |path| {
        if path.extension().is_some_and(|ext| ext == "feature") {
            count += 1;
        }
    });
    (count > 0).then(|| Detected {
        suite: "behave",
        runner: "behave",
        path: "features".into(),
        evidence: format!("{} under features", plural(count, "feature file")),
    })
}

fn detect_playwright(dir: &Path) -> Option<Detected> {
    let config_in = |candidate: &Path| {
        PLAYWRIGHT_CONFIGS
            .iter()
            .map(|name| candidate.join(name))
            .find(|path| path.is_file())
    };
    let found = config_in(dir).or_else(|| {
        let mut subdirs: Vec<PathBuf> = fs::read_dir(dir)
            .ok()?
            .flatten()
            .filter(|entry| {
                entry.file_type().is_ok_and(|t| t.is_dir()) && searchable(&entry.file_name().to_string_lossy())
            })
            .map(|entry| entry.path())
            .collect();
        subdirs.sort();
        subdirs.iter().find_map(|sub| config_in(sub))
    })?;
    let suite_dir = found.parent().unwrap_or(dir);
    Some(Detected {
        suite: "e2e",
        runner: "playwright",
        path: relative(dir, suite_dir),
        evidence: format!("config {}", relative(dir, &found)),
    })
}

/// Calls `on_file` for every file below `dir`, skipping hidden and cache directories.
fn walk(dir: &Path, depth: usize, on_file: &mut dyn FnMut(&Path)) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            if searchable(&entry.file_name().to_string_lossy()) {
                walk(&path, depth + 1, on_file);
            }
        } else if kind.is_file() {
            on_file(&path);
        }
    }
}

fn searchable(dir_name: &str) -> bool {
    !dir_name.starts_with('.') && !SKIPPED_DIRS.contains(&dir_name)
}

/// The deepest directory containing every one of `dirs`.
fn common_dir<'a>(dirs: impl Iterator<Item = &'a Path>) -> Option<PathBuf> {
    let mut common: Option<PathBuf> = None;
    for dir in dirs {
        common = Some(match common {
            None => dir.to_path_buf(),
            Some(current) => current
                .ancestors()
                .find(|ancestor| dir.starts_with(ancestor))?
                .to_path_buf(),
        });
    }
    common
}

/// `path` relative to `base`, `/`-separated, `.` for `base` itself.
fn relative(base: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

// ---------------------------------------------------------------------------
// The file

/// The commented config for project `name` with the `detected` suites; suites
/// whose runner `registry` lacks are written commented out.
fn render(name: &str, detected: &[Detected], registry: &Registry) -> String {
    let active: Vec<&Detected> = detected.iter().filter(|d| registry.contains(d.runner)).collect();
    let mut text = String::new();
    let order: Vec<String> = active.iter().map(|d| toml_string(d.suite)).collect();
    // Writing to a String cannot fail.
    let _ = write!(
        text,
        r#"# qaagent config, written by `qaagent init`.
# Paths are relative to the directory holding this file.
# `qaagent config check` validates it and shows the tools it finds;
# `qaagent run-all` runs the enabled suites and records the run as evidence.

[project]
# Names the run's target in the evidence (the directory's name by default).
name = {name}

# Environments: the first [app.NAME] with a base_url is exported to every
# suite as BASE_URL (`--env NAME` picks another); without one, $BASE_URL is
# passed through as it is.
# [app.dev]
# base_url = "http://localhost:8000"

[run]
parallel = false                  # true (or --parallel) runs suites side by side
# max_workers = 2                 # suites at once when parallel; default: one per suite
retry_count = 0                   # extra attempts, re-running only the tests that failed
timeout = 300                     # seconds per suite attempt (--timeout overrides)
"#,
        name = toml_string(name),
    );
    if !order.is_empty() {
        let _ = writeln!(text, "suite_order = [{}]", order.join(", "));
    }
    for found in detected {
        text.push('\n');
        if registry.contains(found.runner) {
            suite_table(&mut text, found, "");
        } else {
            let _ = writeln!(
                text,
                "# This qaagent was built without the `{}` runner, so this suite is left\n# commented out; uncomment it with a qaagent that has one.",
                found.runner
            );
            suite_table(&mut text, found, "# ");
        }
    }
    if detected.is_empty() {
        text.push_str(
            r#"
# No suites found. Each suite is a [tests.NAME] table; unit, behave and e2e
# default to the pytest, behave and playwright runners, others need `runner`.
# [tests.unit]
# path = "tests"
"#,
        );
    }
    text
}

/// One `[tests.NAME]` table, its table line and path prefixed with `prefix`.
fn suite_table(text: &mut String, found: &Detected, prefix: &str) {
    let what = match found.runner {
        "pytest" => "pytest",
        "behave" => "behave",
        _ => "Playwright Test",
    };
    let _ = writeln!(text, "# {what}: {}.", found.evidence);
    let _ = writeln!(text, "{prefix}[tests.{}]", found.suite);
    let _ = writeln!(text, "{prefix}path = {}", toml_string(&found.path));
    let args = match found.runner {
        "pytest" => ("# args = [\"-x\"]", "extra pytest arguments"),
        "behave" => ("# args = [\"--tags\", \"~@wip\"]", "extra behave arguments"),
        _ => (
            "# args = [\"--project\", \"chromium\"]",
            "extra `playwright test` arguments",
        ),
    };
    let mut lines = vec![("# enabled = true", "false keeps the suite but does not run it"), args];
    if found.runner == "pytest" || found.runner == "behave" {
        lines.push((
            "# python = \".venv/bin/python\"",
            "default: $VIRTUAL_ENV, then ./.venv, then python3",
        ));
    }
    lines.push(("# timeout = 120", "seconds per attempt of this suite"));
    lines.push(("# env = { KEY = \"value\" }", "extra environment for the tool"));
    for (line, comment) in lines {
        let _ = writeln!(text, "{line:<33} # {comment}");
    }
}

/// `value` as a TOML basic string.
pub(crate) fn toml_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for ch in value.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, rel: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, "").expect("write");
    }

    #[test]
    fn pytest_path_is_the_deepest_common_dir() {
        let tmp = tempfile::tempdir().expect("tempdir");
        touch(tmp.path(), "tests/unit/test_a.py");
        touch(tmp.path(), "tests/unit/api/b_test.py");
        touch(tmp.path(), "tests/unit/helpers.py");
        touch(tmp.path(), "tests/.hidden/test_c.py");
        let found = detect_pytest(tmp.path()).expect("found");
        assert_eq!(found.path, "tests/unit");
        assert_eq!(found.evidence, "2 test files (test_*.py, *_test.py) under tests/unit");
        touch(tmp.path(), "tests/test_top.py");
        assert_eq!(detect_pytest(tmp.path()).expect("found").path, "tests");
    }

    #[test]
    fn nothing_to_find_finds_nothing() {
        let tmp = tempfile::tempdir().expect("tempdir");
        touch(tmp.path(), "tests/conftest.py");
        touch(tmp.path(), "features/steps/steps.py");
        touch(tmp.path(), "node_modules/x/playwright.config.ts");
        touch(tmp.path(), "a/b/playwright.config.ts");
        assert_eq!(detect(tmp.path()), Vec::new());
    }

    #[test]
    fn playwright_config_at_root_or_one_level_down() {
        let tmp = tempfile::tempdir().expect("tempdir");
        touch(tmp.path(), "web/playwright.config.mjs");
        let found = detect_playwright(tmp.path()).expect("found");
        assert_eq!(
            (found.path.as_str(), found.evidence.as_str()),
            ("web", "config web/playwright.config.mjs")
        );
        touch(tmp.path(), "playwright.config.ts");
        assert_eq!(detect_playwright(tmp.path()).expect("found").path, ".");
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(toml_string(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(toml_string("x\u{1}"), "\"x\\u0001\"");
    }
}
