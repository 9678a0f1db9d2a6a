//! The writer thread's state: what it has written of the run, and how each
//! message changes the run's files (see the `writer` module doc).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;
use crossbeam_channel::Receiver;

use super::{EvidenceMessage, Run, MANIFEST_LAG, TIMESTAMP_FORMAT};
use crate::artifacts;
use crate::atomic::{append_atomically_with, sync_dir, sync_file};
use crate::dir_identity::DirIdentity;
use crate::error::EvidenceError;
use crate::git::{GitInfo, GitStatus};
use crate::live::Live;
use crate::lock::WriterLock;
use crate::manifest::{
    Counts, Manifest, RunStatus, SuiteEntry, ToolStatus, DIAGNOSTICS_FILE, MANIFEST_FILE, TESTS_FILE,
};
use crate::record::{append_records, write_diagnostics_file, DiagnosticRecord, SuiteRecordContext, TestIds};
use crate::run_id::run_date;
use crate::suite::{SuiteOutcome, SuiteRecord, ToolRun};
use crate::untouched::Untouched;

/// A finished suite waiting for its turn in tests.jsonl.
struct PendingSuite {
    result: Box<SuiteRecord>,
    artifacts: Vec<artifacts::Kept>,
    finished_at: String,
}

/// Everything the writer thread owns.
pub(super) struct WriterState {
    /// Answered, and written to the manifest, before the first message is applied.
    git: Option<GitStatus>,
    dir: PathBuf,
    created: Instant,
    manifest: Manifest,
    ids: TestIds,
    pending: BTreeMap<usize, PendingSuite>,
    /// Indices already written; a second report of one is refused.
    written: std::collections::BTreeSet<usize>,
    /// The lowest index not yet written: the contiguous prefix ends here.
    next_index: usize,
    first_error: Option<EvidenceError>,
    /// The first write that failed, which makes the run `incomplete`.
    lost: Option<String>,
    /// Records streamed by suites still running.
    live: Live,
    /// tests.jsonl as qaagent last left it.
    tests_file: Untouched,
    /// Since when the manifest on disk lags the messages applied.
    stale_since: Option<Instant>,
    /// The run directory and its `evidence/` as this run made them: nothing
    /// is written through one a tool swapped for a link.
    run_dir_id: Option<DirIdentity>,
    evidence_dir_id: Option<DirIdentity>,
    /// The run's `artifacts/`: copies are not made through one a tool swapped.
    artifacts_dir_id: Option<DirIdentity>,
    /// Held until the thread ends, after the final manifest is written.
    _lock: WriterLock,
}

impl WriterState {
    pub(super) fn new(run: Run) -> Self {
        let identity = |dir: &Path| {
            DirIdentity::of(dir)
                .inspect_err(|err| log::warn!("cannot stat {}: {err}", dir.display()))
                .ok()
        };
        WriterState {
            run_dir_id: identity(&run.dir),
            evidence_dir_id: identity(&run.dir.join("evidence")),
            artifacts_dir_id: identity(&run.dir.join("artifacts")),
            git: run.git,
            ids: TestIds::new(run_date(&run.run_id)),
            dir: run.dir,
            created: run.created,
            manifest: run.manifest,
            pending: BTreeMap::new(),
            written: Default::default(),
            next_index: 0,
            first_error: None,
            lost: None,
            live: Live::default(),
            tests_file: Untouched::default(),
            stale_since: None,
            _lock: run.lock,
        }
    }

