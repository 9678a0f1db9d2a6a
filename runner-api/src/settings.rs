//! Runner-specific settings: the keys of a `[tests.NAME]` table that are not
//! common suite keys, deserialized by the runner into its own type.

use serde::de::DeserializeOwned;

/// A runner rejected its settings. `key` names the offending key when serde
/// says which, so the config layer can point at its line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SettingsError {
    /// The key at fault, when known.
    pub key: Option<String>,
    /// What is wrong, in serde's words.
    pub message: String,
}

/// Deserializes `table` into the runner's settings type `T`. Use
/// `#[serde(deny_unknown_fields)]` on `T` so a key nobody accepts is an error.
pub fn parse_settings<T: DeserializeOwned>(table: &toml::Table) -> Result<T, SettingsError> {
    toml::Value::Table(table.clone()).try_into::<T>().map_err(|err| {
        let message = err.message().trim().to_string();
        SettingsError {
            key: key_in_message(&message),
            message,
        }
    })
}

/// serde names the key in backticks: "unknown field `pyhton`, expected …",
/// "missing field `command`", "invalid type: … for key `args`".
fn key_in_message(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialization is under test")]
    struct Settings {
        python: Option<String>,
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
