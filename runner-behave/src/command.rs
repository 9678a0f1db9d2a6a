//! behave's command line for one attempt, and where its reports land.

use std::path::{Path, PathBuf};
use std::process::Command;

use runner_api::SuiteContext;

/// The files one behave attempt writes, all below the attempt's output dir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BehaveOutputs {
    /// `--junit-directory`: one `TESTS-<feature>.xml` per feature.
    pub junit_dir: PathBuf,
    /// The rerun formatter's file: failing scenarios as `path.feature:LINE`.
    pub rerun_file: PathBuf,
    /// The JSON formatter's report, which carries each scenario's location.
    pub json_report: PathBuf,
    /// qaagent's own formatter's live stream ([`runner_api::stream`]).
    pub stream: PathBuf,
}

impl BehaveOutputs {
    /// The report paths inside `output_dir`.
    pub fn new(output_dir: &Path) -> Self {
        BehaveOutputs {
            junit_dir: output_dir.join("junit"),
            rerun_file: output_dir.join("rerun.txt"),
            json_report: output_dir.join("behave.json"),
            stream: output_dir.join(runner_api::stream::STREAM_FILE),
        }
    }
}

/// The behave command for `ctx`: `<python> -m behave TARGETS --junit … -f rerun
/// -o … -f json -o … -f _qaagent_stream:Formatter -o … -f pretty --no-color
/// --show-skipped ARGS`, run in the
/// project dir with the suite's environment. `targets` are the suite path or the selected
/// scenario locations, absolute.
///
/// behave pairs `-f` with `-o` in order and sends a formatter without an
/// `-o` to stdout, so `pretty` (what a user running behave sees) goes to the
/// attempt's stdout log. Formats from `behave.ini` come first in behave's
/// list with their own outfiles, so they do not disturb this pairing.
///
/// `--show-skipped` because `show_skipped = false` in `behave.ini` (behave's
/// own repository has it) leaves skipped scenarios out of the JUnit report
/// (and the JSON one), which would then count fewer skipped than behave's
/// summary line says.
pub fn behave_command(ctx: &SuiteContext, python: &Path, targets: &[PathBuf], outputs: &BehaveOutputs) -> Command {
    let mut cmd = ctx.command(python);
    cmd.current_dir(&ctx.project_dir)
        .args(["-m", "behave"])
        .args(targets)
        .arg("--junit")
        .arg("--junit-directory")
        .arg(&outputs.junit_dir)
        .args(["-f", "rerun", "-o"])
        .arg(&outputs.rerun_file)
        .args(["-f", "json", "-o"])
        .arg(&outputs.json_report)
        .arg("-f")
        .arg(format!("{}:Formatter", runner_api::python::STREAM_MODULE))
        .arg("-o")
        .arg(&outputs.stream)
        .args(["-f", "pretty", "--no-color", "--show-skipped"])
        .args(&ctx.args);
    cmd
}

/// What behave is asked to run: the suite path, or the selected locations
/// (relative ones taken from the project dir, where behave also prints them
/// relative to). Passed as arguments rather than an `@file`, which behave
/// would resolve relative to the file's own directory.
pub fn targets(ctx: &SuiteContext) -> Vec<PathBuf> {
    match ctx.selected() {
        None => vec![ctx.path.clone()],
        Some(selectors) => selectors
            .iter()
            .map(|selector| ctx.project_dir.join(selector))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runner_api::Selection;

    #[test]
    fn command_line_has_reports_formatters_and_user_args_in_order() {
        let mut ctx = SuiteContext::new("behave", "/proj", "/proj/features", "/out/behave");
        ctx.args = vec!["--tags".into(), "@smoke".into()];
        let outputs = BehaveOutputs::new(&ctx.output_dir);
        let cmd = behave_command(&ctx, Path::new("/venv/bin/python"), &targets(&ctx), &outputs);
        let args: Vec<String> = cmd.get_args().map(|arg| arg.to_string_lossy().into_owned()).collect();
        assert_eq!(
            args,
            [
                "-m",
                "behave",
                "/proj/features",
                "--junit",
                "--junit-directory",
                "/out/behave/junit",
                "-f",
                "rerun",
                "-o",
                "/out/behave/rerun.txt",
                "-f",
                "json",
                "-o",
                "/out/behave/behave.json",
                "-f",
                "_qaagent_stream:Formatter",
                "-o",
                "/out/behave/qaagent-stream.jsonl",
                "-f",
                "pretty",
                "--no-color",
                "--show-skipped",
                "--tags",
                "@smoke"
            ]
        );
        assert_eq!(cmd.get_current_dir(), Some(Path::new("/proj")));
    }

    #[test]
    fn selection_becomes_absolute_locations() {
        let mut ctx = SuiteContext::new("behave", "/proj", "/proj/features", "/out/behave");
        ctx.selection = Selection::Only(vec!["features/cart.feature:17".into(), "/abs/x.feature:3".into()]);
        assert_eq!(
            targets(&ctx),
            [
                PathBuf::from("/proj/features/cart.feature:17"),
                PathBuf::from("/abs/x.feature:3")
            ]
        );
    }
}
