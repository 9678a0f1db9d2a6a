//! `qaagent runs prune`: removes the runs beyond the newest `--keep N` and/or
//! older than `--older-than DAYS`, of the current project (or of all with
//! `--all`), and says what it removed and what it left, and why.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use evidence::Pruned;

use super::list::others_note;
use super::{io_error, runs_in_scope, PruneArgs};
use crate::error::CliError;
use crate::exit;
use crate::reporter::untrusted::printable;

/// `project`: prune only its runs; `None`: every run in the runs dir.
pub(super) fn prune(args: &PruneArgs, project: &Option<PathBuf>) -> Result<u8, CliError> {
    let (root, runs, everyone) = runs_in_scope(&args.store, project)?;
    let in_scope = runs.len();
    let cutoff = args
        .older_than
        .map(|days| Duration::from_secs(u64::from(days) * 24 * 3600));
    let verb = if args.dry_run { "would remove" } else { "removed" };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if !args.dry_run {
        for (path, removed) in evidence::remove_prune_leftovers(&root) {
            let shown = path.display().to_string();
            let path = printable(&shown);
            let line = match removed {
                Ok(()) => format!("removed {path}, left by an earlier prune that failed"),
                Err(err) => format!("kept {path}, left by an earlier prune that failed: {err}"),
            };
            writeln!(out, "{line}").map_err(io_error)?;
        }
    }
    let (mut removed, mut kept) = (0usize, 0usize);
    // Newest first: the first `keep` are kept whatever their age.
    for run in runs.iter().skip(args.keep.unwrap_or(0)) {
        // A run whose id tells no time is never "older than".
        let old = cutoff.is_none_or(|cutoff| run.age().is_some_and(|age| age > cutoff));
        if !old {
            continue;
        }
        let project_name = run
            .manifest
            .as_ref()
            .map_or("-", |manifest| manifest.target.name.as_str());
        let what = format!("{} ({})", run.run_id, printable(project_name));
        let line = match evidence::prune_run(run, args.dry_run).map_err(CliError::Runs)? {
            Pruned::Removed => {
                removed += 1;
                format!("{verb} {what}")
            }
            Pruned::Kept(why) => {
                kept += 1;
                format!("kept {what}: {why}")
            }
        };
        writeln!(out, "{line}").map_err(io_error)?;
    }
    let left_alone = if kept > 0 {
        format!("; {kept} left alone, as said above")
    } else {
        String::new()
    };
    writeln!(
        out,
        "{verb} {removed} of {in_scope} run(s) in {}{left_alone}",
        printable(&root.display().to_string())
    )
    .map_err(io_error)?;
    if let Some(project) = project.as_deref().filter(|_| everyone > in_scope) {
        writeln!(out, "{}", others_note(project, everyone - in_scope)).map_err(io_error)?;
    }
    Ok(exit::SUCCESS)
}
