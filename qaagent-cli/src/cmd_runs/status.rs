//! The one word `runs list` and `runs show` give a run's state.

use evidence::{Manifest, ManifestProblem};

pub(super) fn status_word(manifest: &Manifest) -> String {
    manifest
        .status
        .map_or_else(|| "unknown".to_string(), |status| status.as_str().to_string())
}

pub(super) fn damaged_word(problem: &ManifestProblem) -> &'static str {
    match problem {
        ManifestProblem::Missing => "incomplete",
        ManifestProblem::Unreadable(_) => "unreadable",
        ManifestProblem::Corrupt(_) => "corrupt",
    }
}
