//! Runner-specific settings: the keys of a `[tests.NAME]` table that are not
//! common suite keys, deserialized by the runner into its own type.

use std::any::Any;
use std::sync::{Arc, Mutex, PoisonError};

use serde::de::DeserializeOwned;

/// A runner rejected its settings. `key` names the offending key when serde
/// says which, so the config layer can point at its line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SettingsError {
    /// The table's own (top-level) key at fault, when known; for a fault
    /// deeper inside that key's value, `message` ends with its path.
    pub key: Option<String>,
    /// What is wrong, in serde's words.
    pub message: String,
}

/// Deserializes `table` into the runner's settings type `T`. Use
/// `#[serde(deny_unknown_fields)]` on `T` so a key nobody accepts is an error.
/// In [`Runner::check_settings`](crate::Runner::check_settings); elsewhere
/// [`SuiteContext::settings_as`](crate::SuiteContext::settings_as) parses
/// once per suite.
pub fn parse_settings<T: DeserializeOwned>(table: &toml::Table) -> Result<T, SettingsError> {
    toml::Value::Table(table.clone()).try_into::<T>().map_err(|err| {
        let message = err.message().trim().to_string();
        let path = key_path(&err.to_string());
        settings_error(message, path)
    })
}

/// Names the table's key at fault. toml reports the path of the value that
/// failed ("in `args`", "in `browser.name`") but not the field a table lacks
/// or refuses, which serde names in the message instead ("unknown field
/// `pyhton`, …", "missing field `command`"); a nested fault's path is added to
/// the message so it stays precise.
fn settings_error(message: String, path: Option<String>) -> SettingsError {
    let field = field_in_message(&message);
    match path {
        Some(path) => {
            let key = path.split('.').next().unwrap_or(&path).to_string();
            // `in `python`` adds nothing to "invalid type: …" for key python; a nested
            // path, or the table an unknown/missing field belongs to, does.
            let message = if field.is_none() && key == path {
                message
            } else {
                format!("{message} in `{path}`")
            };
            SettingsError {
                key: Some(key),
                message,
            }
        }
        None => SettingsError { key: field, message },
    }
}

/// One suite's settings parsed into a runner's type, shared by every clone
/// of its [`SuiteContext`](crate::SuiteContext) (its attempts and its version
/// probe), so a runner parses its table once per suite, not once per method.
/// The table it was parsed from is kept too: a context whose table was
/// changed since parses again.
#[derive(Clone, Default)]
pub(crate) struct ParsedSettings {
    cell: Arc<Mutex<Option<Parsed>>>,
}

/// A table and what it was parsed into.
type Parsed = (toml::Table, Arc<dyn Any + Send + Sync>);

impl ParsedSettings {
    /// `table` parsed by `parse` into `T`, from the cache when `table` and
    /// `T` are those of the last successful parse.
    pub(crate) fn get<T, F>(&self, table: &toml::Table, parse: F) -> Result<Arc<T>, SettingsError>
    where
        T: Send + Sync + 'static,
        F: FnOnce(&toml::Table) -> Result<T, SettingsError>,
    {
        // A poisoned lock only means a parse panicked; the cache is still sound.
        let mut cell = self.cell.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((parsed_from, value)) = cell.as_ref() {
            if parsed_from == table {
                if let Ok(value) = Arc::clone(value).downcast::<T>() {
                    return Ok(value);
                }
            }
        }
        let value = Arc::new(parse(table)?);
        *cell = Some((table.clone(), Arc::clone(&value) as Arc<dyn Any + Send + Sync>));
        Ok(value)
    }
}

impl std::fmt::Debug for ParsedSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ParsedSettings")
    }
}

/// The key path toml appends to a value-level error's Display: a last line "in `a.b`".
fn key_path(display: &str) -> Option<String> {
    let line = display.trim_end().lines().last()?;
    let path = line.strip_prefix("in `")?.strip_suffix('`')?;
    (!path.is_empty()).then(|| path.to_string())
}

/// The field serde names in "unknown field `x`, …" or "missing field `x`".
fn field_in_message(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("missing field `"))?;
    let len = rest.find('`')?;
    Some(rest[..len].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialization is under test")]
    struct Settings {
        python: Option<String>,
        browser: Option<Browser>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialization is under test")]
    struct Browser {
        name: String,
    }

    fn error(text: &str) -> SettingsError {
        let table: toml::Table = toml::from_str(text).expect("valid toml");
        parse_settings::<Settings>(&table).expect_err("invalid settings")
    }

    #[test]
    fn wrong_type_names_the_key_not_the_value() {
        let err = error("python = 3");
        assert_eq!(err.key.as_deref(), Some("python"));
        assert_eq!(err.message, "invalid type: integer `3`, expected a string");
    }

    #[test]
    fn nested_fault_names_the_top_level_key_and_the_path() {
        let err = error("browser = { name = 1 }");
        assert_eq!(err.key.as_deref(), Some("browser"));
        assert_eq!(
            err.message,
            "invalid type: integer `1`, expected a string in `browser.name`"
        );

        let err = error("browser = { nmae = 'x' }");
        assert_eq!(err.key.as_deref(), Some("browser"));
        assert!(err.message.starts_with("unknown field `nmae`"), "{}", err.message);
        assert!(err.message.ends_with(" in `browser`"), "{}", err.message);
    }

    #[test]
    fn missing_field_is_named() {
        let err = error("browser = {}");
        assert_eq!(err.key.as_deref(), Some("browser"));
        assert!(err.message.starts_with("missing field `name`"), "{}", err.message);
    }

    #[test]
    fn unknown_key_is_named() {
        let table: toml::Table = toml::from_str("pyhton = 'x'").expect("valid toml");
        let err = parse_settings::<Settings>(&table).expect_err("unknown key");
        assert_eq!(err.key.as_deref(), Some("pyhton"));
        assert!(err.message.contains("unknown field"), "{}", err.message);
    }

    #[test]
    fn a_suites_settings_are_parsed_once_for_all_its_clones() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let parses = AtomicUsize::new(0);
        let counted = |table: &toml::Table| {
            parses.fetch_add(1, Ordering::SeqCst);
            parse_settings::<Settings>(table)
        };
        let mut ctx = crate::SuiteContext::new("unit", "/", "/", "/");
        ctx.settings = toml::from_str("python = 'x'").expect("valid toml");
        let attempt = ctx.clone();
        let first = ctx.settings_with(counted).expect("valid");
        let again = attempt.settings_with(counted).expect("valid");
        assert!(Arc::ptr_eq(&first, &again), "one parse, shared");
        assert_eq!(parses.load(Ordering::SeqCst), 1);

        let mut changed = attempt.clone();
        changed.settings = toml::from_str("python = 'y'").expect("valid toml");
        changed.settings_with(counted).expect("valid");
        assert_eq!(parses.load(Ordering::SeqCst), 2, "a changed table is parsed again");
        assert!(
            changed.settings_as::<Browserless>().is_ok(),
            "another type is parsed for itself"
        );
    }

    #[derive(Debug, serde::Deserialize)]
    struct Browserless {}

    #[test]
    fn valid_settings_parse() {
        let table: toml::Table = toml::from_str("python = 'x'").expect("valid toml");
        assert!(parse_settings::<Settings>(&table).is_ok());
    }
}
