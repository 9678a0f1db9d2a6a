//! The Playwright-specific keys of a `[tests.NAME]` table.

use serde::Deserialize;

/// Keys a `[tests.NAME]` table with `runner = "playwright"` may carry besides
/// the common suite keys.
///
/// ```toml
/// [tests.e2e]
/// path = "e2e"
/// project = ["chromium"]   # passed as --project=chromium
/// install = false          # never run `npm ci` when node_modules is missing
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaywrightSettings {
    /// Only run these Playwright projects (`--project NAME`, each).
    pub project: Option<Vec<String>>,
    /// Install the suite's dependencies (`npm ci` / `npm install`) when
    /// `node_modules` is missing; default true.
    pub install: Option<bool>,
}

impl PlaywrightSettings {
    /// Whether a missing `node_modules` may be installed.
    pub fn install_enabled(&self) -> bool {
        self.install.unwrap_or(true)
    }

    /// The projects to pass as `--project`, possibly none.
    pub fn projects(&self) -> &[String] {
        self.project.as_deref().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runner_api::parse_settings;

    #[test]
    fn defaults_install_and_all_projects() {
        let settings: PlaywrightSettings = parse_settings(&toml::Table::new()).expect("empty table is valid");
        assert!(settings.install_enabled());
        assert!(settings.projects().is_empty());
    }

    #[test]
    fn reads_projects_and_install() {
        let table: toml::Table = toml::from_str("project = ['chromium', 'api']\ninstall = false").expect("valid toml");
        let settings: PlaywrightSettings = parse_settings(&table).expect("valid settings");
        assert_eq!(settings.projects(), ["chromium".to_string(), "api".to_string()]);
        assert!(!settings.install_enabled());
    }

    #[test]
    fn unknown_key_is_named() {
        let table: toml::Table = toml::from_str("projects = ['chromium']").expect("valid toml");
        let err = parse_settings::<PlaywrightSettings>(&table).expect_err("unknown key");
        assert_eq!(err.key.as_deref(), Some("projects"));
    }

    #[test]
    fn project_must_be_a_list() {
        let table: toml::Table = toml::from_str("project = 'chromium'").expect("valid toml");
        assert!(parse_settings::<PlaywrightSettings>(&table).is_err());
    }
}
