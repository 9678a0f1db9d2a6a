//! The runner registry: which [`Runner`]s a binary was built with, by the name
//! users write as `runner = "…"` in a `[tests.*]` table.
//!
//! The orchestrator does not depend on any runner crate, so the registry starts
//! empty; the binary (qaagent-cli, or a third party's own) registers the
//! runners it ships.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use runner_api::Runner;

/// Runners by name. Cheap to clone: runners are shared behind [`Arc`].
#[derive(Clone, Default)]
pub struct Registry {
    // A BTreeMap so `names()` comes out sorted for error messages and `--help`-like listings.
    runners: BTreeMap<String, Arc<dyn Runner>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `runner` under [`Runner::name`], replacing any runner registered under
    /// the same name (so a binary can override a built-in).
    pub fn register(&mut self, runner: impl Runner + 'static) {
        self.register_shared(Arc::new(runner));
    }

    /// Like [`register`](Self::register), for a runner that is already shared.
    pub fn register_shared(&mut self, runner: Arc<dyn Runner>) {
        let name = runner.name().to_string();
        if self.runners.insert(name.clone(), runner).is_some() {
            log::debug!("runner `{name}` replaced in the registry");
        }
    }

    /// The runner registered as `name`, if any.
    pub fn get(&self, name: &str) -> Option<Arc<dyn Runner>> {
        self.runners.get(name).cloned()
    }

    /// Whether a runner is registered as `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.runners.contains_key(name)
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.runners.keys().map(String::as_str).collect()
    }

    /// Whether no runner is registered.
    pub fn is_empty(&self) -> bool {
        self.runners.is_empty()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry").field("runners", &self.names()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runner_api::{RunnerError, SettingsError, SuiteContext, SuiteResult};

    struct Named(&'static str, &'static str);

    impl Runner for Named {
        fn name(&self) -> &str {
            self.0
        }
        fn check_settings(&self, _settings: &toml::Table) -> Result<(), SettingsError> {
            Ok(())
        }
        fn tool_version(&self, _ctx: &SuiteContext) -> Option<String> {
            Some(self.1.to_string())
        }
        fn run(&self, _ctx: &SuiteContext) -> Result<SuiteResult, RunnerError> {
            Err(RunnerError::Other("not runnable".into()))
        }
    }

    #[test]
    fn new_registry_is_empty() {
        let registry = Registry::new();
        assert!(registry.is_empty());
        assert!(registry.names().is_empty());
        assert!(registry.get("pytest").is_none());
    }

    #[test]
    fn names_are_sorted_and_get_finds_by_name() {
        let mut registry = Registry::new();
        registry.register(Named("pytest", "1"));
        registry.register(Named("behave", "1"));
        registry.register(Named("command", "1"));
        assert_eq!(registry.names(), ["behave", "command", "pytest"]);
        assert_eq!(
            registry.get("behave").map(|r| r.name().to_string()).as_deref(),
            Some("behave")
        );
        assert!(registry.contains("command"));
        assert!(!registry.contains("playwright"));
    }

    #[test]
    fn register_replaces_same_name() {
        let mut registry = Registry::new();
        registry.register(Named("pytest", "old"));
        registry.register(Named("pytest", "new"));
        assert_eq!(registry.names(), ["pytest"]);
        let runner = registry.get("pytest").expect("registered");
        // tool_version is the only observable difference between the two fakes.
        let ctx = SuiteContext::new("unit", "/project", "/project/tests", "/out/unit");
        assert_eq!(runner.tool_version(&ctx).as_deref(), Some("new"));
    }
}
