//! `qaagent merge`: the shares of a partitioned run (`run-all --partition
//! K/N` on N machines) combined into one run in the runs directory, with one
//! verdict.
//!
//! The merged run is a run like any other — `runs show`, `--rerun-failed`,
//! the Python qaagent's readers take it — whose manifest adds `merged_from`
//! (each share's run id, `K/N`, plan and status) and, for a partial merge,
//! `partial` (what is missing). Its `tests.jsonl` holds every record of every
//! share, in suite order (shares in index order within a suite), renumbered
//! and with `metadata.shard = K`; each share's `artifacts/` is kept under
//! `artifacts/shard-K/` and the references to it rewritten. Records are
//! streamed from the shares' files into the merged one, never all held.
//!
//! What may be merged is checked first (see `check`), and the records as
//! they stream (see `consistency`: a test in two shares, a manifest that
//! contradicts its records): anything but every share of one plan, once
//! each, finished and agreeing with itself, is refused with what is wrong
//! ([`MergeError::NotOneRun`]), unless `allow_partial` accepts missing or
//! unfinished shares. A partial merge is never `passed`: its status is
//! `incomplete`, with the reasons in `incomplete_reason` and `partial`, so
//! that missing shares can never read as a green run. Otherwise the merged
//! run fails when any share's record failed or errored, any suite errored,
//! timed out or was interrupted, or any share itself is `failed`.

mod check;
mod consistency;
mod suites;

use std::path::{Path, PathBuf};

use std::borrow::Cow;

use evidence::{
    Bundle, Counts, EvidenceError, LoadedRun, Manifest, Partition, RecordSink, Records, Run, RunInfo, RunStatus,
    SuiteOutcome,
};
use serde_json::value::RawValue;

use crate::report::{self, ReportError};
use crate::run::Verdict;

/// One run given to merge, as opened.
#[derive(Debug)]
pub struct Shard {
    /// What the user named it by (a directory, a bundle, a run id).
    pub source: String,
    /// The run.
    pub run: LoadedRun,
    /// The unpacked bundle the run lives in, kept until the merge is done.
    _bundle: Option<Bundle>,
}

impl Shard {
    /// Opens `what`: a bundle (`*.tar.gz`, from `runs export`), a run
    /// directory, or else a run id (or `latest`) under `runs_root`.
    pub fn open(what: &Path, runs_root: &Path) -> Result<Shard, MergeError> {
        let source = what.display().to_string();
        let opened = if evidence::is_bundle(what) {
            Bundle::open(what).map(|bundle| (bundle.run().clone(), Some(bundle)))
        } else if what.is_dir() {
            evidence::load_run_dir(what).map(|run| (run, None))
        } else if what.components().count() > 1 {
            // A path, not a run id: say what is wrong with the path.
            let source = match std::fs::metadata(what) {
                Ok(_) => std::io::Error::other("not a run directory or a run bundle (*.tar.gz)"),
                Err(err) => err,
            };
            Err(evidence::EvidenceError::Io {
                what: "open",
                path: what.to_path_buf(),
                source,
            })
        } else {
            evidence::load_run(runs_root, &source).map(|run| (run, None))
        };
        match opened {
            Ok((run, bundle)) => Ok(Shard {
                source,
                run,
                _bundle: bundle,
            }),
            Err(error) => Err(MergeError::Open { source, error }),
        }
    }

    fn partition(&self) -> Option<&Partition> {
        self.run.manifest.partition.as_ref()
    }

    fn index(&self) -> u32 {
        self.partition().map_or(0, |partition| partition.index)
    }

    /// `shard K/N`, as messages name it.
    fn label(&self) -> String {
        match self.partition() {
            Some(p) => format!("shard {}/{}", p.index, p.total),
            None => self.source.clone(),
        }
    }
}

/// How to merge.
#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    /// The runs root to write the merged run in (else `$QAAGENT_RUNS_DIR`, else `~/.qaagent/runs`).
    pub runs_dir: Option<PathBuf>,
    /// Also write the merged run's JUnit report here.
    pub junit: Option<PathBuf>,
    /// Merge even when shares are missing or unfinished, marking the run partial.
    pub allow_partial: bool,
}

