//! Creating a run and the single thread that writes it.
//!
//! [`Run::create`] claims a run directory and writes the first manifest (status
//! `running`). [`Run::start_writer`] hands the run to a dedicated thread; from
//! then on only that thread touches the run's files, fed by
//! [`EvidenceMessage`]s over a crossbeam channel (clone [`EvidenceWriter::sender`]
//! for the coordinating thread). [`EvidenceWriter::finish`] finalizes the
//! manifest and joins the thread, returning the first write error if any.
//!
//! `tests.jsonl` is in suite_order even when suites finish out of order:
//! finished suites are buffered and the contiguous prefix (by index) is
//! written as soon as it grows. At finish — interrupted runs included — the
//! remaining finished suites are written in order; suites that never finished
//! are left out. The manifest is rewritten after every message, with counts of
//! what is already in `tests.jsonl` (written first), so at any instant the
//! manifest never claims records the file does not hold (nor the records of
//! tests that running suites streamed, which follow the written suites'
//! records until their suite is written: see the `live` module; the
//! manifest is not rewritten for them).
//!
//! A write that fails (a full disk, a file-size limit) does not stop the
//! writer: later writes are still tried, and the run is finalized as
//! `incomplete` with the first failure as its `incomplete_reason`, since its
//! records may lack tests that ran. The writer holds the run's `writer.lock`
//! until the final manifest is on disk (see the `lock` module).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use crossbeam_channel::{Receiver, Sender};

use crate::artifacts;
use crate::atomic::{append_atomically_with, sync_dir, sync_file};
use crate::dir_identity::DirIdentity;
use crate::error::EvidenceError;
use crate::git::{GitInfo, GitStatus};
use crate::live::Live;
use crate::lock::WriterLock;
use crate::manifest::{
    Counts, EvidenceFiles, Manifest, Partition, RunStatus, SuiteEntry, Target, ToolStatus, DIAGNOSTICS_FILE,
    MANIFEST_FILE, TESTS_FILE,
};
use crate::record::{append_records, write_diagnostics_file, DiagnosticRecord, SuiteRecordContext, TestIds};
use crate::run_id::{create_run_dir, run_date};
use crate::suite::{SuiteOutcome, SuiteRecord, ToolRun};
use crate::untouched::Untouched;

/// How long the manifest on disk may lag the messages applied while more
/// keep coming.
const MANIFEST_LAG: Duration = Duration::from_secs(1);

/// Timestamp format of `created_at`, `finished_at` and `last_run` (the Python qaagent's `ISO8601`).
pub(crate) const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// What a run is created with.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// The project's name (`[project] name`), the manifest's `target.name`.
    pub project_name: String,
    /// The project directory, the manifest's `target.path`; its git state is recorded.
    pub project_path: PathBuf,
    /// The planned suites in suite_order; [`EvidenceMessage::SuiteFinished`] indexes into it.
    pub suites: Vec<String>,
    /// The qaagent version writing the run.
    pub qaagent_version: String,
    /// The share of a partitioned run this run is, if it is one.
    pub partition: Option<Partition>,
}

/// A freshly created run: its directory exists with a `running` manifest and an
/// empty `evidence/tests.jsonl`. Start its writer thread with [`Run::start_writer`].
/// Dropped without a writer, the run is left `running` with nobody holding
/// it, which readers show as `crashed`.
#[derive(Debug)]
pub struct Run {
    pub(crate) run_id: String,
    pub(crate) dir: PathBuf,
    created: Instant,
    pub(crate) manifest: Manifest,
    /// `git status`, still running: its answer goes into every manifest the writer writes.
    pub(crate) git: Option<GitStatus>,
    pub(crate) lock: WriterLock,
}

impl Run {
    /// Creates a run under `root` (created if missing): claims the run id,
    /// makes `evidence/` and `artifacts/` and writes the first manifest. The
    /// project's git state comes from a `git status` that runs meanwhile; the
    /// writer thread writes its answer to the manifest as it comes, and puts it
    /// in every manifest after (neither the first one nor the run's start
    /// waits for git).
    pub fn create(root: &Path, info: RunInfo) -> Result<Run, EvidenceError> {
        Run::create_at(root, info, Utc::now())
    }

