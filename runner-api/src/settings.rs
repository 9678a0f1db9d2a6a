//! Runner-specific settings: the keys of a `[tests.NAME]` table that are not
//! common suite keys, deserialized by the runner into its own type.

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
    fn valid_settings_parse() {
        let table: toml::Table = toml::from_str("python = 'x'").expect("valid toml");
        assert!(parse_settings::<Settings>(&table).is_ok());
    }
}