/// What a merge made.
#[derive(Debug)]
#[non_exhaustive]
pub struct MergeReport {
    /// The merged run's id.
    pub run_id: String,
    /// The merged run's directory.
    pub run_dir: PathBuf,
    /// Its final manifest.
    pub manifest: Manifest,
    /// What it amounts to.
    pub verdict: Verdict,
    /// Why it is partial; empty for a whole run.
    pub partial: Vec<String>,
    /// What was left out that does not change the verdict (links among
    /// artifacts, references outside a share's artifacts, unreadable diagnostics).
    pub warnings: Vec<String>,
    /// What could not be written (the JUnit report); each fails the merge.
    pub errors: Vec<String>,
}

/// Why runs could not be merged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// A run given could not be opened.
    #[error("cannot read {source}: {error}")]
    Open {
        /// What the user named.
        source: String,
        /// Why not.
        #[source]
        error: EvidenceError,
    },
    /// The runs given are not one complete partitioned run.
    #[error("not one complete partitioned run:{}", problems.iter().map(|p| format!("\n  {p}")).collect::<String>())]
    NotOneRun {
        /// Each thing that is wrong, naming the shard.
        problems: Vec<String>,
    },
    /// A share's records cannot be read (a torn or corrupt line).
    #[error("cannot read the records of {shard}: {error}")]
    Records {
        /// The share, `shard K/N`.
        shard: String,
        /// What is wrong.
        #[source]
        error: EvidenceError,
    },
    /// The merged run could not be written.
    #[error("the merged run could not be written: {0}")]
    Write(#[source] EvidenceError),
    /// The JUnit report cannot go where asked.
    #[error("--junit: {0}")]
    Junit(#[source] ReportError),
}

impl MergeError {
    /// Whether it is the inputs' fault (exit 2) rather than a failure to write.
    pub fn is_input_error(&self) -> bool {
        !matches!(self, MergeError::Write(_))
    }
}

/// Merges `shards` into a new run; see the module docs.
pub fn merge(mut shards: Vec<Shard>, options: &MergeOptions) -> Result<MergeReport, MergeError> {
    if let Some(path) = &options.junit {
        report::check_destination(path).map_err(MergeError::Junit)?;
    }
    let problems = check::check(&mut shards);
    let mut refused = problems.fatal;
    if !options.allow_partial {
        refused.extend(problems.partial.iter().cloned());
    }
    if shards.is_empty() {
        refused.push("no run given".into());
    }
    if !refused.is_empty() {
        return Err(MergeError::NotOneRun { problems: refused });
    }
    let mut partial = problems.partial;
    let order = suites::suite_order(&shards);
    let root = evidence::runs_root(options.runs_dir.clone()).map_err(MergeError::Write)?;
    let first = &shards[0].run.manifest;
    let info = RunInfo {
        project_name: first.target.name.clone(),
        project_path: PathBuf::from(&first.target.path),
        suites: order.clone(),
        qaagent_version: env!("CARGO_PKG_VERSION").to_string(),
        partition: None,
    };
    let mut run = Run::create(&root, info).map_err(MergeError::Write)?;
    let mut warnings = Vec::new();
    let (counts, quarantined, page) = match write_records(&mut run, &shards, &order, options.allow_partial) {
        Ok((counts, mut notes, page)) => {
            refused.append(&mut notes.fatal);
            partial.append(&mut notes.partial);
            warnings.append(&mut notes.warnings);
            (counts, notes.quarantined, page)
        }
        Err(err) => return Err(discard(run, err)),
    };
    if !refused.is_empty() {
        return Err(discard(run, MergeError::NotOneRun { problems: refused }));
    }
    if !partial.is_empty() && !options.allow_partial {
        return Err(discard(run, MergeError::NotOneRun { problems: partial }));
    }
    let manifest = match finish(run, &shards, &order, counts, &partial, &quarantined, &mut warnings) {
        Ok(manifest) => manifest,
        Err(err) => return Err(MergeError::Write(err)),
    };
    let run_dir = root.join(&manifest.run_id);
    let mut verdict = verdict(&manifest, &shards, &partial, &quarantined);
    let mut errors = Vec::new();
    let stored = evidence::load_run_dir(&run_dir);
    if let Some(path) = &options.junit {
        let written = match &stored {
            Ok(merged) => report::write_junit(merged, path).map_err(|err| err.to_string()),
            Err(err) => Err(err.to_string()),
        };
        if let Err(err) = written {
            errors.push(format!("cannot write the JUnit report {}: {err}", path.display()));
            verdict = Verdict::Failed;
        }
    }
    if let Ok(merged) = &stored {
        if let Err(err) = report::write_run_report_from(merged, page) {
            warnings.push(format!("the HTML report could not be written: {err}"));
        }
    }
    Ok(MergeReport {
        run_id: manifest.run_id.clone(),
        run_dir,
        manifest,
        verdict,
        partial,
        warnings,
        errors,
    })
}

/// Removes the half-made merged run and passes `err` on.
fn discard<E>(run: Run, err: E) -> E {
    if let Err(removed) = run.discard() {
        log::warn!("the unfinished merged run was not removed: {removed}");
    }
    err
}

/// What was found wrong while the records were read.
#[derive(Default)]
struct Notes {
    /// What no merge gets past (see `consistency`).
    fatal: Vec<String>,
    partial: Vec<String>,
    warnings: Vec<String>,
    /// Quarantined failures (`metadata.quarantined`), by suite: they do not
    /// fail the merged run, as they did not fail their share.
    quarantined: Quarantined,
}

/// Quarantined failed and errored records, by suite.
type Quarantined = std::collections::BTreeMap<String, u64>;

/// One share's records as they are read.
struct Stream<'a> {
    shard: &'a Shard,
    records: Records,
    /// `metadata.shard` of its records.
    index: Box<RawValue>,
    /// The line read last belongs to a later suite: it is read again there.
    pending: bool,
    read: u64,
    unreadable: u64,
    dropped_refs: u64,
    /// Reading it failed: the error that ended the merge is this share's.
    broken: bool,
    /// Its quarantined failures, by suite.
    quarantined: Quarantined,
    /// Its records by suite and status, to hold its manifest to.
    tallies: consistency::Tallies,
    /// The references of the last record and what they became: a suite's
    /// records all refer to the same artifacts (formatting them anew was 5 %
    /// of a large merge).
    refs: (Vec<String>, Vec<String>),
}