    /// [`Run::create`] at a given time, so tests can force run-id collisions.
    pub(crate) fn create_at(root: &Path, info: RunInfo, now: DateTime<Utc>) -> Result<Run, EvidenceError> {
        // git works while the run is created rather than before.
        let git = GitStatus::start(&info.project_path);
        let (run_id, dir) = create_run_dir(root, now)?;
        // Before the manifest: a `running` manifest always has its writer's lock beside it.
        let lock = WriterLock::acquire(&dir)?;
        let manifest = Manifest {
            run_id: run_id.clone(),
            created_at: now.format(TIMESTAMP_FORMAT).to_string(),
            target: Target {
                name: info.project_name,
                path: info.project_path.to_string_lossy().into_owned(),
                git: GitInfo::default(),
            },
            tools: BTreeMap::new(),
            counts: Counts::default(),
            evidence_files: EvidenceFiles {
                tests: Some(TESTS_FILE.to_string()),
                ..EvidenceFiles::default()
            },
            diagnostics: Vec::new(),
            status: Some(RunStatus::Running),
            incomplete_reason: None,
            finished_at: None,
            wall_seconds: None,
            suite_order: info.suites,
            suites: Vec::new(),
            qaagent_version: Some(info.qaagent_version),
            partition: info.partition,
            extra: serde_json::Map::new(),
        };
        // The manifest first, so that a run killed during creation almost
        // never leaves a directory without one; made durable below, with the
        // rest, in one fsync per directory.
        manifest.write_first(&dir)?;
        for sub in ["evidence", "artifacts"] {
            let path = dir.join(sub);
            std::fs::create_dir(&path).map_err(EvidenceError::io("create directory", &path))?;
        }
        // An empty tests.jsonl from the start: readers find the file the manifest
        // names. Created in place: an empty new file cannot be torn.
        let tests = dir.join(TESTS_FILE);
        std::fs::File::create(&tests).map_err(EvidenceError::io("create", &tests))?;
        // Made durable by the writer thread (`make_creation_durable`).
        log::info!("evidence run {run_id} created at {}", dir.display());
        Ok(Run {
            run_id,
            dir,
            created: Instant::now(),
            manifest,
            git,
            lock,
        })
    }

    /// The run id, e.g. `20250304_050607Z`.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<run dir>/artifacts/<suite>`: where a suite's artifacts are kept. The
    /// orchestrator may use it as the suite's output directory; artifacts
    /// already there are referenced, not copied.
    pub fn suite_artifacts_dir(&self, suite: &str) -> PathBuf {
        artifacts::suite_artifacts_dir(&self.dir, suite)
    }

    /// The manifest as written at creation.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Starts the writer thread.
    pub fn start_writer(self) -> Result<EvidenceWriter, EvidenceError> {
        let (sender, receiver) = crossbeam_channel::unbounded();
        let run_id = self.run_id.clone();
        let dir = self.dir.clone();
        let state = WriterState::new(self);
        let thread = std::thread::Builder::new()
            .name(format!("evidence-{run_id}"))
            .spawn(move || state.run(receiver))
            .map_err(EvidenceError::WriterSpawn)?;
        Ok(EvidenceWriter {
            sender,
            thread,
            run_id,
            dir,
        })
    }
}

/// What the writer thread is told. Every message is applied in the order received.
#[derive(Debug)]
pub enum EvidenceMessage {
    /// A tool's version and exit, for the manifest's `tools` (merged by tool
    /// name). [`EvidenceMessage::SuiteFinished`] records the suite's tool too, so
    /// this is only needed for tools that are not a suite's.
    ToolInfo(ToolRun),
    /// A suite ended (passed, failed, errored, timed out, interrupted or
    /// skipped). `index` is its position in [`RunInfo::suites`]; every planned
    /// index should be reported once, skipped suites included, or the suites
    /// after it wait in memory until [`EvidenceMessage::Finish`]. Its artifacts
    /// are copied at once.
    SuiteFinished {
        /// Position in suite_order.
        index: usize,
        /// The suite's final (merged) result. Its cases are lent through
        /// [`Cases`](crate::Cases); the writer drops the record once the suite is written.
        result: Box<SuiteRecord>,
    },
    /// Tests of a running suite that its tool reported as finished: their
    /// records are appended to `tests.jsonl` within moments (those that come
    /// meanwhile in the same update), and replaced by the suite's final records when
    /// [`EvidenceMessage::SuiteFinished`] comes; the manifest's counts do not
    /// include them. Records of a suite that never finishes are left out at
    /// [`EvidenceMessage::Finish`].
    TestsStreamed {
        /// The suite's position in suite_order.
        index: usize,
        /// The suite's name and runner, and the finished tests.
        result: Box<SuiteRecord>,
    },
    /// The failure diagnostics: written to `evidence/diagnostics.json`
    /// (replacing any earlier ones), and `summary` becomes the manifest's `diagnostics`.
    Diagnostics {
        /// One record per failed or errored test.
        records: Vec<DiagnosticRecord>,
        /// Summary lines.
        summary: Vec<String>,
    },
    /// The run is over: write the finished suites still waiting, stamp the
    /// manifest with `status`, `finished_at` and `wall_seconds`, and stop.
    /// Sent by [`EvidenceWriter::finish`]; messages after it are not applied.
    Finish {
        /// `passed`, `failed` or `interrupted`; `incomplete` replaces it
        /// when a write failed during the run.
        status: RunStatus,
        /// Wall time of the whole run.
        wall: Duration,
    },
}

