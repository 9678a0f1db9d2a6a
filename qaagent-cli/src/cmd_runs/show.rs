//! `qaagent runs show`: everything that can be read of one run, as text or
//! one JSON document; a damaged run is shown as far as it can be read, and
//! exits with [`exit::EVIDENCE_DAMAGED`].

use std::io::Write;
use std::path::{Path, PathBuf};

use evidence::{DiagnosticRecord, LoadedRun, Manifest, SuiteEntry, TestRecord};
use serde::Serialize;

use super::records::{read_records, RecordTally};
use super::status::{damaged_word, status_problem, status_word};
use super::{io_error, ShowArgs};
use crate::error::CliError;
use crate::exit;

/// `runs show --json`: one document with everything known about the run.
#[derive(Debug, Serialize)]
pub(super) struct ShowReport {
    pub(super) run_id: String,
    pub(super) dir: PathBuf,
    /// As in `runs list`.
    pub(super) status: String,
    /// The manifest as stored; `null` when it is missing or corrupt.
    pub(super) manifest: Option<Manifest>,
    /// Counts taken from `tests.jsonl` itself (they hold even when the manifest is lost).
    pub(super) records: RecordTally,
    /// Failed and errored tests, in file order.
    pub(super) failures: Vec<TestRecord>,
    /// Tests that passed only on a retry.
    pub(super) flaky: Vec<TestRecord>,
    /// Per-failure diagnostics.
    pub(super) diagnostics: Vec<DiagnosticRecord>,
    /// The artifacts kept, by suite.
    pub(super) artifacts: Vec<ArtifactRef>,
    /// What is wrong with the run's files; empty for a sound run.
    pub(super) problems: Vec<String>,
}

/// One kept artifact.
#[derive(Debug, Serialize)]
pub(super) struct ArtifactRef {
    pub(super) suite: String,
    /// Relative to the run directory, as the manifest records it.
    pub(super) path: String,
    /// Absolute.
    pub(super) absolute: PathBuf,
    pub(super) exists: bool,
}

/// `project`: `latest` is its newest run; `None`: the newest in the runs dir.
/// A bundle is unpacked and shown as the run it holds.
pub(super) fn show(args: &ShowArgs, project: &Option<PathBuf>) -> Result<u8, CliError> {
    let bundle = super::bundle::open_if_bundle(&args.run)?;
    let (root, run, project) = match &bundle {
        Some(bundle) => (bundle.root().to_path_buf(), bundle.run().run_id.as_str(), None),
        None => (
            evidence::runs_root(args.store.runs_dir.clone()).map_err(CliError::Runs)?,
            args.run.as_str(),
            project.as_deref(),
        ),
    };
    let (run_id, dir) = evidence::resolve_run(&root, run, project).map_err(CliError::Runs)?;
    if let Some(path) = &args.junit {
        let run = evidence::load_run(&root, &run_id).map_err(CliError::Runs)?;
        orchestrator::report::write_junit(&run, path).map_err(|err| CliError::Io {
            what: format!("--junit {}", path.display()),
            source: std::io::Error::other(err),
        })?;
    }
    if args.html {
        // A bundle's run directory is gone when the command ends: its report goes where asked, or here.
        let default = if bundle.is_some() {
            PathBuf::from(orchestrator::report::REPORT_FILE)
        } else {
            dir.join(orchestrator::report::REPORT_FILE)
        };
        let path = args.output.clone().unwrap_or(default);
        let run = evidence::load_run(&root, &run_id).map_err(CliError::Runs)?;
        orchestrator::report::write_html(&run, &path).map_err(|err| CliError::Io {
            what: format!("--html {}", path.display()),
            source: std::io::Error::other(err),
        })?;
        eprintln!("report: {}", path.display());
    }
    let report = ShowReport::read(&root, run_id, dir)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report).map_err(|err| io_error(err.into()))?;
        writeln!(out).map_err(io_error)?;
    } else {
        report.write_human(&mut out).map_err(io_error)?;
    }
    Ok(if report.problems.is_empty() {
        exit::SUCCESS
    } else {
        exit::EVIDENCE_DAMAGED
    })
}

impl ShowReport {
    fn read(root: &Path, run_id: String, dir: PathBuf) -> Result<ShowReport, CliError> {
        let mut problems = Vec::new();
        // By the resolved id, so `latest` cannot move between resolving and loading.
        let (run, manifest_problem) = match evidence::load_run(root, &run_id) {
            Ok(run) => (run, None),
            Err(evidence::EvidenceError::BadManifest { problem, .. }) => {
                problems.push(problem.to_string());
                let placeholder = LoadedRun {
                    run_id: run_id.clone(),
                    dir: dir.clone(),
                    manifest: empty_manifest(),
                    crashed: false,
                };
                (placeholder, Some(problem))
            }
            Err(err) => return Err(CliError::Runs(err)),
        };
        let mut records = read_records(&run);
        problems.append(&mut records.problems);
        let diagnostics = run.diagnostics().unwrap_or_else(|err| {
            problems.push(err.to_string());
            Vec::new()
        });
        let artifacts = if manifest_problem.is_none() {
            manifest_artifacts(&dir, &run.manifest.suites)
        } else {
            artifact_dirs(&dir)
        };
        let status = match &manifest_problem {
            Some(problem) => damaged_word(problem).to_string(),
            None => {
                problems.splice(0..0, status_problem(run.status(), &run.manifest));
                status_word(run.status())
            }
        };
        Ok(ShowReport {
            run_id,
            dir,
            status,
            failures: std::mem::take(&mut records.failures),
            flaky: std::mem::take(&mut records.flaky_records),
            manifest: manifest_problem.is_none().then_some(run.manifest),
            records,
            diagnostics,
            artifacts,
            problems,
        })
    }
}

/// The artifacts the manifest lists, with whether each is still there.
fn manifest_artifacts(dir: &Path, suites: &[SuiteEntry]) -> Vec<ArtifactRef> {
    suites
        .iter()
        .flat_map(|suite| {
            suite.artifacts.iter().map(|path| {
                let absolute = dir.join(path);
                ArtifactRef {
                    suite: suite.name.clone(),
                    path: path.clone(),
                    exists: absolute.exists(),
                    absolute,
                }
            })
        })
        .collect()
}

/// Without a manifest: whatever is under `artifacts/<suite>/`.
fn artifact_dirs(dir: &Path) -> Vec<ArtifactRef> {
    let mut found = Vec::new();
    let Ok(suites) = std::fs::read_dir(dir.join("artifacts")) else {
        return found;
    };
    for suite in suites.flatten() {
        let suite_name = suite.file_name().to_string_lossy().into_owned();
        let Ok(entries) = std::fs::read_dir(suite.path()) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            found.push(ArtifactRef {
                suite: suite_name.clone(),
                path: format!("artifacts/{suite_name}/{name}"),
                absolute: entry.path(),
                exists: true,
            });
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// A manifest with every key at its default, standing in for a lost one.
fn empty_manifest() -> Manifest {
    // Every field of Manifest has a serde default, so `{}` always reads.
    serde_json::from_str("{}").unwrap_or_else(|err| unreachable!("an empty manifest reads: {err}"))
}
