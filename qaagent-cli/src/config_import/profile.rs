//! The Python qaagent's profile (`.qaagent.yaml`) turned into `.qaagent.toml`
//! text: what has an equivalent is written, everything else is listed as
//! dropped, never silently lost.
//!
//! The profile's shape is the Python tool's `QAAgentProfile`: `project
//! {name, …}`, `app {ENV: {base_url, …}}` (environments; `environments` is
//! read as well), `tests {unit, behave, e2e: {enabled, output_dir, framework,
//! …}, data, output_dir}`, `run {retry_count, timeout, suite_order,
//! parallel, max_workers}`, and keys of its other features (`openapi`,
//! `risk_assessment`, `llm`, `exclude`, `doc`) that a test runner has no use
//! for. A suite the profile does not mention gets the Python tool's default
//! (`tests/qaagent/NAME`; `e2e` disabled) only where that directory exists,
//! since a missing path fails the suite here rather than being skipped.

use std::fmt::Write as _;
use std::path::Path;

use orchestrator::config::default_runner;
use serde_norway::{Mapping, Value};

use crate::cmd_init::toml_string;

/// The suites the Python qaagent knows, in its default order.
const SUITES: [&str; 3] = ["unit", "behave", "e2e"];

/// Why a profile cannot be imported.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProfileError {
    /// The text is not YAML (the parser's message says where).
    #[error("not valid YAML: {0}")]
    Syntax(String),
    /// A key holds a value of the wrong shape.
    #[error("`{key}`: {message}")]
    Shape {
        /// The key's dotted path (`run.retry_count`).
        key: String,
        /// What was expected and found.
        message: String,
    },
}

/// A profile converted: the TOML text, what had no equivalent, and what the
/// user should know about what was written.
#[derive(Debug, Default)]
pub(crate) struct Imported {
    pub(crate) text: String,
    /// Dotted keys of the profile that were not carried over, each with why.
    pub(crate) dropped: Vec<String>,
    /// Things to check in what was written.
    pub(crate) notes: Vec<String>,
}

/// One suite to write.
struct Suite {
    name: &'static str,
    enabled: bool,
    path: String,
    runner: Option<String>,
}

/// Converts the profile `text`; `project_dir` is where its paths are relative
/// to, and `has_runner` says which runners this binary has.
pub(crate) fn convert(
    text: &str,
    project_dir: &Path,
    has_runner: &dyn Fn(&str) -> bool,
) -> Result<Imported, ProfileError> {
    let root: Value = serde_norway::from_str(text).map_err(|err| ProfileError::Syntax(err.to_string()))?;
    let root = match root {
        Value::Mapping(map) => map,
        Value::Null => Mapping::new(),
        other => {
            return Err(shape(
                "(top level)",
                "a mapping of project:, app:, tests:, run:",
                &other,
            ))
        }
    };
    let mut imported = Imported::default();
    let mut project = None;
    let mut environments = Vec::new();
    let mut tests = None;
    let mut run = None;
    for (key, value) in &root {
        let key = key_text(key);
        match key.as_str() {
            "project" => project = Some(value),
            "app" | "environments" => environments.push((key, value)),
            "tests" => tests = Some(value),
            "run" => run = Some(value),
            _ if value.is_null() => {}
            _ => imported.dropped.push(format!("{key} (no equivalent in qaagent)")),
        }
    }

    let name = project_name(project, &mut imported)?;
    let _ = writeln!(imported.text, "\n[project]\nname = {}", toml_string(&name));
    for (key, value) in environments {
        write_environments(&key, value, &mut imported)?;
    }
    let suites = suites(tests, project_dir, has_runner, &mut imported)?;
    write_run(run, &suites, &mut imported)?;
    for suite in &suites {
        let _ = writeln!(imported.text, "\n[tests.{}]", suite.name);
        let _ = writeln!(imported.text, "enabled = {}", suite.enabled);
        let _ = writeln!(imported.text, "path = {}", toml_string(&suite.path));
        if let Some(runner) = &suite.runner {
            let _ = writeln!(imported.text, "runner = {}", toml_string(runner));
        }
        if suite.enabled && !project_dir.join(&suite.path).exists() {
            imported.notes.push(format!(
                "tests.{}: its path {} does not exist; `run-all` fails an enabled suite without its path: create it, \
                 or set enabled = false",
                suite.name, suite.path
            ));
        }
    }
    let mut header = String::from("# Imported by `qaagent config import` from the Python qaagent's profile.\n");
    if !imported.dropped.is_empty() {
        header.push_str("# Not imported:\n");
        for dropped in &imported.dropped {
            // A comment holds no control characters; a profile's keys may.
            let line: String = dropped.chars().map(|c| if c.is_control() { '?' } else { c }).collect();
            let _ = writeln!(header, "#   {line}");
        }
    }
    imported.text.insert_str(0, &header);
    Ok(imported)
}

