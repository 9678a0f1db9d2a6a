//! How long each suite took in this project's latest finished run: what a
//! live display counts down from while the suite runs again.

use std::path::Path;
use std::time::Duration;

use evidence::RunStatus;

/// Each of `suites`' wall time in the newest finished run of the project in
/// `project_dir` under `runs_root` other than `current` (`None` for a suite
/// that run did not have). Nothing is known on a first run, or when the runs
/// cannot be listed: a countdown is a nicety, never a reason to fail.
pub(crate) fn last_durations(
    runs_root: &Path,
    project_dir: &Path,
    current: &str,
    suites: &[String],
) -> Vec<Option<Duration>> {
    let last = evidence::runs_newest_first(runs_root).ok().and_then(|mut runs| {
        runs.find(|run| {
            run.run_id != current
                && matches!(run.status(), Some(RunStatus::Passed | RunStatus::Failed))
                && run.belongs_to(project_dir)
        })
    });
    let manifest = last.as_ref().and_then(|run| run.manifest.as_deref().ok());
    (suites.iter())
        .map(|name| {
            let suite = manifest?.suites.iter().find(|suite| &suite.name == name)?;
            (suite.duration.is_finite() && suite.duration > 0.0).then(|| Duration::from_secs_f64(suite.duration))
        })
        .collect()
}