    /// The thread's body: apply messages until `Finish` or until every sender is gone.
    pub(super) fn run(mut self, receiver: Receiver<EvidenceMessage>) -> Result<Manifest, EvidenceError> {
        if let Err(err) = make_creation_durable(&self.dir) {
            self.note(err);
        }
        self.tests_file.remember(&self.dir.join(TESTS_FILE));
        if let Some(git) = self.git.take() {
            self.manifest.target.git = git.wait();
            // On disk at once, not with the first suite to finish: a run
            // killed before then still says which commit it ran (`merge
            // --allow-partial` of a crashed share checks it).
            if self.manifest.target.git != GitInfo::default() {
                self.write_manifest();
            }
        }
        loop {
            let received = match self.live.due() {
                Some(due) => match receiver.recv_deadline(due) {
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                        self.write_streamed();
                        continue;
                    }
                    received => received.map_err(drop),
                },
                None => receiver.recv().map_err(drop),
            };
            let keep_going = match received {
                Ok(message) => {
                    let keep_going = self.apply(message);
                    // Messages that came meanwhile (the last suite, then the
                    // run's end) share one manifest write: each costs two
                    // fsyncs, ~8 ms on a virtual disk, on the run's last
                    // stretch. A steady stream of messages delays it by a
                    // second at most.
                    let stale = self
                        .stale_since
                        .is_some_and(|since| receiver.is_empty() || since.elapsed() >= MANIFEST_LAG);
                    if keep_going && stale {
                        self.write_manifest();
                    }
                    keep_going
                }
                Err(()) => {
                    log::warn!(
                        "evidence run {}: every sender dropped without finishing; recording it as interrupted",
                        self.manifest.run_id
                    );
                    let wall = self.created.elapsed();
                    self.finish(RunStatus::Interrupted, wall);
                    false
                }
            };
            if !keep_going {
                break;
            }
        }
        match self.first_error {
            Some(err) => Err(err),
            None => Ok(self.manifest),
        }
    }

    /// Applies one message; false when it was `Finish` and the thread should stop.
    fn apply(&mut self, message: EvidenceMessage) -> bool {
        match message {
            EvidenceMessage::ToolInfo(tool) => self.record_tool(&tool),
            EvidenceMessage::SuiteFinished { index, result } => self.suite_finished(index, result),
            EvidenceMessage::TestsStreamed { index, result } => {
                let now = Utc::now().format(TIMESTAMP_FORMAT).to_string();
                self.check_tests_file();
                if let Err(err) = self.live.add(index, &result, &now, &self.dir.join(TESTS_FILE)) {
                    self.note(err);
                }
                self.tests_file.remember(&self.dir.join(TESTS_FILE));
                // Not in the manifest's counts: no manifest to write.
                return true;
            }
            EvidenceMessage::Diagnostics { records, summary } => self.write_diagnostics(&records, summary),
            EvidenceMessage::Lost(reason) => {
                log::error!("evidence run {}: {reason}", self.manifest.run_id);
                self.lost.get_or_insert(reason);
                // Nothing to write until the run finishes.
                return true;
            }
            EvidenceMessage::Finish { status, wall } => {
                self.finish(status, wall);
                return false;
            }
        }
        self.stale_since.get_or_insert_with(Instant::now);
        true
    }

    /// Fails, naming `file` (about to be written in the run), when the run
    /// directory (and with `evidence`, its `evidence/`) is no longer the one
    /// this run made.
    fn check_dirs(&self, file: &Path, evidence: bool) -> Result<(), EvidenceError> {
        let check = |dir: &Option<DirIdentity>| match dir {
            Some(dir) => dir.check().map_err(|err| {
                EvidenceError::io("write", file)(std::io::Error::other(format!("{}: {err}", dir.path().display())))
            }),
            None => Ok(()),
        };
        check(&self.run_dir_id).and_then(|()| if evidence { check(&self.evidence_dir_id) } else { Ok(()) })
    }

    fn note(&mut self, err: EvidenceError) {
        log::error!("evidence run {}: {err}", self.manifest.run_id);
        // A suite reported twice is the caller's mistake; nothing is missing from the files.
        if self.lost.is_none() && !matches!(err, EvidenceError::DuplicateSuite { .. }) {
            self.lost = Some(err.to_string());
        }
        if self.first_error.is_none() {
            self.first_error = Some(err);
        }
    }

    fn record_tool(&mut self, tool: &ToolRun) {
        if tool.name.is_empty() {
            return;
        }
        match self.manifest.tools.get_mut(&tool.name) {
            Some(status) => status.merge(tool),
            None => {
                self.manifest.tools.insert(tool.name.clone(), ToolStatus::from(tool));
            }
        }
    }

    fn suite_finished(&mut self, index: usize, result: Box<SuiteRecord>) {
        if self.written.contains(&index) || self.pending.contains_key(&index) {
            self.note(EvidenceError::DuplicateSuite {
                index,
                suite: result.name.clone(),
            });
            return;
        }
        match self.manifest.suite_order.get(index) {
            Some(name) if *name == result.name => {}
            planned => log::warn!(
                "evidence: suite #{index} reported as {:?} but planned as {planned:?}; recorded at #{index}",
                result.name
            ),
        }
        let finished_at = Utc::now().format(TIMESTAMP_FORMAT).to_string();
        let mut errors = Vec::new();
        let swapped = self
            .artifacts_dir_id
            .as_ref()
            .map(DirIdentity::check)
            .and_then(Result::err);
        let artifacts = match swapped {
            Some(err) => {
                let dir = artifacts::suite_artifacts_dir(&self.dir, &result.name);
                let why = format!("{}: {err}", self.dir.join("artifacts").display());
                errors.push(EvidenceError::io("write", &dir)(std::io::Error::other(why)));
                Vec::new()
            }
            None => artifacts::collect(&self.dir, &result, &mut |err| errors.push(err)),
        };
        for err in errors {
            self.note(err);
        }
        self.record_tool(&result.tool);
        self.pending.insert(
            index,
            PendingSuite {
                result,
                artifacts,
                finished_at,
            },
        );
        let mut ready = Vec::new();
        while let Some(suite) = self.pending.remove(&self.next_index) {
            ready.push((self.next_index, suite));
            self.next_index += 1;
        }
        self.write_suites(ready);
    }

    /// Appends the records of `suites` (already in order) to tests.jsonl in one atomic
    /// update, then adds them to the manifest's counts and suites.
    fn write_suites(&mut self, suites: Vec<(usize, PendingSuite)>) {
        if suites.is_empty() {
            return;
        }
        let path = self.dir.join(TESTS_FILE);
        self.check_tests_file();
        // What the written records add to the counts, once they are on disk.
        let mut added = Counts::default();
        // Streamed into the file's temporary copy: a 100,000-case suite's
        // ~100 MB of records never sit in memory.
        let mut write = |sink: &mut crate::atomic::Sink, ids: &mut TestIds| {
            for (_, suite) in &suites {
                let ctx = SuiteRecordContext {
                    suite: &suite.result.name,
                    runner: &suite.result.runner,
                    last_run: &suite.finished_at,
                    artifacts: &suite.artifacts,
                };
                append_records(sink, &path, ids, &ctx, suite.result.cases.as_ref(), &mut added)?;
                // Suites that ran: not skipped, nor errored before their tool started
                // (a missing path), which no attempt counts.
                if suite.result.outcome != SuiteOutcome::Skipped && suite.result.attempts > 0 {
                    added.test_suites += 1;
                }
            }
            Ok(())
        };
        let written = if let Err(err) = self.check_dirs(&path, true) {
            Err(err)
        } else if self.live.is_empty() {
            let ids = &mut self.ids;
            append_atomically_with(&path, |sink| write(sink, ids)).and_then(|()| {
                let len = std::fs::metadata(&path)
                    .map_err(EvidenceError::io("stat", &path))?
                    .len();
                self.live.set_written_len(len);
                Ok(())
            })
        } else {
            let done: Vec<usize> = suites.iter().map(|(index, _)| *index).collect();
            self.live
                .rewrite(&path, &mut self.ids, &|index| done.contains(&index), write)
        };
        match written {
            Ok(()) => self.manifest.counts.add(&added),
            Err(err) => self.note(err),
        }
        self.tests_file.remember(&path);
        for (index, suite) in suites {
            self.written.insert(index);
            self.manifest.suites.push(SuiteEntry::new(
                &suite.result,
                suite.artifacts.into_iter().map(|kept| kept.reference).collect(),
            ));
        }
    }

    fn write_diagnostics(&mut self, records: &[DiagnosticRecord], summary: Vec<String>) {
        match self
            .check_dirs(&self.dir.join(DIAGNOSTICS_FILE), true)
            .and_then(|()| write_diagnostics_file(&self.dir, records))
        {
            Ok(()) => self.manifest.evidence_files.diagnostics = Some(DIAGNOSTICS_FILE.to_string()),
            Err(err) => self.note(err),
        }
        self.manifest.diagnostics = summary;
    }

    /// Appends the streamed records not in tests.jsonl yet.
    fn write_streamed(&mut self) {
        let path = self.dir.join(TESTS_FILE);
        self.check_tests_file();
        let written = self.check_dirs(&path, true);
        if let Err(err) = written.and_then(|()| self.live.write_new(&path, &self.ids)) {
            self.note(err);
        }
        self.tests_file.remember(&path);
    }

    /// Notes it when tests.jsonl changed since qaagent last wrote it: the
    /// run is then `incomplete`, never green from records that were edited.
    fn check_tests_file(&mut self) {
        let path = self.dir.join(TESTS_FILE);
        // An `evidence/` swapped for a link changes the file's identity too;
        // `check_dirs`, at the write, says that more exactly.
        if self.check_dirs(&path, true).is_err() {
            return;
        }
        if let Err(err) = self.tests_file.check(&path) {
            self.note(err);
        }
    }

    fn finish(&mut self, status: RunStatus, wall: Duration) {
        let remaining: Vec<(usize, PendingSuite)> = std::mem::take(&mut self.pending).into_iter().collect();
        self.write_suites(remaining);
        if !self.live.is_empty() {
            // Tests of suites that never finished: left out, as their suites are.
            let path = self.dir.join(TESTS_FILE);
            self.check_tests_file();
            let written = self.check_dirs(&path, true);
            if let Err(err) = written.and_then(|()| self.live.rewrite(&path, &mut self.ids, &|_| true, |_, _| Ok(()))) {
                self.note(err);
            }
            self.tests_file.remember(&path);
        }
        self.check_tests_file();
        let unfinished: Vec<&str> = (self.manifest.suite_order.iter().enumerate())
            .filter(|(index, _)| !self.written.contains(index))
            .map(|(_, name)| name.as_str())
            .collect();
        if !unfinished.is_empty() {
            log::info!(
                "evidence run {}: suites never finished: {unfinished:?}",
                self.manifest.run_id
            );
        }
        if let Some(reason) = &self.lost {
            self.manifest.status = Some(RunStatus::Incomplete);
            self.manifest.incomplete_reason = Some(reason.clone());
        } else {
            self.manifest.status = Some(status);
        }
        self.manifest.finished_at = Some(Utc::now().format(TIMESTAMP_FORMAT).to_string());
        self.manifest.wall_seconds = Some(wall.as_secs_f64());
        self.write_manifest();
    }

    fn write_manifest(&mut self) {
        self.stale_since = None;
        let checked = self.check_dirs(&self.dir.join(MANIFEST_FILE), false);
        if let Err(err) = checked.and_then(|()| self.manifest.write(&self.dir)) {
            self.note(err);
        }
    }
}

/// Fsyncs what [`Run::create`] made in `run_dir`: the first manifest and
/// the entries tests.jsonl in evidence/; manifest.json, evidence/ and
/// artifacts/ in the run directory; the run directory in the runs root.
/// Done here rather than in `create`, where its ~10–15 ms of fsyncs on a
/// virtual disk delayed the run's first suite (BENCHMARKS.md, target 1).
fn make_creation_durable(run_dir: &Path) -> Result<(), EvidenceError> {
    sync_file(&run_dir.join(MANIFEST_FILE))?;
    sync_dir(&run_dir.join("evidence"))?;
    sync_dir(run_dir)?;
    match run_dir.parent() {
        Some(root) => sync_dir(root),
        None => Ok(()),
    }
}