/// What to do with a share's next record.
enum Step {
    /// Dealt with: written, or (partial merges) a line that does not read, left out.
    Taken,
    /// It belongs to a later suite: kept for then.
    Later,
    /// The share has no more records.
    End,
}

impl Stream<'_> {
    /// Writes the share's next record to `sink` when it belongs to `suite`
    /// (any suite when None). A line that does not read ends the merge, or is
    /// counted and skipped when partial merges are allowed.
    fn step(
        &mut self,
        sink: &mut RecordSink<'_>,
        suite: Option<&str>,
        allow_partial: bool,
        seen: &mut consistency::Seen,
        page: &mut report::Page,
    ) -> Result<Step, EvidenceError> {
        let read = if self.pending {
            Some(self.records.current_raw())
        } else {
            self.records.next_raw()
        };
        let record = match read {
            None => return Ok(Step::End),
            Some(Ok(record)) => record,
            Some(Err(err @ EvidenceError::BadRecord { .. })) if allow_partial => {
                log::warn!("{}: {err}; left out", self.shard.label());
                self.unreadable += 1;
                self.pending = false;
                return Ok(Step::Taken);
            }
            Some(Err(err)) => {
                self.broken = true;
                return Err(err);
            }
        };
        if !self.pending {
            self.read += 1;
        }
        if suite.is_some_and(|suite| record.suite() != suite) {
            self.pending = true;
            return Ok(Step::Later);
        }
        self.pending = false;
        let mut record = record;
        consistency::count(&mut self.tallies, &record);
        seen.add(self.shard.index(), &record);
        if self.refs.0 != record.evidence_refs {
            let index = self.shard.index();
            self.refs.0 = record.evidence_refs.iter().map(|path| path.to_string()).collect();
            self.refs.1 = (self.refs.0.iter())
                .filter_map(|path| shard_path(index, path))
                .collect();
        }
        self.dropped_refs += (record.evidence_refs.len() - self.refs.1.len()) as u64;
        if record.status.is_failure()
            && record
                .metadata
                .get("quarantined")
                .is_some_and(|value| value.get() == "true")
        {
            *self.quarantined.entry(record.suite().to_string()).or_default() += 1;
        }
        record.evidence_refs = self.refs.1.iter().map(|path| Cow::Borrowed(path.as_str())).collect();
        record.metadata.insert("shard".into(), &self.index);
        sink.push(&mut record)?;
        page.add(&record);
        Ok(Step::Taken)
    }
}

