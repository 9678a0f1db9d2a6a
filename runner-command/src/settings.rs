//! The keys a `[tests.NAME]` table with `runner = "command"` may hold besides
//! the common suite keys, and the checks serde alone cannot make.

use runner_api::{parse_settings, SettingsError};
use serde::Deserialize;

use crate::template::{SELECTORS, SELECTOR_FIELDS};

/// The default of `junit`: `{out}/junit.xml`, the path `{junit}` stands for.
pub const DEFAULT_JUNIT: &str = "{junit}";

/// The default of `selector`: the JUnit `name` of the test.
pub const DEFAULT_SELECTOR: &str = "{name}";

/// The default of `separator`: a regex alternation, which most name filters
/// (`--test-name-pattern`, `go test -run`, `jest -t`) take.
pub const DEFAULT_SEPARATOR: &str = "|";

/// Settings of a command suite.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSettings {
    /// The tool's argv, run without a shell; placeholders are expanded. The
    /// elements `{args}` and `{rerun}` mark where the suite's `args` and the
    /// re-run selection go (else both are appended, in that order).
    pub command: Vec<String>,
    /// The JUnit file the tool writes, or a directory whose `*.xml` files it
    /// writes; relative to `cwd`. `{junit}` here means `{out}/junit.xml`.
    #[serde(default = "default_junit")]
    pub junit: String,
    /// The tool's working directory, relative to the project dir (the default).
    pub cwd: Option<String>,
    /// Arguments that make the tool run only some tests, with `{selectors}`
    /// where they go. Without it a retry re-runs the whole suite.
    pub rerun: Option<Vec<String>>,
    /// How one test's selector is formed from its JUnit row: `{name}`,
    /// `{classname}`, `{suite}` (the enclosing `<testsuite>`'s name), `{file}`.
    #[serde(default = "default_selector")]
    pub selector: String,
    /// Joins the selectors when `{selectors}` is part of a longer `rerun` element.
    #[serde(default = "default_separator")]
    pub separator: String,
    /// How each selector is escaped when put into `rerun`.
    #[serde(default)]
    pub escape: Escape,
    /// Exit codes with which the tool says "the tests ran" (failed ones included).
    #[serde(default = "default_ok_exit_codes")]
    pub ok_exit_codes: Vec<i32>,
    /// An argv printing the tool's version on its first line, for the manifest.
    pub version: Option<Vec<String>>,
    /// An argv printing the suite's tests without running them, one selector
    /// a line (as `selector` forms them), so `run-all --partition` can
    /// spread them over machines; each machine then runs its share through
    /// `rerun`. Without it the suite goes to one machine whole.
    pub list: Option<Vec<String>>,
}

/// How selectors are escaped before they go into the `rerun` arguments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Escape {
    /// As they are.
    #[default]
    None,
    /// Regex metacharacters (`\ ^ $ . | ? * + ( ) [ ] { }`) get a backslash, so
    /// a name filter matches the name literally.
    Regex,
}

fn default_junit() -> String {
    DEFAULT_JUNIT.to_string()
}

fn default_selector() -> String {
    DEFAULT_SELECTOR.to_string()
}

fn default_separator() -> String {
    DEFAULT_SEPARATOR.to_string()
}

fn default_ok_exit_codes() -> Vec<i32> {
    vec![0, 1]
}

