//! Which Playwright Test versions qaagent drives, and what each can do.
//!
//! The version comes from the installed package's `package.json`
//! ([`crate::install::installed_version`]), never from a Node.js start.
//!
//! - 1.44 is the oldest supported: it added `PLAYWRIGHT_JUNIT_OUTPUT_FILE`
//!   and `PLAYWRIGHT_JSON_OUTPUT_FILE`, which put both reports in the
//!   attempt's output directory. Older versions would write them into the
//!   project, or print them to the log.
//! - 1.56 added `--test-list`; before it, retries and `--rerun-failed`
//!   select tests by `file:line:column` (see [`crate::locations`]).
//! - 1.63 added `--add-reporter`, which keeps the config's reporters; before
//!   it, `--reporter` replaces them (see [`crate::reporters`]).

use std::fmt;

/// The oldest Playwright Test qaagent runs.
pub const MINIMUM: Version = Version { major: 1, minor: 44 };

/// The first Playwright Test with `--test-list`.
const TEST_LIST: Version = Version { major: 1, minor: 56 };

/// The first Playwright Test with `--add-reporter`.
const ADD_REPORTER: Version = Version { major: 1, minor: 63 };

/// A Playwright release, as far as features go (patch releases add none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// The major version.
    pub major: u32,
    /// The minor version.
    pub minor: u32,
}

impl Version {
    /// The version of a `package.json` `version` (`1.52.0`,
    /// `1.57.0-alpha-2025-10-01`); `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split(['.', '-']);
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(Version { major, minor })
    }

    /// Whether `--test-list` selects tests.
    pub fn has_test_list(self) -> bool {
        self >= TEST_LIST
    }

    /// Whether `--add-reporter` adds reporters to the config's.
    pub fn has_add_reporter(self) -> bool {
        self >= ADD_REPORTER
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Why qaagent cannot run the Playwright `installed` (a `package.json`
/// version): it is older than [`MINIMUM`]. `None` when it can, or when the
/// version does not read as one (then the newest behaviour is assumed).
pub fn unsupported(installed: &str) -> Option<String> {
    let version = Version::parse(installed)?;
    (version < MINIMUM).then(|| {
        format!(
            "Playwright Test {installed} is older than {MINIMUM}, the oldest qaagent runs \
             (it writes its JUnit and JSON reports where qaagent says only from {MINIMUM} on); \
             upgrade with `npm install -D @playwright/test@latest`"
        )
    })
}

/// What `qaagent config check` says about an installed Playwright.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checked {
    /// Why it cannot run at all (see [`unsupported`]).
    pub error: Option<String>,
    /// What qaagent does differently because of its age.
    pub warnings: Vec<String>,
}

/// The minimum version, as `config check` states it beside the installed one.
pub fn minimum_note() -> String {
    format!("qaagent supports {MINIMUM} or newer")
}

/// Checks the Playwright `installed` (a `package.json` version) for
/// `config check`.
pub fn check(installed: &str) -> Checked {
    let Some(version) = Version::parse(installed) else {
        return Checked::default();
    };
    if let Some(error) = unsupported(installed) {
        return Checked {
            error: Some(error),
            warnings: Vec::new(),
        };
    }
    let mut warnings = Vec::new();
    if !version.has_test_list() {
        warnings.push(format!(
            "Playwright {version} has no --test-list ({TEST_LIST}): retries and --rerun-failed select \
             the failed tests by file:line, after a `playwright test --list`"
        ));
    }
    if !version.has_add_reporter() {
        warnings.push(format!(
            "Playwright {version} has no --add-reporter ({ADD_REPORTER}): qaagent's reporters replace \
             the config's (its HTML report is not written)"
        ));
    }
    Checked { error: None, warnings }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_releases_and_prereleases() {
        assert_eq!(Version::parse("1.52.0"), Some(Version { major: 1, minor: 52 }));
        assert_eq!(
            Version::parse("1.57.0-alpha-2025-10-01"),
            Some(Version { major: 1, minor: 57 })
        );
        assert_eq!(Version::parse("next"), None);
        assert_eq!(Version::parse("1"), None);
    }

    #[test]
    fn features_by_version() {
        let v = |text| Version::parse(text).expect("a version");
        assert!(!v("1.55.1").has_test_list());
        assert!(v("1.56.0").has_test_list());
        assert!(!v("1.62.1").has_add_reporter());
        assert!(v("1.63.0").has_add_reporter());
        assert!(v("2.0.0").has_add_reporter());
    }

    #[test]
    fn check_warns_of_what_an_old_version_lacks() {
        assert_eq!(check("1.65.1"), Checked::default());
        assert_eq!(check("1.60.0").warnings.len(), 1);
        let old = check("1.52.0");
        assert_eq!(old.error, None);
        assert!(old.warnings[0].contains("file:line"), "{old:?}");
        assert!(old.warnings[1].contains("--add-reporter"), "{old:?}");
        let ancient = check("1.40.0");
        assert!(ancient.error.is_some() && ancient.warnings.is_empty(), "{ancient:?}");
    }

    #[test]
    fn only_versions_before_the_minimum_are_unsupported() {
        let message = unsupported("1.43.1").expect("too old");
        assert!(message.contains("1.43.1") && message.contains("1.44"), "{message}");
        assert_eq!(unsupported("1.44.0"), None);
        assert_eq!(unsupported("1.65.1"), None);
        assert_eq!(unsupported("unknown"), None);
    }
}