/// `artifacts/…` of share `shard` as the merged run keeps it; None for a
/// path that is not inside the share's artifacts.
fn shard_path(shard: u32, path: &str) -> Option<String> {
    if !evidence::is_run_relative(path) {
        return None;
    }
    let rest = path.strip_prefix("artifacts")?;
    (rest.is_empty() || rest.starts_with('/')).then(|| format!("artifacts/shard-{shard}{rest}"))
}

/// Streams every share's records into the merged run's tests.jsonl, in
/// suite order (shares in index order within a suite), then whatever is left
/// (records of suites outside every order, or out of order in their file);
/// the HTML report's rows are built from them on the way.
fn write_records(
    run: &mut Run,
    shards: &[Shard],
    order: &[String],
    allow_partial: bool,
) -> Result<(Counts, Notes, report::Page), MergeError> {
    let mut streams = Vec::with_capacity(shards.len());
    for shard in shards {
        let records = shard.run.records().map_err(|error| MergeError::Records {
            shard: shard.label(),
            error,
        })?;
        let index = RawValue::from_string(shard.index().to_string()).map_err(|source| {
            MergeError::Write(EvidenceError::Serialize {
                what: "shard index",
                source,
            })
        })?;
        streams.push(Stream {
            shard,
            records,
            index,
            pending: false,
            read: 0,
            unreadable: 0,
            dropped_refs: 0,
            broken: false,
            quarantined: Quarantined::new(),
            tallies: consistency::Tallies::new(),
            refs: Default::default(),
        });
    }
    let suites = order.iter().map(|suite| Some(suite.as_str())).chain([None]);
    let mut seen = consistency::Seen::default();
    let mut page = report::Page::new();
    let written = run.write_records(|sink| {
        for suite in suites {
            for stream in &mut streams {
                while let Step::Taken = stream.step(sink, suite, allow_partial, &mut seen, &mut page)? {}
            }
        }
        Ok(())
    });
    let counts = match (written, streams.iter().find(|stream| stream.broken)) {
        (Ok(counts), _) => counts,
        (Err(error), Some(broken)) => {
            return Err(MergeError::Records {
                shard: broken.shard.label(),
                error,
            })
        }
        (Err(error), None) => return Err(MergeError::Write(error)),
    };
    let mut notes = Notes {
        fatal: seen.problems(),
        ..Notes::default()
    };
    for stream in &streams {
        for (suite, n) in &stream.quarantined {
            *notes.quarantined.entry(suite.clone()).or_default() += n;
        }
        let label = stream.shard.label();
        let counted = stream.shard.run.manifest.counts.tests;
        if stream.unreadable > 0 {
            notes.partial.push(format!(
                "{label}: {} line(s) of {} do not read",
                stream.unreadable,
                evidence::TESTS_FILE
            ));
        }
        if stream.read < counted {
            notes.partial.push(format!(
                "{label}: {} holds {} of the {counted} records its manifest counts",
                evidence::TESTS_FILE,
                stream.read
            ));
        } else if stream.unreadable == 0
            && matches!(stream.shard.run.status(), Some(RunStatus::Passed | RunStatus::Failed))
        {
            let manifest = &stream.shard.run.manifest;
            (notes.fatal).extend(consistency::disagreements(&label, manifest, &stream.tallies));
        }
        if stream.dropped_refs > 0 {
            notes.warnings.push(format!(
                "{label}: {} evidence reference(s) outside its artifacts/ left out",
                stream.dropped_refs
            ));
        }
    }
    Ok((counts, notes, page))
}

/// Copies the shares' artifacts and diagnostics and writes the final
/// manifest; on failure the half-made run is removed.
fn finish(
    run: Run,
    shards: &[Shard],
    order: &[String],
    counts: Counts,
    partial: &[String],
    quarantined: &Quarantined,
    warnings: &mut Vec<String>,
) -> Result<Manifest, EvidenceError> {
    match final_manifest(&run, shards, order, counts, partial, quarantined, warnings) {
        Ok(manifest) => run.finish_assembled(manifest),
        Err(err) => Err(discard(run, err)),
    }
}

