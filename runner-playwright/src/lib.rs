//! qaagent's runner for [Playwright Test](https://playwright.dev/docs/test-intro).
//!
//! [`PlaywrightRunner`] runs `npx playwright test` in the suite's path (where
//! the project's `playwright.config.*` and `node_modules` live) with:
//!
//! - `--reporter=line,junit,json`: the line reporter goes to the suite's
//!   `stdout.log`, JUnit to `<output_dir>/junit.xml` and JSON to
//!   `<output_dir>/report.json` (through `PLAYWRIGHT_{JUNIT,JSON}_OUTPUT_FILE`).
//!   The tests are read from the JSON report, which keeps Playwright's own
//!   retries, whole error messages and each test's attachments (see
//!   [`json_report`]); the JUnit report stands in when it cannot be read.
//!   The CLI flag replaces every reporter the config names, so an HTML report
//!   never lands in the project tree.
//! - `--output=<output_dir>/test-results`: screenshots, traces,
//!   `error-context.md` and `.last-run.json` stay in this attempt's output
//!   directory, so the project tree stays clean and parallel runs never collide.
//! - `--test-list=<output_dir>/test-list.txt` when only some tests are
//!   selected (see [`selector`]).
//!
//! When `node_modules` is missing and `package.json` exists, it first runs
//! `npm ci` (or `npm install` without a lockfile) inside the suite's timeout
//! (see [`install`]).

mod collect;
pub mod install;
pub mod json_report;
pub mod runner;
pub mod selector;
pub mod settings;

pub use runner::PlaywrightRunner;
pub use settings::PlaywrightSettings;
