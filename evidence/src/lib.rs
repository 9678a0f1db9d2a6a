//! qaagent's run store: run ids, run directories, `manifest.json`,
//! `evidence/tests.jsonl`, `evidence/diagnostics.json` and artifact copies,
//! all written by one thread — in the layout the Python qaagent's readers open.
//!
//! ```text
//! <runs root>/<run_id>/            run_id = YYYYMMDD_HHMMSSZ, then _01, _02… (atomic mkdir)
//!   manifest.json                  written at creation, replaced atomically after every change
//!   writer.lock                    flock-ed by the writing process while the run is `running`
//!   evidence/tests.jsonl           one TestRecord per test case, in suite_order, whole lines only
//!                                  (during a run, streamed tests of running suites follow)
//!   evidence/diagnostics.json      per-failure diagnostics, when sent
//!   artifacts/<suite>/<path>       copies of JUnit files, logs, Playwright test-results, …
//! ```
//!
//! Writing: [`runs_root`] → [`Run::create`] → [`Run::start_writer`] → send
//! [`EvidenceMessage`]s → [`EvidenceWriter::finish`]. Reading: [`list_runs`],
//! [`load_run`] (with [`LATEST`]), [`LoadedRun::records`]; which project a
//! run is of: [`ListedRun::belongs_to`]. Removing: [`prune_run`]. A run
//! written whole from existing records (merge): [`Run::write_records`] →
//! [`Run::finish_assembled`]. Portable runs: [`export_run`], [`Bundle::open`].
//!
//! What is recorded is in this crate's own types ([`SuiteRecord`], [`Case`],
//! [`SuiteOutcome`], [`TestStatus`], …), which know nothing of the runners:
//! the orchestrator maps runner results into them, so the format is defined
//! here alone.
//!
//! Crash safety: `manifest.json`, `tests.jsonl` and `diagnostics.json` are only
//! ever replaced by renaming a complete temporary, so a run killed at any
//! instant leaves a `manifest.json` that parses and a `tests.jsonl` of whole
//! lines (see the `atomic` module for why appending in place is not enough).
//! Suites buffered in memory waiting for an earlier one are lost with the
//! process; the tests they streamed as finished
//! ([`EvidenceMessage::TestsStreamed`]) are already in `tests.jsonl`.

mod artifacts;
mod assemble;
mod atomic;
mod bundle;
mod dir_identity;
mod error;
mod git;
mod live;
mod lock;
mod manifest;
mod mounts;
mod project;
mod prune;
mod raw_record;
mod record;
mod regular;
mod root;
mod run_id;
mod scratch;
mod store;
mod suite;
mod tally;
mod tree;
mod untouched;
mod writer;

pub use artifacts::suite_artifacts_dir;
pub use assemble::RecordSink;
pub use atomic::{replace_quickly, write_atomically};
pub use bundle::{export_run, is_bundle, Bundle, MAX_UNPACKED_BYTES};
pub use dir_identity::DirIdentity;
pub use error::{EvidenceError, ManifestProblem};
pub use git::GitInfo;
pub use lock::{try_lock_exclusive, LOCK_FILE};
pub use manifest::{
    AttemptSpan, Counts, EvidenceFiles, Manifest, Partition, RunStatus, SuiteEntry, Target, ToolStatus,
    DIAGNOSTICS_FILE, MANIFEST_FILE, TESTS_FILE,
};
pub use mounts::mount_below;
pub use prune::{prune_run, remove_prune_leftovers, Pruned};
pub use raw_record::RawRecord;
pub use record::{DiagnosticRecord, TestRecord};
pub use regular::{open_regular_file, read_regular_to_string};
pub use root::{absolute_clean, runs_root, RUNS_DIR_ENV};
pub use scratch::remove_scratch;
pub use store::{
    list_runs, load_run, load_run_dir, resolve_run, runs_newest_first, ListedRun, LoadedRun, Records, LATEST,
};
pub use suite::{Case, Cases, Failure, LeakedProcess, PriorFailure, SuiteOutcome, SuiteRecord, TestStatus, ToolRun};
pub use tally::StatusTally;
pub use tree::{copy_tree, is_run_relative};
pub use writer::{EvidenceMessage, EvidenceWriter, Run, RunInfo};