/// `project.name`, required; the other keys of `project` are dropped.
fn project_name(project: Option<&Value>, imported: &mut Imported) -> Result<String, ProfileError> {
    let map = match project {
        Some(Value::Mapping(map)) => map,
        Some(other) if !other.is_null() => return Err(shape("project", "a mapping with a name", other)),
        _ => return Err(missing("project.name", "the Python qaagent requires it too")),
    };
    let mut name = None;
    for (key, value) in map {
        match key_text(key).as_str() {
            "name" => name = Some(string("project.name", value)?),
            other => drop_key(imported, &format!("project.{other}"), value),
        }
    }
    name.filter(|name| !name.trim().is_empty())
        .ok_or_else(|| missing("project.name", "the Python qaagent requires it too"))
}

/// `[app.ENV]` tables: the base URL of each environment.
fn write_environments(key: &str, value: &Value, imported: &mut Imported) -> Result<(), ProfileError> {
    let map = match value {
        Value::Mapping(map) => map,
        Value::Null => return Ok(()),
        other => return Err(shape(key, "a mapping of environment names", other)),
    };
    for (env, settings) in map {
        let env = key_text(env);
        let path = format!("{key}.{env}");
        let settings = match settings {
            Value::Mapping(settings) => settings,
            Value::Null => continue,
            other => return Err(shape(&path, "a mapping with base_url", other)),
        };
        let mut base_url = None;
        for (setting, value) in settings {
            match key_text(setting).as_str() {
                "base_url" if !value.is_null() => base_url = Some(string(&format!("{path}.base_url"), value)?),
                other => drop_key(imported, &format!("{path}.{other}"), value),
            }
        }
        match base_url {
            Some(url) => {
                let _ = writeln!(
                    imported.text,
                    "\n[app.{}]\nbase_url = {}",
                    table_key(&env),
                    toml_string(&url)
                );
            }
            None => imported.dropped.push(format!("{path} (no base_url)")),
        }
    }
    Ok(())
}

/// The suites to write, in the Python qaagent's order.
fn suites(
    tests: Option<&Value>,
    project_dir: &Path,
    has_runner: &dyn Fn(&str) -> bool,
    imported: &mut Imported,
) -> Result<Vec<Suite>, ProfileError> {
    let empty = Mapping::new();
    let map = match tests {
        Some(Value::Mapping(map)) => map,
        None | Some(Value::Null) => &empty,
        Some(other) => return Err(shape("tests", "a mapping of suites", other)),
    };
    let mut given: Vec<(&'static str, &Value)> = Vec::new();
    for (key, value) in map {
        let key = key_text(key);
        match SUITES.iter().find(|suite| **suite == key) {
            Some(suite) => given.push((suite, value)),
            None if key == "data" => drop_key(imported, "tests.data", value),
            None => drop_key(imported, &format!("tests.{key}"), value),
        }
    }
    let mut suites = Vec::new();
    for name in SUITES {
        let Some((_, value)) = given.iter().find(|(suite, _)| *suite == name) else {
            // The Python qaagent's default, where it would find something.
            let path = format!("tests/qaagent/{name}");
            if project_dir.join(&path).is_dir() {
                suites.push(Suite {
                    name,
                    enabled: name != "e2e",
                    path,
                    runner: None,
                });
            }
            continue;
        };
        let key = format!("tests.{name}");
        let settings = match value {
            Value::Mapping(settings) => settings,
            // `unit: null` is how a Python profile removes a suite.
            Value::Null => continue,
            other => return Err(shape(&key, "a mapping with output_dir and enabled", other)),
        };
        let mut suite = Suite {
            name,
            enabled: true,
            path: String::new(),
            runner: None,
        };
        let mut foreign_framework = false;
        for (setting, value) in settings {
            let setting = key_text(setting);
            let path = format!("{key}.{setting}");
            match setting.as_str() {
                "enabled" => suite.enabled = boolean(&path, value)?,
                "output_dir" | "path" => suite.path = string(&path, value)?,
                "framework" if value.is_null() => {}
                "framework" => {
                    let framework = string(&path, value)?;
                    if default_runner(name) != Some(framework.as_str()) {
                        if has_runner(&framework) {
                            suite.runner = Some(framework);
                        } else {
                            foreign_framework = true;
                            imported.dropped.push(format!(
                                "{path} = {framework:?} (this qaagent has no such runner; the suite is written \
                                 disabled rather than run by another tool)"
                            ));
                        }
                    }
                }
                _ => drop_key(imported, &path, value),
            }
        }
        if suite.path.trim().is_empty() {
            return Err(missing(&format!("{key}.output_dir"), "where the suite's tests are"));
        }
        suite.enabled &= !foreign_framework;
        suites.push(suite);
    }
    Ok(suites)
}

/// The `[run]` table; `suite_order` keeps only the suites written.
fn write_run(run: Option<&Value>, suites: &[Suite], imported: &mut Imported) -> Result<(), ProfileError> {
    let empty = Mapping::new();
    let map = match run {
        Some(Value::Mapping(map)) => map,
        None | Some(Value::Null) => &empty,
        Some(other) => return Err(shape("run", "a mapping", other)),
    };
    let mut lines = Vec::new();
    let mut order: Option<Vec<String>> = None;
    for (key, value) in map {
        let key = key_text(key);
        let path = format!("run.{key}");
        match key.as_str() {
            _ if value.is_null() => {}
            "parallel" => lines.push(format!("parallel = {}", boolean(&path, value)?)),
            "max_workers" | "retry_count" => lines.push(format!("{key} = {}", whole(&path, value)?)),
            "timeout" => lines.push(format!("timeout = {}", seconds(&path, value)?)),
            "suite_order" => {
                let Value::Sequence(items) = value else {
                    return Err(shape(&path, "a list of suite names", value));
                };
                order = Some(items.iter().map(|item| string(&path, item)).collect::<Result<_, _>>()?);
            }
            _ => drop_key(imported, &path, value),
        }
    }
    let order = order.unwrap_or_else(|| SUITES.iter().map(|suite| suite.to_string()).collect());
    let (kept, left): (Vec<String>, Vec<String>) = order
        .into_iter()
        .partition(|name| suites.iter().any(|suite| suite.name == name));
    for name in left {
        imported.notes.push(format!(
            "run.suite_order: `{name}` left out: the profile defines no such suite"
        ));
    }
    let kept: Vec<String> = kept.iter().map(|name| toml_string(name)).collect();
    lines.push(format!("suite_order = [{}]", kept.join(", ")));
    let _ = writeln!(imported.text, "\n[run]\n{}", lines.join("\n"));
    Ok(())
}

/// Notes `key` as dropped, unless it holds nothing.
fn drop_key(imported: &mut Imported, key: &str, value: &Value) {
    if !value.is_null() {
        imported.dropped.push(format!("{key} (no equivalent in qaagent)"));
    }
}

/// A mapping key as text (YAML keys may be numbers or booleans too).
fn key_text(key: &Value) -> String {
    match key {
        Value::String(text) => text.clone(),
        other => serde_norway::to_string(other)
            .map(|text| text.trim().to_string())
            .unwrap_or_default(),
    }
}

/// `name` as a TOML table key: bare when it can be, else quoted.
fn table_key(name: &str) -> String {
    let bare = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        name.to_string()
    } else {
        toml_string(name)
    }
}

