//! Validation of one `[tests.NAME]` table: its common keys are checked here,
//! every other key goes to the suite's runner, whose complaint is located at
//! the key it names.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::raw::{closest, unknown_field, ConfigText, RawSuite};
use super::validate::seconds;
use super::{default_runner, ConfigError, SuiteConfig, COMMON_SUITE_KEYS};
use crate::registry::Registry;

#[derive(Default)]
struct SuiteKeys {
    enabled: Option<bool>,
    /// (key span, value).
    path: Option<(Range<usize>, Spanned<String>)>,
    output_dir: Option<(Range<usize>, Spanned<String>)>,
    runner: Option<Spanned<String>>,
    timeout: Option<Duration>,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    split: Option<crate::split::Split>,
    settings: toml::Table,
    /// Where each settings key is written, to point at the one a runner rejects.
    settings_spans: BTreeMap<String, Range<usize>>,
}

pub(super) fn validate_suite(
    src: &ConfigText<'_>,
    name: Spanned<String>,
    table: Spanned<RawSuite>,
    project_dir: &Path,
    registry: &Registry,
) -> Result<SuiteConfig, ConfigError> {
    let name_span = name.span();
    let name = name.into_inner();
    check_suite_name(src, &name, name_span)?;
    let header = table.span();
    let keys = suite_keys(src, &name, table.into_inner())?;
    let enabled = keys.enabled.unwrap_or(true);

    let runner = resolve_runner(src, &name, header.clone(), keys.runner, enabled, registry)?;
    if let Some(implementation) = registry.get(&runner) {
        if let Err(err) = implementation.check_settings(&keys.settings) {
            return Err(settings_error(
                src,
                &name,
                &runner,
                header.clone(),
                &keys.settings_spans,
                err,
            ));
        }
    }

    // After the runner's keys: a misspelt `pth` is an unknown key, not a missing path.
    let path = match (keys.path, keys.output_dir) {
        (Some(_), Some((alias_span, _))) => {
            return Err(src.invalid(
                alias_span,
                format!("[tests.{name}] has both path and output_dir"),
                Some("keep only path (output_dir is its old name)".to_string()),
            ));
        }
        (Some((_, path)), None) | (None, Some((_, path))) => path.into_inner(),
        (None, None) => {
            return Err(src.invalid(
                header,
                format!("[tests.{name}] has no path"),
                Some(format!(
                    "add path = \"...\" to [tests.{name}] (the suite's directory, relative to {})",
                    project_dir.display()
                )),
            ));
        }
    };

    Ok(SuiteConfig {
        path: clean_join(project_dir, &path),
        path_display: path,
        name,
        enabled,
        runner,
        timeout: keys.timeout,
        args: keys.args,
        env: keys.env,
        split: keys.split,
        settings: keys.settings,
    })
}

/// The longest suite name, in bytes: a name becomes a directory name and a part of
/// file names qaagent and the tools make, and file systems stop at 255 bytes.
const MAX_SUITE_NAME: usize = 100;

/// Suite names become directory names (`<out>/<suite>/`, `artifacts/<suite>/`),
/// so they must be plain file names, and short ones.
fn check_suite_name(src: &ConfigText<'_>, name: &str, span: Range<usize>) -> Result<(), ConfigError> {
    if name.len() > MAX_SUITE_NAME {
        return Err(src.invalid(
            span,
            format!("suite name is {} bytes long, more than {MAX_SUITE_NAME}", name.len()),
            Some("give the suite a shorter name; it becomes a directory name".into()),
        ));
    }
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if plain {
        return Ok(());
    }
    Err(src.invalid(
        span,
        format!("invalid suite name {name:?}"),
        Some("name suites with letters, digits, '-', '_' and '.' (not first); the name becomes a directory".into()),
    ))
}

