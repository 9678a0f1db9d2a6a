//! The project config, `.qaagent.toml`: finding it ([`discover`]), reading and
//! validating it ([`load`], [`parse`]) into a [`Config`], and picking the base
//! URL for a run ([`Config::resolve_base_url`]).
//!
//! Everything is validated up front, before any suite runs, and every mistake
//! is a [`ConfigError::Invalid`] carrying the file, the 1-based line and column
//! of the offending key or value, and usually a hint saying what to write
//! instead.
//!
//! How the locations are kept: the file is deserialized into private raw
//! structs (`raw`) with `deny_unknown_fields` and [`toml::Spanned`] around
//! every value we may have to point at; the toml error for an unknown key or a
//! wrong type carries its byte span too. A `[tests.NAME]` table is read as a
//! map of spanned keys to spanned values: the common suite keys are picked out
//! and checked (`suite_table`), and every other key is handed to the suite's
//! runner ([`runner_api::Runner::check_settings`]). When a runner names the
//! key it rejects, the key's own span in that same map gives its line and
//! column, so no second parse of the file is needed.
//!
//! Modules: `model` (the validated types), `error`, `raw` (the spanned shapes
//! and locations), `validate`, `suite_table` and `flaky` (quarantine and
//! retry policy) (raw → model), `discover` (finding the file).

mod discover;
mod error;
mod flaky;
mod model;
mod raw;
mod suite_table;
mod validate;

use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::registry::Registry;

pub use discover::discover;
pub use error::ConfigError;
pub use flaky::{parse_date, FlakyPolicy, QuarantineEntry};
pub use model::{
    default_runner, AppConfig, Config, CustomCategory, DiagnosticsConfig, ProjectConfig, RunConfig, SuiteConfig,
    COMMON_SUITE_KEYS, DEFAULT_KILL_GRACE, DEFAULT_TIMEOUT, FILE_NAME,
};
pub use validate::{parse_seconds, seconds_in, SecondsError};

use discover::absolute;
use raw::{ConfigText, RawConfig};
use suite_table::validate_suite;
use validate::{
    order_suites, validate_apps, validate_diagnostics, validate_project, validate_run, validate_suite_order,
};

/// Reads and validates the config file `file` (as found by [`discover`] or
/// given with `--config`), checking runner names and runner settings against
/// `registry`.
pub fn load(file: &Path, registry: &Registry) -> Result<Config, ConfigError> {
    let file = absolute(file)?;
    let text = evidence::read_regular_to_string(&file).map_err(|source| ConfigError::Io {
        path: file.clone(),
        source,
    })?;
    parse(&file, &text, registry)
}

/// Validates `text` as the content of the config file `file` (which is not
/// read; it locates the project dir and names the file in errors).
pub fn parse(file: &Path, text: &str, registry: &Registry) -> Result<Config, ConfigError> {
    let file = absolute(file)?;
    let project_dir = file.parent().map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
    let src = ConfigText { file: &file, text };

    let raw: RawConfig = toml::from_str(text).map_err(|err| src.toml_error(&err))?;

    let project = validate_project(&src, raw.project)?;
    let apps = validate_apps(&src, raw.app)?;
    let mut raw_run = raw.run.map(Spanned::into_inner).unwrap_or_default();
    let raw_order = raw_run.suite_order.clone();
    let (raw_retry_on, raw_flaky) = (raw_run.retry_on.take(), raw_run.flaky.take());
    let mut run = validate_run(&src, raw_run)?;

    let mut tables: Vec<_> = raw.tests.into_iter().collect();
    tables.sort_by_key(|(name, _)| name.span().start);
    let mut suites = Vec::with_capacity(tables.len());
    for (name, table) in tables {
        suites.push(validate_suite(&src, name, table, &project_dir, registry)?);
    }

    let order = validate_suite_order(&src, raw_order, &suites)?;
    suites = order_suites(suites, &order);
    run.suite_order = order;

    let diagnostics = validate_diagnostics(&src, raw.diagnostics)?;
    run.retry_on = flaky::validate_retry_on(&src, raw_retry_on, &diagnostics)?;
    run.flaky = flaky::validate_flaky(&src, raw_flaky)?;
    let quarantine = flaky::validate_quarantine(&src, raw.quarantine)?;

    Ok(Config {
        file: file.clone(),
        project_dir,
        project,
        apps,
        run,
        suites,
        diagnostics,
        quarantine,
    })
}