impl CommandSettings {
    /// Parses and checks a suite's runner settings.
    pub fn from_table(table: &toml::Table) -> Result<Self, SettingsError> {
        let settings: CommandSettings = parse_settings(table)?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        match self.command.first() {
            None => {
                return Err(invalid(
                    "command",
                    "must name a program: command = [\"tool\", \"arg\", ...]",
                ))
            }
            Some(program) if program.trim().is_empty() => {
                return Err(invalid("command", "the program (its first element) is empty"))
            }
            Some(_) => {}
        }
        if let Some(rerun) = &self.rerun {
            if !rerun.iter().any(|arg| arg.contains(SELECTORS)) {
                return Err(invalid(
                    "rerun",
                    "must contain {selectors} where the failed tests go, e.g. rerun = [\"--filter\", \"{selectors}\"]",
                ));
            }
        }
        if self.list.is_some() && self.rerun.is_none() {
            return Err(invalid(
                "list",
                "needs a `rerun` template: a machine runs its share of the listed tests through it",
            ));
        }
        if !SELECTOR_FIELDS.iter().any(|field| self.selector.contains(field)) {
            return Err(invalid(
                "selector",
                "must contain {name}, {classname}, {suite} or {file}",
            ));
        }
        if self.ok_exit_codes.is_empty() {
            return Err(invalid("ok_exit_codes", "must list at least one code, e.g. [0, 1]"));
        }
        if self.version.as_ref().is_some_and(Vec::is_empty) {
            return Err(invalid(
                "version",
                "must name a program: version = [\"tool\", \"--version\"]",
            ));
        }
        Ok(())
    }
}

fn invalid(key: &str, message: &str) -> SettingsError {
    SettingsError {
        key: Some(key.to_string()),
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CommandSettings, SettingsError> {
        let table: toml::Table = toml::from_str(text).expect("valid toml");
        CommandSettings::from_table(&table)
    }

    #[test]
    fn design_example_parses_with_defaults() {
        let settings = parse(
            r#"command = ["go", "run", "gotest.tools/gotestsum", "--junitfile", "{junit}"]
               junit = "{junit}""#,
        )
        .expect("valid");
        assert_eq!(settings.command.len(), 5);
        assert_eq!(settings.junit, "{junit}");
        assert_eq!(settings.cwd, None);
        assert_eq!(settings.rerun, None);
        assert_eq!(settings.selector, "{name}");
        assert_eq!(settings.separator, "|");
        assert_eq!(settings.escape, Escape::None);
        assert_eq!(settings.ok_exit_codes, [0, 1]);
    }

    #[test]
    fn command_is_required_and_not_empty() {
        let err = parse("junit = 'x.xml'").expect_err("missing");
        assert_eq!(err.key.as_deref(), Some("command"));
        assert!(err.message.starts_with("missing field `command`"), "{}", err.message);
        let err = parse("command = []").expect_err("empty");
        assert_eq!(err.key.as_deref(), Some("command"));
        assert!(err.message.contains("must name a program"), "{}", err.message);
    }

    #[test]
    fn unknown_key_is_named() {
        let err = parse("command = ['x']\njunit_path = 'y'").expect_err("unknown");
        assert_eq!(err.key.as_deref(), Some("junit_path"));
        assert!(err.message.starts_with("unknown field `junit_path`"), "{}", err.message);
    }

    #[test]
    fn rerun_needs_the_selectors_placeholder() {
        let err = parse("command = ['x']\nrerun = ['--filter']").expect_err("no placeholder");
        assert_eq!(err.key.as_deref(), Some("rerun"));
        parse("command = ['x']\nrerun = ['--filter=^({selectors})$']").expect("inside a longer element");
    }

    #[test]
    fn list_needs_a_rerun_template() {
        let err = parse("command = ['x']\nlist = ['x', '--list']").expect_err("no rerun");
        assert_eq!(err.key.as_deref(), Some("list"));
        parse("command = ['x']\nlist = ['x', '--list']\nrerun = ['--only={selectors}']").expect("valid");
    }

    #[test]
    fn escape_and_selector_are_checked() {
        let err = parse("command = ['x']\nescape = 'shell'").expect_err("unknown escape");
        assert_eq!(err.key.as_deref(), Some("escape"));
        let err = parse("command = ['x']\nselector = 'fixed'").expect_err("no field");
        assert_eq!(err.key.as_deref(), Some("selector"));
        let settings = parse("command = ['x']\nescape = 'regex'\nselector = '{classname}::{name}'").expect("valid");
        assert_eq!(settings.escape, Escape::Regex);
    }
}
