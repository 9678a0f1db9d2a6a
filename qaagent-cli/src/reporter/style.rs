//! Colour, only when wanted: `--color auto|always|never`, `NO_COLOR`, and a
//! terminal on the other end. Output reads the same without it.

use runner_api::SuiteOutcome;

/// Whether to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    color: bool,
}

const RESET: &str = "\x1b[0m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";

impl Style {
    /// Decides for `--color`: `always` and `never` are obeyed; `auto` colours
    /// a terminal unless `NO_COLOR` is set (to anything) or `TERM=dumb`.
    pub fn for_choice(choice: crate::args::ColorChoice, is_terminal: bool) -> Self {
        use crate::args::ColorChoice;
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_terminal
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
            }
        };
        Style { color }
    }

    /// True when colour is on.
    pub fn enabled(self) -> bool {
        self.color
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    /// An outcome label, right-aligned to `width`, coloured by how bad it is.
    pub fn outcome(self, outcome: SuiteOutcome, width: usize) -> String {
        let label = format!("{:>width$}", outcome.label());
        let code = match outcome {
            SuiteOutcome::Passed => GREEN,
            SuiteOutcome::Skipped | SuiteOutcome::Interrupted => YELLOW,
            SuiteOutcome::Failed | SuiteOutcome::Errored | SuiteOutcome::TimedOut => RED,
        };
        self.paint(&format!("{BOLD}{code}"), &label)
    }

    /// Red text (failures).
    pub fn red(self, text: &str) -> String {
        self.paint(RED, text)
    }

    /// Green text (success).
    pub fn green(self, text: &str) -> String {
        self.paint(GREEN, text)
    }

    /// Yellow text (warnings, flaky).
    pub fn yellow(self, text: &str) -> String {
        self.paint(YELLOW, text)
    }

    /// Bold text (headings).
    pub fn bold(self, text: &str) -> String {
        self.paint(BOLD, text)
    }

    /// Dim text (paths, secondary detail).
    pub fn dim(self, text: &str) -> String {
        self.paint(DIM, text)
    }
}