/// The handle to a run's writer thread.
#[derive(Debug)]
pub struct EvidenceWriter {
    sender: Sender<EvidenceMessage>,
    thread: JoinHandle<Result<Manifest, EvidenceError>>,
    run_id: String,
    dir: PathBuf,
}

impl EvidenceWriter {
    /// The run id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<run dir>/artifacts/<suite>`, as [`Run::suite_artifacts_dir`].
    pub fn suite_artifacts_dir(&self, suite: &str) -> PathBuf {
        artifacts::suite_artifacts_dir(&self.dir, suite)
    }

    /// A sender for other threads. If every sender (this handle's included) is
    /// dropped without a `Finish`, the writer finalizes the run as `interrupted`.
    pub fn sender(&self) -> Sender<EvidenceMessage> {
        self.sender.clone()
    }

    /// Queues a message; fails only when the writer thread has stopped.
    pub fn send(&self, message: EvidenceMessage) -> Result<(), EvidenceError> {
        self.sender.send(message).map_err(|_| EvidenceError::WriterGone)
    }

    /// Queues [`EvidenceMessage::SuiteFinished`].
    pub fn suite_finished(&self, index: usize, result: SuiteRecord) -> Result<(), EvidenceError> {
        self.send(EvidenceMessage::SuiteFinished {
            index,
            result: Box::new(result),
        })
    }

    /// Queues [`EvidenceMessage::ToolInfo`].
    pub fn tool_info(&self, tool: ToolRun) -> Result<(), EvidenceError> {
        self.send(EvidenceMessage::ToolInfo(tool))
    }

    /// Queues [`EvidenceMessage::Diagnostics`].
    pub fn diagnostics(&self, records: Vec<DiagnosticRecord>, summary: Vec<String>) -> Result<(), EvidenceError> {
        self.send(EvidenceMessage::Diagnostics { records, summary })
    }

    /// Finalizes the run and waits until everything is on disk. Returns the
    /// final manifest, or the first error any write hit during the run (each
    /// was also logged when it happened; later writes were still attempted).
    /// When a `Finish` was already sent through a cloned sender, that one's
    /// status stands.
    pub fn finish(self, status: RunStatus, wall: Duration) -> Result<Manifest, EvidenceError> {
        // A send error means the thread already stopped; joining reports why.
        let _ = self.sender.send(EvidenceMessage::Finish { status, wall });
        drop(self.sender);
        match self.thread.join() {
            Ok(result) => result,
            Err(panic) => {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_string());
                Err(EvidenceError::WriterPanicked(why))
            }
        }
    }
}

/// A finished suite waiting for its turn in tests.jsonl.
struct PendingSuite {
    result: Box<SuiteRecord>,
    artifacts: Vec<artifacts::Kept>,
    finished_at: String,
}

/// Everything the writer thread owns.
struct WriterState {
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
    /// Held until the thread ends, after the final manifest is written.
    _lock: WriterLock,
}

impl WriterState {
    fn new(run: Run) -> Self {
        let identity = |dir: &Path| {
            DirIdentity::of(dir)
                .inspect_err(|err| log::warn!("cannot stat {}: {err}", dir.display()))
                .ok()
        };
        WriterState {
            run_dir_id: identity(&run.dir),
            evidence_dir_id: identity(&run.dir.join("evidence")),
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
    fn run(mut self, receiver: Receiver<EvidenceMessage>) -> Result<Manifest, EvidenceError> {
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
        let artifacts = artifacts::collect(&self.dir, &result, &mut |err| errors.push(err));
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
        if let Err(err) = self.tests_file.check(&self.dir.join(TESTS_FILE)) {
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

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