/// The merged run's manifest, once the shares' artifacts and diagnostics are in it.
fn final_manifest(
    run: &Run,
    shards: &[Shard],
    order: &[String],
    mut counts: Counts,
    partial: &[String],
    quarantined: &Quarantined,
    warnings: &mut Vec<String>,
) -> Result<Manifest, EvidenceError> {
    let mut manifest = run.manifest().clone();
    let first = &shards[0].run.manifest;
    manifest.target = first.target.clone();
    let mut diagnoses = Vec::new();
    let mut merged_from = Vec::new();
    for shard in shards {
        let index = shard.index();
        let into = run.dir().join("artifacts").join(format!("shard-{index}"));
        for skipped in evidence::copy_tree(&shard.run.dir.join("artifacts"), &into)? {
            warnings.push(format!(
                "{}: artifacts/{skipped} is not a file or directory; not kept",
                shard.label()
            ));
        }
        match shard.run.diagnostics() {
            Ok(mut records) => diagnoses.append(&mut records),
            Err(err) => warnings.push(format!("{}: diagnostics not kept: {err}", shard.label())),
        }
        for (name, tool) in &shard.run.manifest.tools {
            match manifest.tools.get_mut(name) {
                Some(known) => known.absorb(tool),
                None => {
                    manifest.tools.insert(name.clone(), tool.clone());
                }
            }
        }
        let wall = shard.run.manifest.wall_seconds.filter(|wall| wall.is_finite());
        manifest.wall_seconds = match (manifest.wall_seconds, wall) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        merged_from.push(serde_json::json!({
            "run_id": shard.run.run_id,
            "shard": shard.partition().map(|p| format!("{}/{}", p.index, p.total)),
            "plan": shard.partition().map(|p| p.plan.clone()),
            "status": shard.run.status().map(RunStatus::as_str),
        }));
    }
    for name in order {
        let entries: Vec<(u32, &evidence::SuiteEntry)> = (shards.iter())
            .flat_map(|shard| {
                let entries = shard.run.manifest.suites.iter().filter(|entry| &entry.name == name);
                entries.map(|entry| (shard.index(), entry))
            })
            .collect();
        if let Some(entry) = suites::merge_entries(name, &entries, &mut |shard, path| shard_path(shard, path)) {
            manifest.suites.push(entry);
        }
    }
    counts.test_suites = (manifest.suites.iter())
        .filter(|suite| suite.outcome != SuiteOutcome::Skipped && suite.attempts > 0)
        .count() as u64;
    manifest.counts = counts;
    if !diagnoses.is_empty() {
        run.write_diagnostics(&diagnoses)?;
        manifest.evidence_files.diagnostics = Some(evidence::DIAGNOSTICS_FILE.to_string());
    }
    manifest.diagnostics = crate::diagnostics::summary(&diagnoses);
    manifest.extra.insert("merged_from".into(), merged_from.into());
    if partial.is_empty() {
        // The verdict's status: a merged run in which no test ran is
        // stored failed, as run-all stores one.
        manifest.status = Some(verdict(&manifest, shards, partial, quarantined).run_status());
    } else {
        manifest.status = Some(RunStatus::Incomplete);
        manifest.incomplete_reason = Some(format!("partial merge: {}", partial.join("; ")));
        manifest.extra.insert("partial".into(), partial.into());
    }
    Ok(manifest)
}

/// Whether anything in the merged run or its shares failed, quarantined
/// failures aside (a suite whose only failures are quarantined passes).
fn failed(manifest: &Manifest, shards: &[Shard], quarantined: &Quarantined) -> bool {
    let excused = |suite: &evidence::SuiteEntry| {
        let failures = (suite.failed + suite.errors) as u64;
        suite.outcome == SuiteOutcome::Failed && failures <= quarantined.get(&suite.name).copied().unwrap_or(0)
    };
    manifest.counts.tests_failed > quarantined.values().sum()
        || (manifest.suites.iter())
            .any(|suite| !matches!(suite.outcome, SuiteOutcome::Passed | SuiteOutcome::Skipped) && !excused(suite))
        || shards.iter().any(|shard| shard.run.status() != Some(RunStatus::Passed))
}

fn verdict(manifest: &Manifest, shards: &[Shard], partial: &[String], quarantined: &Quarantined) -> Verdict {
    if !partial.is_empty() || failed(manifest, shards, quarantined) {
        Verdict::Failed
    } else if manifest.counts.tests == manifest.counts.tests_skipped {
        Verdict::NoTests
    } else {
        Verdict::Passed
    }
}