/// Sorts the keys of a suite table into common keys (type-checked) and runner settings.
fn suite_keys(src: &ConfigText<'_>, suite: &str, table: RawSuite) -> Result<SuiteKeys, ConfigError> {
    let mut keys = SuiteKeys::default();
    for (key, value) in table {
        let key_span = key.span();
        let key = key.into_inner();
        let value_span = value.span();
        let wrong_type = |expected: &str, hint: String| {
            src.invalid(
                value_span.clone(),
                format!(
                    "[tests.{suite}] {key} must be {expected}, found {}",
                    describe(src, value.get_ref(), value_span.clone())
                ),
                Some(hint),
            )
        };
        match key.as_str() {
            "enabled" => match value.get_ref() {
                toml::Value::Boolean(enabled) => keys.enabled = Some(*enabled),
                _ => {
                    return Err(wrong_type(
                        "true or false",
                        "write enabled = true or enabled = false".into(),
                    ))
                }
            },
            "path" | "output_dir" => match value.get_ref() {
                toml::Value::String(path) => {
                    let spanned = (key_span, Spanned::new(value_span.clone(), path.clone()));
                    if key == "path" {
                        keys.path = Some(spanned);
                    } else {
                        keys.output_dir = Some(spanned);
                    }
                }
                _ => {
                    return Err(wrong_type(
                        "a string",
                        format!("write {key} = \"tests/{suite}\" (a directory)"),
                    ))
                }
            },
            "runner" => match value.get_ref() {
                toml::Value::String(runner) => keys.runner = Some(Spanned::new(value_span.clone(), runner.clone())),
                _ => {
                    return Err(wrong_type(
                        "a string",
                        "write runner = \"pytest\" (a runner's name)".into(),
                    ))
                }
            },
            "timeout" => {
                let what = format!("[tests.{suite}] timeout");
                keys.timeout = Some(seconds(
                    src,
                    &value,
                    &what,
                    false,
                    "write timeout = 120 (seconds, greater than 0), or remove it to use [run] timeout",
                )?);
            }
            "args" => {
                let strings = match value.get_ref() {
                    toml::Value::Array(items) => items.iter().map(|item| item.as_str().map(str::to_string)).collect(),
                    _ => None,
                };
                match strings {
                    Some(args) => keys.args = args,
                    None => {
                        return Err(wrong_type(
                            "an array of strings",
                            "write args = [\"-x\", \"--maxfail=2\"] (each argument quoted)".into(),
                        ));
                    }
                }
            }
            "env" => {
                let toml::Value::Table(vars) = value.get_ref() else {
                    return Err(wrong_type(
                        "a table of strings",
                        "write env = { KEY = \"value\" }".into(),
                    ));
                };
                for (var, var_value) in vars {
                    let Some(var_value) = var_value.as_str() else {
                        return Err(src.invalid(
                            value_span.clone(),
                            format!(
                                "[tests.{suite}] env {var} must be a string, found {}",
                                var_value.type_str()
                            ),
                            Some(format!("quote the value: {var} = \"{var_value}\"")),
                        ));
                    };
                    // A name with `=` would be read back as another name and
                    // value; a NUL cannot be passed to a process at all.
                    if var.is_empty() || var.contains(['=', '\0']) || var_value.contains('\0') {
                        return Err(src.invalid(
                            value_span.clone(),
                            format!("[tests.{suite}] env {var:?}: a variable's name must be non-empty without `=`, and neither name nor value may hold a NUL byte"),
                            None,
                        ));
                    }
                    keys.env.insert(var.clone(), var_value.to_string());
                }
            }
            "split" => {
                match crate::split::Split::from_toml(value.get_ref()) {
                    Some(split) => keys.split = Some(split),
                    None => return Err(wrong_type(
                        "a number of processes (1 to 256) or \"auto\"",
                        "write split = 2, or split = \"auto\" to let qaagent choose from the cores and past durations"
                            .into(),
                    )),
                }
            }
            _ => {
                keys.settings_spans.insert(key.clone(), key_span);
                keys.settings.insert(key, value.into_inner());
            }
        }
    }
    Ok(keys)
}

/// "string \"yes\"", "integer 3", "array": a value's type, with the value when short.
fn describe(src: &ConfigText<'_>, value: &toml::Value, span: Range<usize>) -> String {
    match value {
        toml::Value::Array(_) | toml::Value::Table(_) => value.type_str().to_string(),
        _ => format!("{} {}", value.type_str(), src.written(span)),
    }
}

