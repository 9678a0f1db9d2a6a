//! qaagent's runner for [Playwright Test](https://playwright.dev/docs/test-intro).
//!
//! [`PlaywrightRunner`] runs `npx playwright test` in the suite's path (where
//! the project's `playwright.config.*` and `node_modules` live) with:
//!
//! - `--add-reporter=junit,json` (Playwright 1.63 and newer; before,
//!   `--reporter=line,junit,json`, which replaces the config's reporters):
//!   JUnit to `<output_dir>/junit.xml` and JSON to `<output_dir>/report.json`
//!   (through `PLAYWRIGHT_{JUNIT,JSON}_OUTPUT_FILE`), beside the config's own
//!   reporters, whose HTML and blob reports go to `<output_dir>` too
//!   (see [`reporters`]); console output goes to the suite's `stdout.log`.
//!   The tests are read from the JSON report, which keeps Playwright's own
//!   retries, whole error messages and each test's attachments (see
//!   [`json_report`]); the JUnit report stands in when it cannot be read.
//! - `--output=<output_dir>/test-results`: screenshots, traces,
//!   `error-context.md` and `.last-run.json` stay in this attempt's output
//!   directory, so the project tree stays clean and parallel runs never collide.
//! - `--test-list=<output_dir>/test-list.txt` when only some tests are
//!   selected (see [`selector`]); before Playwright 1.56, their
//!   `file:line:column` locations instead (see [`locations`]).
//!
//! Playwright older than 1.44 is refused with a suite error ([`version`]);
//! its version is read from its `package.json`, without starting Node.js.
//!
//! When `node_modules` is missing and `package.json` exists, it first runs
//! `npm ci` (or `npm install` without a lockfile) inside the suite's timeout
//! (see [`install`]).

pub mod install;
pub mod json_report;
mod locations;
mod reporters;
pub mod runner;
pub mod selector;
pub mod settings;
mod stream;
pub mod version;

pub use runner::PlaywrightRunner;
pub use settings::PlaywrightSettings;