fn string(key: &str, value: &Value) -> Result<String, ProfileError> {
    match value {
        Value::String(text) => Ok(text.clone()),
        other => Err(shape(key, "a string", other)),
    }
}

fn boolean(key: &str, value: &Value) -> Result<bool, ProfileError> {
    value.as_bool().ok_or_else(|| shape(key, "true or false", value))
}

fn whole(key: &str, value: &Value) -> Result<u64, ProfileError> {
    value.as_u64().ok_or_else(|| shape(key, "a whole number", value))
}

/// A number of seconds, written as TOML accepts it.
fn seconds(key: &str, value: &Value) -> Result<String, ProfileError> {
    match value {
        Value::Number(number) if number.as_f64().is_some_and(|s| s.is_finite()) => Ok(number.to_string()),
        other => Err(shape(key, "a number of seconds", other)),
    }
}

fn shape(key: &str, expected: &str, found: &Value) -> ProfileError {
    let found = match found {
        Value::Null => "nothing",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    };
    ProfileError::Shape {
        key: key.to_string(),
        message: format!("expected {expected}, found {found}"),
    }
}

fn missing(key: &str, why: &str) -> ProfileError {
    ProfileError::Shape {
        key: key.to_string(),
        message: format!("missing ({why})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(text: &str, dir: &Path) -> Imported {
        convert(text, dir, &|runner| runner == "command").expect("converts")
    }

    #[test]
    fn unmentioned_suites_get_the_python_default_only_where_it_exists() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("tests/qaagent/behave")).expect("mkdir");
        let imported = import("project: {name: shop}\n", dir.path());
        assert!(
            imported
                .text
                .contains("[tests.behave]\nenabled = true\npath = \"tests/qaagent/behave\""),
            "{}",
            imported.text
        );
        assert!(!imported.text.contains("[tests.unit]"), "{}", imported.text);
        assert!(
            imported.text.contains("suite_order = [\"behave\"]"),
            "{}",
            imported.text
        );
    }

    #[test]
    fn a_null_suite_is_removed_and_a_known_framework_becomes_the_runner() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = "project: {name: shop}\ntests:\n  unit: null\n  behave: {output_dir: f, framework: command}\n  \
                    e2e: {output_dir: e, framework: cypress}\n";
        let imported = import(text, dir.path());
        assert!(!imported.text.contains("[tests.unit]"), "{}", imported.text);
        assert!(imported.text.contains("runner = \"command\""), "{}", imported.text);
        let e2e = imported.text.split("[tests.e2e]").nth(1).expect("e2e suite");
        assert!(
            e2e.contains("enabled = false"),
            "not run by another tool: {}",
            imported.text
        );
        assert!(
            imported
                .dropped
                .iter()
                .any(|d| d.starts_with("tests.e2e.framework = \"cypress\"")),
            "{:?}",
            imported.dropped
        );
    }
}