fn resolve_runner(
    src: &ConfigText<'_>,
    suite: &str,
    header: Range<usize>,
    explicit: Option<Spanned<String>>,
    enabled: bool,
    registry: &Registry,
) -> Result<String, ConfigError> {
    let known = || {
        if registry.is_empty() {
            "no runners are registered in this build".to_string()
        } else {
            format!("use one of: {}", registry.names().join(", "))
        }
    };
    let (runner, span) = match explicit {
        Some(runner) => {
            let span = runner.span();
            (runner.into_inner(), span)
        }
        None => match default_runner(suite) {
            Some(runner) => (runner.to_string(), header),
            None => {
                let one_of = if registry.is_empty() {
                    String::new()
                } else {
                    format!(" (one of: {})", registry.names().join(", "))
                };
                return Err(src.invalid(
                    header,
                    format!("[tests.{suite}] has no runner, and only unit, behave and e2e have a default"),
                    Some(format!("add runner = \"...\" to [tests.{suite}]{one_of}")),
                ));
            }
        },
    };
    if registry.contains(&runner) {
        return Ok(runner);
    }
    let disabled = if enabled {
        ""
    } else {
        " (the suite is disabled, but its runner is still checked)"
    };
    Err(src.invalid(
        span,
        format!("[tests.{suite}] unknown runner `{runner}`{disabled}"),
        Some(known()),
    ))
}

/// A runner's [`SettingsError`](runner_api::SettingsError), located at the key it names
/// when that key is in the table, else at the table.
fn settings_error(
    src: &ConfigText<'_>,
    suite: &str,
    runner: &str,
    header: Range<usize>,
    spans: &BTreeMap<String, Range<usize>>,
    err: runner_api::SettingsError,
) -> ConfigError {
    let located = err
        .key
        .as_ref()
        .and_then(|key| spans.get(key).map(|span| (key, span.clone())));
    let span = located.as_ref().map_or(header, |(_, span)| span.clone());
    let common = COMMON_SUITE_KEYS.join(", ");
    // Only a top-level unknown key gets the "takes: …" hint; a nested one's message names its path.
    let top_level_unknown = unknown_field(&err.message).filter(|(field, _)| err.key.as_deref() == Some(*field));
    if let Some((key, expected)) = top_level_unknown {
        let takes = match &expected {
            Some(keys) => format!("runner `{runner}` takes: {}", keys.join(", ")),
            None => format!("runner `{runner}` takes no other keys"),
        };
        let mut known: Vec<&str> = COMMON_SUITE_KEYS.to_vec();
        known.extend(expected.iter().flatten().copied());
        let near = match closest(key, &known) {
            Some(near) => format!("did you mean `{near}`? "),
            None => String::new(),
        };
        return src.invalid(
            span,
            format!("[tests.{suite}] unknown key `{key}` for runner `{runner}`"),
            Some(format!("{near}{takes}; every suite takes: {common}")),
        );
    }
    let message = match located {
        Some((key, _)) => format!("[tests.{suite}] {key}: {} (runner `{runner}`)", err.message),
        None => format!("[tests.{suite}] rejected by runner `{runner}`: {}", err.message),
    };
    src.invalid(span, message, None)
}

/// `base.join(path)` without `.` segments (`..` is kept: it may cross a symlink).
fn clean_join(base: &Path, path: &str) -> PathBuf {
    base.join(path)
        .components()
        .filter(|component| !matches!(component, Component::CurDir))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_join_drops_current_dir_segments() {
        assert_eq!(
            clean_join(Path::new("/p"), "./tests/./unit"),
            PathBuf::from("/p/tests/unit")
        );
        assert_eq!(clean_join(Path::new("/p"), "/abs/e2e"), PathBuf::from("/abs/e2e"));
        assert_eq!(clean_join(Path::new("/p"), "../x"), PathBuf::from("/p/../x"));
    }
}
