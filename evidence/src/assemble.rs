//! A run written whole from records that already exist (`qaagent merge`),
//! rather than suite by suite as tests finish.
//!
//! The run is made as every run is ([`Run::create`]: a `running` manifest,
//! the writer lock held), then [`Run::write_records`] streams its
//! `tests.jsonl` in one pass into a temporary file renamed into place — the
//! records go through a buffer, never all in memory — and
//! [`Run::finish_assembled`] writes the final manifest and lets go of the
//! lock. A process killed half-way leaves a run that readers show `crashed`.

use std::io::Write;
use std::path::Path;

use crate::atomic::{write_atomically_with, Sink};
use crate::error::EvidenceError;
use crate::manifest::{Counts, Manifest, ToolStatus, TESTS_FILE};
use crate::raw_record::RawRecord;
use crate::record::{write_diagnostics_file, DiagnosticRecord, TestIds};
use crate::run_id::run_date;
use crate::suite::ToolRun;
use crate::writer::{Run, TIMESTAMP_FORMAT};

/// Where [`Run::write_records`] puts records: each one pushed becomes the next line.
pub struct RecordSink<'a> {
    out: &'a mut Sink,
    path: &'a Path,
    ids: TestIds,
    counts: Counts,
}

impl RecordSink<'_> {
    /// Writes `record` as the next line, with the next `test_id` of this run
    /// (`TST-YYYYMMDD-NNNN`, the per-run sequence), and counts it.
    pub fn push(&mut self, record: &mut RawRecord<'_>) -> Result<(), EvidenceError> {
        record.test_id = self.ids.next().into();
        self.counts.add_case(record.status, record.flaky());
        serde_json::to_writer(&mut *self.out, record).map_err(|source| {
            if source.is_io() {
                EvidenceError::io("write", self.path)(source.into())
            } else {
                EvidenceError::Serialize {
                    what: "test record",
                    source,
                }
            }
        })?;
        self.out.write_all(b"\n").map_err(EvidenceError::io("write", self.path))
    }

    /// What was pushed so far, counted as the manifest counts cases.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }
}

impl Run {
    /// Replaces the run's (empty) `tests.jsonl` with what `fill` pushes, and
    /// returns their counts. When `fill` fails the file is left empty.
    pub fn write_records(
        &mut self,
        fill: impl FnOnce(&mut RecordSink<'_>) -> Result<(), EvidenceError>,
    ) -> Result<Counts, EvidenceError> {
        let path = self.dir.join(TESTS_FILE);
        let mut counts = Counts::default();
        let date = run_date(&self.run_id).to_string();
        write_atomically_with(&path, |out| {
            let mut sink = RecordSink {
                out,
                path: &path,
                ids: TestIds::new(&date),
                counts: Counts::default(),
            };
            fill(&mut sink)?;
            counts = sink.counts;
            Ok(())
        })?;
        Ok(counts)
    }

    /// Writes `evidence/diagnostics.json`.
    pub fn write_diagnostics(&self, records: &[DiagnosticRecord]) -> Result<(), EvidenceError> {
        write_diagnostics_file(&self.dir, records)
    }

    /// Writes `manifest` as the run's final manifest — with the run's own
    /// `run_id`, `created_at` and `qaagent_version`, whatever `manifest` says,
    /// and `finished_at` now unless it is set — and lets go of the run.
    pub fn finish_assembled(mut self, mut manifest: Manifest) -> Result<Manifest, EvidenceError> {
        if let Some(git) = self.git.take() {
            // Reaped; the assembled run keeps the git state its inputs recorded.
            let _ = git.wait();
        }
        manifest.run_id.clone_from(&self.manifest.run_id);
        manifest.created_at.clone_from(&self.manifest.created_at);
        manifest.qaagent_version.clone_from(&self.manifest.qaagent_version);
        if manifest.finished_at.is_none() {
            manifest.finished_at = Some(chrono::Utc::now().format(TIMESTAMP_FORMAT).to_string());
        }
        manifest.write(&self.dir)?;
        self.making = None;
        drop(self.lock);
        Ok(manifest)
    }

    /// Removes the run directory: an assembly that failed leaves nothing behind.
    pub fn discard(mut self) -> Result<(), EvidenceError> {
        if let Some(git) = self.git.take() {
            let _ = git.wait();
        }
        let dir = self.dir.clone();
        drop(self.lock);
        std::fs::remove_dir_all(&dir).map_err(EvidenceError::io("remove", dir))
    }
}

impl ToolStatus {
    /// Folds in the same tool's status from another run, as two suites'
    /// runs of one tool are folded: executed if either ran, a failing exit
    /// code wins, errors accumulate.
    pub fn absorb(&mut self, other: &ToolStatus) {
        self.merge(&ToolRun {
            name: String::new(),
            version: other.version.clone(),
            executed: other.executed,
            exit_code: other.exit_code,
            error: other.error.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::RunStatus;
    use crate::suite::TestStatus;
    use crate::writer::RunInfo;

    fn line(name: &str, status: TestStatus) -> String {
        serde_json::json!({
            "test_id": "TST-20200101-0042", "kind": "unit", "name": name, "status": status,
            "evidence_refs": [], "tags": [], "metadata": {"flaky": true, "custom": [1]}
        })
        .to_string()
    }

    #[test]
    fn records_are_renumbered_counted_and_kept_whole() {
        let root = tempfile::tempdir().expect("tempdir");
        let info = RunInfo {
            project_name: "p".into(),
            project_path: root.path().to_path_buf(),
            suites: vec!["unit".into()],
            qaagent_version: "0".into(),
            partition: None,
        };
        let mut run = Run::create(root.path(), info).expect("run");
        let counts = run
            .write_records(|sink| {
                let (a, b) = (line("a", TestStatus::Passed), line("b", TestStatus::Error));
                sink.push(&mut serde_json::from_str(&a).expect("a record"))?;
                sink.push(&mut serde_json::from_str(&b).expect("a record"))
            })
            .expect("written");
        assert_eq!((counts.tests, counts.tests_passed, counts.tests_failed), (2, 1, 1));
        assert_eq!((counts.tests_errors, counts.tests_flaky), (1, 2));
        let mut manifest = run.manifest().clone();
        manifest.status = Some(RunStatus::Failed);
        manifest.run_id = "ignored".into();
        let dir = run.dir().to_path_buf();
        let written = run.finish_assembled(manifest).expect("finished");
        assert_ne!(written.run_id, "ignored");
        let loaded = crate::load_run(root.path(), &written.run_id).expect("loads");
        assert_eq!(
            loaded.status(),
            Some(RunStatus::Failed),
            "not crashed: the lock is gone with the run"
        );
        let records: Vec<crate::TestRecord> = loaded.records().expect("records").map(|r| r.expect("reads")).collect();
        assert_eq!(records.len(), 2);
        assert!(records[0].test_id.ends_with("-0001"), "{}", records[0].test_id);
        assert_eq!(records[1].metadata["custom"], serde_json::json!([1]));
        assert!(dir.join(TESTS_FILE).exists());
    }
}
