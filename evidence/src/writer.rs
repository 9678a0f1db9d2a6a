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
use crossbeam_channel::Sender;

use crate::artifacts;
use crate::error::EvidenceError;
use crate::git::{GitInfo, GitStatus};
use crate::lock::WriterLock;
use crate::manifest::{Counts, EvidenceFiles, Manifest, Partition, RunStatus, Target, TESTS_FILE};
use crate::record::DiagnosticRecord;
use crate::run_id::create_run_dir;
use crate::scratch::Scratch;
use crate::suite::{SuiteRecord, ToolRun};

mod state;

use state::WriterState;

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
    /// The run's directory, listed as half made ([`crate::remove_scratch`])
    /// until a writer starts or an assembly finishes: `merge` ended by a
    /// signal once left a half-made merged run, `crashed`, that was then the
    /// runs dir's latest (a hostile try, 14 N7).
    pub(crate) making: Option<Scratch>,
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
        let making = Some(Scratch::new(&dir));
        Ok(Run {
            run_id,
            dir,
            created: Instant::now(),
            manifest,
            git,
            lock,
            making,
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
    pub fn start_writer(mut self) -> Result<EvidenceWriter, EvidenceError> {
        // A run whose writer started is one to keep, and to mark interrupted.
        self.making = None;
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
    /// Output of the run was lost, or refused, outside the files the writer
    /// writes (the directory suites write into, swapped by a tool for a
    /// link): the run is to be `incomplete`, with this reason, unless a
    /// failed write already made it so.
    Lost(String),
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

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
